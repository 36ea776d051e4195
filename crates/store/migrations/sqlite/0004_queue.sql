-- The annotator queue: project settings, task priority, reservations, skips,
-- manual assignments, and the superseded versions of annotations. Queue state
-- lives here, not in a server's memory, so several instances can share it.
ALTER TABLE projects ADD COLUMN overlap INTEGER NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN queue_order TEXT NOT NULL DEFAULT 'sequential'
    CHECK (queue_order IN ('sequential', 'random', 'priority'));
ALTER TABLE projects ADD COLUMN reservation_seconds INTEGER NOT NULL DEFAULT 600;

ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
-- Annotators holding the task, each counted once: an unexpired reservation,
-- a manual assignment, or both. A task is open to the pool while
-- annotation_count + held < the project's overlap.
ALTER TABLE tasks ADD COLUMN held INTEGER NOT NULL DEFAULT 0;

-- Where a task stands in its project's queue order: its id (sequential),
-- its priority then id (priority), or a shuffle of its id (random); see
-- `queue_key` in gloss-store. One index over the tasks that are not
-- completed serves every order; its key is rewritten when the order changes.
ALTER TABLE tasks ADD COLUMN queue_key INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET queue_key = id;
CREATE INDEX tasks_queue ON tasks (project_id, queue_key) WHERE status <> 'completed';
-- Exports filter by status while reading in id order, and counts per
-- status are kept in task_counts: this index only slowed imports down.
DROP INDEX tasks_by_status;

-- One reservation per annotator per project: until it expires, `next` hands
-- the same task back.
CREATE TABLE reservations (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX reservations_by_task ON reservations (task_id);
CREATE INDEX reservations_by_expiry ON reservations (project_id, expires_at);

CREATE TABLE skips (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    skipped_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, user_id)
);
CREATE INDEX skips_by_user ON skips (project_id, user_id, skipped_at);

CREATE TABLE assignments (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    assigned_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    assigned_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, user_id)
);
CREATE INDEX assignments_by_user ON assignments (project_id, user_id, assigned_at);

-- Every version of an annotation but its current one (which is the row in
-- `annotations`). Rows are written once and never changed.
CREATE TABLE annotation_versions (
    annotation_id INTEGER NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    result TEXT NOT NULL,
    lead_time REAL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (annotation_id, version)
);

-- Finding a caller's own annotation or draft on a task.
CREATE INDEX annotations_by_task_annotator ON annotations (task_id, completed_by);
CREATE INDEX drafts_by_task_user ON drafts (task_id, user_id);

-- Who wrote an annotation's current version (its annotator, or a reviewer
-- who corrected it).
ALTER TABLE annotations ADD COLUMN updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL;

-- Tasks per status, kept as they change so that progress is cheap to read
-- at any size (counting a million index entries takes ~70 ms). Each project
-- has its counts spread over 16 shards (by task id), so that concurrent
-- queue calls on PostgreSQL rarely wait for the same counter row. Imports
-- add their counts when they commit; status changes count themselves here.
CREATE TABLE task_counts (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    shard INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (project_id, status, shard)
);
INSERT INTO task_counts (project_id, status, shard, n)
    SELECT project_id, status, id % 16, COUNT(*) FROM tasks GROUP BY project_id, status, id % 16;
CREATE TRIGGER tasks_count_status AFTER UPDATE OF status ON tasks
WHEN OLD.status <> NEW.status
BEGIN
    UPDATE task_counts SET n = n - 1
        WHERE project_id = OLD.project_id AND status = OLD.status AND shard = OLD.id % 16;
    INSERT INTO task_counts (project_id, status, shard, n) VALUES (NEW.project_id, NEW.status, NEW.id % 16, 1)
        ON CONFLICT (project_id, status, shard) DO UPDATE SET n = n + 1;
END;
