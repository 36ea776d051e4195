//! The one place where errors become HTTP responses:
//! `{"code": "...", "message": "...", "details": {...}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gloss_engine::Error;
use gloss_types::Code;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error response has this shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `not_found` or `invalid_field`.
    pub code: Code,
    /// What went wrong, for people.
    pub message: String,
    /// More about it: `field` names the offending request field as a path
    /// (`label_config`, `members[0].role`); `retry_after` is in seconds;
    /// `problems` lists every problem in a document, each with its code and line.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// An engine error on its way out.
#[derive(Debug)]
pub struct ApiError(pub Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        ApiError(err)
    }
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError(Error::new(code, message))
    }

    pub fn invalid(field: &str, reason: impl Into<String>) -> ApiError {
        ApiError(Error::invalid(field, reason))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        let status = StatusCode::from_u16(err.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = if err.code == Code::Internal {
            // The cause goes to the log, not to the caller: it may name files or queries.
            tracing::error!(error = %err.message, "internal error");
            "internal error; the server log has the details".to_string()
        } else {
            err.message
        };
        let mut details = serde_json::Map::new();
        if let Some(field) = err.field {
            details.insert("field".to_string(), field.into());
        }
        if let Some(seconds) = err.retry_after {
            details.insert("retry_after".to_string(), seconds.into());
        }
        if let Some(status) = err.upstream_status {
            details.insert("upstream_status".to_string(), status.into());
        }
        if let Some(problems) = err.problems {
            details.insert("problems".to_string(), problems);
        }
        let body = ErrorBody {
            code: err.code,
            message,
            details: details.into(),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = err.retry_after {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}
