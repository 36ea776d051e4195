//! `/api/v1/users/*`: accounts (admins) and people's profiles, skills and
//! tiers; `/api/v1/tiers`.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller, PageQuery, Paging};
use crate::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gloss_types::{Page, Role, User, UserStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(get_tiers, put_tiers))
}

/// A field that may be `null` on purpose: absent → `None`, `null` → `Some(None)`.
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Tiers {
    /// The tiers, lowest first: a project requiring one admits it and those above.
    tiers: Vec<String>,
}

/// The tiers, lowest first (any signed-in user).
#[utoipa::path(get, path = "/api/v1/tiers", tag = "users",
    responses((status = 200, body = Tiers), (status = 401, body = ErrorBody)))]
async fn get_tiers(State(app): State<App>, Caller(_actor): Caller) -> ApiResult<Json<Tiers>> {
    Ok(Json(Tiers {
        tiers: app.engine.tiers().await?,
    }))
}

/// Replace the tiers, lowest first (admins); a tier someone has or a
/// project requires cannot be left out (409).
#[utoipa::path(put, path = "/api/v1/tiers", tag = "users", request_body = Tiers,
    responses((status = 200, body = Tiers), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_tiers(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiJson(request): ApiJson<Tiers>,
) -> ApiResult<Json<Tiers>> {
    Ok(Json(Tiers {
        tiers: app.engine.set_tiers(&actor, &request.tiers).await?,
    }))
}

/// Every account (admins), or a manager's people: the members of the
/// projects they manage.
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
    responses((status = 200, body = super::qualification::UserWithCertifications), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Json<super::qualification::UserWithCertifications>> {
    let user = app.engine.user_by_username(&actor, &username).await?;
    Ok(Json(
        super::qualification::UserWithCertifications::of(&app, user).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserPatch {
    #[serde(default)]
    role: Option<Role>,
    /// `false` deactivates the account: it can no longer sign in or use its tokens.
    #[serde(default)]
    active: Option<bool>,
    /// `active`, `paused` (signs in, given no work) or `removed` (cannot
    /// sign in): admins, and managers for the annotators and reviewers of
    /// their projects.
    #[serde(default)]
    status: Option<UserStatus>,
    /// The person's own (or an admin's) change.
    #[serde(default)]
    display_name: Option<String>,
    /// Language tags such as `de` or `en-GB`.
    #[serde(default)]
    languages: Option<Vec<String>>,
    /// An IANA time zone name such as `Europe/Berlin`.
    #[serde(default)]
    time_zone: Option<String>,
    /// Free tags; admins, and managers for members of their projects.
    #[serde(default)]
    skills: Option<Vec<String>>,
    /// One of the tiers, `null` for none; admins, and managers for members
    /// of their projects.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    tier: Option<Option<String>>,
}

/// Change an account's role or deactivate it (admins); a person's skills
/// and tier (admins, and managers for members of their projects); a
/// person's display name, languages and time zone (themselves, or admins).
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "users", params(("username" = String, Path)),
    request_body = UserPatch, responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_user(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(username): ApiPath<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<User>> {
    let profile = gloss_engine::ProfileUpdate {
        display_name: patch.display_name,
        languages: patch.languages,
        time_zone: patch.time_zone,
        skills: patch.skills,
        tier: patch.tier,
    };
    let mut user = None;
    if patch.role.is_some()
        || patch.active.is_some()
        || patch.status.is_some()
        || profile.is_empty()
    {
        user = Some(
            app.engine
                .update_user(&actor, &username, patch.role, patch.active, patch.status)
                .await?,
        );
    }
    if !profile.is_empty() {
        user = Some(
            app.engine
                .update_profile(&actor, &username, profile)
                .await?,
        );
    }
    Ok(Json(user.expect("one of the two changes ran")))
}
