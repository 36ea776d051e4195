-- SQLite only: the annotations by person move from an index to a table
-- filled off the submit's path (see store/src/person_index.rs). PostgreSQL
-- logs a changed index page in full only once per checkpoint, and keeps
-- annotations_by_annotator_time; this migration keeps the numbering in step.
SELECT 1;
