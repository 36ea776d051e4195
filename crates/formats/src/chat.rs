//! `chat-jsonl`: red-teaming conversations, one JSON line per annotation, in
//! the chat layout most tools read (OpenAI's and Hugging Face's `messages`):
//!
//! ```json
//! {"messages": [{"role": "user", "content": "…"},
//!               {"role": "assistant", "content": "…", "model": "…",
//!                "labels": {"harm": ["Violence"], "severity": 3}}],
//!  "labels": {"notes": ["…"]}, "task_id": 1, "annotation_id": 7,
//!  "task_messages": 0, "annotator": "ann", "model": "…",
//!  "created_at": "…", "updated_at": "…"}
//! ```
//!
//! The messages are the task's first messages (the `<Chat>`'s data field;
//! `task_messages` says how many) followed by the annotation's
//! `chatmessage` results in order; each
//! message's `labels` are the results of `perRegion` controls with its id,
//! by control name; the line's `labels` are the other results on the chat.

use crate::timestamp::millis_text;
use crate::write::ExportTask;
use gloss_types::result::{ResultItem, ResultValue};
use serde::Serialize;
use serde_json::{Map, Value};
use std::io::{self, Write};

/// Which `<Chat>` an export reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatOptions {
    /// The `<Chat>`'s name (its messages' `from_name`).
    pub chat: String,
    /// The task data field with the conversation's first messages.
    pub messages_field: String,
}

/// What a chat export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChatSummary {
    /// Lines written: one per annotation that is not cancelled.
    pub conversations: u64,
    /// Messages in them.
    pub messages: u64,
}

/// Writes `chat-jsonl` as tasks come.
pub struct ChatWriter<W: Write> {
    out: W,
    options: ChatOptions,
    summary: ChatSummary,
}

impl<W: Write> ChatWriter<W> {
    pub fn new(out: W, options: ChatOptions) -> Self {
        ChatWriter {
            out,
            options,
            summary: ChatSummary::default(),
        }
    }

    /// Writes a line for each of the task's annotations (cancelled ones left out).
    pub fn write_task(&mut self, task: &ExportTask) -> io::Result<()> {
        let seed = seed_messages(task.data.get(&self.options.messages_field));
        for annotation in &task.annotations {
            let record = &annotation.record;
            if record.was_cancelled {
                continue;
            }
            let conversation = conversation(&self.options.chat, &seed, &record.result);
            self.summary.messages += conversation.messages.len() as u64;
            let line = Line {
                messages: conversation.messages,
                labels: conversation.labels,
                task_id: task.id,
                annotation_id: annotation.id,
                task_messages: seed.len(),
                annotator: annotator(record.completed_by.as_ref()),
                model: conversation.model,
                created_at: time_value(record.created_at),
                updated_at: time_value(record.updated_at),
            };
            serde_json::to_writer(&mut self.out, &line)?;
            self.out.write_all(b"\n")?;
            self.summary.conversations += 1;
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<(W, ChatSummary)> {
        self.out.flush()?;
        Ok((self.out, self.summary))
    }
}

/// One line, its keys in this order.
#[derive(Serialize)]
struct Line {
    messages: Vec<Message>,
    labels: Map<String, Value>,
    task_id: i64,
    annotation_id: i64,
    /// How many of the messages are the task's (the rest are the annotation's).
    task_messages: usize,
    annotator: Value,
    model: Option<String>,
    created_at: Value,
    updated_at: Value,
}

/// One message: role and content first, then what else it carries.
#[derive(Serialize)]
struct Message {
    role: String,
    content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Map<String, Value>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

struct Conversation {
    messages: Vec<Message>,
    labels: Map<String, Value>,
    /// The model of the first reply that names one.
    model: Option<String>,
}

/// The task's first messages: a list of `{role, content}` objects (other
/// keys kept), or nothing.
fn seed_messages(value: Option<&Value>) -> Vec<Message> {
    let items = match value {
        Some(Value::Array(items)) => items,
        // One string is one user message.
        Some(Value::String(content)) if !content.is_empty() => {
            return vec![Message {
                role: "user".to_owned(),
                content: content.clone(),
                labels: None,
                extra: Map::new(),
            }]
        }
        _ => return Vec::new(),
    };
    items
        .iter()
        .filter_map(|item| {
            let mut extra = item.as_object()?.clone();
            let role = extra.remove("role")?.as_str()?.to_owned();
            let content = extra.remove("content")?.as_str()?.to_owned();
            extra.remove("labels");
            Some(Message {
                role,
                content,
                labels: None,
                extra,
            })
        })
        .collect()
}

fn conversation(chat: &str, seed: &[Message], results: &[ResultItem]) -> Conversation {
    let mut messages: Vec<Message> = seed
        .iter()
        .map(|message| Message {
            role: message.role.clone(),
            content: message.content.clone(),
            labels: None,
            extra: message.extra.clone(),
        })
        .collect();
    let mut ids: Vec<Option<&str>> = vec![None; seed.len()];
    let mut model = None;
    for item in results {
        let ResultValue::ChatMessage(message) = &item.value else {
            continue;
        };
        if item.from_name != chat {
            continue;
        }
        let chat_message = &message.chatmessage;
        let mut extra = chat_message.extra.clone();
        extra.remove("labels");
        if model.is_none() && chat_message.role == "assistant" {
            model = chat_message
                .extra
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        messages.push(Message {
            role: chat_message.role.clone(),
            content: chat_message.content.clone(),
            labels: None,
            extra,
        });
        ids.push(item.id.as_deref());
    }
    let mut labels = Map::new();
    for item in results {
        if matches!(
            item.value,
            ResultValue::ChatMessage(_) | ResultValue::Relation(_)
        ) || item.to_name != chat
        {
            continue;
        }
        let value = label_value(&item.value);
        let at = item
            .id
            .as_deref()
            .and_then(|id| ids.iter().position(|known| *known == Some(id)));
        let target = match at {
            Some(index) => messages[index].labels.get_or_insert_with(Map::new),
            None => &mut labels,
        };
        target.insert(item.from_name.clone(), value);
    }
    Conversation {
        messages,
        labels,
        model,
    }
}

/// A label's plain value: the choices, the rating, the number, the texts,
/// the taxonomy paths, or the result's whole value for other types.
fn label_value(value: &ResultValue) -> Value {
    let key = match value {
        ResultValue::Choices(_) => "choices",
        ResultValue::Rating(_) => "rating",
        ResultValue::Number(_) => "number",
        ResultValue::TextArea(_) => "text",
        ResultValue::Taxonomy(_) => "taxonomy",
        other => return other.to_json(),
    };
    // Through the value's JSON, so that a rating of 3 is written `3`.
    value.to_json().get(key).cloned().unwrap_or(Value::Null)
}

fn time_value(millis: Option<i64>) -> Value {
    millis
        .and_then(millis_text)
        .map_or(Value::Null, |text| text.as_str().to_owned().into())
}

/// The annotator's username when known, else the id as stored.
fn annotator(completed_by: Option<&Value>) -> Value {
    match completed_by {
        Some(Value::Object(person)) => person
            .get("username")
            .or_else(|| person.get("email"))
            .or_else(|| person.get("id"))
            .cloned()
            .unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    }
}
