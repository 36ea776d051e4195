//! Review: the review queue (which annotation a reviewer looks at next),
//! verdicts, and the rework they send back to annotators.
//!
//! An annotation waits for layer `reviews_passed + 1` while its state is
//! `pending`. A project reviews `review_percent` of each annotator's work:
//! an annotation is in the sample when `(id · 7919) mod 100 < percent`.
//! 7919 is prime to 100, so any 100 consecutive ids hold exactly `percent`
//! sampled ones, and whether an annotation is sampled never changes.
//!
//! The review queue hands a reviewer the oldest sampled annotation waiting
//! for the layer they review that is not theirs, that they did not pass at
//! another layer, and that nobody else holds; the reviewer holds it until a
//! verdict or until the hold expires. A verdict is written only while the
//! annotation still waits for that layer, so two reviewers can never both
//! pass the same layer.

use crate::queue_sql::Param;
use crate::tasks::{annotation_row, AnnotationRow, Columns, ANNOTATION_SELECT};
use crate::{Error, Result, Store};
use gloss_types::{
    AnnotationId, Project, ProjectId, Review, ReviewVerdict, TaskId, Timestamp, UserId,
};

/// A verdict to record.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub annotation: AnnotationId,
    pub reviewer: UserId,
    /// The layer it is for: the annotation's `reviews_passed + 1`.
    pub layer: i64,
    pub verdict: ReviewVerdict,
    pub comment: String,
    /// The version reviewed (for a fix, the reviewer's new version).
    pub annotation_version: i64,
    /// Active milliseconds the reviewer spent, already capped; `None`: not measured.
    pub active_ms: Option<i64>,
}

/// What recording a verdict did.
#[derive(Debug, Clone)]
pub enum Reviewed {
    Recorded(Review, AnnotationRow),
    /// The annotation no longer waits for this layer: someone else gave it
    /// a verdict, or its annotator changed it. Nothing was written.
    NotWaiting(AnnotationRow),
}

/// How many annotations of a project stand where in review.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReviewCounts {
    /// Sampled, waiting for the first layer.
    pub waiting_first: i64,
    /// Waiting for the second layer.
    pub waiting_second: i64,
    pub accepted: i64,
    pub rejected: i64,
}

const REVIEW_SELECT: &str =
    "SELECT r.id, r.annotation_id, r.task_id, r.project_id, r.reviewer_id, \
     u.username, r.layer, r.verdict, r.comment, r.annotation_version, r.created_at \
     FROM reviews r LEFT JOIN users u ON u.id = r.reviewer_id";

fn review(row: &dyn Columns) -> Result<Review> {
    let verdict = row.text("verdict")?;
    Ok(Review {
        id: row.int("id")?,
        annotation_id: AnnotationId(row.int("annotation_id")?),
        task_id: TaskId(row.int("task_id")?),
        project_id: ProjectId(row.int("project_id")?),
        reviewer_id: row.optional_int("reviewer_id")?.map(UserId),
        reviewer: row.optional_text("username")?,
        layer: row.int("layer")?,
        verdict: ReviewVerdict::parse(&verdict)
            .ok_or_else(|| Error::Database(format!("unknown review verdict `{verdict}`")))?,
        comment: row.text("comment")?,
        annotation_version: row.int("annotation_version")?,
        created_at: Timestamp(row.int("created_at")?),
    })
}

/// The conditions of an annotation `a` the reviewer `$2` may take for layer
/// `$3` of project `$1` with sample percent `$4`.
const REVIEWABLE: &str = "a.project_id = $1 AND a.review_state = 'pending' \
     AND a.reviews_passed = $3 - 1 AND a.was_cancelled = 0 \
     AND (a.id * 7919) % 100 < $4 \
     AND (a.completed_by IS NULL OR a.completed_by <> $2) \
     AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.annotation_id = a.id AND r.reviewer_id = $2 \
         AND r.verdict <> 'reject' AND r.layer < $3)";

impl Store {
    /// Holds and returns the next annotation the reviewer should review at
    /// `layer`, with the time its hold ends; `None` when nothing waits for
    /// them. A reviewer holds one annotation per project at a time: asking
    /// again returns the one held until a verdict or its expiry.
    pub async fn next_review(
        &self,
        project: &Project,
        reviewer: UserId,
        layer: i64,
        now: i64,
        hold_millis: i64,
    ) -> Result<Option<(AnnotationRow, i64)>> {
        let mut tx = self.begin_write().await?;
        let held: Option<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT h.annotation_id, h.expires_at FROM review_holds h \
             JOIN annotations a ON a.id = h.annotation_id \
             WHERE h.project_id = $1 AND h.reviewer_id = $2 AND h.expires_at > $5 AND {REVIEWABLE}"
        ))
        .bind(project.id.0)
        .bind(reviewer.0)
        .bind(layer)
        .bind(project.review_percent)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let chosen = match held {
            Some((id, expires_at)) => Some((id, expires_at)),
            None => {
                sqlx::query("DELETE FROM review_holds WHERE project_id = $1 AND reviewer_id = $2")
                    .bind(project.id.0)
                    .bind(reviewer.0)
                    .execute(&mut *tx)
                    .await?;
                let candidates: Vec<i64> = sqlx::query_scalar(&format!(
                    "SELECT a.id FROM annotations a WHERE {REVIEWABLE} \
                     AND NOT EXISTS (SELECT 1 FROM review_holds h WHERE h.annotation_id = a.id \
                         AND h.expires_at > $5) \
                     ORDER BY a.id LIMIT 16"
                ))
                .bind(project.id.0)
                .bind(reviewer.0)
                .bind(layer)
                .bind(project.review_percent)
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
                let expires_at = now + hold_millis;
                let mut chosen = None;
                for id in candidates {
                    // Another instance may have taken it since: the upsert
                    // only replaces an expired hold.
                    let taken = sqlx::query(
                        "INSERT INTO review_holds (annotation_id, project_id, reviewer_id, expires_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (annotation_id) DO UPDATE \
                         SET reviewer_id = excluded.reviewer_id, expires_at = excluded.expires_at \
                         WHERE review_holds.expires_at <= $5",
                    )
                    .bind(id)
                    .bind(project.id.0)
                    .bind(reviewer.0)
                    .bind(expires_at)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    if taken.rows_affected() == 1 {
                        chosen = Some((id, expires_at));
                        break;
                    }
                }
                chosen
            }
        };
        let Some((id, expires_at)) = chosen else {
            tx.commit().await?;
            return Ok(None);
        };
        let row = sqlx::query(&format!("{ANNOTATION_SELECT} WHERE a.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let annotation = annotation_row(&row)?;
        tx.commit().await?;
        Ok(Some((annotation, expires_at)))
    }

    /// Records a verdict, if the annotation still waits for its layer: an
    /// accept or fix passes the layer (the last layer accepts the
    /// annotation), a reject sends it back to its annotator.
    pub async fn record_review(
        &self,
        project: &Project,
        new: &NewReview,
        now: i64,
    ) -> Result<Reviewed> {
        let mut tx = self.begin_write().await?;
        let passes = new.verdict != ReviewVerdict::Reject;
        let changed = sqlx::query(
            "UPDATE annotations SET \
             reviews_passed = CASE WHEN $1 = 1 THEN reviews_passed + 1 ELSE reviews_passed END, \
             review_state = CASE WHEN $1 = 0 THEN 'rejected' \
                 WHEN reviews_passed + 1 >= $2 THEN 'accepted' ELSE 'pending' END \
             WHERE id = $3 AND project_id = $4 AND review_state = 'pending' \
                 AND reviews_passed = $5 - 1",
        )
        .bind(i64::from(passes))
        .bind(project.review_layers)
        .bind(new.annotation.0)
        .bind(project.id.0)
        .bind(new.layer)
        .execute(&mut *tx)
        .await?;
        let current = sqlx::query(&format!("{ANNOTATION_SELECT} WHERE a.id = $1"))
            .bind(new.annotation.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound)?;
        let annotation = annotation_row(&current)?;
        if changed.rows_affected() == 0 {
            return Ok(Reviewed::NotWaiting(annotation));
        }
        let row = sqlx::query(
            "INSERT INTO reviews (annotation_id, task_id, project_id, reviewer_id, layer, verdict, \
             comment, annotation_version, created_at, active_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(new.annotation.0)
        .bind(annotation.task_id.0)
        .bind(project.id.0)
        .bind(new.reviewer.0)
        .bind(new.layer)
        .bind(new.verdict.as_str())
        .bind(&new.comment)
        .bind(new.annotation_version)
        .bind(now)
        .bind(new.active_ms)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = sqlx::Row::try_get(&row, "id")?;
        if new.verdict == ReviewVerdict::Reject {
            if let Some(annotator) = annotation.completed_by {
                crate::comments::notify(
                    &mut tx,
                    &[annotator],
                    project.id,
                    annotation.task_id,
                    "rejection",
                    None,
                    new.reviewer,
                    &new.comment,
                    now,
                )
                .await?;
            }
        }
        sqlx::query("DELETE FROM review_holds WHERE annotation_id = $1")
            .bind(new.annotation.0)
            .execute(&mut *tx)
            .await?;
        let stored = sqlx::query(&format!("{REVIEW_SELECT} WHERE r.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let review = review(&stored)?;
        tx.commit().await?;
        Ok(Reviewed::Recorded(review, annotation))
    }

    /// Every verdict on an annotation, oldest first.
    pub async fn reviews_of(&self, annotation: AnnotationId) -> Result<Vec<Review>> {
        let rows = sqlx::query(&format!(
            "{REVIEW_SELECT} WHERE r.annotation_id = $1 ORDER BY r.id"
        ))
        .bind(annotation.0)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(|row| review(row)).collect()
    }

    /// The annotator's oldest rejected annotation in the project, with the
    /// rejection, if any: what `next` hands back first for rework.
    pub async fn rework(
        &self,
        project: ProjectId,
        annotator: UserId,
    ) -> Result<Option<(AnnotationRow, Review)>> {
        // Asked on every `next`: a quick read (almost always finds nothing).
        let rows = self
            .quick_read(
                &format!(
                    "{ANNOTATION_SELECT} WHERE a.project_id = $1 AND a.completed_by = $2 \
                     AND a.review_state = 'rejected' ORDER BY a.id LIMIT 1"
                ),
                &[Param::Int(project.0), Param::Int(annotator.0)],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let annotation = annotation_row(row)?;
        let rejection = sqlx::query(&format!(
            "{REVIEW_SELECT} WHERE r.annotation_id = $1 AND r.verdict = 'reject' \
             ORDER BY r.id DESC LIMIT 1"
        ))
        .bind(annotation.id.0)
        .fetch_optional(&self.readers)
        .await?;
        match rejection {
            Some(rejection) => Ok(Some((annotation, review(&rejection)?))),
            // Rejected by an import or a restore without its review: nothing to show.
            None => Ok(None),
        }
    }

    /// What changes when a project's annotations change: how many there
    /// are, the last change, and how many are ground truth (each read along
    /// an index).
    pub async fn annotation_watermark(&self, project: ProjectId) -> Result<[i64; 3]> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM annotations WHERE project_id = $1")
                .bind(project.0)
                .fetch_one(&self.readers)
                .await?;
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(updated_at) FROM annotations WHERE project_id = $1")
                .bind(project.0)
                .fetch_one(&self.readers)
                .await?;
        let truths: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM annotations WHERE project_id = $1 AND ground_truth = 1",
        )
        .bind(project.0)
        .fetch_one(&self.readers)
        .await?;
        Ok([count, last.unwrap_or(0), truths])
    }

    /// The projects whose annotations changed last, most recent first.
    pub async fn projects_changed_last(&self, limit: i64) -> Result<Vec<ProjectId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT project_id FROM annotations GROUP BY project_id \
             ORDER BY MAX(updated_at) DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        Ok(ids.into_iter().map(ProjectId).collect())
    }

    /// The ids of the project's tasks, in id order.
    pub async fn task_ids(&self, project: ProjectId) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM tasks WHERE project_id = $1 ORDER BY id")
                .bind(project.0)
                .fetch_all(&self.readers)
                .await?,
        )
    }

    /// Each task of the project with annotations: its id, how many it has,
    /// and how many of them are ground truth.
    pub async fn annotation_counts_by_task(
        &self,
        project: ProjectId,
    ) -> Result<Vec<(i64, i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT task_id, COUNT(*), CAST(SUM(ground_truth) AS BIGINT) FROM annotations \
             WHERE project_id = $1 GROUP BY task_id",
        )
        .bind(project.0)
        .fetch_all(&self.readers)
        .await?)
    }

    /// The tasks of the project with an annotation changed at or after
    /// `updated_after` (the same millisecond may hold more than one
    /// change), at most `limit`.
    pub async fn tasks_changed_since(
        &self,
        project: ProjectId,
        updated_after: i64,
        limit: i64,
    ) -> Result<Vec<TaskId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT task_id FROM annotations WHERE project_id = $1 AND updated_at >= $2 \
             LIMIT $3",
        )
        .bind(project.0)
        .bind(updated_after)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        Ok(ids.into_iter().map(TaskId).collect())
    }

    /// Per annotator of the project: how many verdicts their annotations
    /// got, and how many were rejections, for annotations updated in
    /// `[since, until)`.
    pub async fn review_verdicts_by_annotator(
        &self,
        project: ProjectId,
        since: i64,
        until: i64,
    ) -> Result<Vec<(UserId, i64, i64)>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT a.completed_by, COUNT(*), \
             SUM(CASE WHEN r.verdict = 'reject' THEN 1 ELSE 0 END) \
             FROM reviews r JOIN annotations a ON a.id = r.annotation_id \
             WHERE r.project_id = $1 AND a.completed_by IS NOT NULL \
             AND r.created_at >= $2 AND r.created_at < $3 \
             GROUP BY a.completed_by",
        )
        .bind(project.0)
        .bind(since)
        .bind(until)
        .fetch_all(&self.readers)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(user, reviewed, rejected)| (UserId(user), reviewed, rejected))
            .collect())
    }

    /// Marks an annotation as ground truth, or unmarks it: a change of the
    /// annotation (`updated_at`), so that the quality report reads its task
    /// again rather than the whole project.
    pub async fn set_ground_truth(
        &self,
        id: AnnotationId,
        ground_truth: bool,
    ) -> Result<AnnotationRow> {
        let mut tx = self.begin_write().await?;
        let changed =
            sqlx::query("UPDATE annotations SET ground_truth = $1, updated_at = $2 WHERE id = $3")
                .bind(i64::from(ground_truth))
                .bind(gloss_types::Timestamp::now().millis())
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        if changed.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        let row = sqlx::query(&format!("{ANNOTATION_SELECT} WHERE a.id = $1"))
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
        let annotation = annotation_row(&row)?;
        tx.commit().await?;
        Ok(annotation)
    }

    /// Where the project's annotations stand in review.
    pub async fn review_counts(&self, project: &Project) -> Result<ReviewCounts> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT review_state, reviews_passed, COUNT(*) FROM annotations \
             WHERE project_id = $1 AND was_cancelled = 0 \
             AND (review_state <> 'pending' OR (id * 7919) % 100 < $2) \
             GROUP BY review_state, reviews_passed",
        )
        .bind(project.id.0)
        .bind(project.review_percent)
        .fetch_all(&self.readers)
        .await?;
        let mut counts = ReviewCounts::default();
        for (state, passed, n) in rows {
            match (state.as_str(), passed) {
                ("pending", 0) => counts.waiting_first += n,
                ("pending", _) => counts.waiting_second += n,
                ("accepted", _) => counts.accepted += n,
                _ => counts.rejected += n,
            }
        }
        Ok(counts)
    }
}
