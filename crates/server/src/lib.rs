//! The HTTP face of Gloss: the REST API under `/api/v1` and its OpenAPI
//! document. This is the only crate that knows HTTP: status codes, headers,
//! cookies and JSON request/response shapes. Every decision is the engine's;
//! handlers translate.

mod error;
mod extract;
mod handlers;
mod web;

pub use error::{ApiError, ErrorBody};
pub use extract::{CSRF_HEADER, SESSION_COOKIE};

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;
use gloss_engine::Engine;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// HTTP settings, handed down from the configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Mark cookies `Secure` (set when Gloss is served over HTTPS).
    pub secure_cookies: bool,
    /// The largest JSON body accepted, in bytes.
    pub max_json_bytes: usize,
    /// The largest task file accepted as a request body (`POST …/tasks`), in
    /// bytes. Uploaded files are limited by the media upload limit instead.
    pub max_import_bytes: u64,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            secure_cookies: false,
            max_json_bytes: 4 * 1024 * 1024,
            max_import_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// What every handler gets.
#[derive(Clone)]
pub struct App {
    pub engine: Arc<Engine>,
    pub config: Arc<ServerConfig>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Gloss API", description = "The REST API of Gloss, an open-source data-annotation platform."),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Signing in and out"),
        (name = "me", description = "The caller's own account and API tokens"),
        (name = "users", description = "Accounts (admins)"),
        (name = "projects", description = "Projects and their members"),
        (name = "guidelines", description = "A project's labeling guidelines: versions, and acknowledgement before labeling"),
        (name = "pay", description = "Active time, pay rates, timesheets and their approval, payroll"),
        (name = "tasks", description = "Tasks, imports, exports and media"),
        (name = "queue", description = "The annotator queue: next task, submit, skip, drafts, annotation versions, assignments"),
        (name = "comments", description = "Comments on tasks and regions, and each person's notifications"),
        (name = "review", description = "Review: the review queue by layer, accept / reject with a comment / fix, verdict history, progress"),
        (name = "training", description = "Training feedback, qualification tests and their attempts"),
        (name = "red teaming", description = "A project's model endpoint (its key is never returned) and chats with it"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(SESSION_COOKIE))),
        );
    }
}

/// The API's routes and their OpenAPI description, built together so that a
/// route cannot exist without its documentation.
fn api() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(handlers::routes())
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

/// The whole HTTP application.
pub fn router(app: App) -> Router {
    let (router, mut doc) = api().split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let doc = Arc::new(doc);
    let max_json_bytes = app.config.max_json_bytes;
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/static/{*path}", axum::routing::get(web::static_file))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(max_json_bytes))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}

/// Pages of the browser app get its HTML; anything else is the API's 404.
async fn fallback(request: axum::extract::Request) -> Response {
    use axum::response::IntoResponse;
    if web::is_page(&request) {
        web::index(request.headers())
    } else {
        handlers::not_found().await.into_response()
    }
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}
