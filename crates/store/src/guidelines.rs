//! A project's labeling guidelines: Markdown, every version kept, and the
//! version each person acknowledged last. The current version is also on
//! the project (`projects.guidelines_version`), so that `next` knows without
//! another query whether there is anything to acknowledge.

use crate::tasks::Columns;
use crate::{Error, Result, Store};
use gloss_types::{ProjectId, Timestamp, UserId};

/// One version of a project's guidelines.
#[derive(Debug, Clone, PartialEq)]
pub struct Guideline {
    pub project_id: ProjectId,
    pub version: i64,
    /// Markdown.
    pub text: String,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "project_id, version, text, created_by, created_at";

fn guideline(row: &dyn Columns) -> Result<Guideline> {
    Ok(Guideline {
        project_id: ProjectId(row.int("project_id")?),
        version: row.int("version")?,
        text: row.text("text")?,
        created_by: row.optional_int("created_by")?.map(UserId),
        created_at: Timestamp(row.int("created_at")?),
    })
}

impl Store {
    /// Every version of the project's guidelines, the newest first.
    pub async fn guidelines(&self, project: ProjectId) -> Result<Vec<Guideline>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM guidelines WHERE project_id = $1 ORDER BY version DESC"
        ))
        .bind(project.0)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(|row| guideline(row)).collect()
    }

    /// The current version, `None` when the project has no guidelines.
    pub async fn current_guideline(&self, project: ProjectId) -> Result<Option<Guideline>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM guidelines WHERE project_id = $1 ORDER BY version DESC LIMIT 1"
        ))
        .bind(project.0)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(|row| guideline(row)).transpose()
    }

    /// Stores `text` as the project's next version of its guidelines and
    /// makes it current. [`Error::NotFound`] without the project.
    pub async fn add_guideline(
        &self,
        project: ProjectId,
        text: &str,
        created_by: Option<UserId>,
    ) -> Result<Guideline> {
        let mut tx = self.begin_write().await?;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT guidelines_version FROM projects WHERE id = $1")
                .bind(project.0)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(current) = current else {
            return Err(Error::NotFound);
        };
        let stored = Guideline {
            project_id: project,
            version: current + 1,
            text: text.to_owned(),
            created_by,
            created_at: Timestamp::now(),
        };
        sqlx::query(&format!(
            "INSERT INTO guidelines ({COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(project.0)
        .bind(stored.version)
        .bind(text)
        .bind(created_by.map(|user| user.0))
        .bind(stored.created_at.millis())
        .execute(&mut *tx)
        .await?;
        // Not `updated_at`: the project's settings did not change.
        sqlx::query("UPDATE projects SET guidelines_version = $1 WHERE id = $2")
            .bind(stored.version)
            .bind(project.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The version of the project's guidelines `user` acknowledged last.
    pub async fn acknowledged_guideline(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT version FROM guideline_acks WHERE project_id = $1 AND user_id = $2",
        )
        .bind(project.0)
        .bind(user.0)
        .fetch_optional(&self.readers)
        .await?)
    }

    /// Records that `user` acknowledged `version` now.
    pub async fn acknowledge_guideline(
        &self,
        project: ProjectId,
        user: UserId,
        version: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO guideline_acks (project_id, user_id, version, acknowledged_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, user_id) \
             DO UPDATE SET version = excluded.version, acknowledged_at = excluded.acknowledged_at",
        )
        .bind(project.0)
        .bind(user.0)
        .bind(version)
        .bind(Timestamp::now().millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
