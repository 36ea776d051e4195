//! SQLite only: the write-ahead log is copied back into the database file
//! by a thread of its own instead of by whichever connection commits.
//!
//! By default SQLite checkpoints on the commit that takes the log past 1,000
//! pages, on the committing thread: it copies those pages into the database
//! file and, with `synchronous = FULL`, waits for the disk twice. On the
//! queue's writer thread every call of the next batch waited for that, a few
//! times a second under load. Every connection of a store therefore runs
//! with `wal_autocheckpoint = 0`, and this thread checkpoints in `PASSIVE`
//! mode, which never waits for readers or writers and holds nothing they
//! wait on for more than a moment, so the queue goes on meanwhile; if another checkpoint holds the checkpoint lock, this
//! one gives up after 100 ms and tries again next round. SQLite starts the
//! log again from its beginning once a checkpoint has copied all of it and
//! no reader still needs it, as it does after its own checkpoints.

use crate::{Error, Result};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

/// How often the log is checked for pages to copy. The log grows by at most
/// what the store commits in this time (a few MB under the queue's load).
const INTERVAL: Duration = Duration::from_millis(100);

/// The pragma every connection of a store that writes runs: no checkpoint on commit.
pub(crate) const NO_AUTOCHECKPOINT: &str = "PRAGMA wal_autocheckpoint = 0;";

/// The checkpointer thread; it stops when this is closed or dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Mutex<Option<mpsc::Sender<()>>>,
}

impl Checkpointer {
    /// Opens a connection of its own to the database file and starts the thread.
    pub(crate) fn start(path: &std::path::Path) -> Result<Checkpointer> {
        let conn = rusqlite::Connection::open(path)?;
        // Another checkpoint (a backup, another process) holds the lock at
        // times: this one then waits a little and otherwise tries next time.
        conn.busy_timeout(Duration::from_millis(100))?;
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("gloss-sqlite-checkpoint".to_string())
            .spawn(move || {
                // Both a stop and a dropped sender end the loop.
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    if let Err(err) = checkpoint(&conn) {
                        tracing::warn!(error = %err, "a checkpoint of the SQLite log failed");
                    }
                }
            })
            .map_err(|err| {
                Error::Database(format!("cannot start the SQLite checkpointer: {err}"))
            })?;
        Ok(Checkpointer {
            stop: Mutex::new(Some(stop)),
        })
    }

    /// Stops the thread (closing the store checkpoints the rest).
    pub(crate) fn close(&self) {
        if let Ok(mut stop) = self.stop.lock() {
            if let Some(stop) = stop.take() {
                let _ = stop.send(());
            }
        }
    }
}

/// Copies what the log holds into the database file, as far as no reader
/// needs the older pages. A busy lock is not an error: the next round tries again.
fn checkpoint(conn: &rusqlite::Connection) -> Result<()> {
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        Ok(()) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(err, _))
            if err.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreOptions};
    use sqlx::Row;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commits_leave_checkpoints_to_the_checkpointer_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gloss.db");
        let store = Store::open(
            &format!("sqlite://{}", path.display()),
            &StoreOptions::default(),
        )
        .await
        .unwrap();
        store.migrate().await.unwrap();
        let autocheckpoint: i64 = sqlx::query("PRAGMA wal_autocheckpoint")
            .fetch_one(&store.writers)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(autocheckpoint, 0, "a committing connection checkpoints");
        // About 4 MB committed to the log (1,000 pages of 4 KiB would have
        // set off SQLite's own checkpoint on this connection).
        let before = std::fs::metadata(&path).unwrap().len();
        sqlx::query("CREATE TABLE filler (text TEXT)")
            .execute(&store.writers)
            .await
            .unwrap();
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) \
             INSERT INTO filler SELECT printf('%.1000d', i) FROM n",
        )
        .execute(&store.writers)
        .await
        .unwrap();
        // Within a few of its rounds the thread copies the log into the file.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let now = std::fs::metadata(&path).unwrap().len();
            if now >= before + 4_000_000 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the database file stayed at {now} bytes (was {before})"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        store.close().await;
    }
}
