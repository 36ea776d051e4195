//! A task's annotations compared with each other, for the side-by-side
//! view: each region (box, polygon, span) marked by how many of the other
//! annotations have a match for it — IoU ≥ 0.5 with the same label for
//! shapes, the same span and label for spans (one-to-one, as the agreement
//! metrics match them) — and each whole-task answer (classes, values,
//! rankings) by how many of the others it agrees with.

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::quality::{given_answer, ClassCodes, Given, Kind};
use crate::Engine;
use gloss_quality::spatial::{match_shapes, LabeledShape};
use gloss_quality::text::{match_spans, Span, SpanMatching};
use gloss_types::result::{ResultItem, ResultValue};
use gloss_types::{Annotation, ProjectRole, Task, TaskId};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The IoU at which two shapes match.
const SHAPE_IOU: f64 = 0.5;

/// A task's annotations, compared.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskComparison {
    pub task: Task,
    /// The annotations that were not cancelled, in id order.
    pub annotations: Vec<ComparedAnnotation>,
}

/// One annotation and how its parts agree with the others.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComparedAnnotation {
    pub annotation: Annotation,
    pub annotator: Option<String>,
    /// Per region id: `matched` (every other annotation has a match),
    /// `partial` (some do) or `unmatched` (none does).
    pub regions: BTreeMap<String, String>,
    /// Per control with a whole-task answer that is not shared by every
    /// other annotation: `partly` (some share it) or `disagrees` (none does).
    pub controls: BTreeMap<String, String>,
}

impl Engine {
    /// Compares a task's annotations (the project's reviewers and managers).
    pub async fn compare_task(&self, actor: &Actor, id: TaskId) -> Result<TaskComparison> {
        let detail = self.task_detail(actor, id).await?;
        let (project, role) = self.project_for(actor, detail.task.project_id).await?;
        if role < ProjectRole::Reviewer {
            return Err(Error::forbidden(
                "only the project's reviewers and managers compare annotations",
            ));
        }
        let (config, _) = gloss_schema::parse(&project.label_config);
        let annotations: Vec<Annotation> = detail
            .annotations
            .into_iter()
            .filter(|a| !a.was_cancelled)
            .collect();
        let mut results = Vec::with_capacity(annotations.len());
        for annotation in &annotations {
            let items: Vec<ResultItem> =
                serde_json::from_value(serde_json::Value::Array(annotation.result.clone()))
                    .map_err(|err| Error::internal(format!("a stored result: {err}")))?;
            results.push(items);
        }
        let mut regions: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); results.len()];
        let mut controls: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); results.len()];
        let others = results.len().saturating_sub(1);
        for control in &config.controls {
            let Some(kind) = Kind::of(control, &config) else {
                continue;
            };
            match kind {
                Kind::Shapes | Kind::Spans => {
                    let parts: Vec<Vec<(String, Part)>> = results
                        .iter()
                        .map(|items| parts_of(&control.name, items))
                        .collect();
                    for (a, mine) in parts.iter().enumerate() {
                        let mut matches = vec![0usize; mine.len()];
                        for (b, theirs) in parts.iter().enumerate() {
                            if a == b {
                                continue;
                            }
                            for (index, matched) in
                                matched_parts(mine, theirs).into_iter().enumerate()
                            {
                                if matched {
                                    matches[index] += 1;
                                }
                            }
                        }
                        for ((id, _), n) in mine.iter().zip(matches) {
                            regions[a].insert(id.clone(), match_state(n, others).to_owned());
                        }
                    }
                }
                _ => {
                    let mut codes = ClassCodes::default();
                    let answers: Vec<Option<Given>> = results
                        .iter()
                        .map(|items| given_answer(control, kind, items, &mut codes))
                        .collect();
                    for (a, answer) in answers.iter().enumerate() {
                        let Some(answer) = answer else {
                            continue;
                        };
                        let answered: Vec<f64> = answers
                            .iter()
                            .enumerate()
                            .filter(|(b, _)| *b != a)
                            .filter_map(|(_, other)| other.as_ref())
                            .filter_map(|other| answer.agreement(other))
                            .collect();
                        let agreeing = answered.iter().filter(|score| **score >= 1.0).count();
                        if agreeing < answered.len() {
                            let state = if agreeing > 0 { "partly" } else { "disagrees" };
                            controls[a].insert(control.name.clone(), state.to_owned());
                        }
                    }
                }
            }
        }
        let mut annotations = annotations
            .into_iter()
            .zip(regions.into_iter().zip(controls))
            .map(|(annotation, (regions, controls))| ComparedAnnotation {
                annotator: None,
                annotation,
                regions,
                controls,
            })
            .collect::<Vec<_>>();
        for compared in &mut annotations {
            if let Some(user) = compared.annotation.completed_by {
                compared.annotator = self.store.user(user).await.ok().map(|u| u.username);
            }
        }
        Ok(TaskComparison {
            task: detail.task,
            annotations,
        })
    }
}

/// A region to match: a shape or a span.
enum Part {
    Shape(LabeledShape),
    Span(Span),
}

/// The regions of one control in one annotation, with their ids.
fn parts_of(control: &str, items: &[ResultItem]) -> Vec<(String, Part)> {
    items
        .iter()
        .filter(|item| item.from_name == control)
        .filter_map(|item| {
            let id = item.id.clone()?;
            let part = match &item.value {
                ResultValue::Labels(v) => Part::Span(Span {
                    start: v.start as usize,
                    end: v.end as usize,
                    label: v.labels.first()?.clone(),
                }),
                _ => Part::Shape(crate::quality::shape_of(item)?),
            };
            Some((id, part))
        })
        .collect()
}

/// Which of `mine` have a match among `theirs` (one-to-one).
fn matched_parts(mine: &[(String, Part)], theirs: &[(String, Part)]) -> Vec<bool> {
    let shapes = |parts: &[(String, Part)]| -> Vec<LabeledShape> {
        parts
            .iter()
            .filter_map(|(_, p)| match p {
                Part::Shape(s) => Some(s.clone()),
                Part::Span(_) => None,
            })
            .collect()
    };
    let spans = |parts: &[(String, Part)]| -> Vec<Span> {
        parts
            .iter()
            .filter_map(|(_, p)| match p {
                Part::Span(s) => Some(s.clone()),
                Part::Shape(_) => None,
            })
            .collect()
    };
    let mut matched = vec![false; mine.len()];
    if mine.iter().any(|(_, p)| matches!(p, Part::Span(_))) {
        if let Ok(found) = match_spans(&spans(theirs), &spans(mine), SpanMatching::Exact) {
            for (index, hit) in found.into_iter().enumerate() {
                matched[index] = hit.is_some();
            }
        }
    } else if let Ok(matching) = match_shapes(&shapes(mine), &shapes(theirs), SHAPE_IOU) {
        for (index, _, _) in matching.pairs {
            matched[index] = true;
        }
    }
    matched
}

fn match_state(matches: usize, others: usize) -> &'static str {
    match matches {
        0 if others > 0 => "unmatched",
        n if n >= others => "matched",
        _ => "partial",
    }
}
