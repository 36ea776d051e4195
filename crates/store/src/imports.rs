//! Import jobs: their state, progress and report.

use crate::{Error, Result, Store};
use gloss_types::{Import, ImportId, ImportState, ProjectId, RejectedRow, Timestamp, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

const IMPORT_COLUMNS: &str = "id, project_id, created_by, state, rows_read, tasks_created, \
     annotations_created, predictions_created, error, rejected, created_at, finished_at";

/// How an import ended.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    pub tasks: i64,
    pub annotations: i64,
    pub predictions: i64,
    pub error: Option<String>,
    pub rejected: Vec<RejectedRow>,
}

impl Store {
    pub async fn create_import(&self, project: ProjectId, user: Option<UserId>) -> Result<Import> {
        let row = sqlx::query(&format!(
            "INSERT INTO imports (project_id, created_by, state, created_at) VALUES ($1, $2, 'running', $3) \
             RETURNING {IMPORT_COLUMNS}"
        ))
        .bind(project.0)
        .bind(user.map(|user| user.0))
        .bind(Timestamp::now().millis())
        .fetch_one(&mut *self.write_conn().await?)
        .await?;
        import_row(&row)
    }

    /// Records how many rows a running import has read.
    pub async fn set_import_progress(&self, id: ImportId, rows_read: i64) -> Result<()> {
        sqlx::query("UPDATE imports SET rows_read = $1 WHERE id = $2 AND state = 'running'")
            .bind(rows_read)
            .bind(id.0)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(())
    }

    /// Marks an import finished: completed when nothing was rejected and no
    /// error stopped it, failed otherwise.
    pub async fn finish_import(
        &self,
        id: ImportId,
        rows_read: i64,
        outcome: &ImportOutcome,
    ) -> Result<Import> {
        let state = if outcome.error.is_none() && outcome.rejected.is_empty() {
            ImportState::Completed
        } else {
            ImportState::Failed
        };
        let rejected = serde_json::to_string(&outcome.rejected)
            .map_err(|err| Error::Database(err.to_string()))?;
        let row = sqlx::query(&format!(
            "UPDATE imports SET state = $1, rows_read = $2, tasks_created = $3, annotations_created = $4, \
             predictions_created = $5, error = $6, rejected = $7, finished_at = $8 WHERE id = $9 \
             RETURNING {IMPORT_COLUMNS}"
        ))
        .bind(state.as_str())
        .bind(rows_read)
        .bind(outcome.tasks)
        .bind(outcome.annotations)
        .bind(outcome.predictions)
        .bind(outcome.error.as_deref())
        .bind(rejected)
        .bind(Timestamp::now().millis())
        .bind(id.0)
        .fetch_one(&mut *self.write_conn().await?)
        .await?;
        import_row(&row)
    }

    pub async fn import(&self, id: ImportId) -> Result<Import> {
        let row = sqlx::query(&format!(
            "SELECT {IMPORT_COLUMNS} FROM imports WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_one(&self.readers)
        .await?;
        import_row(&row)
    }

    /// Imports still marked running when the server starts were cut short by a
    /// stop; their transaction never committed, so they wrote nothing.
    pub async fn fail_interrupted_imports(&self) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE imports SET state = 'failed', error = 'the server stopped before the import finished; nothing was written', \
             finished_at = $1 WHERE state = 'running'",
        )
        .bind(Timestamp::now().millis())
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(done.rows_affected())
    }
}

fn import_row(row: &AnyRow) -> Result<Import> {
    let state: String = row.try_get("state")?;
    let rejected: String = row.try_get("rejected")?;
    Ok(Import {
        id: ImportId(row.try_get("id")?),
        project_id: ProjectId(row.try_get("project_id")?),
        state: ImportState::parse(&state)
            .ok_or_else(|| Error::Database(format!("unknown import state `{state}`")))?,
        rows_read: row.try_get("rows_read")?,
        tasks_created: row.try_get("tasks_created")?,
        annotations_created: row.try_get("annotations_created")?,
        predictions_created: row.try_get("predictions_created")?,
        error: row.try_get("error")?,
        rejected: serde_json::from_str(&rejected)
            .map_err(|err| Error::Database(format!("imports.rejected: {err}")))?,
        created_by: row.try_get::<Option<i64>, _>("created_by")?.map(UserId),
        created_at: Timestamp(row.try_get("created_at")?),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(Timestamp),
    })
}
