-- Media objects, tasks, annotations, predictions, drafts and import jobs.
-- JSON documents (task data, results) are stored as text; ids of tasks and of
-- their children are never reused (AUTOINCREMENT), so an exported id keeps
-- meaning the same task.
CREATE TABLE media (
    key TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE project_media (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    media_key TEXT NOT NULL REFERENCES media (key),
    file_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, media_key)
);
CREATE INDEX project_media_by_key ON project_media (media_key);

CREATE TABLE imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed')),
    rows_read INTEGER NOT NULL DEFAULT 0,
    tasks_created INTEGER NOT NULL DEFAULT 0,
    annotations_created INTEGER NOT NULL DEFAULT 0,
    predictions_created INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    rejected TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX imports_by_project ON imports (project_id, id);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    meta TEXT,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'completed')),
    annotation_count INTEGER NOT NULL DEFAULT 0,
    prediction_count INTEGER NOT NULL DEFAULT 0,
    import_id INTEGER REFERENCES imports (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX tasks_by_project ON tasks (project_id, id);
CREATE INDEX tasks_by_status ON tasks (project_id, status, id);

CREATE TABLE annotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    completed_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    result TEXT NOT NULL,
    lead_time REAL,
    was_cancelled INTEGER NOT NULL DEFAULT 0,
    ground_truth INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    extra TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX annotations_by_task ON annotations (task_id, id);
CREATE INDEX annotations_by_annotator ON annotations (project_id, completed_by);

CREATE TABLE predictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    model_version TEXT NOT NULL DEFAULT '',
    score REAL,
    result TEXT NOT NULL,
    extra TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX predictions_by_task ON predictions (task_id, id);

CREATE TABLE drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    result TEXT NOT NULL,
    lead_time REAL,
    extra TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX drafts_by_task ON drafts (task_id, id);
