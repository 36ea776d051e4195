//! Group commit for SQLite: queue calls from many annotators share one
//! transaction and one flush to disk.
//!
//! SQLite has one writer, and with `synchronous = FULL` every commit waits
//! for the disk (about 2 ms here), which would cap the queue at a few hundred
//! calls a second. Instead, calls queue up for the writer connection while
//! it is busy; the writer takes every waiting call, runs each inside its own
//! savepoint (so a failing call is undone alone), commits once, and only
//! then answers each caller. Nothing is acknowledged before its commit, and
//! a lone call is not delayed: a batch is simply whatever waited meanwhile.

use crate::{Error, Result};
use futures::future::BoxFuture;
use sqlx::{AnyConnection, AnyPool, Connection};
use tokio::sync::{mpsc, oneshot};

pub(crate) type Conn = AnyConnection;

/// Called with the commit's outcome, to answer the caller.
type Finish = Box<dyn FnOnce(Result<()>) + Send>;
/// One caller's work: runs inside the batch's transaction and says whether
/// it succeeded (else its savepoint is rolled back).
type Job = Box<dyn for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, (bool, Finish)> + Send>;

/// More than this many calls wait for the next batch: it bounds how long a
/// transaction holds the write lock.
const MAX_BATCH: usize = 256;

#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
}

impl GroupCommit {
    /// Starts the batching task on the current Tokio runtime.
    pub(crate) fn start(writers: AnyPool) -> GroupCommit {
        let (jobs, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(writers, receiver));
        GroupCommit { jobs }
    }

    /// Runs `op` in the next batch and returns its result once the batch is
    /// committed.
    pub(crate) async fn write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let outcome = op(conn).await;
                let succeeded = outcome.is_ok();
                let finish: Finish = Box::new(move |committed: Result<()>| {
                    let _ = answer.send(committed.and(outcome));
                });
                (succeeded, finish)
            })
        });
        self.jobs
            .send(job)
            .map_err(|_| Error::Database("the database writer has stopped".to_string()))?;
        answered.await.map_err(|_| {
            Error::Database("the write was not committed: the database writer stopped".to_string())
        })?
    }
}

async fn run(writers: AnyPool, mut receiver: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut finishes = Vec::with_capacity(batch.len());
        let committed = run_batch(&writers, batch, &mut finishes).await;
        for finish in finishes {
            finish(match &committed {
                Ok(()) => Ok(()),
                Err(err) => Err(Error::Database(format!(
                    "the write was not committed: {err}"
                ))),
            });
        }
    }
}

/// Runs every job of the batch in one transaction. Jobs that never ran
/// (after a failure of the transaction itself) are dropped, which answers
/// their callers with an error. (Boxed: the spawned task must be `Send` for
/// every lifetime, which the compiler proves only at a boxed future.)
fn run_batch<'a>(
    writers: &'a AnyPool,
    batch: Vec<Job>,
    finishes: &'a mut Vec<Finish>,
) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let mut conn = writers.acquire().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        if batch.len() == 1 {
            // A lone job needs no savepoint: if it fails, the transaction is rolled back.
            for job in batch {
                let (succeeded, finish) = job(&mut tx).await;
                finishes.push(finish);
                if !succeeded {
                    tx.rollback().await?;
                    return Ok(());
                }
            }
        } else {
            for job in batch {
                execute(&mut tx, "SAVEPOINT queue_call").await?;
                let (succeeded, finish) = job(&mut tx).await;
                finishes.push(finish);
                if !succeeded {
                    execute(&mut tx, "ROLLBACK TO queue_call").await?;
                }
                execute(&mut tx, "RELEASE queue_call").await?;
            }
        }
        tx.commit().await?;
        Ok(())
    })
}

fn execute<'c>(conn: &'c mut Conn, sql: &'static str) -> BoxFuture<'c, Result<()>> {
    Box::pin(async move {
        sqlx::query(sql).execute(conn).await?;
        Ok(())
    })
}
