-- A person's standing: `active`, `paused` (signs in, is given no work) or
-- `removed` (cannot sign in; their work and records stay).
ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';

-- An invitation may preset the new person's tier and skills.
ALTER TABLE invites ADD COLUMN tier TEXT;
ALTER TABLE invites ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';

-- Active time in milliseconds, measured by the labeling workspace (focused
-- tab, recent input) and capped by the server: per version, its sum per
-- annotation, and per review verdict. NULL: not measured (imports, scripts).
ALTER TABLE annotation_versions ADD COLUMN active_ms INTEGER;
ALTER TABLE annotations ADD COLUMN active_ms INTEGER;
ALTER TABLE reviews ADD COLUMN active_ms INTEGER;

-- Seconds without input after which the workspace stops counting time.
ALTER TABLE projects ADD COLUMN idle_seconds INTEGER NOT NULL DEFAULT 60;
-- Anti-fraud: a submit with less active time than this is flagged (0: off).
ALTER TABLE projects ADD COLUMN min_task_seconds INTEGER NOT NULL DEFAULT 0;
-- Anti-fraud: this many identical answers in a row are flagged (0: off).
ALTER TABLE projects ADD COLUMN same_answer_streak INTEGER NOT NULL DEFAULT 5;
