//! Review: the review queue by layer, verdicts (accept, reject with a
//! comment, fix), and the rework a rejection sends back to the annotator's
//! queue. The store keeps who holds what and refuses a verdict on an
//! annotation that no longer waits for its layer; this module decides who
//! may review what.

use crate::access::Actor;
use crate::error::{Error, OrNotFound, Result};
use crate::queue::WorkInput;
use crate::Engine;
use gloss_store::{NewReview, Reviewed};
use gloss_types::{
    Annotation, AnnotationId, Code, ProjectId, ProjectRole, Review, ReviewState, ReviewVerdict,
    Task, Timestamp,
};
use serde::Serialize;
use utoipa::ToSchema;

/// The longest review comment, in bytes.
pub const MAX_REVIEW_COMMENT_BYTES: usize = 10_000;

/// An annotation for a reviewer to judge, held for them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewItem {
    pub annotation: Annotation,
    /// The annotator's username, when they have an account here.
    pub annotator: Option<String>,
    pub task: Task,
    /// The layer this review is for (1 or 2).
    pub layer: i64,
    /// Until when nobody else gets this annotation from the review queue.
    pub held_until: Timestamp,
    /// Earlier verdicts on it, oldest first.
    pub reviews: Vec<Review>,
}

/// Rejected work handed back to its annotator by `next`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rework {
    /// The annotator's rejected annotation: change it with
    /// `PUT /api/v1/annotations/{id}` to send it back to review.
    pub annotation: Annotation,
    /// The rejection, with the reviewer's comment.
    pub rejection: Review,
}

/// Where a project's annotations stand in review.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct ReviewProgress {
    /// Sampled annotations waiting for the first layer.
    pub waiting_first: i64,
    /// Annotations waiting for the second layer.
    pub waiting_second: i64,
    pub accepted: i64,
    pub rejected: i64,
    /// The project's settings.
    pub review_layers: i64,
    pub review_percent: i64,
}

/// A verdict as a reviewer sends it.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    pub verdict: ReviewVerdict,
    pub comment: String,
    /// For a fix: the corrected result and the version it replaces.
    pub fix: Option<(i64, WorkInput)>,
    /// Active seconds the reviewer spent (capped by the server).
    pub active_time: Option<f64>,
}

impl Engine {
    /// Holds and returns the next annotation the caller should review at
    /// `layer` (reviewers and managers), or `None` when nothing waits.
    pub async fn next_review(
        &self,
        actor: &Actor,
        project: ProjectId,
        layer: i64,
    ) -> Result<Option<ReviewItem>> {
        let reviewer = reviewer(actor)?;
        let project = self
            .project_with_role(actor, project, ProjectRole::Reviewer, "review")
            .await?;
        self.check_account_active(reviewer)?;
        if !(1..=project.review_layers).contains(&layer) {
            return Err(Error::invalid(
                "layer",
                format!(
                    "this project has {} review layer(s): ask for 1{}",
                    project.review_layers,
                    if project.review_layers > 1 {
                        " or 2"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let now = Timestamp::now().millis();
        let Some((row, held_until)) = self
            .store
            .next_review(
                &project,
                reviewer.id,
                layer,
                now,
                project.reservation_seconds * 1000,
            )
            .await?
        else {
            return Ok(None);
        };
        let task = self.store.task(row.task_id).await?.to_task()?;
        let reviews = self.store.reviews_of(row.id).await?;
        Ok(Some(ReviewItem {
            annotator: row.username.clone(),
            annotation: row.to_annotation()?,
            task,
            layer,
            held_until: Timestamp(held_until),
            reviews,
        }))
    }

    /// Records the caller's verdict on an annotation waiting for review
    /// (reviewers and managers of its project; never on their own work,
    /// nor twice on one annotation's layers). A rejection needs a comment,
    /// which its annotator sees; a fix stores the corrected result as a new
    /// version by the reviewer (409 when `version` is stale) and passes.
    pub async fn review_annotation(
        &self,
        actor: &Actor,
        id: AnnotationId,
        input: ReviewInput,
    ) -> Result<Review> {
        let reviewer = reviewer(actor)?;
        let (project, row) = self.annotation_access(actor, id, "review it").await?;
        let role = self.project_for(actor, project.id).await?.1;
        if role < ProjectRole::Reviewer {
            return Err(Error::forbidden(
                "only the project's reviewers and managers may review",
            ));
        }
        if row.completed_by == Some(reviewer.id) {
            return Err(Error::forbidden("you cannot review your own annotation"));
        }
        if row.was_cancelled {
            return Err(Error::invalid(
                "annotation",
                "a skipped (cancelled) annotation has nothing to review",
            ));
        }
        let annotation = row.to_annotation()?;
        if annotation.review_state != ReviewState::Pending {
            return Err(not_waiting(&annotation));
        }
        let layer = annotation.reviews_passed + 1;
        let passed_before = self.store.reviews_of(id).await?.iter().any(|r| {
            r.reviewer_id == Some(reviewer.id)
                && r.verdict != ReviewVerdict::Reject
                && r.layer < layer
        });
        if passed_before {
            return Err(Error::forbidden(
                "you passed this annotation at an earlier layer: another reviewer reviews this one",
            ));
        }
        let comment = input.comment.trim().to_owned();
        if comment.len() > MAX_REVIEW_COMMENT_BYTES {
            return Err(Error::invalid(
                "comment",
                format!("is longer than {MAX_REVIEW_COMMENT_BYTES} bytes"),
            ));
        }
        if input.verdict == ReviewVerdict::Reject && comment.is_empty() {
            return Err(Error::invalid(
                "comment",
                "a rejection needs a comment telling the annotator what to change",
            ));
        }
        let now = Timestamp::now().millis();
        // Active time: at most the time since the reviewer's hold began, or
        // since the version under review was written.
        let since = match self.store.review_hold(id).await? {
            Some((holder, until)) if holder == reviewer.id => {
                until - project.reservation_seconds * 1000
            }
            _ => row.updated_at,
        };
        let active_ms = crate::pay::capped_active_ms(input.active_time, now - since)?;
        let mut version = annotation.version;
        match (input.verdict, input.fix) {
            (ReviewVerdict::Fix, Some((expected, work))) => {
                version = self
                    .update_annotation(actor, id, expected, work)
                    .await?
                    .version;
            }
            (ReviewVerdict::Fix, None) => {
                return Err(Error::invalid(
                    "result",
                    "a fix needs the corrected result and the version it replaces",
                ))
            }
            (_, Some(_)) => {
                return Err(Error::invalid(
                    "result",
                    "only a fix carries a result; accept or reject the annotation as it is",
                ))
            }
            (_, None) => {}
        }
        let new = NewReview {
            annotation: id,
            reviewer: reviewer.id,
            layer,
            verdict: input.verdict,
            comment,
            annotation_version: version,
            active_ms,
        };
        let now = Timestamp::now().millis();
        match self
            .store
            .record_review(&project, &new, now)
            .await
            .or_not_found("annotation")?
        {
            Reviewed::Recorded(review, annotation) => {
                self.record_pay(
                    &project,
                    reviewer,
                    crate::pay::PaidWork::Review,
                    &annotation,
                    Some(review.id),
                    active_ms,
                    now,
                )
                .await;
                if review.verdict == ReviewVerdict::Reject {
                    self.record_rejection(&project, &annotation, review.id, now)
                        .await;
                }
                Ok(review)
            }
            Reviewed::NotWaiting(row) => Err(not_waiting(&row.to_annotation()?)),
        }
    }

    /// Marks an annotation as ground truth (the answer gold tasks are
    /// scored against), or unmarks it: the project's reviewers and managers.
    pub async fn set_ground_truth(
        &self,
        actor: &Actor,
        id: AnnotationId,
        ground_truth: bool,
    ) -> Result<Annotation> {
        let (project, _) = self.annotation_access(actor, id, "see it").await?;
        let role = self.project_for(actor, project.id).await?.1;
        if role < ProjectRole::Reviewer {
            return Err(Error::forbidden(
                "only the project's reviewers and managers may mark ground truth",
            ));
        }
        let row = self
            .store
            .set_ground_truth(id, ground_truth)
            .await
            .or_not_found("annotation")?;
        Ok(row.to_annotation()?)
    }

    /// Every verdict on an annotation (its annotator, and the project's
    /// reviewers and managers).
    pub async fn annotation_reviews(&self, actor: &Actor, id: AnnotationId) -> Result<Vec<Review>> {
        self.annotation_access(actor, id, "see its reviews").await?;
        Ok(self.store.reviews_of(id).await?)
    }

    /// Where the project's annotations stand in review (reviewers and managers).
    pub async fn review_progress(
        &self,
        actor: &Actor,
        project: ProjectId,
    ) -> Result<ReviewProgress> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Reviewer, "see review progress")
            .await?;
        let counts = self.store.review_counts(&project).await?;
        Ok(ReviewProgress {
            waiting_first: counts.waiting_first,
            waiting_second: counts.waiting_second,
            accepted: counts.accepted,
            rejected: counts.rejected,
            review_layers: project.review_layers,
            review_percent: project.review_percent,
        })
    }

    /// The caller's oldest rejected annotation in the project, for `next`.
    pub(crate) async fn rework(
        &self,
        project: ProjectId,
        annotator: gloss_types::UserId,
    ) -> Result<Option<(Task, Rework)>> {
        let Some((row, rejection)) = self.store.rework(project, annotator).await? else {
            return Ok(None);
        };
        let task = self.store.task(row.task_id).await?.to_task()?;
        Ok(Some((
            task,
            Rework {
                annotation: row.to_annotation()?,
                rejection,
            },
        )))
    }
}

fn reviewer(actor: &Actor) -> Result<&gloss_types::User> {
    actor
        .user()
        .ok_or_else(|| Error::new(Code::BadRequest, "reviewing needs a signed-in user"))
}

/// 409: the annotation no longer waits for the layer the caller reviewed.
fn not_waiting(annotation: &Annotation) -> Error {
    let state = match annotation.review_state {
        ReviewState::Accepted => "already accepted".to_owned(),
        ReviewState::Rejected => "rejected and back with its annotator".to_owned(),
        ReviewState::Pending => format!(
            "waiting for review layer {} now",
            annotation.reviews_passed + 1
        ),
    };
    Error {
        problems: serde_json::to_value(annotation).ok(),
        ..Error::new(
            Code::Conflict,
            format!("annotation {} is {state}", annotation.id),
        )
    }
}
