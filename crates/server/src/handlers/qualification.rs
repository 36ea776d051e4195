//! Training feedback and qualification tests:
//! `/api/v1/annotations/{id}/feedback`, `/api/v1/projects/{id}/qualification…`
//! and `/api/v1/qualification-attempts/{id}…`.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::App;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gloss_engine::{AttemptSummary, AttemptView, QualificationStatus, TrainingFeedback};
use gloss_types::{AnnotationId, Certification, ProjectId, TaskId, User};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(annotation_feedback))
        .routes(routes!(qualification_status))
        .routes(routes!(start_attempt))
        .routes(routes!(qualification_results))
        .routes(routes!(qualification_results_csv))
        .routes(routes!(revoke_certification))
        .routes(routes!(get_attempt))
        .routes(routes!(answer_attempt))
}

/// A person with the certifications they hold (`/me`, `/users/{username}`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserWithCertifications {
    #[serde(flatten)]
    pub user: User,
    /// Certifications granted by qualification tests, expired ones marked.
    pub certifications: Vec<Certification>,
}

impl UserWithCertifications {
    pub(crate) async fn of(app: &App, user: User) -> ApiResult<UserWithCertifications> {
        let certifications = app.engine.certifications_of(user.id).await?;
        Ok(UserWithCertifications {
            user,
            certifications,
        })
    }
}

/// The feedback on one's own annotation in a training project, again: the
/// score per control against the ground truth, each region right, wrong or
/// missed, the expected answers, the ground truth and the explanation.
#[utoipa::path(get, path = "/api/v1/annotations/{annotation_id}/feedback", tag = "training",
    params(("annotation_id" = i64, Path)),
    responses((status = 200, body = TrainingFeedback), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn annotation_feedback(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(annotation_id): ApiPath<i64>,
) -> ApiResult<Json<TrainingFeedback>> {
    Ok(Json(
        app.engine
            .annotation_feedback(&actor, AnnotationId(annotation_id))
            .await?,
    ))
}

/// The caller's standing in a qualification test: attempts, best score,
/// whether and when the next attempt may start, their certification. Its
/// members may take it, and so may members of a project that requires the
/// certification it grants.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/qualification", tag = "training",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = QualificationStatus), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn qualification_status(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<QualificationStatus>> {
    Ok(Json(
        app.engine
            .qualification_status(&actor, ProjectId(project_id))
            .await?,
    ))
}

/// Start an attempt at the test (or go on with the one in progress): its
/// tasks in a fixed order. Refused (403) with the reason and `retry_at` in
/// `details.problems` when attempts are used up or in cool-down.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/qualification/attempts", tag = "training",
    params(("project_id" = i64, Path)),
    responses((status = 201, body = AttemptView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn start_attempt(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<AttemptView>)> {
    let view = app
        .engine
        .start_attempt(&actor, ProjectId(project_id))
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Every attempt of every person at the test (its managers).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/qualification/results", tag = "training",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = Vec<AttemptSummary>), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn qualification_results(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<AttemptSummary>>> {
    Ok(Json(
        app.engine
            .qualification_results(&actor, ProjectId(project_id))
            .await?,
    ))
}

/// The same as CSV: one row an attempt.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/qualification/results.csv", tag = "training",
    params(("project_id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn qualification_results_csv(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Response> {
    let rows = app
        .engine
        .qualification_results(&actor, ProjectId(project_id))
        .await?;
    let mut csv =
        String::from("attempt,username,started_at,finished_at,answered,tasks,score,passed\n");
    let time =
        |t: Option<gloss_types::Timestamp>| t.map(|t| t.millis().to_string()).unwrap_or_default();
    for row in rows {
        let username = if row.username.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", row.username.replace('"', "\"\""))
        } else {
            row.username.clone()
        };
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            row.id,
            username,
            row.started_at.millis(),
            time(row.finished_at),
            row.answered,
            row.tasks,
            row.score.map(|s| format!("{s:.4}")).unwrap_or_default(),
            row.passed.map(|p| p.to_string()).unwrap_or_default(),
        ));
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

/// Revoke the certification the test grants from a person (the test's
/// managers): it expires now, so projects requiring it stop giving them
/// tasks; the grant stays on record, and passing the test again certifies
/// them anew.
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/qualification/certifications/{username}", tag = "training",
    params(("project_id" = i64, Path), ("username" = String, Path)),
    responses((status = 200, body = Certification), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn revoke_certification(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath((project_id, username)): ApiPath<(i64, String)>,
) -> ApiResult<Json<Certification>> {
    Ok(Json(
        app.engine
            .revoke_certification(&actor, ProjectId(project_id), &username)
            .await?,
    ))
}

/// An attempt with its tasks and their data, answered or not (its person
/// and the test's managers); once finished, its score, verdict, each
/// task's score, and the certification granted or when to retry.
#[utoipa::path(get, path = "/api/v1/qualification-attempts/{attempt_id}", tag = "training",
    params(("attempt_id" = i64, Path)),
    responses((status = 200, body = AttemptView), (status = 404, body = ErrorBody)))]
async fn get_attempt(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(attempt_id): ApiPath<i64>,
) -> ApiResult<Json<AttemptView>> {
    Ok(Json(app.engine.attempt(&actor, attempt_id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerRequest {
    task_id: i64,
    /// Label Studio result items, checked against the test's label config.
    #[schema(value_type = Vec<Object>)]
    result: Vec<Value>,
}

/// Answer a task of one's open attempt (again replaces the answer). No
/// verdict is shown until every task is answered; the answer that
/// completes the attempt grades it.
#[utoipa::path(post, path = "/api/v1/qualification-attempts/{attempt_id}/answers", tag = "training",
    params(("attempt_id" = i64, Path)), request_body = AnswerRequest,
    responses((status = 200, body = AttemptView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn answer_attempt(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(attempt_id): ApiPath<i64>,
    ApiJson(request): ApiJson<AnswerRequest>,
) -> ApiResult<Json<AttemptView>> {
    Ok(Json(
        app.engine
            .answer_attempt(&actor, attempt_id, TaskId(request.task_id), request.result)
            .await?,
    ))
}
