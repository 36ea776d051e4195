//! Request extractors: who is calling, JSON bodies, path and page parameters.
//! Each turns its failures into the API's error shape instead of axum's text.

use crate::error::ApiError;
use crate::App;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use gloss_engine::Actor;
use gloss_types::{Code, PageRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::net::SocketAddr;
use utoipa::IntoParams;

/// The name of the browser session cookie.
pub const SESSION_COOKIE: &str = "gloss_session";
/// The header a cookie-authenticated write must carry, with the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller: from `Authorization: Bearer TOKEN`, or from the
/// session cookie (then every write must also carry the CSRF header).
pub struct Caller(pub Actor);

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Caller, ApiError> {
        if let Some(authorization) = parts.headers.get(header::AUTHORIZATION) {
            let value = authorization.to_str().unwrap_or_default();
            let Some(token) = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("Token "))
            else {
                return Err(ApiError::new(
                    Code::Unauthenticated,
                    "the Authorization header must be `Bearer TOKEN`",
                ));
            };
            return Ok(Caller(app.engine.actor_from_token(token.trim()).await?));
        }
        let Some(session) = session_cookie(&parts.headers) else {
            return Err(ApiError::new(
                Code::Unauthenticated,
                "sign in first: send `Authorization: Bearer TOKEN` or a session cookie",
            ));
        };
        let caller = app.engine.caller_from_session(&session).await?;
        let is_write = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if is_write {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            if !constant_time_eq(sent.as_bytes(), caller.csrf_token.as_bytes()) {
                return Err(ApiError::new(
                    Code::CsrfFailed,
                    "writes with a session cookie must carry the X-CSRF-Token header from sign-in",
                ));
            }
        }
        Ok(Caller(caller.actor))
    }
}

/// The session cookie's value, when the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client's address, for the sign-in limiter.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<ClientAddr, ApiError> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip().to_string());
        Ok(ClientAddr(addr.unwrap_or_else(|| "unknown".to_string())))
    }
}

/// A JSON body. The content type must be JSON; malformed JSON is a 400; a
/// wrong or unknown field is a 422 naming the field by its path.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<ApiJson<T>, ApiError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok());
        let is_json = content_type.is_some_and(|value| {
            let mime = value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        });
        if !is_json {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        Code::PayloadTooLarge,
                        "the body is larger than this endpoint accepts",
                    )
                } else {
                    ApiError::new(Code::BadRequest, rejection.body_text())
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::new(
                    Code::BadRequest,
                    format!("the body is not valid JSON: {inner}"),
                )
            }
            _ => {
                let message = inner.to_string();
                // The path already ends with an unknown field's name; at the top
                // level it is "." and the message names the field.
                let field = match unknown_field_name(&message) {
                    Some(name) if path == "." => name.to_string(),
                    _ if path == "." => String::new(),
                    _ => path,
                };
                let reason = strip_position(&message);
                if field.is_empty() {
                    ApiError::new(Code::InvalidField, reason)
                } else {
                    ApiError::invalid(&field, reason)
                }
            }
        }
    })
}

fn unknown_field_name(message: &str) -> Option<&str> {
    message.strip_prefix("unknown field `")?.split('`').next()
}

/// serde_json appends " at line 1 column 42"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(idx) => message[..idx].to_string(),
        None => message.to_string(),
    }
}

/// Path parameters, with a clear error for a malformed one.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ApiPath<T>, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::new(
                Code::NotFound,
                format!("no such object: {}", rejection.body_text()),
            )),
        }
    }
}

/// `?after=CURSOR&limit=N` on every list endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` value of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Paging, ApiError> {
        let Query(query) = Query::<PageQuery>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::new(Code::BadRequest, rejection.body_text()))?;
        let limit = query.limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
        if limit == 0 || limit > PageRequest::MAX_LIMIT {
            return Err(ApiError::invalid(
                "limit",
                format!("must be 1 to {}", PageRequest::MAX_LIMIT),
            ));
        }
        let after = match query.after.as_deref() {
            None | Some("") => None,
            Some(cursor) => Some(
                cursor
                    .parse::<i64>()
                    .map_err(|_| ApiError::invalid("after", "is not a cursor from this list"))?,
            ),
        };
        Ok(Paging(PageRequest { after, limit }))
    }
}

/// The page a list request asks for.
pub struct Paging(pub PageRequest);
