//! `/api/v1/me/*`: the caller's own account, password and API tokens.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller, ClientAddr, PageQuery, Paging};
use crate::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gloss_types::{ApiToken, Code, Page, TokenId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(my_work))
}

/// The caller's account.
#[derive(Debug, Serialize, ToSchema)]
struct Work {
    /// The projects the caller is a member of, in id order.
    projects: Vec<gloss_engine::WorkItem>,
}

/// The caller's work: each project they are a member of, how many tasks
/// are left for them, their submits today against the project's daily
/// limit, and what stops them from labeling now, if anything.
#[utoipa::path(get, path = "/api/v1/me/work", tag = "me",
    responses((status = 200, body = Work), (status = 401, body = ErrorBody)))]
async fn my_work(State(app): State<App>, Caller(actor): Caller) -> ApiResult<axum::Json<Work>> {
    Ok(axum::Json(Work {
        projects: app.engine.my_work(&actor).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = super::qualification::UserWithCertifications), (status = 401, body = ErrorBody)))]
async fn me(
    State(app): State<App>,
    Caller(actor): Caller,
) -> ApiResult<Json<super::qualification::UserWithCertifications>> {
    let user = actor
        .user()
        .cloned()
        .ok_or_else(|| ApiError::new(Code::Unauthenticated, "no user"))?;
    Ok(Json(
        super::qualification::UserWithCertifications::of(&app, user).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Change the caller's password; every browser session of theirs ends.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", request_body = PasswordChange,
    responses((status = 204), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(app): State<App>,
    Caller(actor): Caller,
    ClientAddr(client): ClientAddr,
    ApiJson(change): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    app.engine
        .change_password(
            &actor,
            &change.current_password,
            &change.new_password,
            &client,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "me", params(PageQuery),
    responses((status = 200, body = Page<ApiToken>)))]
async fn list_tokens(
    State(app): State<App>,
    Caller(actor): Caller,
    Paging(page): Paging,
) -> ApiResult<Json<Page<ApiToken>>> {
    Ok(Json(app.engine.list_own_tokens(&actor, page).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTokenRequest {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NewTokenView {
    /// The secret: shown this once, never again.
    secret: String,
    token: ApiToken,
}

/// Create an API token for the caller.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "me", request_body = NewTokenRequest,
    responses((status = 201, body = NewTokenView)))]
async fn create_token(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiJson(request): ApiJson<NewTokenRequest>,
) -> ApiResult<(StatusCode, Json<NewTokenView>)> {
    let new = app
        .engine
        .create_own_token(&actor, request.name.as_deref().unwrap_or("api"))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewTokenView {
            secret: new.secret,
            token: new.token,
        }),
    ))
}

/// Revoke one of the caller's API tokens.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{token_id}", tag = "me",
    params(("token_id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(token_id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    app.engine
        .revoke_own_token(&actor, TokenId(token_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
