-- SQLite only: the trigram index of task data for `contains` filters (see
-- store/src/text_index.rs). PostgreSQL reads a `contains` filter from each
-- task's JSON, as before; this migration keeps the numbering in step.
SELECT 1;
