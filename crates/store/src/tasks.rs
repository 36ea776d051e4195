//! Tasks with their annotations, predictions and drafts: bulk import in one
//! transaction, listing, and consistent page-by-page reads for exports.

use crate::queue_sql::{prepare_bound, Param};
use crate::rows;
use crate::{Backend, Error, Result, Store};
use gloss_types::{
    Annotation, AnnotationId, Page, PageRequest, Prediction, PredictionId, ProjectId, Task, TaskId,
    TaskStatus, Timestamp, UserId,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// Rows per multi-row INSERT. SQLite allows 32766 bound values per statement
/// and PostgreSQL 65535; the widest row below binds 12, so 500 rows stay far
/// under both while amortising the round trip.
const ROWS_PER_INSERT: usize = 500;

/// A task to insert, with its JSON documents already serialized.
#[derive(Debug, Clone, Default)]
pub struct NewTask {
    /// A JSON object.
    pub data: String,
    /// A JSON object, or `None` when empty.
    pub meta: Option<String>,
    pub annotations: Vec<NewAnnotation>,
    pub predictions: Vec<NewPrediction>,
    pub drafts: Vec<NewDraft>,
}

#[derive(Debug, Clone, Default)]
pub struct NewAnnotation {
    pub completed_by: Option<UserId>,
    /// A JSON array of result items.
    pub result: String,
    pub lead_time: Option<f64>,
    pub was_cancelled: bool,
    pub ground_truth: bool,
    /// A JSON object of keys Gloss does not model, kept for exports.
    pub extra: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NewPrediction {
    pub model_version: String,
    pub score: Option<f64>,
    pub result: String,
    pub extra: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NewDraft {
    pub user_id: Option<UserId>,
    pub result: String,
    pub lead_time: Option<f64>,
    pub extra: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub tasks: i64,
    pub annotations: i64,
    pub predictions: i64,
    pub drafts: i64,
}

/// A task row with its JSON documents as stored text.
#[derive(Debug, Clone)]
pub struct TaskRow {
    pub id: TaskId,
    pub project_id: ProjectId,
    pub data: String,
    pub meta: Option<String>,
    pub status: TaskStatus,
    pub priority: i64,
    pub annotation_count: i64,
    pub prediction_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct AnnotationRow {
    pub id: AnnotationId,
    pub task_id: TaskId,
    pub completed_by: Option<UserId>,
    /// The annotator's username, when `completed_by` is set.
    pub username: Option<String>,
    pub result: String,
    pub lead_time: Option<f64>,
    pub was_cancelled: bool,
    pub ground_truth: bool,
    pub version: i64,
    /// `pending`, `accepted` or `rejected` (see [`ReviewState`](gloss_types::ReviewState)).
    pub review_state: String,
    pub reviews_passed: i64,
    pub extra: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Active milliseconds, all versions together (`None`: never measured).
    pub active_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct PredictionRow {
    pub id: PredictionId,
    pub task_id: TaskId,
    pub model_version: String,
    pub score: Option<f64>,
    pub result: String,
    pub extra: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct DraftRow {
    pub id: i64,
    pub task_id: TaskId,
    pub user_id: Option<UserId>,
    pub username: Option<String>,
    pub result: String,
    pub lead_time: Option<f64>,
    pub extra: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One page of tasks with everything attached to them, for exports.
#[derive(Debug, Clone, Default)]
pub struct TaskBundlePage {
    pub tasks: Vec<TaskRow>,
    /// Sorted by task id, then id.
    pub annotations: Vec<AnnotationRow>,
    pub predictions: Vec<PredictionRow>,
    pub drafts: Vec<DraftRow>,
}

pub(crate) const TASK_COLUMNS: &str =
    "id, project_id, data, meta, status, priority, annotation_count, \
                            prediction_count, created_at, updated_at";

/// Imports of at least this many tasks refresh PostgreSQL's statistics.
const ANALYZE_AFTER_TASKS: i64 = 10_000;

/// An import in progress: one write transaction. Nothing is visible to others
/// until [`TaskImport::commit`]; dropping it rolls everything back.
pub struct TaskImport {
    tx: crate::WriteTx,
    backend: Backend,
    project: ProjectId,
    import_id: Option<i64>,
    /// Annotators a task needs before it is completed.
    overlap: i64,
    /// The project's queue order, for the tasks' queue keys.
    order: gloss_types::QueueOrder,
    /// SQLite only: the next free id per table (the transaction holds the
    /// write lock, so nobody else can take them).
    next_ids: [i64; 4],
    counts: ImportCounts,
    /// Tasks inserted per status and counter shard (see `task_counts`).
    status_counts: [[i64; COUNT_SHARDS]; 3],
}

/// The shards of a project's per-status counts (`task_counts`, migration 4).
const COUNT_SHARDS: usize = 16;

/// One value to bind in a bulk insert.
enum Bound<'a> {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<&'a str>),
}

#[derive(Clone, Copy)]
enum Table {
    Tasks = 0,
    Annotations = 1,
    Predictions = 2,
    Drafts = 3,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Tasks => "tasks",
            Table::Annotations => "annotations",
            Table::Predictions => "predictions",
            Table::Drafts => "drafts",
        }
    }
}

impl Store {
    /// Starts an all-or-nothing import into `project`, recorded as `import_id`.
    pub async fn begin_task_import(
        &self,
        project: ProjectId,
        import_id: Option<i64>,
    ) -> Result<TaskImport> {
        let mut tx = self.begin_write().await?;
        let mut next_ids = [0; 4];
        if self.backend == Backend::Sqlite {
            for table in [
                Table::Tasks,
                Table::Annotations,
                Table::Predictions,
                Table::Drafts,
            ] {
                let name = table.name();
                // AUTOINCREMENT never reuses an id, even of a deleted last row:
                // the high-water mark is the larger of sqlite_sequence and MAX(id).
                let row = sqlx::query(&format!(
                    "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{name}'), 0), \
                     COALESCE((SELECT MAX(id) FROM {name}), 0)) AS last"
                ))
                .fetch_one(&mut *tx)
                .await?;
                next_ids[table as usize] = row.try_get::<i64, _>("last")? + 1;
            }
        }
        let settings = sqlx::query("SELECT overlap, queue_order FROM projects WHERE id = $1")
            .bind(project.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound)?;
        let overlap: i64 = settings.try_get("overlap")?;
        let order: String = settings.try_get("queue_order")?;
        let order = gloss_types::QueueOrder::parse(&order)
            .ok_or_else(|| Error::Database(format!("unknown queue order `{order}`")))?;
        Ok(TaskImport {
            tx,
            backend: self.backend,
            project,
            import_id,
            overlap,
            order,
            next_ids,
            counts: ImportCounts::default(),
            status_counts: [[0; COUNT_SHARDS]; 3],
        })
    }
}

impl TaskImport {
    /// Inserts tasks and everything attached to them.
    pub async fn insert(&mut self, tasks: &[NewTask]) -> Result<()> {
        let now = Timestamp::now().millis();
        for chunk in tasks.chunks(ROWS_PER_INSERT) {
            let ids = self.reserve_ids(Table::Tasks, chunk.len()).await?;
            // Every value is bound, so that all full chunks share one
            // statement text, which the driver prepares once and reuses.
            let sql = format!(
                "INSERT INTO tasks (id, project_id, data, meta, status, annotation_count, \
                 prediction_count, prediction_score, import_id, queue_key, created_at, updated_at) \
                 VALUES {}",
                self.value_rows(12, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for (task, id) in chunk.iter().zip(&ids) {
                let annotated = task
                    .annotations
                    .iter()
                    .filter(|annotation| !annotation.was_cancelled)
                    .count() as i64;
                let status = if annotated >= self.overlap {
                    TaskStatus::Completed
                } else if annotated > 0 {
                    TaskStatus::InProgress
                } else {
                    TaskStatus::New
                };
                let status_index = TaskStatus::ALL
                    .iter()
                    .position(|candidate| *candidate == status)
                    .unwrap_or(0);
                self.status_counts[status_index][id.rem_euclid(COUNT_SHARDS as i64) as usize] += 1;
                query = query
                    .bind(*id)
                    .bind(self.project.0)
                    .bind(task.data.as_str())
                    .bind(task.meta.as_deref())
                    .bind(status.as_str())
                    .bind(annotated)
                    .bind(task.predictions.len() as i64);
                query = crate::bind_optional_f64(
                    query,
                    task.predictions
                        .iter()
                        .filter_map(|prediction| prediction.score)
                        .reduce(f64::max),
                );
                query = query
                    .bind(self.import_id)
                    .bind(crate::queue::queue_key(self.order, *id, 0))
                    .bind(now)
                    .bind(now);
            }
            query.execute(&mut *self.tx).await?;
            self.counts.tasks += chunk.len() as i64;

            let annotations: Vec<(i64, &NewAnnotation)> = chunk
                .iter()
                .zip(&ids)
                .flat_map(|(task, id)| task.annotations.iter().map(move |a| (*id, a)))
                .collect();
            self.insert_annotations(&annotations).await?;
            self.insert_labels(&annotations).await?;
            let predictions: Vec<(i64, &NewPrediction)> = chunk
                .iter()
                .zip(&ids)
                .flat_map(|(task, id)| task.predictions.iter().map(move |p| (*id, p)))
                .collect();
            self.insert_predictions(&predictions).await?;
            let drafts: Vec<(i64, &NewDraft)> = chunk
                .iter()
                .zip(&ids)
                .flat_map(|(task, id)| task.drafts.iter().map(move |d| (*id, d)))
                .collect();
            self.insert_drafts(&drafts).await?;
        }
        Ok(())
    }

    async fn insert_annotations(&mut self, rows: &[(i64, &NewAnnotation)]) -> Result<()> {
        self.insert_children(
            Table::Annotations,
            "completed_by, result, lead_time, was_cancelled, ground_truth, extra, created_at, \
             updated_at",
            rows,
            |a| {
                vec![
                    Bound::Int(a.completed_by.map(|user| user.0)),
                    Bound::Text(Some(&a.result)),
                    Bound::Float(a.lead_time),
                    Bound::Int(Some(i64::from(a.was_cancelled))),
                    Bound::Int(Some(i64::from(a.ground_truth))),
                    Bound::Text(a.extra.as_deref()),
                    Bound::Int(Some(a.created_at)),
                    Bound::Int(Some(a.updated_at)),
                ]
            },
        )
        .await?;
        self.counts.annotations += rows.len() as i64;
        Ok(())
    }

    /// Records the labels present in imported annotations (`task_labels`).
    async fn insert_labels(&mut self, rows: &[(i64, &NewAnnotation)]) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        let mut labels: Vec<(i64, String)> = Vec::new();
        for (task, annotation) in rows {
            for label in crate::datamanager::result_labels(&annotation.result) {
                if seen.insert((*task, label.clone())) {
                    labels.push((*task, label));
                }
            }
        }
        for chunk in labels.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO task_labels (project_id, label, task_id) VALUES {} ON CONFLICT DO NOTHING",
                self.value_rows(3, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for (task, label) in chunk {
                query = query.bind(self.project.0).bind(label.as_str()).bind(*task);
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn insert_predictions(&mut self, rows: &[(i64, &NewPrediction)]) -> Result<()> {
        self.insert_children(
            Table::Predictions,
            "model_version, score, result, extra, created_at",
            rows,
            |p| {
                vec![
                    Bound::Text(Some(&p.model_version)),
                    Bound::Float(p.score),
                    Bound::Text(Some(&p.result)),
                    Bound::Text(p.extra.as_deref()),
                    Bound::Int(Some(p.created_at)),
                ]
            },
        )
        .await?;
        self.counts.predictions += rows.len() as i64;
        Ok(())
    }

    async fn insert_drafts(&mut self, rows: &[(i64, &NewDraft)]) -> Result<()> {
        self.insert_children(
            Table::Drafts,
            "user_id, result, lead_time, extra, created_at, updated_at",
            rows,
            |d| {
                vec![
                    Bound::Int(d.user_id.map(|user| user.0)),
                    Bound::Text(Some(&d.result)),
                    Bound::Float(d.lead_time),
                    Bound::Text(d.extra.as_deref()),
                    Bound::Int(Some(d.created_at)),
                    Bound::Int(Some(d.updated_at)),
                ]
            },
        )
        .await?;
        self.counts.drafts += rows.len() as i64;
        Ok(())
    }

    /// Inserts rows that belong to tasks, `(task id, row)`: their ids are
    /// reserved here, and `values` gives each row's values for `columns`
    /// (the columns after `id, task_id, project_id`).
    async fn insert_children<T>(
        &mut self,
        table: Table,
        columns: &str,
        rows: &[(i64, &T)],
        values: for<'a> fn(&'a T) -> Vec<Bound<'a>>,
    ) -> Result<()> {
        let width = columns.split(',').count() + 3;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let ids = self.reserve_ids(table, chunk.len()).await?;
            let sql = format!(
                "INSERT INTO {} (id, task_id, project_id, {columns}) VALUES {}",
                table.name(),
                self.value_rows(width, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for ((task, row), id) in chunk.iter().zip(&ids) {
                query = query.bind(*id).bind(*task).bind(self.project.0);
                for value in values(row) {
                    query = match value {
                        Bound::Int(value) => query.bind(value),
                        Bound::Float(value) => crate::bind_optional_f64(query, value),
                        Bound::Text(value) => query.bind(value),
                    };
                }
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Records that the project uses a media object under `file_name`.
    pub async fn link_media(&mut self, media: &NewMedia, file_name: &str) -> Result<()> {
        insert_project_media(&mut self.tx, self.project, media, file_name).await
    }

    /// Makes every row visible at once.
    pub async fn commit(mut self) -> Result<ImportCounts> {
        for (status, shards) in TaskStatus::ALL.iter().zip(self.status_counts) {
            for (shard, n) in shards.iter().enumerate().filter(|(_, n)| **n > 0) {
                sqlx::query(
                    "INSERT INTO task_counts (project_id, status, shard, n) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (project_id, status, shard) DO UPDATE SET n = task_counts.n + excluded.n",
                )
                .bind(self.project.0)
                .bind(status.as_str())
                .bind(shard as i64)
                .bind(*n)
                .execute(&mut *self.tx)
                .await?;
            }
        }
        // PostgreSQL plans from statistics that autovacuum refreshes only a
        // while after a big import; until then the data manager's pages
        // were planned as if the tables were still small (hundreds of ms
        // at a million tasks instead of a few). ANALYZE inside the
        // transaction counts its own rows, and its statistics commit with them.
        if self.backend == Backend::Postgres && self.counts.tasks >= ANALYZE_AFTER_TASKS {
            sqlx::query("ANALYZE tasks, annotations, predictions, task_labels")
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        Ok(self.counts)
    }

    pub fn counts(&self) -> ImportCounts {
        self.counts
    }

    /// `(…), (…), …`: `rows` groups of `columns` placeholders.
    fn value_rows(&self, columns: usize, rows: usize) -> String {
        let mut sql = String::with_capacity(rows * columns * 4);
        for row in 0..rows {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            for column in 0..columns {
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&self.placeholder(row * columns + column + 1));
            }
            sql.push(')');
        }
        sql
    }

    /// The `n`th (1-based) bound value of a statement. SQLite gets anonymous
    /// `?`s: with numbered ones, its driver looks every parameter up by name
    /// in a list, which makes a 1000-value insert quadratic.
    fn placeholder(&self, n: usize) -> String {
        match self.backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${n}"),
        }
    }

    async fn reserve_ids(&mut self, table: Table, n: usize) -> Result<Vec<i64>> {
        match self.backend {
            Backend::Sqlite => {
                let first = self.next_ids[table as usize];
                self.next_ids[table as usize] += n as i64;
                Ok((first..first + n as i64).collect())
            }
            Backend::Postgres => {
                let rows = sqlx::query(&format!(
                    "SELECT nextval(pg_get_serial_sequence('{}', 'id')) AS id FROM generate_series(1, $1)",
                    table.name()
                ))
                .bind(n as i64)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter()
                    .map(|row| Ok(row.try_get::<i64, _>("id")?))
                    .collect()
            }
        }
    }
}

/// A media object's facts, as recorded in the database.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMedia {
    pub key: String,
    pub content_type: String,
    pub size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// A media object as a project knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectMediaRow {
    pub media: NewMedia,
    pub file_name: String,
}

/// Records a media object (once) and that `project` uses it as `file_name`.
async fn insert_project_media(
    tx: &mut sqlx::AnyConnection,
    project: ProjectId,
    media: &NewMedia,
    file_name: &str,
) -> Result<()> {
    let now = Timestamp::now().millis();
    sqlx::query(
        "INSERT INTO media (key, content_type, size, width, height, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING",
    )
    .bind(media.key.as_str())
    .bind(media.content_type.as_str())
    .bind(media.size)
    .bind(media.width)
    .bind(media.height)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO project_media (project_id, media_key, file_name, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, media_key) DO NOTHING",
    )
    .bind(project.0)
    .bind(media.key.as_str())
    .bind(file_name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn media_row(row: &AnyRow) -> Result<ProjectMediaRow> {
    Ok(ProjectMediaRow {
        media: NewMedia {
            key: row.try_get("key")?,
            content_type: row.try_get("content_type")?,
            size: row.try_get("size")?,
            width: row.try_get("width")?,
            height: row.try_get("height")?,
        },
        file_name: row.try_get("file_name")?,
    })
}

impl Store {
    /// Records a media object and links it to a project, in one transaction.
    pub async fn link_project_media(
        &self,
        project: ProjectId,
        media: &NewMedia,
        file_name: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        insert_project_media(&mut tx, project, media, file_name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The media objects of a project among `keys`.
    pub async fn project_media(
        &self,
        project: ProjectId,
        keys: &[String],
    ) -> Result<Vec<ProjectMediaRow>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..keys.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT m.key, m.content_type, m.size, m.width, m.height, pm.file_name \
             FROM project_media pm JOIN media m ON m.key = pm.media_key \
             WHERE pm.project_id = $1 AND pm.media_key IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(project.0);
        for key in keys {
            query = query.bind(key.as_str());
        }
        let rows = query.fetch_all(&self.readers).await?;
        rows.iter().map(media_row).collect()
    }

    /// A media object, if `user` is a member of a project that uses it (any
    /// project when `user` is `None`, i.e. an administrator).
    pub async fn visible_media(
        &self,
        key: &str,
        user: Option<UserId>,
    ) -> Result<Option<ProjectMediaRow>> {
        let row = match user {
            None => {
                sqlx::query(
                    "SELECT m.key, m.content_type, m.size, m.width, m.height, pm.file_name \
                     FROM project_media pm JOIN media m ON m.key = pm.media_key \
                     WHERE pm.media_key = $1 ORDER BY pm.project_id LIMIT 1",
                )
                .bind(key)
                .fetch_optional(&self.readers)
                .await?
            }
            Some(user) => {
                sqlx::query(
                    "SELECT m.key, m.content_type, m.size, m.width, m.height, pm.file_name \
                     FROM project_media pm JOIN media m ON m.key = pm.media_key \
                     JOIN project_members pmem ON pmem.project_id = pm.project_id \
                     WHERE pm.media_key = $1 AND pmem.user_id = $2 ORDER BY pm.project_id LIMIT 1",
                )
                .bind(key)
                .bind(user.0)
                .fetch_optional(&self.readers)
                .await?
            }
        };
        row.as_ref().map(media_row).transpose()
    }

    pub async fn task(&self, id: TaskId) -> Result<TaskRow> {
        let row = sqlx::query(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1"))
            .bind(id.0)
            .fetch_one(&self.readers)
            .await?;
        task_row(&row)
    }

    /// A project's tasks in id order.
    pub async fn list_tasks(&self, project: ProjectId, page: PageRequest) -> Result<Page<TaskRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(project.0)
        .bind(page.after.unwrap_or(0))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.readers)
        .await?;
        let tasks = rows
            .iter()
            .map(|row| task_row(row))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(tasks, page.limit, |task| task.id.0))
    }

    /// How many tasks a project has in each status.
    pub async fn task_counts(&self, project: ProjectId) -> Result<Vec<(TaskStatus, i64)>> {
        // Kept up to date as tasks change (migration 4), so this reads at
        // most 48 rows whatever the project's size.
        let rows = sqlx::query(
            "SELECT status, CAST(SUM(n) AS BIGINT) AS n FROM task_counts WHERE project_id = $1 \
             GROUP BY status",
        )
        .bind(project.0)
        .fetch_all(&self.readers)
        .await?;
        let mut counts: Vec<(TaskStatus, i64)> =
            TaskStatus::ALL.iter().map(|status| (*status, 0)).collect();
        for row in rows {
            let status = status(&row.try_get::<String, _>("status")?)?;
            let n: i64 = row.try_get("n")?;
            if let Some(entry) = counts.iter_mut().find(|(s, _)| *s == status) {
                entry.1 = n;
            }
        }
        Ok(counts)
    }

    pub async fn task_annotations(&self, task: TaskId) -> Result<Vec<AnnotationRow>> {
        let rows = sqlx::query(&format!(
            "{ANNOTATION_SELECT} WHERE a.task_id = $1 ORDER BY a.id"
        ))
        .bind(task.0)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(|row| annotation_row(row)).collect()
    }

    pub async fn task_predictions(&self, task: TaskId) -> Result<Vec<PredictionRow>> {
        let rows = sqlx::query(&format!(
            "{PREDICTION_SELECT} WHERE task_id = $1 ORDER BY id"
        ))
        .bind(task.0)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(|row| prediction_row(row)).collect()
    }

    /// Starts a consistent read of a project's tasks for an export: every page
    /// comes from the same snapshot of the database.
    pub async fn begin_task_read(&self) -> Result<TaskReader> {
        if let Some(path) = &self.sqlite_path {
            // A connection of its own, read with plain calls (rusqlite): sqlx's
            // driver copies every value into allocations on its own thread,
            // which the reader then frees on another, and that cost three
            // times more than SQLite's work.
            let reader = SqliteReader::open(path.clone()).await?;
            return Ok(TaskReader {
                tx: ReadTransaction::Sqlite(reader),
            });
        }
        let mut tx = self.readers.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        Ok(TaskReader {
            tx: ReadTransaction::Any(tx),
        })
    }
}

/// Reads pages of tasks from one snapshot (see [`Store::begin_task_read`]).
pub struct TaskReader {
    tx: ReadTransaction,
}

enum ReadTransaction {
    Any(Transaction<'static, Any>),
    /// A connection of its own with a transaction open on it, on a thread
    /// of its own.
    Sqlite(SqliteReader),
}

impl ReadTransaction {
    /// Runs a query binding integers and maps every row.
    async fn rows<T: Send + 'static>(
        &mut self,
        sql: &str,
        binds: &[i64],
        map: fn(&dyn Columns) -> Result<T>,
    ) -> Result<Vec<T>> {
        match self {
            ReadTransaction::Any(tx) => {
                let mut query = sqlx::query(sql);
                for value in binds {
                    query = query.bind(*value);
                }
                let rows = query.fetch_all(&mut **tx).await?;
                rows.iter().map(|row| map(row)).collect()
            }
            ReadTransaction::Sqlite(reader) => {
                let (answer, answered) = tokio::sync::oneshot::channel();
                let sql = sql.to_string();
                let binds = binds.to_vec();
                reader.run(Box::new(move |connection| {
                    let _ = answer.send(sqlite_rows(connection, &sql, &binds, map));
                }))?;
                answered
                    .await
                    .map_err(|_| Error::Database("the export reader stopped".to_string()))?
            }
        }
    }
}

type ReadJob = Box<dyn FnOnce(&rusqlite::Connection) + Send>;

/// An export's SQLite connection on a thread of its own: every page is
/// read, and its values allocated, on that one thread.
struct SqliteReader {
    jobs: std::sync::mpsc::Sender<ReadJob>,
}

impl SqliteReader {
    /// Opens a read-only connection and starts a read transaction on it.
    async fn open(path: std::path::PathBuf) -> Result<SqliteReader> {
        let (jobs, receiver) = std::sync::mpsc::channel::<ReadJob>();
        let (opened, opening) = tokio::sync::oneshot::channel::<Result<()>>();
        std::thread::Builder::new()
            .name("gloss-export-reader".to_string())
            .spawn(move || {
                let open = || -> Result<rusqlite::Connection> {
                    let connection = rusqlite::Connection::open_with_flags(
                        path,
                        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    connection.busy_timeout(std::time::Duration::from_secs(10))?;
                    // A read transaction on SQLite sees one snapshot of the
                    // WAL, taken at its first read.
                    connection.execute_batch("BEGIN; SELECT 1 FROM sqlite_master LIMIT 1;")?;
                    Ok(connection)
                };
                let connection = match open() {
                    Ok(connection) => {
                        let _ = opened.send(Ok(()));
                        connection
                    }
                    Err(err) => {
                        let _ = opened.send(Err(err));
                        return;
                    }
                };
                // Ends, with the read transaction, when the reader is dropped.
                while let Ok(job) = receiver.recv() {
                    job(&connection);
                }
            })
            .map_err(|err| Error::Database(format!("cannot start the export reader: {err}")))?;
        opening
            .await
            .map_err(|_| Error::Database("the export reader stopped".to_string()))??;
        Ok(SqliteReader { jobs })
    }

    fn run(&self, job: ReadJob) -> Result<()> {
        self.jobs
            .send(job)
            .map_err(|_| Error::Database("the export reader stopped".to_string()))
    }
}

/// Runs a query binding integers (`$1`, `$2`, …) and maps every row.
fn sqlite_rows<T>(
    connection: &rusqlite::Connection,
    sql: &str,
    binds: &[i64],
    map: fn(&dyn Columns) -> Result<T>,
) -> Result<Vec<T>> {
    let params: Vec<Param<'_>> = binds.iter().map(|value| Param::Int(*value)).collect();
    let mut statement = prepare_bound(connection, sql, &params)?;
    let names: Vec<String> = statement
        .column_names()
        .iter()
        .map(|name| name.to_string())
        .collect();
    let mut rows = statement.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(&SqliteRow { row, names: &names })?);
    }
    Ok(out)
}

/// A rusqlite row with its column names, read by name.
struct SqliteRow<'a> {
    row: &'a rusqlite::Row<'a>,
    names: &'a [String],
}

impl SqliteRow<'_> {
    fn value(&self, name: &str) -> Result<rusqlite::types::ValueRef<'_>> {
        let index = self
            .names
            .iter()
            .position(|candidate| candidate == name)
            .ok_or_else(|| Error::Database(format!("no column `{name}` in the row")))?;
        Ok(self.row.get_ref(index)?)
    }
}

impl Columns for SqliteRow<'_> {
    fn int(&self, name: &str) -> Result<i64> {
        self.optional_int(name)?
            .ok_or_else(|| Error::Database(format!("column `{name}` is null")))
    }
    fn optional_int(&self, name: &str) -> Result<Option<i64>> {
        use rusqlite::types::ValueRef;
        match self.value(name)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(value) => Ok(Some(value)),
            other => Err(Error::Database(format!(
                "column `{name}` is {:?}, not an integer",
                other.data_type()
            ))),
        }
    }
    fn text(&self, name: &str) -> Result<String> {
        self.optional_text(name)?
            .ok_or_else(|| Error::Database(format!("column `{name}` is null")))
    }
    fn optional_text(&self, name: &str) -> Result<Option<String>> {
        use rusqlite::types::ValueRef;
        match self.value(name)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(text) => Ok(Some(
                std::str::from_utf8(text)
                    .map_err(|err| Error::Database(format!("column `{name}`: {err}")))?
                    .to_string(),
            )),
            other => Err(Error::Database(format!(
                "column `{name}` is {:?}, not text",
                other.data_type()
            ))),
        }
    }
    fn optional_float(&self, name: &str) -> Result<Option<f64>> {
        use rusqlite::types::ValueRef;
        match self.value(name)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(value) => Ok(Some(value)),
            // A whole number in a REAL column can come back as an integer.
            ValueRef::Integer(value) => Ok(Some(value as f64)),
            other => Err(Error::Database(format!(
                "column `{name}` is {:?}, not a number",
                other.data_type()
            ))),
        }
    }
}

/// Reading columns by name from either kind of row.
pub(crate) trait Columns {
    fn int(&self, name: &str) -> Result<i64>;
    fn optional_int(&self, name: &str) -> Result<Option<i64>>;
    fn text(&self, name: &str) -> Result<String>;
    fn optional_text(&self, name: &str) -> Result<Option<String>>;
    fn optional_float(&self, name: &str) -> Result<Option<f64>>;
}

impl Columns for AnyRow {
    fn int(&self, name: &str) -> Result<i64> {
        Ok(self.try_get(name)?)
    }
    fn optional_int(&self, name: &str) -> Result<Option<i64>> {
        Ok(self.try_get(name)?)
    }
    fn text(&self, name: &str) -> Result<String> {
        Ok(self.try_get(name)?)
    }
    fn optional_text(&self, name: &str) -> Result<Option<String>> {
        Ok(self.try_get(name)?)
    }
    fn optional_float(&self, name: &str) -> Result<Option<f64>> {
        rows::optional_f64(self, name)
    }
}

impl TaskReader {
    /// The next `limit` tasks of `project` after task id `after`, in id order,
    /// with their annotations, predictions and drafts; `statuses` empty means any.
    pub async fn page(
        &mut self,
        project: ProjectId,
        after: i64,
        limit: u32,
        statuses: &[TaskStatus],
    ) -> Result<TaskBundlePage> {
        let status_filter = if statuses.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = statuses
                .iter()
                .map(|status| format!("'{}'", status.as_str()))
                .collect();
            format!(" AND status IN ({})", names.join(", "))
        };
        let tasks = self
            .tx
            .rows(
                &format!(
                    "SELECT {TASK_COLUMNS} FROM tasks WHERE project_id = $1 AND id > $2{status_filter} \
                     ORDER BY id LIMIT $3"
                ),
                &[project.0, after, i64::from(limit)],
                task_row,
            )
            .await?;
        let (Some(first), Some(last)) = (tasks.first(), tasks.last()) else {
            return Ok(TaskBundlePage::default());
        };
        let (first, last) = (first.id.0, last.id.0);
        // The children of the page's id range, found by task id. The unary
        // `+` keeps SQLite from choosing the project-wide index on
        // `project_id` instead, which would read every annotation of the
        // project for every page.
        let range = [project.0, first, last];
        let annotations = self
            .tx
            .rows(
                &format!(
                    "{ANNOTATION_SELECT} WHERE +a.project_id = $1 AND a.task_id BETWEEN $2 AND $3 \
                     ORDER BY a.task_id, a.id"
                ),
                &range,
                annotation_row,
            )
            .await?;
        let predictions = self
            .tx
            .rows(
                &format!(
                    "{PREDICTION_SELECT} WHERE +project_id = $1 AND task_id BETWEEN $2 AND $3 \
                     ORDER BY task_id, id"
                ),
                &range,
                prediction_row,
            )
            .await?;
        let drafts = self
            .tx
            .rows(
                &format!(
                    "{DRAFT_SELECT} WHERE +d.project_id = $1 AND d.task_id BETWEEN $2 AND $3 \
                     ORDER BY d.task_id, d.id"
                ),
                &range,
                draft_row,
            )
            .await?;
        Ok(TaskBundlePage {
            tasks,
            annotations,
            predictions,
            drafts,
        })
    }

    /// Ends the read.
    pub async fn finish(self) -> Result<()> {
        match self.tx {
            ReadTransaction::Any(tx) => tx.rollback().await?,
            // Dropping the connection ends its read transaction.
            ReadTransaction::Sqlite(connection) => drop(connection),
        }
        Ok(())
    }
}

pub(crate) const ANNOTATION_SELECT: &str =
    "SELECT a.id, a.task_id, a.completed_by, u.username, a.result, \
     a.lead_time, a.was_cancelled, a.ground_truth, a.version, a.review_state, a.reviews_passed, \
     a.extra, a.created_at, a.updated_at, a.active_ms \
     FROM annotations a LEFT JOIN users u ON u.id = a.completed_by";
pub(crate) const PREDICTION_SELECT: &str =
    "SELECT id, task_id, model_version, score, result, extra, \
     created_at FROM predictions";
const DRAFT_SELECT: &str = "SELECT d.id, d.task_id, d.user_id, u.username, d.result, \
     d.lead_time, d.extra, d.created_at, d.updated_at \
     FROM drafts d LEFT JOIN users u ON u.id = d.user_id";

fn status(text: &str) -> Result<TaskStatus> {
    TaskStatus::parse(text).ok_or_else(|| Error::Database(format!("unknown task status `{text}`")))
}

pub(crate) fn task_row(row: &dyn Columns) -> Result<TaskRow> {
    Ok(TaskRow {
        id: TaskId(row.int("id")?),
        project_id: ProjectId(row.int("project_id")?),
        data: row.text("data")?,
        meta: row.optional_text("meta")?,
        status: status(&row.text("status")?)?,
        priority: row.int("priority")?,
        annotation_count: row.int("annotation_count")?,
        prediction_count: row.int("prediction_count")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn annotation_row(row: &dyn Columns) -> Result<AnnotationRow> {
    Ok(AnnotationRow {
        id: AnnotationId(row.int("id")?),
        task_id: TaskId(row.int("task_id")?),
        completed_by: row.optional_int("completed_by")?.map(UserId),
        username: row.optional_text("username")?,
        result: row.text("result")?,
        lead_time: row.optional_float("lead_time")?,
        was_cancelled: row.int("was_cancelled")? != 0,
        ground_truth: row.int("ground_truth")? != 0,
        version: row.int("version")?,
        review_state: row.text("review_state")?,
        reviews_passed: row.int("reviews_passed")?,
        extra: row.optional_text("extra")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        active_ms: row.optional_int("active_ms")?,
    })
}

pub(crate) fn prediction_row(row: &dyn Columns) -> Result<PredictionRow> {
    Ok(PredictionRow {
        id: PredictionId(row.int("id")?),
        task_id: TaskId(row.int("task_id")?),
        model_version: row.text("model_version")?,
        score: row.optional_float("score")?,
        result: row.text("result")?,
        extra: row.optional_text("extra")?,
        created_at: row.int("created_at")?,
    })
}

fn draft_row(row: &dyn Columns) -> Result<DraftRow> {
    Ok(DraftRow {
        id: row.int("id")?,
        task_id: TaskId(row.int("task_id")?),
        user_id: row.optional_int("user_id")?.map(UserId),
        username: row.optional_text("username")?,
        result: row.text("result")?,
        lead_time: row.optional_float("lead_time")?,
        extra: row.optional_text("extra")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

impl TaskRow {
    /// The API's view of the task; `data` and `meta` must be JSON objects.
    pub fn to_task(&self) -> Result<Task> {
        Ok(Task {
            id: self.id,
            project_id: self.project_id,
            data: json_object(&self.data, "tasks.data")?,
            meta: match &self.meta {
                Some(meta) => json_object(meta, "tasks.meta")?,
                None => serde_json::Map::new(),
            },
            status: self.status,
            priority: self.priority,
            annotation_count: self.annotation_count,
            prediction_count: self.prediction_count,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

impl AnnotationRow {
    pub fn to_annotation(&self) -> Result<Annotation> {
        Ok(Annotation {
            id: self.id,
            task_id: self.task_id,
            completed_by: self.completed_by,
            result: json_array(&self.result, "annotations.result")?,
            lead_time: self.lead_time,
            was_cancelled: self.was_cancelled,
            ground_truth: self.ground_truth,
            version: self.version,
            review_state: gloss_types::ReviewState::parse(&self.review_state).ok_or_else(|| {
                Error::Database(format!("unknown review state `{}`", self.review_state))
            })?,
            reviews_passed: self.reviews_passed,
            active_ms: self.active_ms,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

impl PredictionRow {
    pub fn to_prediction(&self) -> Result<Prediction> {
        Ok(Prediction {
            id: self.id,
            task_id: self.task_id,
            model_version: self.model_version.clone(),
            score: self.score,
            result: json_array(&self.result, "predictions.result")?,
            created_at: Timestamp(self.created_at),
        })
    }
}

fn json_object(text: &str, column: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    serde_json::from_str(text)
        .map_err(|err| Error::Database(format!("{column} is not a JSON object: {err}")))
}

pub(crate) fn json_array(text: &str, column: &str) -> Result<Vec<serde_json::Value>> {
    serde_json::from_str(text)
        .map_err(|err| Error::Database(format!("{column} is not a JSON array: {err}")))
}
