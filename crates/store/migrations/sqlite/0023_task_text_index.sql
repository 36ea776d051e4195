-- The trigrams of every task's data, for the data manager's `contains`
-- filters (see store/src/text_index.rs): without them a search that few
-- tasks match reads every task's JSON (0.2-0.5 s at a million tasks).
-- Contentless (the text is the stored `tasks.data`) and without positions
-- (`detail=none`: a third of the size, and a third of the time to build):
-- a search finds the tasks holding each of its trigrams, a superset that
-- the filter itself then checks.
--
-- Imports do not write it: a background worker indexes tasks in id order
-- in small transactions and records how far it got. Task ids only grow
-- (AUTOINCREMENT) and task data never changes, so every task up to
-- `indexed_to` is in it and the ones after are read as they are.
-- Derived data: snapshots leave it out, and a restore builds it again.
CREATE VIRTUAL TABLE tasks_text USING fts5(
    data, content = '', contentless_delete = 1, tokenize = 'trigram', detail = 'none'
);
-- Its terms (trigrams), which a search of one or two characters lists by
-- prefix: every occurrence of the text starts a trigram, since the stored
-- JSON goes on after any value (it ends with `}`).
CREATE VIRTUAL TABLE tasks_text_terms USING fts5vocab(tasks_text, 'row');
CREATE TABLE tasks_text_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_to INTEGER NOT NULL
);
INSERT INTO tasks_text_progress (id, indexed_to) VALUES (1, 0);
CREATE TRIGGER tasks_text_forget AFTER DELETE ON tasks
WHEN old.id <= (SELECT indexed_to FROM tasks_text_progress)
BEGIN
    DELETE FROM tasks_text WHERE rowid = old.id;
END;
