//! Comments on tasks and regions, and the caller's notifications.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::App;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use gloss_engine::{CommentInput, Notifications};
use gloss_types::{AnnotationId, Code, Comment, TaskId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_comments, add_comment))
        .routes(routes!(resolve_comment))
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
}

/// A task's comments, oldest first: the project's reviewers and managers,
/// and annotators who work on the task (an annotation, a draft or a
/// reservation of theirs); for others the task does not exist.
#[utoipa::path(get, path = "/api/v1/tasks/{task_id}/comments", tag = "comments",
    params(("task_id" = i64, Path)),
    responses((status = 200, body = Vec<Comment>), (status = 404, body = ErrorBody)))]
async fn list_comments(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<Comment>>> {
    Ok(Json(
        app.engine.task_comments(&actor, TaskId(task_id)).await?,
    ))
}

/// A comment, on the task or on one region of one of its annotations.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommentRequest {
    /// Shown as plain text (at most 10,000 bytes).
    text: String,
    /// With `region_id`: the annotation the region belongs to.
    #[serde(default)]
    annotation_id: Option<i64>,
    /// The region's result `id`.
    #[serde(default)]
    region_id: Option<String>,
}

/// Comment on a task or a region; the task's annotators and earlier
/// commenters are notified.
#[utoipa::path(post, path = "/api/v1/tasks/{task_id}/comments", tag = "comments",
    params(("task_id" = i64, Path)), request_body = CommentRequest,
    responses((status = 201, body = Comment), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_comment(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
    ApiJson(request): ApiJson<CommentRequest>,
) -> ApiResult<(StatusCode, Json<Comment>)> {
    let region = match (request.annotation_id, request.region_id) {
        (Some(annotation), Some(region)) => Some((AnnotationId(annotation), region)),
        (None, None) => None,
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "region_id",
                "a comment on an annotation names its region",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "annotation_id",
                "a comment on a region names its annotation",
            ))
        }
    };
    let input = CommentInput {
        text: request.text,
        region,
    };
    let comment = app
        .engine
        .add_comment(&actor, TaskId(task_id), input)
        .await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveRequest {
    resolved: bool,
}

/// Mark a comment resolved, or open again (its author, and the project's
/// reviewers and managers).
#[utoipa::path(patch, path = "/api/v1/comments/{comment_id}", tag = "comments",
    params(("comment_id" = i64, Path)), request_body = ResolveRequest,
    responses((status = 200, body = Comment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn resolve_comment(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(comment_id): ApiPath<i64>,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> ApiResult<Json<Comment>> {
    Ok(Json(
        app.engine
            .resolve_comment(&actor, comment_id, request.resolved)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotificationQuery {
    /// Only unread ones.
    #[serde(default)]
    unread: bool,
    /// At most this many (1 to 200, default 50).
    limit: Option<i64>,
}

/// The caller's notifications, newest first, and how many are unread:
/// comments on tasks they work on, and rejections of their annotations.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "comments", params(NotificationQuery),
    responses((status = 200, body = Notifications)))]
async fn list_notifications(
    State(app): State<App>,
    Caller(actor): Caller,
    query: Result<Query<NotificationQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Notifications>> {
    let Query(query) =
        query.map_err(|rejection| ApiError::new(Code::BadRequest, rejection.body_text()))?;
    Ok(Json(
        app.engine
            .notifications(&actor, query.unread, query.limit.unwrap_or(50))
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkReadRequest {
    /// These notifications; absent: all of the caller's.
    #[serde(default)]
    ids: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Marked {
    marked: u64,
}

/// Mark the caller's notifications read: those listed, or all.
#[utoipa::path(post, path = "/api/v1/me/notifications/read", tag = "comments",
    request_body = MarkReadRequest, responses((status = 200, body = Marked)))]
async fn mark_read(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiJson(request): ApiJson<MarkReadRequest>,
) -> ApiResult<Json<Marked>> {
    let marked = app
        .engine
        .mark_notifications_read(&actor, request.ids)
        .await?;
    Ok(Json(Marked { marked }))
}
