-- Pay rates per project: never edited (a change is a new rate with its
-- date); a rate no pay entry was priced with may be deleted.
CREATE TABLE pay_rates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    -- `annotate` or `review`.
    work TEXT NOT NULL,
    -- NULL: every tier; a rate for the person's tier beats it.
    tier TEXT,
    -- `per_task` or `hourly` (on active time).
    mode TEXT NOT NULL,
    -- An exact decimal, as text.
    rate TEXT NOT NULL,
    -- ISO 4217.
    currency TEXT NOT NULL,
    -- Piece rates: a JSON object of label → decimal text.
    pieces TEXT NOT NULL DEFAULT '{}',
    -- 1: a rejection takes back the work's pay.
    rejected_unpaid INTEGER NOT NULL DEFAULT 1,
    -- Percent added when gold accuracy is at or above the threshold.
    bonus_percent TEXT,
    bonus_gold_threshold REAL,
    -- YYYY-MM-DD: the rate prices work done on this date or later.
    effective_from TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX pay_rates_by_project ON pay_rates (project_id, work, effective_from);

-- The pay ledger: one row per piece of work (a submit, an annotator's
-- update, a review verdict) and per reversal (a rejection of unpaid-when-
-- rejected work). Insert-only; no foreign keys, so history outlives
-- deletions of tasks, annotations and projects.
CREATE TABLE pay_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    task_id INTEGER,
    annotation_id INTEGER,
    review_id INTEGER,
    -- `submit`, `update`, `review` or `reversal`.
    kind TEXT NOT NULL,
    active_ms INTEGER NOT NULL DEFAULT 0,
    -- 1 for a submit.
    tasks INTEGER NOT NULL DEFAULT 0,
    -- 1 for the rejection of this person's work.
    rejected INTEGER NOT NULL DEFAULT 0,
    rate_id INTEGER,
    -- Exact decimals as text: the price (bonus included) and its bonus part.
    amount TEXT NOT NULL,
    bonus TEXT NOT NULL DEFAULT '0',
    -- NULL when no rate priced it.
    currency TEXT,
    -- The work's date in the person's time zone, and the Monday of the
    -- week it is paid in (a later open week when its own was approved).
    work_date TEXT NOT NULL,
    period_start TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX pay_entries_by_user ON pay_entries (user_id, work_date);
CREATE INDEX pay_entries_by_project ON pay_entries (project_id, work_date);
CREATE INDEX pay_entries_by_annotation ON pay_entries (annotation_id);

-- Approved periods (a person's week in a project), with their totals.
CREATE TABLE pay_periods (
    project_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    period_start TEXT NOT NULL,
    active_ms INTEGER NOT NULL,
    tasks INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    -- A JSON object of currency → exact decimal text.
    totals TEXT NOT NULL,
    approved_by INTEGER,
    approved_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id, period_start)
);

CREATE TRIGGER pay_entries_no_update BEFORE UPDATE ON pay_entries
BEGIN
    SELECT RAISE(ABORT, 'pay entries are never changed');
END;
CREATE TRIGGER pay_entries_no_delete BEFORE DELETE ON pay_entries
BEGIN
    SELECT RAISE(ABORT, 'pay entries are never deleted');
END;
CREATE TRIGGER pay_entries_open_period BEFORE INSERT ON pay_entries
WHEN EXISTS (SELECT 1 FROM pay_periods p WHERE p.project_id = NEW.project_id
    AND p.user_id = NEW.user_id AND p.period_start = NEW.period_start)
BEGIN
    SELECT RAISE(ABORT, 'this pay period is approved');
END;
CREATE TRIGGER pay_periods_no_update BEFORE UPDATE ON pay_periods
BEGIN
    SELECT RAISE(ABORT, 'approved pay periods are never changed');
END;
CREATE TRIGGER pay_periods_no_delete BEFORE DELETE ON pay_periods
BEGIN
    SELECT RAISE(ABORT, 'approved pay periods are never deleted');
END;
