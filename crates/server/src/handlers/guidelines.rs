//! A project's labeling guidelines: `/api/v1/projects/{id}/guidelines`.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::App;
use axum::extract::State;
use axum::Json;
use gloss_engine::{GuidelineVersion, Guidelines};
use gloss_types::ProjectId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(get_guidelines, put_guidelines))
        .routes(routes!(guideline_versions))
        .routes(routes!(acknowledge_guidelines))
}

/// The project's current guidelines, rendered, and whether the caller must
/// acknowledge them before labeling (any member).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/guidelines", tag = "guidelines",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = Guidelines), (status = 404, body = ErrorBody)))]
async fn get_guidelines(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<Guidelines>> {
    Ok(Json(
        app.engine.guidelines(&actor, ProjectId(project_id)).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct GuidelinesRequest {
    /// Markdown (CommonMark with tables), at most 256 KiB.
    text: String,
}

/// Write the project's guidelines (its managers): a new version, which
/// everyone labeling must acknowledge before their next task. The current
/// text again changes nothing.
#[utoipa::path(put, path = "/api/v1/projects/{project_id}/guidelines", tag = "guidelines",
    params(("project_id" = i64, Path)), request_body = GuidelinesRequest,
    responses((status = 200, body = Guidelines), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_guidelines(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(request): ApiJson<GuidelinesRequest>,
) -> ApiResult<Json<Guidelines>> {
    Ok(Json(
        app.engine
            .set_guidelines(&actor, ProjectId(project_id), &request.text)
            .await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
struct GuidelineVersions {
    /// The newest first.
    versions: Vec<GuidelineVersion>,
}

/// Every version of the project's guidelines (any member).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/guidelines/versions", tag = "guidelines",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = GuidelineVersions), (status = 404, body = ErrorBody)))]
async fn guideline_versions(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<GuidelineVersions>> {
    Ok(Json(GuidelineVersions {
        versions: app
            .engine
            .guideline_versions(&actor, ProjectId(project_id))
            .await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AcknowledgeRequest {
    /// The version read: it must be the current one.
    version: i64,
}

/// Acknowledge the current guidelines (any member): labeling (`next`) waits
/// for it. A version that is not the current one is a 409 naming the current.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/guidelines/acknowledge", tag = "guidelines",
    params(("project_id" = i64, Path)), request_body = AcknowledgeRequest,
    responses((status = 200, body = Guidelines), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn acknowledge_guidelines(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(request): ApiJson<AcknowledgeRequest>,
) -> ApiResult<Json<Guidelines>> {
    Ok(Json(
        app.engine
            .acknowledge_guidelines(&actor, ProjectId(project_id), request.version)
            .await?,
    ))
}
