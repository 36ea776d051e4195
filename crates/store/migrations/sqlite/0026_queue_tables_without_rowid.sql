-- The queue's small tables stored by their primary key (SQLite). A table
-- with a rowid keeps its primary key in an index of its own, so every
-- insert and delete changed one b-tree more than it needs: every `next`
-- writes a reservation and changes a status count, every submit deletes
-- the reservation and adds the task's labels, and each batch of queue
-- calls wrote a log page more for each of these tables. WITHOUT ROWID
-- keeps the rows in their primary key's order, in one b-tree. Nothing
-- reads these tables' rowids. PostgreSQL's tables have no rowid.

-- The status trigger names task_counts: renaming a table checks every
-- trigger of the schema, so it is made again at the end.
DROP TRIGGER tasks_count_status;

CREATE TABLE task_counts_by_key (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    shard INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (project_id, status, shard)
) WITHOUT ROWID;
INSERT INTO task_counts_by_key (project_id, status, shard, n)
    SELECT project_id, status, shard, n FROM task_counts;
DROP TABLE task_counts;
ALTER TABLE task_counts_by_key RENAME TO task_counts;

CREATE TABLE reservations_by_key (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
INSERT INTO reservations_by_key (project_id, user_id, task_id, expires_at, created_at)
    SELECT project_id, user_id, task_id, expires_at, created_at FROM reservations;
DROP TABLE reservations;
ALTER TABLE reservations_by_key RENAME TO reservations;
CREATE INDEX reservations_by_task ON reservations (task_id);
CREATE INDEX reservations_by_expiry ON reservations (project_id, expires_at);

CREATE TABLE skips_by_key (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    skipped_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, user_id)
) WITHOUT ROWID;
INSERT INTO skips_by_key (task_id, user_id, project_id, skipped_at)
    SELECT task_id, user_id, project_id, skipped_at FROM skips;
DROP TABLE skips;
ALTER TABLE skips_by_key RENAME TO skips;
CREATE INDEX skips_by_user ON skips (project_id, user_id, skipped_at);

CREATE TABLE assignments_by_key (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    assigned_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    assigned_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, user_id)
) WITHOUT ROWID;
INSERT INTO assignments_by_key (task_id, user_id, project_id, assigned_by, assigned_at)
    SELECT task_id, user_id, project_id, assigned_by, assigned_at FROM assignments;
DROP TABLE assignments;
ALTER TABLE assignments_by_key RENAME TO assignments;
CREATE INDEX assignments_by_user ON assignments (project_id, user_id, assigned_at);

CREATE TABLE task_labels_by_key (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, label, task_id)
) WITHOUT ROWID;
INSERT INTO task_labels_by_key (project_id, label, task_id)
    SELECT project_id, label, task_id FROM task_labels;
DROP TABLE task_labels;
ALTER TABLE task_labels_by_key RENAME TO task_labels;
CREATE INDEX task_labels_by_task ON task_labels (task_id);

CREATE TRIGGER tasks_count_status AFTER UPDATE OF status ON tasks
WHEN OLD.status <> NEW.status
BEGIN
    UPDATE task_counts SET n = n - 1
        WHERE project_id = OLD.project_id AND status = OLD.status AND shard = OLD.id % 16;
    INSERT INTO task_counts (project_id, status, shard, n) VALUES (NEW.project_id, NEW.status, NEW.id % 16, 1)
        ON CONFLICT (project_id, status, shard) DO UPDATE SET n = n + 1;
END;
