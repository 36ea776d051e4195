//! Comments on tasks and regions, and people's notifications.
//!
//! A comment notifies, in the same transaction, everyone concerned with its
//! task but its author: the task's annotators and those who commented on it
//! before. A review rejection notifies the annotation's annotator (see
//! `reviews.rs`).

use crate::tasks::Columns;
use crate::{Error, Result, Store};
use gloss_types::{AnnotationId, Comment, Notification, ProjectId, TaskId, Timestamp, UserId};

/// The longest preview of a comment kept in a notification, in characters.
const PREVIEW_CHARS: usize = 200;

/// A comment to store.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub project: ProjectId,
    pub task: TaskId,
    pub annotation: Option<AnnotationId>,
    pub region: Option<String>,
    pub author: UserId,
    pub text: String,
}

const COMMENT_SELECT: &str = "SELECT c.id, c.project_id, c.task_id, c.annotation_id, c.region_id, \
     c.author_id, u.username, c.text, c.resolved_at, c.resolved_by, c.created_at \
     FROM comments c LEFT JOIN users u ON u.id = c.author_id";

fn comment(row: &dyn Columns) -> Result<Comment> {
    Ok(Comment {
        id: row.int("id")?,
        project_id: ProjectId(row.int("project_id")?),
        task_id: TaskId(row.int("task_id")?),
        annotation_id: row.optional_int("annotation_id")?.map(AnnotationId),
        region_id: row.optional_text("region_id")?,
        author_id: row.optional_int("author_id")?.map(UserId),
        author: row.optional_text("username")?,
        text: row.text("text")?,
        resolved_at: row.optional_int("resolved_at")?.map(Timestamp),
        resolved_by: row.optional_int("resolved_by")?.map(UserId),
        created_at: Timestamp(row.int("created_at")?),
    })
}

/// A notification's preview of a text: its first characters.
pub(crate) fn preview(text: &str) -> String {
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Notifies `users` (each once) of something on a task.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn notify(
    tx: &mut sqlx::AnyConnection,
    users: &[UserId],
    project: ProjectId,
    task: TaskId,
    kind: &str,
    comment: Option<i64>,
    actor: UserId,
    message: &str,
    now: i64,
) -> Result<()> {
    let mut users = users.to_vec();
    users.sort_unstable_by_key(|u| u.0);
    users.dedup();
    for user in users.into_iter().filter(|u| *u != actor) {
        sqlx::query(
            "INSERT INTO notifications (user_id, project_id, task_id, kind, comment_id, actor_id, \
             message, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.0)
        .bind(project.0)
        .bind(task.0)
        .bind(kind)
        .bind(comment)
        .bind(actor.0)
        .bind(preview(message))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Stores a comment and notifies the task's annotators and earlier
    /// commenters (not its author).
    pub async fn add_comment(&self, new: &NewComment, now: i64) -> Result<Comment> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO comments (project_id, task_id, annotation_id, region_id, author_id, text, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(new.project.0)
        .bind(new.task.0)
        .bind(new.annotation.map(|a| a.0))
        .bind(new.region.as_deref())
        .bind(new.author.0)
        .bind(&new.text)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = sqlx::Row::try_get(&row, "id")?;
        let concerned: Vec<i64> = sqlx::query_scalar(
            "SELECT completed_by FROM annotations WHERE task_id = $1 AND completed_by IS NOT NULL \
             UNION SELECT author_id FROM comments WHERE task_id = $1 AND author_id IS NOT NULL",
        )
        .bind(new.task.0)
        .fetch_all(&mut *tx)
        .await?;
        let concerned: Vec<UserId> = concerned.into_iter().map(UserId).collect();
        notify(
            &mut tx,
            &concerned,
            new.project,
            new.task,
            "comment",
            Some(id),
            new.author,
            &new.text,
            now,
        )
        .await?;
        let stored = sqlx::query(&format!("{COMMENT_SELECT} WHERE c.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let stored = comment(&stored)?;
        tx.commit().await?;
        Ok(stored)
    }

    /// A task's comments, oldest first.
    pub async fn task_comments(&self, task: TaskId) -> Result<Vec<Comment>> {
        let rows = sqlx::query(&format!(
            "{COMMENT_SELECT} WHERE c.task_id = $1 ORDER BY c.id"
        ))
        .bind(task.0)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(|row| comment(row)).collect()
    }

    pub async fn comment(&self, id: i64) -> Result<Comment> {
        let row = sqlx::query(&format!("{COMMENT_SELECT} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(&self.readers)
            .await?
            .ok_or(Error::NotFound)?;
        comment(&row)
    }

    /// Marks a comment resolved (by `by`, now) or open again.
    pub async fn set_comment_resolved(
        &self,
        id: i64,
        resolved: Option<(UserId, i64)>,
    ) -> Result<Comment> {
        let done =
            sqlx::query("UPDATE comments SET resolved_by = $1, resolved_at = $2 WHERE id = $3")
                .bind(resolved.map(|(by, _)| by.0))
                .bind(resolved.map(|(_, at)| at))
                .bind(id)
                .execute(&mut *self.write_conn().await?)
                .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        self.comment(id).await
    }

    /// Whether the user has work on the task: an annotation, a draft or a
    /// reservation (what lets an annotator see and comment on it).
    pub async fn works_on_task(&self, task: TaskId, user: UserId) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM annotations WHERE task_id = $1 AND completed_by = $2 \
             UNION SELECT 1 FROM drafts WHERE task_id = $1 AND user_id = $2 \
             UNION SELECT 1 FROM reservations WHERE task_id = $1 AND user_id = $2 \
             LIMIT 1",
        )
        .bind(task.0)
        .bind(user.0)
        .fetch_optional(&self.readers)
        .await?;
        Ok(found.is_some())
    }

    /// The user's notifications, newest first (only unread ones when asked),
    /// and how many are unread.
    pub async fn notifications(
        &self,
        user: UserId,
        unread_only: bool,
        limit: i64,
    ) -> Result<(Vec<Notification>, i64)> {
        let rows =
            sqlx::query(&format!(
            "SELECT n.id, n.project_id, p.name AS project_name, n.task_id, n.kind, n.comment_id, \
             u.username, n.message, n.created_at, n.read_at \
             FROM notifications n JOIN projects p ON p.id = n.project_id \
             LEFT JOIN users u ON u.id = n.actor_id \
             WHERE n.user_id = $1 {} ORDER BY n.id DESC LIMIT $2",
            if unread_only { "AND n.read_at IS NULL" } else { "" }
        ))
            .bind(user.0)
            .bind(limit)
            .fetch_all(&self.readers)
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let row: &dyn Columns = row;
            items.push(Notification {
                id: row.int("id")?,
                project_id: ProjectId(row.int("project_id")?),
                project_name: row.text("project_name")?,
                task_id: row.optional_int("task_id")?.map(TaskId),
                kind: row.text("kind")?,
                comment_id: row.optional_int("comment_id")?,
                actor: row.optional_text("username")?,
                message: row.text("message")?,
                created_at: Timestamp(row.int("created_at")?),
                read: row.optional_int("read_at")?.is_some(),
            });
        }
        let unread: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user.0)
        .fetch_one(&self.readers)
        .await?;
        Ok((items, unread))
    }

    /// Marks the user's notifications read: those listed, or all.
    pub async fn mark_notifications_read(
        &self,
        user: UserId,
        ids: Option<&[i64]>,
        now: i64,
    ) -> Result<u64> {
        let mut marked = 0;
        match ids {
            None => {
                marked += sqlx::query(
                    "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL",
                )
                .bind(now)
                .bind(user.0)
                .execute(&mut *self.write_conn().await?)
                .await?
                .rows_affected();
            }
            Some(ids) => {
                for id in ids {
                    marked += sqlx::query(
                        "UPDATE notifications SET read_at = $1 \
                         WHERE id = $2 AND user_id = $3 AND read_at IS NULL",
                    )
                    .bind(now)
                    .bind(id)
                    .bind(user.0)
                    .execute(&mut *self.write_conn().await?)
                    .await?
                    .rows_affected();
                }
            }
        }
        Ok(marked)
    }
}
