-- At most this many tasks a day (UTC) per person in a project; 0: no limit.
ALTER TABLE projects ADD COLUMN daily_limit INTEGER NOT NULL DEFAULT 0;
-- A person's submits in a project since a time (the daily limit, the work list).
CREATE INDEX annotations_by_annotator_time ON annotations (project_id, completed_by, created_at);
