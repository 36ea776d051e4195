//! Markdown rendered as sanitized HTML for the labeling screen
//! (`/api/v1/markdown`): LLM prompts and responses.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Caller};
use crate::App;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(render_markdown))
        .routes(routes!(sanitize_html))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkdownTexts {
    /// Markdown texts, at most 1000 and 4 MiB in all.
    texts: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MarkdownHtml {
    /// Each text as sanitized HTML, in order: no scripts, event handlers,
    /// styles, frames or images; links only to http, https and mailto.
    html: Vec<String>,
}

/// Clean HTML (a `HyperText` object's) with the allow-list the Markdown's
/// HTML gets: no scripts, event handlers, styles, frames, forms or images;
/// links only to http, https and mailto. Any signed-in user may ask.
#[utoipa::path(post, path = "/api/v1/html", tag = "tasks",
    request_body = MarkdownTexts,
    responses((status = 200, body = MarkdownHtml), (status = 422, body = ErrorBody)))]
async fn sanitize_html(
    Caller(_actor): Caller,
    ApiJson(request): ApiJson<MarkdownTexts>,
) -> ApiResult<Json<MarkdownHtml>> {
    let html = tokio::task::spawn_blocking(move || gloss_engine::sanitize_html(&request.texts))
        .await
        .map_err(|_| gloss_engine::Error::internal("the HTML cleaner stopped"))??;
    Ok(Json(MarkdownHtml { html }))
}

/// Render Markdown (CommonMark with tables and strikethrough) as sanitized
/// HTML, for showing LLM prompts and responses. Any signed-in user may ask.
#[utoipa::path(post, path = "/api/v1/markdown", tag = "tasks",
    request_body = MarkdownTexts,
    responses((status = 200, body = MarkdownHtml), (status = 422, body = ErrorBody)))]
async fn render_markdown(
    Caller(_actor): Caller,
    ApiJson(request): ApiJson<MarkdownTexts>,
) -> ApiResult<Json<MarkdownHtml>> {
    let html = tokio::task::spawn_blocking(move || gloss_engine::render_markdown(&request.texts))
        .await
        .map_err(|_| gloss_engine::Error::internal("the Markdown renderer stopped"))??;
    Ok(Json(MarkdownHtml { html }))
}
