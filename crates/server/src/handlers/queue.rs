//! The annotator queue: next task, submit, skip, drafts, annotation updates
//! and versions, and manual assignment.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gloss_engine::{NextTask, SubmittedAnnotation, WorkInput};
use gloss_types::{
    Annotation, AnnotationId, AnnotationVersion, Assignment, Draft, ProjectId, Task, TaskId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(next_task))
        .routes(routes!(upcoming_task))
        .routes(routes!(submit_annotation))
        .routes(routes!(skip_task))
        .routes(routes!(get_draft, put_draft))
        .routes(routes!(get_annotation, update_annotation, mark_annotation))
        .routes(routes!(annotation_versions))
        .routes(routes!(list_assignments, assign_tasks))
        .routes(routes!(unassign_tasks))
}

/// Reserve and return the caller's next task in the project: `200` with the
/// task, its predictions and the caller's draft, or `204` when nothing is
/// left for the caller. Until the reservation expires (the project's
/// `reservation_seconds`, 10 minutes by default) the same task comes back;
/// submit or skip releases it.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/next", tag = "queue",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = NextTask), (status = 204), (status = 404, body = ErrorBody)))]
async fn next_task(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Response> {
    Ok(
        match app.engine.next_task(&actor, ProjectId(project_id)).await? {
            Some(next) => Json(next).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}

/// The task the caller will most likely get from `next` after the one they
/// hold (`200`), or `204` when there is none: a hint for loading its media
/// ahead, so that submit → next shows the next image at once. Nothing is
/// reserved; another annotator may take it first.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/upcoming", tag = "queue",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = Task), (status = 204), (status = 404, body = ErrorBody)))]
async fn upcoming_task(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Response> {
    Ok(
        match app
            .engine
            .upcoming_task(&actor, ProjectId(project_id))
            .await?
        {
            Some(task) => Json(task).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}

/// Work on a task: Label Studio result items.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkRequest {
    #[schema(value_type = Vec<Object>)]
    result: Vec<Value>,
    /// Seconds spent, as the client measured it.
    #[serde(default)]
    lead_time: Option<f64>,
    /// Active seconds (focused tab, recent input) the workspace measured;
    /// the server caps it at the time since the reservation (see `docs/pay.md`).
    /// Ignored on drafts.
    #[serde(default)]
    active_time: Option<f64>,
}

impl From<WorkRequest> for WorkInput {
    fn from(request: WorkRequest) -> WorkInput {
        WorkInput {
            result: request.result,
            lead_time: request.lead_time,
            active_time: request.active_time,
        }
    }
}

/// Submit the caller's annotation of a task. Every result is checked against
/// the project's label config (422 naming the result and field). A submit is
/// stored even after the caller's reservation expired (`past_overlap` says
/// when it took the task past the project's overlap); a second submit of the
/// same task by the same annotator is a 409 naming the first.
#[utoipa::path(post, path = "/api/v1/tasks/{task_id}/annotations", tag = "queue",
    params(("task_id" = i64, Path)), request_body = WorkRequest,
    responses((status = 201, body = SubmittedAnnotation), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn submit_annotation(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
    ApiJson(request): ApiJson<WorkRequest>,
) -> ApiResult<(StatusCode, Json<SubmittedAnnotation>)> {
    let submitted = app
        .engine
        .submit_annotation(&actor, TaskId(task_id), request.into())
        .await?;
    Ok((StatusCode::CREATED, Json(submitted)))
}

/// Skip a task: it goes back to the pool for others, and the caller gets it
/// again only when nothing else is left for them.
#[utoipa::path(post, path = "/api/v1/tasks/{task_id}/skip", tag = "queue",
    params(("task_id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn skip_task(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    app.engine.skip_task(&actor, TaskId(task_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's draft of a task (404 when there is none).
#[utoipa::path(get, path = "/api/v1/tasks/{task_id}/draft", tag = "queue",
    params(("task_id" = i64, Path)),
    responses((status = 200, body = Draft), (status = 404, body = ErrorBody)))]
async fn get_draft(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
) -> ApiResult<Json<Draft>> {
    app.engine
        .draft(&actor, TaskId(task_id))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError(gloss_engine::Error::not_found("draft")))
}

/// Save the caller's unsubmitted work on a task; `next` returns it with the task.
#[utoipa::path(put, path = "/api/v1/tasks/{task_id}/draft", tag = "queue",
    params(("task_id" = i64, Path)), request_body = WorkRequest,
    responses((status = 200, body = Draft), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_draft(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
    ApiJson(request): ApiJson<WorkRequest>,
) -> ApiResult<Json<Draft>> {
    Ok(Json(
        app.engine
            .put_draft(&actor, TaskId(task_id), request.into())
            .await?,
    ))
}

/// One annotation (its annotator, and the project's reviewers and managers).
#[utoipa::path(get, path = "/api/v1/annotations/{annotation_id}", tag = "queue",
    params(("annotation_id" = i64, Path)),
    responses((status = 200, body = Annotation), (status = 404, body = ErrorBody)))]
async fn get_annotation(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(annotation_id): ApiPath<i64>,
) -> ApiResult<Json<Annotation>> {
    Ok(Json(
        app.engine
            .annotation(&actor, AnnotationId(annotation_id))
            .await?,
    ))
}

/// What can be marked on an annotation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkRequest {
    /// Ground truth: the answer gold tasks are scored against.
    ground_truth: bool,
}

/// Mark an annotation as ground truth, or unmark it (the project's
/// reviewers and managers).
#[utoipa::path(patch, path = "/api/v1/annotations/{annotation_id}", tag = "queue",
    params(("annotation_id" = i64, Path)), request_body = MarkRequest,
    responses((status = 200, body = Annotation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn mark_annotation(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(annotation_id): ApiPath<i64>,
    ApiJson(request): ApiJson<MarkRequest>,
) -> ApiResult<Json<Annotation>> {
    Ok(Json(
        app.engine
            .set_ground_truth(&actor, AnnotationId(annotation_id), request.ground_truth)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateRequest {
    #[schema(value_type = Vec<Object>)]
    result: Vec<Value>,
    /// The version the change was made on: the annotation's current version.
    version: i64,
    #[serde(default)]
    lead_time: Option<f64>,
    /// Active seconds spent on this version; capped at the time since the
    /// current version was written.
    #[serde(default)]
    active_time: Option<f64>,
}

/// Change an annotation's result. `version` must be its current version:
/// the answer is the annotation with the next version, or `409` with the
/// current annotation in `details.problems` when someone changed it first.
/// Every version is kept (see `/versions`).
#[utoipa::path(put, path = "/api/v1/annotations/{annotation_id}", tag = "queue",
    params(("annotation_id" = i64, Path)), request_body = UpdateRequest,
    responses((status = 200, body = Annotation), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_annotation(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(annotation_id): ApiPath<i64>,
    ApiJson(request): ApiJson<UpdateRequest>,
) -> ApiResult<Json<Annotation>> {
    let input = WorkInput {
        result: request.result,
        lead_time: request.lead_time,
        active_time: request.active_time,
    };
    Ok(Json(
        app.engine
            .update_annotation(&actor, AnnotationId(annotation_id), request.version, input)
            .await?,
    ))
}

/// Every version of an annotation, oldest first; the last is the current one.
#[utoipa::path(get, path = "/api/v1/annotations/{annotation_id}/versions", tag = "queue",
    params(("annotation_id" = i64, Path)),
    responses((status = 200, body = Vec<AnnotationVersion>), (status = 404, body = ErrorBody)))]
async fn annotation_versions(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(annotation_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<AnnotationVersion>>> {
    Ok(Json(
        app.engine
            .annotation_versions(&actor, AnnotationId(annotation_id))
            .await?,
    ))
}

/// The project's manual assignments (reviewers and managers).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/assignments", tag = "queue",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = Vec<Assignment>), (status = 404, body = ErrorBody)))]
async fn list_assignments(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<Assignment>>> {
    Ok(Json(
        app.engine
            .assignments(&actor, ProjectId(project_id))
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignmentRequest {
    /// The member whose queue changes.
    username: String,
    /// Tasks of this project (1 to 10,000).
    task_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AssignmentCount {
    /// Tasks whose assignment changed.
    changed: u64,
}

/// Assign tasks to a member (managers): they come first in the member's
/// queue, and count as taken for everyone else. Tasks the member already
/// submitted are left out.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/assignments", tag = "queue",
    params(("project_id" = i64, Path)), request_body = AssignmentRequest,
    responses((status = 200, body = AssignmentCount), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn assign_tasks(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(request): ApiJson<AssignmentRequest>,
) -> ApiResult<Json<AssignmentCount>> {
    let tasks: Vec<TaskId> = request.task_ids.into_iter().map(TaskId).collect();
    let changed = app
        .engine
        .assign_tasks(&actor, ProjectId(project_id), &request.username, &tasks)
        .await?;
    Ok(Json(AssignmentCount { changed }))
}

/// Take tasks out of a member's queue (managers); they return to the pool.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/unassign", tag = "queue",
    params(("project_id" = i64, Path)), request_body = AssignmentRequest,
    responses((status = 200, body = AssignmentCount), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn unassign_tasks(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(request): ApiJson<AssignmentRequest>,
) -> ApiResult<Json<AssignmentCount>> {
    let tasks: Vec<TaskId> = request.task_ids.into_iter().map(TaskId).collect();
    let changed = app
        .engine
        .unassign_tasks(&actor, ProjectId(project_id), &request.username, &tasks)
        .await?;
    Ok(Json(AssignmentCount { changed }))
}
