-- The annotations by person, kept off the submit's path (SQLite), as
-- migration 24 did for the pay ledger: annotations_by_annotator_time, the
-- last index whose key starts with the annotator, cost each submit a log
-- page of its own (each annotator's newest entries sit on a page of their
-- own). This table holds the same keys and is filled in steps
-- (gloss-store's person_index.rs): each step rewrites a person's last page
-- once, not once per submit. Annotations after `indexed_to` are found by
-- id (ids are never reused: AUTOINCREMENT), so reads never wait for it.
CREATE TABLE annotation_person_index (
    project_id INTEGER NOT NULL,
    completed_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    annotation_id INTEGER NOT NULL,
    task_id INTEGER NOT NULL,
    PRIMARY KEY (project_id, completed_by, created_at, annotation_id)
) WITHOUT ROWID;
CREATE TABLE annotation_person_index_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_to INTEGER NOT NULL
);
INSERT INTO annotation_person_index (project_id, completed_by, created_at, annotation_id, task_id)
    SELECT project_id, completed_by, created_at, id, task_id FROM annotations
    WHERE completed_by IS NOT NULL;
INSERT INTO annotation_person_index_progress (id, indexed_to)
    SELECT 1, COALESCE(MAX(id), 0) FROM annotations;
-- Unlike pay entries, annotations go: with their task or project (foreign
-- keys' cascades fire these triggers too). No statement changes an
-- annotation's keys, but a deleted account would (ON DELETE SET NULL), so
-- a change of them is followed as well. Submits and edits touch none of
-- these columns, so neither trigger runs on the queue's path.
CREATE TRIGGER annotation_person_index_forget AFTER DELETE ON annotations
WHEN old.completed_by IS NOT NULL
    AND old.id <= (SELECT indexed_to FROM annotation_person_index_progress)
BEGIN
    DELETE FROM annotation_person_index
    WHERE project_id = old.project_id AND completed_by = old.completed_by
        AND created_at = old.created_at AND annotation_id = old.id;
END;
CREATE TRIGGER annotation_person_index_move
AFTER UPDATE OF project_id, completed_by, created_at, task_id ON annotations
WHEN old.id <= (SELECT indexed_to FROM annotation_person_index_progress)
BEGIN
    DELETE FROM annotation_person_index
    WHERE project_id = old.project_id AND completed_by = old.completed_by
        AND created_at = old.created_at AND annotation_id = old.id;
    INSERT INTO annotation_person_index (project_id, completed_by, created_at, annotation_id, task_id)
    SELECT new.project_id, new.completed_by, new.created_at, new.id, new.task_id
    WHERE new.completed_by IS NOT NULL;
END;
DROP INDEX annotations_by_annotator_time;
