//! Schema migrations: numbered SQL files per backend, applied in order, each in
//! its own transaction, recorded in `gloss_migrations`. Files are append-only:
//! a released migration is never edited, a change is a new file.

use crate::{Backend, Result, Store};
use gloss_types::Timestamp;
use sqlx::Row;

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! migration {
    ($version:expr, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

pub(crate) const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_accounts_and_projects"),
    migration!(2, "0002_sessions"),
    migration!(3, "0003_tasks_and_media"),
    migration!(4, "0004_queue"),
    migration!(5, "0005_invites"),
    migration!(6, "0006_data_manager"),
    migration!(9, "0009_model_endpoints"),
    migration!(10, "0010_review"),
    migration!(11, "0011_comments"),
    migration!(12, "0012_honeypots"),
    migration!(13, "0013_dynamic_overlap"),
    migration!(14, "0014_consensus_method"),
    migration!(15, "0015_guidelines"),
    migration!(16, "0016_skills_and_tiers"),
    migration!(17, "0017_daily_limits"),
    migration!(18, "0018_time_and_status"),
    migration!(19, "0019_pay"),
    migration!(20, "0020_training_and_qualification"),
    migration!(21, "0021_tasks_by_created"),
    migration!(22, "0022_queue_index_counts"),
    migration!(23, "0023_task_text_index"),
    migration!(24, "0024_fewer_person_indexes"),
    migration!(25, "0025_annotations_by_person"),
    migration!(26, "0026_queue_tables_without_rowid"),
    migration!(27, "0027_task_status_check_without_lookup"),
];

/// How many migrations this build knows: the schema version of a fresh database.
/// (The last migration's version: numbers are taken by branches before they
/// merge, so the list may have a gap while one is open.)
pub const MIGRATION_COUNT: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

impl Migration {
    fn sql(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

pub(crate) const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS gloss_migrations (\
     version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

impl Store {
    /// The schema version of the database: 0 for an empty one.
    pub async fn schema_version(&self) -> Result<i64> {
        sqlx::raw_sql(CREATE_MIGRATIONS_TABLE)
            .execute(&mut *self.write_conn().await?)
            .await?;
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS version FROM gloss_migrations")
            .fetch_one(&self.readers)
            .await?;
        Ok(row.try_get("version")?)
    }

    /// The migrations this database still needs, oldest first.
    pub async fn pending_migrations(&self) -> Result<Vec<Migration>> {
        let version = self.schema_version().await?;
        if version > MIGRATION_COUNT {
            return Err(crate::Error::Database(format!(
                "the database has schema version {version}, newer than this build of gloss knows \
                 ({MIGRATION_COUNT}); upgrade gloss"
            )));
        }
        Ok(MIGRATIONS
            .iter()
            .filter(|migration| migration.version > version)
            .copied()
            .collect())
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<()> {
        self.migrate_to(MIGRATION_COUNT).await
    }

    /// Applies pending migrations up to and including `target` (used by restore
    /// and by upgrade tests, which start from an older schema).
    pub async fn migrate_to(&self, target: i64) -> Result<()> {
        for migration in self.pending_migrations().await? {
            if migration.version > target {
                break;
            }
            let mut tx = self.begin_write().await?;
            apply_migration(&mut tx, self.backend, &migration).await?;
            tx.commit().await?;
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "applied migration"
            );
        }
        Ok(())
    }
}

/// Runs one migration and records it, inside the caller's transaction.
pub(crate) async fn apply_migration(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    migration: &Migration,
) -> Result<()> {
    sqlx::raw_sql(migration.sql(backend))
        .execute(&mut *conn)
        .await?;
    if migration.version == 23 && backend == Backend::Sqlite {
        drop_shared_data_indexes(conn).await?;
    }
    if migration.version == 27 && backend == Backend::Sqlite {
        rewrite_task_status_check(conn).await?;
    }
    sqlx::query("INSERT INTO gloss_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
        .bind(migration.version)
        .bind(migration.name)
        .bind(Timestamp::now().millis())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Until migration 23, the index of a data key on SQLite was made the first
/// time any project was sorted by it, and covered every project's tasks
/// (`tasks_data_<hash>`), so every insert anywhere kept every such index.
/// Each project now has its own (`tasks_data_<hash>_p<project>`, partial):
/// the shared ones are dropped, and a project's are made again ahead of its
/// first sort (`Store::prepare_data_indexes`) or at it. (PostgreSQL keeps
/// one index per key.)
async fn drop_shared_data_indexes(conn: &mut sqlx::AnyConnection) -> Result<()> {
    crate::datamanager::drop_sqlite_indexes_like(conn, "tasks\\_data\\_%", Some("%\\_p%")).await
}

/// The CHECK on `tasks.status` as migration 3 wrote it, and as migration 27
/// rewrites it on SQLite: the same values, compared one by one, since an
/// IN list of three or more makes SQLite build a temporary b-tree on every
/// task update (see the migration's file).
const TASK_STATUS_CHECK_IN: &str = "CHECK (status IN ('new', 'in_progress', 'completed'))";
const TASK_STATUS_CHECK_OR: &str =
    "CHECK (status = 'new' OR status = 'in_progress' OR status = 'completed')";

/// SQLite's documented procedure for changing a CHECK constraint in place,
/// inside the migration's transaction: edit the table's text in
/// `sqlite_schema`, then raise the schema version so that every connection
/// reads the schema again. A table whose text is not the expected one
/// fails the migration (and its transaction) rather than being left as is.
async fn rewrite_task_status_check(conn: &mut sqlx::AnyConnection) -> Result<()> {
    let version: i64 = sqlx::query_scalar("PRAGMA schema_version")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::raw_sql("PRAGMA writable_schema = ON")
        .execute(&mut *conn)
        .await?;
    let rewritten = sqlx::query(
        "UPDATE sqlite_schema SET sql = replace(sql, $1, $2) \
         WHERE type = 'table' AND name = 'tasks' AND instr(sql, $1) > 0",
    )
    .bind(TASK_STATUS_CHECK_IN)
    .bind(TASK_STATUS_CHECK_OR)
    .execute(&mut *conn)
    .await;
    // Off again whatever the edit did: the connection goes back to the pool.
    sqlx::raw_sql("PRAGMA writable_schema = OFF")
        .execute(&mut *conn)
        .await?;
    if rewritten?.rows_affected() != 1 {
        return Err(crate::Error::Database(format!(
            "migration 27: the definition of table `tasks` does not hold `{TASK_STATUS_CHECK_IN}`"
        )));
    }
    sqlx::raw_sql(&format!("PRAGMA schema_version = {}", version + 1))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
