//! Invitation links (`/api/v1/projects/{id}/invites`, `/api/v1/invites/*`)
//! and the label config check the config editor calls as one types.

use super::auth::{signed_in, SessionView};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use gloss_types::{Invite, ProjectId, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_invites, create_invite))
        .routes(routes!(delete_invite))
        .routes(routes!(open_invite))
        .routes(routes!(accept_invite))
        .routes(routes!(check_label_config))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InviteRequest {
    /// The new account's role, also its role in the project: `annotator`,
    /// `reviewer` or `manager`.
    role: Role,
    /// How long the link works, 1 to 30 days (default 7).
    #[serde(default)]
    valid_days: Option<i64>,
    /// The tier the new account starts with (see `GET /api/v1/tiers`).
    #[serde(default)]
    tier: Option<String>,
    /// The skills the new account starts with.
    #[serde(default)]
    skills: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InviteCreated {
    #[serde(flatten)]
    invite: Invite,
    /// The secret part of the link: shown this once.
    code: String,
    /// The address to send, relative to the server: `/invite/{code}`.
    path: String,
}

/// Make an invitation link to the project (its managers).
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/invites", tag = "projects",
    params(("project_id" = i64, Path)), request_body = InviteRequest,
    responses((status = 201, body = InviteCreated), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_invite(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(request): ApiJson<InviteRequest>,
) -> ApiResult<(StatusCode, Json<InviteCreated>)> {
    let made = app
        .engine
        .create_invite(
            &actor,
            ProjectId(project_id),
            request.role,
            request.valid_days,
            gloss_engine::InvitePreset {
                tier: request.tier,
                skills: request.skills,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(InviteCreated {
            path: format!("/invite/{}", made.secret),
            code: made.secret,
            invite: made.invite,
        }),
    ))
}

/// The project's invitations, newest first (its managers).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/invites", tag = "projects",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = Vec<Invite>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_invites(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<Invite>>> {
    Ok(Json(
        app.engine
            .list_invites(&actor, ProjectId(project_id))
            .await?,
    ))
}

/// Withdraw an invitation (its project's managers).
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/invites/{invite_id}", tag = "projects",
    params(("project_id" = i64, Path), ("invite_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_invite(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath((project_id, invite_id)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    app.engine
        .delete_invite(&actor, ProjectId(project_id), invite_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an open invitation offers (no sign-in: the link is the credential).
#[utoipa::path(get, path = "/api/v1/invites/{code}", tag = "auth",
    params(("code" = String, Path)),
    responses((status = 200, body = Invite), (status = 404, body = ErrorBody)), security(()))]
async fn open_invite(
    State(app): State<App>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Invite>> {
    Ok(Json(app.engine.open_invite(&code).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcceptInvite {
    username: String,
    password: String,
}

/// Make the account an invitation offers and sign its browser in.
#[utoipa::path(post, path = "/api/v1/invites/{code}/accept", tag = "auth",
    params(("code" = String, Path)), request_body = AcceptInvite,
    responses((status = 200, body = SessionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(()))]
async fn accept_invite(
    State(app): State<App>,
    ApiPath(code): ApiPath<String>,
    ApiJson(request): ApiJson<AcceptInvite>,
) -> ApiResult<Response> {
    let user = app
        .engine
        .accept_invite(&code, &request.username, &request.password)
        .await?;
    signed_in(&app, user).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelConfigText {
    /// A Label Studio XML label config.
    label_config: String,
}

/// Parse a label config: the typed model the labeling screen renders, and
/// every problem with its line and column (`valid` is false when one is an
/// error). Any signed-in user may ask.
#[utoipa::path(post, path = "/api/v1/label-config/check", tag = "projects",
    request_body = LabelConfigText,
    responses((status = 200, description = "`{config, problems, valid}`", body = Object), (status = 422, body = ErrorBody)))]
async fn check_label_config(
    Caller(_actor): Caller,
    ApiJson(request): ApiJson<LabelConfigText>,
) -> ApiResult<Json<gloss_engine::LabelConfigCheck>> {
    Ok(Json(gloss_engine::label_config_check(
        &request.label_config,
    )?))
}
