-- How a task's consensus weighs its annotators: `majority` (equal votes),
-- `weighted` (by each annotator's reliability in the project) or
-- `dawid-skene` (classes by Dawid–Skene, the rest weighted).
ALTER TABLE projects ADD COLUMN consensus_method TEXT NOT NULL DEFAULT 'majority';
