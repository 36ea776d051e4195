//! Red teaming: a project's model endpoint (`/api/v1/projects/{id}/model-endpoint`)
//! and the chat proxy (`/api/v1/tasks/{id}/chat`). The endpoint's API key
//! goes in and is never sent back.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gloss_engine::{
    ChatReply, ChatStatus, ChatTurn, KeyChange, ModelEndpointUpdate, ModelEndpointView,
};
use gloss_types::{ProjectId, TaskId};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(
            get_model_endpoint,
            put_model_endpoint,
            delete_model_endpoint
        ))
        .routes(routes!(chat_status, chat))
}

/// A project's model endpoint, or `null` when it has none.
#[derive(Debug, Serialize, ToSchema)]
struct ModelEndpointResponse {
    endpoint: Option<ModelEndpointView>,
}

/// The project's model endpoint for red-teaming chats (its managers). The
/// API key is never returned: `key_set` says whether one is stored.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/model-endpoint", tag = "red teaming",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = ModelEndpointResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_model_endpoint(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<ModelEndpointResponse>> {
    let endpoint = app
        .engine
        .model_endpoint(&actor, ProjectId(project_id))
        .await?;
    Ok(Json(ModelEndpointResponse { endpoint }))
}

/// `api_key` absent keeps the stored key, `null` removes it.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// No `Debug`: it holds the key.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ModelEndpointRequest {
    /// An OpenAI-compatible base URL such as `https://api.example.com/v1`
    /// (requests go to `{url}/chat/completions`), or the full URL ending in
    /// `/chat/completions`.
    url: String,
    /// The model named in each request.
    model: String,
    /// Sent as `Authorization: Bearer …`. Absent: the stored key is kept;
    /// `null`: it is removed. Never returned.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    api_key: Option<Option<String>>,
    /// Sent first, as a `system` message.
    #[serde(default)]
    system_prompt: String,
    /// 0 to 2; absent: the endpoint's default.
    #[serde(default)]
    temperature: Option<f64>,
    /// Longest reply in tokens; absent: the endpoint's default.
    #[serde(default)]
    max_tokens: Option<i64>,
}

/// Set the project's model endpoint (its managers). Its host must be public,
/// or allow-listed by the administrator (`fetch_allow`), like URL imports.
#[utoipa::path(put, path = "/api/v1/projects/{project_id}/model-endpoint", tag = "red teaming",
    params(("project_id" = i64, Path)), request_body = ModelEndpointRequest,
    responses((status = 200, body = ModelEndpointView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_model_endpoint(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(request): ApiJson<ModelEndpointRequest>,
) -> ApiResult<Json<ModelEndpointView>> {
    let update = ModelEndpointUpdate {
        url: request.url,
        model: request.model,
        api_key: match request.api_key {
            None => KeyChange::Keep,
            Some(None) => KeyChange::Remove,
            Some(Some(key)) => KeyChange::Set(key),
        },
        system_prompt: request.system_prompt,
        temperature: request.temperature,
        max_tokens: request.max_tokens,
    };
    Ok(Json(
        app.engine
            .set_model_endpoint(&actor, ProjectId(project_id), update)
            .await?,
    ))
}

/// Remove the project's model endpoint and its key (its managers).
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/model-endpoint", tag = "red teaming",
    params(("project_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_model_endpoint(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    app.engine
        .delete_model_endpoint(&actor, ProjectId(project_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the task's project has a model endpoint to chat with (anyone who
/// may annotate the task).
#[utoipa::path(get, path = "/api/v1/tasks/{task_id}/chat", tag = "red teaming",
    params(("task_id" = i64, Path)),
    responses((status = 200, body = ChatStatus), (status = 404, body = ErrorBody)))]
async fn chat_status(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
) -> ApiResult<Json<ChatStatus>> {
    Ok(Json(app.engine.chat_status(&actor, TaskId(task_id)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ChatRequest {
    /// The conversation so far, oldest first, ending with the user's new
    /// message; roles `user` and `assistant` (the system prompt is the
    /// project's).
    messages: Vec<ChatTurn>,
}

/// Send the conversation to the project's model endpoint and return its
/// reply (anyone who may annotate the task). 409 `no_model_endpoint` when
/// the project has none; 502 `upstream_failed` when the endpoint fails or
/// answers with an error (`details.upstream_status`).
#[utoipa::path(post, path = "/api/v1/tasks/{task_id}/chat", tag = "red teaming",
    params(("task_id" = i64, Path)), request_body = ChatRequest,
    responses((status = 200, body = ChatReply), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
async fn chat(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
    ApiJson(request): ApiJson<ChatRequest>,
) -> ApiResult<Json<ChatReply>> {
    Ok(Json(
        app.engine
            .chat(&actor, TaskId(task_id), &request.messages)
            .await?,
    ))
}
