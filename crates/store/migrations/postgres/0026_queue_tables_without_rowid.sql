-- SQLite only: the queue's small tables are stored by their primary key
-- (WITHOUT ROWID). PostgreSQL's tables have no rowid; this migration keeps
-- the numbering in step.
SELECT 1;
