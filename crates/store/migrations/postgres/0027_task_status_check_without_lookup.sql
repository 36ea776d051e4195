-- SQLite only: the CHECK on `tasks.status` is rewritten without an IN
-- list (see the SQLite migration). PostgreSQL evaluates the IN list
-- without building anything; this migration keeps the numbering in step.
SELECT 1;
