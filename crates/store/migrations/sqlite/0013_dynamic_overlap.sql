-- Dynamic overlap: a task whose annotators disagree (agreement below the
-- project's threshold) asks for one more annotator, up to a maximum.
-- 0: off.
ALTER TABLE projects ADD COLUMN dynamic_overlap_max INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN dynamic_agreement_below REAL NOT NULL DEFAULT 0.7;
-- Annotators a task needs beyond the project's overlap.
ALTER TABLE tasks ADD COLUMN extra_overlap INTEGER NOT NULL DEFAULT 0;

-- The quality report keeps each project's answers between requests and
-- reads again only the tasks whose annotations changed since (see
-- `annotation_watermark` and `tasks_changed_since`).
CREATE INDEX annotations_by_change ON annotations (project_id, updated_at);
CREATE INDEX annotations_ground_truth ON annotations (project_id) WHERE ground_truth = 1;
