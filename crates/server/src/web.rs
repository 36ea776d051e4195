//! The browser app: plain ES modules from `web/app`, embedded in the binary
//! at build time (no bundler, no build step), served under `/static/`, with
//! `index.html` answering every page address outside `/api/` so that the
//! app's own router can show it after a reload.

use axum::extract::{Path, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use include_dir::{include_dir, Dir};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

static APP: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../web/app");

/// What the app's pages may load: only their own scripts, styles, images and
/// API, so a value that slipped into markup could still run nothing.
/// `blob:` and `data:` images are the canvas's own (thumbnails, pasted
/// images); media come from `/api/v1/media`, the same origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; \
     connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    etag: HeaderValue,
}

/// The embedded files by path, with their entity tags, computed once.
fn assets() -> &'static HashMap<&'static str, Asset> {
    static ASSETS: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let mut assets = HashMap::new();
        collect(&APP, &mut assets);
        assets
    })
}

fn collect(dir: &'static Dir<'static>, assets: &mut HashMap<&'static str, Asset>) {
    for file in dir.files() {
        let Some(path) = file.path().to_str() else {
            continue;
        };
        let digest = Sha256::digest(file.contents());
        let etag = format!("\"{}\"", hex::encode(&digest[..12]));
        assets.insert(
            path,
            Asset {
                bytes: file.contents(),
                content_type: content_type(path),
                etag: HeaderValue::from_str(&etag).expect("hex is a valid header value"),
            },
        );
    }
    for child in dir.dirs() {
        collect(child, assets);
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// `GET /static/{*path}`: one embedded file. Browsers revalidate each time
/// (`no-cache`) and get a `304` while the binary is the same, so an upgrade
/// is never mixed with old modules from a cache.
pub(crate) async fn static_file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match assets().get(path.as_str()) {
        Some(asset) => asset_response(asset, &headers),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no such file",
        )
            .into_response(),
    }
}

fn asset_response(asset: &Asset, headers: &HeaderMap) -> Response {
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|sent| sent == asset.etag);
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.bytes).into_response()
    };
    let response_headers = response.headers_mut();
    response_headers.insert(header::ETAG, asset.etag.clone());
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response_headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}

/// Whether a request outside the API is a page of the app (a `GET` of a
/// path without a file extension), answered with `index.html`.
pub(crate) fn is_page(request: &Request) -> bool {
    let path = request.uri().path();
    matches!(*request.method(), Method::GET | Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/static/")
        && !path.rsplit('/').next().unwrap_or_default().contains('.')
}

/// The app's one HTML page.
pub(crate) fn index(headers: &HeaderMap) -> Response {
    let asset = assets()
        .get("index.html")
        .expect("web/app/index.html is embedded");
    asset_response(asset, headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_loads_is_embedded_with_a_script_type() {
        let index = std::str::from_utf8(assets()["index.html"].bytes).unwrap();
        assert!(index.contains("/static/main.js"));
        assert_eq!(
            assets()["main.js"].content_type,
            "text/javascript; charset=utf-8"
        );
    }

    #[test]
    fn app_addresses_are_pages_and_api_addresses_are_not() {
        let request = |method: Method, path: &str| {
            Request::builder()
                .method(method)
                .uri(path)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        assert!(is_page(&request(Method::GET, "/")));
        assert!(is_page(&request(Method::GET, "/projects/3/data")));
        assert!(!is_page(&request(Method::GET, "/api/v1/nothing")));
        assert!(!is_page(&request(Method::POST, "/projects")));
        assert!(!is_page(&request(Method::GET, "/favicon.ico")));
    }
}
