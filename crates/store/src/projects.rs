//! Projects and their members.

use crate::queue_sql::{Param, QueueRow};
use crate::rows::{self, PROJECT_COLUMNS};
use crate::tasks::Columns;
use crate::users::expect_one;
use crate::{Result, Store};
use gloss_types::{
    ConsensusMethod, Member, Page, PageRequest, Project, ProjectId, ProjectRole, QueueOrder,
    TaskId, Timestamp, UserId,
};

/// A new project. When `created_by` is set, that user becomes its manager.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub name: String,
    pub description: String,
    pub label_config: String,
    pub created_by: Option<UserId>,
}

/// The fields of a project that can change; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub label_config: Option<String>,
    pub overlap: Option<i64>,
    pub queue_order: Option<QueueOrder>,
    pub reservation_seconds: Option<i64>,
    pub review_layers: Option<i64>,
    pub review_percent: Option<i64>,
    pub honeypot_percent: Option<i64>,
    /// `Some(None)` turns pausing off.
    pub gold_pause_below: Option<Option<f64>>,
    pub gold_pause_after: Option<i64>,
    pub dynamic_overlap_max: Option<i64>,
    pub dynamic_agreement_below: Option<f64>,
    pub consensus_method: Option<ConsensusMethod>,
    pub required_skills: Option<Vec<String>>,
    /// `Some(None)` admits any tier.
    pub required_tier: Option<Option<String>>,
    pub daily_limit: Option<i64>,
    pub idle_seconds: Option<i64>,
    pub min_task_seconds: Option<i64>,
    pub same_answer_streak: Option<i64>,
    /// The kind, required certifications and qualification test settings.
    pub qualification: crate::QualificationPatch,
}

/// Which projects a listing may show.
#[derive(Debug, Clone, Copy)]
pub enum ProjectScope {
    All,
    MemberOf(UserId),
}

impl Store {
    pub async fn create_project(&self, new: &NewProject) -> Result<Project> {
        let now = Timestamp::now().millis();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO projects (name, description, label_config, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {PROJECT_COLUMNS}"
        ))
        .bind(&new.name)
        .bind(&new.description)
        .bind(&new.label_config)
        .bind(new.created_by.map(|id| id.0))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let project = rows::project(&row)?;
        if let Some(creator) = new.created_by {
            sqlx::query("INSERT INTO project_members (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)")
                .bind(project.id.0)
                .bind(creator.0)
                .bind(ProjectRole::Manager.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(project)
    }

    pub async fn project(&self, id: ProjectId) -> Result<Project> {
        let row = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_one(&self.readers)
        .await?;
        rows::project(&row)
    }

    /// A project and the user's role in it (`None` when not a member), in one read.
    pub async fn project_and_role(
        &self,
        id: ProjectId,
        user: UserId,
    ) -> Result<(Project, Option<ProjectRole>)> {
        let row = self.read_with_role(Of::Project(id), user, false).await?;
        project_with_role(&row)
    }

    /// The project of a task and the user's role in it, in one read.
    pub async fn task_project_and_role(
        &self,
        task: TaskId,
        user: UserId,
    ) -> Result<(Project, Option<ProjectRole>)> {
        let row = self.read_with_role(Of::Task(task), user, false).await?;
        project_with_role(&row)
    }

    /// Like [`Store::project_and_role`], with what a `next` call needs to
    /// know of the caller there (see [`QueueCaller`]), in the same read.
    pub async fn project_for_queue(
        &self,
        id: ProjectId,
        user: UserId,
    ) -> Result<(Project, Option<ProjectRole>, QueueCaller)> {
        let row = self.read_with_role(Of::Project(id), user, true).await?;
        let (project, role) = project_with_role(&row)?;
        Ok((project, role, queue_caller(&row)?))
    }

    /// Like [`Store::task_project_and_role`], with [`QueueCaller`] (for a submit).
    pub async fn task_project_for_queue(
        &self,
        task: TaskId,
        user: UserId,
    ) -> Result<(Project, Option<ProjectRole>, QueueCaller)> {
        let row = self.read_with_role(Of::Task(task), user, true).await?;
        let (project, role) = project_with_role(&row)?;
        Ok((project, role, queue_caller(&row)?))
    }

    /// The row of a project (or of a task's project) with `user`'s
    /// membership role, and [`QueueCaller`]'s columns when `queue_caller`.
    async fn read_with_role(&self, of: Of, user: UserId, queue_caller: bool) -> Result<QueueRow> {
        let (id, task_sql) = match of {
            Of::Project(id) => (id.0, false),
            Of::Task(task) => (task.0, true),
        };
        let sql = &read_with_role_sql()[usize::from(task_sql) * 2 + usize::from(queue_caller)];
        self.quick_read_one(sql, &[Param::Int(id), Param::Int(user.0)])
            .await
    }

    pub async fn count_projects(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM projects")
            .fetch_one(&self.readers)
            .await?;
        Ok(sqlx::Row::try_get(&row, "n")?)
    }

    pub async fn list_projects(
        &self,
        scope: ProjectScope,
        page: PageRequest,
    ) -> Result<Page<Project>> {
        let after = page.after.unwrap_or(0);
        let limit = i64::from(page.limit) + 1;
        let rows = match scope {
            ProjectScope::All => {
                sqlx::query(&format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id > $1 ORDER BY id LIMIT $2"))
                    .bind(after)
                    .bind(limit)
                    .fetch_all(&self.readers)
                    .await?
            }
            ProjectScope::MemberOf(user) => {
                sqlx::query(&format!(
                    "SELECT {PROJECT_COLUMNS} FROM projects WHERE id IN \
                     (SELECT project_id FROM project_members WHERE user_id = $1 AND project_id > $2) \
                     ORDER BY id LIMIT $3"
                ))
                .bind(user.0)
                .bind(after)
                .bind(limit)
                .fetch_all(&self.readers)
                .await?
            }
        };
        let projects = rows
            .iter()
            .map(|row| rows::project(row))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(projects, page.limit, |project| {
            project.id.0
        }))
    }

    pub async fn update_project(&self, id: ProjectId, patch: &ProjectPatch) -> Result<Project> {
        let mut tx = self.begin_write().await?;
        crate::qualification::apply_patch(&mut tx, id, &patch.qualification).await?;
        let row = sqlx::query(&format!(
            "UPDATE projects SET name = COALESCE($1, name), description = COALESCE($2, description), \
             label_config = COALESCE($3, label_config), overlap = COALESCE($4, overlap), \
             queue_order = COALESCE($5, queue_order), \
             reservation_seconds = COALESCE($6, reservation_seconds), updated_at = $7, \
             review_layers = COALESCE($9, review_layers), review_percent = COALESCE($10, review_percent), \
             honeypot_percent = COALESCE($11, honeypot_percent), \
             gold_pause_below = CASE WHEN $12 = 1 THEN $13 ELSE gold_pause_below END, \
             gold_pause_after = COALESCE($14, gold_pause_after), \
             dynamic_overlap_max = COALESCE($15, dynamic_overlap_max), \
             dynamic_agreement_below = COALESCE($16, dynamic_agreement_below), \
             consensus_method = COALESCE($17, consensus_method), \
             required_skills = COALESCE($18, required_skills), \
             required_tier = CASE WHEN $19 = 1 THEN $20 ELSE required_tier END, \
             daily_limit = COALESCE($21, daily_limit), \
             idle_seconds = COALESCE($22, idle_seconds), \
             min_task_seconds = COALESCE($23, min_task_seconds), \
             same_answer_streak = COALESCE($24, same_answer_streak) \
             WHERE id = $8 RETURNING {PROJECT_COLUMNS}"
        ))
        .bind(patch.name.as_deref())
        .bind(patch.description.as_deref())
        .bind(patch.label_config.as_deref())
        .bind(patch.overlap)
        .bind(patch.queue_order.map(QueueOrder::as_str))
        .bind(patch.reservation_seconds)
        .bind(Timestamp::now().millis())
        .bind(id.0)
        .bind(patch.review_layers)
        .bind(patch.review_percent)
        .bind(patch.honeypot_percent)
        .bind(i64::from(patch.gold_pause_below.is_some()))
        .bind(patch.gold_pause_below.flatten())
        .bind(patch.gold_pause_after)
        .bind(patch.dynamic_overlap_max)
        .bind(patch.dynamic_agreement_below)
        .bind(patch.consensus_method.map(ConsensusMethod::as_str))
        .bind(
            patch
                .required_skills
                .as_ref()
                .map(|skills| serde_json::to_string(skills).expect("a list of strings")),
        )
        .bind(i64::from(patch.required_tier.is_some()))
        .bind(patch.required_tier.clone().flatten())
        .bind(patch.daily_limit)
        .bind(patch.idle_seconds)
        .bind(patch.min_task_seconds)
        .bind(patch.same_answer_streak)
        .fetch_one(&mut *tx)
        .await?;
        let project = rows::project(&row)?;
        if patch.queue_order.is_some() {
            // Where each task stands in the queue depends on the order.
            crate::queue::rekey_project(&mut tx, &project).await?;
        }
        if patch.overlap.is_some() {
            // Whether a task is completed depends on the overlap.
            crate::queue::restatus_project(&mut tx, &project).await?;
        }
        tx.commit().await?;
        Ok(project)
    }

    /// Deletes a project and, through foreign keys, everything in it.
    pub async fn delete_project(&self, id: ProjectId) -> Result<()> {
        let done = sqlx::query("DELETE FROM projects WHERE id = $1")
            .bind(id.0)
            .execute(&mut *self.write_conn().await?)
            .await?;
        expect_one(done.rows_affected())?;
        self.drop_data_indexes(id).await
    }

    /// The user's role in the project, if they are a member.
    pub async fn membership(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<ProjectRole>> {
        let row =
            sqlx::query("SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2")
                .bind(project.0)
                .bind(user.0)
                .fetch_optional(&self.readers)
                .await?;
        row.map(|row| rows::project_role(&sqlx::Row::try_get::<String, _>(&row, "role")?))
            .transpose()
    }

    /// Adds a member, or changes the role of one who already is.
    pub async fn put_member(
        &self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> Result<Member> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO project_members (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(project.0)
        .bind(user.0)
        .bind(role.as_str())
        .bind(Timestamp::now().millis())
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&member_query("m.project_id = $1 AND m.user_id = $2"))
            .bind(project.0)
            .bind(user.0)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        rows::member(&row)
    }

    /// One member of the project.
    pub async fn member(&self, project: ProjectId, user: UserId) -> Result<Member> {
        let row = sqlx::query(&member_query("m.project_id = $1 AND m.user_id = $2"))
            .bind(project.0)
            .bind(user.0)
            .fetch_optional(&self.readers)
            .await?
            .ok_or(crate::Error::NotFound)?;
        rows::member(&row)
    }

    /// Members ordered by user id.
    pub async fn list_members(
        &self,
        project: ProjectId,
        page: PageRequest,
    ) -> Result<Page<Member>> {
        let rows = sqlx::query(&format!(
            "{} ORDER BY m.user_id LIMIT $3",
            member_query("m.project_id = $1 AND m.user_id > $2")
        ))
        .bind(project.0)
        .bind(page.after.unwrap_or(0))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.readers)
        .await?;
        let members = rows.iter().map(rows::member).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(members, page.limit, |member| {
            member.user_id.0
        }))
    }

    pub async fn remove_member(&self, project: ProjectId, user: UserId) -> Result<()> {
        let done =
            sqlx::query("DELETE FROM project_members WHERE project_id = $1 AND user_id = $2")
                .bind(project.0)
                .bind(user.0)
                .execute(&mut *self.write_conn().await?)
                .await?;
        expect_one(done.rows_affected())
    }
}

fn member_query(condition: &str) -> String {
    format!(
        "SELECT m.project_id, m.user_id, u.username, m.role, m.added_at, m.paused_at, m.paused_reason, \
         u.skills, u.tier, u.status FROM project_members m JOIN users u ON u.id = m.user_id WHERE {condition}"
    )
}

/// The four statements of [`Store::read_with_role`], made once (they run on
/// every queue call): of a project, of a project with [`QueueCaller`]'s
/// columns, of a task's project, and of a task's project with those columns.
fn read_with_role_sql() -> &'static [String; 4] {
    static SQL: std::sync::OnceLock<[String; 4]> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let columns = PROJECT_COLUMNS
            .split(',')
            .map(|column| format!("p.{}", column.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = |from: &str, key: &str, extra: &str| {
            format!(
                "SELECT {columns}, m.role AS member_role{extra} FROM {from} \
                 LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = $2 \
                 WHERE {key} = $1"
            )
        };
        let project = "projects p";
        let task = "tasks t JOIN projects p ON p.id = t.project_id";
        let queue_caller = format!(", {QUEUE_CALLER_COLUMNS}");
        [
            sql(project, "p.id", ""),
            sql(project, "p.id", &queue_caller),
            sql(task, "t.id", ""),
            sql(task, "t.id", &queue_caller),
        ]
    })
}

/// Whose project [`Store::read_with_role`] reads.
#[derive(Clone, Copy)]
enum Of {
    Project(ProjectId),
    Task(TaskId),
}

/// What the queue's calls check of the caller in a project on every call,
/// read with the project so that the common case (nothing to check) costs
/// no read of its own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueCaller {
    /// When and why a manager paused the member's work in the project.
    pub paused: Option<(Timestamp, String)>,
    /// The caller has rejected work to redo here.
    pub has_rework: bool,
    /// The project has pay rates.
    pub has_pay_rates: bool,
    /// Some week of the caller's work here is approved.
    pub has_approved_weeks: bool,
}

/// [`QueueCaller`]'s columns; `p` is the project, `m` the caller's
/// membership and `$2` the caller. Each flag is one index lookup, counted
/// (0 or 1) so that both databases answer an integer.
const QUEUE_CALLER_COLUMNS: &str = "m.paused_at AS member_paused_at, \
    m.paused_reason AS member_paused_reason, \
    (SELECT COUNT(*) FROM (SELECT 1 FROM annotations a WHERE a.project_id = p.id \
      AND a.completed_by = $2 AND a.review_state = 'rejected' LIMIT 1) AS e) AS has_rework, \
    (SELECT COUNT(*) FROM (SELECT 1 FROM pay_rates r WHERE r.project_id = p.id LIMIT 1) AS e) \
      AS has_pay_rates, \
    (SELECT COUNT(*) FROM (SELECT 1 FROM pay_periods w WHERE w.project_id = p.id \
      AND w.user_id = $2 LIMIT 1) AS e) AS has_approved_weeks";

fn queue_caller(row: &QueueRow) -> Result<QueueCaller> {
    let paused = match row.optional_int("member_paused_at")? {
        Some(at) => Some((
            Timestamp(at),
            row.optional_text("member_paused_reason")?
                .unwrap_or_default(),
        )),
        None => None,
    };
    Ok(QueueCaller {
        paused,
        has_rework: row.int("has_rework")? > 0,
        has_pay_rates: row.int("has_pay_rates")? > 0,
        has_approved_weeks: row.int("has_approved_weeks")? > 0,
    })
}

fn project_with_role(row: &QueueRow) -> Result<(Project, Option<ProjectRole>)> {
    let role = row
        .optional_text("member_role")?
        .map(|role| rows::project_role(&role))
        .transpose()?;
    Ok((rows::project(row)?, role))
}
