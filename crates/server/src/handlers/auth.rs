//! `/api/v1/auth/*`: API tokens from a password, and browser sessions.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{session_cookie, ApiJson, Caller, ClientAddr, SESSION_COOKIE};
use crate::App;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gloss_engine::Actor;
use gloss_types::{Code, Timestamp, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_token))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(session))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Credentials {
    username: String,
    password: String,
    /// A name for the new token, to tell tokens apart later.
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenCreated {
    /// The secret: shown this once, never again.
    token: String,
    id: i64,
    prefix: String,
}

/// Exchange a username and password for a new API token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = Credentials,
    responses((status = 201, body = TokenCreated), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn create_token(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    ApiJson(credentials): ApiJson<Credentials>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    let user = app
        .engine
        .verify_password(&credentials.username, &credentials.password, &client)
        .await?;
    let new = app
        .engine
        .issue_token(&user, credentials.name.as_deref().unwrap_or("api"))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            token: new.secret,
            id: new.token.id.0,
            prefix: new.token.prefix,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    username: String,
    password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SessionView {
    user: User,
    /// Send this back in the `X-CSRF-Token` header on every write.
    csrf_token: String,
    expires_at: Option<Timestamp>,
}

/// Sign in a browser: sets an HttpOnly session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    ApiJson(login): ApiJson<Login>,
) -> ApiResult<Response> {
    let user = app
        .engine
        .verify_password(&login.username, &login.password, &client)
        .await?;
    signed_in(&app, user).await
}

/// Starts a browser session for `user`: the cookie and the page's view of it.
pub(super) async fn signed_in(app: &App, user: User) -> ApiResult<Response> {
    let session = app.engine.start_session(user).await?;
    let max_age = (session.expires_at.millis() - Timestamp::now().millis()) / 1000;
    let cookie = session_cookie_header(app, &session.secret, max_age)?;
    let body = SessionView {
        user: session.user,
        csrf_token: session.csrf_token,
        expires_at: Some(session.expires_at),
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Sign out the browser session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)), security(("session" = [])))]
async fn logout(
    State(app): State<App>,
    _caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(secret) = session_cookie(&headers) {
        app.engine.end_session(&secret).await?;
    }
    let cookie = session_cookie_header(&app, "", 0)?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// The signed-in browser's user and CSRF token (after a page reload).
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "auth",
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody)), security(("session" = [])))]
async fn session(State(app): State<App>, headers: HeaderMap) -> ApiResult<Json<SessionView>> {
    let Some(secret) = session_cookie(&headers) else {
        return Err(ApiError::new(
            Code::Unauthenticated,
            "no session cookie; sign in at /api/v1/auth/login",
        ));
    };
    let caller = app.engine.caller_from_session(&secret).await?;
    let Actor::User(user) = caller.actor else {
        return Err(ApiError::new(Code::Unauthenticated, "no user"));
    };
    Ok(Json(SessionView {
        user,
        csrf_token: caller.csrf_token,
        expires_at: None,
    }))
}

fn session_cookie_header(app: &App, value: &str, max_age_seconds: i64) -> ApiResult<HeaderValue> {
    let secure = if app.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}");
    HeaderValue::from_str(&cookie).map_err(|err| ApiError::new(Code::Internal, err.to_string()))
}
