-- Labeling guidelines per project, in Markdown; every version is kept.
CREATE TABLE guidelines (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    text TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, version)
);

-- The version of a project's guidelines each person acknowledged last;
-- labeling waits until it is the current one.
CREATE TABLE guideline_acks (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    acknowledged_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);

-- The current version (0: no guidelines), read with the project by `next`.
ALTER TABLE projects ADD COLUMN guidelines_version BIGINT NOT NULL DEFAULT 0;
