//! Tables kept by SQLite in place of indexes whose key starts with a person
//! (migrations 24 and 25): the pay ledger's entries by person and the
//! annotations by annotator.
//!
//! Such an index keeps each person's newest entries on a leaf page of their
//! own, so with 64 annotators at work every submit changed one more page of
//! it, and each commit writes every page it changed to the write-ahead log.
//! These tables hold the same keys and are filled in steps, off the
//! submit's path: by the queue writer within a batch of calls once
//! [`PERSON_INDEX_LAG`] rows have gathered (`queue_sql::run_batch`), and by
//! a sweep of the server for rows written while the queue is idle
//! ([`Store::index_people`]). A step rewrites each person's last page once,
//! however many rows it adds. The rows after a table's high-water mark are
//! found by id, so reads never wait for a step: [`person_entry_ids`] and
//! [`person_annotations`] give both parts.
//!
//! PostgreSQL keeps the indexes: it logs a changed page in full only once
//! per checkpoint.

use crate::{Backend, Result, Store};

/// How many rows may gather after a table's high-water mark before the
/// queue writer adds them within a batch of calls. Rows after the mark are
/// read by id range, a few hundred at most under load.
const PERSON_INDEX_LAG: i64 = 256;

/// The most rows one step adds, so that a step after a long idle time or
/// an import does not hold the write lock for long.
const PERSON_INDEX_STEP: i64 = 4096;

/// One table kept in place of an index by person: the SQL of its steps.
struct PersonIndex {
    /// What it holds, for logs.
    what: &'static str,
    /// Its high-water mark (`indexed_to`) and the source's last id (`last`).
    tail: &'static str,
    /// Adds the source's rows with ids in `$1 + 1 ..= $2`.
    add: &'static str,
    /// Moves the mark to `$1`.
    mark: &'static str,
}

/// The pay ledger by person (migration 24). Entries are never changed or
/// deleted, so a row never goes stale.
const PAY_ENTRIES_BY_PERSON: PersonIndex = PersonIndex {
    what: "pay entries",
    tail: "SELECT indexed_to, COALESCE((SELECT MAX(id) FROM pay_entries), 0) AS last \
           FROM pay_person_index_progress",
    add: "INSERT INTO pay_person_index (user_id, work_date, entry_id) \
          SELECT user_id, work_date, id FROM pay_entries WHERE id > $1 AND id <= $2",
    mark: "UPDATE pay_person_index_progress SET indexed_to = $1",
};

/// The annotations by annotator (migration 25). Triggers take deleted
/// annotations out (with their task or project).
const ANNOTATIONS_BY_PERSON: PersonIndex = PersonIndex {
    what: "annotations",
    tail: "SELECT indexed_to, COALESCE((SELECT MAX(id) FROM annotations), 0) AS last \
           FROM annotation_person_index_progress",
    add: "INSERT INTO annotation_person_index \
          (project_id, completed_by, created_at, annotation_id, task_id) \
          SELECT project_id, completed_by, created_at, id, task_id FROM annotations \
          WHERE id > $1 AND id <= $2 AND completed_by IS NOT NULL",
    mark: "UPDATE annotation_person_index_progress SET indexed_to = $1",
};

/// Every table kept in place of an index by person.
const PERSON_INDEXES: [PersonIndex; 2] = [PAY_ENTRIES_BY_PERSON, ANNOTATIONS_BY_PERSON];

/// Where the next step ends, when at least `lag` rows (and at least one)
/// are after the mark.
fn step_end(indexed_to: i64, last: i64, lag: i64) -> Option<i64> {
    (last - indexed_to >= lag.max(1)).then(|| last.min(indexed_to + PERSON_INDEX_STEP))
}

/// SQLite: the ids of one person's pay entries; `person` is the parameter
/// that binds the person's id (`$1`).
pub(crate) fn person_entry_ids(person: &str) -> String {
    format!(
        "SELECT entry_id FROM pay_person_index WHERE user_id = {person} \
         UNION ALL SELECT id FROM pay_entries WHERE user_id = {person} \
         AND id > (SELECT indexed_to FROM pay_person_index_progress)"
    )
}

/// One person's annotations in a project, as rows of `id`, `task_id` and
/// `created_at`, for a `FROM (…)` or an `IN (SELECT … FROM (…))`. `project`
/// and `person` are the parameters that bind them; `more` is added to the
/// conditions of each part as it is (say `AND created_at >= $3`: the
/// columns' names are the same in both parts).
pub(crate) fn person_annotations(
    backend: Backend,
    project: &str,
    person: &str,
    more: &str,
) -> String {
    match backend {
        // `+` keeps the planner from finding the rows after the mark through
        // another index by project: they are a few hundred, by id.
        Backend::Sqlite => format!(
            "SELECT annotation_id AS id, task_id, created_at FROM annotation_person_index \
             WHERE project_id = {project} AND completed_by = {person} {more} \
             UNION ALL SELECT id, task_id, created_at FROM annotations \
             WHERE id > (SELECT indexed_to FROM annotation_person_index_progress) \
             AND +project_id = {project} AND +completed_by = {person} {more}"
        ),
        Backend::Postgres => format!(
            "SELECT id, task_id, created_at FROM annotations \
             WHERE project_id = {project} AND completed_by = {person} {more}"
        ),
    }
}

/// One step of `index`, in a savepoint of the caller's transaction, when
/// at least `lag` rows (and at least one) are after its mark: how many ids
/// it went past and whether it stopped short of the last row. A failed
/// step is undone and leaves the rest of the transaction alone.
fn step(
    conn: &rusqlite::Connection,
    index: &PersonIndex,
    lag: i64,
) -> rusqlite::Result<Option<(u64, bool)>> {
    let (indexed_to, last): (i64, i64) = conn
        .prepare_cached(index.tail)?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let Some(to) = step_end(indexed_to, last, lag) else {
        return Ok(None);
    };
    conn.execute_batch("SAVEPOINT person_index")?;
    let added = conn
        .prepare_cached(index.add)
        .and_then(|mut add| add.execute([indexed_to, to]))
        .and_then(|_| conn.prepare_cached(index.mark)?.execute([to]));
    if let Err(err) = added {
        conn.execute_batch("ROLLBACK TO person_index; RELEASE person_index")?;
        return Err(err);
    }
    conn.execute_batch("RELEASE person_index")?;
    Ok(Some((
        u64::try_from(to - indexed_to).unwrap_or(0),
        to < last,
    )))
}

/// The queue writer's part, at the end of each batch of calls: a step of
/// each table that has `PERSON_INDEX_LAG` rows after its mark, within the
/// batch's transaction. A step costs each person's last page once, where
/// an index would cost it on every submit. A failed step is logged and the
/// batch's calls still commit; the rows stay readable by id until a later
/// step adds them.
pub(crate) fn keep_in_batch(conn: &rusqlite::Connection) {
    for index in &PERSON_INDEXES {
        if let Err(err) = step(conn, index, PERSON_INDEX_LAG) {
            tracing::warn!(error = %err, "adding {} to their table by person failed", index.what);
        }
    }
}

impl Store {
    /// SQLite: adds one step of rows written since the last to each table
    /// kept in place of an index by person (see the module's text), as a
    /// call of the queue writer, which takes the same steps within its
    /// batches; returns how many ids the steps went past (0 when the tables
    /// have them all, and always on PostgreSQL, which keeps indexes) and
    /// whether a step stopped short of the last row (more are left).
    pub async fn index_people(&self) -> Result<(u64, bool)> {
        let Some(writer) = &self.sqlite_writer else {
            return Ok((0, false));
        };
        writer
            .write(|conn| {
                let (mut passed, mut more) = (0, false);
                for index in &PERSON_INDEXES {
                    if let Some((went_past, short)) = step(conn, index, 1)? {
                        passed += went_past;
                        more |= short;
                    }
                }
                Ok((passed, more))
            })
            .await
    }

    /// SQLite: steps through the rows not yet in the tables by person until
    /// a step takes all there are (after an import, steps of
    /// `PERSON_INDEX_STEP`, so that others get their turn to write in
    /// between); returns how many steps (calls of [`Store::index_people`])
    /// it took. It does not go on until a step finds nothing: under load
    /// new rows keep coming (the queue writer keeps them few), and it would
    /// commit again and again beside the queue for as long as it is busy.
    pub async fn catch_up_person_indexes(&self) -> Result<u32> {
        let mut steps = 0;
        loop {
            let (_, more) = self.index_people().await?;
            steps += 1;
            if !more {
                return Ok(steps);
            }
            tokio::task::yield_now().await;
        }
    }
}
