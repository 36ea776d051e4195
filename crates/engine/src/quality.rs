//! A project's quality report: agreement between annotators per control,
//! per label, per pair of annotators, per task and per day; each
//! annotator's agreement with the consensus, accuracy against ground truth,
//! rejection rate and throughput. The metrics are `gloss-quality`'s; this
//! module turns stored results into its answers.
//!
//! Each supported control gives every annotation one answer
//! ([`Answer`]): `Choices`, `Taxonomy`, `Rating`, `Number`
//! and `Pairwise` give classes (a rating is the class "4"), `RectangleLabels`
//! and `PolygonLabels` shapes (in pixels when the result has the image's
//! size, else in percent), `KeyPointLabels` keypoint objects, `BrushLabels`
//! masks, `Labels` on a `<Text>` spans, `Labels` on an `<Audio>` time
//! segments (as one-dimensional boxes: IoU is the overlap in time over the
//! union), a `Ranker` without buckets the rank of each item. Two answers agree by [`score_against_gold`]: classes equal
//! (1 or 0), shapes and spans by F1 (IoU ≥ 0.5 for shapes, exact spans),
//! keypoint objects by OKS (the mean of both directions, as OKS takes one
//! side's scale), masks by pixel IoU per label, rankings by Kendall's tau. A task's agreement is the mean over its pairs of
//! annotators. Ground-truth annotations are the gold others are scored
//! against, not annotators; cancelled (skipped) annotations and those of
//! annotators unknown here are left out.

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::Engine;
use gloss_quality::aggregate::{dawid_skene, majority_vote, DawidSkeneOptions, TiePolicy};
use gloss_quality::categorical::{cohen_kappa, krippendorff_alpha, CohenWeights, Level};
use gloss_quality::gold::{score_against_gold, Answer};
use gloss_quality::spatial::{BBox, LabeledShape, Shape};
use gloss_quality::text::Span;
use gloss_quality::{Rating, RatingsTable};
use gloss_schema::{ControlKind, ControlTag, LabelConfig, ObjectKind};
use gloss_types::result::{ResultItem, ResultValue};
use gloss_types::{ConsensusMethod, ProjectId, ProjectRole, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// Tasks read per page.
const PAGE: u32 = 1000;
/// How many of the least agreed tasks the report lists.
const TASKS_TO_CHECK: usize = 20;

/// The window of a report: annotations last changed in `[since, until)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct QualityWindow {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// A project's quality report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QualityReport {
    /// Annotations counted (not cancelled, by known annotators, in the window).
    pub annotations: i64,
    /// Tasks with at least one of them.
    pub tasks: i64,
    /// Tasks with two annotators or more: those agreement is measured on.
    pub overlapping_tasks: i64,
    pub controls: Vec<ControlQuality>,
    pub annotators: Vec<AnnotatorQuality>,
    /// Per day (UTC) of the annotations' last change.
    pub over_time: Vec<DayQuality>,
    /// The tasks annotators agree on least, worst first.
    pub tasks_to_check: Vec<TaskAgreement>,
    pub computed_at: Timestamp,
}

/// Agreement on one control.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ControlQuality {
    pub control: String,
    /// `classes`, `values` (ratings and numbers), `shapes`, `spans` or `ranking`.
    pub kind: String,
    /// Mean task agreement over tasks with two answers or more (0 to 1; for
    /// rankings Kendall's tau, −1 to 1); `None` without such tasks.
    pub agreement: Option<f64>,
    /// Krippendorff's alpha over tasks × annotators (nominal for classes,
    /// interval for values); `None` for other kinds or when undefined.
    pub alpha: Option<f64>,
    pub labels: Vec<LabelAgreement>,
    pub pairs: Vec<PairAgreement>,
    /// Classes and values: how often annotators' labels meet on a task.
    pub confusion: Option<Confusion>,
}

/// Agreement on one label: classes, the specific agreement (twice the
/// pairs both chose it over the times either did); shapes and spans, the
/// mean F1 of the pairs where either used it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LabelAgreement {
    pub label: String,
    pub agreement: Option<f64>,
    /// How many answers use it.
    pub uses: i64,
}

/// Agreement of two annotators over the tasks both answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PairAgreement {
    pub a: String,
    pub b: String,
    pub tasks: i64,
    pub agreement: Option<f64>,
    /// Cohen's kappa (classes and values); `None` when undefined.
    pub kappa: Option<f64>,
}

/// Counts of label pairs given to one task by two annotators (both orders).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Confusion {
    pub labels: Vec<String>,
    /// `counts[i][j]`: times one annotator gave `labels[i]` where another gave `labels[j]`.
    pub counts: Vec<Vec<i64>>,
}

/// One annotator's figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnnotatorQuality {
    pub username: String,
    pub annotations: i64,
    /// Classes: the share of their answers equal to the task's majority
    /// label; other kinds: their mean agreement with the task's other
    /// annotators. Over every control; `None` without overlap.
    pub agreement_with_consensus: Option<f64>,
    /// Answers scored against ground truth.
    pub gold_answers: i64,
    /// Their mean score against ground truth.
    pub gold_accuracy: Option<f64>,
    /// For classes: their accuracy on gold tasks of each gold class
    /// (`agreement` is the accuracy, `uses` the answers).
    pub gold_by_label: Vec<LabelAgreement>,
    /// Their score against ground truth per day (UTC) of their answers.
    pub gold_by_day: Vec<GoldDay>,
    /// Verdicts their annotations got, and the rejections among them.
    pub reviewed: i64,
    pub rejected: i64,
    pub rejection_rate: Option<f64>,
    /// Hours of work (the annotations' lead times).
    pub hours: f64,
    /// Annotations per hour of work; `None` without lead times.
    pub per_hour: Option<f64>,
}

/// One day's annotations and agreement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayQuality {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub annotations: i64,
    /// Mean agreement of the tasks whose last annotation came that day.
    pub agreement: Option<f64>,
    /// Answers to gold tasks that day, and their mean score against the
    /// ground truth.
    pub gold_answers: i64,
    pub gold_accuracy: Option<f64>,
}

/// One annotator's answers to gold tasks on one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GoldDay {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub answers: i64,
    /// Their mean score against the ground truth.
    pub accuracy: Option<f64>,
}

/// A task's agreement (mean over its controls).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskAgreement {
    pub task_id: i64,
    pub agreement: f64,
    pub annotators: Vec<String>,
}

/// What one control's answers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Classes,
    Values,
    Shapes,
    Keypoints,
    Masks,
    Spans,
    /// Time segments on an `<Audio>` (speakers, classes), compared as
    /// one-dimensional shapes.
    Segments,
    Ranking,
}

impl Kind {
    pub(crate) fn of(control: &ControlTag, config: &LabelConfig) -> Option<Kind> {
        Some(match control.kind {
            ControlKind::Choices | ControlKind::Taxonomy | ControlKind::Pairwise
                if !control.per_region && !control.per_item() =>
            {
                Kind::Classes
            }
            ControlKind::Rating | ControlKind::Number
                if !control.per_region && !control.per_item() =>
            {
                Kind::Values
            }
            ControlKind::RectangleLabels | ControlKind::PolygonLabels => Kind::Shapes,
            ControlKind::KeyPointLabels => Kind::Keypoints,
            ControlKind::BrushLabels => Kind::Masks,
            ControlKind::Labels => {
                let on = |kind: ObjectKind| {
                    control
                        .to_names
                        .iter()
                        .any(|name| config.object(name).is_some_and(|o| o.kind == kind))
                };
                if on(ObjectKind::Text) {
                    Kind::Spans
                } else if on(ObjectKind::Audio) {
                    Kind::Segments
                } else {
                    return None;
                }
            }
            ControlKind::Ranker if control.buckets.is_empty() => Kind::Ranking,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Classes => "classes",
            Kind::Values => "values",
            Kind::Shapes => "shapes",
            Kind::Keypoints => "keypoints",
            Kind::Masks => "masks",
            Kind::Spans => "spans",
            Kind::Segments => "segments",
            Kind::Ranking => "ranking",
        }
    }
}

/// The labels and label sets of one classes or values control, interned:
/// an answer is the id of its set of labels.
#[derive(Default, Clone, Serialize, Deserialize)]
pub(crate) struct ClassCodes {
    labels: Vec<String>,
    label_ids: HashMap<String, u32>,
    /// Each set's labels, sorted by id.
    sets: Vec<Vec<u32>>,
    set_ids: HashMap<Vec<u32>, u32>,
}

impl ClassCodes {
    fn set_of<'a>(&mut self, classes: impl Iterator<Item = &'a str>) -> Option<u32> {
        let mut set: Vec<u32> = classes
            .map(|class| match self.label_ids.get(class) {
                Some(id) => *id,
                None => {
                    let id = self.labels.len() as u32;
                    self.labels.push(class.to_owned());
                    self.label_ids.insert(class.to_owned(), id);
                    id
                }
            })
            .collect();
        if set.is_empty() {
            return None;
        }
        set.sort_unstable();
        set.dedup();
        let next = self.sets.len() as u32;
        Some(*self.set_ids.entry(set.clone()).or_insert_with(|| {
            self.sets.push(set);
            next
        }))
    }

    /// A set's name: its labels joined by ` + `, in name order.
    pub(crate) fn set_name(&self, set: u32) -> String {
        let mut names: Vec<&str> = self.sets[set as usize]
            .iter()
            .map(|l| self.labels[*l as usize].as_str())
            .collect();
        names.sort_unstable();
        names.join(" + ")
    }
}

/// One annotation's answer to one control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Given {
    /// Classes and values: the interned set of labels.
    Set(u32),
    /// Shapes, spans, rankings.
    Answer(Answer),
}

impl Given {
    /// How far two answers agree (see the [module](self)).
    pub(crate) fn agreement(&self, other: &Given) -> Option<f64> {
        match (self, other) {
            (Given::Set(a), Given::Set(b)) => Some(f64::from(u8::from(a == b))),
            // OKS takes the reference's scale and joints: agreement is the
            // mean of both directions.
            (Given::Answer(a @ Answer::Poses(_)), Given::Answer(b)) => {
                Some((score_against_gold(a, b).ok()? + score_against_gold(b, a).ok()?) / 2.0)
            }
            (Given::Answer(a), Given::Answer(b)) => score_against_gold(a, b).ok(),
            _ => None,
        }
    }

    /// The score of `answer` with `self` as the gold (the reference's side
    /// of OKS; the same as [`Given::agreement`] for every other kind).
    pub(crate) fn score_of(&self, answer: &Given) -> Option<f64> {
        match (self, answer) {
            (Given::Answer(gold), Given::Answer(answer)) => score_against_gold(gold, answer).ok(),
            _ => self.agreement(answer),
        }
    }
}

/// One annotation as the report reads it.
#[derive(Serialize, Deserialize)]
struct Work {
    annotator: usize,
    updated_at: i64,
    lead_time: Option<f64>,
    /// Per control (by index), its answer, if the annotation has one.
    answers: Vec<Option<Given>>,
}

/// Sums for a mean.
#[derive(Default, Clone, Copy)]
struct Mean {
    sum: f64,
    n: i64,
}

impl Mean {
    fn add(&mut self, value: f64) {
        self.sum += value;
        self.n += 1;
    }
    fn get(self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
}

/// Means per pair of annotators, `[b][a]` for `a < b`, grown as annotators appear.
#[derive(Default)]
struct PairMeans(Vec<Vec<Mean>>);

impl PairMeans {
    fn add(&mut self, a: usize, b: usize, value: f64) {
        let (a, b) = if a < b { (a, b) } else { (b, a) };
        while self.0.len() <= b {
            let n = self.0.len();
            self.0.push(vec![Mean::default(); n]);
        }
        self.0[b][a].add(value);
    }

    /// `(a, b, mean)` for every pair with a value, `a < b`.
    fn iter(&self) -> impl Iterator<Item = (usize, usize, Mean)> + '_ {
        self.0.iter().enumerate().flat_map(|(b, row)| {
            row.iter()
                .enumerate()
                .filter(|(_, mean)| mean.n > 0)
                .map(move |(a, mean)| (a, b, *mean))
        })
    }
}

/// What is gathered for one control while tasks are read.
#[derive(Default)]
struct ControlSums {
    tasks: Mean,
    pairs: PairMeans,
    /// Classes and values: the interned labels, and per label (by id) the
    /// specific agreement's numerator and denominator and its uses.
    codes: ClassCodes,
    label_hits: Vec<(f64, f64)>,
    label_uses: Vec<i64>,
    /// Shapes and spans: per label, the mean F1 of pairs using it, and uses.
    label_scores: BTreeMap<String, Mean>,
    named_uses: BTreeMap<String, i64>,
    /// Classes and values: (task, annotator, set) for alpha, kappa, the
    /// majority and the confusion matrix.
    ratings: Vec<Rating>,
}

impl ControlSums {
    /// Adds one task's answers (one per annotator) to the sums; returns the
    /// task's agreement when two annotators or more answered.
    fn add_task(&mut self, kind: Kind, task: u32, answered: &[(usize, &Given)]) -> Option<f64> {
        for (annotator, given) in answered {
            match given {
                Given::Set(set) => {
                    self.ratings.push(Rating {
                        item: task,
                        annotator: *annotator as u32,
                        label: *set,
                    });
                    for label in &self.codes.sets[*set as usize] {
                        let label = *label as usize;
                        if self.label_uses.len() <= label {
                            self.label_uses.resize(label + 1, 0);
                            self.label_hits.resize(label + 1, (0.0, 0.0));
                        }
                        self.label_uses[label] += 1;
                    }
                }
                Given::Answer(answer) => {
                    for label in answer_labels(answer) {
                        *self.named_uses.entry(label).or_default() += 1;
                    }
                }
            }
        }
        let n = answered.len();
        if n < 2 {
            return None;
        }
        let mut task_mean = Mean::default();
        for (i, (a, given_a)) in answered.iter().enumerate() {
            for (b, given_b) in &answered[i + 1..] {
                let Some(score) = given_a.agreement(given_b) else {
                    continue;
                };
                task_mean.add(score);
                self.pairs.add(*a, *b, score);
                if let (Given::Answer(x), Given::Answer(y)) = (given_a, given_b) {
                    self.label_scores_of(kind, x, y);
                }
            }
        }
        // Specific agreement per label, from how many answers hold it:
        // `m(m − 1)` ordered pairs share it among `(n − 1)·m` mentions.
        let mut holders: Vec<(u32, f64)> = Vec::new();
        for (_, given) in answered {
            if let Given::Set(set) = given {
                for label in &self.codes.sets[*set as usize] {
                    match holders.iter_mut().find(|(l, _)| l == label) {
                        Some(entry) => entry.1 += 1.0,
                        None => holders.push((*label, 1.0)),
                    }
                }
            }
        }
        let others = (n - 1) as f64;
        for (label, m) in holders {
            let entry = &mut self.label_hits[label as usize];
            entry.0 += m * (m - 1.0);
            entry.1 += others * m;
        }
        let mean = task_mean.get()?;
        self.tasks.add(mean);
        Some(mean)
    }

    /// Shapes and spans: the F1 of each label's shapes or spans alone.
    fn label_scores_of(&mut self, kind: Kind, a: &Answer, b: &Answer) {
        let mut labels: Vec<String> = answer_labels(a);
        labels.extend(answer_labels(b));
        labels.sort_unstable();
        labels.dedup();
        for label in labels {
            let only = |answer: &Answer| match answer {
                Answer::Shapes(shapes) => Answer::Shapes(
                    shapes
                        .iter()
                        .filter(|s| s.label == label)
                        .cloned()
                        .collect(),
                ),
                Answer::Spans(spans) => {
                    Answer::Spans(spans.iter().filter(|s| s.label == label).cloned().collect())
                }
                Answer::Poses(poses) => {
                    Answer::Poses(poses.iter().filter(|p| p.label == label).cloned().collect())
                }
                Answer::Masks(masks) => {
                    Answer::Masks(masks.iter().filter(|m| m.label == label).cloned().collect())
                }
                other => other.clone(),
            };
            if matches!(
                kind,
                Kind::Shapes | Kind::Spans | Kind::Keypoints | Kind::Masks | Kind::Segments
            ) {
                let score = Given::Answer(only(a)).agreement(&Given::Answer(only(b)));
                if let Some(score) = score {
                    self.label_scores.entry(label).or_default().add(score);
                }
            }
        }
    }

    /// The ratings as a table for alpha and kappa: labels (sets) in name
    /// order, or by value for values.
    fn table(&self, kind: Kind, tasks: &[String], names: &[String]) -> Option<RatingsTable> {
        if self.ratings.is_empty() {
            return None;
        }
        let named: Vec<String> = (0..self.codes.sets.len() as u32)
            .map(|set| self.codes.set_name(set))
            .collect();
        let numbers: Option<Vec<f64>> = match kind {
            Kind::Values => named.iter().map(|n| n.parse::<f64>().ok()).collect(),
            _ => None,
        };
        let mut order: Vec<usize> = (0..named.len()).collect();
        match &numbers {
            Some(values) => order.sort_by(|&a, &b| values[a].total_cmp(&values[b])),
            None => order.sort_by(|&a, &b| named[a].cmp(&named[b])),
        }
        let mut code = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            code[old] = new as u32;
        }
        let ratings = self
            .ratings
            .iter()
            .map(|r| Rating {
                label: code[r.label as usize],
                ..*r
            })
            .collect();
        RatingsTable::from_codes(
            tasks.to_vec(),
            names.to_vec(),
            order.iter().map(|&i| named[i].clone()).collect(),
            numbers.map(|values| order.iter().map(|&i| values[i]).collect()),
            ratings,
        )
        .ok()
    }
}

/// The most projects whose answers are kept between reports.
const CACHED_PROJECTS: usize = 4;
/// More changed tasks than this since the last report: read everything again.
const MAX_CHANGED_TASKS: i64 = 5_000;

/// One task's answers as the report reads them.
#[derive(Serialize, Deserialize)]
struct TaskAnswers {
    /// Its annotations of every kind, and those that are ground truth, to
    /// check the cache against the database.
    rows: i64,
    ground_truths: i64,
    /// The first ground-truth annotation: its last change and answers.
    gold: Option<(i64, Vec<Option<Given>>)>,
    /// One per annotator (their latest), cancelled ones and those of
    /// annotators unknown here left out.
    works: Vec<Work>,
}

/// A project's answers, kept between reports (see [`Engine::quality_answers`]).
#[derive(Default)]
pub(crate) struct ProjectAnswers {
    /// The label config they were read under (SHA-256, hex): other
    /// settings do not change the answers.
    config_digest: String,
    /// The annotations' count, last change and ground truths when last
    /// brought up to date.
    watermark: [i64; 3],
    config: LabelConfig,
    /// Per scored control, its interned classes.
    codes: Vec<ClassCodes>,
    names: Vec<String>,
    name_index: HashMap<String, usize>,
    tasks: BTreeMap<i64, TaskAnswers>,
    /// Tasks read again since the answers were last saved to disk.
    unsaved_tasks: usize,
}

/// The answers of a project as they are saved on disk (see
/// [`Engine::quality_answers`]); `tasks` is a `BTreeMap` when read.
#[derive(Serialize)]
struct SavedAnswers<'a> {
    format: u32,
    version: &'a str,
    config_digest: &'a str,
    watermark: [i64; 3],
    codes: &'a [ClassCodes],
    names: &'a [String],
    tasks: &'a BTreeMap<i64, TaskAnswers>,
}

#[derive(Deserialize)]
struct LoadedAnswers {
    format: u32,
    version: String,
    config_digest: String,
    watermark: [i64; 3],
    codes: Vec<ClassCodes>,
    names: Vec<String>,
    tasks: BTreeMap<i64, TaskAnswers>,
}

/// The folder under the cache folder where the quality report's answers
/// are saved between server runs (a restore empties it: they describe the
/// old database).
pub fn saved_answers_dir(cache_dir: &std::path::Path) -> std::path::PathBuf {
    cache_dir.join("quality")
}

/// The SHA-256 of a label config, in hex: which config answers were read under.
fn config_digest(label_config: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(label_config.as_bytes()))
}

/// Saved answers in another layout are not read: bump this when a type
/// they hold (here or in `gloss-quality`) changes.
const SAVED_ANSWERS_FORMAT: u32 = 2;
/// Save the answers again after this many tasks were read again.
const SAVE_AFTER_TASKS: usize = 1_000;

impl ProjectAnswers {
    /// The answers in their on-disk form.
    fn to_bytes(&self) -> Option<Vec<u8>> {
        postcard::to_stdvec(&SavedAnswers {
            format: SAVED_ANSWERS_FORMAT,
            version: env!("CARGO_PKG_VERSION"),
            config_digest: &self.config_digest,
            watermark: self.watermark,
            codes: &self.codes,
            names: &self.names,
            tasks: &self.tasks,
        })
        .ok()
    }

    /// Answers saved by [`ProjectAnswers::to_bytes`] for `project` as it is
    /// now (`None` for another layout, build or label config).
    fn from_bytes(bytes: &[u8], project: &gloss_types::Project) -> Option<ProjectAnswers> {
        let loaded: LoadedAnswers = postcard::from_bytes(bytes).ok()?;
        if loaded.format != SAVED_ANSWERS_FORMAT
            || loaded.version != env!("CARGO_PKG_VERSION")
            || loaded.config_digest != config_digest(&project.label_config)
        {
            return None;
        }
        let mut answers = ProjectAnswers::new(project);
        if loaded.codes.len() != answers.codes.len() {
            return None;
        }
        answers.watermark = loaded.watermark;
        answers.codes = loaded.codes;
        answers.name_index = loaded
            .names
            .iter()
            .enumerate()
            .map(|(index, name)| (name.clone(), index))
            .collect();
        answers.names = loaded.names;
        answers.tasks = loaded.tasks;
        Some(answers)
    }
}

/// The cached answers of the projects reported on lately.
#[derive(Default)]
pub(crate) struct AnswerCache(
    std::sync::Mutex<
        Vec<(
            ProjectId,
            std::sync::Arc<tokio::sync::Mutex<ProjectAnswers>>,
        )>,
    >,
);

impl std::fmt::Debug for AnswerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let projects = self.0.lock().map(|c| c.len()).unwrap_or(0);
        f.debug_struct("AnswerCache")
            .field("projects", &projects)
            .finish()
    }
}

/// How a project's consensus weighs its annotators, made from the kept
/// answers when a consensus is asked for (once per export).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConsensusModel {
    /// Each annotator's reliability in `[0, 1]` by username: their mean
    /// score against gold when they answered gold tasks, else their mean
    /// agreement with the other annotators of their tasks. Empty: every vote
    /// counts the same.
    pub(crate) weights: HashMap<String, f64>,
    /// Dawid–Skene's label (a class set's name, see [`ClassCodes::set_name`])
    /// per classes control name and task id.
    pub(crate) labels: HashMap<String, HashMap<i64, String>>,
}

impl ConsensusModel {
    /// The weights of `voters` (usernames, `None` for an annotator without
    /// an account): an annotator without a reliability weighs the mean of
    /// those who have one.
    pub(crate) fn weights_of(&self, voters: &[Option<&str>]) -> Vec<f64> {
        if self.weights.is_empty() {
            return vec![1.0; voters.len()];
        }
        let known: Vec<Option<f64>> = voters
            .iter()
            .map(|name| name.and_then(|name| self.weights.get(name).copied()))
            .collect();
        let values: Vec<f64> = known.iter().flatten().copied().collect();
        let mean = if values.is_empty() {
            1.0
        } else {
            values.iter().sum::<f64>() / values.len() as f64
        };
        known.into_iter().map(|w| w.unwrap_or(mean)).collect()
    }

    /// The labels Dawid–Skene decided for one task, by control name.
    pub(crate) fn decided(&self, task: i64) -> HashMap<String, String> {
        self.labels
            .iter()
            .filter_map(|(control, tasks)| Some((control.clone(), tasks.get(&task)?.clone())))
            .collect()
    }
}

impl ProjectAnswers {
    /// Each annotator's reliability (see [`ConsensusModel::weights`]).
    fn reliabilities(&self) -> HashMap<String, f64> {
        let mut gold = vec![Mean::default(); self.names.len()];
        let mut others = vec![Mean::default(); self.names.len()];
        for task in self.tasks.values() {
            for (i, work) in task.works.iter().enumerate() {
                if let Some((_, gold_answers)) = &task.gold {
                    for (gold_answer, answer) in gold_answers.iter().zip(&work.answers) {
                        if let Some(gold_answer) = gold_answer {
                            let score = answer
                                .as_ref()
                                .and_then(|answer| gold_answer.score_of(answer))
                                .unwrap_or(0.0);
                            gold[work.annotator].add(score);
                        }
                    }
                }
                for other in &task.works[i + 1..] {
                    for (a, b) in work.answers.iter().zip(&other.answers) {
                        if let Some(score) =
                            a.as_ref().zip(b.as_ref()).and_then(|(a, b)| a.agreement(b))
                        {
                            others[work.annotator].add(score);
                            others[other.annotator].add(score);
                        }
                    }
                }
            }
        }
        self.names
            .iter()
            .enumerate()
            .filter_map(|(index, name)| {
                let reliability = gold[index].get().or(others[index].get())?;
                Some((name.clone(), reliability.clamp(0.0, 1.0)))
            })
            .collect()
    }

    /// Dawid–Skene over every task's answers, per classes control: the
    /// most probable class set of each task.
    fn dawid_skene_labels(&self) -> HashMap<String, HashMap<i64, String>> {
        let mut decided = HashMap::new();
        let task_ids: Vec<i64> = self.tasks.keys().copied().collect();
        for (index, (control, kind)) in self.controls().iter().enumerate() {
            if *kind != Kind::Classes {
                continue;
            }
            let codes = &self.codes[index];
            let mut ratings = Vec::new();
            for (item, task) in self.tasks.values().enumerate() {
                for work in &task.works {
                    if let Some(Given::Set(set)) = work.answers[index] {
                        ratings.push(Rating {
                            item: item as u32,
                            annotator: work.annotator as u32,
                            label: set,
                        });
                    }
                }
            }
            if ratings.is_empty() {
                continue;
            }
            let table = RatingsTable::from_codes(
                task_ids.iter().map(|id| id.to_string()).collect(),
                self.names.clone(),
                (0..codes.sets.len() as u32)
                    .map(|set| codes.set_name(set))
                    .collect(),
                None,
                ratings,
            );
            let Ok(result) = table.and_then(|t| dawid_skene(&t, DawidSkeneOptions::default()))
            else {
                continue;
            };
            let labels: HashMap<i64, String> = task_ids
                .iter()
                .zip(result.labels)
                .filter_map(|(task, set)| Some((*task, codes.set_name(set?))))
                .collect();
            decided.insert(control.name.clone(), labels);
        }
        decided
    }

    fn new(project: &gloss_types::Project) -> ProjectAnswers {
        let (config, _) = gloss_schema::parse(&project.label_config);
        let controls = config
            .controls
            .iter()
            .filter(|c| Kind::of(c, &config).is_some())
            .count();
        ProjectAnswers {
            config_digest: config_digest(&project.label_config),
            codes: (0..controls).map(|_| ClassCodes::default()).collect(),
            config,
            ..ProjectAnswers::default()
        }
    }

    /// The scored controls, in config order.
    fn controls(&self) -> Vec<(ControlTag, Kind)> {
        self.config
            .controls
            .iter()
            .filter_map(|c| Kind::of(c, &self.config).map(|kind| (c.clone(), kind)))
            .collect()
    }

    /// A task's answers from its annotation rows.
    fn read_task(
        &mut self,
        controls: &[(ControlTag, Kind)],
        rows: &[&gloss_store::AnnotationRow],
    ) -> Result<TaskAnswers> {
        let mut task = TaskAnswers {
            rows: rows.len() as i64,
            ground_truths: rows.iter().filter(|r| r.ground_truth).count() as i64,
            gold: None,
            works: Vec::new(),
        };
        // Nothing scored: the counts are all that is kept.
        if controls.is_empty() {
            return Ok(task);
        }
        for row in rows {
            if row.was_cancelled {
                continue;
            }
            let items: Vec<ResultItem> = serde_json::from_str(&row.result)
                .map_err(|err| Error::internal(format!("a stored result: {err}")))?;
            let answers: Vec<Option<Given>> = controls
                .iter()
                .zip(self.codes.iter_mut())
                .map(|((control, kind), codes)| given_answer(control, *kind, &items, codes))
                .collect();
            if row.ground_truth {
                if task.gold.is_none() {
                    task.gold = Some((row.updated_at, answers));
                }
                continue;
            }
            let Some(name) = &row.username else {
                continue;
            };
            let annotator = match self.name_index.get(name) {
                Some(index) => *index,
                None => {
                    self.names.push(name.clone());
                    self.name_index.insert(name.clone(), self.names.len() - 1);
                    self.names.len() - 1
                }
            };
            let work = Work {
                annotator,
                updated_at: row.updated_at,
                lead_time: row.lead_time,
                answers,
            };
            // One answer per annotator and task: their latest.
            match task.works.iter_mut().find(|w| w.annotator == annotator) {
                Some(known) if known.updated_at >= row.updated_at => {}
                Some(known) => *known = work,
                None => task.works.push(work),
            }
        }
        Ok(task)
    }

    /// The kept annotations and ground truths, to check against the database.
    fn totals(&self) -> [i64; 2] {
        self.tasks.values().fold([0, 0], |[rows, truths], task| {
            [rows + task.rows, truths + task.ground_truths]
        })
    }

    /// Keeps a task's answers (or forgets a task without annotations).
    fn put_task(&mut self, id: i64, task: TaskAnswers) {
        if task.rows == 0 {
            self.tasks.remove(&id);
        } else {
            self.tasks.insert(id, task);
        }
    }
}

impl Engine {
    /// The project's answers, brought up to date: read whole the first
    /// time (and when the project's settings changed), else only the tasks
    /// whose annotations changed since the last report, or whose counts
    /// differ after a deletion.
    async fn quality_answers(
        &self,
        project: &gloss_types::Project,
    ) -> Result<std::sync::Arc<tokio::sync::Mutex<ProjectAnswers>>> {
        let entry = {
            let mut cached = self.quality_cache.0.lock().expect("the answer cache");
            let at = cached.iter().position(|(id, _)| *id == project.id);
            let entry = match at {
                Some(at) => cached.remove(at).1,
                None => std::sync::Arc::new(tokio::sync::Mutex::new(ProjectAnswers::default())),
            };
            // Most recently used last; the oldest goes beyond the limit.
            cached.push((project.id, entry.clone()));
            if cached.len() > CACHED_PROJECTS {
                cached.remove(0);
            }
            entry
        };
        {
            let mut answers = entry.lock().await;
            if answers.watermark == [0; 3] {
                if let Some(saved) = self.load_answers(project).await {
                    *answers = saved;
                }
            }
            let mark = self.store.annotation_watermark(project.id).await?;
            let fresh = answers.config_digest == config_digest(&project.label_config)
                && answers.watermark != [0; 3];
            let mut save = false;
            if !fresh || !self.refresh_answers(project, &mut answers, mark).await? {
                *answers = ProjectAnswers::new(project);
                self.read_all_answers(project, &mut answers).await?;
                save = true;
            }
            answers.watermark = mark;
            // An empty project is read whole each time: nothing to save.
            if (save && mark[0] > 0) || answers.unsaved_tasks > SAVE_AFTER_TASKS {
                answers.unsaved_tasks = 0;
                self.save_answers(project.id, &answers);
            }
        }
        Ok(entry)
    }

    /// Where a project's answers are saved between server runs.
    fn answers_path(&self, project: ProjectId) -> std::path::PathBuf {
        saved_answers_dir(&self.config.cache_dir).join(format!("{}.answers", project.0))
    }

    /// The project's saved answers, when they were saved for it as it is
    /// now; a missing or unreadable file is no answers.
    async fn load_answers(&self, project: &gloss_types::Project) -> Option<ProjectAnswers> {
        let path = self.answers_path(project.id);
        let project = project.clone();
        tokio::task::spawn_blocking(move || {
            let bytes = std::fs::read(&path).ok()?;
            ProjectAnswers::from_bytes(&bytes, &project)
        })
        .await
        .ok()
        .flatten()
    }

    /// Saves the answers in the background (to a temporary file, then
    /// renamed over the last one); a failure is logged, never an error: they
    /// are a head start for the next run, checked against the database.
    fn save_answers(&self, project: ProjectId, answers: &ProjectAnswers) {
        let Some(bytes) = answers.to_bytes() else {
            return;
        };
        let path = self.answers_path(project);
        tokio::task::spawn_blocking(move || {
            let saved = (|| {
                let dir = path.parent().expect("a cache folder");
                std::fs::create_dir_all(dir)?;
                let mut file = tempfile::NamedTempFile::new_in(dir)?;
                std::io::Write::write_all(&mut file, &bytes)?;
                file.persist(&path).map_err(|err| err.error)?;
                std::io::Result::Ok(())
            })();
            if let Err(err) = saved {
                tracing::warn!(project = project.0, error = %err, "saving the quality report's answers failed");
            }
        });
    }

    /// Forgets a deleted project's saved answers.
    pub(crate) fn forget_answers(&self, project: ProjectId) {
        let _ = std::fs::remove_file(self.answers_path(project));
    }

    /// Reads the answers of the projects whose annotations changed last
    /// (as many as are kept), so that their first quality report after a
    /// start does not wait for it. Errors are logged: this is only a head
    /// start.
    pub async fn warm_quality_answers(&self) {
        let projects = match self
            .store
            .projects_changed_last(CACHED_PROJECTS as i64)
            .await
        {
            Ok(projects) => projects,
            Err(err) => {
                tracing::warn!(error = %err, "listing projects to warm the quality report failed");
                return;
            }
        };
        // Every other project with annotations but no saved answers (filled
        // while the server was down) is read once and saved, so that its
        // first report does not read it either; then the projects worked on
        // last, the least recent first, so that the most recent stay in
        // memory.
        let mut unsaved = Vec::new();
        let mut page = gloss_types::PageRequest::first(gloss_types::PageRequest::MAX_LIMIT);
        loop {
            let Ok(listed) = self
                .store
                .list_projects(gloss_store::ProjectScope::All, page)
                .await
            else {
                break;
            };
            for project in &listed.items {
                if !projects.contains(&project.id) && !self.answers_path(project.id).exists() {
                    unsaved.push(project.id);
                }
            }
            match listed.next.and_then(|next| next.parse().ok()) {
                Some(after) => page.after = Some(after),
                None => break,
            }
        }
        for id in unsaved {
            self.warm_project_answers(id).await;
        }
        for id in projects.into_iter().rev() {
            self.warm_project_answers(id).await;
        }
    }

    /// Brings one project's kept answers up to date (after an import).
    pub(crate) async fn warm_project_answers(&self, id: ProjectId) {
        let warmed = async {
            let project = self.store.project(id).await?;
            self.quality_answers(&project).await.map(|_| ())
        };
        if let Err(err) = warmed.await {
            tracing::warn!(project = id.0, error = %err.message, "warming the quality report failed");
        }
    }

    /// Reads again the tasks changed since the watermark; `false` when the
    /// cache cannot be brought up to date that way.
    async fn refresh_answers(
        &self,
        project: &gloss_types::Project,
        answers: &mut ProjectAnswers,
        mark: [i64; 3],
    ) -> Result<bool> {
        if mark == answers.watermark {
            return Ok(true);
        }
        // New annotations are changed now, too; an import of old ones is
        // caught by the count below.
        let changed = self
            .store
            .tasks_changed_since(project.id, answers.watermark[1], MAX_CHANGED_TASKS + 1)
            .await?;
        if changed.len() as i64 > MAX_CHANGED_TASKS {
            return Ok(false);
        }
        let controls = answers.controls();
        for task in changed {
            self.read_task_again(&controls, answers, task).await?;
        }
        if answers.totals() == [mark[0], mark[2]] {
            return Ok(true);
        }
        // A deletion changes no annotation's time. Deleted tasks first (the
        // common case, and cheap: the project's task ids from their index),
        // then, if the counts still differ, each task's counts against the
        // kept ones, reading again those that differ.
        let ids: std::collections::HashSet<i64> =
            self.store.task_ids(project.id).await?.into_iter().collect();
        answers.tasks.retain(|task, _| ids.contains(task));
        if answers.totals() == [mark[0], mark[2]] {
            return Ok(true);
        }
        let counts = self.store.annotation_counts_by_task(project.id).await?;
        let mut differing = Vec::new();
        let mut present = std::collections::HashSet::with_capacity(counts.len());
        for (task, rows, truths) in counts {
            present.insert(task);
            let kept = answers.tasks.get(&task).map(|t| (t.rows, t.ground_truths));
            if kept != Some((rows, truths)) {
                differing.push(gloss_types::TaskId(task));
            }
        }
        if differing.len() as i64 > MAX_CHANGED_TASKS {
            return Ok(false);
        }
        answers.tasks.retain(|task, _| present.contains(task));
        for task in differing {
            self.read_task_again(&controls, answers, task).await?;
        }
        Ok(answers.totals() == [mark[0], mark[2]])
    }

    /// Reads one task's answers again from the database.
    async fn read_task_again(
        &self,
        controls: &[(ControlTag, Kind)],
        answers: &mut ProjectAnswers,
        task: gloss_types::TaskId,
    ) -> Result<()> {
        let rows = self.store.task_annotations(task).await?;
        let rows: Vec<&gloss_store::AnnotationRow> = rows.iter().collect();
        let read = answers.read_task(controls, &rows)?;
        answers.put_task(task.0, read);
        answers.unsaved_tasks += 1;
        Ok(())
    }

    async fn read_all_answers(
        &self,
        project: &gloss_types::Project,
        answers: &mut ProjectAnswers,
    ) -> Result<()> {
        let controls = answers.controls();
        let mut reader = self.store.begin_task_read().await?;
        let mut after = 0;
        loop {
            let page = reader.page(project.id, after, PAGE, &[]).await?;
            let Some(last) = page.tasks.last() else {
                break;
            };
            after = last.id.0;
            // Annotations come sorted by task: walk both lists together.
            let mut rows = page.annotations.iter().peekable();
            for task in &page.tasks {
                let mut mine = Vec::new();
                while let Some(row) = rows.next_if(|row| row.task_id == task.id) {
                    mine.push(row);
                }
                if !mine.is_empty() {
                    let read = answers.read_task(&controls, &mine)?;
                    answers.put_task(task.id.0, read);
                }
            }
        }
        reader.finish().await?;
        Ok(())
    }

    /// How the project's consensus weighs its annotators (see
    /// [`ConsensusModel`]), from the kept answers.
    pub(crate) async fn consensus_model(
        &self,
        project: &gloss_types::Project,
    ) -> Result<ConsensusModel> {
        if project.consensus_method == ConsensusMethod::Majority {
            return Ok(ConsensusModel::default());
        }
        let entry = self.quality_answers(project).await?;
        let answers = entry.lock().await;
        let mut model = ConsensusModel {
            weights: answers.reliabilities(),
            labels: HashMap::new(),
        };
        if project.consensus_method == ConsensusMethod::DawidSkene {
            model.labels = answers.dawid_skene_labels();
        }
        Ok(model)
    }

    /// The project's quality report (reviewers and managers).
    pub async fn quality_report(
        &self,
        actor: &Actor,
        project: ProjectId,
        window: QualityWindow,
    ) -> Result<QualityReport> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Reviewer, "see quality")
            .await?;
        let entry = self.quality_answers(&project).await?;
        let answers = entry.lock().await;
        let controls = answers.controls();
        let since = window.since.map_or(i64::MIN, |t| t.millis());
        let until = window.until.map_or(i64::MAX, |t| t.millis());
        let within = |at: i64| at >= since && at < until;

        let names = &answers.names;
        let mut sums: Vec<ControlSums> = answers
            .codes
            .iter()
            .map(|codes| ControlSums {
                codes: codes.clone(),
                ..ControlSums::default()
            })
            .collect();
        let mut task_names: Vec<String> = Vec::new();
        let mut annotator_counts: Vec<(i64, f64, i64)> = vec![(0, 0.0, 0); names.len()];
        let mut with_others: Vec<Mean> = vec![Mean::default(); names.len()];
        let mut gold: Vec<Mean> = vec![Mean::default(); names.len()];
        // Per annotator, their gold score under each gold class.
        let mut gold_labels: Vec<BTreeMap<String, Mean>> = vec![BTreeMap::new(); names.len()];
        // Per day: annotations, task agreement, gold scores.
        let mut days: BTreeMap<i64, (i64, Mean, Mean)> = BTreeMap::new();
        // Per annotator, their gold scores per day.
        let mut gold_days: Vec<BTreeMap<i64, Mean>> = vec![BTreeMap::new(); names.len()];
        let mut task_agreements: Vec<TaskAgreement> = Vec::new();
        let (mut annotation_total, mut overlapping) = (0i64, 0i64);

        for (task_id, task) in &answers.tasks {
            let works: Vec<&Work> = task.works.iter().filter(|w| within(w.updated_at)).collect();
            if works.is_empty() {
                continue;
            }
            let gold_answers = task
                .gold
                .as_ref()
                .filter(|(at, _)| within(*at))
                .map(|(_, answers)| answers);
            let task_code = task_names.len() as u32;
            task_names.push(task_id.to_string());
            annotation_total += works.len() as i64;
            for work in &works {
                let counts = &mut annotator_counts[work.annotator];
                counts.0 += 1;
                if let Some(lead) = work.lead_time {
                    counts.1 += lead;
                    counts.2 += 1;
                }
                days.entry(work.updated_at.div_euclid(86_400_000))
                    .or_default()
                    .0 += 1;
                if let Some(gold_answers) = gold_answers {
                    for (index, (gold_answer, answer)) in
                        gold_answers.iter().zip(&work.answers).enumerate()
                    {
                        if let Some(gold_answer) = gold_answer {
                            let score = answer
                                .as_ref()
                                .and_then(|answer| gold_answer.score_of(answer))
                                .unwrap_or(0.0);
                            gold[work.annotator].add(score);
                            let day = work.updated_at.div_euclid(86_400_000);
                            days.entry(day).or_default().2.add(score);
                            gold_days[work.annotator].entry(day).or_default().add(score);
                            if let Given::Set(set) = gold_answer {
                                let label = sums[index].codes.set_name(*set);
                                gold_labels[work.annotator]
                                    .entry(label)
                                    .or_default()
                                    .add(score);
                            }
                        }
                    }
                }
            }
            let mut task_mean = Mean::default();
            for (index, (_, kind)) in controls.iter().enumerate() {
                let answered: Vec<(usize, &Given)> = works
                    .iter()
                    .filter_map(|w| w.answers[index].as_ref().map(|a| (w.annotator, a)))
                    .collect();
                if let Some(mean) = sums[index].add_task(*kind, task_code, &answered) {
                    task_mean.add(mean);
                }
                // Agreement with the task's other annotators.
                for (i, (a, given_a)) in answered.iter().enumerate() {
                    for (b, given_b) in &answered[i + 1..] {
                        if let Some(score) = given_a.agreement(given_b) {
                            with_others[*a].add(score);
                            with_others[*b].add(score);
                        }
                    }
                }
            }
            if let Some(agreement) = task_mean.get() {
                overlapping += 1;
                let last_day = works.iter().map(|w| w.updated_at).max().unwrap_or(0);
                days.entry(last_day.div_euclid(86_400_000))
                    .or_default()
                    .1
                    .add(agreement);
                let mut annotators: Vec<String> =
                    works.iter().map(|w| names[w.annotator].clone()).collect();
                annotators.sort();
                task_agreements.push(TaskAgreement {
                    task_id: *task_id,
                    agreement,
                    annotators,
                });
                // Only the least agreed are kept.
                if task_agreements.len() > 4 * TASKS_TO_CHECK {
                    least_first(&mut task_agreements);
                }
            }
        }

        // Classes: agreement with the majority replaces agreement with others.
        let mut consensus: Vec<Mean> = vec![Mean::default(); names.len()];
        let mut report_controls = Vec::with_capacity(controls.len());
        for ((control, kind), sum) in controls.iter().zip(sums) {
            let table = sum.table(*kind, &task_names, names);
            if *kind == Kind::Classes {
                if let Some(vote) = table
                    .as_ref()
                    .and_then(|t| majority_vote(t, TiePolicy::LowestLabel).ok())
                {
                    for (index, accuracy) in vote.accuracy.iter().enumerate() {
                        if let Some(accuracy) = accuracy {
                            consensus[index].add(*accuracy);
                        }
                    }
                }
            }
            report_controls.push(control_quality(control, *kind, &sum, table.as_ref(), names));
        }

        let verdicts = self
            .store
            .review_verdicts_by_annotator(project.id, since, until)
            .await?;
        let mut review_counts: HashMap<String, (i64, i64)> = HashMap::new();
        for (user, reviewed, rejected) in verdicts {
            if let Ok(user) = self.store.user(user).await {
                review_counts.insert(user.username, (reviewed, rejected));
            }
        }
        let classes_only = controls.iter().all(|(_, kind)| *kind == Kind::Classes);
        // Annotators without annotations in the window are not listed.
        let annotators = names
            .iter()
            .enumerate()
            .filter(|(index, _)| annotator_counts[*index].0 > 0)
            .map(|(index, name)| {
                let (annotations, seconds, timed) = annotator_counts[index];
                let (reviewed, rejected) = review_counts.get(name).copied().unwrap_or((0, 0));
                let hours = seconds / 3600.0;
                AnnotatorQuality {
                    username: name.clone(),
                    annotations,
                    agreement_with_consensus: if classes_only {
                        consensus[index].get()
                    } else {
                        with_others[index].get()
                    },
                    gold_answers: gold[index].n,
                    gold_accuracy: gold[index].get(),
                    gold_by_label: gold_labels[index]
                        .iter()
                        .map(|(label, mean)| LabelAgreement {
                            label: label.clone(),
                            agreement: mean.get(),
                            uses: mean.n,
                        })
                        .collect(),
                    gold_by_day: gold_days[index]
                        .iter()
                        .map(|(day, mean)| GoldDay {
                            day: day_text(*day),
                            answers: mean.n,
                            accuracy: mean.get(),
                        })
                        .collect(),
                    reviewed,
                    rejected,
                    rejection_rate: (reviewed > 0).then(|| rejected as f64 / reviewed as f64),
                    hours,
                    per_hour: (timed > 0 && hours > 0.0).then(|| timed as f64 / hours),
                }
            })
            .collect();
        least_first(&mut task_agreements);
        let over_time = days
            .into_iter()
            .map(|(day, (annotations, agreement, gold))| DayQuality {
                day: day_text(day),
                annotations,
                agreement: agreement.get(),
                gold_answers: gold.n,
                gold_accuracy: gold.get(),
            })
            .collect();
        Ok(QualityReport {
            annotations: annotation_total,
            tasks: task_names.len() as i64,
            overlapping_tasks: overlapping,
            controls: report_controls,
            annotators,
            over_time,
            tasks_to_check: task_agreements,
            computed_at: Timestamp::now(),
        })
    }
}

/// The agreement of one task's annotations (each one annotator's result
/// items): over the scored controls two or more of them answered, the mean
/// of each control's mean pairwise agreement; `None` when no control has
/// two answers.
pub(crate) fn task_agreement(config: &LabelConfig, annotations: &[Vec<ResultItem>]) -> Option<f64> {
    let mut task = Mean::default();
    for control in &config.controls {
        let Some(kind) = Kind::of(control, config) else {
            continue;
        };
        let mut codes = ClassCodes::default();
        let answers: Vec<Given> = annotations
            .iter()
            .filter_map(|items| given_answer(control, kind, items, &mut codes))
            .collect();
        let mut pairs = Mean::default();
        for (i, a) in answers.iter().enumerate() {
            for b in &answers[i + 1..] {
                if let Some(score) = a.agreement(b) {
                    pairs.add(score);
                }
            }
        }
        if let Some(mean) = pairs.get() {
            task.add(mean);
        }
    }
    task.get()
}

impl Engine {
    /// Dynamic overlap: after a submit, a task whose annotators agree less
    /// than the project's threshold asks for one more annotator, up to the
    /// project's maximum. A failure is logged, never the submit's.
    pub(crate) async fn maybe_extend_overlap(
        &self,
        project: &gloss_types::Project,
        task: gloss_types::TaskId,
    ) {
        if project.dynamic_overlap_max <= project.overlap {
            return;
        }
        let result: Result<()> = async {
            let rows = self.store.task_annotations(task).await?;
            let mut results = Vec::new();
            for row in rows.iter().filter(|r| !r.was_cancelled && !r.ground_truth) {
                let items: Vec<ResultItem> = serde_json::from_str(&row.result)
                    .map_err(|err| Error::internal(format!("a stored result: {err}")))?;
                results.push(items);
            }
            let (config, _) = gloss_schema::parse(&project.label_config);
            let agreement = task_agreement(&config, &results);
            if agreement.is_some_and(|a| a < project.dynamic_agreement_below) {
                self.store
                    .extend_overlap(
                        gloss_store::QueueProject::from(project),
                        task,
                        project.dynamic_overlap_max,
                        Timestamp::now().millis(),
                    )
                    .await?;
            }
            Ok(())
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(project = project.id.0, task = task.0, error = %err.message, "dynamic overlap failed");
        }
    }
}

/// Keeps the [`TASKS_TO_CHECK`] least agreed tasks, least first.
fn least_first(tasks: &mut Vec<TaskAgreement>) {
    tasks.sort_by(|a, b| {
        a.agreement
            .total_cmp(&b.agreement)
            .then(a.task_id.cmp(&b.task_id))
    });
    tasks.truncate(TASKS_TO_CHECK);
}

/// The report's section for one control.
fn control_quality(
    control: &ControlTag,
    kind: Kind,
    sum: &ControlSums,
    table: Option<&RatingsTable>,
    names: &[String],
) -> ControlQuality {
    let level = match kind {
        Kind::Classes => Some(Level::Nominal),
        Kind::Values => Some(Level::Interval),
        _ => None,
    };
    let alpha = level
        .zip(table)
        .and_then(|(level, table)| krippendorff_alpha(table, level).ok())
        .filter(|alpha| alpha.is_finite());
    let pairs = sum
        .pairs
        .iter()
        .map(|(a, b, mean)| PairAgreement {
            a: names[a].clone(),
            b: names[b].clone(),
            tasks: mean.n,
            agreement: mean.get(),
            kappa: table
                .filter(|_| level.is_some())
                .and_then(|table| cohen_kappa(table, a, b, CohenWeights::None).ok())
                .filter(|k| k.is_finite()),
        })
        .collect();
    let labels = match kind {
        Kind::Classes | Kind::Values => {
            let mut labels: Vec<LabelAgreement> = sum
                .codes
                .labels
                .iter()
                .enumerate()
                .map(|(id, label)| {
                    let (hits, total) = sum.label_hits.get(id).copied().unwrap_or_default();
                    LabelAgreement {
                        label: label.clone(),
                        agreement: (total > 0.0).then(|| hits / total),
                        uses: sum.label_uses.get(id).copied().unwrap_or(0),
                    }
                })
                .collect();
            match kind {
                Kind::Values => labels.sort_by(|a, b| {
                    let value = |l: &LabelAgreement| l.label.parse::<f64>().unwrap_or(f64::NAN);
                    value(a).total_cmp(&value(b))
                }),
                _ => labels.sort_by(|a, b| a.label.cmp(&b.label)),
            }
            labels
        }
        _ => sum
            .named_uses
            .iter()
            .map(|(label, uses)| LabelAgreement {
                label: label.clone(),
                agreement: sum.label_scores.get(label).and_then(|m| m.get()),
                uses: *uses,
            })
            .collect(),
    };
    ControlQuality {
        control: control.name.clone(),
        kind: kind.name().to_owned(),
        agreement: sum.tasks.get(),
        alpha,
        labels,
        pairs,
        confusion: level.and(table).map(confusion),
    }
}

/// Label pairs on one task by two annotators, both orders.
fn confusion(table: &RatingsTable) -> Confusion {
    let labels = table.labels().to_vec();
    let mut counts = vec![vec![0i64; labels.len()]; labels.len()];
    for item in 0..table.items().len() {
        let ratings = table.item_ratings(item);
        for (i, a) in ratings.iter().enumerate() {
            for b in &ratings[i + 1..] {
                counts[a.label as usize][b.label as usize] += 1;
                counts[b.label as usize][a.label as usize] += 1;
            }
        }
    }
    Confusion { labels, counts }
}

/// The labels an answer's shapes or spans use.
fn answer_labels(answer: &Answer) -> Vec<String> {
    match answer {
        Answer::Shapes(shapes) => shapes.iter().map(|s| s.label.clone()).collect(),
        Answer::Spans(spans) => spans.iter().map(|s| s.label.clone()).collect(),
        Answer::Poses(poses) => poses.iter().map(|p| p.label.clone()).collect(),
        Answer::Masks(masks) => masks.iter().map(|m| m.label.clone()).collect(),
        _ => Vec::new(),
    }
}

/// One annotation's answer for a control: `None` when it has no result of
/// the control and the control is a question (classes, values, ranking);
/// an empty answer for drawing and span controls, where nothing drawn is an
/// answer too.
pub(crate) fn given_answer(
    control: &ControlTag,
    kind: Kind,
    items: &[ResultItem],
    codes: &mut ClassCodes,
) -> Option<Given> {
    let mine = items.iter().filter(|i| i.from_name == control.name);
    match kind {
        Kind::Classes | Kind::Values => {
            let mut classes: Vec<String> = Vec::new();
            for item in mine {
                match &item.value {
                    ResultValue::Choices(v) => classes.extend(v.choices.iter().cloned()),
                    ResultValue::Taxonomy(v) => {
                        classes.extend(v.taxonomy.iter().map(|path| path.join(" / ")))
                    }
                    ResultValue::Rating(v) => classes.push(number_text(v.rating)),
                    ResultValue::Number(v) => classes.push(number_text(v.number)),
                    ResultValue::Pairwise(v) => classes.push(v.selected.clone()),
                    _ => {}
                }
            }
            codes
                .set_of(classes.iter().map(String::as_str))
                .map(Given::Set)
        }
        Kind::Shapes => Some(Given::Answer(Answer::Shapes(
            mine.filter_map(shape_of).collect(),
        ))),
        Kind::Keypoints => Some(Given::Answer(Answer::Poses(crate::objects::poses_of(
            items.iter().filter(|i| i.from_name == control.name),
        )))),
        Kind::Masks => Some(Given::Answer(Answer::Masks(crate::objects::masks_of(
            items.iter().filter(|i| i.from_name == control.name),
        )))),
        Kind::Spans => Some(Given::Answer(Answer::Spans(spans_of(&control.name, items)))),
        Kind::Segments => Some(Given::Answer(Answer::Shapes(
            mine.filter_map(segment_of).collect(),
        ))),
        Kind::Ranking => {
            let item = items.iter().find(|i| i.from_name == control.name)?;
            let ResultValue::Ranker(v) = &item.value else {
                return None;
            };
            let mut ids: Vec<&str> = v.column(&control.name)?;
            let ranks: HashMap<&str, usize> = ids
                .iter()
                .enumerate()
                .map(|(rank, id)| (*id, rank))
                .collect();
            // The same order in every answer: item ids sorted.
            ids.sort_unstable();
            Some(Given::Answer(Answer::Ranking(
                ids.iter().map(|id| ranks[id] as f64).collect(),
            )))
        }
    }
}

/// The labelled text spans of one control in an annotation's items (a
/// span with several labels is one span per label).
pub(crate) fn spans_of(control: &str, items: &[ResultItem]) -> Vec<Span> {
    items
        .iter()
        .filter(|item| item.from_name == control)
        .filter_map(|item| match &item.value {
            ResultValue::Labels(v) => Some(v.labels.iter().map(|label| Span {
                start: v.start as usize,
                end: v.end as usize,
                label: label.clone(),
            })),
            _ => None,
        })
        .flatten()
        .collect()
}

/// A labelled time segment of a sound as a one-dimensional shape: a box
/// from its start to its end in seconds, 1 high, so that its IoU with
/// another is their overlap in time over their union.
pub(crate) fn segment_of(item: &ResultItem) -> Option<LabeledShape> {
    let (start, end, labels) = item.value.audio_segment()?;
    Some(LabeledShape {
        label: labels.first()?.clone(),
        shape: Shape::Box(BBox::from_xywh(start, 0.0, end - start, 1.0)),
    })
}

/// A labelled box or polygon, in pixels when the image's size is known.
pub(crate) fn shape_of(item: &ResultItem) -> Option<LabeledShape> {
    let (sx, sy) = match (item.original_width, item.original_height) {
        (Some(w), Some(h)) => (f64::from(w) / 100.0, f64::from(h) / 100.0),
        _ => (1.0, 1.0),
    };
    let (label, shape) = match &item.value {
        ResultValue::RectangleLabels(v) => {
            let (x, y, w, h) = (v.x * sx, v.y * sy, v.width * sx, v.height * sy);
            let rotation = v.rotation.unwrap_or(0.0);
            let shape = if rotation == 0.0 {
                Shape::Box(BBox::from_xywh(x, y, w, h))
            } else {
                // Label Studio rotates about the top-left corner.
                let (sin, cos) = rotation.to_radians().sin_cos();
                let corner = |dx: f64, dy: f64| (x + dx * cos - dy * sin, y + dx * sin + dy * cos);
                Shape::Polygon(vec![
                    corner(0.0, 0.0),
                    corner(w, 0.0),
                    corner(w, h),
                    corner(0.0, h),
                ])
            };
            (v.rectanglelabels.first()?.clone(), shape)
        }
        ResultValue::PolygonLabels(v) => (
            v.polygonlabels.first()?.clone(),
            Shape::Polygon(v.points.iter().map(|p| (p[0] * sx, p[1] * sy)).collect()),
        ),
        _ => return None,
    };
    Some(LabeledShape { label, shape })
}

/// A number as a class name: whole numbers without a fraction.
fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

/// Days since the Unix epoch as `YYYY-MM-DD`.
pub(crate) fn day_text(day: i64) -> String {
    let date = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(day);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}
