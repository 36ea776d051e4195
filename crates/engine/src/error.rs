use gloss_types::Code;

/// An engine error: a stable code, a message for people, and where known the
/// request field at fault. The server turns it into `{code, message, details}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub code: Code,
    pub message: String,
    /// The offending field as a path into the request (`members[0].role`).
    pub field: Option<String>,
    /// Seconds after which a refused attempt may be retried.
    pub retry_after: Option<u64>,
    /// Every problem found in a document (a label config, say), each with its
    /// code, line and message, when there can be more than one.
    pub problems: Option<serde_json::Value>,
    /// The HTTP status a model endpoint answered with ([`Code::UpstreamFailed`]).
    pub upstream_status: Option<u16>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            problems: None,
            upstream_status: None,
        }
    }

    /// A wrong value in the request, naming the field and the reason.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Error {
        Error {
            field: Some(field.to_string()),
            ..Error::new(Code::InvalidField, reason)
        }
    }

    pub fn not_found(what: &str) -> Error {
        Error::new(Code::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(reason: impl Into<String>) -> Error {
        Error::new(Code::Forbidden, reason)
    }

    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(Code::Internal, message)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: {}", field, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

impl From<gloss_store::Error> for Error {
    fn from(err: gloss_store::Error) -> Error {
        match err {
            gloss_store::Error::NotFound => Error::not_found("object"),
            gloss_store::Error::Conflict(message) => Error::new(Code::Conflict, message),
            gloss_store::Error::BadSnapshot(message) => Error::new(Code::BadRequest, message),
            other => Error::internal(other.to_string()),
        }
    }
}

impl From<gloss_media::Error> for Error {
    fn from(err: gloss_media::Error) -> Error {
        match err {
            gloss_media::Error::NotFound(_) => Error::not_found("media"),
            gloss_media::Error::TooLarge { .. } => {
                Error::new(Code::PayloadTooLarge, err.to_string())
            }
            gloss_media::Error::TooManyPixels { .. } | gloss_media::Error::BadImage(_) => {
                Error::invalid("file", err.to_string())
            }
            gloss_media::Error::Refused { .. }
            | gloss_media::Error::Fetch { .. }
            | gloss_media::Error::TooManyRedirects { .. }
            | gloss_media::Error::HttpStatus { .. } => Error::invalid("url", err.to_string()),
            other => Error::internal(other.to_string()),
        }
    }
}

/// Maps the store's "no such row" to a not-found error naming the object.
pub(crate) trait OrNotFound<T> {
    fn or_not_found(self, what: &str) -> Result<T>;
}

impl<T> OrNotFound<T> for std::result::Result<T, gloss_store::Error> {
    fn or_not_found(self, what: &str) -> Result<T> {
        self.map_err(|err| match err {
            gloss_store::Error::NotFound => Error::not_found(what),
            other => other.into(),
        })
    }
}
