//! What productivity reports read: each annotator's submits in a window
//! with their active time and result, the verdicts their work got, and
//! their scores against gold.

use crate::{Backend, Result, Store};
use gloss_types::{ProjectId, UserId};
use sqlx::Row;

/// One submitted annotation, for productivity and anti-fraud checks.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    /// When it was first submitted (ms since the epoch).
    pub created_at: i64,
    /// Its active time over every version, when measured.
    pub active_ms: Option<i64>,
    /// The stored result (Label Studio items as JSON text).
    pub result: String,
}

/// Verdicts and gold scores per annotator.
#[derive(Debug, Clone, Default)]
pub struct VerdictCounts {
    pub reviewed: i64,
    pub rejected: i64,
}

impl Store {
    /// A project's submitted (not cancelled, not ground-truth) annotations
    /// made in `[since, until)`, by annotator and then in submit order; at
    /// most `limit` rows.
    pub async fn activity_rows(
        &self,
        project: ProjectId,
        since: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<ActivityRow>> {
        const COLUMNS: &str =
            "a.completed_by, u.username, u.display_name, a.created_at, a.active_ms, a.result, a.id";
        const SUBMITTED: &str = "a.created_at >= $2 AND a.created_at < $3 \
             AND a.was_cancelled = 0 AND a.ground_truth = 0";
        let text = match self.backend {
            Backend::Postgres => format!(
                "SELECT {COLUMNS} FROM annotations a JOIN users u ON u.id = a.completed_by \
                 WHERE a.project_id = $1 AND {SUBMITTED} \
                 ORDER BY a.completed_by, a.created_at, a.id LIMIT $4"
            ),
            // The annotations by annotator are a table and the few after
            // its mark (see `person_index.rs`). SQLite merges the two in
            // order and stops at the limit; the table's rows come in its
            // key's order, without a sort, since the columns ordered by
            // are the table's own.
            Backend::Sqlite => format!(
                "SELECT p.completed_by, u.username, u.display_name, p.created_at, a.active_ms, \
                   a.result, p.annotation_id FROM annotation_person_index p \
                 JOIN annotations a ON a.id = p.annotation_id JOIN users u ON u.id = p.completed_by \
                 WHERE p.project_id = $1 AND p.created_at >= $2 AND p.created_at < $3 \
                   AND {SUBMITTED} \
                 UNION ALL SELECT {COLUMNS} FROM annotations a JOIN users u ON u.id = a.completed_by \
                 WHERE a.id > (SELECT indexed_to FROM annotation_person_index_progress) \
                   AND +a.project_id = $1 AND {SUBMITTED} \
                 ORDER BY 1, 4, 7 LIMIT $4"
            ),
        };
        let rows = sqlx::query(&text)
            .bind(project.0)
            .bind(since)
            .bind(until)
            .bind(limit)
            .fetch_all(&self.readers)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ActivityRow {
                    user_id: UserId(row.try_get("completed_by")?),
                    username: row.try_get("username")?,
                    display_name: row.try_get("display_name")?,
                    created_at: row.try_get("created_at")?,
                    active_ms: row.try_get("active_ms")?,
                    result: row.try_get("result")?,
                })
            })
            .collect()
    }

    /// Per annotator: verdicts given in `[since, until)` on their
    /// annotations in the project, and the rejections among them.
    pub async fn verdicts_by_annotator(
        &self,
        project: ProjectId,
        since: i64,
        until: i64,
    ) -> Result<Vec<(UserId, VerdictCounts)>> {
        let rows = sqlx::query(
            "SELECT a.completed_by AS user_id, COUNT(*) AS reviewed, \
                    SUM(CASE WHEN r.verdict = 'reject' THEN 1 ELSE 0 END) AS rejected \
             FROM reviews r JOIN annotations a ON a.id = r.annotation_id \
             WHERE r.project_id = $1 AND r.created_at >= $2 AND r.created_at < $3 \
               AND a.completed_by IS NOT NULL \
             GROUP BY a.completed_by",
        )
        .bind(project.0)
        .bind(since)
        .bind(until)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    UserId(row.try_get("user_id")?),
                    VerdictCounts {
                        reviewed: row.try_get("reviewed")?,
                        rejected: row.try_get::<Option<i64>, _>("rejected")?.unwrap_or(0),
                    },
                ))
            })
            .collect()
    }

    /// Per annotator: gold answers scored in `[since, until)` and their
    /// mean score (over every control's score, as the pause rule reads it).
    pub async fn gold_by_annotator(
        &self,
        project: ProjectId,
        since: i64,
        until: i64,
    ) -> Result<Vec<(UserId, i64, f64)>> {
        let rows = sqlx::query(
            "SELECT user_id, COUNT(DISTINCT annotation_id) AS answers, AVG(score) AS mean \
             FROM gold_scores WHERE project_id = $1 AND created_at >= $2 AND created_at < $3 \
             GROUP BY user_id",
        )
        .bind(project.0)
        .bind(since)
        .bind(until)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    UserId(row.try_get("user_id")?),
                    row.try_get("answers")?,
                    row.try_get::<Option<f64>, _>("mean")?.unwrap_or(0.0),
                ))
            })
            .collect()
    }
}
