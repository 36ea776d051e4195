//! Training projects (kind `training`): tasks with a ground-truth answer,
//! each given once to every annotator (whatever the overlap, so that gold
//! tasks a ground truth completed are still served), and after each submit
//! feedback against the ground truth: the score per control (the same score
//! as gold, [`crate::gold::scores_against_gold`]), each of the annotator's
//! regions right or wrong and each gold region found or missed (matched as
//! the side-by-side comparison matches, [`crate::compare::compare_results`]),
//! whole-task answers with the expected answer, the ground truth itself and
//! the task's `explanation` (a string in its data).

use crate::access::Actor;
use crate::error::{Error, OrNotFound, Result};
use crate::quality::Kind;
use crate::Engine;
use gloss_store::{AnnotationRow, QueueProject};
use gloss_types::result::{ResultItem, ResultValue};
use gloss_types::{AnnotationId, Code, Project, ProjectKind, TaskId, Timestamp, User};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// What an annotator sees after submitting a training task.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrainingFeedback {
    pub annotation_id: AnnotationId,
    pub task_id: TaskId,
    /// The mean score over the controls the ground truth answers, 0 to 1;
    /// `None` when the task has no ground truth.
    pub score: Option<f64>,
    /// Per control the ground truth answers: its score and verdict.
    pub controls: Vec<ControlFeedback>,
    /// Per region id of the answer: `right` (it matches a gold region) or `wrong`.
    pub regions: BTreeMap<String, String>,
    /// Per region id of the ground truth: `found` or `missed`.
    pub expected_regions: BTreeMap<String, String>,
    /// How many gold regions the answer missed.
    pub missed: usize,
    /// The annotator's result.
    #[schema(value_type = Vec<Object>)]
    pub answer: Vec<Value>,
    /// The ground-truth result (empty when there is none).
    #[schema(value_type = Vec<Object>)]
    pub ground_truth: Vec<Value>,
    /// The task's `explanation` data field, shown as text.
    pub explanation: Option<String>,
}

/// One control's verdict.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ControlFeedback {
    pub control: String,
    /// `regions` (boxes, polygons, spans, …) or `answer` (classes, values).
    pub kind: String,
    /// Against the ground truth, 0 to 1.
    pub score: f64,
    /// `right` (score 1), `partly` or `wrong` (score 0).
    pub verdict: String,
    /// For whole-task answers: what the annotator answered and what was expected.
    pub given: Option<Vec<String>>,
    pub expected: Option<Vec<String>>,
}

impl Engine {
    /// In a training project, puts the next gold task the person has not
    /// done first in their queue (see the [module](self)); in a
    /// qualification test, refuses `next`: its tasks are taken in attempts.
    pub(crate) async fn training_turn(&self, project: &Project, user: &User) -> Result<()> {
        match project.kind {
            ProjectKind::Labeling => Ok(()),
            ProjectKind::Qualification => Err(Error {
                problems: Some(serde_json::json!({"qualification_test": project.id})),
                ..Error::new(
                    Code::Conflict,
                    "this project is a qualification test: take it from its qualification page",
                )
            }),
            ProjectKind::Training => {
                if self.store.holds_reservation(project.id, user.id).await? {
                    return Ok(());
                }
                let Some(task) = self.store.training_candidate(project.id, user.id).await? else {
                    return Ok(());
                };
                self.store
                    .assign_tasks(
                        QueueProject::from(project),
                        vec![task],
                        user.id,
                        None,
                        Timestamp::now().millis(),
                    )
                    .await?;
                Ok(())
            }
        }
    }

    /// The feedback on a submit in a training project (`None` elsewhere; a
    /// failure is logged, never the submit's).
    pub(crate) async fn feedback_after_submit(
        &self,
        project: &Project,
        annotation: &AnnotationRow,
    ) -> Option<TrainingFeedback> {
        if project.kind != ProjectKind::Training {
            return None;
        }
        match self.training_feedback(project, annotation).await {
            Ok(feedback) => Some(feedback),
            Err(err) => {
                tracing::warn!(project = project.id.0, annotation = annotation.id.0, error = %err.message,
                    "training feedback failed");
                None
            }
        }
    }

    /// The feedback on one's own annotation in a training project, again.
    pub async fn annotation_feedback(
        &self,
        actor: &Actor,
        id: AnnotationId,
    ) -> Result<TrainingFeedback> {
        let (project, row) = self
            .annotation_access(actor, id, "see its feedback")
            .await?;
        let own = actor
            .user()
            .is_some_and(|user| row.completed_by == Some(user.id));
        if !own {
            return Err(Error::forbidden(
                "only its annotator sees an annotation's training feedback",
            ));
        }
        if project.kind != ProjectKind::Training {
            return Err(Error::new(
                Code::Conflict,
                "feedback is given in training projects only",
            ));
        }
        self.training_feedback(&project, &row).await
    }

    async fn training_feedback(
        &self,
        project: &Project,
        annotation: &AnnotationRow,
    ) -> Result<TrainingFeedback> {
        let task = self
            .store
            .task(annotation.task_id)
            .await
            .or_not_found("task")?;
        let data: Value = serde_json::from_str(&task.data)
            .map_err(|err| Error::internal(format!("stored task data: {err}")))?;
        let explanation = data
            .get("explanation")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let answer = parse_values(&annotation.result)?;
        let gold = self.store.ground_truth_of(annotation.task_id).await?;
        let ground_truth = match &gold {
            Some(gold) => parse_values(&gold.result)?,
            None => Vec::new(),
        };
        let mut feedback = TrainingFeedback {
            annotation_id: annotation.id,
            task_id: annotation.task_id,
            score: None,
            controls: Vec::new(),
            regions: BTreeMap::new(),
            expected_regions: BTreeMap::new(),
            missed: 0,
            answer,
            ground_truth,
            explanation,
        };
        if gold.is_none() {
            return Ok(feedback);
        }
        let (config, _) = gloss_schema::parse(&project.label_config);
        let items = parse_items(&annotation.result)?;
        let gold_items = parse_items(&gold.map(|g| g.result).unwrap_or_default())?;
        let compared = results_feedback(&config, &items, &gold_items);
        feedback.score = compared.score;
        feedback.controls = compared.controls;
        feedback.regions = compared.regions;
        feedback.missed = compared
            .expected_regions
            .values()
            .filter(|state| *state == "missed")
            .count();
        feedback.expected_regions = compared.expected_regions;
        Ok(feedback)
    }
}

/// An answer compared with the ground truth.
pub(crate) struct ResultsFeedback {
    pub score: Option<f64>,
    pub controls: Vec<ControlFeedback>,
    pub regions: BTreeMap<String, String>,
    pub expected_regions: BTreeMap<String, String>,
}

/// Compares an answer with the ground truth: the score per control, each
/// region right or wrong, each gold region found or missed.
pub(crate) fn results_feedback(
    config: &gloss_schema::LabelConfig,
    items: &[ResultItem],
    gold_items: &[ResultItem],
) -> ResultsFeedback {
    let scores = crate::gold::scores_against_gold(config, gold_items, items);
    let (regions, _) =
        crate::compare::compare_results(config, &[items.to_vec(), gold_items.to_vec()]);
    let mut regions = regions.into_iter();
    let mine = regions.next().unwrap_or_default();
    let theirs = regions.next().unwrap_or_default();
    let mut controls = Vec::new();
    for score in &scores {
        let Some(control) = config.controls.iter().find(|c| c.name == score.control) else {
            continue;
        };
        let whole = matches!(
            Kind::of(control, config),
            Some(Kind::Classes | Kind::Values)
        );
        let verdict = if score.score >= 1.0 - 1e-9 {
            "right"
        } else if score.score > 0.0 {
            "partly"
        } else {
            "wrong"
        };
        controls.push(ControlFeedback {
            control: score.control.clone(),
            kind: if whole { "answer" } else { "regions" }.to_owned(),
            score: score.score,
            verdict: verdict.to_owned(),
            given: whole.then(|| answer_texts(items, &control.name)),
            expected: whole.then(|| answer_texts(gold_items, &control.name)),
        });
    }
    let score = (!scores.is_empty())
        .then(|| scores.iter().map(|s| s.score).sum::<f64>() / scores.len() as f64);
    ResultsFeedback {
        score,
        controls,
        regions: mine
            .into_iter()
            .map(|(id, state)| {
                let verdict = if state == "matched" { "right" } else { "wrong" };
                (id, verdict.to_owned())
            })
            .collect(),
        expected_regions: theirs
            .into_iter()
            .map(|(id, state)| {
                let verdict = if state == "matched" {
                    "found"
                } else {
                    "missed"
                };
                (id, verdict.to_owned())
            })
            .collect(),
    }
}

/// The classes or values a result gives for a whole-task control, as text.
fn answer_texts(items: &[ResultItem], control: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for item in items.iter().filter(|item| item.from_name == control) {
        match &item.value {
            ResultValue::Choices(v) => texts.extend(v.choices.iter().cloned()),
            ResultValue::Taxonomy(v) => {
                texts.extend(v.taxonomy.iter().map(|path| path.join(" / ")))
            }
            ResultValue::Rating(v) => texts.push(v.rating.to_string()),
            ResultValue::Number(v) => texts.push(v.number.to_string()),
            ResultValue::Pairwise(v) => texts.push(v.selected.clone()),
            _ => {}
        }
    }
    texts
}

pub(crate) fn parse_items(text: &str) -> Result<Vec<ResultItem>> {
    serde_json::from_str(text).map_err(|err| Error::internal(format!("a stored result: {err}")))
}

fn parse_values(text: &str) -> Result<Vec<Value>> {
    serde_json::from_str(text).map_err(|err| Error::internal(format!("a stored result: {err}")))
}
