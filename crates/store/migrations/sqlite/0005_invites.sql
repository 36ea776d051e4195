-- Invitation links: a manager invites someone with a role; there is no open
-- sign-up. The link's secret is kept only as its SHA-256, like sessions.
CREATE TABLE invites (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    used_at INTEGER
);
CREATE INDEX invites_by_project ON invites (project_id, id);
