-- What a project is for: `labeling` (the default), `training` (tasks with
-- ground truth, feedback after each submit) or `qualification` (a test of
-- gold tasks whose passing grants a certification).
ALTER TABLE projects ADD COLUMN kind TEXT NOT NULL DEFAULT 'labeling';
-- Certifications whoever labels the project must hold, unexpired (a JSON list).
ALTER TABLE projects ADD COLUMN required_certifications TEXT NOT NULL DEFAULT '[]';
-- A qualification test's settings: the mean score against gold to pass
-- (0 to 1), attempts per person (0: unlimited), minutes between a failed
-- attempt and the next, the certification a pass grants, for how many days
-- (NULL: no expiry), and a skill a pass adds to the person's skills.
ALTER TABLE projects ADD COLUMN pass_score REAL NOT NULL DEFAULT 0.8;
ALTER TABLE projects ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN cooldown_minutes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN grants_certification TEXT;
ALTER TABLE projects ADD COLUMN certification_valid_days INTEGER;
ALTER TABLE projects ADD COLUMN grants_skill TEXT;

-- One person's attempt at a qualification test: its tasks (a JSON list of
-- ids, in the order they are shown), and once every task is answered its
-- mean score and whether it passed.
CREATE TABLE qualification_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    task_ids TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    score REAL,
    passed INTEGER
);
CREATE INDEX qualification_attempts_by_user ON qualification_attempts (project_id, user_id, id);
-- At most one attempt in progress per person and test.
CREATE UNIQUE INDEX qualification_attempts_open ON qualification_attempts (project_id, user_id)
    WHERE finished_at IS NULL;

-- An attempt's answer to one of its tasks, scored against the task's ground truth.
CREATE TABLE qualification_answers (
    attempt_id INTEGER NOT NULL REFERENCES qualification_attempts (id) ON DELETE CASCADE,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    result TEXT NOT NULL,
    score REAL NOT NULL,
    answered_at INTEGER NOT NULL,
    PRIMARY KEY (attempt_id, task_id)
);

-- Certifications held: granted by passing a qualification test, each with
-- its date and optional expiry; a later pass of the same name replaces it.
CREATE TABLE certifications (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    expires_at INTEGER,
    project_id INTEGER REFERENCES projects (id) ON DELETE SET NULL,
    attempt_id INTEGER REFERENCES qualification_attempts (id) ON DELETE SET NULL,
    score REAL,
    PRIMARY KEY (user_id, name)
);
