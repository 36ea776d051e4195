-- The data manager: the project's tasks as a sortable, filterable table,
-- saved views of it, and bulk actions.

-- The highest score of a task's predictions (NULL without scored
-- predictions), kept by imports, so that the table sorts and filters by it
-- through an index.
ALTER TABLE tasks ADD COLUMN prediction_score REAL;
UPDATE tasks SET prediction_score = (SELECT MAX(p.score) FROM predictions p WHERE p.task_id = tasks.id)
    WHERE prediction_count > 0;

-- Keyset pages in each sort order the table offers on columns (sorting by a
-- data field uses an index created on demand, see gloss-store's datamanager.rs).
CREATE INDEX tasks_by_updated ON tasks (project_id, updated_at, id);
CREATE INDEX tasks_by_annotation_count ON tasks (project_id, annotation_count, id);
CREATE INDEX tasks_by_prediction_score ON tasks (project_id, prediction_score, id);

-- "Tasks with an annotation by X": the same index serves the queue's
-- per-annotator lookups that annotations_by_annotator served.
CREATE INDEX annotations_by_annotator_task ON annotations (project_id, completed_by, task_id);
DROP INDEX annotations_by_annotator;

-- The labels and choices present in a task's annotations, kept as
-- annotations are imported, submitted, changed and removed, so that "tasks
-- with label L" is an index range instead of parsing every result.
CREATE TABLE task_labels (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, label, task_id)
);
CREATE INDEX task_labels_by_task ON task_labels (task_id);
INSERT OR IGNORE INTO task_labels (project_id, label, task_id)
    SELECT a.project_id, l.value, a.task_id
    FROM annotations a, json_each(a.result) item, json_each(item.value, '$.value') v, json_each(v.value) l
    WHERE json_valid(a.result) AND json_type(item.value, '$.value') = 'object'
      AND (v.key = 'choices' OR v.key LIKE '%labels') AND v.type = 'array' AND l.type = 'text';

-- Saved views of the table: a filter, a sort and columns (JSON), for their
-- owner or shared with the whole project.
CREATE TABLE views (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    shared INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX views_by_project ON views (project_id, id);
