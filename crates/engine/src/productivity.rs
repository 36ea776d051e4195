//! Productivity and anti-fraud signals, per annotator and project: tasks,
//! active time (measured by the labeling workspace), tasks per hour, the
//! median active time per task, rejections, accuracy against gold and
//! agreement (from the quality report), each per day for trends; and flags
//! for submits faster than the project's minimum, runs of identical answers
//! and low gold accuracy. A project's managers see everyone (a leaderboard);
//! anyone else sees only their own row. Across projects, a manager's
//! leaderboard adds up the projects they manage.

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::quality::{day_text, QualityWindow};
use crate::Engine;
use gloss_store::{ActivityRow, ProjectScope};
use gloss_types::{PageRequest, Project, ProjectId, ProjectRole, Role, Timestamp, UserId};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use utoipa::ToSchema;

/// Without a window, the report covers this many days up to now.
pub const DEFAULT_WINDOW_DAYS: i64 = 30;
/// At most this many annotations are read for one project's report.
pub const MAX_ACTIVITY_ROWS: i64 = 500_000;
/// Gold accuracy below this is flagged when the project sets no pause
/// threshold.
pub const LOW_GOLD_DEFAULT: f64 = 0.6;
/// Gold accuracy is flagged only after this many gold answers.
pub const MIN_GOLD_ANSWERS: i64 = 3;
const DAY_MS: i64 = 86_400_000;

/// A project's productivity report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductivityReport {
    pub project_id: ProjectId,
    pub since: Timestamp,
    pub until: Timestamp,
    /// The days (UTC) of the window that have work, in order.
    pub days: Vec<String>,
    /// Ranked by tasks, most first (only the caller's own row unless they
    /// manage the project).
    pub annotators: Vec<AnnotatorProductivity>,
    /// The project's flag settings the report used.
    pub min_task_seconds: i64,
    pub same_answer_streak: i64,
    pub gold_flag_below: f64,
    /// More annotations than [`MAX_ACTIVITY_ROWS`] fell in the window;
    /// only the first were read.
    pub truncated: bool,
}

/// One annotator's work in one project (or, in a leaderboard, in all the
/// projects it adds up).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct AnnotatorProductivity {
    pub username: String,
    pub display_name: String,
    /// Tasks submitted (annotations, not skips).
    pub tasks: i64,
    /// Those with measured active time.
    pub timed_tasks: i64,
    /// Active time, in hours.
    pub active_hours: f64,
    /// Timed tasks per active hour.
    pub tasks_per_hour: Option<f64>,
    /// The median active time of a timed task, in seconds.
    pub median_active_seconds: Option<f64>,
    /// Review verdicts on their work, and the rejections among them.
    pub reviewed: i64,
    pub rejected: i64,
    pub rejection_rate: Option<f64>,
    /// Answers to gold tasks, and their mean score against the ground truth.
    pub gold_answers: i64,
    pub gold_accuracy: Option<f64>,
    /// Agreement with the other annotators (the quality report's); `None`
    /// in leaderboards across projects and without overlap.
    pub agreement: Option<f64>,
    /// Anti-fraud signals.
    pub flags: Vec<FraudFlag>,
    /// Tasks and active hours per day (UTC) with work.
    pub by_day: Vec<DayWork>,
}

/// One anti-fraud signal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FraudFlag {
    /// `too_fast`, `same_answers` or `low_gold`.
    pub kind: String,
    /// Submits too fast; the longest run of identical answers; gold answers.
    pub count: i64,
    pub message: String,
}

/// One day's work by one annotator.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayWork {
    pub day: String,
    pub tasks: i64,
    pub active_hours: f64,
}

/// A manager's leaderboard over the projects they manage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Leaderboard {
    pub since: Timestamp,
    pub until: Timestamp,
    pub projects: i64,
    /// Ranked by tasks, most first.
    pub annotators: Vec<AnnotatorProductivity>,
}

/// The window asked for, or the last [`DEFAULT_WINDOW_DAYS`] days.
fn window_bounds(window: QualityWindow) -> (i64, i64) {
    let until = window
        .until
        .map_or(Timestamp::now().millis() + 1, |t| t.millis());
    let since = window
        .since
        .map_or(until - DEFAULT_WINDOW_DAYS * DAY_MS, |t| t.millis());
    (since, until)
}

/// A result with its region ids removed, hashed: two answers that differ
/// only in the ids the workspace gives regions are the same answer.
fn answer_digest(result: &str) -> u64 {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for key in ["id", "parentID", "origin"] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut hasher = DefaultHasher::new();
    match serde_json::from_str::<Value>(result) {
        Ok(mut value) => {
            strip(&mut value);
            value.to_string().hash(&mut hasher);
        }
        Err(_) => result.hash(&mut hasher),
    }
    hasher.finish()
}

fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid] as f64
    } else {
        (values[mid - 1] + values[mid]) as f64 / 2.0
    })
}

/// What one annotator's rows add up to, before ratios.
#[derive(Default)]
struct Sums {
    username: String,
    display_name: String,
    tasks: i64,
    active: Vec<i64>,
    too_fast: i64,
    longest_run: i64,
    runs_flagged: i64,
    days: BTreeMap<i64, (i64, i64)>,
    reviewed: i64,
    rejected: i64,
    gold_answers: i64,
    gold_sum: f64,
}

impl Sums {
    /// Adds one person's rows, in submit order, with the project's flag
    /// settings (0: off).
    fn add_rows(&mut self, rows: &[&ActivityRow], min_task_seconds: i64, same_answer_streak: i64) {
        let mut run = 0;
        let mut last: Option<u64> = None;
        for row in rows {
            self.tasks += 1;
            let day = row.created_at.div_euclid(DAY_MS);
            let entry = self.days.entry(day).or_default();
            entry.0 += 1;
            if let Some(ms) = row.active_ms {
                self.active.push(ms);
                entry.1 += ms;
                if min_task_seconds > 0 && ms < min_task_seconds * 1000 {
                    self.too_fast += 1;
                }
            }
            let digest = answer_digest(&row.result);
            run = if last == Some(digest) { run + 1 } else { 1 };
            last = Some(digest);
            if same_answer_streak > 0 && run == same_answer_streak {
                self.runs_flagged += 1;
            }
            self.longest_run = self.longest_run.max(run);
        }
    }

    fn into_row(mut self, streak: i64, gold_below: Option<f64>) -> AnnotatorProductivity {
        let active_ms: i64 = self.active.iter().sum();
        let hours = active_ms as f64 / 3_600_000.0;
        let mut flags = Vec::new();
        if self.too_fast > 0 {
            flags.push(FraudFlag {
                kind: "too_fast".into(),
                count: self.too_fast,
                message: format!(
                    "{} of {} timed submits were faster than the project's minimum",
                    self.too_fast,
                    self.active.len()
                ),
            });
        }
        if self.runs_flagged > 0 {
            flags.push(FraudFlag {
                kind: "same_answers".into(),
                count: self.longest_run,
                message: format!(
                    "{} identical answers in a row (the flag is at {streak})",
                    self.longest_run
                ),
            });
        }
        let gold_accuracy =
            (self.gold_answers > 0).then(|| self.gold_sum / self.gold_answers as f64);
        if let (Some(accuracy), Some(below)) = (gold_accuracy, gold_below) {
            if self.gold_answers >= MIN_GOLD_ANSWERS && accuracy < below {
                flags.push(FraudFlag {
                    kind: "low_gold".into(),
                    count: self.gold_answers,
                    message: format!(
                        "{:.0}% accuracy on {} gold answers, below {:.0}%",
                        accuracy * 100.0,
                        self.gold_answers,
                        below * 100.0
                    ),
                });
            }
        }
        AnnotatorProductivity {
            username: self.username,
            display_name: self.display_name,
            tasks: self.tasks,
            timed_tasks: self.active.len() as i64,
            active_hours: hours,
            tasks_per_hour: (active_ms > 0).then(|| self.active.len() as f64 / hours),
            median_active_seconds: median(&mut self.active).map(|ms| ms / 1000.0),
            reviewed: self.reviewed,
            rejected: self.rejected,
            rejection_rate: (self.reviewed > 0)
                .then(|| self.rejected as f64 / self.reviewed as f64),
            gold_answers: self.gold_answers,
            gold_accuracy,
            agreement: None,
            flags,
            by_day: self
                .days
                .into_iter()
                .map(|(day, (tasks, ms))| DayWork {
                    day: day_text(day),
                    tasks,
                    active_hours: ms as f64 / 3_600_000.0,
                })
                .collect(),
        }
    }
}

/// The gold accuracy under which a project flags people.
fn gold_flag_below(project: &Project) -> f64 {
    project.gold_pause_below.unwrap_or(LOW_GOLD_DEFAULT)
}

impl Engine {
    /// Per-annotator sums over one project's window, keyed by person.
    async fn project_sums(
        &self,
        project: &Project,
        since: i64,
        until: i64,
        only: Option<UserId>,
    ) -> Result<(BTreeMap<UserId, Sums>, bool)> {
        let rows = self
            .store
            .activity_rows(project.id, since, until, MAX_ACTIVITY_ROWS + 1)
            .await?;
        let truncated = rows.len() as i64 > MAX_ACTIVITY_ROWS;
        let rows = &rows[..rows.len().min(MAX_ACTIVITY_ROWS as usize)];
        let mut people: BTreeMap<UserId, Vec<&ActivityRow>> = BTreeMap::new();
        for row in rows {
            if only.is_none_or(|me| me == row.user_id) {
                people.entry(row.user_id).or_default().push(row);
            }
        }
        let mut sums: BTreeMap<UserId, Sums> = BTreeMap::new();
        for (user, rows) in people {
            let entry = sums.entry(user).or_default();
            entry.username = rows[0].username.clone();
            entry.display_name = rows[0].display_name.clone();
            entry.add_rows(&rows, project.min_task_seconds, project.same_answer_streak);
        }
        for (user, counts) in self
            .store
            .verdicts_by_annotator(project.id, since, until)
            .await?
        {
            if let Some(entry) = sums.get_mut(&user) {
                entry.reviewed += counts.reviewed;
                entry.rejected += counts.rejected;
            }
        }
        for (user, answers, mean) in self
            .store
            .gold_by_annotator(project.id, since, until)
            .await?
        {
            if let Some(entry) = sums.get_mut(&user) {
                entry.gold_answers += answers;
                entry.gold_sum += mean * answers as f64;
            }
        }
        Ok((sums, truncated))
    }

    /// A project's productivity report: everyone for its managers, the
    /// caller's own row for anyone else in it.
    pub async fn productivity_report(
        &self,
        actor: &Actor,
        project: ProjectId,
        window: QualityWindow,
    ) -> Result<ProductivityReport> {
        let (project, role) = self.project_for(actor, project).await?;
        let only = match actor {
            Actor::User(me) if role < ProjectRole::Manager => Some(me.id),
            _ => None,
        };
        let (since, until) = window_bounds(window);
        if since >= until {
            return Err(Error::invalid("since", "must be before `until`"));
        }
        let (sums, truncated) = self.project_sums(&project, since, until, only).await?;
        // Agreement is the quality report's, over the same window.
        let quality = self
            .quality_report(
                &Actor::Operator,
                project.id,
                QualityWindow {
                    since: Some(Timestamp(since)),
                    until: Some(Timestamp(until)),
                },
            )
            .await?;
        let agreement: HashMap<&str, Option<f64>> = quality
            .annotators
            .iter()
            .map(|a| (a.username.as_str(), a.agreement_with_consensus))
            .collect();
        let below = gold_flag_below(&project);
        let mut annotators: Vec<AnnotatorProductivity> = sums
            .into_values()
            .map(|sums| {
                let mut row = sums.into_row(project.same_answer_streak, Some(below));
                row.agreement = agreement.get(row.username.as_str()).copied().flatten();
                row
            })
            .collect();
        rank(&mut annotators);
        let mut days: Vec<String> = annotators
            .iter()
            .flat_map(|a| a.by_day.iter().map(|d| d.day.clone()))
            .collect();
        days.sort();
        days.dedup();
        Ok(ProductivityReport {
            project_id: project.id,
            since: Timestamp(since),
            until: Timestamp(until),
            days,
            annotators,
            min_task_seconds: project.min_task_seconds,
            same_answer_streak: project.same_answer_streak,
            gold_flag_below: below,
            truncated,
        })
    }

    /// The leaderboard over every project the caller manages (admins: all
    /// projects): each person's work added up, flags included.
    pub async fn leaderboard(&self, actor: &Actor, window: QualityWindow) -> Result<Leaderboard> {
        let scope = match actor {
            Actor::Operator => ProjectScope::All,
            Actor::User(me) if me.role == Role::Admin => ProjectScope::All,
            Actor::User(me) if me.role == Role::Manager => ProjectScope::MemberOf(me.id),
            Actor::User(_) => {
                return Err(Error::forbidden(
                    "only managers and admins see the leaderboard",
                ))
            }
        };
        let (since, until) = window_bounds(window);
        if since >= until {
            return Err(Error::invalid("since", "must be before `until`"));
        }
        let mut people: BTreeMap<UserId, Sums> = BTreeMap::new();
        let mut streaks: BTreeMap<UserId, i64> = BTreeMap::new();
        let mut counted = 0;
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let projects = self.store.list_projects(scope, page).await?;
            for project in &projects.items {
                let (_, role) = self.project_for(actor, project.id).await?;
                if role < ProjectRole::Manager {
                    continue;
                }
                counted += 1;
                let (sums, _) = self.project_sums(project, since, until, None).await?;
                for (user, sums) in sums {
                    let streak = streaks.entry(user).or_insert(0);
                    if sums.runs_flagged > 0 {
                        *streak = (*streak).max(project.same_answer_streak);
                    }
                    let total = people.entry(user).or_default();
                    total.username = sums.username;
                    total.display_name = sums.display_name;
                    total.tasks += sums.tasks;
                    total.active.extend(sums.active);
                    total.too_fast += sums.too_fast;
                    total.longest_run = total.longest_run.max(sums.longest_run);
                    total.runs_flagged += sums.runs_flagged;
                    for (day, (tasks, ms)) in sums.days {
                        let entry = total.days.entry(day).or_default();
                        entry.0 += tasks;
                        entry.1 += ms;
                    }
                    total.reviewed += sums.reviewed;
                    total.rejected += sums.rejected;
                    total.gold_answers += sums.gold_answers;
                    total.gold_sum += sums.gold_sum;
                }
            }
            let Some(next) = projects.next else { break };
            page.after = next.parse().ok();
            if page.after.is_none() {
                break;
            }
        }
        let mut annotators: Vec<AnnotatorProductivity> = people
            .into_iter()
            .map(|(user, sums)| {
                let streak = streaks.get(&user).copied().unwrap_or(0);
                sums.into_row(streak, Some(LOW_GOLD_DEFAULT))
            })
            .collect();
        rank(&mut annotators);
        Ok(Leaderboard {
            since: Timestamp(since),
            until: Timestamp(until),
            projects: counted,
            annotators,
        })
    }
}

/// Most tasks first; ties by name.
fn rank(rows: &mut [AnnotatorProductivity]) {
    rows.sort_by(|a, b| b.tasks.cmp(&a.tasks).then(a.username.cmp(&b.username)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_differing_only_in_region_ids_are_the_same() {
        let a = r#"[{"id":"x1","from_name":"c","to_name":"i","type":"choices","value":{"choices":["Cat"]}}]"#;
        let b = r#"[{"id":"y7","from_name":"c","to_name":"i","type":"choices","value":{"choices":["Cat"]}}]"#;
        let c = r#"[{"id":"x1","from_name":"c","to_name":"i","type":"choices","value":{"choices":["Dog"]}}]"#;
        assert_eq!(answer_digest(a), answer_digest(b));
        assert_ne!(answer_digest(a), answer_digest(c));
    }

    fn row(at: i64, active_ms: Option<i64>, label: &str) -> ActivityRow {
        ActivityRow {
            user_id: UserId(7),
            username: "ann".into(),
            display_name: String::new(),
            created_at: at,
            active_ms,
            result: format!(
                r#"[{{"id":"{at}","type":"choices","value":{{"choices":["{label}"]}}}}]"#
            ),
        }
    }

    #[test]
    fn fast_submits_runs_and_low_gold_are_flagged_and_days_add_up() {
        let rows = [
            row(0, Some(1_500), "Cat"),
            row(1_000, Some(9_000), "Cat"),
            row(DAY_MS + 5, None, "Cat"),
            row(DAY_MS + 6, Some(2_000), "Dog"),
            row(DAY_MS + 7, Some(30_000), "Dog"),
        ];
        let refs: Vec<&ActivityRow> = rows.iter().collect();
        let mut sums = Sums {
            gold_answers: 4,
            gold_sum: 1.0,
            ..Sums::default()
        };
        sums.add_rows(&refs, 3, 3);
        let person = sums.into_row(3, Some(0.6));
        let kinds: Vec<&str> = person.flags.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(kinds, ["too_fast", "same_answers", "low_gold"]);
        assert_eq!(person.flags[0].count, 2, "1.5 s and 2 s are under 3 s");
        assert_eq!(person.flags[1].count, 3, "Cat three times running");
        assert_eq!((person.tasks, person.timed_tasks), (5, 4));
        assert_eq!(person.median_active_seconds, Some(5.5));
        assert_eq!(person.by_day.len(), 2);
        assert_eq!((person.by_day[0].tasks, person.by_day[1].tasks), (2, 3));
        assert!((person.active_hours - 42.5 / 3600.0).abs() < 1e-12);

        // Off when the settings are 0, and gold above the bar.
        let mut sums = Sums {
            gold_answers: 4,
            gold_sum: 3.0,
            ..Sums::default()
        };
        sums.add_rows(&refs, 0, 0);
        assert!(sums.into_row(0, Some(0.6)).flags.is_empty());
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5, 1, 3]), Some(3.0));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2.5));
    }
}
