//! A task's annotations compared with each other, for the side-by-side
//! view: each region (box, polygon, keypoint object, mask, span, sound
//! segment) marked by how many of the other annotations have a match for it
//! — IoU ≥ 0.5 with the same label for shapes, masks and segments (overlap
//! in time over union), OKS ≥ 0.5 for keypoint objects (all
//! of an object's points get its mark), the same span and label for spans
//! (one-to-one, as the agreement metrics match them) — and each whole-task answer (classes, values,
//! rankings) by how many of the others it agrees with.

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::objects::{masks_with_ids, poses_with_ids};
use crate::quality::{given_answer, segment_of, ClassCodes, Given, Kind};
use crate::Engine;
use gloss_quality::objects::{pose_oks, run_mask_iou, LabeledMask, Pose};
use gloss_quality::spatial::{match_by_similarity, shape_iou, LabeledShape};
use gloss_quality::text::Span;
use gloss_types::result::{ResultItem, ResultValue};
use gloss_types::{Annotation, ProjectRole, Task, TaskId};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The similarity at which two regions match: IoU for shapes and masks, OKS
/// for keypoint objects (equal spans have 1).
const MATCH_AT: f64 = 0.5;

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
        let (regions, controls) = compare_results(&config, &results);
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

/// A region to match: a shape, a keypoint object, a mask or a span.
enum Part {
    Shape(LabeledShape),
    Pose(Pose),
    Mask(LabeledMask),
    Span(Span),
}

impl Part {
    /// How alike two regions are, in `[0, 1]`: IoU for shapes and masks
    /// (same label), OKS for keypoint objects (both directions' mean), 1 for
    /// equal spans; 0 across kinds.
    fn similarity(&self, other: &Part) -> f64 {
        match (self, other) {
            (Part::Shape(a), Part::Shape(b)) if a.label == b.label => shape_iou(&a.shape, &b.shape),
            (Part::Pose(a), Part::Pose(b)) => (pose_oks(a, b) + pose_oks(b, a)) / 2.0,
            (Part::Mask(a), Part::Mask(b)) if a.label == b.label => {
                run_mask_iou(&a.mask, &b.mask).unwrap_or(0.0)
            }
            (Part::Span(a), Part::Span(b)) => f64::from(u8::from(a == b)),
            _ => 0.0,
        }
    }
}

/// The regions of one control in one annotation, each with the ids of its
/// results (a keypoint object has one per point).
fn parts_of(kind: Kind, control: &str, items: &[ResultItem]) -> Vec<(Vec<String>, Part)> {
    let mine = items.iter().filter(|item| item.from_name == control);
    match kind {
        Kind::Keypoints => poses_with_ids(mine)
            .into_iter()
            .map(|(pose, ids)| (ids, Part::Pose(pose)))
            .collect(),
        Kind::Masks => masks_with_ids(mine)
            .into_iter()
            .map(|(mask, id)| (vec![id], Part::Mask(mask)))
            .collect(),
        Kind::Segments => mine
            .filter_map(|item| Some((vec![item.id.clone()?], Part::Shape(segment_of(item)?))))
            .collect(),
        _ => mine
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
                Some((vec![id], part))
            })
            .collect(),
    }
}

/// Which of `mine` have a match among `theirs` (one-to-one, at
/// [`MATCH_AT`]).
fn matched_parts(mine: &[(Vec<String>, Part)], theirs: &[(Vec<String>, Part)]) -> Vec<bool> {
    let mut matched = vec![false; mine.len()];
    if let Ok(matching) = match_by_similarity(mine.len(), theirs.len(), MATCH_AT, |i, j| {
        mine[i].1.similarity(&theirs[j].1)
    }) {
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

/// Marks by region id or control name.
pub(crate) type Marks = BTreeMap<String, String>;

/// Per result list, its regions' and whole-task answers' marks against the
/// other lists (see the [module](self)): one map from region id to
/// `matched`/`partial`/`unmatched`, and one from control name to
/// `partly`/`disagrees` for answers not shared by every other list.
pub(crate) fn compare_results(
    config: &gloss_schema::LabelConfig,
    results: &[Vec<ResultItem>],
) -> (Vec<Marks>, Vec<Marks>) {
    let mut regions: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); results.len()];
    let mut controls: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); results.len()];
    let others = results.len().saturating_sub(1);
    for control in &config.controls {
        let Some(kind) = Kind::of(control, config) else {
            continue;
        };
        match kind {
            Kind::Shapes | Kind::Keypoints | Kind::Masks | Kind::Spans | Kind::Segments => {
                let parts: Vec<Vec<(Vec<String>, Part)>> = results
                    .iter()
                    .map(|items| parts_of(kind, &control.name, items))
                    .collect();
                for (a, mine) in parts.iter().enumerate() {
                    let mut matches = vec![0usize; mine.len()];
                    for (b, theirs) in parts.iter().enumerate() {
                        if a == b {
                            continue;
                        }
                        for (index, matched) in matched_parts(mine, theirs).into_iter().enumerate()
                        {
                            if matched {
                                matches[index] += 1;
                            }
                        }
                    }
                    for ((ids, _), n) in mine.iter().zip(matches) {
                        for id in ids {
                            regions[a].insert(id.clone(), match_state(n, others).to_owned());
                        }
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
    (regions, controls)
}
