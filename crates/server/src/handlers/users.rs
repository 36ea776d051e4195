//! `/api/v1/users/*`: accounts, for admins.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller, PageQuery, Paging};
use crate::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gloss_types::{Page, Role, User};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
}

/// Every account (admins).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageQuery),
    responses((status = 200, body = Page<User>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(app): State<App>,
    Caller(actor): Caller,
    Paging(page): Paging,
) -> ApiResult<Json<Page<User>>> {
    Ok(Json(app.engine.list_users(&actor, page).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserRequest {
    username: String,
    password: String,
    role: Role,
}

/// Create an account (admins). There is no open sign-up.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserRequest,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_user(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiJson(request): ApiJson<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let user = app
        .engine
        .create_user(&actor, &request.username, &request.password, request.role)
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// One account: admins see anyone, others only themselves.
#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "users", params(("username" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(app.engine.user_by_username(&actor, &username).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserPatch {
    #[serde(default)]
    role: Option<Role>,
    /// `false` deactivates the account: it can no longer sign in or use its tokens.
    #[serde(default)]
    active: Option<bool>,
}

/// Change an account's role or deactivate it (admins).
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "users", params(("username" = String, Path)),
    request_body = UserPatch, responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_user(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(username): ApiPath<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        app.engine
            .update_user(&actor, &username, patch.role, patch.active)
            .await?,
    ))
}
