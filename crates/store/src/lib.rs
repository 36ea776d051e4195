//! Everything Gloss keeps in its database, behind one interface with two real
//! backends: SQLite (the embedded default) and PostgreSQL (chosen by URL).
//!
//! This is the only crate that knows SQL. It knows nothing about HTTP, media
//! files, label configs or who may do what: callers decide, the store records.
//!
//! Both backends run the same statements (SQLite accepts PostgreSQL's `$1`
//! placeholders) over sqlx's `Any` driver, and each has its own migrations under
//! `migrations/`. Rows use only integers and text, so a backup taken on one
//! backend restores on the other.

mod comments;
mod datamanager;
mod gold;
mod guidelines;
mod imports;
mod invites;
mod migrate;
mod model_endpoints;
mod pay;
mod people;
mod person_index;
mod productivity;
mod projects;
mod qualification;
mod queue;
mod queue_sql;
mod results;
mod reviews;
mod rows;
mod snapshot;
mod tasks;
mod text_index;
mod users;

pub use comments::NewComment;
pub use datamanager::{
    valid_data_key, BulkAction, BulkTarget, DataCondition, DataKeyIndexes, DataOp, SortKey,
    SortValue, TableCursor, TablePage, TableRow, TableSort, TaskQuery, ViewRow,
};
pub use gold::GoldScore;
pub use guidelines::Guideline;
pub use imports::ImportOutcome;
pub use invites::NewInvite;
pub use migrate::{Migration, MIGRATION_COUNT};
pub use model_endpoints::{ModelEndpoint, ModelEndpointInput};
pub use pay::{NewPayEntry, NewPayRate, PayEntryFilter, PayEntryRow, PayPeriodRow, PayRateRow};
pub use people::{ProfilePatch, DEFAULT_TIERS, WORK_COUNT_CAP};
pub use productivity::{ActivityRow, VerdictCounts};
pub use projects::{NewProject, ProjectPatch, ProjectScope, QueueCaller};
pub use qualification::{AttemptAnswer, AttemptRow, Grant, QualificationPatch};
pub use queue::{
    QueueProject, Reservation, ReservedTask, Submitted, Updated, Work, PRIORITY_LIMIT,
};
pub use results::RewrittenResults;
pub use reviews::{NewReview, ReviewCounts, Reviewed};
pub use snapshot::{snapshot_tables, SnapshotTable, SnapshotWriter, TableRows};
pub use tasks::{
    AnnotationRow, DraftRow, ImportCounts, NewAnnotation, NewDraft, NewMedia, NewPrediction,
    NewTask, PredictionRow, ProjectMediaRow, TaskBundlePage, TaskImport, TaskReader, TaskRow,
};
pub use text_index::{TextIndexBatch, TextIndexProgress, TEXT_INDEX_BATCH};
pub use users::{NewUser, Session};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

/// What went wrong in the store. Callers never see sqlx types.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write (a taken username, say).
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("invalid database url `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("database error: {0}")]
    Database(String),
    #[error("backup data is invalid: {0}")]
    BadSnapshot(String),
    /// PostgreSQL gave up a transaction because of a concurrent one (a
    /// deadlock or serialization failure); running it again may succeed.
    #[error("the database is busy: {0}")]
    Contention(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Error {
        match &err {
            sqlx::Error::RowNotFound => Error::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Error::Conflict(db.message().to_string())
            }
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("40001") | Some("40P01")) =>
            {
                Error::Contention(db.message().to_string())
            }
            _ => Error::Database(err.to_string()),
        }
    }
}

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// How hard SQLite works to keep a committed write (PRAGMA synchronous).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqliteSync {
    /// Every acknowledged write survives a crash of the process and a power loss
    /// (the write-ahead log is flushed to disk at each commit).
    #[default]
    Full,
    /// Every acknowledged write survives a crash of the process (`kill -9`); after
    /// a power loss or OS crash the last commits may be rolled back, never corrupted.
    Normal,
}

impl SqliteSync {
    pub fn parse(text: &str) -> Option<SqliteSync> {
        match text {
            "full" => Some(SqliteSync::Full),
            "normal" => Some(SqliteSync::Normal),
            _ => None,
        }
    }

    pub(crate) fn pragma(self) -> &'static str {
        match self {
            SqliteSync::Full => "FULL",
            SqliteSync::Normal => "NORMAL",
        }
    }
}

/// Settings for opening a store, handed down from the configuration.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub sqlite_sync: SqliteSync,
    /// Connections for readers (and, on PostgreSQL, writers).
    pub max_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            sqlite_sync: SqliteSync::Full,
            max_connections: 8,
        }
    }
}

/// The database of one Gloss instance.
#[derive(Clone)]
pub struct Store {
    /// Reads (and writes on PostgreSQL).
    readers: AnyPool,
    /// SQLite only: the database file, for connections of their own
    /// (exports read through rusqlite on one, see `TaskReader`).
    sqlite_path: Option<std::path::PathBuf>,
    /// Writes. On SQLite one connection, so that writers queue in Gloss instead
    /// of failing with "database is locked"; on PostgreSQL the reader pool.
    writers: AnyPool,
    /// SQLite only: the short reads of every API call (see `queue_sql`).
    sqlite_quick_reads: Option<std::sync::Arc<queue_sql::SqliteQuickReads>>,
    /// SQLite only: the writer thread of queue calls (see `queue_sql`).
    sqlite_writer: Option<std::sync::Arc<queue_sql::SqliteWriter>>,
    /// SQLite only: whose turn it is to write, between the queue's writer
    /// thread and `writers` (see `queue_sql::WriteTurn`).
    write_turn: Option<queue_sql::WriteTurn>,
    /// PostgreSQL only: whether the trigram index of stored task data
    /// exists, so that `contains` filters search the stored text first
    /// (see `Store::prepare_postgres_text_index`).
    postgres_text_index: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// When the build of each data field's index that a filter asked for
    /// last failed, by index name, so that it is not tried on every page
    /// (see `Store::ensure_sought_data_indexes`).
    failed_data_indexes:
        std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>>,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`), creating a missing
    /// SQLite file. Does not migrate: call [`Store::migrate`].
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let connect = AnyConnectOptions::from_str(&connect_url(url, backend)).map_err(|err| {
            Error::BadUrl {
                url: redact_url(url),
                reason: err.to_string(),
            }
        })?;
        match backend {
            Backend::Sqlite => {
                let sync = options.sqlite_sync;
                let pool_options = move || {
                    AnyPoolOptions::new().after_connect(move |conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers run beside the writer; the busy timeout
                            // covers other processes (a backup, the CLI) holding locks.
                            conn.execute(
                                format!(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; \
                                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                                    sync.pragma()
                                )
                                .as_str(),
                            )
                            .await?;
                            Ok(())
                        })
                    })
                };
                // The writer is opened first so that the WAL switch happens once.
                let writers = pool_options()
                    .max_connections(1)
                    .connect_with(connect.clone())
                    .await
                    .map_err(|err| open_error(url, err))?;
                let readers = pool_options()
                    .max_connections(options.max_connections.max(1))
                    .connect_with(connect)
                    .await
                    .map_err(|err| open_error(url, err))?;
                let sqlite_options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .map_err(|err| open_error(url, err))?;
                let write_turn = queue_sql::WriteTurn::default();
                let sqlite_writer = queue_sql::SqliteWriter::open(
                    sqlite_options.get_filename(),
                    sync,
                    write_turn.clone(),
                )?;
                let quick_reads = queue_sql::SqliteQuickReads::new(sqlite_options.get_filename());
                let sqlite_path = Some(sqlite_options.get_filename().to_path_buf());
                Ok(Store {
                    readers,
                    sqlite_writer: Some(std::sync::Arc::new(sqlite_writer)),
                    write_turn: Some(write_turn),
                    sqlite_quick_reads: Some(std::sync::Arc::new(quick_reads)),
                    writers,
                    sqlite_path,
                    postgres_text_index: Default::default(),
                    failed_data_indexes: Default::default(),
                    backend,
                })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(connect)
                    .await
                    .map_err(|err| open_error(url, err))?;
                Ok(Store {
                    readers: pool.clone(),
                    writers: pool,
                    sqlite_writer: None,
                    write_turn: None,
                    sqlite_quick_reads: None,
                    sqlite_path: None,
                    postgres_text_index: Default::default(),
                    failed_data_indexes: Default::default(),
                    backend,
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; on SQLite this also checkpoints the WAL.
    pub async fn close(&self) {
        self.readers.close().await;
        self.writers.close().await;
        if let Some(writer) = &self.sqlite_writer {
            writer.close().await;
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so that a transaction never fails half-way on an
    /// upgrade from reader to writer.
    async fn begin_write(&self) -> Result<WriteTx> {
        let turn = self.take_write_turn().await?;
        let tx = match self.backend {
            Backend::Sqlite => self.writers.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writers.begin().await?,
        };
        Ok(Turned {
            inner: tx,
            _turn: turn,
        })
    }

    /// The writer connection, for statements that commit on their own
    /// (hold it no longer than the statement: it holds the turn).
    async fn write_conn(&self) -> Result<WriteConn> {
        let turn = self.take_write_turn().await?;
        let conn = self.writers.acquire().await?;
        Ok(Turned {
            inner: conn,
            _turn: turn,
        })
    }

    /// On SQLite, waits for this process's turn to write (see
    /// `queue_sql::WriteTurn`).
    async fn take_write_turn(&self) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>> {
        match &self.write_turn {
            Some(turn) => Ok(Some(turn.take().await?)),
            None => Ok(None),
        }
    }
}

/// A use of `Store::writers` that holds the turn to write (see
/// `queue_sql::WriteTurn`) until it is dropped; dereferences to its
/// connection, as a `sqlx::Transaction` or a pooled connection does.
pub(crate) struct Turned<C> {
    // Fields drop in order: the transaction or connection before the turn.
    inner: C,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// A write transaction: rolled back when dropped uncommitted.
pub(crate) type WriteTx = Turned<sqlx::Transaction<'static, sqlx::Any>>;

/// The writer connection, for statements that commit on their own.
pub(crate) type WriteConn = Turned<sqlx::pool::PoolConnection<sqlx::Any>>;

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<()> {
        self.inner.commit().await?;
        Ok(())
    }
}

impl<C: std::ops::DerefMut<Target = sqlx::AnyConnection>> std::ops::Deref for Turned<C> {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.inner
    }
}

impl<C: std::ops::DerefMut<Target = sqlx::AnyConnection>> std::ops::DerefMut for Turned<C> {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.inner
    }
}

impl Store {
    /// A short read on the hot path of API calls: on SQLite on the calling
    /// thread (see `queue_sql::SqliteQuickReads`), on PostgreSQL through the pool.
    pub(crate) async fn quick_read(
        &self,
        sql: &str,
        params: &[queue_sql::Param<'_>],
    ) -> Result<Vec<queue_sql::QueueRow>> {
        use queue_sql::QueueSql;
        match &self.sqlite_quick_reads {
            Some(reads) => reads.rows(sql, params),
            None => {
                let mut conn = self.readers.acquire().await?;
                queue_sql::SqlxQueue(&mut conn, self.backend)
                    .fetch_all(sql, params)
                    .await
            }
        }
    }

    /// A read that may take long: the data manager's pages and counts scan
    /// tasks when no index serves a filter (a rare substring: 0.5 s at a
    /// million tasks). On SQLite it runs on the calling thread as
    /// [`Store::quick_read`] does, but first tells a multi-threaded runtime
    /// (`block_in_place`), which moves the thread's other tasks to another
    /// worker instead of leaving them waiting behind the scan.
    pub(crate) async fn long_read(
        &self,
        sql: &str,
        params: &[queue_sql::Param<'_>],
    ) -> Result<Vec<queue_sql::QueueRow>> {
        use tokio::runtime::{Handle, RuntimeFlavor};
        let multi_threaded = Handle::try_current()
            .is_ok_and(|runtime| runtime.runtime_flavor() == RuntimeFlavor::MultiThread);
        match &self.sqlite_quick_reads {
            Some(reads) if multi_threaded => {
                tokio::task::block_in_place(|| reads.rows(sql, params))
            }
            _ => self.quick_read(sql, params).await,
        }
    }

    /// Like [`Store::quick_read`], for one row; `NotFound` when there is none.
    pub(crate) async fn quick_read_one(
        &self,
        sql: &str,
        params: &[queue_sql::Param<'_>],
    ) -> Result<queue_sql::QueueRow> {
        self.quick_read(sql, params)
            .await?
            .into_iter()
            .next()
            .ok_or(Error::NotFound)
    }
}

fn backend_of(url: &str) -> Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(Error::BadUrl {
            url: redact_url(url),
            reason: "the scheme must be sqlite:// or postgres://".to_string(),
        })
    }
}

/// SQLite needs `mode=rwc` to create a missing file.
fn connect_url(url: &str, backend: Backend) -> String {
    if backend == Backend::Sqlite && !url.contains("mode=") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}mode=rwc")
    } else {
        url.to_string()
    }
}

fn open_error(url: &str, err: sqlx::Error) -> Error {
    Error::Database(format!("cannot open {}: {err}", redact_url(url)))
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// A statement through sqlx's `Any` driver, with its bound values.
pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds an optional `f64` (scores, lead times). sqlx 0.8's `Any` driver
/// declares a NULL `f64` to PostgreSQL as `float4` and a NULL `f32` as
/// `float8` (the two are swapped), so a cached statement first run with a
/// NULL there refuses a number on a later run ("incorrect binary data format
/// in bind parameter"). A NULL is therefore bound as an `f32`, which arrives
/// as the `float8` that numbers are. Test: `imports.rs`,
/// `numbers_missing_in_early_rows_and_present_later_import`.
pub(crate) fn bind_optional_f64(query: AnyQuery<'_>, value: Option<f64>) -> AnyQuery<'_> {
    match value {
        Some(value) => query.bind(value),
        None => query.bind(None::<f32>),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://gloss:s3cret@db:5432/gloss"),
            "postgres://gloss:***@db:5432/gloss"
        );
        assert_eq!(
            redact_url("sqlite:///tmp/gloss.db"),
            "sqlite:///tmp/gloss.db"
        );
    }

    #[test]
    fn unknown_schemes_are_refused_by_name() {
        let err = backend_of("mysql://x").unwrap_err();
        assert!(
            err.to_string().contains("sqlite:// or postgres://"),
            "{err}"
        );
    }
}
