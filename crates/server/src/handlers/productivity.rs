//! Productivity: a project's report per annotator (a leaderboard for its
//! managers) and a manager's leaderboard across their projects.

use super::review::{quality_window, QualityQuery};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, Caller};
use crate::App;
use axum::extract::{Query, State};
use axum::Json;
use gloss_engine::{Leaderboard, ProductivityReport};
use gloss_types::ProjectId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(project_productivity))
        .routes(routes!(leaderboard))
}

/// A project's productivity per annotator over a window (default: the
/// last 30 days): tasks, active hours, tasks per hour, the median active
/// time per task, rejection rate, accuracy against gold, agreement, tasks
/// and hours per day, and anti-fraud flags (too fast, identical answers in
/// a row, low gold accuracy). Managers see everyone, ranked by tasks;
/// other members see only themselves.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/productivity", tag = "review",
    params(("project_id" = i64, Path), QualityQuery),
    responses((status = 200, body = ProductivityReport), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn project_productivity(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    query: Result<Query<QualityQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ProductivityReport>> {
    let window = quality_window(query)?;
    Ok(Json(
        app.engine
            .productivity_report(&actor, ProjectId(project_id), window)
            .await?,
    ))
}

/// The leaderboard across every project the caller manages (admins: all
/// projects), each person's work added up, with their flags (managers and
/// admins).
#[utoipa::path(get, path = "/api/v1/productivity", tag = "review", params(QualityQuery),
    responses((status = 200, body = Leaderboard), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn leaderboard(
    State(app): State<App>,
    Caller(actor): Caller,
    query: Result<Query<QualityQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Leaderboard>> {
    let window = quality_window(query)?;
    Ok(Json(app.engine.leaderboard(&actor, window).await?))
}
