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
-- (SQLite also moves the pay ledger's index by person off the submit's
-- path; PostgreSQL logs a changed index page in full only once per
-- checkpoint, and keeps pay_entries_by_user.)
