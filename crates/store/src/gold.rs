//! Gold and honeypots: gold tasks (tasks with a ground-truth annotation)
//! put in annotators' queues, the scores of their answers, and pausing
//! annotators whose accuracy falls below the project's threshold.

use crate::person_index::person_annotations;
use crate::queue_sql::Param;
use crate::tasks::{annotation_row, AnnotationRow, Columns, ANNOTATION_SELECT};
use crate::{Error, Result, Store};
use gloss_types::{ProjectId, TaskId, Timestamp, UserId};

/// One answer's score against gold on one control.
#[derive(Debug, Clone)]
pub struct GoldScore {
    pub control: String,
    /// For classes, the gold's label; else `None`.
    pub label: Option<String>,
    pub score: f64,
}

impl Store {
    /// How many tasks of the project the annotator has been given: their
    /// annotations and the gold tasks served to them (what decides, with a
    /// hash, whether the next one is gold).
    pub async fn queue_position(&self, project: ProjectId, user: UserId) -> Result<i64> {
        let theirs = person_annotations(self.backend, "$1", "$2", "");
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT (SELECT COUNT(*) FROM ({theirs}) theirs) \
             + (SELECT COUNT(*) FROM honeypots_served WHERE project_id = $1 AND user_id = $2)"
        ))
        .bind(project.0)
        .bind(user.0)
        .fetch_one(&self.readers)
        .await?;
        Ok(n)
    }

    /// Whether the annotator holds a reservation in the project.
    pub async fn holds_reservation(&self, project: ProjectId, user: UserId) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT task_id FROM reservations WHERE project_id = $1 AND user_id = $2",
        )
        .bind(project.0)
        .bind(user.0)
        .fetch_optional(&self.readers)
        .await?;
        Ok(found.is_some())
    }

    /// A gold task the annotator has neither annotated nor been given, in
    /// an order of their own (a hash of task and annotator).
    pub async fn honeypot_candidate(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<TaskId>> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT t.id FROM tasks t WHERE t.project_id = $1 \
             AND EXISTS (SELECT 1 FROM annotations g WHERE g.task_id = t.id AND g.ground_truth = 1) \
             AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.completed_by = $2) \
             AND NOT EXISTS (SELECT 1 FROM honeypots_served h WHERE h.task_id = t.id AND h.user_id = $2) \
             AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.task_id = t.id AND s.user_id = $2) \
             ORDER BY (t.id * 2654435761 + $2 * 40503) % 2147483647, t.id LIMIT 1",
        )
        .bind(project.0)
        .bind(user.0)
        .fetch_optional(&self.readers)
        .await?;
        Ok(found.map(TaskId))
    }

    /// Records that a gold task was put in the annotator's queue.
    pub async fn record_honeypot(
        &self,
        project: ProjectId,
        task: TaskId,
        user: UserId,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO honeypots_served (task_id, user_id, project_id, served_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (task_id, user_id) DO NOTHING",
        )
        .bind(task.0)
        .bind(user.0)
        .bind(project.0)
        .bind(now)
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(())
    }

    /// Whether the task was put in the annotator's queue as gold.
    pub async fn is_honeypot(&self, task: TaskId, user: UserId) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT task_id FROM honeypots_served WHERE task_id = $1 AND user_id = $2",
        )
        .bind(task.0)
        .bind(user.0)
        .fetch_optional(&self.readers)
        .await?;
        Ok(found.is_some())
    }

    /// The task's ground-truth annotation (the first), if any.
    pub async fn ground_truth_of(&self, task: TaskId) -> Result<Option<AnnotationRow>> {
        let row = sqlx::query(&format!(
            "{ANNOTATION_SELECT} WHERE a.task_id = $1 AND a.ground_truth = 1 ORDER BY a.id LIMIT 1"
        ))
        .bind(task.0)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(|row| annotation_row(row)).transpose()
    }

    /// Stores an answer's scores against gold (replacing earlier scores of
    /// the same annotation, which a rework changes).
    pub async fn record_gold_scores(
        &self,
        project: ProjectId,
        annotation: &AnnotationRow,
        user: UserId,
        scores: &[GoldScore],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM gold_scores WHERE annotation_id = $1")
            .bind(annotation.id.0)
            .execute(&mut *tx)
            .await?;
        for score in scores {
            sqlx::query(
                "INSERT INTO gold_scores (project_id, task_id, annotation_id, user_id, control, \
                 label, score, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(project.0)
            .bind(annotation.task_id.0)
            .bind(annotation.id.0)
            .bind(user.0)
            .bind(&score.control)
            .bind(score.label.as_deref())
            .bind(score.score)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The annotator's gold answers in the project since their last resume:
    /// how many annotations were scored, and their mean score.
    pub async fn gold_accuracy(&self, project: ProjectId, user: UserId) -> Result<(i64, f64)> {
        let row: (i64, Option<f64>) = sqlx::query_as(
            "SELECT COUNT(DISTINCT s.annotation_id), AVG(s.score) FROM gold_scores s \
             WHERE s.project_id = $1 AND s.user_id = $2 AND s.created_at > COALESCE( \
                 (SELECT m.resumed_at FROM project_members m WHERE m.project_id = $1 AND m.user_id = $2), -1)",
        )
        .bind(project.0)
        .bind(user.0)
        .fetch_one(&self.readers)
        .await?;
        Ok((row.0, row.1.unwrap_or(0.0)))
    }

    /// The member's pause, if their work in the project is paused.
    pub async fn member_pause(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<(Timestamp, String)>> {
        // Asked on every `next`: a quick read.
        let rows = self
            .quick_read(
                "SELECT paused_at, paused_reason FROM project_members \
                 WHERE project_id = $1 AND user_id = $2",
                &[Param::Int(project.0), Param::Int(user.0)],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(match row.optional_int("paused_at")? {
            Some(at) => Some((
                Timestamp(at),
                row.optional_text("paused_reason")?.unwrap_or_default(),
            )),
            None => None,
        })
    }

    /// Pauses a member's work in the project (no-op for a non-member).
    pub async fn pause_member(
        &self,
        project: ProjectId,
        user: UserId,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE project_members SET paused_at = $1, paused_reason = $2 \
             WHERE project_id = $3 AND user_id = $4 AND paused_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(project.0)
        .bind(user.0)
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(())
    }

    /// Resumes a paused member: earlier gold answers no longer count toward a pause.
    pub async fn resume_member(&self, project: ProjectId, user: UserId, now: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE project_members SET paused_at = NULL, paused_reason = NULL, resumed_at = $1 \
             WHERE project_id = $2 AND user_id = $3",
        )
        .bind(now)
        .bind(project.0)
        .bind(user.0)
        .execute(&mut *self.write_conn().await?)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }
}
