//! Qualification tests (projects of kind `qualification`): a person takes
//! the project's gold tasks (every task with a ground truth, by id) in an
//! attempt, kept apart from the project's annotations so that they can
//! try again; each answer is checked against the label config like a submit
//! and scored against the ground truth by the gold score, with no verdict
//! shown until every task is answered. The attempt's score is the mean of
//! its tasks' scores (a task's score the mean over its controls); at or
//! above `pass_score` it passes, which grants the test's certification
//! (dated, expiring after `certification_valid_days`) and adds its skill.
//! `max_attempts` limits the attempts, `cooldown_minutes` spaces a failed
//! attempt and the next. Who may take a test: its members, and members of
//! a project that requires the certification it grants.
//!
//! A project can require certifications (`required_certifications`):
//! `check_qualified` then asks for each one held and unexpired, naming the
//! tests that grant the missing ones.

use crate::access::Actor;
use crate::error::{Error, OrNotFound, Result};
use crate::Engine;
use gloss_store::{AttemptRow, Grant, QualificationPatch};
use gloss_types::{
    Certification, Code, Project, ProjectId, ProjectKind, ProjectRole, QualificationSettings, Task,
    TaskId, Timestamp, User, UserId,
};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
pub const MAX_ATTEMPTS: i64 = 1000;
pub const MAX_COOLDOWN_MINUTES: i64 = 366 * 24 * 60;
pub const MAX_VALID_DAYS: i64 = 36_500;

/// One attempt, as its person and the test's managers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptSummary {
    pub id: i64,
    pub project_id: ProjectId,
    pub username: String,
    pub started_at: Timestamp,
    /// `None` while tasks are left to answer.
    pub finished_at: Option<Timestamp>,
    /// The mean score against gold, 0 to 1, once finished.
    pub score: Option<f64>,
    pub passed: Option<bool>,
    pub tasks: usize,
    pub answered: i64,
    /// In everyone's results (the test's managers), on the attempt that
    /// granted its person's certification: whether it is still in force
    /// (`false`: revoked or expired); `null` on every other attempt.
    pub certified: Option<bool>,
}

/// The caller's standing in a qualification test.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QualificationStatus {
    pub project_id: ProjectId,
    pub project_name: String,
    pub settings: QualificationSettings,
    /// How many tasks an attempt has (the test's gold tasks).
    pub tasks: usize,
    /// The caller's attempts, oldest first.
    pub attempts: Vec<AttemptSummary>,
    /// Attempts left; `None`: unlimited.
    pub attempts_left: Option<i64>,
    pub best_score: Option<f64>,
    pub passed: bool,
    /// The attempt in progress, to go on with.
    pub open_attempt: Option<i64>,
    /// Whether a new attempt may start now, and if not why and when.
    pub can_start: bool,
    pub blocked_reason: Option<String>,
    pub retry_at: Option<Timestamp>,
    /// The certification the test grants, as the caller holds it.
    pub certification: Option<Certification>,
    /// Whether the caller manages the test (and may read every result).
    pub manager: bool,
}

/// One task of an attempt.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptTask {
    pub task: Task,
    pub answered: bool,
    /// The caller's answer, when given.
    #[schema(value_type = Option<Vec<Object>>)]
    pub result: Option<Value>,
    /// Its score against gold, once the attempt is finished.
    pub score: Option<f64>,
}

/// An attempt with its tasks, and once finished its outcome.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: AttemptSummary,
    pub project_name: String,
    /// The test's label config, to show its tasks with.
    pub label_config: String,
    pub pass_score: f64,
    pub tasks: Vec<AttemptTask>,
    /// Once finished: the certification granted (on a pass).
    pub certification: Option<Certification>,
    /// Once failed: when the next attempt may start, if one is left.
    pub retry_at: Option<Timestamp>,
    pub attempts_left: Option<i64>,
}

/// A test that grants a certification a project requires.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestLink {
    pub project_id: ProjectId,
    pub name: String,
    pub certification: String,
}

fn summary(row: &AttemptRow) -> AttemptSummary {
    AttemptSummary {
        id: row.id,
        project_id: row.project_id,
        username: row.username.clone(),
        started_at: Timestamp(row.started_at),
        finished_at: row.finished_at.map(Timestamp),
        score: row.score,
        passed: row.passed,
        tasks: row.task_ids.len(),
        answered: row.answered,
        certified: None,
    }
}

/// Checks the kind, required certifications and test settings of a project change.
pub(crate) fn checked_patch(mut patch: QualificationPatch) -> Result<QualificationPatch> {
    if let Some(names) = &patch.required_certifications {
        patch.required_certifications = Some(crate::people::clean_tags(
            "required_certifications",
            names,
            true,
        )?);
    }
    if let Some(score) = patch.pass_score {
        if !(0.0..=1.0).contains(&score) {
            return Err(Error::invalid("pass_score", "must be a score from 0 to 1"));
        }
    }
    if let Some(n) = patch.max_attempts {
        if !(0..=MAX_ATTEMPTS).contains(&n) {
            return Err(Error::invalid(
                "max_attempts",
                format!("must be 0 (unlimited) to {MAX_ATTEMPTS}"),
            ));
        }
    }
    if let Some(n) = patch.cooldown_minutes {
        if !(0..=MAX_COOLDOWN_MINUTES).contains(&n) {
            return Err(Error::invalid(
                "cooldown_minutes",
                format!("must be 0 to {MAX_COOLDOWN_MINUTES} minutes"),
            ));
        }
    }
    if let Some(Some(days)) = patch.certification_valid_days {
        if !(1..=MAX_VALID_DAYS).contains(&days) {
            return Err(Error::invalid(
                "certification_valid_days",
                format!("must be 1 to {MAX_VALID_DAYS} days, or null for no expiry"),
            ));
        }
    }
    for (field, value) in [
        ("grants_certification", &mut patch.grants_certification),
        ("grants_skill", &mut patch.grants_skill),
    ] {
        if let Some(Some(name)) = value {
            if name.trim().is_empty() {
                *value = Some(None);
            } else {
                let clean = crate::people::clean_tags(field, std::slice::from_ref(name), false)
                    .map_err(|_| {
                        Error::invalid(
                            field,
                            format!(
                                "must be 1 to {} characters without control characters",
                                crate::MAX_TAG_CHARS
                            ),
                        )
                    })?;
                *value = Some(clean.into_iter().next());
            }
        }
    }
    Ok(patch)
}

impl Engine {
    /// The certifications a person holds (expired ones marked).
    pub async fn certifications_of(&self, user: UserId) -> Result<Vec<Certification>> {
        Ok(self
            .store
            .certifications(user, Timestamp::now().millis())
            .await?)
    }

    /// The certifications the project requires that the person lacks or
    /// holds expired, as the `needs` phrase for the refusal's message and
    /// the problems (no query for a project without requirements).
    pub(crate) async fn missing_certifications(
        &self,
        project: &Project,
        user: &User,
    ) -> Result<Option<(String, Value)>> {
        if project.required_certifications.is_empty() {
            return Ok(None);
        }
        let held = self.certifications_of(user.id).await?;
        let mut missing = Vec::new();
        let mut expired = Vec::new();
        for name in &project.required_certifications {
            match held.iter().find(|c| &c.name == name) {
                Some(c) if !c.expired => {}
                Some(_) => expired.push(name.clone()),
                None => missing.push(name.clone()),
            }
        }
        if missing.is_empty() && expired.is_empty() {
            return Ok(None);
        }
        let lacking: Vec<String> = missing.iter().chain(&expired).cloned().collect();
        let tests: Vec<TestLink> = self
            .store
            .tests_granting(&lacking)
            .await?
            .into_iter()
            .map(|(project_id, name, certification)| TestLink {
                project_id,
                name,
                certification,
            })
            .collect();
        let mut phrase = format!("the certifications {}", lacking.join(", "));
        if !expired.is_empty() {
            phrase.push_str(&format!(" (expired: {})", expired.join(", ")));
        }
        if !tests.is_empty() {
            let names: Vec<String> = tests.iter().map(|t| format!("\"{}\"", t.name)).collect();
            phrase.push_str(&format!(
                ", which passing the qualification test {} grants",
                names.join(" or ")
            ));
        }
        Ok(Some((
            phrase,
            json!({
                "missing_certifications": missing,
                "expired_certifications": expired,
                "qualification_tests": tests,
            }),
        )))
    }

    /// The test and whether the caller manages it; members and members of
    /// a project requiring its certification may take it, others get 404.
    async fn qualification_test(&self, actor: &Actor, id: ProjectId) -> Result<(Project, bool)> {
        let project = match self.project_for(actor, id).await {
            Ok((project, role)) => (project, role >= ProjectRole::Manager),
            Err(err) if err.code == Code::NotFound => {
                let Some(user) = actor.user() else {
                    return Err(err);
                };
                let project = self.store.project(id).await.or_not_found("project")?;
                let admitted = match &project.qualification.grants_certification {
                    Some(name) if project.kind == ProjectKind::Qualification => {
                        self.store
                            .member_of_project_requiring(user.id, name)
                            .await?
                    }
                    _ => false,
                };
                if !admitted {
                    return Err(err);
                }
                (project, false)
            }
            Err(err) => return Err(err),
        };
        if project.0.kind != ProjectKind::Qualification {
            return Err(Error::new(
                Code::Conflict,
                "this project is not a qualification test (set its kind to qualification)",
            ));
        }
        Ok(project)
    }

    /// The caller's standing in a test (`GET …/qualification`).
    pub async fn qualification_status(
        &self,
        actor: &Actor,
        id: ProjectId,
    ) -> Result<QualificationStatus> {
        let (project, manager) = self.qualification_test(actor, id).await?;
        let tasks = self.store.gold_task_ids(project.id).await?.len();
        let (attempts, certification) = match actor.user() {
            Some(user) => {
                let attempts = self
                    .store
                    .qualification_attempts(project.id, user.id)
                    .await?;
                let certification = match &project.qualification.grants_certification {
                    Some(name) => self
                        .certifications_of(user.id)
                        .await?
                        .into_iter()
                        .find(|c| &c.name == name),
                    None => None,
                };
                (attempts, certification)
            }
            None => (Vec::new(), None),
        };
        let now = Timestamp::now().millis();
        let open_attempt = attempts
            .iter()
            .find(|a| a.finished_at.is_none())
            .map(|a| a.id);
        let block = start_blocked(&project.qualification, &attempts, now);
        let (can_start, blocked_reason, retry_at) = match (&block, tasks) {
            (_, 0) => (
                false,
                Some("the test has no tasks with ground truth yet".to_owned()),
                None,
            ),
            (Some((reason, retry_at)), _) if open_attempt.is_none() => {
                (false, Some(reason.clone()), *retry_at)
            }
            _ => (true, None, None),
        };
        Ok(QualificationStatus {
            project_id: project.id,
            project_name: project.name.clone(),
            tasks,
            attempts_left: attempts_left(&project.qualification, &attempts),
            best_score: attempts.iter().filter_map(|a| a.score).reduce(f64::max),
            passed: attempts.iter().any(|a| a.passed == Some(true)),
            attempts: attempts.iter().map(summary).collect(),
            open_attempt,
            can_start,
            blocked_reason,
            retry_at: retry_at.map(Timestamp),
            certification,
            manager,
            settings: project.qualification.clone(),
        })
    }

    /// Starts an attempt (or returns the caller's open one): refused with
    /// the reason and `retry_at` when attempts are used up or in cool-down.
    pub async fn start_attempt(&self, actor: &Actor, id: ProjectId) -> Result<AttemptView> {
        let user = actor
            .user()
            .ok_or_else(|| Error::forbidden("only a person takes a qualification test"))?;
        let (project, _) = self.qualification_test(actor, id).await?;
        let tasks = self.store.gold_task_ids(project.id).await?;
        if tasks.is_empty() {
            return Err(Error::new(
                Code::Conflict,
                "the test has no tasks with ground truth yet",
            ));
        }
        let attempts = self
            .store
            .qualification_attempts(project.id, user.id)
            .await?;
        let now = Timestamp::now().millis();
        if !attempts.iter().any(|a| a.finished_at.is_none()) {
            if let Some((reason, retry_at)) = start_blocked(&project.qualification, &attempts, now)
            {
                return Err(Error {
                    problems: Some(json!({"retry_at": retry_at.map(Timestamp), "reason": reason})),
                    ..Error::new(Code::Forbidden, reason)
                });
            }
        }
        let attempt = self
            .store
            .start_qualification_attempt(project.id, user.id, &tasks, now)
            .await?;
        self.attempt_view(&project, attempt).await
    }

    /// An attempt with its tasks (its person, and the test's managers).
    pub async fn attempt(&self, actor: &Actor, id: i64) -> Result<AttemptView> {
        let (project, _) = self.attempt_access(actor, id).await?;
        self.attempt_view(&project, id).await
    }

    async fn attempt_access(&self, actor: &Actor, id: i64) -> Result<(Project, AttemptRow)> {
        let row = self
            .store
            .qualification_attempt(id)
            .await
            .or_not_found("attempt")?;
        let (project, manager) = self
            .qualification_test(actor, row.project_id)
            .await
            .map_err(|err| match err.code {
                Code::NotFound => Error::not_found("attempt"),
                _ => err,
            })?;
        let own = actor.user().is_some_and(|user| user.id == row.user_id);
        if !own && !manager {
            return Err(Error::not_found("attempt"));
        }
        Ok((project, row))
    }

    async fn attempt_view(&self, project: &Project, id: i64) -> Result<AttemptView> {
        let row = self.store.qualification_attempt(id).await?;
        let answers = self.store.qualification_answers(id).await?;
        let finished = row.finished_at.is_some();
        let mut tasks = Vec::with_capacity(row.task_ids.len());
        for task_id in &row.task_ids {
            let task = match self.store.task(*task_id).await {
                Ok(task) => task.to_task()?,
                // A task deleted since the attempt started.
                Err(gloss_store::Error::NotFound) => continue,
                Err(err) => return Err(err.into()),
            };
            let answer = answers.iter().find(|a| a.task_id == *task_id);
            tasks.push(AttemptTask {
                task,
                answered: answer.is_some(),
                result: answer
                    .map(|a| serde_json::from_str(&a.result))
                    .transpose()
                    .map_err(|err| Error::internal(format!("a stored answer: {err}")))?,
                score: answer.filter(|_| finished).map(|a| a.score),
            });
        }
        let mut certification = None;
        let mut retry_at = None;
        let mut left = None;
        if finished {
            let attempts = self
                .store
                .qualification_attempts(project.id, row.user_id)
                .await?;
            left = attempts_left(&project.qualification, &attempts);
            if row.passed == Some(true) {
                if let Some(name) = &project.qualification.grants_certification {
                    certification = self
                        .certifications_of(row.user_id)
                        .await?
                        .into_iter()
                        .find(|c| &c.name == name && c.attempt_id == Some(row.id));
                }
            } else {
                retry_at =
                    start_blocked(&project.qualification, &attempts, Timestamp::now().millis())
                        .and_then(|(_, at)| at)
                        .map(Timestamp);
            }
        }
        Ok(AttemptView {
            attempt: summary(&row),
            project_name: project.name.clone(),
            label_config: project.label_config.clone(),
            pass_score: project.qualification.pass_score,
            tasks,
            certification,
            retry_at,
            attempts_left: left,
        })
    }

    /// Records the caller's answer to a task of their open attempt (checked
    /// against the label config like a submit, scored against the ground
    /// truth) and grades the attempt once every task is answered.
    pub async fn answer_attempt(
        &self,
        actor: &Actor,
        id: i64,
        task: TaskId,
        result: Vec<Value>,
    ) -> Result<AttemptView> {
        let (project, row) = self.attempt_access(actor, id).await?;
        if actor.user().map(|u| u.id) != Some(row.user_id) {
            return Err(Error::forbidden("only its person answers an attempt"));
        }
        if row.finished_at.is_some() {
            return Err(Error::new(Code::Conflict, "the attempt is finished"));
        }
        if !row.task_ids.contains(&task) {
            return Err(Error::invalid("task_id", "is not a task of this attempt"));
        }
        let input = crate::WorkInput {
            result,
            lead_time: None,
            active_time: None,
        };
        let text = crate::queue::checked_work(&project, input)?.result;
        let items = crate::training::parse_items(&text)?;
        let score = match self.store.ground_truth_of(task).await? {
            Some(gold) => {
                let (config, _) = gloss_schema::parse(&project.label_config);
                let gold_items = crate::training::parse_items(&gold.result)?;
                crate::training::results_feedback(&config, &items, &gold_items)
                    .score
                    .unwrap_or(0.0)
            }
            // Its ground truth was removed since: nothing to get wrong.
            None => 1.0,
        };
        let now = Timestamp::now().millis();
        self.store
            .record_qualification_answer(id, task, &text, score, now)
            .await
            .map_err(|err| match err {
                gloss_store::Error::Conflict(_) => {
                    Error::new(Code::Conflict, "the attempt is finished")
                }
                other => other.into(),
            })?;
        let answers = self.store.qualification_answers(id).await?;
        let done = row
            .task_ids
            .iter()
            .all(|task| answers.iter().any(|a| a.task_id == *task));
        if done {
            let mean = answers
                .iter()
                .filter(|a| row.task_ids.contains(&a.task_id))
                .map(|a| a.score)
                .sum::<f64>()
                / row.task_ids.len() as f64;
            let settings = &project.qualification;
            let passed = mean >= settings.pass_score - 1e-9;
            let grant = Grant {
                certification: settings.grants_certification.clone(),
                expires_at: settings
                    .certification_valid_days
                    .map(|days| now + days * DAY_MS),
                skill: settings.grants_skill.clone(),
            };
            self.store
                .finish_qualification_attempt(&row, mean, passed, &grant, now)
                .await?;
        }
        self.attempt_view(&project, id).await
    }

    /// Every attempt of every person at a test (its managers).
    pub async fn qualification_results(
        &self,
        actor: &Actor,
        id: ProjectId,
    ) -> Result<Vec<AttemptSummary>> {
        let (project, manager) = self.qualification_test(actor, id).await?;
        if !manager {
            return Err(Error::forbidden(
                "only the test's managers see everyone's results",
            ));
        }
        let mut results: Vec<AttemptSummary> = self
            .store
            .qualification_results(project.id)
            .await?
            .iter()
            .map(summary)
            .collect();
        if let Some(name) = &project.qualification.grants_certification {
            let now = Timestamp::now().millis();
            for (_, held) in self.store.certification_holders(name, now).await? {
                if let Some(attempt) = results
                    .iter_mut()
                    .find(|attempt| Some(attempt.id) == held.attempt_id)
                {
                    attempt.certified = Some(!held.expired);
                }
            }
        }
        Ok(results)
    }
}

impl Engine {
    /// Revokes the certification a test grants from a person (the test's
    /// managers): it expires now, so projects requiring it stop giving
    /// them tasks; the grant stays on record, and passing the test again
    /// certifies them anew.
    pub async fn revoke_certification(
        &self,
        actor: &Actor,
        id: ProjectId,
        username: &str,
    ) -> Result<Certification> {
        let (project, manager) = self.qualification_test(actor, id).await?;
        if !manager {
            return Err(Error::forbidden(
                "only the test's managers revoke its certification",
            ));
        }
        let Some(name) = project.qualification.grants_certification.clone() else {
            return Err(Error::new(
                Code::Conflict,
                "this test grants no certification",
            ));
        };
        let person = self
            .store
            .user_by_username(username)
            .await
            .or_not_found("user")?;
        let now = Timestamp::now().millis();
        self.store
            .set_certification_expiry(person.id, &name, Some(now))
            .await
            .or_not_found("certification")?;
        self.store
            .certifications(person.id, now + 1)
            .await?
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| Error::not_found("certification"))
    }
}

fn attempts_left(settings: &QualificationSettings, attempts: &[AttemptRow]) -> Option<i64> {
    (settings.max_attempts > 0).then(|| (settings.max_attempts - attempts.len() as i64).max(0))
}

/// Why a new attempt may not start now, and when it may (`None`: never):
/// attempts used up, or in cool-down after a failure.
fn start_blocked(
    settings: &QualificationSettings,
    attempts: &[AttemptRow],
    now: i64,
) -> Option<(String, Option<i64>)> {
    if settings.max_attempts > 0 && attempts.len() as i64 >= settings.max_attempts {
        return Some((
            format!(
                "you used all {} attempts at this test",
                settings.max_attempts
            ),
            None,
        ));
    }
    let last_failed = attempts
        .iter()
        .filter(|a| a.passed == Some(false))
        .filter_map(|a| a.finished_at)
        .max()?;
    let retry_at = last_failed + settings.cooldown_minutes * MINUTE_MS;
    (retry_at > now).then(|| {
        (
            format!(
                "the next attempt may start {} minutes after a failed one",
                settings.cooldown_minutes
            ),
            Some(retry_at),
        )
    })
}

/// Adds the certification problems to `check_qualified`'s.
pub(crate) fn merge_problems(problems: &mut Value, details: Value) {
    if let (Some(problems), Value::Object(details)) = (problems.as_object_mut(), details) {
        problems.extend(details);
    }
}

/// The tests named in a refusal's problems (see `missing_certifications`).
pub(crate) fn tests_in(problems: Option<&Value>) -> Vec<TestLink> {
    let Some(tests) = problems
        .and_then(|p| p.get("qualification"))
        .and_then(|q| q.get("qualification_tests"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    tests
        .iter()
        .filter_map(|test| {
            Some(TestLink {
                project_id: ProjectId(test.get("project_id")?.as_i64()?),
                name: test.get("name")?.as_str()?.to_owned(),
                certification: test.get("certification")?.as_str()?.to_owned(),
            })
        })
        .collect()
}
