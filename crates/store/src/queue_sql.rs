//! How queue calls reach the database: one small interface (`QueueSql`) over
//! two connections, so the queue's statements are written once.
//!
//! - PostgreSQL: a sqlx connection inside a transaction of its own.
//! - SQLite: a dedicated writer thread with its own connection (rusqlite, on
//!   the same libsqlite3 as sqlx) that runs queue calls with group commit.
//!   SQLite has one writer, and with `synchronous = FULL` every commit waits
//!   for the disk (about 2 ms here), which would cap the queue at a few
//!   hundred calls a second. Instead, calls queue up while the writer is
//!   busy; it takes every waiting call, runs them in one transaction,
//!   commits once, and only then answers each caller (a failing call makes
//!   the batch run again one call per transaction, see `run_batch`): nothing
//!   is acknowledged before its commit, and a lone call is not delayed. Statements run as plain function calls on
//!   that thread; through sqlx each one would be handed to a worker thread
//!   and back, and those hand-offs were most of the queue's CPU time.

use crate::tasks::Columns;
use crate::{Backend, Error, Result, SqliteSync};
use std::future::Future;
use std::sync::mpsc;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// A value bound to a statement's `$n` placeholder.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Int(i64),
    OptionalInt(Option<i64>),
    Float(Option<f64>),
    Text(&'a str),
    OptionalText(Option<&'a str>),
}

#[derive(Debug, Clone)]
enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

/// One row, read by column name.
#[derive(Debug, Clone)]
pub(crate) struct QueueRow {
    /// Shared by the rows of one result.
    names: std::sync::Arc<[String]>,
    cells: Vec<Cell>,
    /// Where the search for the next column name starts.
    next_column: ColumnHint,
}

/// The column after the one last read: rows are mostly read in the order
/// of their columns, so each name is found at the first comparison, where
/// a search from the first column compared half the row's names (some 40 in
/// a project's row, read on every API call). Atomic only to be shared
/// between threads; it is a hint, so any order of updates is right.
#[derive(Debug, Default)]
struct ColumnHint(std::sync::atomic::AtomicUsize);

impl Clone for ColumnHint {
    fn clone(&self) -> ColumnHint {
        ColumnHint(std::sync::atomic::AtomicUsize::new(
            self.0.load(std::sync::atomic::Ordering::Relaxed),
        ))
    }
}

impl QueueRow {
    fn new(names: std::sync::Arc<[String]>, cells: Vec<Cell>) -> QueueRow {
        QueueRow {
            names,
            cells,
            next_column: ColumnHint::default(),
        }
    }

    fn cell(&self, name: &str) -> Result<&Cell> {
        let count = self.names.len();
        let start = self
            .next_column
            .0
            .load(std::sync::atomic::Ordering::Relaxed);
        let index = (start..start + count)
            .map(|index| index % count)
            .find(|&index| self.names[index] == name)
            .ok_or_else(|| Error::Database(format!("no column `{name}` in the row")))?;
        self.next_column
            .0
            .store(index + 1, std::sync::atomic::Ordering::Relaxed);
        Ok(&self.cells[index])
    }
}

fn wrong_type(name: &str, cell: &Cell) -> Error {
    Error::Database(format!("column `{name}` has an unexpected value {cell:?}"))
}

impl Columns for QueueRow {
    fn int(&self, name: &str) -> Result<i64> {
        self.optional_int(name)?
            .ok_or_else(|| Error::Database(format!("column `{name}` is null")))
    }
    fn optional_int(&self, name: &str) -> Result<Option<i64>> {
        match self.cell(name)? {
            Cell::Null => Ok(None),
            Cell::Int(value) => Ok(Some(*value)),
            cell => Err(wrong_type(name, cell)),
        }
    }
    fn text(&self, name: &str) -> Result<String> {
        self.optional_text(name)?
            .ok_or_else(|| Error::Database(format!("column `{name}` is null")))
    }
    fn optional_text(&self, name: &str) -> Result<Option<String>> {
        match self.cell(name)? {
            Cell::Null => Ok(None),
            Cell::Text(value) => Ok(Some(value.clone())),
            cell => Err(wrong_type(name, cell)),
        }
    }
    fn optional_float(&self, name: &str) -> Result<Option<f64>> {
        match self.cell(name)? {
            Cell::Null => Ok(None),
            Cell::Float(value) => Ok(Some(*value)),
            // A whole number in a REAL column can come back as an integer.
            Cell::Int(value) => Ok(Some(*value as f64)),
            cell => Err(wrong_type(name, cell)),
        }
    }
}

/// The statements a queue call runs, on either backend. Placeholders are
/// `$1`, `$2`, … on both.
pub(crate) trait QueueSql {
    fn backend(&self) -> Backend;
    /// Runs a statement; returns the number of rows it changed.
    fn execute(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<u64>> + Send;
    fn fetch_all(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<QueueRow>>> + Send;
    /// Runs an `INSERT` of one row, written without `RETURNING`, and
    /// returns the new row's `id`. SQLite's writer asks its connection for
    /// the id: a `RETURNING` clause makes SQLite gather the returned rows in
    /// a temporary b-tree, made and dropped on every run.
    fn insert(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<i64>> + Send;
}

/// The first row of a query, if any.
pub(crate) async fn fetch_optional<C: QueueSql>(
    conn: &mut C,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Option<QueueRow>> {
    Ok(conn.fetch_all(sql, params).await?.into_iter().next())
}

// ------------------------------------------------------------------ sqlx

/// A sqlx connection (PostgreSQL) inside the call's transaction.
pub(crate) struct SqlxQueue<'c>(pub &'c mut sqlx::AnyConnection, pub Backend);

fn bind<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    params: &[Param<'q>],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for param in params {
        query = match *param {
            Param::Int(value) => query.bind(value),
            Param::OptionalInt(value) => query.bind(value),
            Param::Float(value) => crate::bind_optional_f64(query, value),
            Param::Text(value) => query.bind(value),
            Param::OptionalText(value) => query.bind(value),
        };
    }
    query
}

impl QueueSql for SqlxQueue<'_> {
    fn backend(&self) -> Backend {
        self.1
    }

    async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let done = bind(sqlx::query(sql), params).execute(&mut *self.0).await?;
        Ok(done.rows_affected())
    }

    async fn fetch_all(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<QueueRow>> {
        use sqlx::{Column, Row, ValueRef};
        let rows = bind(sqlx::query(sql), params)
            .fetch_all(&mut *self.0)
            .await?;
        rows.iter()
            .map(|row| {
                let names: std::sync::Arc<[String]> =
                    row.columns().iter().map(|c| c.name().to_string()).collect();
                let cells = (0..names.len())
                    .map(|index| {
                        if row.try_get_raw(index)?.is_null() {
                            return Ok(Cell::Null);
                        }
                        if let Ok(value) = row.try_get::<i64, _>(index) {
                            return Ok(Cell::Int(value));
                        }
                        if let Ok(value) = row.try_get::<f64, _>(index) {
                            return Ok(Cell::Float(value));
                        }
                        Ok(Cell::Text(row.try_get::<String, _>(index)?))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(QueueRow::new(names, cells))
            })
            .collect()
    }

    async fn insert(&mut self, sql: &str, params: &[Param<'_>]) -> Result<i64> {
        let rows = self
            .fetch_all(&format!("{sql} RETURNING id"), params)
            .await?;
        match rows.first() {
            Some(row) => row.int("id"),
            None => Err(Error::Database("the row was not inserted".to_string())),
        }
    }
}

// ------------------------------------------------------------------ SQLite

/// The SQLite writer thread's connection.
pub(crate) struct SqliteQueue<'c>(pub &'c rusqlite::Connection);

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Error {
        match &err {
            rusqlite::Error::SqliteFailure(failure, message)
                if failure.code == rusqlite::ErrorCode::ConstraintViolation
                    && (failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                        || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE) =>
            {
                Error::Conflict(message.clone().unwrap_or_else(|| err.to_string()))
            }
            _ => Error::Database(err.to_string()),
        }
    }
}

/// Makes the connection's query plans independent of the values bound to
/// them (SQLite's query planner stability guarantee).
///
/// Without it, SQLite checks a query against each partial index's condition
/// using the values bound at the time, and a statement whose plan looked at
/// a bound value is prepared again (parsed and planned) each time that
/// parameter is bound. Since the data manager's per-project indexes
/// (`... WHERE project_id = 7`), that was every queue statement on `tasks`
/// (`project_id = $1`) on every run: a fifth of the queue writer's time.
/// With the guarantee, such queries are planned once and never use those
/// partial indexes; the data manager writes project ids literally, and its
/// queries use them. Gloss's build turns the guarantee on for every
/// connection (`SQLITE_ENABLE_QPSG` in `.cargo/config.toml`); this keeps it
/// on the hot connections whatever the build.
pub(crate) fn plan_independent_of_bindings(conn: &rusqlite::Connection) -> Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// `$1`, `$2`, …: the names of the first parameters, without a `format!` per parameter.
const PARAMETER_NAMES: [&str; 16] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15",
    "$16",
];

/// A cached statement with `params` bound to their `$n` names (SQLite
/// numbers parameters in order of first appearance, which need not be `n`).
pub(crate) fn prepare_bound<'c>(
    connection: &'c rusqlite::Connection,
    sql: &str,
    params: &[Param<'_>],
) -> Result<rusqlite::CachedStatement<'c>> {
    let mut statement = connection.prepare_cached(sql)?;
    for (index, param) in params.iter().enumerate() {
        let name = PARAMETER_NAMES
            .get(index)
            .map(|name| std::borrow::Cow::Borrowed(*name))
            .unwrap_or_else(|| std::borrow::Cow::Owned(format!("${}", index + 1)));
        let Some(position) = statement.parameter_index(&name)? else {
            continue;
        };
        match *param {
            Param::Int(value) => statement.raw_bind_parameter(position, value)?,
            Param::OptionalInt(value) => statement.raw_bind_parameter(position, value)?,
            Param::Float(value) => statement.raw_bind_parameter(position, value)?,
            Param::Text(value) => statement.raw_bind_parameter(position, value)?,
            Param::OptionalText(value) => statement.raw_bind_parameter(position, value)?,
        }
    }
    Ok(statement)
}

impl SqliteQueue<'_> {
    fn prepare(&self, sql: &str, params: &[Param<'_>]) -> Result<rusqlite::CachedStatement<'_>> {
        prepare_bound(self.0, sql, params)
    }

    fn run(&self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let mut statement = self.prepare(sql, params)?;
        Ok(statement.raw_execute()? as u64)
    }

    fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<QueueRow>> {
        let mut statement = self.prepare(sql, params)?;
        let names = column_names(sql, &statement);
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let cells = (0..names.len())
                .map(|index| {
                    Ok(match row.get_ref(index)? {
                        rusqlite::types::ValueRef::Null => Cell::Null,
                        rusqlite::types::ValueRef::Integer(value) => Cell::Int(value),
                        rusqlite::types::ValueRef::Real(value) => Cell::Float(value),
                        rusqlite::types::ValueRef::Text(text) => Cell::Text(text_of(text)),
                        rusqlite::types::ValueRef::Blob(_) => {
                            return Err(Error::Database("unexpected blob".to_string()))
                        }
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            out.push(QueueRow::new(names.clone(), cells));
        }
        Ok(out)
    }
}

/// A text cell as a `String`. SQLite's text is UTF-8 unless a client
/// stored invalid bytes, which are replaced. `from_utf8_lossy` alone walks
/// the text in its slow, chunked way even when it is valid: a project's
/// row, with its label config, is read on every queue call, and with a
/// 15 kB config that walk took 13% of the async threads' CPU.
fn text_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// A statement's column names, shared by every row it returns. They are
/// kept per thread by statement text, because the project's row (read on
/// every API call) has some 40 columns, and copying their names for each
/// read was a few percent of a queue call's CPU.
fn column_names(sql: &str, statement: &rusqlite::Statement<'_>) -> std::sync::Arc<[String]> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::Arc;
    /// Statement texts remembered per thread; past this the memory starts over.
    const KEPT: usize = 256;
    thread_local! {
        static NAMES: RefCell<HashMap<String, Arc<[String]>>> = RefCell::default();
    }
    NAMES.with_borrow_mut(|known| {
        if let Some(names) = known.get(sql) {
            return names.clone();
        }
        let names: Arc<[String]> = statement
            .column_names()
            .iter()
            .map(|name| name.to_string())
            .collect();
        if known.len() >= KEPT {
            known.clear();
        }
        known.insert(sql.to_owned(), names.clone());
        names
    })
}

impl QueueSql for SqliteQueue<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn execute(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<u64>> + Send {
        std::future::ready(self.run(sql, params))
    }

    fn fetch_all(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<QueueRow>>> + Send {
        std::future::ready(self.rows(sql, params))
    }

    fn insert(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<i64>> + Send {
        let inserted = match self.run(sql, params) {
            Ok(1) => Ok(self.0.last_insert_rowid()),
            Ok(_) => Err(Error::Database("the row was not inserted".to_string())),
            Err(err) => Err(err),
        };
        std::future::ready(inserted)
    }
}

/// One caller's queue call waiting for the writer thread.
trait Job: Send {
    /// Runs the call inside the batch's transaction; false when it failed.
    /// A job may run more than once (see `run_batch`), each time from scratch.
    fn run(&mut self, conn: &rusqlite::Connection) -> bool;
    /// Answers the caller with the call's outcome, once its transaction
    /// committed (`committed` says whether it did).
    fn finish(self: Box<Self>, committed: Result<()>);
}

struct Call<T, F> {
    op: F,
    outcome: Option<Result<T>>,
    answer: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for Call<T, F>
where
    T: Send,
    F: Fn(&rusqlite::Connection) -> Result<T> + Send,
{
    fn run(&mut self, conn: &rusqlite::Connection) -> bool {
        let outcome = (self.op)(conn);
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn finish(self: Box<Self>, committed: Result<()>) {
        let outcome = match (committed, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Err(err), _) => Err(err),
            (Ok(()), None) => Err(Error::Database("the queue call did not run".to_string())),
        };
        let _ = self.answer.send(outcome);
    }
}

enum Message {
    Job(Box<dyn Job>),
    /// Close the connection and answer.
    Close(oneshot::Sender<()>),
}

/// More calls than this wait for the next batch: it bounds how long one
/// transaction holds the write lock.
const MAX_BATCH: usize = 256;

/// SQLite: one write transaction at a time in this process, by turns in
/// the order asked for. The queue's writer thread takes the turn for each
/// batch, the store's other writes (sqlx's writer connection) for each
/// transaction or statement (see `Store::begin_write`). Without it the two
/// connections met only at SQLite's write lock, where sqlx's connection
/// waits in SQLite's own busy handler (sleeps of up to 100 ms between
/// tries): under a busy queue, whose writer takes the lock again right
/// after each commit, an import or a project change could wait seconds.
/// The lock stays what keeps other processes (`gloss import`, a backup)
/// apart.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteTurn(std::sync::Arc<tokio::sync::Mutex<()>>);

/// How long a write outside the queue waits for its turn (the writer
/// connection's pool waited 30 s for its one connection before the turn):
/// queue batches take milliseconds, and a large import holds the turn for
/// as long as its transaction runs.
const TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

impl WriteTurn {
    /// Waits for the turn (first come, first served), for up to [`TURN_WAIT`].
    pub(crate) async fn take(&self) -> Result<tokio::sync::OwnedMutexGuard<()>> {
        tokio::time::timeout(TURN_WAIT, self.0.clone().lock_owned())
            .await
            .map_err(|_| {
                Error::Database(format!(
                    "the database is busy: another write has held it for {} s",
                    TURN_WAIT.as_secs()
                ))
            })
    }

    /// The queue writer's thread: tries every [`LOCK_RETRY`] for up to
    /// [`LOCK_WAIT`], like its wait for SQLite's lock. A turn let go while
    /// another writer waits goes to that writer, never to a try.
    fn take_blocking(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let started = std::time::Instant::now();
        loop {
            if let Ok(turn) = self.0.clone().try_lock_owned() {
                return Some(turn);
            }
            if started.elapsed() >= LOCK_WAIT {
                return None;
            }
            std::thread::sleep(LOCK_RETRY);
        }
    }
}

/// The SQLite writer thread for queue calls.
#[derive(Debug)]
pub(crate) struct SqliteWriter {
    messages: Mutex<Option<mpsc::Sender<Message>>>,
}

impl SqliteWriter {
    /// Opens the writer's connection to the database file and starts its thread.
    pub(crate) fn open(
        path: &std::path::Path,
        sync: SqliteSync,
        turn: WriteTurn,
    ) -> Result<SqliteWriter> {
        let conn = rusqlite::Connection::open(path)?;
        plan_independent_of_bindings(&conn)?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA foreign_keys = ON;",
            sync.pragma()
        ))?;
        // Other writers (imports, the text index's batches, the server's
        // other writes) hold the lock at times: wait for them, up to 10 s
        // as sqlx's connections do, but trying often (see `wait_for_lock`).
        conn.busy_handler(Some(wait_for_lock))?;
        conn.set_prepared_statement_cache_capacity(64);
        // This connection is the only one that writes under load, so its
        // cache stays valid from batch to batch (a connection drops its
        // cache whenever another one has committed); 64 MB holds the pages
        // the queue's calls touch, where SQLite's default 2 MB left many to
        // a read from the file, a system call each.
        conn.execute_batch("PRAGMA cache_size = -65536;")?;
        // A statement that may change several rows, or runs a trigger (the
        // task updates, the steps of the tables by person), keeps a copy of
        // each page it changes first, so that it alone can be undone. SQLite
        // keeps that copy in memory up to 64 kB and then moves it to a
        // temporary file for the rest of the transaction: most batches made,
        // wrote and deleted such a file (about 1 kB written per call, two
        // writes for each page after the move). In memory it stays.
        conn.execute_batch("PRAGMA temp_store = MEMORY;")?;
        let (messages, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("gloss-sqlite-queue".to_string())
            .spawn(move || writer_loop(conn, receiver, turn))
            .map_err(|err| Error::Database(format!("cannot start the SQLite writer: {err}")))?;
        Ok(SqliteWriter {
            messages: Mutex::new(Some(messages)),
        })
    }

    /// Runs `op` in the next batch and returns its result once the batch is
    /// committed. `op` may run more than once; only its last run counts.
    pub(crate) async fn write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job = Box::new(Call {
            op,
            outcome: None,
            answer,
        });
        let sender = self
            .messages
            .lock()
            .map_err(|_| Error::Database("the SQLite writer is broken".to_string()))?
            .clone()
            .ok_or_else(|| Error::Database("the database is closed".to_string()))?;
        sender
            .send(Message::Job(job))
            .map_err(|_| Error::Database("the SQLite writer has stopped".to_string()))?;
        answered.await.map_err(|_| {
            Error::Database("the write was not committed: the SQLite writer stopped".to_string())
        })?
    }

    /// Finishes the waiting calls and closes the connection.
    pub(crate) async fn close(&self) {
        let sender = self
            .messages
            .lock()
            .ok()
            .and_then(|mut sender| sender.take());
        if let Some(sender) = sender {
            let (done, closed) = oneshot::channel();
            if sender.send(Message::Close(done)).is_ok() {
                let _ = closed.await;
            }
        }
    }
}

/// How often the queue writer tries again for the write lock that another
/// connection holds.
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_micros(200);

/// How long the queue writer waits for the write lock in all.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The queue writer's busy handler: SQLite calls it while another
/// connection holds the write lock, with the number of tries so far, and
/// tries again when it returns true. It sleeps [`LOCK_RETRY`] each time, for
/// up to [`LOCK_WAIT`]. SQLite's own handler (`busy_timeout`) sleeps 1, 2,
/// 5, 10, … up to 100 ms between tries, so a batch of queue calls went on
/// waiting up to that long after a short write of the text index had
/// ended.
fn wait_for_lock(tries: i32) -> bool {
    let waited = LOCK_RETRY.saturating_mul(u32::try_from(tries).unwrap_or(u32::MAX));
    if waited >= LOCK_WAIT {
        return false;
    }
    std::thread::sleep(LOCK_RETRY);
    true
}

fn writer_loop(conn: rusqlite::Connection, receiver: mpsc::Receiver<Message>, turn: WriteTurn) {
    let mut close = None;
    while close.is_none() {
        let Ok(first) = receiver.recv() else {
            break;
        };
        let mut batch = Vec::new();
        for message in std::iter::once(first).chain(std::iter::from_fn(|| receiver.try_recv().ok()))
        {
            match message {
                Message::Job(job) => batch.push(job),
                Message::Close(done) => {
                    close = Some(done);
                    break;
                }
            }
            if batch.len() >= MAX_BATCH {
                break;
            }
        }
        if batch.is_empty() {
            continue;
        }
        match turn.take_blocking() {
            Some(_turn) => run_batch(&conn, batch),
            None => {
                for job in batch {
                    job.finish(Err(Error::Database(
                        "the write was not committed: another write held the database for 10 s"
                            .to_string(),
                    )));
                }
            }
        }
    }
    drop(conn);
    if let Some(done) = close {
        let _ = done.send(());
    }
}

/// Runs a batch of calls in one transaction and answers them after its
/// commit. Calls almost never fail (refusals are answers, not errors), so
/// the batch runs without savepoints, which would copy every page a call
/// touches; when one does fail, the transaction is rolled back and every
/// call of the batch runs again in a transaction of its own.
fn run_batch(conn: &rusqlite::Connection, mut batch: Vec<Box<dyn Job>>) {
    let together = (|| {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        if !batch.iter_mut().all(|job| job.run(conn)) {
            return Ok(false);
        }
        crate::person_index::keep_in_batch(conn);
        conn.execute_batch("COMMIT")?;
        Ok(true)
    })();
    match together {
        Ok(true) => {
            for job in batch {
                job.finish(Ok(()));
            }
        }
        Ok(false) => {
            let _ = conn.execute_batch("ROLLBACK");
            for mut job in batch {
                let alone = (|| {
                    conn.execute_batch("BEGIN IMMEDIATE")?;
                    if job.run(conn) {
                        conn.execute_batch("COMMIT")
                    } else {
                        conn.execute_batch("ROLLBACK")
                    }
                    .map_err(Error::from)
                })();
                if alone.is_err() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                job.finish(alone);
            }
        }
        Err(err) => {
            let err: Error = err;
            tracing::error!(error = %err, "a batch of queue writes failed");
            let _ = conn.execute_batch("ROLLBACK");
            for job in batch {
                job.finish(Err(Error::Database(format!(
                    "the write was not committed: {err}"
                ))));
            }
        }
    }
}

/// SQLite only: connections for the short reads every API call makes
/// (who is calling, which project, which role), run on the calling thread.
/// Each is an indexed lookup of a few microseconds; handing it to a sqlx
/// worker thread and back cost far more than the read itself.
#[derive(Debug)]
pub(crate) struct SqliteQuickReads {
    path: std::path::PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

/// How much of the database file a quick-read connection maps into memory.
const QUICK_READ_MMAP: &str = "PRAGMA mmap_size = 1073741824;";

/// Connections kept for reuse; more are opened under load and closed after.
const IDLE_QUICK_READERS: usize = 16;

impl SqliteQuickReads {
    pub(crate) fn new(path: &std::path::Path) -> SqliteQuickReads {
        SqliteQuickReads {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<QueueRow>> {
        self.with_connection(|conn| SqliteQueue(conn).rows(sql, params))?
    }

    /// Like [`SqliteQuickReads::rows`], for a read whose cost is not known
    /// ahead: `None` when it ran for more than about `budget` and was cut
    /// short. SQLite looks at the clock between the steps of its program
    /// (every few rows), so a step that reads much alone may overrun.
    pub(crate) fn rows_within(
        &self,
        sql: &str,
        params: &[Param<'_>],
        budget: std::time::Duration,
    ) -> Result<Option<Vec<QueueRow>>> {
        self.with_connection(|conn| {
            let deadline = std::time::Instant::now() + budget;
            let cut_short = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = cut_short.clone();
            conn.progress_handler(
                16,
                Some(move || {
                    let late = std::time::Instant::now() > deadline;
                    if late {
                        flag.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    late
                }),
            );
            let rows = SqliteQueue(conn).rows(sql, params);
            conn.progress_handler(0, None::<fn() -> bool>);
            match rows {
                Err(_) if cut_short.load(std::sync::atomic::Ordering::Relaxed) => Ok(None),
                rows => rows.map(Some),
            }
        })?
    }

    /// Runs `read` on an idle connection (a new one when none is idle),
    /// which is then kept for the next read.
    fn with_connection<T>(&self, read: impl FnOnce(&rusqlite::Connection) -> T) -> Result<T> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = rusqlite::Connection::open_with_flags(
                    &self.path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                // Readers in WAL mode never wait for writers; a short busy
                // timeout covers the rare moments SQLite needs a lock (the
                // WAL being reset), without holding a thread for long.
                conn.busy_timeout(std::time::Duration::from_millis(500))?;
                plan_independent_of_bindings(&conn)?;
                // A reader's cache is dropped whenever the queue writer has
                // committed (hundreds of times a second under load), so most
                // reads fetch their pages again: from a memory map of the
                // database file they cost no system call each. (Pages still
                // in the write-ahead log are read from it as before.)
                conn.execute_batch(QUICK_READ_MMAP)?;
                conn.set_prepared_statement_cache_capacity(32);
                conn
            }
        };
        let result = read(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_QUICK_READERS {
                idle.push(conn);
            }
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_writer_waits_for_the_lock_in_short_steps_for_ten_seconds() {
        let started = std::time::Instant::now();
        assert!(wait_for_lock(0));
        assert!(wait_for_lock(49_999));
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
        assert!(!wait_for_lock(50_000));
        assert!(!wait_for_lock(i32::MAX));
    }

    /// A database file in a folder of its own under the temporary folder,
    /// made with `schema`: the folder (to remove after) and the file.
    fn test_database(name: &str, schema: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("gloss-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.db"));
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(schema)
            .unwrap();
        (dir, path)
    }

    #[test]
    fn a_read_within_a_budget_is_cut_short_when_it_runs_over() {
        let (dir, path) = test_database(
            "budget",
            "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);",
        );
        let reads = SqliteQuickReads::new(&path);
        let budget = std::time::Duration::from_millis(5);
        // About a second of counting, cut short soon after the budget.
        let long = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
                    WHERE i < 100000000) SELECT COUNT(*) AS c FROM n";
        let started = std::time::Instant::now();
        assert!(reads.rows_within(long, &[], budget).unwrap().is_none());
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        // A read within it answers, and so does the same connection after.
        let rows = reads
            .rows_within("SELECT x FROM t WHERE x = $1", &[Param::Int(7)], budget)
            .unwrap()
            .unwrap();
        assert_eq!(rows[0].int("x").unwrap(), 7);
        assert_eq!(reads.rows("SELECT x FROM t", &[]).unwrap().len(), 1);
        // An error that is not the budget's is an error.
        assert!(reads
            .rows_within("SELECT nope FROM t", &[], budget)
            .is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Another connection holds the write lock for 80 ms: a queue write
    /// waits for it and commits soon after it is let go. (SQLite's own
    /// handler, sleeping 1, 2, 5, … 25 ms between tries, went on sleeping
    /// until about 103 ms.)
    #[test]
    fn a_queue_write_goes_on_soon_after_another_writer_lets_go() {
        let (dir, path) = test_database(
            "lock",
            "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);",
        );
        let other = rusqlite::Connection::open(&path).unwrap();
        let writer = SqliteWriter::open(&path, SqliteSync::Full, WriteTurn::default()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let hold = std::time::Duration::from_millis(80);
        let mut other = Some(other);
        let mut afters = Vec::new();
        for _ in 0..3 {
            let holder = other.take().unwrap();
            holder.execute_batch("BEGIN IMMEDIATE").unwrap();
            let locked = std::time::Instant::now();
            let holding = std::thread::spawn(move || {
                std::thread::sleep(hold);
                holder.execute_batch("COMMIT").unwrap();
                (holder, std::time::Instant::now())
            });
            runtime
                .block_on(writer.write(|conn| {
                    conn.execute("INSERT INTO t (x) VALUES (1)", [])?;
                    Ok(())
                }))
                .unwrap();
            let written = std::time::Instant::now();
            let (holder, committed) = holding.join().unwrap();
            other = Some(holder);
            assert!(written - locked >= hold, "{:?}", written - locked);
            // Counted from the other's commit, not from its lock: on a busy
            // machine its thread may wake late from its sleep (CI once saw
            // 101 ms from the lock). SQLite's own handler would try again
            // 23 ms after an 80 ms lock is let go.
            afters.push(written.saturating_duration_since(committed));
        }
        // The quickest of three: a test thread descheduled once on a busy
        // machine (a full test run here once saw 16.7 ms) does not fail it,
        // while SQLite's handler is late by 22-25 ms every time.
        let quickest = afters.iter().min().unwrap();
        assert!(
            *quickest < std::time::Duration::from_millis(15),
            "{afters:?}"
        );
        runtime.block_on(writer.close());
        std::fs::remove_dir_all(&dir).ok();
    }

    /// The temporary files SQLite has open in this process (it names them
    /// `etilqs_…` and deletes them right after opening them).
    #[cfg(target_os = "linux")]
    fn open_temporary_files() -> usize {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
            .filter(|target| target.to_string_lossy().contains("etilqs_"))
            .count()
    }

    /// A statement that changes rows on many pages keeps a copy of each
    /// page first (its statement journal): in the queue writer's batches it
    /// stays in memory. With SQLite's default it was moved to a temporary
    /// file past 64 kB, which lived until the batch's commit.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_queue_writer_keeps_statement_journals_in_memory() {
        let (dir, path) = test_database(
            "journal",
            "PRAGMA journal_mode = WAL; \
                 CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, filler BLOB); \
                 CREATE TABLE counts (k INTEGER PRIMARY KEY, changes INTEGER) WITHOUT ROWID; \
                 INSERT INTO counts VALUES (1, 0); \
                 CREATE TRIGGER t_counted AFTER UPDATE ON t BEGIN \
                 UPDATE counts SET changes = changes + 1 WHERE k = 1; END; \
                 WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < 400) \
                 INSERT INTO t (n, filler) SELECT 0, zeroblob(1000) FROM i;",
        );
        let writer = SqliteWriter::open(&path, SqliteSync::Full, WriteTurn::default()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (changed, temporary_files) = runtime
            .block_on(writer.write(|conn| {
                // 400 rows of 1 kB (about 100 pages) with a constraint and a
                // trigger, as the task updates have: some 400 kB of journal.
                let changed = conn.execute("UPDATE t SET n = n + 1", [])?;
                Ok((changed, open_temporary_files()))
            }))
            .unwrap();
        assert_eq!(changed, 400);
        assert_eq!(temporary_files, 0);
        runtime.block_on(writer.close());
        std::fs::remove_dir_all(&dir).ok();
    }

    /// How many times a statement on `tasks` with a bound project id is
    /// prepared again over three runs, with another project's id each time.
    fn times_prepared_again(conn: &rusqlite::Connection) -> i32 {
        let queue = SqliteQueue(conn);
        for project in [1, 2, 1] {
            queue
                .rows(
                    "SELECT id FROM tasks WHERE project_id = $1 ORDER BY id LIMIT 1",
                    &[Param::Int(project)],
                )
                .unwrap();
        }
        let statement = conn
            .prepare_cached("SELECT id FROM tasks WHERE project_id = $1 ORDER BY id LIMIT 1")
            .unwrap();
        statement.get_status(rusqlite::StatementStatus::RePrepare)
    }

    #[test]
    fn columns_are_found_by_name_in_any_order() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let rows = SqliteQueue(&conn)
            .rows("SELECT 1 AS a, 2 AS b, 3 AS c, 'x' AS d", &[])
            .unwrap();
        let row = &rows[0];
        for (name, value) in [("a", 1), ("b", 2), ("c", 3), ("b", 2), ("c", 3), ("a", 1)] {
            assert_eq!(row.int(name).unwrap(), value, "{name}");
        }
        assert_eq!(row.text("d").unwrap(), "x");
        assert_eq!(row.clone().int("c").unwrap(), 3);
        let missing = row.int("e").unwrap_err().to_string();
        assert!(missing.contains("no column `e`"), "{missing}");
        assert_eq!(row.int("a").unwrap(), 1);
    }

    #[test]
    fn text_cells_keep_valid_text_and_replace_invalid_bytes() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let rows = SqliteQueue(&conn)
            .rows(
                "SELECT 'naïve € 🐈' AS valid, CAST(X'66FF6F' AS TEXT) AS invalid",
                &[],
            )
            .unwrap();
        assert_eq!(rows[0].text("valid").unwrap(), "naïve € 🐈");
        assert_eq!(rows[0].text("invalid").unwrap(), "f\u{FFFD}o");
    }

    #[test]
    fn bound_values_do_not_make_statements_prepare_again() {
        let open = || {
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            // A partial index whose condition a bound project id decides,
            // as the data manager's per-project indexes are.
            conn.execute_batch(
                "CREATE TABLE tasks (id INTEGER PRIMARY KEY, project_id INTEGER, data TEXT); \
                 INSERT INTO tasks (project_id, data) VALUES (1, 'a'), (2, 'b'); \
                 CREATE INDEX tasks_data_p1 ON tasks (project_id, data, id) WHERE project_id = 1;",
            )
            .unwrap();
            conn
        };
        // Gloss's build turns the guarantee on for every connection
        // (sqlx's too), `.cargo/config.toml`.
        assert!(open()
            .db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG)
            .unwrap());
        // SQLite's own default: prepared again on every new binding.
        let unguarded = open();
        unguarded
            .set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                false,
            )
            .unwrap();
        assert!(times_prepared_again(&unguarded) >= 2);
        // The queue's connections: prepared once.
        let guarded = open();
        plan_independent_of_bindings(&guarded).unwrap();
        assert_eq!(times_prepared_again(&guarded), 0);
    }
}
