//! LLM feedback and red-teaming chats in: `preference-jsonl`,
//! `ranking-jsonl` and `chat-jsonl`, the three layouts the exports write
//! ([`crate::LlmWriter`], [`crate::ChatWriter`]), read back as tasks with
//! annotations.
//!
//! - `preference-jsonl` (TRL's `prompt`, `chosen`, `rejected`, strings or
//!   chat messages; also the implicit-prompt form, where `chosen` and
//!   `rejected` are whole conversations sharing the prompt's messages):
//!   lines with the same prompt and the same two responses are one task,
//!   each line one annotation. With a `Pairwise`, the first task of a file
//!   shows its first line's chosen response on the left, the next task on
//!   the right, and so on, so that a side says nothing of which response
//!   won; the annotation selects the chosen side (with the line's
//!   `strength`). With a `List` and a `Ranker`, the two responses are the
//!   list's items (ids `a` and `b`, in the same alternating order) and the
//!   annotation ranks the chosen first (with buckets: the chosen in the
//!   first bucket, the rejected in the second).
//! - `ranking-jsonl`: lines with the same `task_id`, prompt and responses
//!   are one task, each line one annotation whose `ranking`, `buckets`,
//!   `pairwise`, `ratings`, `choices`, `rationale` and `rewrites` become the
//!   results of the controls they name.
//! - `chat-jsonl`: the first `task_messages` messages (0 when absent) are the
//!   task's, in the `<Chat>`'s data field; the others are the annotation's
//!   `chatmessage` results, their `labels` the results of the per-message
//!   controls, the line's `labels` results on the whole chat. Lines with the
//!   same `task_id` and task messages are one task.
//!
//! `annotator` becomes the annotation's `completed_by` (and a chat's
//! `created_at` and `updated_at` its times). A line that is not
//! a JSON object, or names a control or response the project does not have,
//! is rejected with its line number and the field.

use std::collections::HashMap;
use std::io::BufRead;

use gloss_types::result::ResultItem;
use serde_json::{json, Map, Value};

use crate::llm::{LlmOptions, Responses, RewriteTarget};
use crate::model::{AnnotationRecord, FormatError, Rejection, TaskRecord};

/// A control of the project that imported results may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportControl {
    /// Its `name` (the results' `from_name`).
    pub name: String,
    /// The result `type` it makes, e.g. `"rating"`.
    pub result_type: String,
    /// The object it labels (its first `toName`).
    pub to_name: String,
    /// Whether it labels single items (`perItem` on a `List`, `perRegion` on
    /// a `Chat`) rather than the whole object.
    pub per_item: bool,
}

/// What the LLM imports fill: the export's options and the controls.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LlmImportOptions {
    /// The prompt's data key, the responses, rankers and rewrites.
    pub llm: LlmOptions,
    /// Whether the prompt is shown by a `<Chat>` (which takes a list of
    /// messages) rather than a `<Text>` (which takes a string).
    pub prompt_is_chat: bool,
    /// Every control on the prompt and the responses.
    pub controls: Vec<ImportControl>,
}

/// Where `chat-jsonl` conversations go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatImportOptions {
    /// The `<Chat>`'s name.
    pub chat: String,
    /// Its data field, which gets the task's messages.
    pub messages_field: String,
    /// The controls on the chat.
    pub controls: Vec<ImportControl>,
}

/// Tasks being gathered: one per distinct key, in order of first sight.
#[derive(Default)]
struct Gathered {
    tasks: Vec<TaskRecord>,
    by_key: HashMap<String, usize>,
}

impl Gathered {
    /// The task for `key`, made by `make` (given the task's position) if new.
    fn task(&mut self, key: String, make: impl FnOnce(usize) -> TaskRecord) -> &mut TaskRecord {
        let next = self.tasks.len();
        let at = *self.by_key.entry(key).or_insert(next);
        if at == next {
            self.tasks.push(make(next));
        }
        &mut self.tasks[at]
    }
}

/// Each non-blank line of `input` as a JSON object, with its 1-based line
/// number; lines that are not objects are rejected.
fn for_each_object(
    input: impl BufRead,
    rejections: &mut Vec<Rejection>,
    mut each: impl FnMut(u64, Map<String, Value>) -> Result<(), Rejection>,
) -> Result<(), FormatError> {
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        let row = index as u64 + 1;
        let text = line.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => {
                if let Err(rejection) = each(row, object) {
                    rejections.push(rejection);
                }
            }
            Ok(other) => rejections.push(Rejection::new(
                row,
                "",
                format!(
                    "a line must be a JSON object, not {}",
                    crate::json_kind(&other)
                ),
            )),
            Err(err) => rejections.push(Rejection::new(row, "", format!("not JSON: {err}"))),
        }
    }
    Ok(())
}

/// Reads `preference-jsonl`; see the [module](self).
pub fn read_preference<R: BufRead>(
    input: R,
    options: &LlmImportOptions,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let mut gathered = Gathered::default();
    let mut rejections = Vec::new();
    for_each_object(input, &mut rejections, |row, line| {
        let pair = preference_line(row, &line)?;
        let key = serde_json::to_string(&json!([
            pair.prompt,
            pair.chosen.clone().min(pair.rejected.clone()),
            pair.chosen.clone().max(pair.rejected.clone()),
        ]))
        .unwrap_or_default();
        let task = gathered.task(key, |position| {
            // Alternate sides, so that the left one is not always the winner.
            let (first, second) = if position % 2 == 0 {
                (&pair.chosen, &pair.rejected)
            } else {
                (&pair.rejected, &pair.chosen)
            };
            let mut data = Map::new();
            put_prompt(&mut data, options, &pair.prompt);
            put_responses(&mut data, options, &[("a", first), ("b", second)]);
            TaskRecord {
                data,
                ..TaskRecord::default()
            }
        });
        let chosen_first = response_texts(&task.data, options).first() == Some(&pair.chosen);
        let result = preference_result(row, options, chosen_first, pair.strength)?;
        task.annotations.push(annotation_of(&line, vec![result]));
        Ok(())
    })?;
    Ok((gathered.tasks, rejections))
}

/// One preference line's parts.
struct PreferencePair {
    prompt: Value,
    chosen: String,
    rejected: String,
    strength: Option<f64>,
}

fn preference_line(row: u64, line: &Map<String, Value>) -> Result<PreferencePair, Rejection> {
    let missing = |field: &str| {
        Rejection::new(
            row,
            field,
            "is missing; a preference line has chosen and rejected responses",
        )
    };
    let chosen = line.get("chosen").ok_or_else(|| missing("chosen"))?;
    let rejected = line.get("rejected").ok_or_else(|| missing("rejected"))?;
    let mut prompt = line.get("prompt").cloned().unwrap_or(Value::Null);
    // The implicit-prompt form: both sides are whole conversations, and the
    // messages they share are the prompt.
    if prompt.is_null() {
        if let (Some(a), Some(b)) = (chosen.as_array(), rejected.as_array()) {
            let shared = a.iter().zip(b).take_while(|(x, y)| x == y).count();
            let shared = shared
                .min(a.len().saturating_sub(1))
                .min(b.len().saturating_sub(1));
            prompt = Value::Array(a[..shared].to_vec());
            return Ok(PreferencePair {
                prompt,
                chosen: response_text(row, "chosen", &Value::Array(a[shared..].to_vec()))?,
                rejected: response_text(row, "rejected", &Value::Array(b[shared..].to_vec()))?,
                strength: strength(row, line)?,
            });
        }
    }
    Ok(PreferencePair {
        prompt,
        chosen: response_text(row, "chosen", chosen)?,
        rejected: response_text(row, "rejected", rejected)?,
        strength: strength(row, line)?,
    })
}

fn strength(row: u64, line: &Map<String, Value>) -> Result<Option<f64>, Rejection> {
    match line.get("strength") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(Rejection::new(row, "strength", "must be a number or null")),
    }
}

/// A response: a string, or chat messages whose last assistant message is
/// the response (the last message when none is the assistant's).
fn response_text(row: u64, field: &str, value: &Value) -> Result<String, Rejection> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Array(messages) => messages
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
            .or_else(|| messages.last())
            .and_then(|m| m.get("content"))
            .map(content_text)
            .ok_or_else(|| {
                Rejection::new(
                    row,
                    field,
                    "a list of messages needs a message with content",
                )
            }),
        other => Err(Rejection::new(
            row,
            field,
            format!(
                "must be a string or a list of messages, not {}",
                crate::json_kind(other)
            ),
        )),
    }
}

/// A message's content: a string, or OpenAI's list of parts (their texts joined).
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str).or_else(|| p.as_str()))
            .collect::<Vec<_>>()
            .join(""),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Puts the prompt in the prompt's data field: messages for a `<Chat>`, a
/// string for a `<Text>` (messages written one per paragraph, `role:
/// content`).
fn put_prompt(data: &mut Map<String, Value>, options: &LlmImportOptions, prompt: &Value) {
    let Some(key) = &options.llm.prompt else {
        return;
    };
    let value = match prompt {
        Value::Null => return,
        Value::Array(messages) if !options.prompt_is_chat => Value::String(
            messages
                .iter()
                .map(|m| {
                    let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
                    format!(
                        "{role}: {}",
                        content_text(m.get("content").unwrap_or(&Value::Null))
                    )
                })
                .collect::<Vec<_>>()
                .join("\n\n"),
        ),
        other => other.clone(),
    };
    data.insert(key.clone(), value);
}

/// Puts the responses (id, text) where the project shows them: the pair's
/// two data fields, or the list's items.
fn put_responses(
    data: &mut Map<String, Value>,
    options: &LlmImportOptions,
    responses: &[(&str, &String)],
) {
    match &options.llm.responses {
        Some(Responses::Pair { left, right, .. }) => {
            for ((_, key), (_, text)) in [left, right].into_iter().zip(responses) {
                data.insert(key.clone(), Value::String((*text).clone()));
            }
        }
        Some(Responses::List { key, .. }) => {
            let items = responses
                .iter()
                .map(|(id, text)| json!({"id": id, "body": text}))
                .collect();
            data.insert(key.clone(), Value::Array(items));
        }
        None => {}
    }
}

/// The texts of a task's responses, in order.
fn response_texts(data: &Map<String, Value>, options: &LlmImportOptions) -> Vec<String> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    match &options.llm.responses {
        Some(Responses::Pair { left, right, .. }) => {
            vec![text(data.get(&left.1)), text(data.get(&right.1))]
        }
        Some(Responses::List { key, .. }) => data
            .get(key)
            .and_then(Value::as_array)
            .map(|items| items.iter().map(|i| text(i.get("body"))).collect())
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

/// The result saying the chosen response (first or second) won.
fn preference_result(
    row: u64,
    options: &LlmImportOptions,
    chosen_first: bool,
    strength: Option<f64>,
) -> Result<ResultItem, Rejection> {
    let (winner, loser) = if chosen_first { ("a", "b") } else { ("b", "a") };
    let value = match &options.llm.responses {
        Some(Responses::Pair { control, left, .. }) => json!({
            "from_name": control, "to_name": left.0, "type": "pairwise",
            "value": {"selected": if chosen_first { "left" } else { "right" }, "strength": strength},
        }),
        Some(Responses::List { object, .. }) => {
            let Some((ranker, buckets)) = options.llm.rankers.first() else {
                return Err(Rejection::new(
                    row,
                    "",
                    "the label config has no <Ranker> on the list of responses",
                ));
            };
            let columns = match buckets.as_slice() {
                [] => json!({ranker.as_str(): [winner, loser]}),
                [best, next, ..] => json!({best.as_str(): [winner], next.as_str(): [loser]}),
                [_] => {
                    return Err(Rejection::new(
                        row,
                        "",
                        format!("ranker \"{ranker}\" has one bucket; a preference needs two"),
                    ))
                }
            };
            json!({"from_name": ranker, "to_name": object, "type": "ranker", "value": {"ranker": columns}})
        }
        None => {
            return Err(Rejection::new(
                row,
                "",
                "the label config shows no responses",
            ))
        }
    };
    let mut value = value;
    if let Some(map) = value.pointer_mut("/value").and_then(Value::as_object_mut) {
        map.retain(|_, v| !v.is_null());
    }
    result_item(row, "", value)
}

/// A line's annotation: its results, by its `annotator`.
fn annotation_of(line: &Map<String, Value>, result: Vec<ResultItem>) -> AnnotationRecord {
    AnnotationRecord {
        result,
        completed_by: line.get("annotator").filter(|v| !v.is_null()).cloned(),
        ..AnnotationRecord::default()
    }
}

fn result_item(row: u64, field: &str, value: Value) -> Result<ResultItem, Rejection> {
    serde_json::from_value(value).map_err(|err| Rejection::new(row, field, err.to_string()))
}

/// Reads `ranking-jsonl`; see the [module](self).
pub fn read_ranking<R: BufRead>(
    input: R,
    options: &LlmImportOptions,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let mut gathered = Gathered::default();
    let mut rejections = Vec::new();
    for_each_object(input, &mut rejections, |row, line| {
        let responses = ranking_responses(row, &line, options)?;
        let prompt = line.get("prompt").cloned().unwrap_or(Value::Null);
        let result = ranking_results(row, &line, options, &responses)?;
        let key =
            serde_json::to_string(&json!([line.get("task_id"), prompt, line.get("responses")]))
                .unwrap_or_default();
        let task = gathered.task(key, |_| {
            let mut data = Map::new();
            put_prompt(&mut data, options, &prompt);
            let pairs: Vec<(&str, &String)> = responses
                .iter()
                .map(|(id, text)| (id.as_str(), text))
                .collect();
            put_responses(&mut data, options, &pairs);
            TaskRecord {
                data,
                ..TaskRecord::default()
            }
        });
        task.annotations.push(annotation_of(&line, result));
        Ok(())
    })?;
    Ok((gathered.tasks, rejections))
}

/// A ranking line's responses, `(id, text)`: two for a pair (in the pair's
/// order when their ids are its objects' names), any number for a list.
fn ranking_responses(
    row: u64,
    line: &Map<String, Value>,
    options: &LlmImportOptions,
) -> Result<Vec<(String, String)>, Rejection> {
    let Some(Value::Array(items)) = line.get("responses") else {
        return Err(Rejection::new(
            row,
            "responses",
            "must be a list of {id, text} responses",
        ));
    };
    let mut responses = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let field = format!("responses[{index}]");
        let (id, text) = match item {
            Value::String(text) => (index.to_string(), text.clone()),
            Value::Object(map) => {
                let id = match map.get("id") {
                    Some(Value::String(id)) => id.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => index.to_string(),
                };
                let text = map
                    .get("text")
                    .or_else(|| map.get("body"))
                    .map(content_text);
                (
                    id,
                    text.ok_or_else(|| Rejection::new(row, format!("{field}.text"), "is missing"))?,
                )
            }
            other => {
                return Err(Rejection::new(
                    row,
                    field,
                    format!(
                        "must be {{id, text}} or a string, not {}",
                        crate::json_kind(other)
                    ),
                ))
            }
        };
        if responses.iter().any(|(known, _)| known == &id) {
            return Err(Rejection::new(
                row,
                format!("{field}.id"),
                format!("\"{id}\" is used twice"),
            ));
        }
        responses.push((id, text));
    }
    if let Some(Responses::Pair { left, right, .. }) = &options.llm.responses {
        if responses.len() != 2 {
            return Err(Rejection::new(
                row,
                "responses",
                format!(
                    "the project compares two responses, and this line has {}",
                    responses.len()
                ),
            ));
        }
        if responses[0].0 == right.0 && responses[1].0 == left.0 {
            responses.swap(0, 1);
        }
    }
    Ok(responses)
}

/// Where a result on one response goes: the pair's object, or the list's
/// item index.
enum Target<'a> {
    Object(&'a str),
    Item(&'a str, usize),
}

/// The results of a ranking line.
fn ranking_results(
    row: u64,
    line: &Map<String, Value>,
    options: &LlmImportOptions,
    responses: &[(String, String)],
) -> Result<Vec<ResultItem>, Rejection> {
    let control = |field: &str, name: &str| {
        options
            .controls
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                Rejection::new(
                    row,
                    field,
                    format!("the label config has no control \"{name}\""),
                )
            })
    };
    let position = |field: &str, id: &str| {
        responses
            .iter()
            .position(|(known, _)| known == id)
            .ok_or_else(|| {
                Rejection::new(
                    row,
                    field,
                    format!("names response \"{id}\", which the line does not have"),
                )
            })
    };
    let target = |field: &str, id: &str| -> Result<Target, Rejection> {
        let at = position(field, id)?;
        Ok(match &options.llm.responses {
            Some(Responses::Pair { left, right, .. }) => Target::Object(if at == 0 {
                left.0.as_str()
            } else {
                right.0.as_str()
            }),
            Some(Responses::List { object, .. }) => Target::Item(object, at),
            None => Target::Object(""),
        })
    };
    let check_ids = |field: &str, ids: &Value| -> Result<(), Rejection> {
        let list = ids
            .as_array()
            .ok_or_else(|| Rejection::new(row, field, "must be a list of response ids"))?;
        for (index, id) in list.iter().enumerate() {
            let field = format!("{field}[{index}]");
            let id = id
                .as_str()
                .ok_or_else(|| Rejection::new(row, &field, "must be a response id"))?;
            position(&field, id)?;
        }
        Ok(())
    };
    let list_object = match &options.llm.responses {
        Some(Responses::List { object, .. }) => Some(object.as_str()),
        _ => None,
    };
    let mut results = Vec::new();
    if let Some(ranking) = line.get("ranking").filter(|v| !v.is_null()) {
        check_ids("ranking", ranking)?;
        let (Some((ranker, _)), Some(object)) = (
            options
                .llm
                .rankers
                .iter()
                .find(|(_, buckets)| buckets.is_empty()),
            list_object,
        ) else {
            return Err(Rejection::new(
                row,
                "ranking",
                "the label config has no <Ranker> without buckets on a <List>",
            ));
        };
        results.push(result_item(
            row,
            "ranking",
            json!({
                "from_name": ranker, "to_name": object, "type": "ranker",
                "value": {"ranker": {ranker.as_str(): ranking}},
            }),
        )?);
    }
    if let Some(buckets) = line.get("buckets").filter(|v| !v.is_null()) {
        let columns = buckets.as_object().ok_or_else(|| {
            Rejection::new(row, "buckets", "must map bucket names to response ids")
        })?;
        let ranker = options.llm.rankers.iter().find(|(_, names)| {
            !names.is_empty() && columns.keys().all(|k| k == "_" || names.contains(k))
        });
        let (Some((ranker, _)), Some(object)) = (ranker, list_object) else {
            return Err(Rejection::new(
                row,
                "buckets",
                "the label config has no <Ranker> with these buckets on a <List>",
            ));
        };
        for (name, ids) in columns {
            check_ids(&format!("buckets.{name}"), ids)?;
        }
        results.push(result_item(row, "buckets", json!({
            "from_name": ranker, "to_name": object, "type": "ranker", "value": {"ranker": columns},
        }))?);
    }
    if let Some(pairwise) = line.get("pairwise").filter(|v| !v.is_null()) {
        let map = pairwise.as_object().ok_or_else(|| {
            Rejection::new(row, "pairwise", "must map a Pairwise control to its choice")
        })?;
        for (name, value) in map {
            let field = format!("pairwise.{name}");
            let Some(Responses::Pair {
                control: pair,
                left,
                ..
            }) = &options.llm.responses
            else {
                return Err(Rejection::new(
                    row,
                    field,
                    "the label config has no <Pairwise>",
                ));
            };
            if name != pair {
                return Err(Rejection::new(
                    row,
                    field,
                    format!("the label config's <Pairwise> is \"{pair}\""),
                ));
            }
            let mut value = value.clone();
            if let Some(map) = value.as_object_mut() {
                map.retain(|_, v| !v.is_null());
            }
            results.push(result_item(
                row,
                &field,
                json!({
                    "from_name": name, "to_name": left.0, "type": "pairwise", "value": value,
                }),
            )?);
        }
    }
    for group in ["ratings", "choices", "rationale"] {
        let Some(entries) = line.get(group).filter(|v| !v.is_null()) else {
            continue;
        };
        let entries = entries
            .as_object()
            .ok_or_else(|| Rejection::new(row, group, "must map control names to values"))?;
        for (name, value) in entries {
            let field = format!("{group}.{name}");
            let control = control(&field, name)?;
            // Per response: an object of response id → value.
            let per_response = match value {
                Value::Object(map) if group != "rationale" => Some(map),
                _ => None,
            };
            match per_response {
                Some(map) => {
                    for (id, value) in map {
                        let field = format!("{field}.{id}");
                        let target = target(&field, id)?;
                        results.push(control_result(row, &field, control, Some(&target), value)?);
                    }
                }
                None => results.push(control_result(row, &field, control, None, value)?),
            }
        }
    }
    if let Some(rewrites) = line.get("rewrites").filter(|v| !v.is_null()) {
        let map = rewrites.as_object().ok_or_else(|| {
            Rejection::new(row, "rewrites", "must map response ids to rewritten texts")
        })?;
        for (id, text) in map {
            let field = format!("rewrites.{id}");
            let target = target(&field, id)?;
            let rewrite = options
                .llm
                .rewrites
                .iter()
                .find(|(_, on)| match (on, &target) {
                    (RewriteTarget::Object(name), Target::Object(object)) => name == object,
                    (RewriteTarget::ListItems, Target::Item(..)) => true,
                    _ => false,
                });
            let Some((name, _)) = rewrite else {
                return Err(Rejection::new(
                    row,
                    field,
                    "the label config has no TextArea that rewrites this response",
                ));
            };
            let control = control(&field, name)?;
            results.push(control_result(row, &field, control, Some(&target), text)?);
        }
    }
    Ok(results)
}

/// A control's result from the plain value an export wrote for it.
fn control_result(
    row: u64,
    field: &str,
    control: &ImportControl,
    target: Option<&Target>,
    value: &Value,
) -> Result<ResultItem, Rejection> {
    let mut item = json!({
        "from_name": control.name,
        "to_name": control.to_name,
        "type": control.result_type,
        "value": result_value(row, field, &control.result_type, value)?,
    });
    match target {
        Some(Target::Object(object)) => item["to_name"] = json!(object),
        Some(Target::Item(object, index)) => {
            item["to_name"] = json!(object);
            item["item_index"] = json!(index);
        }
        None => {}
    }
    result_item(row, field, item)
}

/// A result's `value` from the plain value the exports write: a list of
/// choices (or one), a rating, a number, a text (or list of texts),
/// taxonomy paths, or for other types the whole value object.
fn result_value(
    row: u64,
    field: &str,
    result_type: &str,
    value: &Value,
) -> Result<Value, Rejection> {
    let wrong = |what: &str| {
        Rejection::new(
            row,
            field,
            format!(
                "a {result_type} value must be {what}, not {}",
                crate::json_kind(value)
            ),
        )
    };
    Ok(match (result_type, value) {
        ("choices", Value::String(_)) => json!({"choices": [value]}),
        ("choices", Value::Array(_)) => json!({"choices": value}),
        ("choices", _) => return Err(wrong("a list of choices")),
        ("rating", Value::Number(_)) => json!({"rating": value}),
        ("rating", _) => return Err(wrong("a number")),
        ("number", Value::Number(_)) => json!({"number": value}),
        ("number", _) => return Err(wrong("a number")),
        ("textarea", Value::String(_)) => json!({"text": [value]}),
        ("textarea", Value::Array(_)) => json!({"text": value}),
        ("textarea", _) => return Err(wrong("a text")),
        ("taxonomy", Value::Array(_)) => json!({"taxonomy": value}),
        ("taxonomy", _) => return Err(wrong("a list of paths")),
        (_, Value::Object(_)) => value.clone(),
        _ => return Err(wrong("an object")),
    })
}

/// Reads `chat-jsonl`; see the [module](self).
pub fn read_chats<R: BufRead>(
    input: R,
    options: &ChatImportOptions,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let mut gathered = Gathered::default();
    let mut rejections = Vec::new();
    for_each_object(input, &mut rejections, |row, line| {
        let Some(Value::Array(messages)) = line.get("messages") else {
            return Err(Rejection::new(
                row,
                "messages",
                "must be a list of {role, content} messages",
            ));
        };
        let from_task = match line.get("task_messages") {
            None | Some(Value::Null) => 0,
            Some(value) => value
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n <= messages.len())
                .ok_or_else(|| {
                    Rejection::new(
                        row,
                        "task_messages",
                        format!("must be a count from 0 to {}", messages.len()),
                    )
                })?,
        };
        let mut seed = Vec::with_capacity(from_task);
        let mut result = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            let field = format!("messages[{index}]");
            let Some(map) = message.as_object() else {
                return Err(Rejection::new(
                    row,
                    field,
                    "must be a {role, content} object",
                ));
            };
            let mut body = map.clone();
            let labels = body.remove("labels").filter(|v| !v.is_null());
            let role_ok = body.get("role").is_some_and(Value::is_string);
            if !role_ok {
                return Err(Rejection::new(
                    row,
                    format!("{field}.role"),
                    "must be a string",
                ));
            }
            if let Some(content) = body.get("content") {
                let text = content_text(content);
                body.insert("content".into(), Value::String(text));
            } else {
                return Err(Rejection::new(
                    row,
                    format!("{field}.content"),
                    "is missing",
                ));
            }
            if index < from_task {
                if labels.is_some() {
                    return Err(Rejection::new(
                        row,
                        format!("{field}.labels"),
                        "a message of the task (before task_messages) cannot carry labels",
                    ));
                }
                seed.push(Value::Object(body));
                continue;
            }
            let id = format!("m{}", index - from_task + 1);
            result.push(result_item(
                row,
                &field,
                json!({
                    "id": id, "from_name": options.chat, "to_name": options.chat,
                    "type": "chatmessage", "value": {"chatmessage": body},
                }),
            )?);
            for (name, value) in labels_of(row, &format!("{field}.labels"), labels.as_ref())? {
                let field = format!("{field}.labels.{name}");
                let control = chat_control(row, &field, options, name, true)?;
                let mut item = control_result(row, &field, control, None, value)?;
                item.id = Some(id.clone());
                result.push(item);
            }
        }
        for (name, value) in labels_of(row, "labels", line.get("labels"))? {
            let field = format!("labels.{name}");
            let control = chat_control(row, &field, options, name, false)?;
            result.push(control_result(row, &field, control, None, value)?);
        }
        let key = match line.get("task_id") {
            Some(id) if !id.is_null() => {
                serde_json::to_string(&json!([id, seed])).unwrap_or_default()
            }
            _ => format!("line {row}"),
        };
        let task = gathered.task(key, |_| {
            let mut data = Map::new();
            data.insert(options.messages_field.clone(), Value::Array(seed.clone()));
            TaskRecord {
                data,
                ..TaskRecord::default()
            }
        });
        let time = |key: &str| {
            line.get(key)
                .and_then(Value::as_str)
                .and_then(crate::timestamp::parse_millis)
        };
        task.annotations.push(AnnotationRecord {
            created_at: time("created_at"),
            updated_at: time("updated_at"),
            ..annotation_of(&line, result)
        });
        Ok(())
    })?;
    Ok((gathered.tasks, rejections))
}

/// A `labels` object's entries (none when absent).
fn labels_of<'a>(
    row: u64,
    field: &str,
    labels: Option<&'a Value>,
) -> Result<Vec<(&'a String, &'a Value)>, Rejection> {
    match labels {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => Ok(map.iter().collect()),
        Some(_) => Err(Rejection::new(
            row,
            field,
            "must map control names to values",
        )),
    }
}

/// The control on the chat called `name`, labelling single messages
/// (`per_message`) or the whole chat.
fn chat_control<'a>(
    row: u64,
    field: &str,
    options: &'a ChatImportOptions,
    name: &str,
    per_message: bool,
) -> Result<&'a ImportControl, Rejection> {
    let control = options
        .controls
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| {
            Rejection::new(
                row,
                field,
                format!("the label config has no control \"{name}\" on the chat"),
            )
        })?;
    if control.per_item != per_message {
        let why = if per_message {
            "labels the whole chat, not single messages (it is not perRegion)"
        } else {
            "labels single messages (perRegion), so its labels belong on a message"
        };
        return Err(Rejection::new(
            row,
            field,
            format!("control \"{name}\" {why}"),
        ));
    }
    Ok(control)
}
