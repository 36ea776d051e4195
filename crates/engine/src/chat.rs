//! Red teaming: a project's model endpoint (an OpenAI-compatible chat
//! completions API, with its key kept here and never handed out) and the
//! chat proxy through which annotators talk to it.
//!
//! Calls to the endpoint go through [`gloss_media::Fetcher`], so they obey
//! the address rules of URL imports: loopback, private and metadata addresses
//! are refused, also after a redirect, unless the administrator allow-lists
//! them (`fetch_allow`).

use crate::error::{Error, Result};
use crate::{Actor, Engine};
use gloss_store::ModelEndpointInput;
use gloss_types::{Code, ProjectId, ProjectRole, TaskId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Instant;

pub const MAX_CHAT_MESSAGES: usize = 200;
pub const MAX_MESSAGE_CHARS: usize = 32_000;
const MAX_CHAT_CHARS: usize = 400_000;
const MAX_URL_CHARS: usize = 2_000;
const MAX_MODEL_CHARS: usize = 200;
const MAX_KEY_CHARS: usize = 4_096;
const MAX_SYSTEM_PROMPT_CHARS: usize = 20_000;
pub const MAX_TOKENS_LIMIT: i64 = 1_000_000;
/// The most an endpoint's answer may be.
pub const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;
/// Chats one user may have waiting for a model at once.
pub const MAX_CHATS_IN_FLIGHT: u32 = 3;

/// Chats waiting for a model, per user.
#[derive(Debug, Default)]
pub(crate) struct InFlight(std::sync::Mutex<std::collections::HashMap<Option<UserId>, u32>>);

/// One chat counted in [`InFlight`] until dropped.
struct InFlightGuard<'a> {
    in_flight: &'a InFlight,
    user: Option<UserId>,
}

impl InFlight {
    fn enter(&self, user: Option<UserId>) -> Result<InFlightGuard<'_>> {
        let mut counts = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(user).or_default();
        if *count >= MAX_CHATS_IN_FLIGHT {
            return Err(Error::new(
                Code::TooManyRequests,
                format!(
                    "{MAX_CHATS_IN_FLIGHT} of your chats are already waiting for the model; send again when they are answered"
                ),
            ));
        }
        *count += 1;
        Ok(InFlightGuard {
            in_flight: self,
            user,
        })
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        let mut counts = self
            .in_flight
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = counts.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

/// A project's model endpoint as callers see it: never the key, only
/// whether one is set.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ModelEndpointView {
    /// An OpenAI-compatible base URL (`https://api.example.com/v1`, to which
    /// `/chat/completions` is added) or a full URL ending in `/chat/completions`.
    pub url: String,
    /// The model named in every request.
    pub model: String,
    /// Whether an API key is stored (it is never returned).
    pub key_set: bool,
    /// Sent as the first, `system`, message when not empty.
    pub system_prompt: String,
    pub temperature: Option<f64>,
    pub max_tokens: Option<i64>,
    /// The URL requests go to.
    pub chat_url: String,
    pub updated_at: Timestamp,
}

/// How an endpoint's key changes.
#[derive(Clone, Default)]
pub enum KeyChange {
    /// Keep the stored key (or none).
    #[default]
    Keep,
    Set(String),
    Remove,
}

/// Debug output never shows the key.
impl std::fmt::Debug for KeyChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyChange::Keep => "Keep",
            KeyChange::Set(_) => "Set(***)",
            KeyChange::Remove => "Remove",
        })
    }
}

/// A new or changed model endpoint.
#[derive(Debug, Clone, Default)]
pub struct ModelEndpointUpdate {
    pub url: String,
    pub model: String,
    pub api_key: KeyChange,
    pub system_prompt: String,
    pub temperature: Option<f64>,
    pub max_tokens: Option<i64>,
}

/// What an annotator's screen needs to know before chatting.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChatStatus {
    /// Whether the project has a model endpoint.
    pub configured: bool,
    /// The endpoint's model, when configured.
    pub model: Option<String>,
}

/// One message of the conversation sent to the proxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatTurn {
    /// `user` or `assistant` (the system prompt is the project's).
    pub role: String,
    pub content: String,
}

/// The model's reply.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChatReply {
    pub role: String,
    pub content: String,
    /// The model that answered, as the endpoint names it.
    pub model: String,
    /// The endpoint's token counts, as it sent them (`prompt_tokens`, …).
    #[schema(value_type = Object)]
    pub usage: Value,
    /// Why the model stopped (`stop`, `length`, …), when it says.
    pub finish_reason: Option<String>,
    /// How long the endpoint took, in milliseconds.
    pub latency_ms: u64,
}

/// The URL requests go to: `{url}/chat/completions`, or the URL itself when
/// it already ends in `/chat/completions`.
pub fn chat_url(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    if trimmed.ends_with("/chat/completions") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/chat/completions")
    }
}

fn view(endpoint: gloss_store::ModelEndpoint) -> ModelEndpointView {
    ModelEndpointView {
        chat_url: chat_url(&endpoint.url),
        url: endpoint.url,
        model: endpoint.model,
        key_set: endpoint.api_key.is_some(),
        system_prompt: endpoint.system_prompt,
        temperature: endpoint.temperature,
        max_tokens: endpoint.max_tokens,
        updated_at: endpoint.updated_at,
    }
}

impl Engine {
    /// The fetcher for model endpoints: the import allow-list, a longer
    /// timeout (models are slow) and a smaller size limit.
    fn model_fetcher(&self) -> gloss_media::Fetcher {
        gloss_media::Fetcher::new(gloss_media::FetchPolicy {
            allow: self.config.fetch_allow.clone(),
            max_bytes: MAX_ANSWER_BYTES,
            timeout: self.config.model_timeout,
            max_redirects: 3,
        })
    }

    /// The project's endpoint (managers), `None` when none is set.
    pub async fn model_endpoint(
        &self,
        actor: &Actor,
        project: ProjectId,
    ) -> Result<Option<ModelEndpointView>> {
        self.project_with_role(
            actor,
            project,
            ProjectRole::Manager,
            "see the model endpoint",
        )
        .await?;
        Ok(self.store.model_endpoint(project).await?.map(view))
    }

    /// Sets the project's endpoint (managers). The URL is refused when its
    /// host is an address chats may not reach.
    pub async fn set_model_endpoint(
        &self,
        actor: &Actor,
        project: ProjectId,
        update: ModelEndpointUpdate,
    ) -> Result<ModelEndpointView> {
        self.project_with_role(
            actor,
            project,
            ProjectRole::Manager,
            "change the model endpoint",
        )
        .await?;
        let url = update.url.trim().to_string();
        check_url(&url)?;
        let model = update.model.trim().to_string();
        if model.is_empty() || model.chars().count() > MAX_MODEL_CHARS {
            return Err(Error::invalid(
                "model",
                format!("must be a model name of 1 to {MAX_MODEL_CHARS} characters"),
            ));
        }
        if update.system_prompt.chars().count() > MAX_SYSTEM_PROMPT_CHARS {
            return Err(Error::invalid(
                "system_prompt",
                format!("must be at most {MAX_SYSTEM_PROMPT_CHARS} characters"),
            ));
        }
        if let Some(temperature) = update.temperature {
            if !(0.0..=2.0).contains(&temperature) {
                return Err(Error::invalid(
                    "temperature",
                    "must be a number from 0 to 2",
                ));
            }
        }
        if let Some(tokens) = update.max_tokens {
            if !(1..=MAX_TOKENS_LIMIT).contains(&tokens) {
                return Err(Error::invalid(
                    "max_tokens",
                    format!("must be a whole number from 1 to {MAX_TOKENS_LIMIT}"),
                ));
            }
        }
        let api_key = match update.api_key {
            KeyChange::Keep => None,
            KeyChange::Remove => Some(None),
            KeyChange::Set(key) => {
                let key = key.trim().to_string();
                if key.is_empty()
                    || key.chars().count() > MAX_KEY_CHARS
                    || key.chars().any(|c| c.is_control() || c.is_whitespace())
                {
                    return Err(Error::invalid(
                        "api_key",
                        format!(
                            "must be 1 to {MAX_KEY_CHARS} characters without spaces or control characters"
                        ),
                    ));
                }
                Some(Some(key))
            }
        };
        // A host chats may never reach is refused now rather than at the
        // first chat; a name that does not resolve yet is left for then.
        if let Err(err @ gloss_media::Error::Refused { .. }) =
            self.model_fetcher().check_url(&chat_url(&url)).await
        {
            return Err(Error::invalid("url", err.to_string()));
        }
        let input = ModelEndpointInput {
            url,
            model,
            api_key,
            system_prompt: update.system_prompt,
            temperature: update.temperature,
            max_tokens: update.max_tokens,
            updated_by: actor.user().map(|user| user.id),
        };
        let stored = self.store.set_model_endpoint(project, &input).await?;
        tracing::info!(project = project.0, url = %stored.url, model = %stored.model,
            key_set = stored.api_key.is_some(), "model endpoint set");
        Ok(view(stored))
    }

    /// Removes the project's endpoint (managers); `false` when it had none.
    pub async fn delete_model_endpoint(&self, actor: &Actor, project: ProjectId) -> Result<bool> {
        self.project_with_role(
            actor,
            project,
            ProjectRole::Manager,
            "change the model endpoint",
        )
        .await?;
        Ok(self.store.delete_model_endpoint(project).await?)
    }

    /// Whether the task's project has an endpoint, for anyone who may
    /// annotate the task.
    pub async fn chat_status(&self, actor: &Actor, task: TaskId) -> Result<ChatStatus> {
        let project = self.chat_project(actor, task).await?;
        let endpoint = self.store.model_endpoint(project).await?;
        Ok(ChatStatus {
            configured: endpoint.is_some(),
            model: endpoint.map(|endpoint| endpoint.model),
        })
    }

    /// Sends the conversation to the project's model endpoint and returns
    /// its reply. The caller must be allowed to annotate the task.
    pub async fn chat(&self, actor: &Actor, task: TaskId, turns: &[ChatTurn]) -> Result<ChatReply> {
        let project = self.chat_project(actor, task).await?;
        check_turns(turns)?;
        let endpoint = self.store.model_endpoint(project).await?.ok_or_else(|| {
            Error::new(
                Code::NoModelEndpoint,
                "This project has no model endpoint; a manager can set one in Settings",
            )
        })?;
        let mut messages = Vec::with_capacity(turns.len() + 1);
        if !endpoint.system_prompt.trim().is_empty() {
            messages.push(json!({"role": "system", "content": endpoint.system_prompt}));
        }
        messages.extend(
            turns
                .iter()
                .map(|turn| json!({"role": turn.role, "content": turn.content})),
        );
        let mut body = json!({"model": endpoint.model, "messages": messages, "stream": false});
        if let Some(temperature) = endpoint.temperature {
            body["temperature"] = json!(temperature);
        }
        if let Some(tokens) = endpoint.max_tokens {
            body["max_tokens"] = json!(tokens);
        }
        let _in_flight = self
            .chats_in_flight
            .enter(actor.user().map(|user| user.id))?;
        let key = endpoint.api_key.as_deref();
        // Whatever comes back is shown to the caller: the key is cut out of it.
        let hide = |text: String| match key {
            Some(key) if !key.is_empty() => text.replace(key, "***"),
            _ => text,
        };
        let url = chat_url(&endpoint.url);
        let started = Instant::now();
        let answer = self
            .model_fetcher()
            .post_json(&url, key, serde_json::to_vec(&body).unwrap_or_default())
            .await
            .map_err(|err| {
                tracing::warn!(project = project.0, error = %hide(err.to_string()), "model endpoint failed");
                upstream(hide(format!("the model endpoint failed: {err}")), None)
            })?;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let parsed: Option<Value> = serde_json::from_slice(&answer.body).ok();
        if !(200..300).contains(&answer.status) {
            let said = parsed
                .as_ref()
                .and_then(|value| {
                    value
                        .pointer("/error/message")
                        .or_else(|| value.get("error"))
                        .or_else(|| value.get("message"))
                })
                .map(|value| match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| String::from_utf8_lossy(&answer.body).into_owned());
            let said: String = said.chars().take(500).collect();
            tracing::warn!(
                project = project.0,
                status = answer.status,
                "model endpoint answered with an error"
            );
            return Err(upstream(
                hide(format!(
                    "the model endpoint answered with status {}: {}",
                    answer.status,
                    said.trim()
                )),
                Some(answer.status),
            ));
        }
        let Some(parsed) = parsed else {
            return Err(upstream(
                "the model endpoint's answer is not JSON".into(),
                Some(answer.status),
            ));
        };
        let choice = parsed.pointer("/choices/0");
        let content = choice
            .and_then(|choice| choice.get("message"))
            .and_then(reply_text)
            .ok_or_else(|| {
                upstream(
                    "the model endpoint's answer has no choices[0].message.content".into(),
                    Some(answer.status),
                )
            })?;
        Ok(ChatReply {
            role: "assistant".into(),
            content: hide(content),
            model: parsed
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or(&endpoint.model)
                .to_string(),
            usage: parsed.get("usage").cloned().unwrap_or(Value::Null),
            finish_reason: choice
                .and_then(|choice| choice.get("finish_reason"))
                .and_then(Value::as_str)
                .map(str::to_string),
            latency_ms,
        })
    }

    /// The project of a task the caller may annotate.
    async fn chat_project(&self, actor: &Actor, task: TaskId) -> Result<ProjectId> {
        let project = self
            .task_project(actor, task, ProjectRole::Annotator)
            .await?;
        Ok(project.id)
    }
}

/// A reply's text: `content` as text, or its text parts joined, or, when a
/// model refused without content, its `refusal`.
fn reply_text(message: &Value) -> Option<String> {
    match message.get("content") {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Array(parts)) => Some(
            parts
                .iter()
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect(),
        ),
        _ => message
            .get("refusal")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

fn upstream(message: String, status: Option<u16>) -> Error {
    Error {
        upstream_status: status,
        ..Error::new(Code::UpstreamFailed, message)
    }
}

fn check_url(url: &str) -> Result<()> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(Error::invalid(
            "url",
            format!("must be at most {MAX_URL_CHARS} characters"),
        ));
    }
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    if !matches!(scheme, Some("http" | "https")) {
        return Err(Error::invalid(
            "url",
            "must be an http:// or https:// URL, such as https://api.example.com/v1",
        ));
    }
    let rest = &url[url.find("://").map_or(0, |at| at + 3)..];
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(Error::invalid("url", "has no host"));
    }
    if authority.contains('@') {
        return Err(Error::invalid(
            "url",
            "must not hold credentials; put the key in api_key",
        ));
    }
    Ok(())
}

fn check_turns(turns: &[ChatTurn]) -> Result<()> {
    if turns.is_empty() || turns.len() > MAX_CHAT_MESSAGES {
        return Err(Error::invalid(
            "messages",
            format!("must hold 1 to {MAX_CHAT_MESSAGES} messages"),
        ));
    }
    let mut total = 0;
    for (index, turn) in turns.iter().enumerate() {
        if !matches!(turn.role.as_str(), "user" | "assistant") {
            return Err(Error::invalid(
                &format!("messages[{index}].role"),
                format!(
                    "\"{}\" is not user or assistant (the system prompt is the project's)",
                    turn.role
                ),
            ));
        }
        let chars = turn.content.chars().count();
        if chars > MAX_MESSAGE_CHARS {
            return Err(Error::invalid(
                &format!("messages[{index}].content"),
                format!("must be at most {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        total += chars;
    }
    if total > MAX_CHAT_CHARS {
        return Err(Error::invalid(
            "messages",
            format!("the conversation must be at most {MAX_CHAT_CHARS} characters"),
        ));
    }
    let last = &turns[turns.len() - 1];
    if last.role != "user" || last.content.trim().is_empty() {
        return Err(Error::invalid(
            &format!("messages[{}]", turns.len() - 1),
            "the last message must be the user's, with text",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_out_of_debug_output() {
        let update = ModelEndpointUpdate {
            api_key: KeyChange::Set("sk-secret".into()),
            ..ModelEndpointUpdate::default()
        };
        assert!(!format!("{update:?}").contains("sk-secret"));
    }

    #[test]
    fn chat_urls_take_a_base_or_the_full_url() {
        assert_eq!(
            chat_url("https://api.example.com/v1"),
            "https://api.example.com/v1/chat/completions"
        );
        assert_eq!(
            chat_url("https://api.example.com/v1/"),
            "https://api.example.com/v1/chat/completions"
        );
        assert_eq!(
            chat_url("http://127.0.0.1:8000/v1/chat/completions"),
            "http://127.0.0.1:8000/v1/chat/completions"
        );
    }

    #[test]
    fn replies_are_text_parts_or_a_refusal() {
        assert_eq!(reply_text(&json!({"content": "hi"})).as_deref(), Some("hi"));
        assert_eq!(
            reply_text(
                &json!({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]})
            )
            .as_deref(),
            Some("ab")
        );
        assert_eq!(
            reply_text(&json!({"content": null, "refusal": "I can't help with that."})).as_deref(),
            Some("I can't help with that.")
        );
        assert_eq!(reply_text(&json!({"content": null})), None);
    }

    #[test]
    fn urls_and_turns_are_checked() {
        assert!(check_url("https://api.example.com/v1").is_ok());
        for bad in [
            "ftp://x/v1",
            "api.example.com",
            "https://",
            "https://u:p@host/v1",
        ] {
            assert_eq!(
                check_url(bad).unwrap_err().field.as_deref(),
                Some("url"),
                "{bad}"
            );
        }
        let turn = |role: &str, content: &str| ChatTurn {
            role: role.into(),
            content: content.into(),
        };
        assert!(check_turns(&[turn("user", "hi")]).is_ok());
        assert_eq!(
            check_turns(&[turn("system", "x"), turn("user", "hi")])
                .unwrap_err()
                .field
                .as_deref(),
            Some("messages[0].role")
        );
        assert_eq!(
            check_turns(&[turn("user", "hi"), turn("assistant", "yo")])
                .unwrap_err()
                .field
                .as_deref(),
            Some("messages[1]")
        );
        assert!(check_turns(&[]).is_err());
    }
}
