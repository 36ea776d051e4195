//! `/api/v1/media/{key}`: stored media, to members of a project that uses it.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, Caller};
use crate::App;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(get_media))
}

/// A media object, with the type sniffed from its content. Images, audio and
/// video are shown inline; anything else downloads as an attachment.
#[utoipa::path(get, path = "/api/v1/media/{key}", tag = "tasks",
    params(("key" = String, Path, description = "The SHA-256 of the content, as task data refers to it")),
    responses((status = 200, description = "The bytes"), (status = 404, body = ErrorBody)))]
async fn get_media(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let download = app.engine.media_download(&actor, &key).await?;
    let record = download.record;
    let body = Body::from_stream(download.body.map_err(std::io::Error::other));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&record.content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(record.size));
    // The key is the content's hash: the bytes behind a URL never change.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    // Even if a browser were tricked into rendering it, it runs nothing.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if download.attachment {
        let safe_name: String = record
            .file_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe_name}\"")) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}
