//! The data manager: the task table, saved views and bulk actions.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{parse_json, ApiJson, ApiPath, Caller};
use crate::App;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use gloss_engine::{
    BulkDone, BulkRequest, TableRequest, TaskFilter, TaskTablePage, View, ViewInput, ViewPatch,
};
use gloss_types::{Code, ProjectId, TaskStatus, Timestamp};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(task_table))
        .routes(routes!(bulk_tasks))
        .routes(routes!(list_views, create_view))
        .routes(routes!(update_view, delete_view))
}

/// Rows per page of the table: 50 unless asked, at most 500.
const DEFAULT_TABLE_LIMIT: u32 = 50;
const MAX_TABLE_LIMIT: u32 = 500;

/// The table's query. Filters can be given one by one, or all at once as
/// `filter`, a JSON `TaskFilter` (the shape saved views and bulk actions
/// use, and the only way to give conditions on data fields); a parameter
/// given on its own replaces the same part of `filter`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TableQuery {
    /// A JSON `TaskFilter`, e.g. `{"data": [{"key": "city", "op": "eq", "value": "Lyon"}]}`.
    filter: Option<String>,
    /// Comma-separated statuses: `new`, `in_progress`, `completed`.
    status: Option<String>,
    /// Tasks with an annotation by this user (a username).
    annotator: Option<String>,
    /// Tasks with an annotation using this label or choice.
    label: Option<String>,
    prediction_score_min: Option<f64>,
    prediction_score_max: Option<f64>,
    /// RFC 3339 date-times, inclusive.
    created_after: Option<String>,
    created_before: Option<String>,
    updated_after: Option<String>,
    updated_before: Option<String>,
    /// `id` (default), `created`, `updated`, `annotation_count`,
    /// `prediction_score` or `data.KEY`; a leading `-` sorts descending.
    /// Ties are broken by id.
    sort: Option<String>,
    /// The `next` of the previous page (an opaque cursor of this sort).
    after: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<u32>,
    /// Also return `total`, the number of matching tasks (cheap without
    /// filters or with statuses only; otherwise a count over the project).
    count: Option<bool>,
}

fn timestamp(field: &str, text: &Option<String>) -> ApiResult<Option<Timestamp>> {
    match text.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => Timestamp::parse_rfc3339(text).map(Some).ok_or_else(|| {
            ApiError::invalid(
                field,
                "must be an RFC 3339 date-time, e.g. 2026-12-04T00:00:00Z",
            )
        }),
    }
}

fn table_request(query: TableQuery) -> ApiResult<TableRequest> {
    let mut filter: TaskFilter = match query.filter.as_deref() {
        None | Some("") => TaskFilter::default(),
        Some(text) => parse_json(text.as_bytes()).map_err(|err| {
            let mut err = err.0;
            err.field = Some(match err.field {
                Some(field) if !field.is_empty() => format!("filter.{field}"),
                _ => "filter".to_string(),
            });
            ApiError(err)
        })?,
    };
    if let Some(statuses) = &query.status {
        filter.status.clear();
        for name in statuses.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            filter.status.push(TaskStatus::parse(name).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    format!("`{name}` is not new, in_progress or completed"),
                )
            })?);
        }
    }
    if query.annotator.is_some() {
        filter.annotator = query.annotator.filter(|name| !name.is_empty());
    }
    if query.label.is_some() {
        filter.label = query.label.filter(|label| !label.is_empty());
    }
    if query.prediction_score_min.is_some() {
        filter.prediction_score_min = query.prediction_score_min;
    }
    if query.prediction_score_max.is_some() {
        filter.prediction_score_max = query.prediction_score_max;
    }
    for (field, text, slot) in [
        (
            "created_after",
            &query.created_after,
            &mut filter.created_after,
        ),
        (
            "created_before",
            &query.created_before,
            &mut filter.created_before,
        ),
        (
            "updated_after",
            &query.updated_after,
            &mut filter.updated_after,
        ),
        (
            "updated_before",
            &query.updated_before,
            &mut filter.updated_before,
        ),
    ] {
        if let Some(moment) = timestamp(field, text)? {
            *slot = Some(moment);
        }
    }
    let limit = query.limit.unwrap_or(DEFAULT_TABLE_LIMIT);
    if limit == 0 || limit > MAX_TABLE_LIMIT {
        return Err(ApiError::invalid(
            "limit",
            format!("must be 1 to {MAX_TABLE_LIMIT}"),
        ));
    }
    Ok(TableRequest {
        filter,
        sort: query.sort.filter(|sort| !sort.is_empty()),
        after: query.after,
        limit,
        count: query.count.unwrap_or(false),
    })
}

/// The data manager's table of a project's tasks (reviewers and managers):
/// filtered, sorted, in keyset pages. Each row has the task's data, the URL
/// of its image (for a thumbnail), status, counts, highest prediction score
/// and annotators.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/task-table", tag = "tasks",
    params(("project_id" = i64, Path), TableQuery),
    responses((status = 200, body = TaskTablePage), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn task_table(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    query: Result<Query<TableQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<TaskTablePage>> {
    let Query(query) =
        query.map_err(|rejection| ApiError::new(Code::BadRequest, rejection.body_text()))?;
    let request = table_request(query)?;
    Ok(Json(
        app.engine
            .task_table(&actor, ProjectId(project_id), request)
            .await?,
    ))
}

/// A bulk action on the selected tasks (`tasks`) or on every task matching
/// `filter` (the project's managers): `delete`, `reset` (annotations,
/// drafts and queue state removed, back to `new`), `assign` (to `users`) or
/// `set_priority` (`priority`). All or nothing.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/tasks/bulk", tag = "tasks",
    params(("project_id" = i64, Path)), request_body = BulkRequest,
    responses((status = 200, body = BulkDone), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn bulk_tasks(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(request): ApiJson<BulkRequest>,
) -> ApiResult<Json<BulkDone>> {
    Ok(Json(
        app.engine
            .bulk_tasks(&actor, ProjectId(project_id), request)
            .await?,
    ))
}

/// The saved views of the table the caller sees: the project's shared
/// views and their own (any member).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/views", tag = "tasks",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = Vec<View>), (status = 404, body = ErrorBody)))]
async fn list_views(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<View>>> {
    Ok(Json(app.engine.views(&actor, ProjectId(project_id)).await?))
}

/// Save a view: any member for themselves; `shared: true` (the project's
/// managers) shows it to every member.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/views", tag = "tasks",
    params(("project_id" = i64, Path)), request_body = ViewInput,
    responses((status = 201, body = View), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_view(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(input): ApiJson<ViewInput>,
) -> ApiResult<(StatusCode, Json<View>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            app.engine
                .create_view(&actor, ProjectId(project_id), input)
                .await?,
        ),
    ))
}

/// Change a view: its owner (a personal view), or the project's managers
/// (a shared view, or to share one).
#[utoipa::path(patch, path = "/api/v1/views/{view_id}", tag = "tasks",
    params(("view_id" = i64, Path)), request_body = ViewPatch,
    responses((status = 200, body = View), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_view(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(view_id): ApiPath<i64>,
    ApiJson(patch): ApiJson<ViewPatch>,
) -> ApiResult<Json<View>> {
    Ok(Json(app.engine.update_view(&actor, view_id, patch).await?))
}

/// Delete a view (who may change it may delete it).
#[utoipa::path(delete, path = "/api/v1/views/{view_id}", tag = "tasks",
    params(("view_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_view(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(view_id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    app.engine.delete_view(&actor, view_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
