//! The one error type of this crate. Every message says what went wrong and,
//! where a limit was hit, what the limit is, because these messages reach the
//! person who uploaded a file or pasted a URL.

use crate::MediaKey;
use std::net::IpAddr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid media url `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("media object `{0}` not found")]
    NotFound(MediaKey),
    #[error("`{0}` is not a media key")]
    BadKey(String),
    #[error("media object `{key}` does not match its content hash")]
    Corrupt { key: MediaKey },
    #[error("media store: {0}")]
    Store(String),

    /// The content went past `limit` bytes; it was refused without reading the rest.
    #[error("the content is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The image header declares more pixels than allowed; nothing was decoded.
    #[error(
        "the image is {width}×{height} pixels ({}), more than the limit of {limit} pixels",
        u64::from(*.width) * u64::from(*.height)
    )]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    /// The content looks like an image (by its first bytes) but its header
    /// cannot be read.
    #[error("the content looks like an image but its header cannot be read: {0}")]
    BadImage(String),
    /// The content is not a video whose frames Gloss can index.
    #[error("not a video Gloss can index: {0}")]
    BadVideo(String),
    /// The content is not a sound Gloss can decode.
    #[error("not a sound Gloss can decode: {0}")]
    BadAudio(String),
    /// The stream or file the content came from failed while being read.
    #[error("reading the content failed: {0}")]
    Source(String),

    /// An allow-list entry for URL fetching is not a network.
    #[error("`{entry}` is not an IP network like 10.0.0.0/8 or fd00::/8: {reason}")]
    BadCidr { entry: String, reason: String },
    /// A URL may not be fetched: its scheme, or an address its host resolves to.
    #[error("refused to fetch `{url}`: {}", refusal(.address, .reason))]
    Refused {
        url: String,
        /// The address that was refused, when the refusal is about an address.
        address: Option<IpAddr>,
        reason: String,
    },
    #[error("fetching `{url}` failed: {reason}")]
    Fetch { url: String, reason: String },
    #[error("fetching `{url}` was redirected more than {limit} times")]
    TooManyRedirects { url: String, limit: usize },
    #[error("fetching `{url}` failed: the server answered with status {status}")]
    HttpStatus { url: String, status: u16 },
}

pub type Result<T> = std::result::Result<T, Error>;

fn refusal(address: &Option<IpAddr>, reason: &str) -> String {
    match address {
        Some(address) => format!("{address} is {reason} and is not allow-listed"),
        None => reason.to_string(),
    }
}

pub(crate) fn store_error(err: object_store::Error) -> Error {
    Error::Store(err.to_string())
}

/// An error with its causes, "outer: inner: innermost": the libraries used
/// here (reqwest above all) often put the useful part in a source.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some errors repeat their source in their own message.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
