//! The annotator queue: `next`, submit, skip, annotation updates with their
//! versions, drafts, and manual assignment. The store keeps the queue's
//! state and its invariants; this module decides who may call what and
//! checks every result against the project's label config.

use crate::access::{effective_role, require_role, Actor};
use crate::error::{Error, OrNotFound, Result};
use crate::import::results_json;
use crate::pay::{PaidWork, PricedItem};
use crate::Engine;
use gloss_store::{QueueProject, Submitted, Updated, Work, PRIORITY_LIMIT};
use gloss_types::result::ResultItem;
use gloss_types::{
    Annotation, AnnotationId, AnnotationVersion, Assignment, Code, Draft, Prediction, Project,
    ProjectId, ProjectRole, Task, TaskId, Timestamp, User,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// More result items than this in one annotation is a mistake, not work.
pub const MAX_RESULT_ITEMS: usize = 10_000;

/// The caller's next task, reserved for them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NextTask {
    pub task: Task,
    /// Model suggestions to start from.
    pub predictions: Vec<Prediction>,
    /// The caller's unsubmitted work on this task, if they saved any.
    pub draft: Option<Draft>,
    /// Until when the task is the caller's; `next` returns it until then.
    pub reserved_until: Timestamp,
    /// A manager assigned this task to the caller.
    pub assigned: bool,
    /// The caller's annotation of this task, which a reviewer rejected:
    /// change it (`PUT /api/v1/annotations/{id}`) to send it back to review.
    pub rework: Option<crate::review::Rework>,
}

/// A stored submit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmittedAnnotation {
    #[serde(flatten)]
    pub annotation: Annotation,
    /// The task now has more annotations than the project's overlap: the
    /// submit came after the caller's reservation expired and others had
    /// taken the task meanwhile. It is stored all the same.
    pub past_overlap: bool,
    /// In a training project: what was right and wrong against the ground truth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<crate::TrainingFeedback>,
}

/// Work sent by an annotator: Label Studio result items.
#[derive(Debug, Clone)]
pub struct WorkInput {
    pub result: Vec<Value>,
    pub lead_time: Option<f64>,
    /// Active seconds the labeling workspace measured (submits and
    /// updates); capped by the server, see `docs/pay.md`.
    pub active_time: Option<f64>,
}

/// How often the server adds rows written while the queue was idle to the
/// tables kept in place of indexes by person ([`Engine::keep_person_indexes`]).
const PERSON_INDEX_SWEEP: std::time::Duration = std::time::Duration::from_secs(10);

impl Engine {
    /// Keeps the tables that SQLite keeps in place of indexes by person
    /// (the pay ledger's entries, the annotations; see gloss-store's
    /// `person_index.rs`) up to date with rows written while the annotator
    /// queue is idle, or by an import: the queue adds them itself under
    /// load. Every 10 s, until the store closes. Reads find rows not yet
    /// added by id, so this only keeps them few.
    pub async fn keep_person_indexes(&self) {
        let store = self.store();
        if store.backend() != gloss_store::Backend::Sqlite {
            return;
        }
        while !store.is_closed() {
            tokio::time::sleep(PERSON_INDEX_SWEEP).await;
            self.catch_up_person_indexes().await;
        }
    }

    /// Adds the rows not yet in the tables by person (see
    /// [`Engine::keep_person_indexes`]); errors are logged.
    pub(crate) async fn catch_up_person_indexes(&self) {
        let store = self.store();
        if let Err(err) = store.catch_up_person_indexes().await {
            if !store.is_closed() {
                tracing::warn!(error = %err, "adding rows to the tables by person failed");
            }
        }
    }

    /// Reserves and returns the caller's next task in the project, or `None`
    /// when nothing is left for them.
    pub async fn next_task(&self, actor: &Actor, project: ProjectId) -> Result<Option<NextTask>> {
        let user = queue_user(actor)?;
        // The project, the caller's role and what else `next` checks of
        // them, in one read: this runs hundreds of times an hour per annotator.
        let (project, membership, caller) = self
            .store
            .project_for_queue(project, user.id)
            .await
            .or_not_found("project")?;
        effective_role(user, membership)?;
        self.check_account_active(user)?;
        self.check_qualified(&project, user).await?;
        self.check_guidelines_acknowledged(&project, user).await?;
        let now = Timestamp::now().millis();
        // Rejected work comes back first.
        let rework = if caller.has_rework {
            self.rework(project.id, user.id).await?
        } else {
            None
        };
        if let Some((task, rework)) = rework {
            let predictions = self
                .store
                .task_predictions(task.id)
                .await?
                .iter()
                .map(|row| row.to_prediction().map_err(Error::from))
                .collect::<Result<Vec<_>>>()?;
            return Ok(Some(NextTask {
                draft: self.store.draft(task.id, user.id).await?,
                task,
                predictions,
                reserved_until: Timestamp(now + project.reservation_seconds * 1000),
                assigned: false,
                rework: Some(rework),
            }));
        }
        // Rework is not new work: the daily limit counts new tasks only.
        self.check_daily_limit(&project, user).await?;
        crate::gold::not_paused(caller.paused)?;
        self.maybe_serve_honeypot(&project, user).await?;
        self.training_turn(&project, user).await?;
        let Some(reserved) = self
            .store
            .next_task(QueueProject::from(&project), user.id, now)
            .await?
        else {
            return Ok(None);
        };
        // A gold task looks like any other: not "assigned".
        let assigned = reserved.reservation.assigned
            && !(project.honeypot_percent > 0
                && self
                    .store
                    .is_honeypot(reserved.reservation.task_id, user.id)
                    .await?);
        let predictions = reserved
            .predictions
            .iter()
            .map(|row| row.to_prediction().map_err(Error::from))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(NextTask {
            task: reserved.task.to_task()?,
            predictions,
            draft: reserved.draft,
            reserved_until: Timestamp(reserved.reservation.expires_at),
            assigned,
            rework: None,
        }))
    }

    /// The task the caller will most likely get from `next` after the one
    /// they hold, for loading its media ahead; `None` when there is none.
    /// Reserves nothing.
    pub async fn upcoming_task(&self, actor: &Actor, project: ProjectId) -> Result<Option<Task>> {
        let user = queue_user(actor)?;
        let (project, _) = self.project_for(actor, project).await?;
        let row = self
            .store
            .upcoming_task(QueueProject::from(&project), user.id)
            .await?;
        Ok(row.map(|row| row.to_task()).transpose()?)
    }

    /// Stores the caller's annotation of a task. A submit is stored even
    /// after the caller's reservation expired; a second submit of the same
    /// task by the same annotator is refused (409): update the first instead.
    pub async fn submit_annotation(
        &self,
        actor: &Actor,
        task: TaskId,
        input: WorkInput,
    ) -> Result<SubmittedAnnotation> {
        let user = queue_user(actor)?;
        let (project, membership, caller) = self
            .store
            .task_project_for_queue(task, user.id)
            .await
            .or_not_found("task")?;
        check_task_role(user, membership, ProjectRole::Annotator)?;
        let active_time = input.active_time;
        let mut work = checked_work(&project, input)?;
        let now = Timestamp::now().millis();
        // Active time is at most the time since the task was reserved (or,
        // without a reservation, one reservation's length). A submit that
        // measured none (a script's) needs no reservation read.
        if active_time.is_some() {
            let started = self.store.reservation_started(task, user.id).await?;
            let cap = started.map_or(project.reservation_seconds * 1000, |start| now - start);
            work.active_ms = crate::pay::capped_active_ms(active_time, cap)?;
        }
        let active_ms = work.active_ms;
        let item = PricedItem {
            task,
            annotation: None,
            result: &work.result,
        };
        let submit = PaidWork::Submit;
        work.pay = self
            .price_ahead(&project, user, Some(&caller), submit, item, active_ms, now)
            .await;
        match self
            .store
            .submit_annotation(QueueProject::from(&project), task, user.id, work, now)
            .await
            .or_not_found("task")?
        {
            Submitted::Created {
                annotation,
                past_overlap,
                pay_recorded,
            } => {
                self.score_against_ground_truth(&project, &annotation).await;
                if !pay_recorded {
                    self.record_pay(
                        &project,
                        user,
                        PaidWork::Submit,
                        &annotation,
                        None,
                        active_ms,
                        now,
                    )
                    .await;
                }
                self.maybe_extend_overlap(&project, task).await;
                Ok(SubmittedAnnotation {
                    annotation: annotation.to_annotation()?,
                    past_overlap,
                    feedback: self.feedback_after_submit(&project, &annotation).await,
                })
            }
            Submitted::AlreadySubmitted(existing) => Err(Error {
                problems: Some(serde_json::json!({ "annotation_id": existing })),
                ..Error::new(
                    Code::Conflict,
                    format!(
                        "you already submitted this task (annotation {existing}); \
                         change it with PUT /api/v1/annotations/{existing}"
                    ),
                )
            }),
        }
    }

    /// Gives a task back to the pool; the caller gets it again only when
    /// nothing else is left for them.
    pub async fn skip_task(&self, actor: &Actor, task: TaskId) -> Result<()> {
        let user = queue_user(actor)?;
        let project = self
            .task_project(actor, task, ProjectRole::Annotator)
            .await?;
        let now = Timestamp::now().millis();
        self.store
            .skip_task(QueueProject::from(&project), task, user.id, now)
            .await
            .or_not_found("task")
    }

    /// Replaces an annotation's result when `version` is its current
    /// version; otherwise 409 with the current annotation in
    /// `details.problems`. Its annotator may change it, and so may the
    /// project's reviewers and managers.
    pub async fn update_annotation(
        &self,
        actor: &Actor,
        id: AnnotationId,
        version: i64,
        input: WorkInput,
    ) -> Result<Annotation> {
        let user = queue_user(actor)?;
        let (project, before) = self.annotation_access(actor, id, "change it").await?;
        let active_time = input.active_time;
        let mut work = checked_work(&project, input)?;
        let now = Timestamp::now().millis();
        // At most the time since the current version was written.
        work.active_ms = crate::pay::capped_active_ms(active_time, now - before.updated_at)?;
        let active_ms = work.active_ms;
        // The annotator's own update is priced (reviewers' fixes are paid
        // through their verdicts), in the update's transaction.
        let paid = PaidWork::Update(before.review_state == "rejected");
        if before.completed_by == Some(user.id) {
            let item = PricedItem {
                task: before.task_id,
                annotation: Some(id),
                result: &work.result,
            };
            work.pay = self
                .price_ahead(&project, user, None, paid, item, active_ms, now)
                .await;
        }
        match self
            .store
            .update_annotation(id, version, work, user.id, now)
            .await
            .or_not_found("annotation")?
        {
            Updated::Updated {
                annotation: row,
                pay_recorded,
            } => {
                if row.completed_by == Some(user.id) {
                    self.score_against_ground_truth(&project, &row).await;
                    if !pay_recorded {
                        self.record_pay(&project, user, paid, &row, None, active_ms, now)
                            .await;
                    }
                }
                Ok(row.to_annotation()?)
            }
            Updated::Stale(row) => {
                let current = row.to_annotation()?;
                Err(Error {
                    problems: serde_json::to_value(&current).ok(),
                    ..Error::new(
                        Code::Conflict,
                        format!(
                            "version {version} is not the current version of annotation {id} \
                             (it is {}); reload it and apply your change again",
                            current.version
                        ),
                    )
                })
            }
        }
    }

    /// One annotation (its annotator, and the project's reviewers and managers).
    pub async fn annotation(&self, actor: &Actor, id: AnnotationId) -> Result<Annotation> {
        let (_, row) = self.annotation_access(actor, id, "see it").await?;
        Ok(row.to_annotation()?)
    }

    /// Every version of an annotation, oldest first.
    pub async fn annotation_versions(
        &self,
        actor: &Actor,
        id: AnnotationId,
    ) -> Result<Vec<AnnotationVersion>> {
        self.annotation_access(actor, id, "see its versions")
            .await?;
        Ok(self.store.annotation_versions(id).await?)
    }

    /// Saves the caller's unsubmitted work on a task; `next` returns it.
    pub async fn put_draft(&self, actor: &Actor, task: TaskId, input: WorkInput) -> Result<Draft> {
        let user = queue_user(actor)?;
        let project = self
            .task_project(actor, task, ProjectRole::Annotator)
            .await?;
        // A draft may be unfinished, but it is still made of result items
        // this config understands.
        let work = checked_work(&project, input)?;
        let now = Timestamp::now().millis();
        Ok(self
            .store
            .put_draft(project.id, task, user.id, work, now)
            .await?)
    }

    /// The caller's draft of a task.
    pub async fn draft(&self, actor: &Actor, task: TaskId) -> Result<Option<Draft>> {
        let user = queue_user(actor)?;
        self.task_project(actor, task, ProjectRole::Annotator)
            .await?;
        Ok(self.store.draft(task, user.id).await?)
    }

    /// Puts tasks first in a member's queue (managers). Tasks the member
    /// already submitted are left out; returns how many were assigned.
    pub async fn assign_tasks(
        &self,
        actor: &Actor,
        project: ProjectId,
        username: &str,
        tasks: &[TaskId],
    ) -> Result<u64> {
        let (project, member) = self
            .assignment_target(actor, project, username, tasks)
            .await?;
        let now = Timestamp::now().millis();
        let by = actor.user().map(|user| user.id);
        Ok(self
            .store
            .assign_tasks(
                QueueProject::from(&project),
                tasks.to_vec(),
                member.id,
                by,
                now,
            )
            .await?)
    }

    /// Takes tasks out of a member's queue (managers).
    pub async fn unassign_tasks(
        &self,
        actor: &Actor,
        project: ProjectId,
        username: &str,
        tasks: &[TaskId],
    ) -> Result<u64> {
        let (project, member) = self
            .assignment_target(actor, project, username, tasks)
            .await?;
        Ok(self
            .store
            .unassign_tasks(QueueProject::from(&project), tasks.to_vec(), member.id)
            .await?)
    }

    /// A project's assignments (reviewers and managers).
    pub async fn assignments(&self, actor: &Actor, project: ProjectId) -> Result<Vec<Assignment>> {
        self.project_with_role(actor, project, ProjectRole::Reviewer, "see assignments")
            .await?;
        Ok(self.store.assignments(project).await?)
    }

    /// Sets a task's priority (managers); projects ordered by priority hand
    /// out higher priorities first.
    pub async fn set_task_priority(
        &self,
        actor: &Actor,
        task: TaskId,
        priority: i64,
    ) -> Result<Task> {
        let project = self.task_project(actor, task, ProjectRole::Manager).await?;
        if !(-PRIORITY_LIMIT..=PRIORITY_LIMIT).contains(&priority) {
            return Err(Error::invalid(
                "priority",
                format!("must be between -{PRIORITY_LIMIT} and {PRIORITY_LIMIT}"),
            ));
        }
        self.store
            .set_task_priority(QueueProject::from(&project), task, priority)
            .await
            .or_not_found("task")?;
        Ok(self.store.task(task).await?.to_task()?)
    }

    /// The project of a task the caller may work on with `needed`; a task of a
    /// project the caller cannot see is "not found".
    pub(crate) async fn task_project(
        &self,
        actor: &Actor,
        task: TaskId,
        needed: ProjectRole,
    ) -> Result<Project> {
        match actor {
            // The operator acts as a manager: every role suffices.
            Actor::Operator => {
                let row = self.store.task(task).await.or_not_found("task")?;
                Ok(self.store.project(row.project_id).await?)
            }
            Actor::User(user) => {
                let (project, membership) = self
                    .store
                    .task_project_and_role(task, user.id)
                    .await
                    .or_not_found("task")?;
                check_task_role(user, membership, needed)?;
                Ok(project)
            }
        }
    }

    /// The annotation's project and row, if the caller is its annotator or a
    /// reviewer or manager of its project.
    pub(crate) async fn annotation_access(
        &self,
        actor: &Actor,
        id: AnnotationId,
        action: &str,
    ) -> Result<(Project, gloss_store::AnnotationRow)> {
        let row = self.store.annotation(id).await.or_not_found("annotation")?;
        let project_id = self
            .store
            .annotation_project(id)
            .await
            .or_not_found("annotation")?;
        let (project, role) = self
            .project_for(actor, project_id)
            .await
            .map_err(|err| match err.code {
                Code::NotFound => Error::not_found("annotation"),
                _ => err,
            })?;
        let own = actor
            .user()
            .is_some_and(|user| row.completed_by == Some(user.id));
        if !own && role < ProjectRole::Reviewer {
            return Err(Error::forbidden(format!(
                "only its annotator and the project's reviewers and managers may {action}"
            )));
        }
        Ok((project, row))
    }

    /// The project and member of an assignment change (managers only), once
    /// the member and every task are checked.
    async fn assignment_target(
        &self,
        actor: &Actor,
        project: ProjectId,
        username: &str,
        tasks: &[TaskId],
    ) -> Result<(Project, User)> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Manager, "assign tasks")
            .await?;
        let member = self.user_named(username).await?;
        let is_member = member.role == gloss_types::Role::Admin
            || self
                .store
                .membership(project.id, member.id)
                .await?
                .is_some();
        if !is_member {
            return Err(Error::invalid(
                "username",
                format!("{username} is not a member of this project"),
            ));
        }
        self.check_project_tasks(&project, tasks).await?;
        Ok((project, member))
    }

    /// Every task must belong to the project.
    async fn check_project_tasks(&self, project: &Project, tasks: &[TaskId]) -> Result<()> {
        if tasks.is_empty() || tasks.len() > 10_000 {
            return Err(Error::invalid(
                "task_ids",
                "give between 1 and 10000 task ids",
            ));
        }
        for (index, task) in tasks.iter().enumerate() {
            let belongs = self
                .store
                .task(*task)
                .await
                .map(|row| row.project_id == project.id)
                .or_else(|err| match err {
                    gloss_store::Error::NotFound => Ok(false),
                    err => Err(err),
                })?;
            if !belongs {
                return Err(Error::invalid(
                    &format!("task_ids[{index}]"),
                    format!("task {task} is not in this project"),
                ));
            }
        }
        Ok(())
    }
}

/// The queue is for people: the command line has no annotator to hand tasks to.
fn queue_user(actor: &Actor) -> Result<&User> {
    actor.user().ok_or_else(|| {
        Error::new(
            Code::BadRequest,
            "the annotator queue needs a signed-in user",
        )
    })
}

/// The caller may do what needs `needed` on a task of a project where they
/// hold `membership`; outsiders are told the task does not exist.
fn check_task_role(
    user: &User,
    membership: Option<ProjectRole>,
    needed: ProjectRole,
) -> Result<()> {
    let role = effective_role(user, membership).map_err(hide_project)?;
    require_role(role, needed, "do this")
}

fn hide_project(err: Error) -> Error {
    match err.code {
        Code::NotFound => Error::not_found("task"),
        _ => err,
    }
}

/// The project's label config, parsed: kept per project for later calls.
/// Every submit checks its results against the project's config, and
/// parsing the XML each time was about a tenth of a submit's CPU in the
/// queue benchmark. Parsing depends on the text alone, and a kept parse is
/// used only for the text it came from, so the cache changes no answer: a
/// changed config is parsed again. It keeps at most `PARSED_CONFIGS` projects.
fn parsed_label_config(project: &Project) -> std::sync::Arc<gloss_schema::LabelConfig> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    // By project, with the text it was parsed from: comparing the texts is
    // one `memcmp`, where hashing a large config (a taxonomy of hundreds of
    // classes is 15 kB) on every submit cost more than the rest of the check.
    type Parsed = HashMap<ProjectId, (String, Arc<gloss_schema::LabelConfig>)>;
    static PARSED: OnceLock<Mutex<Parsed>> = OnceLock::new();
    let parsed = PARSED.get_or_init(Mutex::default);
    let text = &project.label_config;
    let known = parsed.lock().ok().and_then(|map| {
        map.get(&project.id)
            .filter(|(parsed_from, _)| parsed_from == text)
            .map(|(_, config)| config.clone())
    });
    if let Some(config) = known {
        return config;
    }
    let config = Arc::new(gloss_schema::parse(text).0);
    if let Ok(mut map) = parsed.lock() {
        if map.len() >= PARSED_CONFIGS {
            map.clear();
        }
        map.insert(project.id, (text.clone(), config.clone()));
    }
    config
}

/// How many projects' configs [`parsed_label_config`] keeps.
const PARSED_CONFIGS: usize = 64;

/// Parses the result items and checks them against the project's config:
/// every problem is listed in `problems`, the first names the field.
pub(crate) fn checked_work(project: &Project, input: WorkInput) -> Result<Work> {
    if let Some(lead_time) = input.lead_time {
        if !lead_time.is_finite() || lead_time < 0.0 {
            return Err(Error::invalid(
                "lead_time",
                "must be a number of seconds, 0 or more",
            ));
        }
    }
    if input.result.len() > MAX_RESULT_ITEMS {
        return Err(Error::invalid(
            "result",
            format!("has more than {MAX_RESULT_ITEMS} items"),
        ));
    }
    let mut items = Vec::with_capacity(input.result.len());
    for (index, value) in input.result.into_iter().enumerate() {
        let item: ResultItem = serde_json::from_value(value)
            .map_err(|err| Error::invalid(&format!("result[{index}]"), err.to_string()))?;
        items.push(item);
    }
    let config = parsed_label_config(project);
    let problems = gloss_schema::check_results(&config, &items);
    if let Some((index, first)) = problems.first() {
        let listed: Vec<Value> = problems
            .iter()
            .map(|(index, problem)| {
                serde_json::json!({
                    "field": format!("result[{index}].{}", problem.field),
                    "code": problem.code,
                    "reason": problem.message,
                })
            })
            .collect();
        return Err(Error {
            problems: Some(Value::Array(listed)),
            ..Error::invalid(
                &format!("result[{index}].{}", first.field),
                first.message.clone(),
            )
        });
    }
    Ok(Work {
        active_ms: None,
        pay: None,
        result: results_json(&items),
        lead_time: input.lead_time,
    })
}
