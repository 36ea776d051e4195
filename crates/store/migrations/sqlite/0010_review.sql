-- Review: a project's review settings, each annotation's place in review,
-- every verdict given, and which reviewer holds which annotation.
--
-- An annotation is reviewed in up to `review_layers` layers; `reviews_passed`
-- counts the layers that accepted it. `review_percent` of each annotator's
-- work is sampled for review (see `gloss_store::reviews`).
ALTER TABLE projects ADD COLUMN review_layers INTEGER NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN review_percent INTEGER NOT NULL DEFAULT 100;

-- 'pending' (awaiting its next layer), 'accepted' (every layer passed) or
-- 'rejected' (back with its annotator for rework).
ALTER TABLE annotations ADD COLUMN review_state TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE annotations ADD COLUMN reviews_passed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX annotations_to_review ON annotations (project_id, id) WHERE review_state = 'pending';
CREATE INDEX annotations_rejected ON annotations (project_id, completed_by) WHERE review_state = 'rejected';

-- Every verdict, written once: accept, reject (with the comment the
-- annotator sees) or fix (the reviewer's correction, a new version, accepted).
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    annotation_id INTEGER NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    reviewer_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    layer INTEGER NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('accept', 'reject', 'fix')),
    comment TEXT NOT NULL DEFAULT '',
    annotation_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX reviews_by_annotation ON reviews (annotation_id, id);
CREATE INDEX reviews_by_project ON reviews (project_id, created_at);

-- The annotation a reviewer is looking at: until it expires, nobody else
-- gets it from the review queue.
CREATE TABLE review_holds (
    annotation_id INTEGER PRIMARY KEY REFERENCES annotations (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    reviewer_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX review_holds_by_reviewer ON review_holds (project_id, reviewer_id);
