-- Fewer indexes to update on each submit, the annotator queue's hot path.
-- An index whose key starts with the annotator keeps each annotator's
-- newest entries on a leaf page of their own, so with 64 annotators at
-- work every submit rewrites one more page per such index, and each commit
-- writes all the pages it changed to the write-ahead log.
--
-- One index by annotator now serves what two served: a person's submits
-- since a time (the daily limit, the work list, productivity) and "the
-- tasks with an annotation by X" (the data manager's filter, the gold
-- position), which reads task_id from the index without the rows.
DROP INDEX annotations_by_annotator_task;
DROP INDEX annotations_by_annotator_time;
CREATE INDEX annotations_by_annotator_time ON annotations (project_id, completed_by, created_at, task_id);
-- The annotations of a task: annotations_by_task_annotator (task_id,
-- completed_by) finds them as well; a task has a few.
DROP INDEX annotations_by_task;

-- The pay ledger by person, kept off the submit's path (SQLite). Its index
-- by person (pay_entries_by_user) cost each submit a page of its own for
-- the same reason. This table holds the same keys and is filled in batches
-- (gloss-store's pay.rs): each batch rewrites a person's last page once,
-- not once per submit. Entries after `indexed_to` are found by id, so
-- reads never wait for it. Entries are never changed or deleted (see
-- migration 19's triggers), so a row here never goes stale.
CREATE TABLE pay_person_index (
    user_id INTEGER NOT NULL,
    work_date TEXT NOT NULL,
    entry_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, work_date, entry_id)
) WITHOUT ROWID;
CREATE TABLE pay_person_index_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_to INTEGER NOT NULL
);
INSERT INTO pay_person_index (user_id, work_date, entry_id)
    SELECT user_id, work_date, id FROM pay_entries;
INSERT INTO pay_person_index_progress (id, indexed_to)
    SELECT 1, COALESCE(MAX(id), 0) FROM pay_entries;
DROP INDEX pay_entries_by_user;
