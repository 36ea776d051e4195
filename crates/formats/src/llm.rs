//! LLM feedback out: preference pairs for DPO and reward models
//! (`preference-jsonl`) and one line of rankings, ratings, rationales and
//! rewrites per annotation (`ranking-jsonl`).
//!
//! Both read a task's prompt (a chat history or a string), its responses
//! (the two objects a `Pairwise` compares, or the items of a `List` a
//! `Ranker` ranks) and the results of the controls on them; which controls
//! those are is given by the engine in [`LlmOptions`], from the label config.
//!
//! Preference pairs are TRL's layout: `prompt`, `chosen`, `rejected`. A
//! prompt given as a chat history (a list of `{role, content}` messages)
//! gives the conversational form: `prompt` is the messages and `chosen` and
//! `rejected` are each a list of one assistant message; a string prompt
//! gives the standard form, three strings. Each annotation that was not
//! cancelled gives:
//! - a `Pairwise` result: one pair, the selected side chosen (a tie gives
//!   none, and is counted);
//! - a `Ranker` result without buckets: every ordered pair of the ranking,
//!   each item chosen over every item ranked below it (n·(n−1)/2 pairs);
//!   with buckets, each item of a bucket chosen over every item of each
//!   later bucket (items in one bucket are tied; items left in the list,
//!   `_`, are not compared);
//! - a rewrite (a `TextArea` prefilled with a response, see
//!   [`RewriteTarget`]) that changed the response: the rewrite chosen, the
//!   original rejected.
//!
//! Every line also has `task_id`, `annotator`, `source` (`pairwise`,
//! `ranking` or `rewrite`) and `strength` (the pairwise strength, else null).

use std::collections::BTreeMap;
use std::io::{self, Write};

use gloss_types::result::{ResultItem, ResultValue};
use serde_json::{json, Map, Value};

use crate::write::ExportTask;

/// Where a task's responses are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Responses {
    /// The two objects a `Pairwise` compares, by object name and data key;
    /// their ids are the object names.
    Pair {
        /// The `Pairwise` control.
        control: String,
        /// The left object's name and data key.
        left: (String, String),
        /// The right object's name and data key.
        right: (String, String),
    },
    /// The items of a `List`: its object name and data key. Items are
    /// `{id, title, body}` (the body is the response) or strings (their
    /// 0-based index is their id).
    List {
        /// The `List` object's name.
        object: String,
        /// The data key of its items.
        key: String,
    },
}

/// What a rewrite `TextArea` rewrites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewriteTarget {
    /// The response shown by this object (a `Text` of a pair).
    Object(String),
    /// Each item of the `List` (the control is `perItem`; the result's
    /// `item_index` names the item).
    ListItems,
}

/// What the LLM exports read, from the label config.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LlmOptions {
    /// The data key of the prompt (a `Chat`, or the `Text` that is not a
    /// response), if any.
    pub prompt: Option<String>,
    /// The responses.
    pub responses: Option<Responses>,
    /// `Ranker` controls on the list: name, and its buckets in order (empty:
    /// it ranks).
    pub rankers: Vec<(String, Vec<String>)>,
    /// `TextArea` controls that rewrite a response.
    pub rewrites: Vec<(String, RewriteTarget)>,
}

/// What an LLM export wrote and left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LlmSummary {
    /// Lines written.
    pub lines: u64,
    /// Pairs from pairwise results.
    pub pairwise_pairs: u64,
    /// Pairs from rankings.
    pub ranking_pairs: u64,
    /// Pairs from rewrites.
    pub rewrite_pairs: u64,
    /// Pairwise ties, which give no pair.
    pub ties: u64,
    /// Rewrites that left the response as it was, which give no pair.
    pub unchanged_rewrites: u64,
    /// Annotations (not cancelled) that gave no line.
    pub empty_annotations: u64,
    /// Results naming a response the task does not have.
    pub unknown_responses: u64,
}

impl LlmSummary {
    /// One sentence on what was written and left out, for the export's notes.
    pub fn note(&self, preference: bool) -> String {
        let mut parts = Vec::new();
        if preference {
            parts.push(format!(
                "{} pairs: {} from pairwise choices, {} from rankings (every ordered pair), {} from rewrites",
                self.lines, self.pairwise_pairs, self.ranking_pairs, self.rewrite_pairs
            ));
            if self.ties > 0 {
                parts.push(format!("{} ties gave no pair", self.ties));
            }
            if self.unchanged_rewrites > 0 {
                parts.push(format!(
                    "{} rewrites left the response unchanged and gave no pair",
                    self.unchanged_rewrites
                ));
            }
        } else {
            parts.push(format!("{} annotations", self.lines));
        }
        if self.empty_annotations > 0 {
            parts.push(format!(
                "{} annotations had nothing to write",
                self.empty_annotations
            ));
        }
        if self.unknown_responses > 0 {
            parts.push(format!(
                "{} results named a response the task does not have and were left out",
                self.unknown_responses
            ));
        }
        let name = if preference {
            "preference-jsonl"
        } else {
            "ranking-jsonl"
        };
        format!("{name}: {}", parts.join("; "))
    }
}

/// Which of the two layouts a [`LlmWriter`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmFormat {
    /// `preference-jsonl`: one pair per line.
    Preference,
    /// `ranking-jsonl`: one annotation per line.
    Ranking,
}

/// Writes `preference-jsonl` or `ranking-jsonl`, a task at a time.
pub struct LlmWriter<W: Write> {
    out: W,
    format: LlmFormat,
    options: LlmOptions,
    summary: LlmSummary,
}

/// One response of a task.
struct Response {
    id: String,
    text: String,
}

impl<W: Write> LlmWriter<W> {
    pub fn new(out: W, format: LlmFormat, options: LlmOptions) -> LlmWriter<W> {
        LlmWriter {
            out,
            format,
            options,
            summary: LlmSummary::default(),
        }
    }

    /// Writes the lines of one task's annotations that were not cancelled.
    pub fn write_task(&mut self, task: &ExportTask) -> io::Result<()> {
        let prompt = self
            .options
            .prompt
            .as_ref()
            .and_then(|key| task.data.get(key))
            .cloned()
            .unwrap_or(Value::Null);
        let chat = prompt_messages(&prompt);
        let responses = self.responses(task);
        for annotation in task.annotations.iter().filter(|a| !a.record.was_cancelled) {
            let annotator = annotator(annotation.record.completed_by.as_ref());
            let before = self.summary.lines;
            match self.format {
                LlmFormat::Preference => self.write_pairs(
                    task,
                    &prompt,
                    chat.as_deref(),
                    &responses,
                    &annotation.record.result,
                    &annotator,
                )?,
                LlmFormat::Ranking => self.write_ranking(
                    task,
                    annotation.id,
                    &prompt,
                    &responses,
                    &annotation.record.result,
                    &annotator,
                )?,
            }
            if self.summary.lines == before {
                self.summary.empty_annotations += 1;
            }
        }
        Ok(())
    }

    /// Which layout this writer writes.
    pub fn format(&self) -> LlmFormat {
        self.format
    }

    pub fn finish(mut self) -> io::Result<(W, LlmSummary)> {
        self.out.flush()?;
        Ok((self.out, self.summary))
    }

    fn responses(&self, task: &ExportTask) -> Vec<Response> {
        match &self.options.responses {
            None => Vec::new(),
            Some(Responses::Pair { left, right, .. }) => [left, right]
                .into_iter()
                .map(|(name, key)| Response {
                    id: name.clone(),
                    text: text_of(task.data.get(key)),
                })
                .collect(),
            Some(Responses::List { key, .. }) => list_items(task.data.get(key)),
        }
    }

    fn line(&mut self, value: Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &value)?;
        self.out.write_all(b"\n")?;
        self.summary.lines += 1;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn pair(
        &mut self,
        task: &ExportTask,
        prompt: &Value,
        chat: Option<&[Value]>,
        annotator: &Value,
        source: &str,
        (chosen, rejected): (&str, &str),
        strength: Option<f64>,
    ) -> io::Result<()> {
        let (prompt, chosen, rejected) = match chat {
            Some(messages) => (
                Value::Array(messages.to_vec()),
                json!([{"role": "assistant", "content": chosen}]),
                json!([{"role": "assistant", "content": rejected}]),
            ),
            None => (
                Value::String(text_of(Some(prompt))),
                Value::String(chosen.to_owned()),
                Value::String(rejected.to_owned()),
            ),
        };
        self.line(json!({
            "prompt": prompt,
            "chosen": chosen,
            "rejected": rejected,
            "task_id": task.id,
            "annotator": annotator,
            "source": source,
            "strength": strength.map(json_number),
        }))
    }

    fn write_pairs(
        &mut self,
        task: &ExportTask,
        prompt: &Value,
        chat: Option<&[Value]>,
        responses: &[Response],
        result: &[ResultItem],
        annotator: &Value,
    ) -> io::Result<()> {
        let text = |id: &str| {
            responses
                .iter()
                .find(|r| r.id == id)
                .map(|r| r.text.as_str())
        };
        if let Some(Responses::Pair { control, .. }) = self.options.responses.clone() {
            for item in result.iter().filter(|i| i.from_name == control) {
                let ResultValue::Pairwise(value) = &item.value else {
                    continue;
                };
                let (Some(left), Some(right)) = (responses.first(), responses.get(1)) else {
                    continue;
                };
                let pair = match value.selected.as_str() {
                    "left" => (left.text.as_str(), right.text.as_str()),
                    "right" => (right.text.as_str(), left.text.as_str()),
                    _ => {
                        self.summary.ties += 1;
                        continue;
                    }
                };
                self.pair(
                    task,
                    prompt,
                    chat,
                    annotator,
                    "pairwise",
                    pair,
                    value.strength,
                )?;
                self.summary.pairwise_pairs += 1;
            }
        }
        for (control, buckets) in self.options.rankers.clone() {
            for item in result.iter().filter(|i| i.from_name == control) {
                let ResultValue::Ranker(value) = &item.value else {
                    continue;
                };
                // Groups best first: each item of one ranked over those of every later group.
                let groups: Vec<Vec<&str>> = if buckets.is_empty() {
                    value
                        .column(&control)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|id| vec![id])
                        .collect()
                } else {
                    buckets
                        .iter()
                        .map(|b| value.column(b).unwrap_or_default())
                        .collect()
                };
                for (i, better) in groups.iter().enumerate() {
                    for worse in groups.iter().skip(i + 1) {
                        for &a in better {
                            for &b in worse {
                                match (text(a), text(b)) {
                                    (Some(chosen), Some(rejected)) => {
                                        self.pair(
                                            task,
                                            prompt,
                                            chat,
                                            annotator,
                                            "ranking",
                                            (chosen, rejected),
                                            None,
                                        )?;
                                        self.summary.ranking_pairs += 1;
                                    }
                                    _ => self.summary.unknown_responses += 1,
                                }
                            }
                        }
                    }
                }
            }
        }
        for (id, rewrite) in self.rewrites(responses, result) {
            let Some(original) = text(&id) else {
                self.summary.unknown_responses += 1;
                continue;
            };
            if rewrite.trim() == original.trim() {
                self.summary.unchanged_rewrites += 1;
                continue;
            }
            self.pair(
                task,
                prompt,
                chat,
                annotator,
                "rewrite",
                (&rewrite, original),
                None,
            )?;
            self.summary.rewrite_pairs += 1;
        }
        Ok(())
    }

    /// The rewrites of an annotation: response id and its rewritten text.
    fn rewrites(&self, responses: &[Response], result: &[ResultItem]) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for (control, target) in &self.options.rewrites {
            for item in result.iter().filter(|i| &i.from_name == control) {
                let ResultValue::TextArea(value) = &item.value else {
                    continue;
                };
                let text = value.text.join("\n");
                let id = match target {
                    RewriteTarget::Object(name) => Some(name.clone()),
                    RewriteTarget::ListItems => item_response(item, responses),
                };
                found.push((id.unwrap_or_default(), text));
            }
        }
        found
    }

    fn write_ranking(
        &mut self,
        task: &ExportTask,
        annotation_id: i64,
        prompt: &Value,
        responses: &[Response],
        result: &[ResultItem],
        annotator: &Value,
    ) -> io::Result<()> {
        let response_of_object = |object: &str| {
            responses
                .iter()
                .find(|r| r.id == object)
                .map(|r| r.id.clone())
        };
        let rewrite_controls: Vec<&str> = self
            .options
            .rewrites
            .iter()
            .map(|(c, _)| c.as_str())
            .collect();
        let mut ranking = Value::Null;
        let mut buckets = Map::new();
        let mut pairwise = Map::new();
        let mut ratings: BTreeMap<String, Value> = BTreeMap::new();
        let mut choices: BTreeMap<String, Value> = BTreeMap::new();
        let mut rationale = Map::new();
        let mut unknown = 0;
        for item in result {
            // A result on one response (a Text of the pair, or a List item).
            let response = if item.extra.contains_key("item_index") {
                item_response(item, responses)
            } else {
                response_of_object(&item.to_name)
            };
            let mut put = |into: &mut BTreeMap<String, Value>, value: Value| match &response {
                Some(id) => {
                    let entry = into
                        .entry(item.from_name.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(map) = entry {
                        map.insert(id.clone(), value);
                    }
                }
                None if item.extra.contains_key("item_index") => unknown += 1,
                None => {
                    into.insert(item.from_name.clone(), value);
                }
            };
            match &item.value {
                ResultValue::Ranker(value) => {
                    if let Some((name, list)) = self
                        .options
                        .rankers
                        .iter()
                        .find(|(name, _)| name == &item.from_name)
                    {
                        if list.is_empty() {
                            ranking = json!(value.column(name).unwrap_or_default());
                        } else {
                            for (key, ids) in &value.ranker {
                                buckets.insert(key.clone(), ids.clone());
                            }
                        }
                    }
                }
                ResultValue::Pairwise(value) => {
                    pairwise.insert(
                        item.from_name.clone(),
                        json!({"selected": value.selected, "strength": value.strength.map(json_number)}),
                    );
                }
                ResultValue::Rating(value) => put(&mut ratings, json_number(value.rating)),
                ResultValue::Number(value) => put(&mut ratings, json_number(value.number)),
                ResultValue::Choices(value) => put(&mut choices, json!(value.choices)),
                ResultValue::TextArea(value)
                    if !rewrite_controls.contains(&item.from_name.as_str()) =>
                {
                    rationale.insert(item.from_name.clone(), json!(value.text.join("\n")));
                }
                _ => {}
            }
        }
        self.summary.unknown_responses += unknown;
        let rewrites: Map<String, Value> = self
            .rewrites(responses, result)
            .into_iter()
            .filter(|(id, _)| !id.is_empty())
            .map(|(id, text)| (id, Value::String(text)))
            .collect();
        let nothing = ranking.is_null()
            && buckets.is_empty()
            && pairwise.is_empty()
            && ratings.is_empty()
            && choices.is_empty()
            && rationale.is_empty()
            && rewrites.is_empty();
        if nothing {
            return Ok(());
        }
        self.line(json!({
            "task_id": task.id,
            "annotation_id": annotation_id,
            "annotator": annotator,
            "prompt": prompt,
            "responses": responses.iter().map(|r| json!({"id": r.id, "text": r.text})).collect::<Vec<_>>(),
            "ranking": ranking,
            "buckets": if buckets.is_empty() { Value::Null } else { Value::Object(buckets) },
            "pairwise": if pairwise.is_empty() { Value::Null } else { Value::Object(pairwise) },
            "ratings": ratings,
            "choices": choices,
            "rationale": rationale,
            "rewrites": rewrites,
        }))
    }
}

/// The response a per-item result names by its `item_index`.
fn item_response(item: &ResultItem, responses: &[Response]) -> Option<String> {
    let index = item.extra.get("item_index")?.as_u64()?;
    responses
        .get(usize::try_from(index).ok()?)
        .map(|r| r.id.clone())
}

/// A chat history's messages: a list of objects with `role` and `content`.
fn prompt_messages(prompt: &Value) -> Option<Vec<Value>> {
    let list = prompt.as_array()?;
    list.iter()
        .map(|m| {
            let role = m.get("role")?.as_str()?;
            let content = text_of(m.get("content"));
            Some(json!({"role": role, "content": content}))
        })
        .collect()
}

/// The items of a `List`: `{id, title, body}` objects or strings.
fn list_items(value: Option<&Value>) -> Vec<Response> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(map) => Response {
                id: match map.get("id") {
                    Some(Value::String(id)) => id.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => index.to_string(),
                },
                text: text_of(map.get("body").or_else(|| map.get("text"))),
            },
            other => Response {
                id: index.to_string(),
                text: text_of(Some(other)),
            },
        })
        .collect()
}

/// A data value as text: strings as they are, anything else as JSON.
fn text_of(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Who made an annotation: a username when known, else the id it came with.
fn annotator(completed_by: Option<&Value>) -> Value {
    match completed_by {
        Some(Value::Object(map)) => map
            .get("username")
            .or_else(|| map.get("email"))
            .or_else(|| map.get("id"))
            .cloned()
            .unwrap_or(Value::Null),
        Some(Value::Number(n)) => Value::String(n.to_string()),
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

/// A number as JavaScript writes it: whole numbers without a fraction.
fn json_number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        json!(v as i64)
    } else {
        json!(v)
    }
}
