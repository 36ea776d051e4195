//! Comments on tasks and regions, and notifications. Reviewers and
//! managers comment on any task of their projects; an annotator on tasks
//! they work on (an annotation, a draft or a reservation of theirs).

use crate::access::Actor;
use crate::error::{Error, OrNotFound, Result};
use crate::Engine;
use gloss_store::NewComment;
use gloss_types::{
    AnnotationId, Code, Comment, Notification, ProjectRole, TaskId, Timestamp, User,
};
use serde::Serialize;
use utoipa::ToSchema;

/// The longest comment, in bytes.
pub const MAX_COMMENT_BYTES: usize = 10_000;
/// The longest region id a comment may name.
const MAX_REGION_ID: usize = 200;

/// A comment as sent.
#[derive(Debug, Clone)]
pub struct CommentInput {
    pub text: String,
    /// A comment on a region: the annotation and the region's result id.
    pub region: Option<(AnnotationId, String)>,
}

/// A person's notifications.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notifications {
    /// How many are unread in all.
    pub unread: i64,
    /// Newest first.
    pub items: Vec<Notification>,
}

impl Engine {
    /// A task's comments, oldest first.
    pub async fn task_comments(&self, actor: &Actor, task: TaskId) -> Result<Vec<Comment>> {
        self.comment_access(actor, task).await?;
        Ok(self.store.task_comments(task).await?)
    }

    /// Comments on a task (or on a region of one of its annotations) and
    /// notifies the people concerned.
    pub async fn add_comment(
        &self,
        actor: &Actor,
        task: TaskId,
        input: CommentInput,
    ) -> Result<Comment> {
        let user = signed_in(actor)?;
        let project = self.comment_access(actor, task).await?;
        let text = input.text.trim().to_owned();
        if text.is_empty() {
            return Err(Error::invalid("text", "a comment needs some text"));
        }
        if text.len() > MAX_COMMENT_BYTES {
            return Err(Error::invalid(
                "text",
                format!("is longer than {MAX_COMMENT_BYTES} bytes"),
            ));
        }
        let (annotation, region) = match input.region {
            None => (None, None),
            Some((annotation, region)) => {
                if region.is_empty() || region.len() > MAX_REGION_ID {
                    return Err(Error::invalid(
                        "region_id",
                        format!("must be a region's id, 1 to {MAX_REGION_ID} bytes"),
                    ));
                }
                let row = self
                    .store
                    .annotation(annotation)
                    .await
                    .or_not_found("annotation")?;
                if row.task_id != task {
                    return Err(Error::invalid(
                        "annotation_id",
                        format!("annotation {annotation} is not on task {task}"),
                    ));
                }
                (Some(annotation), Some(region))
            }
        };
        let new = NewComment {
            project,
            task,
            annotation,
            region,
            author: user.id,
            text,
        };
        Ok(self
            .store
            .add_comment(&new, Timestamp::now().millis())
            .await?)
    }

    /// Marks a comment resolved or open again: its author, and the
    /// project's reviewers and managers.
    pub async fn resolve_comment(&self, actor: &Actor, id: i64, resolved: bool) -> Result<Comment> {
        let user = signed_in(actor)?;
        let comment = self.store.comment(id).await.or_not_found("comment")?;
        self.comment_access(actor, comment.task_id)
            .await
            .map_err(|err| match err.code {
                Code::NotFound => Error::not_found("comment"),
                _ => err,
            })?;
        let (_, role) = self.project_for(actor, comment.project_id).await?;
        if comment.author_id != Some(user.id) && role < ProjectRole::Reviewer {
            return Err(Error::forbidden(
                "only its author and the project's reviewers and managers may resolve a comment",
            ));
        }
        let resolved = resolved.then(|| (user.id, Timestamp::now().millis()));
        Ok(self.store.set_comment_resolved(id, resolved).await?)
    }

    /// The caller's notifications.
    pub async fn notifications(
        &self,
        actor: &Actor,
        unread_only: bool,
        limit: i64,
    ) -> Result<Notifications> {
        let user = signed_in(actor)?;
        if !(1..=200).contains(&limit) {
            return Err(Error::invalid("limit", "must be between 1 and 200"));
        }
        let (items, unread) = self
            .store
            .notifications(user.id, unread_only, limit)
            .await?;
        Ok(Notifications { unread, items })
    }

    /// Marks the caller's notifications read (those listed, or all); returns how many.
    pub async fn mark_notifications_read(
        &self,
        actor: &Actor,
        ids: Option<Vec<i64>>,
    ) -> Result<u64> {
        let user = signed_in(actor)?;
        if ids.as_ref().is_some_and(|ids| ids.len() > 1000) {
            return Err(Error::invalid("ids", "give at most 1000 ids"));
        }
        Ok(self
            .store
            .mark_notifications_read(user.id, ids.as_deref(), Timestamp::now().millis())
            .await?)
    }

    /// The task's project, when the caller may read and write its comments.
    async fn comment_access(&self, actor: &Actor, task: TaskId) -> Result<gloss_types::ProjectId> {
        let project = self
            .task_project(actor, task, ProjectRole::Annotator)
            .await?;
        let role = self.project_for(actor, project.id).await?.1;
        if role >= ProjectRole::Reviewer {
            return Ok(project.id);
        }
        let user = signed_in(actor)?;
        if self.store.works_on_task(task, user.id).await? {
            Ok(project.id)
        } else {
            // An annotator does not learn of tasks they do not work on.
            Err(Error::not_found("task"))
        }
    }
}

fn signed_in(actor: &Actor) -> Result<&User> {
    actor
        .user()
        .ok_or_else(|| Error::new(Code::BadRequest, "comments need a signed-in user"))
}
