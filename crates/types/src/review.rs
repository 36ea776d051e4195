//! Review: where an annotation stands in review, and the verdicts given.

use crate::{AnnotationId, ProjectId, TaskId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an annotation stands in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Waiting for its next review layer (or not sampled for review).
    #[default]
    Pending,
    /// Every review layer accepted it (or fixed it).
    Accepted,
    /// A reviewer sent it back to its annotator for rework.
    Rejected,
}

impl ReviewState {
    pub const ALL: [ReviewState; 3] = [
        ReviewState::Pending,
        ReviewState::Accepted,
        ReviewState::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Pending => "pending",
            ReviewState::Accepted => "accepted",
            ReviewState::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<ReviewState> {
        ReviewState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What a reviewer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewVerdict {
    /// The annotation passes this layer.
    Accept,
    /// Back to the annotator, with a comment saying what to change.
    Reject,
    /// The reviewer corrected it (a new version, by the reviewer), and it
    /// passes this layer.
    Fix,
}

impl ReviewVerdict {
    pub const ALL: [ReviewVerdict; 3] = [
        ReviewVerdict::Accept,
        ReviewVerdict::Reject,
        ReviewVerdict::Fix,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewVerdict::Accept => "accept",
            ReviewVerdict::Reject => "reject",
            ReviewVerdict::Fix => "fix",
        }
    }

    pub fn parse(text: &str) -> Option<ReviewVerdict> {
        ReviewVerdict::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

/// One verdict on one annotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Review {
    pub id: i64,
    pub annotation_id: AnnotationId,
    pub task_id: TaskId,
    pub project_id: ProjectId,
    /// `None` when the reviewer's account was deleted.
    pub reviewer_id: Option<UserId>,
    pub reviewer: Option<String>,
    /// 1 for the first review layer, 2 for the second.
    pub layer: i64,
    pub verdict: ReviewVerdict,
    /// What the reviewer wrote (required for a rejection).
    pub comment: String,
    /// The annotation's version the verdict is about (for a fix: the fixed one).
    pub annotation_version: i64,
    pub created_at: Timestamp,
}
