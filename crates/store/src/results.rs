//! Reading and rewriting every stored result of a project (annotations,
//! drafts and predictions), for label config changes. The store only pages
//! through rows and applies the rewrite it is given; what a rewrite does is
//! the engine's decision.

use crate::{Result, Store};
use gloss_types::{ProjectId, TaskId, Timestamp, UserId};

/// The tables whose rows hold a project's Label Studio results.
const RESULT_TABLES: [&str; 3] = ["annotations", "drafts", "predictions"];
const PAGE: i64 = 1000;

/// How many rows a config change rewrote, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RewrittenResults {
    pub annotations: u64,
    pub drafts: u64,
    pub predictions: u64,
}

impl Store {
    /// Calls `visit` with each stored result (JSON text) of the project,
    /// reading a page of rows at a time so memory stays flat.
    pub async fn scan_results(
        &self,
        project: ProjectId,
        mut visit: impl FnMut(&str),
    ) -> Result<()> {
        for table in RESULT_TABLES {
            let mut after = 0i64;
            loop {
                let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
                    "SELECT id, result FROM {table} WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                ))
                .bind(project.0)
                .bind(after)
                .bind(PAGE)
                .fetch_all(&self.readers)
                .await?;
                for (_, result) in &rows {
                    visit(result);
                }
                match rows.last() {
                    Some((id, _)) if rows.len() as i64 == PAGE => after = *id,
                    _ => break,
                }
            }
        }
        Ok(())
    }

    /// Sets the project's label config and rewrites its stored results in
    /// one transaction: all of it happens, or none. `rewrite` returns the new
    /// JSON text of a result, or `None` to leave it. A rewritten annotation
    /// keeps its previous result as a version, like any other change.
    pub async fn change_label_config(
        &self,
        project: ProjectId,
        label_config: &str,
        by: Option<UserId>,
        rewrite: impl Fn(&str) -> Option<String>,
    ) -> Result<RewrittenResults> {
        let now = Timestamp::now().millis();
        let mut counts = RewrittenResults::default();
        // Tasks whose annotations changed: their labels are recounted.
        let mut relabelled: Vec<i64> = Vec::new();
        let mut tx = self.begin_write().await?;
        for table in RESULT_TABLES {
            let mut after = 0i64;
            loop {
                let rows: Vec<(i64, i64, String)> = sqlx::query_as(&format!(
                    "SELECT id, task_id, result FROM {table} WHERE project_id = $1 AND id > $2 \
                     ORDER BY id LIMIT $3"
                ))
                .bind(project.0)
                .bind(after)
                .bind(PAGE)
                .fetch_all(&mut *tx)
                .await?;
                for (id, task, result) in &rows {
                    let Some(new) = rewrite(result) else {
                        continue;
                    };
                    match table {
                        "annotations" => {
                            sqlx::query(
                                "INSERT INTO annotation_versions (annotation_id, version, result, lead_time, \
                                 created_by, created_at) SELECT id, version, result, lead_time, \
                                 COALESCE(updated_by, completed_by), updated_at FROM annotations WHERE id = $1",
                            )
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                            sqlx::query(
                                "UPDATE annotations SET result = $1, version = version + 1, \
                                 updated_by = $2, updated_at = $3 WHERE id = $4",
                            )
                            .bind(&new)
                            .bind(by.map(|user| user.0))
                            .bind(now)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                            counts.annotations += 1;
                            relabelled.push(*task);
                        }
                        "drafts" => {
                            sqlx::query(
                                "UPDATE drafts SET result = $1, updated_at = $2 WHERE id = $3",
                            )
                            .bind(&new)
                            .bind(now)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                            counts.drafts += 1;
                        }
                        _ => {
                            sqlx::query("UPDATE predictions SET result = $1 WHERE id = $2")
                                .bind(&new)
                                .bind(id)
                                .execute(&mut *tx)
                                .await?;
                            counts.predictions += 1;
                        }
                    }
                }
                match rows.last() {
                    Some((id, _, _)) if rows.len() as i64 == PAGE => after = *id,
                    _ => break,
                }
            }
        }
        // The data manager's "label present" filter reads `task_labels`.
        relabelled.sort_unstable();
        relabelled.dedup();
        for task in relabelled {
            let conn = &mut crate::queue_sql::SqlxQueue(&mut tx, self.backend);
            crate::datamanager::relabel_task(conn, project, TaskId(task)).await?;
        }
        sqlx::query("UPDATE projects SET label_config = $1, updated_at = $2 WHERE id = $3")
            .bind(label_config)
            .bind(now)
            .bind(project.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(counts)
    }
}
