//! Training projects and qualification tests: a project's kind and test
//! settings (columns of `projects`), attempts at a test with their answers,
//! and the certifications a pass grants.

use crate::rows::{optional_f64, string_list};
use crate::tasks::Columns;
use crate::{Error, Result, Store};
use gloss_types::{
    Certification, ProjectId, ProjectKind, QualificationSettings, TaskId, Timestamp, UserId,
};
use sqlx::any::AnyRow;
use sqlx::Row;

/// Changes to a project's kind, required certifications and test settings;
/// `None` keeps a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct QualificationPatch {
    pub kind: Option<ProjectKind>,
    pub required_certifications: Option<Vec<String>>,
    pub pass_score: Option<f64>,
    pub max_attempts: Option<i64>,
    pub cooldown_minutes: Option<i64>,
    pub grants_certification: Option<Option<String>>,
    pub certification_valid_days: Option<Option<i64>>,
    pub grants_skill: Option<Option<String>>,
}

impl QualificationPatch {
    pub fn is_empty(&self) -> bool {
        self.kind.is_none()
            && self.required_certifications.is_none()
            && self.pass_score.is_none()
            && self.max_attempts.is_none()
            && self.cooldown_minutes.is_none()
            && self.grants_certification.is_none()
            && self.certification_valid_days.is_none()
            && self.grants_skill.is_none()
    }
}

/// A project's kind, required certifications and test settings from its row.
pub(crate) fn from_row(
    row: &dyn Columns,
) -> Result<(ProjectKind, Vec<String>, QualificationSettings)> {
    let kind = row.text("kind")?;
    Ok((
        ProjectKind::parse(&kind)
            .ok_or_else(|| Error::Database(format!("unknown project kind `{kind}`")))?,
        string_list(
            &row.text("required_certifications")?,
            "projects.required_certifications",
        )?,
        QualificationSettings {
            pass_score: row.optional_float("pass_score")?.unwrap_or(0.8),
            max_attempts: row.int("max_attempts")?,
            cooldown_minutes: row.int("cooldown_minutes")?,
            grants_certification: row.optional_text("grants_certification")?,
            certification_valid_days: row.optional_int("certification_valid_days")?,
            grants_skill: row.optional_text("grants_skill")?,
        },
    ))
}

/// Applies a patch inside the project update's transaction.
pub(crate) async fn apply_patch(
    tx: &mut sqlx::AnyConnection,
    project: ProjectId,
    patch: &QualificationPatch,
) -> Result<()> {
    if patch.is_empty() {
        return Ok(());
    }
    let query = sqlx::query(
        "UPDATE projects SET kind = COALESCE($1, kind), \
         required_certifications = COALESCE($2, required_certifications), \
         pass_score = COALESCE($3, pass_score), max_attempts = COALESCE($4, max_attempts), \
         cooldown_minutes = COALESCE($5, cooldown_minutes), \
         grants_certification = CASE WHEN $6 = 1 THEN $7 ELSE grants_certification END, \
         certification_valid_days = CASE WHEN $8 = 1 THEN $9 ELSE certification_valid_days END, \
         grants_skill = CASE WHEN $10 = 1 THEN $11 ELSE grants_skill END \
         WHERE id = $12",
    )
    .bind(patch.kind.map(ProjectKind::as_str))
    .bind(
        patch
            .required_certifications
            .as_ref()
            .map(|names| serde_json::to_string(names).expect("a list of strings")),
    );
    let query = crate::bind_optional_f64(query, patch.pass_score)
        .bind(patch.max_attempts)
        .bind(patch.cooldown_minutes)
        .bind(i64::from(patch.grants_certification.is_some()))
        .bind(patch.grants_certification.clone().flatten())
        .bind(i64::from(patch.certification_valid_days.is_some()))
        .bind(patch.certification_valid_days.flatten())
        .bind(i64::from(patch.grants_skill.is_some()))
        .bind(patch.grants_skill.clone().flatten())
        .bind(project.0);
    query.execute(&mut *tx).await?;
    Ok(())
}

/// One attempt at a qualification test.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub id: i64,
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub username: String,
    pub task_ids: Vec<TaskId>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub score: Option<f64>,
    pub passed: Option<bool>,
    /// How many of its tasks are answered.
    pub answered: i64,
}

/// An attempt's answer to one task.
#[derive(Debug, Clone)]
pub struct AttemptAnswer {
    pub task_id: TaskId,
    pub result: String,
    pub score: f64,
    pub answered_at: i64,
}

/// What a passing attempt grants.
#[derive(Debug, Clone)]
pub struct Grant {
    pub certification: Option<String>,
    pub expires_at: Option<i64>,
    pub skill: Option<String>,
}

const ATTEMPT_SELECT: &str = "SELECT q.id, q.project_id, q.user_id, u.username, q.task_ids, \
     q.started_at, q.finished_at, q.score, q.passed, \
     (SELECT COUNT(*) FROM qualification_answers a WHERE a.attempt_id = q.id) AS answered \
     FROM qualification_attempts q JOIN users u ON u.id = q.user_id";

fn attempt_row(row: &AnyRow) -> Result<AttemptRow> {
    let ids: Vec<i64> = serde_json::from_str(&row.try_get::<String, _>("task_ids")?)
        .map_err(|err| Error::Database(format!("qualification_attempts.task_ids: {err}")))?;
    Ok(AttemptRow {
        id: row.try_get("id")?,
        project_id: ProjectId(row.try_get("project_id")?),
        user_id: UserId(row.try_get("user_id")?),
        username: row.try_get("username")?,
        task_ids: ids.into_iter().map(TaskId).collect(),
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        score: optional_f64(row, "score")?,
        passed: row.try_get::<Option<i64>, _>("passed")?.map(|p| p != 0),
        answered: row.try_get("answered")?,
    })
}

/// The certifications read by [`certification`], with their holders.
const CERTIFICATION_SELECT: &str = "SELECT c.user_id, c.name, c.granted_at, c.expires_at, \
     c.project_id, p.name AS project_name, c.attempt_id, c.score FROM certifications c \
     LEFT JOIN projects p ON p.id = c.project_id";

fn certification(row: &AnyRow, now: i64) -> Result<Certification> {
    let expires_at: Option<i64> = row.try_get("expires_at")?;
    Ok(Certification {
        name: row.try_get("name")?,
        granted_at: Timestamp(row.try_get("granted_at")?),
        expires_at: expires_at.map(Timestamp),
        expired: expires_at.is_some_and(|at| at <= now),
        project_id: row.try_get::<Option<i64>, _>("project_id")?.map(ProjectId),
        project_name: row.try_get("project_name")?,
        attempt_id: row.try_get("attempt_id")?,
        score: optional_f64(row, "score")?,
    })
}

impl Store {
    /// The project's tasks that have a ground-truth annotation, by id.
    pub async fn gold_task_ids(&self, project: ProjectId) -> Result<Vec<TaskId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT t.id FROM tasks t WHERE t.project_id = $1 AND EXISTS \
             (SELECT 1 FROM annotations g WHERE g.task_id = t.id AND g.ground_truth = 1) \
             ORDER BY t.id",
        )
        .bind(project.0)
        .fetch_all(&self.readers)
        .await?;
        Ok(ids.into_iter().map(TaskId).collect())
    }

    /// A training task for the person: the first (by id) with ground truth
    /// that they have neither annotated nor skipped.
    pub async fn training_candidate(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<TaskId>> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT t.id FROM tasks t WHERE t.project_id = $1 \
             AND EXISTS (SELECT 1 FROM annotations g WHERE g.task_id = t.id AND g.ground_truth = 1) \
             AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.completed_by = $2) \
             AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.task_id = t.id AND s.user_id = $2) \
             AND NOT EXISTS (SELECT 1 FROM assignments s WHERE s.task_id = t.id AND s.user_id = $2) \
             ORDER BY t.id LIMIT 1",
        )
        .bind(project.0)
        .bind(user.0)
        .fetch_optional(&self.readers)
        .await?;
        Ok(found.map(TaskId))
    }

    /// The person's attempts at a test, oldest first.
    pub async fn qualification_attempts(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Vec<AttemptRow>> {
        let rows = sqlx::query(&format!(
            "{ATTEMPT_SELECT} WHERE q.project_id = $1 AND q.user_id = $2 ORDER BY q.id"
        ))
        .bind(project.0)
        .bind(user.0)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(attempt_row).collect()
    }

    /// Every attempt at a test, by person and then oldest first.
    pub async fn qualification_results(&self, project: ProjectId) -> Result<Vec<AttemptRow>> {
        let rows = sqlx::query(&format!(
            "{ATTEMPT_SELECT} WHERE q.project_id = $1 ORDER BY u.username, q.id"
        ))
        .bind(project.0)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(attempt_row).collect()
    }

    pub async fn qualification_attempt(&self, id: i64) -> Result<AttemptRow> {
        let row = sqlx::query(&format!("{ATTEMPT_SELECT} WHERE q.id = $1"))
            .bind(id)
            .fetch_optional(&self.readers)
            .await?
            .ok_or(Error::NotFound)?;
        attempt_row(&row)
    }

    /// Starts an attempt, unless the person has one still open: that one is
    /// returned instead (a second click, or two at once, start nothing new).
    pub async fn start_qualification_attempt(
        &self,
        project: ProjectId,
        user: UserId,
        tasks: &[TaskId],
        now: i64,
    ) -> Result<i64> {
        match self.try_start_attempt(project, user, tasks, now).await {
            // Another call started one meanwhile (the unique index on open attempts).
            Err(Error::Conflict(_)) => self.try_start_attempt(project, user, tasks, now).await,
            other => other,
        }
    }

    async fn try_start_attempt(
        &self,
        project: ProjectId,
        user: UserId,
        tasks: &[TaskId],
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let open: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM qualification_attempts \
             WHERE project_id = $1 AND user_id = $2 AND finished_at IS NULL ORDER BY id LIMIT 1",
        )
        .bind(project.0)
        .bind(user.0)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = open {
            tx.commit().await?;
            return Ok(id);
        }
        let ids: Vec<i64> = tasks.iter().map(|t| t.0).collect();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO qualification_attempts (project_id, user_id, task_ids, started_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(project.0)
        .bind(user.0)
        .bind(serde_json::to_string(&ids).expect("a list of ids"))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn qualification_answers(&self, attempt: i64) -> Result<Vec<AttemptAnswer>> {
        let rows = sqlx::query(
            "SELECT task_id, result, score, answered_at FROM qualification_answers \
             WHERE attempt_id = $1",
        )
        .bind(attempt)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AttemptAnswer {
                    task_id: TaskId(row.try_get("task_id")?),
                    result: row.try_get("result")?,
                    score: optional_f64(row, "score")?.unwrap_or(0.0),
                    answered_at: row.try_get("answered_at")?,
                })
            })
            .collect()
    }

    /// Records (or replaces) an answer of an open attempt; a finished
    /// attempt is a [`Error::Conflict`].
    pub async fn record_qualification_answer(
        &self,
        attempt: i64,
        task: TaskId,
        result: &str,
        score: f64,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let finished: Option<Option<i64>> =
            sqlx::query_scalar("SELECT finished_at FROM qualification_attempts WHERE id = $1")
                .bind(attempt)
                .fetch_optional(&mut *tx)
                .await?;
        match finished {
            None => return Err(Error::NotFound),
            Some(Some(_)) => {
                return Err(Error::Conflict("the attempt is finished".into()));
            }
            Some(None) => {}
        }
        sqlx::query("DELETE FROM qualification_answers WHERE attempt_id = $1 AND task_id = $2")
            .bind(attempt)
            .bind(task.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO qualification_answers (attempt_id, task_id, result, score, answered_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(attempt)
        .bind(task.0)
        .bind(result)
        .bind(score)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Grades an open attempt: its score and verdict, and on a pass the
    /// certification (replacing an earlier one of the same name) and the
    /// skill. Returns `false` when the attempt was already graded.
    pub async fn finish_qualification_attempt(
        &self,
        attempt: &AttemptRow,
        score: f64,
        passed: bool,
        grant: &Grant,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE qualification_attempts SET finished_at = $1, score = $2, passed = $3 \
             WHERE id = $4 AND finished_at IS NULL",
        )
        .bind(now)
        .bind(score)
        .bind(i64::from(passed))
        .bind(attempt.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if passed {
            if let Some(name) = &grant.certification {
                sqlx::query("DELETE FROM certifications WHERE user_id = $1 AND name = $2")
                    .bind(attempt.user_id.0)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO certifications (user_id, name, granted_at, expires_at, \
                     project_id, attempt_id, score) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(attempt.user_id.0)
                .bind(name)
                .bind(now)
                .bind(grant.expires_at)
                .bind(attempt.project_id.0)
                .bind(attempt.id)
                .bind(score)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(skill) = &grant.skill {
                let skills: String = sqlx::query_scalar("SELECT skills FROM users WHERE id = $1")
                    .bind(attempt.user_id.0)
                    .fetch_one(&mut *tx)
                    .await?;
                let mut skills = string_list(&skills, "users.skills")?;
                if !skills.contains(skill) {
                    skills.push(skill.clone());
                    sqlx::query("UPDATE users SET skills = $1 WHERE id = $2")
                        .bind(serde_json::to_string(&skills).expect("a list of strings"))
                        .bind(attempt.user_id.0)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A person's certifications, by name; `expired` as of `now`.
    pub async fn certifications(&self, user: UserId, now: i64) -> Result<Vec<Certification>> {
        let rows = sqlx::query(&format!(
            "{CERTIFICATION_SELECT} WHERE c.user_id = $1 ORDER BY c.name"
        ))
        .bind(user.0)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(|row| certification(row, now)).collect()
    }

    /// Everyone's certification named `name`, by person; `expired` as of `now`.
    pub async fn certification_holders(
        &self,
        name: &str,
        now: i64,
    ) -> Result<Vec<(UserId, Certification)>> {
        let rows = sqlx::query(&format!(
            "{CERTIFICATION_SELECT} WHERE c.name = $1 ORDER BY c.user_id"
        ))
        .bind(name)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| Ok((UserId(row.try_get("user_id")?), certification(row, now)?)))
            .collect()
    }

    /// Sets when a person's certification expires (`None`: never); for
    /// managers' corrections and for tests that cannot wait.
    pub async fn set_certification_expiry(
        &self,
        user: UserId,
        name: &str,
        expires_at: Option<i64>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE certifications SET expires_at = $1 WHERE user_id = $2 AND name = $3",
        )
        .bind(expires_at)
        .bind(user.0)
        .bind(name)
        .execute(&mut *self.write_conn().await?)
        .await?;
        crate::users::expect_one(done.rows_affected())
    }

    /// Qualification tests that grant any of `names`: (project id, project
    /// name, certification), by id.
    pub async fn tests_granting(
        &self,
        names: &[String],
    ) -> Result<Vec<(ProjectId, String, String)>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT id, name, grants_certification FROM projects \
             WHERE kind = 'qualification' AND grants_certification IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.readers)
        .await?;
        let mut found = Vec::new();
        for row in &rows {
            let granted: String = row.try_get("grants_certification")?;
            if names.contains(&granted) {
                found.push((ProjectId(row.try_get("id")?), row.try_get("name")?, granted));
            }
        }
        Ok(found)
    }

    /// Whether the person is a member of a project that requires
    /// `certification` (which lets them take a test granting it).
    pub async fn member_of_project_requiring(
        &self,
        user: UserId,
        certification: &str,
    ) -> Result<bool> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT p.required_certifications FROM projects p \
             JOIN project_members m ON m.project_id = p.id \
             WHERE m.user_id = $1 AND p.required_certifications <> '[]'",
        )
        .bind(user.0)
        .fetch_all(&self.readers)
        .await?;
        for text in rows {
            if string_list(&text, "projects.required_certifications")?
                .iter()
                .any(|name| name == certification)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
