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

use crate::group_commit::Conn;
use crate::tasks::{annotation_row, AnnotationRow};
use crate::{Backend, Error, Result, Store};
use gloss_types::{
    AnnotationId, AnnotationVersion, Assignment, Draft, Project, ProjectId, QueueOrder, TaskId,
    Timestamp, UserId,
};
use sqlx::{Any, Row, Transaction};

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

/// What a submit did.
#[derive(Debug, Clone)]
pub enum Submitted {
    Created {
        annotation: AnnotationRow,
        /// The task now has more annotations than the project's overlap (a
        /// late submit after the reservation expired and someone else took it).
        past_overlap: bool,
    },
    /// The annotator had already submitted this task: nothing was written.
    AlreadySubmitted(AnnotationId),
}

/// What an update of an annotation did.
#[derive(Debug, Clone)]
pub enum Updated {
    Updated(AnnotationRow),
    /// The given version is not the current one: nothing was written.
    Stale(AnnotationRow),
}

/// A new annotation or version of one.
#[derive(Debug, Clone)]
pub struct Work {
    /// A JSON array of result items.
    pub result: String,
    pub lead_time: Option<f64>,
}

/// The shuffled order: a multiplicative hash of the task id, a bijection on
/// 31 bits. It must match the expression of the index `tasks_open_shuffled`.
const SHUFFLE_KEY: &str = "((id % 2147483648) * 1640531527 % 2147483648)";
const SHUFFLE_RANGE: i64 = 2_147_483_648;

/// A task's status from its counters; `$O` is the overlap, `$A`/`$H` the
/// changes to annotation_count and held.
const STATUS_AFTER: &str = "CASE WHEN annotation_count + $A >= $O THEN 'completed' \
     WHEN annotation_count + $A > 0 OR held + $H > 0 THEN 'in_progress' ELSE 'new' END";

impl Store {
    /// Reserves and returns the annotator's next task, or `None` when the
    /// project has nothing left for them. In order: their unexpired
    /// reservation; tasks assigned to them; the pool in the project's order;
    /// tasks they skipped, oldest skip first.
    pub async fn next_task(
        &self,
        project: QueueProject,
        user: UserId,
        now: i64,
    ) -> Result<Option<Reservation>> {
        let backend = self.backend;
        self.queue_write(move |conn| Box::pin(next_task(conn, backend, project, user, now)))
            .await
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
        let backend = self.backend;
        self.queue_write(move |conn| {
            Box::pin(submit(
                conn,
                backend,
                project,
                task,
                user,
                work.clone(),
                now,
            ))
        })
        .await
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
        let backend = self.backend;
        self.queue_write(move |conn| Box::pin(skip(conn, backend, project, task, user, now)))
            .await
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
        self.queue_write(move |conn| Box::pin(update(conn, id, version, work.clone(), by, now)))
            .await
    }

    pub async fn annotation(&self, id: AnnotationId) -> Result<AnnotationRow> {
        let row = sqlx::query(&format!(
            "{} WHERE a.id = $1",
            crate::tasks::ANNOTATION_SELECT
        ))
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
                    result: crate::tasks::json_array(
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
        self.queue_write(move |conn| {
            let work = work.clone();
            Box::pin(async move {
                let updated = sqlx::query(
                    "UPDATE drafts SET result = $1, lead_time = $2, updated_at = $3 \
                     WHERE task_id = $4 AND user_id = $5",
                )
                .bind(&work.result)
                .bind(work.lead_time)
                .bind(now)
                .bind(task.0)
                .bind(user.0)
                .execute(&mut *conn)
                .await?;
                if updated.rows_affected() == 0 {
                    sqlx::query(
                        "INSERT INTO drafts (task_id, project_id, user_id, result, lead_time, \
                         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                    )
                    .bind(task.0)
                    .bind(project.0)
                    .bind(user.0)
                    .bind(&work.result)
                    .bind(work.lead_time)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(Draft {
                    task_id: task,
                    user_id: user,
                    result: crate::tasks::json_array(&work.result, "drafts.result")?,
                    lead_time: work.lead_time,
                    updated_at: Timestamp(now),
                })
            })
        })
        .await
    }

    /// The annotator's draft of a task, if any (the newest, should an
    /// import have brought several).
    pub async fn draft(&self, task: TaskId, user: UserId) -> Result<Option<Draft>> {
        let row = sqlx::query(
            "SELECT result, lead_time, updated_at FROM drafts WHERE task_id = $1 AND user_id = $2 \
             ORDER BY updated_at DESC, id DESC LIMIT 1",
        )
        .bind(task.0)
        .bind(user.0)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|row| {
            Ok(Draft {
                task_id: task,
                user_id: user,
                result: crate::tasks::json_array(
                    &row.try_get::<String, _>("result")?,
                    "drafts.result",
                )?,
                lead_time: crate::rows::optional_f64(&row, "lead_time")?,
                updated_at: Timestamp(row.try_get("updated_at")?),
            })
        })
        .transpose()
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
        let backend = self.backend;
        self.queue_write(move |conn| {
            let tasks = tasks.clone();
            Box::pin(async move {
                let mut assigned = 0;
                for task in tasks {
                    lock_task(conn, backend, project.id, task).await?;
                    if submitted_by(conn, task, user).await?.is_some() {
                        continue;
                    }
                    let inserted = sqlx::query(
                        "INSERT INTO assignments (task_id, user_id, project_id, assigned_by, \
                         assigned_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(task.0)
                    .bind(user.0)
                    .bind(project.id.0)
                    .bind(by.map(|user| user.0))
                    .bind(now)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    if inserted == 1 {
                        assigned += 1;
                        if !reserved_by(conn, project.id, task, user).await? {
                            change_task(conn, project, task, 0, 1, now).await?;
                        }
                    }
                }
                Ok(assigned)
            })
        })
        .await
    }

    /// Takes tasks out of an annotator's queue; returns how many were assigned to them.
    pub async fn unassign_tasks(
        &self,
        project: QueueProject,
        tasks: Vec<TaskId>,
        user: UserId,
        now: i64,
    ) -> Result<u64> {
        let backend = self.backend;
        self.queue_write(move |conn| {
            let tasks = tasks.clone();
            Box::pin(async move {
                let mut removed = 0;
                for task in tasks {
                    lock_task(conn, backend, project.id, task).await?;
                    if delete_assignment(conn, task, user).await? {
                        removed += 1;
                        if !reserved_by(conn, project.id, task, user).await? {
                            change_task(conn, project, task, 0, -1, now).await?;
                        }
                    }
                }
                Ok(removed)
            })
        })
        .await
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

    /// Sets a task's priority (used by projects ordered by priority).
    pub async fn set_task_priority(&self, task: TaskId, priority: i64) -> Result<()> {
        self.queue_write(move |conn| {
            Box::pin(async move {
                let done =
                    sqlx::query("UPDATE tasks SET priority = $1, updated_at = $2 WHERE id = $3")
                        .bind(priority)
                        .bind(Timestamp::now().millis())
                        .bind(task.0)
                        .execute(&mut *conn)
                        .await?;
                crate::users::expect_one(done.rows_affected())
            })
        })
        .await
    }
}

/// Recomputes the status of every task of a project (after its overlap changed).
pub(crate) async fn restatus_project(
    tx: &mut Transaction<'static, Any>,
    project: &Project,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE tasks SET status = {} WHERE project_id = $1",
        status_after("$2", "0", "0")
    ))
    .bind(project.id.0)
    .bind(project.overlap)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn status_after(overlap: &str, annotations: &str, held: &str) -> String {
    STATUS_AFTER
        .replace("$O", overlap)
        .replace("$A", annotations)
        .replace("$H", held)
}

/// Changes a task's counters by the given amounts and recomputes its status.
async fn change_task(
    conn: &mut Conn,
    project: QueueProject,
    task: TaskId,
    annotations: i64,
    held: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE tasks SET annotation_count = annotation_count + $1, held = held + $2, \
         status = {}, updated_at = $4 WHERE id = $5",
        status_after("$3", "$1", "$2")
    ))
    .bind(annotations)
    .bind(held)
    .bind(project.overlap)
    .bind(now)
    .bind(task.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Locks a task's row until the transaction ends (PostgreSQL; SQLite has one
/// writer) and checks that it belongs to the project.
async fn lock_task(
    conn: &mut Conn,
    backend: Backend,
    project: ProjectId,
    task: TaskId,
) -> Result<()> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    sqlx::query(&format!(
        "SELECT id FROM tasks WHERE id = $1 AND project_id = $2{lock}"
    ))
    .bind(task.0)
    .bind(project.0)
    .fetch_optional(&mut *conn)
    .await?
    .map(|_| ())
    .ok_or(Error::NotFound)
}

async fn submitted_by(conn: &mut Conn, task: TaskId, user: UserId) -> Result<Option<AnnotationId>> {
    let row = sqlx::query(
        "SELECT id FROM annotations WHERE task_id = $1 AND completed_by = $2 ORDER BY id LIMIT 1",
    )
    .bind(task.0)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| Ok(AnnotationId(row.try_get("id")?)))
        .transpose()
}

async fn reserved_by(
    conn: &mut Conn,
    project: ProjectId,
    task: TaskId,
    user: UserId,
) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT 1 AS one FROM reservations WHERE project_id = $1 AND user_id = $2 AND task_id = $3",
    )
    .bind(project.0)
    .bind(user.0)
    .bind(task.0)
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
}

async fn delete_assignment(conn: &mut Conn, task: TaskId, user: UserId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM assignments WHERE task_id = $1 AND user_id = $2")
        .bind(task.0)
        .bind(user.0)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes the annotator's reservation if it is on `task`.
async fn delete_reservation(
    conn: &mut Conn,
    project: ProjectId,
    task: TaskId,
    user: UserId,
) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM reservations WHERE project_id = $1 AND user_id = $2 AND task_id = $3",
    )
    .bind(project.0)
    .bind(user.0)
    .bind(task.0)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Releases the project's expired reservations.
async fn release_expired(
    conn: &mut Conn,
    backend: Backend,
    project: QueueProject,
    now: i64,
) -> Result<()> {
    let expired = sqlx::query(
        "SELECT task_id, user_id FROM reservations WHERE project_id = $1 AND expires_at <= $2 \
         ORDER BY task_id LIMIT 100",
    )
    .bind(project.id.0)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    for row in expired {
        let task = TaskId(row.try_get("task_id")?);
        let user = UserId(row.try_get("user_id")?);
        lock_task(conn, backend, project.id, task).await?;
        // Another call may have released it between the read and the lock.
        let deleted = sqlx::query(
            "DELETE FROM reservations WHERE project_id = $1 AND user_id = $2 AND task_id = $3 \
             AND expires_at <= $4",
        )
        .bind(project.id.0)
        .bind(user.0)
        .bind(task.0)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        let assigned =
            sqlx::query("SELECT 1 AS one FROM assignments WHERE task_id = $1 AND user_id = $2")
                .bind(task.0)
                .bind(user.0)
                .fetch_optional(&mut *conn)
                .await?
                .is_some();
        if deleted == 1 && !assigned {
            change_task(conn, project, task, 0, -1, now).await?;
        }
    }
    Ok(())
}

async fn next_task(
    conn: &mut Conn,
    backend: Backend,
    project: QueueProject,
    user: UserId,
    now: i64,
) -> Result<Option<Reservation>> {
    release_expired(conn, backend, project, now).await?;

    // 1. The reservation the annotator already holds.
    let held = sqlx::query(
        "SELECT r.task_id, r.expires_at, \
         (SELECT COUNT(*) FROM assignments a WHERE a.task_id = r.task_id AND a.user_id = r.user_id) \
         AS assigned FROM reservations r WHERE r.project_id = $1 AND r.user_id = $2",
    )
    .bind(project.id.0)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = held {
        return Ok(Some(Reservation {
            task_id: TaskId(row.try_get("task_id")?),
            expires_at: row.try_get("expires_at")?,
            assigned: row.try_get::<i64, _>("assigned")? > 0,
        }));
    }
    let expires_at = now + project.reservation_seconds * 1000;

    // 2. Tasks a manager assigned to the annotator: they already count in
    // the task's holders, so reserving them changes no counter.
    let assigned = sqlx::query(
        "SELECT a.task_id FROM assignments a WHERE a.project_id = $1 AND a.user_id = $2 \
         ORDER BY a.assigned_at, a.task_id LIMIT 1",
    )
    .bind(project.id.0)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = assigned {
        let task = TaskId(row.try_get("task_id")?);
        insert_reservation(conn, project.id, task, user, expires_at, now).await?;
        return Ok(Some(Reservation {
            task_id: task,
            expires_at,
            assigned: true,
        }));
    }

    // 3. The pool, in the project's order; 4. what the annotator skipped.
    let mut found = pool_candidate(conn, backend, project, user).await?;
    if found.is_none() {
        found = skipped_candidate(conn, backend, project, user).await?;
    }
    let Some(task) = found else {
        return Ok(None);
    };
    insert_reservation(conn, project.id, task, user, expires_at, now).await?;
    change_task(conn, project, task, 0, 1, now).await?;
    Ok(Some(Reservation {
        task_id: task,
        expires_at,
        assigned: false,
    }))
}

async fn insert_reservation(
    conn: &mut Conn,
    project: ProjectId,
    task: TaskId,
    user: UserId,
    expires_at: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO reservations (project_id, user_id, task_id, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(project.0)
    .bind(user.0)
    .bind(task.0)
    .bind(expires_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The first open task in the project's order that the annotator has
/// neither submitted nor skipped. On PostgreSQL the row is locked, and rows
/// other calls hold are passed over, so concurrent annotators get
/// different tasks without waiting for each other.
async fn pool_candidate(
    conn: &mut Conn,
    backend: Backend,
    project: QueueProject,
    user: UserId,
) -> Result<Option<TaskId>> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let open = "project_id = $1 AND status <> 'completed' AND annotation_count + held < $2 \
         AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = tasks.id AND a.completed_by = $3) \
         AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.task_id = tasks.id AND s.user_id = $3)";
    let first = |condition: &str, order: &str| {
        format!("SELECT id FROM tasks WHERE {open}{condition} ORDER BY {order} LIMIT 1{lock}")
    };
    let queries: Vec<(String, Option<i64>)> = match project.order {
        QueueOrder::Sequential => vec![(first("", "id"), None)],
        QueueOrder::Priority => vec![(first("", "priority DESC, id"), None)],
        QueueOrder::Random => {
            // Each annotator walks the shuffled order from their own start,
            // wrapping around once.
            let start = shuffle_start(project.id, user);
            vec![
                (
                    first(&format!(" AND {SHUFFLE_KEY} >= $4"), SHUFFLE_KEY),
                    Some(start),
                ),
                (
                    first(&format!(" AND {SHUFFLE_KEY} < $4"), SHUFFLE_KEY),
                    Some(start),
                ),
            ]
        }
    };
    for (sql, start) in queries {
        let mut query = sqlx::query(&sql)
            .bind(project.id.0)
            .bind(project.overlap)
            .bind(user.0);
        if let Some(start) = start {
            query = query.bind(start);
        }
        if let Some(row) = query.fetch_optional(&mut *conn).await? {
            return Ok(Some(TaskId(row.try_get("id")?)));
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
async fn skipped_candidate(
    conn: &mut Conn,
    backend: Backend,
    project: QueueProject,
    user: UserId,
) -> Result<Option<TaskId>> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE OF t SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(&format!(
        "SELECT t.id FROM skips s JOIN tasks t ON t.id = s.task_id \
         WHERE s.project_id = $1 AND s.user_id = $3 AND t.status <> 'completed' \
         AND t.annotation_count + t.held < $2 \
         AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.completed_by = $3) \
         ORDER BY s.skipped_at, s.task_id LIMIT 1{lock}"
    ))
    .bind(project.id.0)
    .bind(project.overlap)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| Ok(TaskId(row.try_get("id")?))).transpose()
}

async fn submit(
    conn: &mut Conn,
    backend: Backend,
    project: QueueProject,
    task: TaskId,
    user: UserId,
    work: Work,
    now: i64,
) -> Result<Submitted> {
    lock_task(conn, backend, project.id, task).await?;
    if let Some(existing) = submitted_by(conn, task, user).await? {
        return Ok(Submitted::AlreadySubmitted(existing));
    }
    let row = sqlx::query(
        "INSERT INTO annotations (task_id, project_id, completed_by, updated_by, result, lead_time, \
         created_at, updated_at) VALUES ($1, $2, $3, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(task.0)
    .bind(project.id.0)
    .bind(user.0)
    .bind(&work.result)
    .bind(work.lead_time)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let id = AnnotationId(row.try_get("id")?);
    let reserved = delete_reservation(conn, project.id, task, user).await?;
    let assigned = delete_assignment(conn, task, user).await?;
    sqlx::query("DELETE FROM skips WHERE task_id = $1 AND user_id = $2")
        .bind(task.0)
        .bind(user.0)
        .execute(&mut *conn)
        .await?;
    let released = if reserved || assigned { -1 } else { 0 };
    let counts = sqlx::query(&format!(
        "UPDATE tasks SET annotation_count = annotation_count + 1, held = held + $1, \
         status = {}, updated_at = $3 WHERE id = $4 RETURNING annotation_count",
        status_after("$2", "1", "$1")
    ))
    .bind(released)
    .bind(project.overlap)
    .bind(now)
    .bind(task.0)
    .fetch_one(&mut *conn)
    .await?;
    let annotations: i64 = counts.try_get("annotation_count")?;
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
            extra: None,
            created_at: now,
            updated_at: now,
        },
        past_overlap: annotations > project.overlap,
    })
}

async fn skip(
    conn: &mut Conn,
    backend: Backend,
    project: QueueProject,
    task: TaskId,
    user: UserId,
    now: i64,
) -> Result<()> {
    lock_task(conn, backend, project.id, task).await?;
    let reserved = delete_reservation(conn, project.id, task, user).await?;
    let assigned = delete_assignment(conn, task, user).await?;
    sqlx::query(
        "INSERT INTO skips (task_id, user_id, project_id, skipped_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (task_id, user_id) DO UPDATE SET skipped_at = excluded.skipped_at",
    )
    .bind(task.0)
    .bind(user.0)
    .bind(project.id.0)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if reserved || assigned {
        change_task(conn, project, task, 0, -1, now).await?;
    }
    Ok(())
}

async fn update(
    conn: &mut Conn,
    id: AnnotationId,
    version: i64,
    work: Work,
    by: UserId,
    now: i64,
) -> Result<Updated> {
    // The current version becomes history first; its primary key
    // (annotation, version) also stops two updates of the same version.
    let kept = sqlx::query(
        "INSERT INTO annotation_versions (annotation_id, version, result, lead_time, created_by, \
         created_at) SELECT id, version, result, lead_time, COALESCE(updated_by, completed_by), \
         updated_at FROM annotations WHERE id = $1 AND version = $2",
    )
    .bind(id.0)
    .bind(version)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if kept == 0 {
        return Ok(Updated::Stale(current_annotation(conn, id).await?));
    }
    sqlx::query(
        "UPDATE annotations SET result = $1, lead_time = $2, version = version + 1, \
         updated_by = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(&work.result)
    .bind(work.lead_time)
    .bind(by.0)
    .bind(now)
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    Ok(Updated::Updated(current_annotation(conn, id).await?))
}

async fn current_annotation(conn: &mut Conn, id: AnnotationId) -> Result<AnnotationRow> {
    let row = sqlx::query(&format!(
        "{} WHERE a.id = $1",
        crate::tasks::ANNOTATION_SELECT
    ))
    .bind(id.0)
    .fetch_one(&mut *conn)
    .await?;
    annotation_row(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

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
