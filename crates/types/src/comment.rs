//! Comments on tasks and regions, and the notifications people get.

use crate::{AnnotationId, ProjectId, TaskId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A comment on a task, or on one region of one of its annotations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Comment {
    pub id: i64,
    pub project_id: ProjectId,
    pub task_id: TaskId,
    /// With `region_id`: the annotation whose region it is about.
    pub annotation_id: Option<AnnotationId>,
    /// The region's result `id`.
    pub region_id: Option<String>,
    pub author_id: Option<UserId>,
    pub author: Option<String>,
    pub text: String,
    pub resolved_at: Option<Timestamp>,
    pub resolved_by: Option<UserId>,
    pub created_at: Timestamp,
}

/// Something a person is told about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    pub project_id: ProjectId,
    pub project_name: String,
    pub task_id: Option<TaskId>,
    /// `comment` (on a task they work on) or `rejection` (of their annotation).
    pub kind: String,
    pub comment_id: Option<i64>,
    /// Who wrote the comment or rejected the work.
    pub actor: Option<String>,
    /// The comment's text or the rejection's comment (a preview).
    pub message: String,
    pub created_at: Timestamp,
    pub read: bool,
}
