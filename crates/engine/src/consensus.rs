//! A task's consensus: one result made from its annotators' annotations,
//! the task's ground-truth candidate. Each annotator's vote has a weight:
//! 1 under the project's `majority` consensus method, their reliability
//! under `weighted` and `dawid-skene` (see `quality::ConsensusModel`). Per
//! control (those the quality report scores, see `quality.rs`):
//! - unrotated boxes (`RectangleLabels`): cluster and fuse
//!   (`gloss_quality::spatial::box_consensus`): boxes of the same label
//!   matched at IoU ≥ 0.5 across annotators, averaged with their weights,
//!   kept when more than half of the annotators drew them;
//! - spans on a `<Text>` (`Labels`): weighted token vote
//!   (`gloss_quality::text::weighted_token_vote`) over the CoNLL-2003
//!   tokens: each token takes the label of more than half of the weight;
//! - classes under `dawid-skene`: the answer of the first annotator who
//!   gave the class set Dawid–Skene found most probable for the task;
//! - everything else (classes, ratings, numbers, rankings, polygons,
//!   rotated boxes, keypoint objects, masks): the answer with the most
//!   weighted agreement, `Σ_j w_j · agreement(answer, answer_j)` over all
//!   answers (its own counting fully; the earlier annotation on a tie),
//!   copied as it is: a weighted majority for classes.
//!
//! Ground-truth and cancelled annotations are not votes. Results of
//! per-region controls are not part of a consensus.

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::quality::{given_answer, spans_of, ClassCodes, Given, Kind};
use crate::Engine;
use gloss_quality::spatial::{box_consensus, AnnotatorBox, BBox};
use gloss_quality::text::{weighted_token_vote, Span};
use gloss_schema::{ControlKind, ControlTag, LabelConfig};
use gloss_types::result::{ResultItem, ResultValue};
use gloss_types::{AnnotationId, TaskId};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use utoipa::ToSchema;

/// A task's consensus as the API gives it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskConsensus {
    /// Label Studio result items.
    #[schema(value_type = Vec<Object>)]
    pub result: Vec<Value>,
    /// The annotations that voted (not cancelled, not ground truth).
    pub annotations: Vec<AnnotationId>,
}

impl Engine {
    /// A task's consensus (the project's reviewers and managers).
    pub async fn task_consensus(&self, actor: &Actor, id: TaskId) -> Result<TaskConsensus> {
        let detail = self.task_detail(actor, id).await?;
        let (project, role) = self.project_for(actor, detail.task.project_id).await?;
        if role < gloss_types::ProjectRole::Reviewer {
            return Err(Error::forbidden(
                "only the project's reviewers and managers see a task's consensus",
            ));
        }
        let (config, _) = gloss_schema::parse(&project.label_config);
        let model = self.consensus_model(&project).await?;
        let voters: Vec<&gloss_types::Annotation> = detail
            .annotations
            .iter()
            .filter(|a| !a.was_cancelled && !a.ground_truth)
            .collect();
        let mut results = Vec::with_capacity(voters.len());
        let mut names = Vec::with_capacity(voters.len());
        for voter in &voters {
            let items: Vec<ResultItem> = serde_json::from_value(Value::Array(voter.result.clone()))
                .map_err(|err| Error::internal(format!("a stored result: {err}")))?;
            results.push(items);
            names.push(match voter.completed_by {
                Some(user) => self.store.user(user).await.ok().map(|u| u.username),
                None => None,
            });
        }
        let names: Vec<Option<&str>> = names.iter().map(Option::as_deref).collect();
        let votes = Votes {
            weights: model.weights_of(&names),
            decided: model.decided(id.0),
        };
        Ok(TaskConsensus {
            result: consensus(&config, &detail.task.data, &results, &votes)
                .iter()
                .map(|item| serde_json::to_value(item).unwrap_or(Value::Null))
                .collect(),
            annotations: voters.iter().map(|a| a.id).collect(),
        })
    }
}

/// The IoU at which boxes are one cluster, and the share of annotators a
/// box or a span's label needs.
const BOX_IOU: f64 = 0.5;
const MAJORITY: f64 = 0.5;

/// How the annotations of one task vote.
#[derive(Debug, Clone, Default)]
pub(crate) struct Votes {
    /// One weight per annotation (its annotator's reliability, or 1).
    pub(crate) weights: Vec<f64>,
    /// Dawid–Skene's class set per classes control, by control name.
    pub(crate) decided: HashMap<String, String>,
}

impl Votes {
    /// Every annotation's vote counts the same.
    #[cfg(test)]
    pub(crate) fn equal(annotations: usize) -> Votes {
        Votes {
            weights: vec![1.0; annotations],
            decided: HashMap::new(),
        }
    }
}

/// The consensus of `annotations` (each one annotator's result items) on a
/// task with `data`.
pub(crate) fn consensus(
    config: &LabelConfig,
    data: &Map<String, Value>,
    annotations: &[Vec<ResultItem>],
    votes: &Votes,
) -> Vec<ResultItem> {
    let mut result = Vec::new();
    if annotations.is_empty() || votes.weights.len() != annotations.len() {
        return result;
    }
    for control in &config.controls {
        let Some(kind) = Kind::of(control, config) else {
            continue;
        };
        let fused = match (kind, control.kind) {
            (Kind::Shapes, ControlKind::RectangleLabels) => {
                fused_boxes(control, annotations, &votes.weights)
            }
            (Kind::Spans, _) => voted_spans(config, control, data, annotations, &votes.weights),
            (Kind::Classes, _) => votes
                .decided
                .get(&control.name)
                .and_then(|set| decided_answer(control, annotations, set)),
            _ => None,
        };
        match fused {
            Some(items) => result.extend(items),
            None => result.extend(medoid(control, kind, annotations, &votes.weights)),
        }
    }
    result
}

/// The items of `control` in the first answer that is the class set
/// `decided`; `None` when no annotator gave it.
fn decided_answer(
    control: &ControlTag,
    annotations: &[Vec<ResultItem>],
    decided: &str,
) -> Option<Vec<ResultItem>> {
    let mut codes = ClassCodes::default();
    let index = annotations.iter().position(|items| {
        matches!(given_answer(control, Kind::Classes, items, &mut codes),
            Some(Given::Set(set)) if codes.set_name(set) == decided)
    })?;
    Some(items_of(control, &annotations[index]))
}

fn items_of(control: &ControlTag, items: &[ResultItem]) -> Vec<ResultItem> {
    items
        .iter()
        .filter(|item| item.from_name == control.name)
        .cloned()
        .collect()
}

/// The items of `control` in the answer with the most weighted agreement.
fn medoid(
    control: &ControlTag,
    kind: Kind,
    annotations: &[Vec<ResultItem>],
    weights: &[f64],
) -> Vec<ResultItem> {
    let mut codes = ClassCodes::default();
    let answers: Vec<(usize, Given)> = annotations
        .iter()
        .enumerate()
        .filter_map(|(index, items)| {
            given_answer(control, kind, items, &mut codes).map(|given| (index, given))
        })
        .collect();
    let mut best: Option<(usize, f64)> = None;
    for (index, given) in &answers {
        let mut support = 0.0;
        for (other, given_other) in &answers {
            support += if other == index {
                weights[*other]
            } else {
                weights[*other] * given.agreement(given_other).unwrap_or(0.0)
            };
        }
        if best.is_none_or(|(_, top)| support > top) {
            best = Some((*index, support));
        }
    }
    let Some((index, _)) = best else {
        return Vec::new();
    };
    items_of(control, &annotations[index])
}

/// Boxes fused across annotators; `None` when a box is rotated (the
/// medoid is used then).
fn fused_boxes(
    control: &ControlTag,
    annotations: &[Vec<ResultItem>],
    weights: &[f64],
) -> Option<Vec<ResultItem>> {
    let mut boxes = Vec::new();
    let mut template: Option<&ResultItem> = None;
    for (annotator, items) in annotations.iter().enumerate() {
        for item in items.iter().filter(|i| i.from_name == control.name) {
            let ResultValue::RectangleLabels(v) = &item.value else {
                continue;
            };
            if v.rotation.unwrap_or(0.0) != 0.0 {
                return None;
            }
            template.get_or_insert(item);
            for label in &v.rectanglelabels {
                boxes.push(AnnotatorBox {
                    annotator,
                    label: label.clone(),
                    // Percent coordinates: IoU does not change with the
                    // image's aspect ratio, so pixels are not needed.
                    bbox: BBox::from_xywh(v.x, v.y, v.width, v.height),
                });
            }
        }
    }
    let min_votes = annotations.len() / 2 + 1;
    let fused = box_consensus(&boxes, weights, BOX_IOU, min_votes).ok()?;
    Some(
        fused
            .into_iter()
            .enumerate()
            .map(|(index, fused)| {
                let mut item = json!({
                    "id": format!("consensus-{}-{index}", control.name),
                    "from_name": control.name,
                    "to_name": template.map_or_else(|| control.to_names[0].clone(), |t| t.to_name.clone()),
                    "type": "rectanglelabels",
                    "value": {
                        "x": fused.bbox.x_min, "y": fused.bbox.y_min,
                        "width": fused.bbox.x_max - fused.bbox.x_min,
                        "height": fused.bbox.y_max - fused.bbox.y_min,
                        "rotation": 0, "rectanglelabels": [fused.label],
                    },
                });
                if let Some(t) = template {
                    item["original_width"] = json!(t.original_width);
                    item["original_height"] = json!(t.original_height);
                }
                serde_json::from_value(item).expect("a rectanglelabels result")
            })
            .collect(),
    )
}

/// Spans by token vote; `None` without the text.
fn voted_spans(
    config: &LabelConfig,
    control: &ControlTag,
    data: &Map<String, Value>,
    annotations: &[Vec<ResultItem>],
    weights: &[f64],
) -> Option<Vec<ResultItem>> {
    let object = control
        .to_names
        .iter()
        .find_map(|name| config.object(name))?;
    let text = data.get(&object.value)?.as_str()?;
    let tokens: Vec<(usize, usize)> = gloss_formats::tokenize(text)
        .iter()
        .map(|t| (t.start as usize, t.end as usize))
        .collect();
    let spans: Vec<Vec<Span>> = annotations
        .iter()
        .map(|items| spans_of(&control.name, items))
        .collect();
    let voted = weighted_token_vote(&tokens, &spans, weights, MAJORITY).ok()?;
    let chars: Vec<char> = text.chars().collect();
    Some(
        voted
            .into_iter()
            .enumerate()
            .map(|(index, span)| {
                let cut: String = chars
                    .get(span.start..span.end.min(chars.len()))
                    .unwrap_or_default()
                    .iter()
                    .collect();
                serde_json::from_value(json!({
                    "id": format!("consensus-{}-{index}", control.name),
                    "from_name": control.name,
                    "to_name": object.name,
                    "type": "labels",
                    "value": {"start": span.start, "end": span.end, "text": cut, "labels": [span.label]},
                }))
                .expect("a labels result")
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(value: Value) -> Vec<ResultItem> {
        serde_json::from_value(value).unwrap()
    }

    /// The value of the consensus's result of control `name`.
    fn value(result: &[ResultItem], name: &str) -> Value {
        result
            .iter()
            .find(|i| i.from_name == name)
            .map(|i| i.value.to_json())
            .unwrap()
    }

    #[test]
    fn classes_take_the_most_agreed_answer_boxes_fuse_and_spans_vote() {
        let (config, _) = gloss_schema::parse(
            r#"<View><Image name="image" value="$image"/><Text name="text" value="$text"/>
            <Choices name="class" toName="image"><Choice value="Cat"/><Choice value="Dog"/></Choices>
            <RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels>
            <Labels name="ner" toName="text"><Label value="PER"/></Labels></View>"#,
        );
        let one = |class: &str, x: f64, span_end: u64| {
            items(json!([
                {"id": "c", "from_name": "class", "to_name": "image", "type": "choices", "value": {"choices": [class]}},
                {"id": "b", "from_name": "box", "to_name": "image", "type": "rectanglelabels",
                 "value": {"x": x, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["Car"]}},
                {"id": "s", "from_name": "ner", "to_name": "text", "type": "labels",
                 "value": {"start": 0, "end": span_end, "labels": ["PER"]}}
            ]))
        };
        let data = json!({"text": "Ada Lovelace wrote"})
            .as_object()
            .unwrap()
            .clone();
        let result = consensus(
            &config,
            &data,
            &[
                one("Dog", 10.0, 3),
                one("Cat", 12.0, 12),
                one("Dog", 11.0, 12),
            ],
            &Votes::equal(3),
        );
        assert_eq!(value(&result, "class")["choices"], json!(["Dog"]));
        assert_eq!(value(&result, "box")["x"].as_f64(), Some(11.0));
        assert_eq!(value(&result, "ner")["end"], json!(12));
        assert_eq!(value(&result, "ner")["text"], "Ada Lovelace");
        // A lone box is not a majority's: left out.
        let lone = consensus(
            &config,
            &data,
            &[
                one("Dog", 10.0, 3),
                one("Dog", 70.0, 3),
                one("Dog", 40.0, 3),
            ],
            &Votes::equal(3),
        );
        assert!(lone.iter().all(|i| i.from_name != "box"), "{lone:?}");

        // Weighted: the reliable annotator's class wins over two others,
        // boxes average with the weights, spans vote with them.
        let three = [
            one("Dog", 10.0, 3),
            one("Cat", 12.0, 12),
            one("Dog", 11.0, 3),
        ];
        let weighted = Votes {
            weights: vec![0.1, 1.0, 0.1],
            decided: HashMap::new(),
        };
        let result = consensus(&config, &data, &three, &weighted);
        assert_eq!(value(&result, "class")["choices"], json!(["Cat"]));
        let x = value(&result, "box")["x"].as_f64().unwrap();
        assert!((x - (1.0 + 12.0 + 1.1) / 1.2).abs() < 1e-9, "{x}");
        assert_eq!(value(&result, "ner")["end"], json!(12));
        // Dawid–Skene's class is taken from an annotator who gave it.
        let decided = Votes {
            weights: vec![1.0; 3],
            decided: HashMap::from([("class".to_owned(), "Cat".to_owned())]),
        };
        let result = consensus(&config, &data, &three, &decided);
        assert_eq!(value(&result, "class")["choices"], json!(["Cat"]));
    }
}
