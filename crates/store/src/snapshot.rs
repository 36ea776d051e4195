//! Whole-database snapshots for backup and restore.
//!
//! A snapshot is every row of every table, read in one transaction so that it
//! is consistent while the server keeps writing. Values are JSON scalars
//! (integers, floats, text, null), which is all the schema uses, so a snapshot
//! taken on SQLite restores on PostgreSQL and the other way round.

use crate::migrate::{apply_migration, MIGRATIONS};
use crate::{Backend, Error, Result, Store};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Row, ValueRef};

/// Every table that holds instance data, parents before children, so that rows
/// restore in this order without breaking foreign keys. A test checks that no
/// table of the schema is missing here.
pub(crate) const TABLES: &[&str] = &[
    "tiers",
    "users",
    "projects",
    "task_counts",
    "project_members",
    "views",
    "api_tokens",
    "sessions",
    "media",
    "project_media",
    "imports",
    "tasks",
    "task_labels",
    "annotations",
    "annotation_versions",
    "predictions",
    "drafts",
    "reservations",
    "skips",
    "assignments",
    "invites",
    "model_endpoints",
    "reviews",
    "review_holds",
    "comments",
    "notifications",
    "honeypots_served",
    "gold_scores",
    "guidelines",
    "guideline_acks",
    "pay_rates",
    // Entries before the approved periods: the trigger refuses an entry
    // into an approved period.
    "pay_entries",
    "pay_periods",
    "qualification_attempts",
    "qualification_answers",
    "certifications",
];

/// Tables a snapshot leaves out because they are built from the others, with
/// how far each has come (SQLite): the trigram index of task data
/// (migration 23), the pay ledger by person (migration 24) and the
/// annotations by annotator (migration 25). A restore drops them with the
/// rest and builds them again.
const DERIVED: &[&str] = &[
    "tasks_text_terms",
    "tasks_text",
    "tasks_text_progress",
    "pay_person_index",
    "pay_person_index_progress",
    "annotation_person_index",
    "annotation_person_index_progress",
];

/// The tables a snapshot holds, in restore order.
pub fn snapshot_tables() -> &'static [&'static str] {
    TABLES
}

impl Store {
    /// Every table in the database, sorted by name.
    pub async fn table_names(&self) -> Result<Vec<String>> {
        let query = match self.backend {
            // The derived tables (see `DERIVED`) are left out.
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT LIKE 'tasks_text%' AND name NOT LIKE '%person_index%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
                 WHERE table_schema = current_schema() ORDER BY name"
            }
        };
        let rows = sqlx::query(query).fetch_all(&self.readers).await?;
        rows.iter().map(|row| Ok(row.try_get("name")?)).collect()
    }
}

/// The shape of one table in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotTable {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: u64,
}

/// Receives a snapshot table by table, row by row.
pub trait SnapshotWriter {
    fn begin_table(&mut self, name: &str, columns: &[String]) -> std::io::Result<()>;
    fn row(&mut self, values: &[Value]) -> std::io::Result<()>;
    fn end_table(&mut self) -> std::io::Result<()>;
}

/// One table's rows, as read back from a backup.
pub struct TableRows {
    pub table: SnapshotTable,
    pub rows: Box<dyn Iterator<Item = std::io::Result<Vec<Value>>> + Send>,
}

impl Store {
    /// Writes every row of every table to `writer` from one consistent read, and
    /// returns the schema version and the tables written.
    pub async fn write_snapshot(
        &self,
        writer: &mut dyn SnapshotWriter,
    ) -> Result<(i64, Vec<SnapshotTable>)> {
        let version = self.schema_version().await?;
        let mut tx = self.readers.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let mut tables = Vec::new();
        for name in TABLES {
            let columns = table_columns(&mut tx, self.backend, name).await?;
            if columns.is_empty() {
                // The table comes with a later migration than this database has.
                continue;
            }
            let column_names: Vec<String> =
                columns.iter().map(|(column, _)| column.clone()).collect();
            writer.begin_table(name, &column_names).map_err(io_error)?;
            let order = if column_names.iter().any(|column| column == "id") {
                "id"
            } else {
                "1, 2"
            };
            let query = format!(
                "SELECT {} FROM {name} ORDER BY {order}",
                column_names.join(", ")
            );
            let mut rows = sqlx::query(&query).fetch(&mut *tx);
            let mut n_rows = 0;
            while let Some(row) = rows.try_next().await? {
                writer.row(&row_values(&row)?).map_err(io_error)?;
                n_rows += 1;
            }
            writer.end_table().map_err(io_error)?;
            tables.push(SnapshotTable {
                name: name.to_string(),
                columns: column_names,
                rows: n_rows,
            });
        }
        tx.commit().await?;
        Ok((version, tables))
    }

    /// Replaces everything in the database with a snapshot taken at schema
    /// version `version`: in one transaction, drops every table, builds the
    /// schema of that version, loads the rows and migrates to the current
    /// version. On any error nothing changes.
    pub async fn restore_snapshot(&self, version: i64, tables: Vec<TableRows>) -> Result<()> {
        if !(1..=crate::MIGRATION_COUNT).contains(&version) {
            return Err(Error::BadSnapshot(format!(
                "schema version {version} is not one this build knows (1 to {})",
                crate::MIGRATION_COUNT
            )));
        }
        let mut tx = self.begin_write().await?;
        for name in TABLES
            .iter()
            .rev()
            .chain(DERIVED)
            .chain(["gloss_migrations"].iter())
        {
            let cascade = if self.backend == Backend::Postgres {
                " CASCADE"
            } else {
                ""
            };
            sqlx::raw_sql(&format!("DROP TABLE IF EXISTS {name}{cascade}"))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::raw_sql(crate::migrate::CREATE_MIGRATIONS_TABLE)
            .execute(&mut *tx)
            .await?;
        for migration in MIGRATIONS
            .iter()
            .filter(|migration| migration.version <= version)
        {
            apply_migration(&mut tx, self.backend, migration).await?;
        }
        for table in tables {
            load_table(&mut tx, self.backend, table).await?;
        }
        for migration in MIGRATIONS
            .iter()
            .filter(|migration| migration.version > version)
        {
            apply_migration(&mut tx, self.backend, migration).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn load_table(conn: &mut AnyConnection, backend: Backend, table: TableRows) -> Result<()> {
    let name = &table.table.name;
    if !TABLES.contains(&name.as_str()) {
        return Err(Error::BadSnapshot(format!("unknown table `{name}`")));
    }
    let known = table_columns(conn, backend, name).await?;
    let mut types = Vec::new();
    for column in &table.table.columns {
        let Some((_, sql_type)) = known.iter().find(|(known_name, _)| known_name == column) else {
            return Err(Error::BadSnapshot(format!(
                "table `{name}` has no column `{column}`"
            )));
        };
        types.push(*sql_type);
    }
    let placeholders: Vec<String> = (1..=types.len()).map(|idx| format!("${idx}")).collect();
    let insert = format!(
        "INSERT INTO {name} ({}) VALUES ({})",
        table.table.columns.join(", "),
        placeholders.join(", ")
    );
    let mut n_rows = 0u64;
    for (row_idx, values) in table.rows.enumerate() {
        let values = values.map_err(|err| Error::BadSnapshot(format!("table `{name}`: {err}")))?;
        if values.len() != types.len() {
            return Err(Error::BadSnapshot(format!(
                "table `{name}` row {}: {} values for {} columns",
                row_idx + 1,
                values.len(),
                types.len()
            )));
        }
        let mut query = sqlx::query::<Any>(&insert);
        for (value, sql_type) in values.into_iter().zip(&types) {
            query = bind_value(query, value, *sql_type).map_err(|reason| {
                Error::BadSnapshot(format!("table `{name}` row {}: {reason}", row_idx + 1))
            })?;
        }
        query.execute(&mut *conn).await?;
        n_rows += 1;
    }
    if n_rows != table.table.rows {
        return Err(Error::BadSnapshot(format!(
            "table `{name}` should have {} rows, found {n_rows}",
            table.table.rows
        )));
    }
    if backend == Backend::Postgres && table.table.columns.iter().any(|column| column == "id") {
        // Rows came with their ids: move the identity past them.
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {name}"
        ))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SqlType {
    Integer,
    Real,
    Text,
}

/// The columns of a table as the database itself describes them.
async fn table_columns(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
) -> Result<Vec<(String, SqlType)>> {
    let rows = match backend {
        Backend::Sqlite => {
            sqlx::query("SELECT name, type FROM pragma_table_info($1) ORDER BY cid").bind(table).fetch_all(conn).await?
        }
        Backend::Postgres => {
            sqlx::query(
                "SELECT CAST(column_name AS TEXT) AS name, CAST(data_type AS TEXT) AS type \
                 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(conn)
            .await?
        }
    };
    rows.iter()
        .map(|row| {
            let name: String = row.try_get("name")?;
            let declared: String = row.try_get("type")?;
            let declared = declared.to_ascii_lowercase();
            let sql_type = if declared.contains("int") {
                SqlType::Integer
            } else if declared.contains("real")
                || declared.contains("double")
                || declared.contains("float")
            {
                SqlType::Real
            } else {
                SqlType::Text
            };
            Ok((name, sql_type))
        })
        .collect()
}

fn row_values(row: &AnyRow) -> Result<Vec<Value>> {
    (0..row.len())
        .map(|idx| {
            if row.try_get_raw(idx)?.is_null() {
                return Ok(Value::Null);
            }
            if let Ok(number) = row.try_get::<i64, _>(idx) {
                return Ok(Value::from(number));
            }
            if let Ok(number) = row.try_get::<f64, _>(idx) {
                return Ok(Value::from(number));
            }
            Ok(Value::from(row.try_get::<String, _>(idx)?))
        })
        .collect()
}

use crate::AnyQuery;

fn bind_value(
    query: AnyQuery<'_>,
    value: Value,
    sql_type: SqlType,
) -> std::result::Result<AnyQuery<'_>, String> {
    Ok(match (sql_type, value) {
        (SqlType::Integer, Value::Null) => query.bind(None::<i64>),
        (SqlType::Real, Value::Null) => crate::bind_optional_f64(query, None),
        (SqlType::Text, Value::Null) => query.bind(None::<String>),
        (SqlType::Integer, Value::Number(number)) => query.bind(
            number
                .as_i64()
                .ok_or_else(|| format!("{number} is not an integer"))?,
        ),
        (SqlType::Real, Value::Number(number)) => query.bind(
            number
                .as_f64()
                .ok_or_else(|| format!("{number} is not a number"))?,
        ),
        (SqlType::Text, Value::String(text)) => query.bind(text),
        (expected, value) => return Err(format!("expected {expected:?}, found {value}")),
    })
}

fn io_error(err: std::io::Error) -> Error {
    Error::Database(format!("writing the snapshot: {err}"))
}
