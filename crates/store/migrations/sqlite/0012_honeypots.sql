-- Gold and honeypots: a share of each annotator's queue is tasks with a
-- ground-truth annotation, scored against it; an annotator whose accuracy
-- falls below a threshold is paused in the project until a manager resumes
-- them.
ALTER TABLE projects ADD COLUMN honeypot_percent INTEGER NOT NULL DEFAULT 0;
-- The accuracy (0 to 1) below which an annotator is paused; NULL: never.
ALTER TABLE projects ADD COLUMN gold_pause_below REAL;
-- How many gold answers (since the last resume) before the rule applies.
ALTER TABLE projects ADD COLUMN gold_pause_after INTEGER NOT NULL DEFAULT 5;

ALTER TABLE project_members ADD COLUMN paused_at INTEGER;
ALTER TABLE project_members ADD COLUMN paused_reason TEXT;
-- Gold answers before this time do not count toward a pause.
ALTER TABLE project_members ADD COLUMN resumed_at INTEGER;

-- Which gold task was put in whose queue (each at most once).
CREATE TABLE honeypots_served (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    served_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, user_id)
);
CREATE INDEX honeypots_by_user ON honeypots_served (project_id, user_id);

-- Each answer to a task with ground truth, scored per control against it
-- (and, for classes, under the gold's label), written once.
CREATE TABLE gold_scores (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    annotation_id INTEGER NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    control TEXT NOT NULL,
    label TEXT,
    score REAL NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX gold_scores_by_user ON gold_scores (project_id, user_id, created_at);
