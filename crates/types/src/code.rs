use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every stable error code Gloss answers with, and the HTTP status that goes
/// with it (kept as a plain number so that this crate needs no HTTP library).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The request body is not well-formed (not JSON, wrong content type).
    BadRequest,
    /// The request is well-formed but a field is wrong; `details.field` names it.
    InvalidField,
    /// No valid credentials were sent.
    Unauthenticated,
    /// Wrong username or password.
    InvalidCredentials,
    /// The caller is known but their role does not allow this.
    Forbidden,
    /// A cookie-authenticated write came without the matching CSRF token.
    CsrfFailed,
    /// The object does not exist, or the caller may not know that it does.
    NotFound,
    /// The request conflicts with the current state (a taken name, say).
    Conflict,
    /// Too many attempts; retry later.
    TooManyRequests,
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// The body's content type is not accepted here.
    UnsupportedMediaType,
    /// Something failed inside Gloss; the message says what, the log says more.
    Internal,
    /// The database or media store cannot be reached right now.
    Unavailable,
    /// The project has no model endpoint for chats; a manager sets one.
    NoModelEndpoint,
    /// The project's model endpoint failed or answered with an error;
    /// `details.upstream_status` has its HTTP status when it answered.
    UpstreamFailed,
}

impl Code {
    pub fn http_status(self) -> u16 {
        match self {
            Code::BadRequest => 400,
            Code::InvalidField => 422,
            Code::Unauthenticated | Code::InvalidCredentials => 401,
            Code::Forbidden | Code::CsrfFailed => 403,
            Code::NotFound => 404,
            Code::Conflict => 409,
            Code::PayloadTooLarge => 413,
            Code::UnsupportedMediaType => 415,
            Code::TooManyRequests => 429,
            Code::Internal => 500,
            Code::Unavailable => 503,
            Code::NoModelEndpoint => 409,
            Code::UpstreamFailed => 502,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadRequest => "bad_request",
            Code::InvalidField => "invalid_field",
            Code::Unauthenticated => "unauthenticated",
            Code::InvalidCredentials => "invalid_credentials",
            Code::Forbidden => "forbidden",
            Code::CsrfFailed => "csrf_failed",
            Code::NotFound => "not_found",
            Code::Conflict => "conflict",
            Code::TooManyRequests => "too_many_requests",
            Code::PayloadTooLarge => "payload_too_large",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::Internal => "internal",
            Code::Unavailable => "unavailable",
            Code::NoModelEndpoint => "no_model_endpoint",
            Code::UpstreamFailed => "upstream_failed",
        }
    }
}
