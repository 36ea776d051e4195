//! Review and quality: the review queue by layer, verdicts on annotations,
//! their history, a project's review progress, and its quality report.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::App;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gloss_engine::{
    QualityReport, QualityWindow, ReviewInput, ReviewItem, ReviewProgress, TaskComparison,
    TaskConsensus, WorkInput,
};
use gloss_types::{AnnotationId, Code, ProjectId, Review, ReviewVerdict, Timestamp};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(next_review))
        .routes(routes!(review_progress))
        .routes(routes!(list_reviews, review_annotation))
        .routes(routes!(quality_report))
        .routes(routes!(task_consensus))
        .routes(routes!(compare_task))
}

/// A task's annotations compared (reviewers and managers), for the
/// side-by-side view: each region (box, polygon, span) marked `matched`,
/// `partial` or `unmatched` by how many of the other annotations have a
/// match for it (IoU ≥ 0.5 and the same label; the same span), and each
/// whole-task answer that not every other annotation shares.
#[utoipa::path(get, path = "/api/v1/tasks/{task_id}/compare", tag = "review",
    params(("task_id" = i64, Path)),
    responses((status = 200, body = TaskComparison), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn compare_task(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
) -> ApiResult<Json<TaskComparison>> {
    Ok(Json(
        app.engine
            .compare_task(&actor, gloss_types::TaskId(task_id))
            .await?,
    ))
}

/// A task's consensus (reviewers and managers): one result made from its
/// annotators' annotations — boxes fused, spans voted token by token, and
/// for other controls the answer that agrees most with the others (see
/// `docs/quality.md`). Ground-truth and cancelled annotations do not vote.
#[utoipa::path(get, path = "/api/v1/tasks/{task_id}/consensus", tag = "review",
    params(("task_id" = i64, Path)),
    responses((status = 200, body = TaskConsensus), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn task_consensus(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
) -> ApiResult<Json<TaskConsensus>> {
    Ok(Json(
        app.engine
            .task_consensus(&actor, gloss_types::TaskId(task_id))
            .await?,
    ))
}

/// The window of a quality or productivity query, or 400/422 naming the field.
pub(crate) fn quality_window(
    query: Result<Query<QualityQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<QualityWindow> {
    let Query(query) =
        query.map_err(|rejection| ApiError::new(Code::BadRequest, rejection.body_text()))?;
    let time = |field: &str, text: &Option<String>| -> ApiResult<Option<Timestamp>> {
        text.as_deref()
            .map(|text| {
                Timestamp::parse_rfc3339(text).ok_or_else(|| {
                    ApiError::invalid(field, "must be a time such as 2026-12-01T00:00:00Z")
                })
            })
            .transpose()
    };
    Ok(QualityWindow {
        since: time("since", &query.since)?,
        until: time("until", &query.until)?,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct QualityQuery {
    /// Only annotations last changed at or after this time (RFC 3339).
    since: Option<String>,
    /// Only annotations last changed before this time (RFC 3339).
    until: Option<String>,
}

/// The project's quality report (reviewers and managers): agreement per
/// control (mean task agreement, Krippendorff's alpha, per label, per pair
/// of annotators with Cohen's kappa, the confusion matrix between
/// annotators), each annotator's agreement with the consensus, accuracy
/// against ground truth, rejection rate and throughput, agreement per day,
/// and the tasks agreed on least. Computed when asked, so it includes
/// every submit. Formulas: `docs/quality.md`.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/quality", tag = "review",
    params(("project_id" = i64, Path), QualityQuery),
    responses((status = 200, body = QualityReport), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn quality_report(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    query: Result<Query<QualityQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<QualityReport>> {
    let window = quality_window(query)?;
    Ok(Json(
        app.engine
            .quality_report(&actor, ProjectId(project_id), window)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewQueueQuery {
    /// The review layer: 1 (default) or, in a project with two layers, 2.
    layer: Option<i64>,
}

/// Hold and return the next annotation for the caller to review at a layer
/// (reviewers and managers): `200` with the annotation, its task, its
/// annotator and earlier verdicts, or `204` when nothing waits. The caller
/// holds it for the project's `reservation_seconds`; asking again returns
/// it until a verdict. Never the caller's own work, nor an annotation they
/// passed at another layer; only the project's `review_percent` sample.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/review/next", tag = "review",
    params(("project_id" = i64, Path), ReviewQueueQuery),
    responses((status = 200, body = ReviewItem), (status = 204), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn next_review(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    query: Result<Query<ReviewQueueQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) =
        query.map_err(|rejection| ApiError::new(Code::BadRequest, rejection.body_text()))?;
    let layer = query.layer.unwrap_or(1);
    Ok(
        match app
            .engine
            .next_review(&actor, ProjectId(project_id), layer)
            .await?
        {
            Some(item) => Json(item).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}

/// Where the project's annotations stand in review (reviewers and managers).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/review/progress", tag = "review",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = ReviewProgress), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn review_progress(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<ReviewProgress>> {
    Ok(Json(
        app.engine
            .review_progress(&actor, ProjectId(project_id))
            .await?,
    ))
}

/// A verdict on an annotation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewRequest {
    /// `accept`, `reject` (needs a `comment`) or `fix` (needs `result` and `version`).
    verdict: ReviewVerdict,
    /// What the annotator should change (a rejection), or a note.
    #[serde(default)]
    comment: String,
    /// A fix: the corrected result items.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    result: Option<Vec<Value>>,
    /// A fix: the annotation's version it replaces (409 when stale).
    #[serde(default)]
    version: Option<i64>,
    /// A fix: seconds the reviewer spent.
    #[serde(default)]
    lead_time: Option<f64>,
    /// Active seconds the reviewer spent on this verdict; capped at the
    /// time since their hold began (see `docs/pay.md`).
    #[serde(default)]
    active_time: Option<f64>,
}

/// Review an annotation waiting for review (the project's reviewers and
/// managers, never on their own work): `accept` passes the layer (the last
/// layer accepts it); `reject` sends it back to its annotator, whose `next`
/// returns it first with the comment until they change it; `fix` stores the
/// reviewer's corrected result as a new version (by the reviewer) and
/// passes. `409` when the annotation no longer waits for this layer.
#[utoipa::path(post, path = "/api/v1/annotations/{annotation_id}/reviews", tag = "review",
    params(("annotation_id" = i64, Path)), request_body = ReviewRequest,
    responses((status = 201, body = Review), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn review_annotation(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(annotation_id): ApiPath<i64>,
    ApiJson(request): ApiJson<ReviewRequest>,
) -> ApiResult<(StatusCode, Json<Review>)> {
    let fix = match (request.result, request.version) {
        (Some(result), Some(version)) => Some((
            version,
            WorkInput {
                result,
                lead_time: request.lead_time,
                active_time: None,
            },
        )),
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "version",
                "a fix needs the version it replaces",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "result",
                "a fix needs the corrected result",
            ))
        }
        (None, None) => None,
    };
    let input = ReviewInput {
        verdict: request.verdict,
        comment: request.comment,
        fix,
        active_time: request.active_time,
    };
    let review = app
        .engine
        .review_annotation(&actor, AnnotationId(annotation_id), input)
        .await?;
    Ok((StatusCode::CREATED, Json(review)))
}

/// Every verdict on an annotation, oldest first (its annotator, and the
/// project's reviewers and managers).
#[utoipa::path(get, path = "/api/v1/annotations/{annotation_id}/reviews", tag = "review",
    params(("annotation_id" = i64, Path)),
    responses((status = 200, body = Vec<Review>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_reviews(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(annotation_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<Review>>> {
    Ok(Json(
        app.engine
            .annotation_reviews(&actor, AnnotationId(annotation_id))
            .await?,
    ))
}
