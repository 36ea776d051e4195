//! The annotator queue: reservations, submits, skips, manual assignments,
//! annotation versions and drafts.
//!
//! Every task carries two counters: `annotation_count` (submitted work) and
//! `held` (annotators holding it through an unexpired reservation or a manual
//! assignment, each counted once). A task is open to the pool while
//! `annotation_count + held < overlap`, so at no moment is a task reserved by
//! more annotators than it still needs. Every change of a task's counters
//! locks its row first (PostgreSQL), and nothing else is locked before it, so
//! concurrent queue calls cannot deadlock.
//!
//! Expired reservations are released lazily, by the next queue call of the
//! same project: no background job is needed, and several instances can
//! share one database.

use crate::queue_sql::{fetch_optional, Param, QueueSql};
use crate::tasks::{
    annotation_row, json_array, prediction_row, task_row, AnnotationRow, Columns, PredictionRow,
    TaskRow, ANNOTATION_SELECT, PREDICTION_SELECT, TASK_COLUMNS,
};
use crate::{Backend, Error, Result, Store};
use gloss_types::{
    AnnotationId, AnnotationVersion, Assignment, Draft, Project, ProjectId, QueueOrder, TaskId,
    Timestamp, UserId,
};
use sqlx::Row;
use Param::{Int, OptionalInt, Text};

/// The queue settings of a project, as the store needs them.
#[derive(Debug, Clone, Copy)]
pub struct QueueProject {
    pub id: ProjectId,
    pub overlap: i64,
    pub order: QueueOrder,
    pub reservation_seconds: i64,
}

impl From<&Project> for QueueProject {
    fn from(project: &Project) -> QueueProject {
        QueueProject {
            id: project.id,
            overlap: project.overlap,
            order: project.queue_order,
            reservation_seconds: project.reservation_seconds,
        }
    }
}

/// A task the queue handed to an annotator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    pub task_id: TaskId,
    pub expires_at: i64,
    /// A manager assigned the task to this annotator.
    pub assigned: bool,
}

/// A reserved task with what the annotator needs to start: read in the same
/// transaction as the reservation.
#[derive(Debug, Clone)]
pub struct ReservedTask {
    pub reservation: Reservation,
    pub task: TaskRow,
    pub predictions: Vec<PredictionRow>,
    pub draft: Option<Draft>,
}

/// What a submit did.
#[derive(Debug, Clone)]
pub enum Submitted {
    Created {
        annotation: AnnotationRow,
        /// The task now has more annotations than the project's overlap (a
        /// late submit after the reservation expired and someone else took it).
        past_overlap: bool,
        /// The work's pay entry was written with it. False without one, or
        /// when its week was approved meanwhile: the caller then prices
        /// it again into an open week.
        pay_recorded: bool,
    },
    /// The annotator had already submitted this task: nothing was written.
    AlreadySubmitted(AnnotationId),
}

/// What an update of an annotation did.
#[derive(Debug, Clone)]
pub enum Updated {
    Updated {
        annotation: AnnotationRow,
        /// The update's pay entry was written with it (see [`Work::pay`]):
        /// false without one, when the annotation is not the updater's own,
        /// or when its week was approved meanwhile.
        pay_recorded: bool,
    },
    /// The given version is not the current one: nothing was written.
    Stale(AnnotationRow),
}

/// A new annotation or version of one.
#[derive(Debug, Clone)]
pub struct Work {
    /// A JSON array of result items.
    pub result: String,
    pub lead_time: Option<f64>,
    /// Active milliseconds spent on this version, already capped by the
    /// caller; `None`: not measured.
    pub active_ms: Option<i64>,
    /// The pay-ledger entry of a submit, or of an annotator's update of
    /// their own annotation, priced by the caller (its `annotation_id` is
    /// set here): written in the work's own transaction, so that no stored
    /// work is ever left unpriced.
    pub pay: Option<crate::pay::NewPayEntry>,
}

/// Priorities run from -PRIORITY_LIMIT to PRIORITY_LIMIT, so that a task's
/// place in a priority queue fits one integer with its id (see [`queue_key`]).
pub const PRIORITY_LIMIT: i64 = 1_000_000;
const ID_BITS: i64 = 1 << 40;
const SHUFFLE_RANGE: i64 = 2_147_483_648;

/// A task's place in its project's queue order (the column `queue_key`,
/// indexed over the tasks that are not completed): the id (sequential); the
/// priority, highest first, then the id (priority); a multiplicative hash of
/// the id, a bijection on 31 bits (random). [`queue_key_sql`] computes the
/// same in SQL.
pub(crate) fn queue_key(order: QueueOrder, id: i64, priority: i64) -> i64 {
    match order {
        QueueOrder::Sequential => id,
        QueueOrder::Priority => {
            (PRIORITY_LIMIT - priority.clamp(-PRIORITY_LIMIT, PRIORITY_LIMIT)) * ID_BITS
                + id.rem_euclid(ID_BITS)
        }
        QueueOrder::Random => id.rem_euclid(SHUFFLE_RANGE) * 1_640_531_527 % SHUFFLE_RANGE,
    }
}

/// [`queue_key`] as an SQL expression over the columns `id` and `priority`.
fn queue_key_sql(order: QueueOrder) -> String {
    queue_key_with(order, "priority")
}

/// [`queue_key`] as an SQL expression over the column `id` and the
/// expression `priority` (a column, or a placeholder when the priority is
/// being set in the same statement).
pub(crate) fn queue_key_with(order: QueueOrder, priority: &str) -> String {
    match order {
        QueueOrder::Sequential => "id".to_string(),
        QueueOrder::Priority => {
            format!("({PRIORITY_LIMIT} - {priority}) * {ID_BITS} + (id % {ID_BITS})")
        }
        QueueOrder::Random => format!("(id % {SHUFFLE_RANGE}) * 1640531527 % {SHUFFLE_RANGE}"),
    }
}

/// A task's status from its counters; `$O` is the project's overlap (a task
/// whose annotators disagreed needs `extra_overlap` more, see dynamic
/// overlap), `$A`/`$H` the changes to annotation_count and held.
const STATUS_AFTER: &str =
    "CASE WHEN annotation_count + $A >= $O + extra_overlap THEN 'completed' \
     WHEN annotation_count + $A > 0 OR held + $H > 0 THEN 'in_progress' ELSE 'new' END";

/// Runs a queue call: on SQLite on the writer thread (group commit), on
/// PostgreSQL in its own transaction, run again (up to five times) when a
/// concurrent transaction made it fail. `$conn` is a `QueueSql`; the listed
/// variables are cloned for each run.
macro_rules! queue_call {
    ($store:expr, [$($var:ident),*], |$conn:ident| $body:expr) => {{
        let store: &Store = $store;
        match &store.sqlite_writer {
            Some(writer) => {
                writer
                    .write(move |raw| {
                        $(let $var = $var.clone();)*
                        let $conn = &mut crate::queue_sql::SqliteQueue(raw);
                        // The SQLite connection answers at once: the future is
                        // ready on its first poll.
                        futures::FutureExt::now_or_never($body).unwrap_or_else(|| {
                            Err(Error::Database("a SQLite queue call did not finish".to_string()))
                        })
                    })
                    .await
            }
            None => {
                let backend = store.backend;
                store
                    .sqlx_write(move |raw| {
                        $(let $var = $var.clone();)*
                        Box::pin(async move {
                            let $conn = &mut crate::queue_sql::SqlxQueue(raw, backend);
                            $body.await
                        })
                    })
                    .await
            }
        }
    }};
}

impl Store {
    /// Asks for one more annotator on a completed task (dynamic overlap),
    /// unless it already needs `max`: the task opens again. Returns whether
    /// it did.
    pub async fn extend_overlap(
        &self,
        project: QueueProject,
        task: TaskId,
        max: i64,
        now: i64,
    ) -> Result<bool> {
        queue_call!(self, [], |conn| extend(conn, project, task, max, now))
    }

    /// Reserves the annotator's next task and reads it, or `None` when the
    /// project has nothing left for them. In order: their unexpired
    /// reservation; tasks assigned to them; the pool in the project's order;
    /// tasks they skipped, oldest skip first.
    pub async fn next_task(
        &self,
        project: QueueProject,
        user: UserId,
        now: i64,
    ) -> Result<Option<ReservedTask>> {
        queue_call!(self, [], |conn| next_task(conn, project, user, now))
    }

    /// The task the annotator will most likely get after the one they hold,
    /// so that a client can load its media ahead. Reserves nothing: another
    /// annotator may take it first.
    pub async fn upcoming_task(
        &self,
        project: QueueProject,
        user: UserId,
    ) -> Result<Option<TaskRow>> {
        let Some(task) = look_ahead(&mut LookAheadReads(self), project, user).await? else {
            return Ok(None);
        };
        let rows = self
            .quick_read(
                &format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1"),
                &[Int(task.0)],
            )
            .await?;
        rows.first().map(|row| task_row(row)).transpose()
    }

    /// Stores a submitted annotation and releases the annotator's hold on the task.
    pub async fn submit_annotation(
        &self,
        project: QueueProject,
        task: TaskId,
        user: UserId,
        work: Work,
        now: i64,
    ) -> Result<Submitted> {
        // Parsed here, not on the queue's writer thread.
        let labels = crate::datamanager::result_labels(&work.result);
        queue_call!(self, [work, labels], |conn| submit(
            conn, project, task, user, work, &labels, now
        ))
    }

    /// Gives the task back to the pool; the annotator gets it again only when
    /// nothing else is left for them.
    pub async fn skip_task(
        &self,
        project: QueueProject,
        task: TaskId,
        user: UserId,
        now: i64,
    ) -> Result<()> {
        queue_call!(self, [], |conn| skip(conn, project, task, user, now))
    }

    /// Replaces an annotation's result if `version` is its current version;
    /// the replaced version is kept.
    pub async fn update_annotation(
        &self,
        id: AnnotationId,
        version: i64,
        work: Work,
        by: UserId,
        now: i64,
    ) -> Result<Updated> {
        queue_call!(self, [work], |conn| update(
            conn, id, version, work, by, now
        ))
    }

    /// Keeps the annotator's unsubmitted work on a task (one draft per
    /// annotator and task).
    pub async fn put_draft(
        &self,
        project: ProjectId,
        task: TaskId,
        user: UserId,
        work: Work,
        now: i64,
    ) -> Result<Draft> {
        queue_call!(self, [work], |conn| put_draft(
            conn, project, task, user, work, now
        ))
    }

    /// Puts tasks first in an annotator's queue. Tasks they already
    /// submitted or already hold by assignment are left out; returns how many
    /// were assigned.
    pub async fn assign_tasks(
        &self,
        project: QueueProject,
        tasks: Vec<TaskId>,
        user: UserId,
        by: Option<UserId>,
        now: i64,
    ) -> Result<u64> {
        queue_call!(self, [tasks], |conn| assign(
            conn, project, tasks, user, by, now
        ))
    }

    /// Takes tasks out of an annotator's queue; returns how many were assigned to them.
    pub async fn unassign_tasks(
        &self,
        project: QueueProject,
        tasks: Vec<TaskId>,
        user: UserId,
    ) -> Result<u64> {
        queue_call!(self, [tasks], |conn| unassign(conn, project, tasks, user))
    }

    /// Sets a task's priority (used by projects ordered by priority).
    pub async fn set_task_priority(
        &self,
        project: QueueProject,
        task: TaskId,
        priority: i64,
    ) -> Result<()> {
        let now = Timestamp::now().millis();
        let key = queue_key(project.order, task.0, priority);
        queue_call!(self, [], |conn| async move {
            let changed = conn
                .execute(
                    "UPDATE tasks SET priority = $1, queue_key = $2, updated_at = $3 \
                     WHERE id = $4 AND project_id = $5",
                    &[
                        Int(priority),
                        Int(key),
                        Int(now),
                        Int(task.0),
                        Int(project.id.0),
                    ],
                )
                .await?;
            crate::users::expect_one(changed)
        })
    }

    /// Runs a bulk action of the data manager as one queue call.
    pub(crate) async fn bulk_call(
        &self,
        project: QueueProject,
        target: crate::datamanager::BulkTarget,
        action: crate::datamanager::BulkAction,
        now: i64,
    ) -> Result<u64> {
        queue_call!(self, [target, action], |conn| async move {
            crate::datamanager::bulk(conn, project, &target, &action, now).await
        })
    }

    /// Runs one statement binding integers as a queue call (see `queue_call!`).
    pub(crate) async fn queue_update(&self, sql: &'static str, values: Vec<i64>) -> Result<()> {
        queue_call!(self, [values], |conn| async move {
            let params: Vec<Param<'_>> = values.iter().map(|value| Int(*value)).collect();
            conn.execute(sql, &params).await.map(|_| ())
        })
    }

    pub async fn annotation(&self, id: AnnotationId) -> Result<AnnotationRow> {
        let row = sqlx::query(&format!("{ANNOTATION_SELECT} WHERE a.id = $1"))
            .bind(id.0)
            .fetch_one(&self.readers)
            .await?;
        annotation_row(&row)
    }

    /// The project an annotation belongs to.
    pub async fn annotation_project(&self, id: AnnotationId) -> Result<ProjectId> {
        let row = sqlx::query("SELECT project_id FROM annotations WHERE id = $1")
            .bind(id.0)
            .fetch_one(&self.readers)
            .await?;
        Ok(ProjectId(row.try_get("project_id")?))
    }

    /// Every version of an annotation, oldest first, the current one last.
    pub async fn annotation_versions(&self, id: AnnotationId) -> Result<Vec<AnnotationVersion>> {
        let rows = sqlx::query(
            "SELECT annotation_id, version, result, lead_time, created_by, created_at \
             FROM annotation_versions WHERE annotation_id = $1 \
             UNION ALL SELECT id, version, result, lead_time, COALESCE(updated_by, completed_by), \
             updated_at FROM annotations WHERE id = $1 ORDER BY version",
        )
        .bind(id.0)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AnnotationVersion {
                    annotation_id: AnnotationId(row.try_get("annotation_id")?),
                    version: row.try_get("version")?,
                    result: json_array(
                        &row.try_get::<String, _>("result")?,
                        "annotation_versions.result",
                    )?,
                    lead_time: crate::rows::optional_f64(row, "lead_time")?,
                    created_by: row.try_get::<Option<i64>, _>("created_by")?.map(UserId),
                    created_at: Timestamp(row.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// The annotator's draft of a task, if any.
    pub async fn draft(&self, task: TaskId, user: UserId) -> Result<Option<Draft>> {
        let rows = sqlx::query(DRAFTS_OF)
            .bind(task.0)
            .bind(user.0)
            .fetch_all(&self.readers)
            .await?;
        newest_draft(rows)?
            .map(|row| draft(&row, task, user))
            .transpose()
    }

    /// A project's assignments, by annotator and then task.
    pub async fn assignments(&self, project: ProjectId) -> Result<Vec<Assignment>> {
        let rows = sqlx::query(
            "SELECT a.task_id, a.user_id, u.username, a.assigned_by, a.assigned_at \
             FROM assignments a JOIN users u ON u.id = a.user_id WHERE a.project_id = $1 \
             ORDER BY a.user_id, a.assigned_at, a.task_id",
        )
        .bind(project.0)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Assignment {
                    task_id: TaskId(row.try_get("task_id")?),
                    user_id: UserId(row.try_get("user_id")?),
                    username: row.try_get("username")?,
                    assigned_by: row.try_get::<Option<i64>, _>("assigned_by")?.map(UserId),
                    assigned_at: Timestamp(row.try_get("assigned_at")?),
                })
            })
            .collect()
    }

    /// Runs a queue call on PostgreSQL (see `queue_call!`).
    async fn sqlx_write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut sqlx::AnyConnection) -> futures::future::BoxFuture<'c, Result<T>>
            + Send
            + 'static,
    {
        let mut attempt = 1;
        loop {
            let mut tx = self.begin_write().await?;
            let outcome = match op(&mut tx).await {
                Ok(value) => tx.commit().await.map(|()| value),
                Err(err) => Err(err),
            };
            match outcome {
                Err(Error::Contention(_) | Error::Conflict(_)) if attempt < 5 => attempt += 1,
                outcome => return outcome,
            }
        }
    }
}

/// Every draft of an annotator on a task; an import may have brought
/// several, and [`newest_draft`] picks the one that counts. (In SQL, that
/// `ORDER BY` is one no index gives: SQLite would sort in a temporary
/// b-tree made and dropped on every `next`, for one draft or none.)
const DRAFTS_OF: &str = "SELECT id, result, lead_time, updated_at FROM drafts \
     WHERE task_id = $1 AND user_id = $2";

/// The newest of the drafts [`DRAFTS_OF`] read: the latest update, then
/// the latest written.
fn newest_draft<R: Columns>(rows: Vec<R>) -> Result<Option<R>> {
    let mut newest = None;
    for row in rows {
        let key = (row.int("updated_at")?, row.int("id")?);
        if newest.as_ref().is_none_or(|(best, _)| key > *best) {
            newest = Some((key, row));
        }
    }
    Ok(newest.map(|(_, row)| row))
}

fn draft(row: &dyn Columns, task: TaskId, user: UserId) -> Result<Draft> {
    Ok(Draft {
        task_id: task,
        user_id: user,
        result: json_array(&row.text("result")?, "drafts.result")?,
        lead_time: row.optional_float("lead_time")?,
        updated_at: Timestamp(row.int("updated_at")?),
    })
}

/// Rewrites the queue keys of every task of a project (after its order changed).
pub(crate) async fn rekey_project(tx: &mut sqlx::AnyConnection, project: &Project) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE tasks SET queue_key = {} WHERE project_id = $1",
        queue_key_sql(project.queue_order)
    ))
    .bind(project.id.0)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Recomputes the status of every task of a project (after its overlap changed).
pub(crate) async fn restatus_project(
    tx: &mut sqlx::AnyConnection,
    project: &Project,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE tasks SET status = {} WHERE project_id = $1",
        status_after("$2", "0", "0")
    ))
    .bind(project.id.0)
    .bind(project.overlap)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn status_after(overlap: &str, annotations: &str, held: &str) -> String {
    STATUS_AFTER
        .replace("$O", overlap)
        .replace("$A", annotations)
        .replace("$H", held)
}

/// Changes how many annotators hold a task (a reservation or an assignment
/// taken or given back) and recomputes its status. The task's `updated_at`
/// stays: holding a task changes neither its data nor its annotations, and
/// leaving it alone spares every `next` an update of `tasks_by_updated`.
async fn change_held<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    task: TaskId,
    held: i64,
) -> Result<()> {
    // Made once: `next` runs it on every call.
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "UPDATE tasks SET held = held + $1, status = {} WHERE id = $3",
            status_after("$2", "0", "$1")
        )
    });
    conn.execute(&SQL, &[Int(held), Int(project.overlap), Int(task.0)])
        .await?;
    Ok(())
}

/// Locks a task's row until the transaction ends (PostgreSQL; SQLite has one
/// writer) and checks that it belongs to the project.
async fn lock_task<C: QueueSql>(conn: &mut C, project: ProjectId, task: TaskId) -> Result<()> {
    let sql = match conn.backend() {
        Backend::Postgres => "SELECT id FROM tasks WHERE id = $1 AND project_id = $2 FOR UPDATE",
        Backend::Sqlite => "SELECT id FROM tasks WHERE id = $1 AND project_id = $2",
    };
    fetch_optional(conn, sql, &[Int(task.0), Int(project.0)])
        .await?
        .map(|_| ())
        .ok_or(Error::NotFound)
}

async fn submitted_by<C: QueueSql>(
    conn: &mut C,
    task: TaskId,
    user: UserId,
) -> Result<Option<AnnotationId>> {
    let row = fetch_optional(
        conn,
        "SELECT id FROM annotations WHERE task_id = $1 AND completed_by = $2 ORDER BY id LIMIT 1",
        &[Int(task.0), Int(user.0)],
    )
    .await?;
    row.map(|row| Ok(AnnotationId(row.int("id")?))).transpose()
}

async fn reserved_by<C: QueueSql>(
    conn: &mut C,
    project: ProjectId,
    task: TaskId,
    user: UserId,
) -> Result<bool> {
    Ok(fetch_optional(
        conn,
        "SELECT 1 AS one FROM reservations WHERE project_id = $1 AND user_id = $2 AND task_id = $3",
        &[Int(project.0), Int(user.0), Int(task.0)],
    )
    .await?
    .is_some())
}

async fn is_assigned<C: QueueSql>(conn: &mut C, task: TaskId, user: UserId) -> Result<bool> {
    Ok(fetch_optional(
        conn,
        "SELECT 1 AS one FROM assignments WHERE task_id = $1 AND user_id = $2",
        &[Int(task.0), Int(user.0)],
    )
    .await?
    .is_some())
}

async fn delete_assignment<C: QueueSql>(conn: &mut C, task: TaskId, user: UserId) -> Result<bool> {
    let deleted = conn
        .execute(
            "DELETE FROM assignments WHERE task_id = $1 AND user_id = $2",
            &[Int(task.0), Int(user.0)],
        )
        .await?;
    Ok(deleted > 0)
}

/// Deletes the annotator's reservation if it is on `task`.
async fn delete_reservation<C: QueueSql>(
    conn: &mut C,
    project: ProjectId,
    task: TaskId,
    user: UserId,
) -> Result<bool> {
    let deleted = conn
        .execute(
            "DELETE FROM reservations WHERE project_id = $1 AND user_id = $2 AND task_id = $3",
            &[Int(project.0), Int(user.0), Int(task.0)],
        )
        .await?;
    Ok(deleted > 0)
}

/// Releases the project's expired reservations.
async fn release_expired<C: QueueSql>(conn: &mut C, project: QueueProject, now: i64) -> Result<()> {
    let expired = conn
        .fetch_all(
            "SELECT task_id, user_id FROM reservations WHERE project_id = $1 AND expires_at <= $2 \
             ORDER BY expires_at LIMIT 100",
            &[Int(project.id.0), Int(now)],
        )
        .await?;
    // The oldest first, in the index's order (an order by task id would
    // make SQLite sort in a temporary b-tree on every `next`, though there
    // is rarely anything to sort); locked by task id, so that two calls
    // releasing on PostgreSQL lock their tasks in the same order.
    let mut expired = expired
        .iter()
        .map(|row| Ok((TaskId(row.int("task_id")?), UserId(row.int("user_id")?))))
        .collect::<Result<Vec<_>>>()?;
    expired.sort_unstable();
    for (task, user) in expired {
        lock_task(conn, project.id, task).await?;
        // Another call may have released it between the read and the lock.
        let deleted = conn
            .execute(
                "DELETE FROM reservations WHERE project_id = $1 AND user_id = $2 \
                 AND task_id = $3 AND expires_at <= $4",
                &[Int(project.id.0), Int(user.0), Int(task.0), Int(now)],
            )
            .await?;
        if deleted == 1 && !is_assigned(conn, task, user).await? {
            change_held(conn, project, task, -1).await?;
        }
    }
    Ok(())
}

async fn next_task<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    user: UserId,
    now: i64,
) -> Result<Option<ReservedTask>> {
    let Some(reservation) = reserve(conn, project, user, now).await? else {
        return Ok(None);
    };
    let task = fetch_optional(
        conn,
        &format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1"),
        &[Int(reservation.task_id.0)],
    )
    .await?
    .ok_or(Error::NotFound)?;
    let predictions = conn
        .fetch_all(
            &format!("{PREDICTION_SELECT} WHERE task_id = $1 ORDER BY id"),
            &[Int(reservation.task_id.0)],
        )
        .await?;
    let draft_row = newest_draft(
        conn.fetch_all(DRAFTS_OF, &[Int(reservation.task_id.0), Int(user.0)])
            .await?,
    )?;
    Ok(Some(ReservedTask {
        reservation,
        task: task_row(&task)?,
        predictions: predictions
            .iter()
            .map(|row| prediction_row(row))
            .collect::<Result<Vec<_>>>()?,
        draft: draft_row
            .map(|row| draft(&row, reservation.task_id, user))
            .transpose()?,
    }))
}

async fn reserve<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    user: UserId,
    now: i64,
) -> Result<Option<Reservation>> {
    release_expired(conn, project, now).await?;

    // 1. The reservation the annotator already holds.
    let held = fetch_optional(
        conn,
        "SELECT r.task_id, r.expires_at, \
         (SELECT COUNT(*) FROM assignments a WHERE a.task_id = r.task_id AND a.user_id = r.user_id) \
         AS assigned FROM reservations r WHERE r.project_id = $1 AND r.user_id = $2",
        &[Int(project.id.0), Int(user.0)],
    )
    .await?;
    if let Some(row) = held {
        return Ok(Some(Reservation {
            task_id: TaskId(row.int("task_id")?),
            expires_at: row.int("expires_at")?,
            assigned: row.int("assigned")? > 0,
        }));
    }
    let expires_at = now + project.reservation_seconds * 1000;

    // 2. Tasks a manager assigned to the annotator: they already count in
    // the task's holders, so reserving them changes no counter.
    let assigned = fetch_optional(
        conn,
        "SELECT task_id FROM assignments WHERE project_id = $1 AND user_id = $2 \
         ORDER BY assigned_at, task_id LIMIT 1",
        &[Int(project.id.0), Int(user.0)],
    )
    .await?;
    if let Some(row) = assigned {
        let task = TaskId(row.int("task_id")?);
        insert_reservation(conn, project.id, task, user, expires_at, now).await?;
        return Ok(Some(Reservation {
            task_id: task,
            expires_at,
            assigned: true,
        }));
    }

    // 3. The pool, in the project's order; 4. what the annotator skipped.
    let mut found = pool_candidate(conn, project, user, Pick::Reserve).await?;
    if found.is_none() {
        found = skipped_candidate(conn, project, user, Pick::Reserve).await?;
    }
    let Some(task) = found else {
        return Ok(None);
    };
    insert_reservation(conn, project.id, task, user, expires_at, now).await?;
    change_held(conn, project, task, 1).await?;
    Ok(Some(Reservation {
        task_id: task,
        expires_at,
        assigned: false,
    }))
}

async fn insert_reservation<C: QueueSql>(
    conn: &mut C,
    project: ProjectId,
    task: TaskId,
    user: UserId,
    expires_at: i64,
    now: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO reservations (project_id, user_id, task_id, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            Int(project.0),
            Int(user.0),
            Int(task.0),
            Int(expires_at),
            Int(now),
        ],
    )
    .await?;
    Ok(())
}

/// What a candidate query is for: a reservation inside a queue call (rows
/// locked on PostgreSQL), or a look ahead at the task after the one the
/// annotator holds, read outside any queue call and locking nothing.
#[derive(Debug, Clone, Copy)]
enum Pick {
    Reserve,
    LookAhead { holding: TaskId },
}

/// The task `next` would most likely give the annotator after the one they
/// hold: the same order as [`reserve`] (assigned, pool, skipped), passing
/// over the held task. Only a hint, for preloading; nothing is reserved.
async fn look_ahead<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    user: UserId,
) -> Result<Option<TaskId>> {
    let held = fetch_optional(
        conn,
        "SELECT task_id FROM reservations WHERE project_id = $1 AND user_id = $2",
        &[Int(project.id.0), Int(user.0)],
    )
    .await?;
    // Task ids start at 1, so 0 passes over nothing.
    let holding = match held {
        Some(row) => TaskId(row.int("task_id")?),
        None => TaskId(0),
    };
    let assigned = fetch_optional(
        conn,
        "SELECT task_id FROM assignments WHERE project_id = $1 AND user_id = $2 \
         AND task_id <> $3 ORDER BY assigned_at, task_id LIMIT 1",
        &[Int(project.id.0), Int(user.0), Int(holding.0)],
    )
    .await?;
    if let Some(row) = assigned {
        return Ok(Some(TaskId(row.int("task_id")?)));
    }
    let pick = Pick::LookAhead { holding };
    match pool_candidate(conn, project, user, pick).await? {
        Some(task) => Ok(Some(task)),
        None => skipped_candidate(conn, project, user, pick).await,
    }
}

/// A look ahead's reads: short reads beside the queue's writes.
struct LookAheadReads<'s>(&'s Store);

impl QueueSql for LookAheadReads<'_> {
    fn backend(&self) -> Backend {
        self.0.backend
    }

    async fn execute(&mut self, _sql: &str, _params: &[Param<'_>]) -> Result<u64> {
        Err(Error::Database("a look ahead writes nothing".to_string()))
    }

    async fn insert(&mut self, _sql: &str, _params: &[Param<'_>]) -> Result<i64> {
        Err(Error::Database("a look ahead writes nothing".to_string()))
    }

    async fn fetch_all(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<crate::queue_sql::QueueRow>> {
        self.0.quick_read(sql, params).await
    }
}

/// The first open task in the project's order that the annotator has
/// neither submitted nor skipped. On PostgreSQL the row is locked, and rows
/// other calls hold are passed over, so concurrent annotators get
/// different tasks without waiting for each other.
async fn pool_candidate<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    user: UserId,
    pick: Pick,
) -> Result<Option<TaskId>> {
    let lock = match (conn.backend(), pick) {
        (Backend::Postgres, Pick::Reserve) => " FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let open = "project_id = $1 AND status <> 'completed' AND annotation_count + held < $2 + extra_overlap \
         AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = tasks.id AND a.completed_by = $3) \
         AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.task_id = tasks.id AND s.user_id = $3)";
    // Each query: extra conditions with their parameters, numbered from $4.
    let queries: Vec<Vec<(&str, i64)>> = match project.order {
        QueueOrder::Sequential | QueueOrder::Priority => vec![vec![]],
        QueueOrder::Random => {
            // Each annotator walks the shuffled order from their own start,
            // wrapping around once.
            let start = shuffle_start(project.id, user);
            vec![vec![("queue_key >=", start)], vec![("queue_key <", start)]]
        }
    };
    for mut conditions in queries {
        if let Pick::LookAhead { holding } = pick {
            conditions.push(("id <>", holding.0));
        }
        let mut sql = format!("SELECT id FROM tasks WHERE {open}");
        let mut params = vec![Int(project.id.0), Int(project.overlap), Int(user.0)];
        for (condition, value) in conditions {
            params.push(Int(value));
            sql.push_str(&format!(" AND {condition} ${}", params.len()));
        }
        sql.push_str(&format!(" ORDER BY queue_key LIMIT 1{lock}"));
        if let Some(row) = fetch_optional(conn, &sql, &params).await? {
            return Ok(Some(TaskId(row.int("id")?)));
        }
    }
    Ok(None)
}

/// Where an annotator starts in the shuffled order: a hash of user and project.
fn shuffle_start(project: ProjectId, user: UserId) -> i64 {
    let mut x = (project.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (user.0 as u64);
    // splitmix64's finalizer.
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x % SHUFFLE_RANGE as u64) as i64
}

/// The task the annotator skipped longest ago that is still open.
async fn skipped_candidate<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    user: UserId,
    pick: Pick,
) -> Result<Option<TaskId>> {
    let mut params = vec![Int(project.id.0), Int(project.overlap), Int(user.0)];
    let (lock, passing) = match (conn.backend(), pick) {
        (Backend::Postgres, Pick::Reserve) => (" FOR UPDATE OF t SKIP LOCKED", ""),
        (_, Pick::Reserve) => ("", ""),
        (_, Pick::LookAhead { holding }) => {
            params.push(Int(holding.0));
            ("", " AND t.id <> $4")
        }
    };
    let sql = format!(
        "SELECT t.id FROM skips s JOIN tasks t ON t.id = s.task_id \
         WHERE s.project_id = $1 AND s.user_id = $3 AND t.status <> 'completed' \
         AND t.annotation_count + t.held < $2 + t.extra_overlap{passing} \
         AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.completed_by = $3) \
         ORDER BY s.skipped_at, s.task_id LIMIT 1{lock}"
    );
    let row = fetch_optional(conn, &sql, &params).await?;
    row.map(|row| Ok(TaskId(row.int("id")?))).transpose()
}

async fn submit<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    task: TaskId,
    user: UserId,
    work: Work,
    labels: &[String],
    now: i64,
) -> Result<Submitted> {
    lock_task(conn, project.id, task).await?;
    if let Some(existing) = submitted_by(conn, task, user).await? {
        return Ok(Submitted::AlreadySubmitted(existing));
    }
    let id = AnnotationId(
        conn.insert(
            "INSERT INTO annotations (task_id, project_id, completed_by, updated_by, result, \
             lead_time, created_at, updated_at, active_ms) \
             VALUES ($1, $2, $3, $3, $4, $5, $6, $6, $7)",
            &[
                Int(task.0),
                Int(project.id.0),
                Int(user.0),
                Text(&work.result),
                Param::Float(work.lead_time),
                Int(now),
                Param::OptionalInt(work.active_ms),
            ],
        )
        .await?,
    );
    let pay_recorded = match &work.pay {
        Some(entry) => insert_pay_entry(conn, entry, id).await?,
        None => false,
    };
    crate::datamanager::add_labels(conn, project.id, task, labels).await?;
    let reserved = delete_reservation(conn, project.id, task, user).await?;
    let assigned = delete_assignment(conn, task, user).await?;
    conn.execute(
        "DELETE FROM skips WHERE task_id = $1 AND user_id = $2",
        &[Int(task.0), Int(user.0)],
    )
    .await?;
    let released = if reserved || assigned { -1 } else { 0 };
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "UPDATE tasks SET annotation_count = annotation_count + 1, held = held + $1, \
             status = {}, updated_at = $3 WHERE id = $4",
            status_after("$2", "1", "$1")
        )
    });
    static SQL_RETURNING: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!("{} RETURNING annotation_count, extra_overlap", *SQL));
    let params = [Int(released), Int(project.overlap), Int(now), Int(task.0)];
    let counts = match conn.backend() {
        // One statement on PostgreSQL, where each costs a round trip.
        Backend::Postgres => fetch_optional(conn, &SQL_RETURNING, &params).await?,
        // Two on SQLite's writer thread: SQLite gathers a `RETURNING`'s
        // rows in a temporary b-tree, made and dropped on every submit,
        // where reading the row again by its id is a lookup.
        Backend::Sqlite => {
            if conn.execute(&SQL, &params).await? != 1 {
                return Err(Error::NotFound);
            }
            fetch_optional(
                conn,
                "SELECT annotation_count, extra_overlap FROM tasks WHERE id = $1",
                &[Int(task.0)],
            )
            .await?
        }
    }
    .ok_or(Error::NotFound)?;
    let annotations = counts.int("annotation_count")?;
    let needed = project.overlap + counts.int("extra_overlap")?;
    Ok(Submitted::Created {
        annotation: AnnotationRow {
            id,
            task_id: task,
            completed_by: Some(user),
            username: None,
            result: work.result,
            lead_time: work.lead_time,
            was_cancelled: false,
            ground_truth: false,
            version: 1,
            review_state: "pending".to_owned(),
            reviews_passed: 0,
            extra: None,
            created_at: now,
            updated_at: now,
            active_ms: work.active_ms,
        },
        past_overlap: annotations > needed,
        pay_recorded,
    })
}

/// Appends a submit's pay entry within the submit's transaction, unless
/// its week is approved (the trigger would refuse it, failing the submit):
/// returns whether it was written.
async fn insert_pay_entry<C: QueueSql>(
    conn: &mut C,
    entry: &crate::pay::NewPayEntry,
    annotation: AnnotationId,
) -> Result<bool> {
    let params = [
        Int(entry.user_id.0),
        Int(entry.project_id.0),
        Param::OptionalInt(entry.task_id.map(|id| id.0)),
        Int(annotation.0),
        Param::OptionalInt(entry.review_id),
        Text(&entry.kind),
        Int(entry.active_ms),
        Int(entry.tasks),
        Int(entry.rejected),
        Param::OptionalInt(entry.rate_id),
        Text(&entry.amount),
        Text(&entry.bonus),
        Param::OptionalText(entry.currency.as_deref()),
        Text(&entry.work_date),
        Text(&entry.period_start),
        Int(entry.created_at.millis()),
    ];
    let written = match conn.backend() {
        // One statement on PostgreSQL, where each costs a round trip.
        Backend::Postgres => {
            conn.execute(
                concat!(
                    "INSERT INTO pay_entries (",
                    crate::pay::pay_entry_columns!(),
                    ") SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 \
                     WHERE NOT EXISTS (SELECT 1 FROM pay_periods p WHERE p.project_id = $2 \
                     AND p.user_id = $1 AND p.period_start = $15)"
                ),
                &params,
            )
            .await?
        }
        // Two on SQLite's writer thread: an `INSERT … SELECT` into a table
        // with a trigger makes SQLite gather the selected rows in a
        // temporary b-tree first, made and dropped on every submit.
        Backend::Sqlite => {
            let approved = fetch_optional(
                conn,
                "SELECT 1 AS approved FROM pay_periods \
                 WHERE project_id = $1 AND user_id = $2 AND period_start = $3",
                &[
                    Int(entry.project_id.0),
                    Int(entry.user_id.0),
                    Text(&entry.period_start),
                ],
            )
            .await?
            .is_some();
            if approved {
                0
            } else {
                conn.execute(
                    concat!(
                        "INSERT INTO pay_entries (",
                        crate::pay::pay_entry_columns!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                    ),
                    &params,
                )
                .await?
            }
        }
    };
    Ok(written == 1)
}

async fn extend<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    task: TaskId,
    max: i64,
    now: i64,
) -> Result<bool> {
    lock_task(conn, project.id, task).await?;
    // The status with one more needed: `extra_overlap` on the right is the old value.
    let changed = conn
        .execute(
            "UPDATE tasks SET extra_overlap = extra_overlap + 1, updated_at = $1, \
             status = CASE WHEN annotation_count >= $2 + extra_overlap + 1 THEN 'completed' \
                 WHEN annotation_count > 0 OR held > 0 THEN 'in_progress' ELSE 'new' END \
             WHERE id = $3 AND annotation_count >= $2 + extra_overlap AND $2 + extra_overlap < $4",
            &[Int(now), Int(project.overlap), Int(task.0), Int(max)],
        )
        .await?;
    Ok(changed > 0)
}

async fn skip<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    task: TaskId,
    user: UserId,
    now: i64,
) -> Result<()> {
    lock_task(conn, project.id, task).await?;
    let reserved = delete_reservation(conn, project.id, task, user).await?;
    let assigned = delete_assignment(conn, task, user).await?;
    conn.execute(
        "INSERT INTO skips (task_id, user_id, project_id, skipped_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (task_id, user_id) DO UPDATE SET skipped_at = excluded.skipped_at",
        &[Int(task.0), Int(user.0), Int(project.id.0), Int(now)],
    )
    .await?;
    if reserved || assigned {
        change_held(conn, project, task, -1).await?;
    }
    Ok(())
}

async fn update<C: QueueSql>(
    conn: &mut C,
    id: AnnotationId,
    version: i64,
    work: Work,
    by: UserId,
    now: i64,
) -> Result<Updated> {
    // The current version becomes history first; its primary key
    // (annotation, version) also stops two updates of the same version.
    let kept = conn
        .execute(
            // The kept version's own active time: the annotation's sum
            // less the versions kept before it.
            "INSERT INTO annotation_versions (annotation_id, version, result, lead_time, \
             created_by, created_at, active_ms) SELECT id, version, result, lead_time, \
             COALESCE(updated_by, completed_by), updated_at, active_ms - COALESCE( \
                 (SELECT SUM(v.active_ms) FROM annotation_versions v WHERE v.annotation_id = $1), 0) \
             FROM annotations WHERE id = $1 AND version = $2",
            &[Int(id.0), Int(version)],
        )
        .await?;
    if kept == 0 {
        return Ok(Updated::Stale(current_annotation(conn, id).await?));
    }
    conn.execute(
        // Its annotator's rework of a rejected annotation goes back to review
        // from the first layer.
        "UPDATE annotations SET result = $1, lead_time = $2, version = version + 1, \
         updated_by = $3, updated_at = $4, \
         active_ms = CASE WHEN $6 IS NULL THEN active_ms ELSE COALESCE(active_ms, 0) + $6 END, \
         reviews_passed = CASE WHEN review_state = 'rejected' AND completed_by = $3 \
             THEN 0 ELSE reviews_passed END, \
         review_state = CASE WHEN review_state = 'rejected' AND completed_by = $3 \
             THEN 'pending' ELSE review_state END \
         WHERE id = $5",
        &[
            Text(&work.result),
            Param::Float(work.lead_time),
            Int(by.0),
            Int(now),
            Int(id.0),
            Param::OptionalInt(work.active_ms),
        ],
    )
    .await?;
    let current = current_annotation(conn, id).await?;
    let project = fetch_optional(
        conn,
        "SELECT project_id FROM annotations WHERE id = $1",
        &[Int(id.0)],
    )
    .await?
    .ok_or(Error::NotFound)?;
    crate::datamanager::relabel_task(conn, ProjectId(project.int("project_id")?), current.task_id)
        .await?;
    let pay_recorded = match &work.pay {
        Some(entry) if current.completed_by == Some(by) => {
            insert_pay_entry(conn, entry, id).await?
        }
        _ => false,
    };
    Ok(Updated::Updated {
        annotation: current,
        pay_recorded,
    })
}

async fn current_annotation<C: QueueSql>(conn: &mut C, id: AnnotationId) -> Result<AnnotationRow> {
    let row = fetch_optional(
        conn,
        &format!("{ANNOTATION_SELECT} WHERE a.id = $1"),
        &[Int(id.0)],
    )
    .await?
    .ok_or(Error::NotFound)?;
    annotation_row(&row)
}

async fn put_draft<C: QueueSql>(
    conn: &mut C,
    project: ProjectId,
    task: TaskId,
    user: UserId,
    work: Work,
    now: i64,
) -> Result<Draft> {
    let updated = conn
        .execute(
            "UPDATE drafts SET result = $1, lead_time = $2, updated_at = $3 \
             WHERE task_id = $4 AND user_id = $5",
            &[
                Text(&work.result),
                Param::Float(work.lead_time),
                Int(now),
                Int(task.0),
                Int(user.0),
            ],
        )
        .await?;
    if updated == 0 {
        conn.execute(
            "INSERT INTO drafts (task_id, project_id, user_id, result, lead_time, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
            &[
                Int(task.0),
                Int(project.0),
                Int(user.0),
                Text(&work.result),
                Param::Float(work.lead_time),
                Int(now),
            ],
        )
        .await?;
    }
    Ok(Draft {
        task_id: task,
        user_id: user,
        result: json_array(&work.result, "drafts.result")?,
        lead_time: work.lead_time,
        updated_at: Timestamp(now),
    })
}

/// [`assign`], for bulk actions.
pub(crate) async fn assign_batch<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    tasks: Vec<TaskId>,
    user: UserId,
    by: Option<UserId>,
    now: i64,
) -> Result<u64> {
    assign(conn, project, tasks, user, by, now).await
}

async fn assign<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    tasks: Vec<TaskId>,
    user: UserId,
    by: Option<UserId>,
    now: i64,
) -> Result<u64> {
    let mut assigned = 0;
    for task in tasks {
        lock_task(conn, project.id, task).await?;
        if submitted_by(conn, task, user).await?.is_some() {
            continue;
        }
        let inserted = conn
            .execute(
                "INSERT INTO assignments (task_id, user_id, project_id, assigned_by, assigned_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[
                    Int(task.0),
                    Int(user.0),
                    Int(project.id.0),
                    OptionalInt(by.map(|user| user.0)),
                    Int(now),
                ],
            )
            .await?;
        if inserted == 1 {
            assigned += 1;
            if !reserved_by(conn, project.id, task, user).await? {
                change_held(conn, project, task, 1).await?;
            }
        }
    }
    Ok(assigned)
}

async fn unassign<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    tasks: Vec<TaskId>,
    user: UserId,
) -> Result<u64> {
    let mut removed = 0;
    for task in tasks {
        lock_task(conn, project.id, task).await?;
        if delete_assignment(conn, task, user).await? {
            removed += 1;
            if !reserved_by(conn, project.id, task, user).await? {
                change_held(conn, project, task, -1).await?;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_queue_key_is_the_rust_one() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE tasks (id INTEGER PRIMARY KEY, priority INTEGER)")
            .unwrap();
        let samples = [
            (1, 0),
            (2, 7),
            (99, -3),
            (123_456, PRIORITY_LIMIT),
            ((1 << 31) + 5, -PRIORITY_LIMIT),
            ((1 << 39) + 17, 42),
        ];
        for (id, priority) in samples {
            conn.execute("INSERT INTO tasks VALUES (?1, ?2)", [id, priority])
                .unwrap();
        }
        for order in QueueOrder::ALL {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT id, priority, {} FROM tasks",
                    queue_key_sql(order)
                ))
                .unwrap();
            let rows = statement
                .query_map([], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                })
                .unwrap();
            for row in rows {
                let (id, priority, key) = row.unwrap();
                assert_eq!(
                    key,
                    queue_key(order, id, priority),
                    "{order:?} {id} {priority}"
                );
            }
        }
    }

    #[test]
    fn priority_keys_order_by_priority_then_id() {
        let key = |id, priority| queue_key(QueueOrder::Priority, id, priority);
        assert!(key(9, 5) < key(1, 4));
        assert!(key(1, 4) < key(2, 4));
        assert!(key(1, PRIORITY_LIMIT) < key(1, -PRIORITY_LIMIT));
        assert!(
            key(1 << 39, -PRIORITY_LIMIT) > 0,
            "no overflow at the extremes"
        );
    }

    #[test]
    fn annotators_start_at_different_points_of_the_shuffled_order() {
        let starts: std::collections::HashSet<i64> = (1..=64)
            .map(|user| shuffle_start(ProjectId(1), UserId(user)))
            .collect();
        assert_eq!(starts.len(), 64);
        assert!(starts
            .iter()
            .all(|start| (0..SHUFFLE_RANGE).contains(start)));
    }
}
