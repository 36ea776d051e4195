//! The data manager: a project's tasks as a filtered, sorted table read in
//! keyset pages, bulk actions on a selection or on a whole filtered set, the
//! labels present in each task's annotations, and saved views.
//!
//! Sorting. Every page is read in the order `(sort key, id)` from an index:
//! `(project_id, id)`, `(project_id, created_at, id)`,
//! `(project_id, updated_at, id)`, `(project_id, annotation_count, id)`,
//! `(project_id, prediction_score, id)`, and for a data field a partial
//! expression index on `(project_id, <the field's value>, id) WHERE
//! project_id = <the project>` on SQLite (named
//! `tasks_data_<hash of the key>_p<project>`; on PostgreSQL one index per
//! key, `tasks_data_<hash of the key>`, for every project), made ahead
//! for the keys a project's tasks have (`prepare_data_indexes`, after an
//! import and when the server starts) or else the first time the field is
//! sorted by or a filter seeks in it (`ensure_sought_data_indexes`), and
//! dropped with the project. A page after a cursor
//! `(v, i)` is read as two index seeks, the rows tied with the cursor
//! (`key = v AND id > i`) and then the rows after it (`key > v`), so any
//! page costs the same as the first (SQLite does not seek to the row value
//! `(key, id) > (v, i)`: it seeks on the key alone, or for an expression
//! not at all, and then reads every earlier entry). Sort keys that can be
//! NULL (the prediction score, a data field) are read as one more range,
//! the NULLs (ordered by id) before the values when ascending and after
//! them when descending, left out when the filter keeps no NULL key.
//!
//! Filtering. Filters are conditions on the rows met while walking the
//! index of the sort order: a filter that most tasks pass costs nothing, one
//! that few pass makes the walk longer (bounded by the project's size).
//! Labels are looked up in `task_labels` (one index probe per task); the
//! annotator in `annotations (task_id, completed_by)`; data fields are read
//! from the task's JSON. When a filter names a small set of candidates in
//! an index (a label's tasks, an annotator's, a prediction score, update or
//! creation time range, a data field equal to a value once the field has an
//! index, the tasks holding a `contains` text's trigrams in the text index
//! of `text_index`), those are read and sorted instead of walking (see
//! `Access`).
//! SQLite has no statistics to choose by, so on SQLite the store chooses
//! and says so (`INDEXED BY`); PostgreSQL plans with its own statistics.

use crate::person_index::person_annotations;
use crate::queue::{queue_key_with, QueueProject};
use crate::queue_sql::{Param, QueueRow, QueueSql};
use crate::tasks::{task_row, Columns, TaskRow, TASK_COLUMNS};
use crate::text_index::{postgres_stored_text_search, searched_forms};
use crate::{Backend, Error, Result, Store};
use gloss_types::{ProjectId, TaskId, TaskStatus, UserId};
use std::time::Instant;

/// How a data field is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOp {
    /// Equal to a string, number, boolean or null.
    Eq,
    /// A string containing the value, ignoring ASCII case.
    Contains,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A condition on one key of the task data.
#[derive(Debug, Clone, PartialEq)]
pub struct DataCondition {
    /// Letters, digits and `_` only (see [`valid_data_key`]).
    pub key: String,
    pub op: DataOp,
    pub value: serde_json::Value,
}

/// Which tasks of a project the table shows; every condition must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskQuery {
    /// Any of these statuses; empty means any.
    pub statuses: Vec<TaskStatus>,
    /// Tasks with an annotation by this user.
    pub annotator: Option<UserId>,
    /// Tasks with an annotation using this label or choice.
    pub label: Option<String>,
    pub data: Vec<DataCondition>,
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
    /// Milliseconds, inclusive bounds.
    pub created_after: Option<i64>,
    pub created_before: Option<i64>,
    pub updated_after: Option<i64>,
    pub updated_before: Option<i64>,
}

impl DataOp {
    /// The SQL comparison of an order (`Eq` and `Contains` are written apart).
    fn sql(self) -> &'static str {
        match self {
            DataOp::Eq => "=",
            DataOp::Gt => ">",
            DataOp::Gte => ">=",
            DataOp::Lt => "<",
            DataOp::Lte => "<=",
            DataOp::Contains => "LIKE",
        }
    }
}

impl TaskQuery {
    /// Conditions other than status, which `task_counts` cannot answer.
    fn needs_scan_to_count(&self) -> bool {
        self.annotator.is_some()
            || self.label.is_some()
            || !self.data.is_empty()
            || self.score_min.is_some()
            || self.score_max.is_some()
            || self.created_after.is_some()
            || self.created_before.is_some()
            || self.updated_after.is_some()
            || self.updated_before.is_some()
    }
}

/// What the table is sorted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    Id,
    Created,
    Updated,
    AnnotationCount,
    PredictionScore,
    /// A key of the task data (see [`valid_data_key`]).
    Data(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSort {
    pub key: SortKey,
    pub descending: bool,
}

/// A value of a sort key, as the database returned it.
#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

/// Where a page starts: after the row with this sort value and id.
#[derive(Debug, Clone, PartialEq)]
pub struct TableCursor {
    pub value: SortValue,
    pub id: i64,
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct TableRow {
    pub task: TaskRow,
    pub prediction_score: Option<f64>,
    /// Usernames of the task's annotators, in the order they annotated.
    pub annotators: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TablePage {
    pub rows: Vec<TableRow>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<TableCursor>,
}

/// What a bulk action applies to.
#[derive(Debug, Clone)]
pub enum BulkTarget {
    /// These tasks (ids of other projects are passed over).
    Tasks(Vec<TaskId>),
    /// Every task the query matches, but those in `except`.
    Filter {
        query: TaskQuery,
        except: Vec<TaskId>,
    },
}

#[derive(Debug, Clone)]
pub enum BulkAction {
    /// Removes the tasks and everything attached to them.
    Delete,
    /// Removes annotations, drafts, reservations, skips and assignments,
    /// and returns the tasks to `new`.
    Reset,
    /// Assigns the tasks to each of these users (see `assign_tasks`).
    Assign {
        users: Vec<UserId>,
        by: Option<UserId>,
    },
    SetPriority(i64),
}

/// A saved view as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewRow {
    pub id: i64,
    pub project_id: ProjectId,
    pub owner_id: Option<UserId>,
    pub owner: Option<String>,
    pub name: String,
    pub shared: bool,
    /// A JSON object.
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Tasks handled per statement by bulk actions: the ids are written into
/// the statement, and a whole filtered set is walked in batches this big
/// (inside one transaction), never held in memory at once.
const BULK_BATCH: i64 = 500;

/// Candidate sets this small are always read rather than walking an index
/// (see `Store::page_access`).
const MIN_CANDIDATES: i64 = 1_000;

/// Candidate sets by label or annotator up to this size are read when the
/// table is sorted by ascending annotation count (see `Store::page_access`).
const ANNOTATIONS_LAST_CANDIDATES: i64 = 50_000;

/// Tasks read from each end of a project for the keys to index ahead (see
/// `Store::prepare_data_indexes`).
const DATA_INDEX_SAMPLE: i64 = 100;

/// The longest text a key may hold to be indexed ahead: an index holds a
/// copy of every value.
pub(crate) const DATA_INDEX_MAX_TEXT: usize = 200;

/// The most keys of one project indexed ahead: every index costs each
/// insert into the project.
const DATA_INDEX_KEYS: usize = 12;

/// How long a filter waits before it asks again for a data field's index
/// whose build failed (see `Store::ensure_sought_data_indexes`).
const DATA_INDEX_RETRY: std::time::Duration = std::time::Duration::from_secs(600);

/// The index of the creation order (migration 21; before it, the index was
/// made the first time a table was sorted by creation time).
const CREATED_INDEX: &str = "tasks_by_created";

/// Data keys the table may filter and sort by: they are written into SQL
/// (JSON paths and index names), so only plain names are accepted.
pub fn valid_data_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The labels and choices used in a result array (JSON): the strings of
/// every `value.choices` and `value.*labels` array. Used to keep
/// `task_labels`, and by its backfill in migration 6 (in SQL).
pub(crate) fn result_labels(result: &str) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(result)
    else {
        return labels;
    };
    for item in &items {
        let Some(value) = item.get("value").and_then(|value| value.as_object()) else {
            continue;
        };
        for (key, list) in value {
            if key != "choices" && !key.ends_with("labels") {
                continue;
            }
            for label in list.as_array().into_iter().flatten() {
                if let Some(label) = label.as_str() {
                    if !labels.iter().any(|known| known == label) {
                        labels.push(label.to_string());
                    }
                }
            }
        }
    }
    labels
}

/// An owned value to bind.
#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Null,
    Float(f64),
    Text(String),
}

/// SQL text with its bound values (`$1`, `$2`, …).
#[derive(Debug, Clone, Default)]
struct Sql {
    binds: Vec<Bind>,
}

impl Sql {
    /// Binds a value and returns its placeholder.
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn params(&self) -> Vec<Param<'_>> {
        self.binds
            .iter()
            .map(|bind| match bind {
                Bind::Int(value) => Param::Int(*value),
                Bind::Null => Param::OptionalInt(None),
                Bind::Float(value) => Param::Float(Some(*value)),
                Bind::Text(value) => Param::Text(value),
            })
            .collect()
    }
}

/// The value of a data key of `t.data`, in the form its index uses.
fn data_expr(backend: Backend, key: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_extract(t.data, '$.\"{key}\"')"),
        Backend::Postgres => format!("(CAST(t.data AS jsonb) -> '{key}')"),
    }
}

/// A JSON value bound for comparison with [`data_expr`].
fn data_bind(backend: Backend, sql: &mut Sql, value: &serde_json::Value) -> String {
    match backend {
        Backend::Sqlite => match value {
            serde_json::Value::Bool(flag) => sql.bind(Bind::Int(i64::from(*flag))),
            serde_json::Value::Number(number) => match number.as_i64() {
                Some(int) => sql.bind(Bind::Int(int)),
                None => sql.bind(Bind::Float(number.as_f64().unwrap_or(0.0))),
            },
            serde_json::Value::String(text) => sql.bind(Bind::Text(text.clone())),
            other => sql.bind(Bind::Text(other.to_string())),
        },
        Backend::Postgres => {
            let placeholder = sql.bind(Bind::Text(value.to_string()));
            format!("CAST({placeholder} AS jsonb)")
        }
    }
}

/// `%text%` for LIKE, with `\` escaping the pattern characters.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The conditions of `query` on `tasks t`, starting with its project.
/// `stored_first`: on PostgreSQL, the `contains` texts to search for in the
/// stored text first (see `Store::postgres_stored_first`).
fn filter_sql(
    backend: Backend,
    project: ProjectId,
    query: &TaskQuery,
    stored_first: &[String],
    sql: &mut Sql,
) -> String {
    // On SQLite the id is written in place (an integer): the planner uses a
    // partial index (a project's data field) only for a query that names
    // its project's id itself, not a parameter.
    let project_id = match backend {
        Backend::Sqlite => project.0.to_string(),
        Backend::Postgres => sql.bind(Bind::Int(project.0)),
    };
    let mut conditions = vec![format!("t.project_id = {project_id}")];
    if !query.statuses.is_empty() {
        let names: Vec<String> = query
            .statuses
            .iter()
            .map(|status| format!("'{}'", status.as_str()))
            .collect();
        conditions.push(format!("t.status IN ({})", names.join(", ")));
    }
    if let Some(user) = query.annotator {
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.completed_by = {})",
            sql.bind(Bind::Int(user.0))
        ));
    }
    if let Some(label) = &query.label {
        let project = sql.bind(Bind::Int(project.0));
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM task_labels l WHERE l.project_id = {project} AND l.label = {} \
             AND l.task_id = t.id)",
            sql.bind(Bind::Text(label.clone()))
        ));
    }
    // Keys that a query bounds on both sides with numbers (see `compare`).
    let bounded_by = |ops: &[DataOp], key: &str| {
        query.data.iter().any(|condition| {
            condition.key == key && ops.contains(&condition.op) && condition.value.is_number()
        })
    };
    let closed_range = |key: &str| {
        bounded_by(&[DataOp::Gt, DataOp::Gte], key) && bounded_by(&[DataOp::Lt, DataOp::Lte], key)
    };
    for condition in &query.data {
        let expr = data_expr(backend, &condition.key);
        let compare = |sql: &mut Sql, op: DataOp| {
            let bound = data_bind(backend, sql, &condition.value);
            let op_sql = op.sql();
            match backend {
                Backend::Sqlite => format!(
                    "(json_type(t.data, '$.\"{}\"') IN ('integer', 'real') AND {expr} {op_sql} {bound})",
                    condition.key
                ),
                // Only numbers are compared with a number. `jsonb` sorts
                // `[]` < null < strings < numbers < booleans < other
                // arrays < objects, so a range closed by two numbers holds
                // numbers alone and needs no check of the type. Without
                // one the planner estimates the range from the index's
                // statistics: with `jsonb_typeof(…) = 'number'` it guessed
                // 0.5% of it, and for a city with a width range read and
                // sorted the whole range instead of walking the city's
                // tasks by id (143 → 10 ms at a million tasks). A bound on
                // one side keeps the check: said as a second bound (below
                // `false`, or above the types below numbers) the estimate
                // was 3 times the truth for a rare range, and the planner
                // walked the tasks by id in search of it (6 → 68 ms).
                Backend::Postgres if closed_range(&condition.key) => {
                    format!("{expr} {op_sql} {bound}")
                }
                Backend::Postgres => {
                    format!("(jsonb_typeof({expr}) = 'number' AND {expr} {op_sql} {bound})")
                }
            }
        };
        conditions.push(match condition.op {
            DataOp::Eq if condition.value.is_null() => match backend {
                Backend::Sqlite => format!("{expr} IS NULL"),
                Backend::Postgres => format!("({expr} IS NULL OR {expr} = 'null'::jsonb)"),
            },
            DataOp::Eq => format!("{expr} = {}", data_bind(backend, sql, &condition.value)),
            DataOp::Contains => {
                let text = contains_text(condition);
                let pattern = sql.bind(Bind::Text(like_pattern(&text)));
                // The text searched is a string's value, and the JSON text
                // of any other value as stored (a number as written, `true`,
                // a nested value), the same on both databases: SQLite's
                // `json_extract` would give a number in its own form
                // (`1.0e+20` for `1e20`, 15 digits of 3.141592653589793)
                // and `true` as 1, and PostgreSQL's `jsonb` a number as it
                // reads it and a nested value with spaces after `,` and `:`.
                let key = &condition.key;
                let field = match backend {
                    Backend::Sqlite => format!(
                        "(CASE json_type(t.data, '$.\"{key}\"') WHEN 'text' THEN {expr} \
                         WHEN 'null' THEN NULL ELSE t.data -> '$.\"{key}\"' END) \
                         LIKE {pattern} ESCAPE '\\'"
                    ),
                    Backend::Postgres => {
                        format!("(CAST(t.data AS json) ->> '{key}') ILIKE {pattern} ESCAPE '\\'")
                    }
                };
                // A text that is in a field's value is also in the stored
                // JSON, in one of its forms (see `searched_forms`), and
                // reading the stored text is quicker than parsing the JSON
                // (on PostgreSQL 2–3 times: a rare text in a million tasks,
                // 1.5 → 0.6 s): it is searched first. On PostgreSQL a rare
                // text is a condition of its own, which the stored text's
                // trigram index serves; any other is inside a CASE, so
                // that the planner sees one condition. (Given two, it takes
                // them for independent, expects few matches, and reads and
                // sorts all of them: 10 → 400–500 ms for a word in 12% of
                // a million tasks.)
                // The text as it is has its pattern bound already.
                let forms: Vec<String> = searched_forms(&text)
                    .iter()
                    .map(|form| {
                        if form == &text {
                            pattern.clone()
                        } else {
                            sql.bind(Bind::Text(like_pattern(form)))
                        }
                    })
                    .collect();
                let in_stored = |like: &str| {
                    forms
                        .iter()
                        .map(|form| format!("t.data {like} {form} ESCAPE '\\'"))
                        .collect::<Vec<_>>()
                        .join(" OR ")
                };
                match backend {
                    Backend::Sqlite => format!("(({}) AND {field})", in_stored("LIKE")),
                    Backend::Postgres if stored_first.contains(&text) => {
                        format!("(({}) AND {field})", in_stored("ILIKE"))
                    }
                    Backend::Postgres => format!(
                        "(CASE WHEN {} THEN {field} ELSE false END)",
                        in_stored("ILIKE")
                    ),
                }
            }
            op @ (DataOp::Gt | DataOp::Gte | DataOp::Lt | DataOp::Lte) => compare(sql, op),
        });
    }
    if let Some(min) = query.score_min {
        conditions.push(format!(
            "t.prediction_score >= {}",
            sql.bind(Bind::Float(min))
        ));
    }
    if let Some(max) = query.score_max {
        conditions.push(format!(
            "t.prediction_score <= {}",
            sql.bind(Bind::Float(max))
        ));
    }
    for (bound, column, op) in [
        (query.created_after, "created_at", ">="),
        (query.created_before, "created_at", "<="),
        (query.updated_after, "updated_at", ">="),
        (query.updated_before, "updated_at", "<="),
    ] {
        if let Some(bound) = bound {
            conditions.push(format!("t.{column} {op} {}", sql.bind(Bind::Int(bound))));
        }
    }
    conditions.join(" AND ")
}

/// The sort key as an SQL expression over `tasks t`, whether it can be
/// NULL, and how to select it as a column (`sort_value`).
fn sort_expr(backend: Backend, key: &SortKey) -> (String, bool, String) {
    let column = |name: &str| (format!("t.{name}"), false, format!("t.{name}"));
    match key {
        SortKey::Id => column("id"),
        SortKey::Created => column("created_at"),
        SortKey::Updated => column("updated_at"),
        SortKey::AnnotationCount => column("annotation_count"),
        SortKey::PredictionScore => (
            "t.prediction_score".to_string(),
            true,
            "t.prediction_score".to_string(),
        ),
        SortKey::Data(key) => {
            let expr = data_expr(backend, key);
            let selected = match backend {
                Backend::Sqlite => expr.clone(),
                // The Any driver reads no jsonb: the cursor keeps its text.
                Backend::Postgres => format!("CAST({expr} AS TEXT)"),
            };
            (expr, true, selected)
        }
    }
}

/// A cursor's sort value bound for comparison with the sort expression.
fn cursor_bind(backend: Backend, key: &SortKey, sql: &mut Sql, value: &SortValue) -> String {
    let placeholder = sql.bind(match value {
        SortValue::Null => Bind::Null,
        SortValue::Int(value) => Bind::Int(*value),
        SortValue::Float(value) => Bind::Float(*value),
        SortValue::Text(value) => Bind::Text(value.clone()),
    });
    match (backend, key) {
        (Backend::Postgres, SortKey::Data(_)) => format!("CAST({placeholder} AS jsonb)"),
        _ => placeholder,
    }
}

/// One index range of a page: extra conditions and the order to read in.
struct Segment {
    condition: String,
    order: String,
}

/// The ranges of the sort key a page reads, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    /// Rows whose sort key is NULL, by id.
    Nulls,
    /// Rows whose sort key equals the cursor's (not NULL), after the
    /// cursor's id, by id.
    Tie,
    /// Rows with a sort key (after the cursor's, when there is one), by key
    /// and id.
    Values,
}

/// The ranges to read, in order, for a page after `cursor`: ascending,
/// NULLs come first, descending last. After a cursor with a value, the
/// rows that share it come first, on their own: an index seeks to
/// `key = v AND id > i` and to `key > v`, but not to the row value
/// `(key, id) > (v, i)` (SQLite seeks on `key` alone, and not at all for an
/// expression, then reads every tied or earlier entry). `nulls` is false
/// when the filter keeps no row whose key is NULL.
fn ranges(
    sort: &TableSort,
    nullable: bool,
    nulls: bool,
    cursor: Option<&TableCursor>,
) -> Vec<Range> {
    let in_nulls = cursor.is_some_and(|cursor| cursor.value == SortValue::Null);
    let after_value = cursor.is_some() && !in_nulls;
    let mut ranges = Vec::new();
    if !sort.descending && nullable && !after_value {
        ranges.push(Range::Nulls);
    }
    if after_value && sort.key != SortKey::Id {
        ranges.push(Range::Tie);
    }
    if !(sort.descending && in_nulls) {
        ranges.push(Range::Values);
    }
    if sort.descending && nullable {
        ranges.push(Range::Nulls);
    }
    if !nullable || !nulls {
        ranges.retain(|range| *range != Range::Nulls);
    }
    ranges
}

/// The conditions and order of one range after `cursor`.
fn segment(
    backend: Backend,
    sort: &TableSort,
    range: Range,
    cursor: Option<&TableCursor>,
    sql: &mut Sql,
) -> Segment {
    let (expr, nullable, _) = sort_expr(backend, &sort.key);
    let (cmp, dir) = if sort.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if sort.key == SortKey::Id {
        return Segment {
            condition: match cursor {
                Some(cursor) => format!("t.id {cmp} {}", sql.bind(Bind::Int(cursor.id))),
                None => String::new(),
            },
            order: format!("t.id {dir}"),
        };
    }
    let value_cursor = cursor.filter(|cursor| cursor.value != SortValue::Null);
    match range {
        Range::Tie => Segment {
            // Only read after a cursor with a value (see `ranges`).
            condition: match value_cursor {
                Some(cursor) => {
                    let value = cursor_bind(backend, &sort.key, sql, &cursor.value);
                    let id = sql.bind(Bind::Int(cursor.id));
                    format!("{expr} = {value} AND t.id {cmp} {id}")
                }
                None => "1 = 0".to_string(),
            },
            order: format!("t.id {dir}"),
        },
        Range::Values => Segment {
            condition: match value_cursor {
                Some(cursor) => {
                    let value = cursor_bind(backend, &sort.key, sql, &cursor.value);
                    format!("{expr} {cmp} {value}")
                }
                None if nullable => format!("{expr} IS NOT NULL"),
                None => String::new(),
            },
            order: format!("{expr} {dir}, t.id {dir}"),
        },
        Range::Nulls => Segment {
            condition: match cursor {
                Some(cursor) if cursor.value == SortValue::Null => format!(
                    "{expr} IS NULL AND t.id {cmp} {}",
                    sql.bind(Bind::Int(cursor.id))
                ),
                _ => format!("{expr} IS NULL"),
            },
            order: format!("t.id {dir}"),
        },
    }
}

/// Whether the filter can keep a task whose sort key is NULL: not when it
/// bounds the prediction score and the table is sorted by it, nor when it
/// compares the data field the table is sorted by with a value.
fn keeps_null_keys(query: &TaskQuery, key: &SortKey) -> bool {
    match key {
        SortKey::PredictionScore => query.score_min.is_none() && query.score_max.is_none(),
        SortKey::Data(key) => !query.data.iter().any(|condition| {
            condition.key == *key && !(condition.op == DataOp::Eq && condition.value.is_null())
        }),
        _ => true,
    }
}

/// How a query reaches the project's tasks on SQLite, which plans without
/// statistics. (PostgreSQL plans with its own statistics: no hints.)
#[derive(Debug, Clone, PartialEq, Eq)]
enum Access {
    /// Left to the planner.
    Planner,
    /// Walk this index in order (`INDEXED BY`): the sort order's, or for
    /// pages by id, the index of a data field the filter asks to equal a
    /// value (its entries for that value are in id order).
    Walk(String),
    /// Only the tasks of a small candidate set, sorted afterwards.
    Candidates(Candidates),
}

/// A set of tasks the filter narrows the table to, read from an index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Candidates {
    /// `task_labels` of the label.
    Label,
    /// `annotations` of the annotator.
    Annotator,
    /// An index of `tasks` that the filter's conditions seek in: a data
    /// field's (equality), the prediction score's, the update time's or the
    /// creation time's (ranges).
    Index(String),
    /// The tasks whose stored data holds every trigram of a `contains`
    /// text, or for a text of one or two characters a trigram it starts
    /// (this full-text query, empty when no indexed task matches; see
    /// `text_index`), and those not in the text index yet. The filter still
    /// checks each.
    Text(String),
}

/// The `FROM` of a query on `tasks t` with `access`, and the condition it
/// adds to the filter (after ` AND `), if any.
fn access_sql(
    backend: Backend,
    access: &Access,
    project: ProjectId,
    query: &TaskQuery,
    sql: &mut Sql,
) -> (String, Option<String>) {
    if let Some((column, source)) = candidate_source(backend, access, project, query, sql) {
        return match backend {
            Backend::Sqlite => (
                "tasks t NOT INDEXED".to_string(),
                Some(format!("t.id IN (SELECT {column} FROM {source})")),
            ),
            // A derived table named `t` that `OFFSET 0` keeps the planner
            // from merging into the page's query, so the page sorts the
            // candidates instead of walking the sort order's index in
            // search of them. The candidates' ids go to the primary key as
            // one array, which the index scan sorts (and rids of repeats:
            // an annotator's imported annotations may repeat a task), so
            // tasks are read in id order, mostly the table's own, instead
            // of one lookup per candidate in the order they were listed
            // (an annotator's 9,690 tasks: 30 → 24 ms at a million).
            Backend::Postgres => (
                format!(
                    "(SELECT tasks.* FROM tasks \
                     WHERE tasks.id = ANY(ARRAY(SELECT {column} FROM {source})) OFFSET 0) t"
                ),
                None,
            ),
        };
    }
    match access {
        Access::Walk(index) | Access::Candidates(Candidates::Index(index))
            if backend == Backend::Sqlite =>
        {
            (format!("tasks t INDEXED BY {index}"), None)
        }
        _ => ("tasks t".to_string(), None),
    }
}

/// For a label's or an annotator's candidates: the column of their task
/// ids and the `FROM … WHERE …` that lists them.
fn candidate_source(
    backend: Backend,
    access: &Access,
    project: ProjectId,
    query: &TaskQuery,
    sql: &mut Sql,
) -> Option<(&'static str, String)> {
    match access {
        Access::Candidates(Candidates::Label) => {
            let project = sql.bind(Bind::Int(project.0));
            let label = sql.bind(Bind::Text(query.label.clone().unwrap_or_default()));
            Some((
                "l.task_id",
                format!("task_labels l WHERE l.project_id = {project} AND l.label = {label}"),
            ))
        }
        Access::Candidates(Candidates::Annotator) => {
            let project = sql.bind(Bind::Int(project.0));
            let user = sql.bind(Bind::Int(query.annotator.map_or(0, |user| user.0)));
            Some((
                "a.task_id",
                format!("({}) a", person_annotations(backend, &project, &user, "")),
            ))
        }
        Access::Candidates(Candidates::Text(terms)) => {
            let project = sql.bind(Bind::Int(project.0));
            Some(("rowid", text_candidates(sql, terms, &project)))
        }
        _ => None,
    }
}

/// Drops the SQLite indexes whose names match the LIKE `pattern` and not
/// `except` (`\` escapes `_` and `%` in both): a deleted project's data
/// fields', or the shared ones of before migration 23.
pub(crate) async fn drop_sqlite_indexes_like(
    conn: &mut sqlx::AnyConnection,
    pattern: &str,
    except: Option<&str>,
) -> Result<()> {
    let names: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE $1 ESCAPE '\\' \
         AND ($2 IS NULL OR name NOT LIKE $2 ESCAPE '\\')",
    )
    .bind(pattern)
    .bind(except)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| sqlx::Row::try_get(row, "name"))
    .collect::<std::result::Result<_, _>>()?;
    for name in names {
        sqlx::query(&format!("DROP INDEX IF EXISTS {name}"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Whether a data condition narrows the table to a range of its field's
/// index (see `Candidates::Index`): equal to a value or to nothing, or a
/// bound on a number.
fn seeks_in_data_index(condition: &DataCondition) -> bool {
    match condition.op {
        DataOp::Eq => true,
        DataOp::Gt | DataOp::Gte | DataOp::Lt | DataOp::Lte => condition.value.is_number(),
        DataOp::Contains => false,
    }
}

/// The `FROM … WHERE …` of a `contains` text's candidates (see
/// [`Candidates::Text`]) after `SELECT rowid`: the tasks in `tasks_text`
/// (whose `rowid` is the task id) that match `terms` (the full-text query,
/// bound here; empty when no indexed task can match), then the project's
/// tasks after the indexed ones (`project`: its id or placeholder).
fn text_candidates(sql: &mut Sql, terms: &str, project: &str) -> String {
    let unindexed = format!(
        "tasks WHERE project_id = {project} AND id > (SELECT indexed_to FROM tasks_text_progress)"
    );
    if terms.is_empty() {
        return unindexed;
    }
    let terms = sql.bind(Bind::Text(terms.to_owned()));
    format!("tasks_text WHERE tasks_text MATCH {terms} UNION ALL SELECT id FROM {unindexed}")
}

/// The most tasks of a time window whose ids PostgreSQL reads to bound a
/// page's walk by id (see `Store::postgres_window_ids`): about 25 ms at
/// 100,000 on two cores.
const WINDOW_IDS: i64 = 150_000;

/// How many candidates cost about as much to read and sort for a page of
/// `wanted` rows as walking a sort order's index through `total` tasks
/// (see `Store::page_access`).
fn balanced_candidates(wanted: usize, total: i64) -> i64 {
    (((wanted as f64) * (total as f64)).sqrt() as i64).max(MIN_CANDIDATES)
}

/// How many candidates are worth reading, one lookup each, to count
/// matches instead of reading every task in order: a quarter of `total`.
fn count_candidates(total: i64) -> i64 {
    (total / 4).max(MIN_CANDIDATES)
}

/// The rows PostgreSQL expects of a plan, from the first line of its
/// `EXPLAIN` (`Seq Scan on tasks  (cost=0.00..45838.00 rows=121212 width=4)`).
fn planned_rows(line: &str) -> Option<i64> {
    let rest = &line[line.find(" rows=")? + " rows=".len()..];
    rest[..rest.find(' ')?].parse().ok()
}

/// The text a `contains` condition searches for.
fn contains_text(condition: &DataCondition) -> String {
    match &condition.value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The most candidates of `set` worth reading and sorting for a page in
/// `sort` order, rather than walking the sort order's index; `balanced`
/// is where both cost about the same (see `Store::page_access`).
fn candidate_cap(sort: &TableSort, set: &Candidates, balanced: i64, total: i64) -> i64 {
    let by_annotations = matches!(set, Candidates::Label | Candidates::Annotator);
    let data_index = matches!(set, Candidates::Index(index) if index.starts_with("tasks_data_"));
    if matches!(set, Candidates::Text(_)) || data_index {
        // Read whole, in any order: a lookup and a check of the task's data
        // each (in id order, a data field equal to a value is walked
        // instead: see `Store::page_access`).
        return balanced;
    }
    match &sort.key {
        // In ascending annotation-count order the tasks without
        // annotations come first, and no filter on annotators or
        // labels keeps them: the walk would meet no match for long.
        SortKey::AnnotationCount if !sort.descending && by_annotations => {
            balanced.max(ANNOTATIONS_LAST_CANDIDATES)
        }
        // In id order, candidates listed by id are read in order
        // and the read stops at the page's end; and a range of an
        // index (which holds ids) is sorted by id from the index
        // alone. Both cost a small fraction of a lookup per
        // candidate, while a walk by id meets a range that follows
        // the import order (a time window) only after every task
        // before it.
        SortKey::Id if by_annotations => balanced * 3,
        SortKey::Id => balanced.max(total / 8),
        _ => balanced,
    }
}

/// The query left to check on each row read through `access`: a label's
/// or an annotator's candidates already have them.
fn residual(query: &TaskQuery, access: &Access) -> TaskQuery {
    let mut residual = query.clone();
    match access {
        Access::Candidates(Candidates::Label) => residual.label = None,
        Access::Candidates(Candidates::Annotator) => residual.annotator = None,
        _ => {}
    }
    residual
}

/// The index that holds a project's table in `key` order.
fn sort_index(project: ProjectId, key: &SortKey) -> String {
    match key {
        SortKey::Id => "tasks_by_project".to_string(),
        SortKey::Created => CREATED_INDEX.to_string(),
        SortKey::Updated => "tasks_by_updated".to_string(),
        SortKey::AnnotationCount => "tasks_by_annotation_count".to_string(),
        SortKey::PredictionScore => "tasks_by_prediction_score".to_string(),
        SortKey::Data(key) => data_index_name(project, key),
    }
}

fn sort_value(row: &QueueRow) -> Result<SortValue> {
    if let Ok(Some(value)) = row.optional_int("sort_value") {
        return Ok(SortValue::Int(value));
    }
    if let Ok(Some(value)) = row.optional_float("sort_value") {
        return Ok(SortValue::Float(value));
    }
    Ok(match row.optional_text("sort_value")? {
        Some(text) => SortValue::Text(text),
        None => SortValue::Null,
    })
}

/// A list of ids for `IN (…)`: integers only, so they are written in place.
fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A short, stable name for the index of a project's data key on SQLite
/// (SQLite compares index names without case; PostgreSQL, which cuts them
/// at 63 bytes, has one index per key: see [`shared_data_index_name`]).
fn data_index_name(project: ProjectId, key: &str) -> String {
    format!("{}_p{}", shared_data_index_name(key), project.0)
}

/// The names of a project's data-field indexes on SQLite, as a `LIKE`
/// pattern escaped by a backslash.
fn project_data_index_pattern(project: ProjectId) -> String {
    format!("tasks\\_data\\_%\\_p{}", project.0)
}

/// What [`Store::prepare_data_key_indexes`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataKeyIndexes {
    /// The keys whose index it made.
    pub made: Vec<String>,
    /// Whether the project has as many data-field indexes as it may have
    /// made ahead, so that asking for more makes none.
    pub full: bool,
}

/// The name of a data key's index for every project (PostgreSQL; on SQLite
/// until migration 23).
fn shared_data_index_name(key: &str) -> String {
    // FNV-1a, 64 bits.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("tasks_data_{hash:016x}")
}

impl Store {
    /// One page of a project's tasks matching `query`, in `sort` order,
    /// after `cursor`.
    pub async fn task_table(
        &self,
        project: ProjectId,
        query: &TaskQuery,
        sort: &TableSort,
        cursor: Option<&TableCursor>,
        limit: u32,
    ) -> Result<TablePage> {
        if let SortKey::Data(key) = &sort.key {
            self.ensure_data_index(project, key).await?;
        }
        self.ensure_sought_data_indexes(project, query).await;
        let backend = self.backend;
        let wanted = limit as usize + 1;
        let stored_first = self
            .postgres_stored_first(project, query, Some(wanted))
            .await?;
        let id_range = match self.postgres_window_ids(project, query, sort).await? {
            Some(None) => {
                return Ok(TablePage {
                    rows: Vec::new(),
                    next: None,
                })
            }
            Some(Some(range)) => Some(range),
            None => None,
        };
        let access = self.page_access(project, query, sort, wanted).await?;
        let residual = residual(query, &access);
        let mut found: Vec<(TaskRow, Option<f64>, SortValue)> = Vec::new();
        let (_, nullable, selected) = sort_expr(backend, &sort.key);
        let nulls = keeps_null_keys(query, &sort.key);
        for range in ranges(sort, nullable, nulls, cursor) {
            if found.len() >= wanted {
                break;
            }
            let mut sql = Sql::default();
            let filter = filter_sql(backend, project, &residual, &stored_first, &mut sql);
            let (from, narrowed) = access_sql(backend, &access, project, query, &mut sql);
            let segment = segment(backend, sort, range, cursor, &mut sql);
            let ids = id_range.map(|(first, last)| {
                let first = sql.bind(Bind::Int(first));
                let last = sql.bind(Bind::Int(last));
                format!("t.id >= {first} AND t.id <= {last}")
            });
            let mut condition = String::new();
            for extra in [narrowed, ids, Some(segment.condition)]
                .into_iter()
                .flatten()
            {
                if !extra.is_empty() {
                    condition.push_str(" AND ");
                    condition.push_str(&extra);
                }
            }
            let text = format!(
                "SELECT {TASK_COLUMNS}, prediction_score, {selected} AS sort_value FROM {from} \
                 WHERE {filter}{condition} ORDER BY {} LIMIT {}",
                segment.order,
                wanted - found.len()
            );
            let params = sql.params();
            let rows = self.long_read(&text, &params).await?;
            for row in rows {
                let task = task_row(&row)?;
                let score = row.optional_float("prediction_score")?;
                found.push((task, score, sort_value(&row)?));
            }
        }
        let has_more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next = if has_more {
            found.last().map(|(task, _, value)| TableCursor {
                value: value.clone(),
                id: task.id.0,
            })
        } else {
            None
        };
        let ids: Vec<i64> = found.iter().map(|(task, _, _)| task.id.0).collect();
        let mut annotators: Vec<(i64, String)> = Vec::new();
        if !ids.is_empty() {
            let text = format!(
                "SELECT a.task_id, u.username FROM annotations a \
                 JOIN users u ON u.id = a.completed_by \
                 WHERE a.task_id IN ({}) ORDER BY a.task_id, a.id",
                id_list(&ids)
            );
            let no_params: Vec<Param<'_>> = Vec::new();
            let rows = self.quick_read(&text, &no_params).await?;
            for row in rows {
                annotators.push((row.int("task_id")?, row.text("username")?));
            }
        }
        let rows = found
            .into_iter()
            .map(|(task, prediction_score, _)| {
                let mut names: Vec<String> = Vec::new();
                for (_, name) in annotators.iter().filter(|(id, _)| *id == task.id.0) {
                    if !names.contains(name) {
                        names.push(name.clone());
                    }
                }
                TableRow {
                    task,
                    prediction_score,
                    annotators: names,
                }
            })
            .collect();
        Ok(TablePage { rows, next })
    }

    /// How many tasks of a project match `query`: from the per-status
    /// counters when only statuses are asked for, else by counting.
    pub async fn count_task_table(&self, project: ProjectId, query: &TaskQuery) -> Result<i64> {
        if !query.needs_scan_to_count() {
            let counts = self.task_counts(project).await?;
            return Ok(counts
                .iter()
                .filter(|(status, _)| query.statuses.is_empty() || query.statuses.contains(status))
                .map(|(_, n)| n)
                .sum());
        }
        self.ensure_sought_data_indexes(project, query).await;
        let alone = TaskQuery {
            label: None,
            annotator: None,
            ..query.clone()
        };
        if !alone.needs_scan_to_count() && alone.statuses.is_empty() {
            // Only a label, or only an annotator (or both: counted below):
            // counted in their own index, without reading tasks.
            match (&query.label, query.annotator) {
                (Some(label), None) => {
                    let row = self
                        .quick_read_one(
                            "SELECT COUNT(*) AS n FROM task_labels \
                             WHERE project_id = $1 AND label = $2",
                            &[Param::Int(project.0), Param::Text(label)],
                        )
                        .await?;
                    return row.int("n");
                }
                (None, Some(user)) => {
                    let row = self
                        .quick_read_one(
                            &format!(
                                "SELECT COUNT(DISTINCT task_id) AS n FROM ({}) theirs",
                                person_annotations(self.backend, "$1", "$2", "")
                            ),
                            &[Param::Int(project.0), Param::Int(user.0)],
                        )
                        .await?;
                    return row.int("n");
                }
                _ => {}
            }
        }
        let access = match self.backend {
            Backend::Sqlite => {
                // An index range and a lookup per candidate beat reading
                // every task in order only for a small part of the project.
                let total = self.project_size(project).await?;
                let cap = count_candidates(total);
                let candidates = self.candidate_sets(project, query, None).await?;
                match self.smallest(project, query, candidates, |_| cap).await? {
                    Some(candidates) => Access::Candidates(candidates),
                    None => Access::Walk("tasks_by_project".to_string()),
                }
            }
            Backend::Postgres => Access::Planner,
        };
        let stored_first = self.postgres_stored_first(project, query, None).await?;
        let mut sql = Sql::default();
        let filter = filter_sql(
            self.backend,
            project,
            &residual(query, &access),
            &stored_first,
            &mut sql,
        );
        let (from, narrowed) = access_sql(self.backend, &access, project, query, &mut sql);
        let narrowed = narrowed.map_or(String::new(), |narrowed| format!(" AND {narrowed}"));
        let text = format!("SELECT COUNT(*) AS n FROM {from} WHERE {filter}{narrowed}");
        let params = sql.params();
        let rows = self.long_read(&text, &params).await?;
        rows.first().ok_or(Error::NotFound)?.int("n")
    }

    /// How a page is read on SQLite (see [`Access`]). Walking the sort
    /// order's index costs about `wanted / share` entries, where `share` is
    /// the part of the project the filter keeps; reading a candidate set of
    /// `n` tasks and sorting them costs `n` lookups. With the share guessed
    /// as `n / total`, both are equal at `n = sqrt(wanted * total)`: a
    /// candidate set up to that size is read, else the index is walked.
    async fn page_access(
        &self,
        project: ProjectId,
        query: &TaskQuery,
        sort: &TableSort,
        wanted: usize,
    ) -> Result<Access> {
        if self.backend == Backend::Postgres {
            return self
                .postgres_page_access(project, query, sort, wanted)
                .await;
        }
        let mut walked = sort_index(project, &sort.key);
        let mut candidates = self.candidate_sets(project, query, Some(&walked)).await?;
        if sort.key == SortKey::Id {
            // The entries of a data field's index for one value (or for
            // none) are in id order: a walk that meets only tasks with that
            // value. (A range of values is not: it is a candidate set.)
            let data_index = candidates.iter().find_map(|candidates| match candidates {
                Candidates::Index(index)
                    if query.data.iter().any(|condition| {
                        condition.op == DataOp::Eq
                            && data_index_name(project, &condition.key) == *index
                    }) =>
                {
                    Some(index)
                }
                _ => None,
            });
            if let Some(index) = data_index.cloned() {
                candidates.retain(|candidates| *candidates != Candidates::Index(index.clone()));
                walked = index;
            }
        }
        Ok(
            match self
                .page_candidates(project, query, sort, wanted, candidates)
                .await?
            {
                Some(candidates) => Access::Candidates(candidates),
                None => Access::Walk(walked),
            },
        )
    }

    /// The smallest of `sets` worth reading and sorting for a page of
    /// `wanted` rows (see [`candidate_cap`]), if any.
    async fn page_candidates(
        &self,
        project: ProjectId,
        query: &TaskQuery,
        sort: &TableSort,
        wanted: usize,
        sets: Vec<Candidates>,
    ) -> Result<Option<Candidates>> {
        if sets.is_empty() {
            return Ok(None);
        }
        let total = self.project_size(project).await?;
        let balanced = balanced_candidates(wanted, total);
        let cap = |set: &Candidates| candidate_cap(sort, set, balanced, total);
        self.smallest(project, query, sets, cap).await
    }

    /// On PostgreSQL, for a page in id order within a window of creation
    /// (else update) times: the first and last ids of the tasks in it
    /// (`Some(None)`: none are), read from the index of those times, so
    /// that the page's walk by id starts at the window instead of reading
    /// every task before it (98 → 24 ms for a window of 100,000 tasks 40%
    /// into a million). `None` otherwise, or for a window of more than
    /// [`WINDOW_IDS`] tasks, whose ids would cost more to read than the walk
    /// meets before its matches. (A creation time never changes; a task
    /// updated between the two reads may be left out of this page, as it
    /// may be of any page read while tasks change.)
    async fn postgres_window_ids(
        &self,
        project: ProjectId,
        query: &TaskQuery,
        sort: &TableSort,
    ) -> Result<Option<Option<(i64, i64)>>> {
        let (column, after, before) =
            if query.created_after.is_some() || query.created_before.is_some() {
                ("created_at", query.created_after, query.created_before)
            } else {
                ("updated_at", query.updated_after, query.updated_before)
            };
        if self.backend != Backend::Postgres
            || sort.key != SortKey::Id
            || (after.is_none() && before.is_none())
        {
            return Ok(None);
        }
        let row = self
            .quick_read_one(
                &format!(
                    "SELECT MIN(id) AS first, MAX(id) AS last, COUNT(*) AS n FROM \
                     (SELECT id FROM tasks WHERE project_id = $1 AND {column} >= $2 \
                     AND {column} <= $3 LIMIT {}) w",
                    WINDOW_IDS + 1
                ),
                &[
                    Param::Int(project.0),
                    Param::Int(after.unwrap_or(i64::MIN)),
                    Param::Int(before.unwrap_or(i64::MAX)),
                ],
            )
            .await?;
        if row.int("n")? > WINDOW_IDS {
            return Ok(None);
        }
        Ok(Some(
            row.optional_int("first")?.zip(row.optional_int("last")?),
        ))
    }

    /// The `contains` texts of `query` that PostgreSQL searches for in the
    /// stored text first, through its trigram index: those it can (see
    /// [`postgres_stored_text_search`]) that the planner expects in few
    /// tasks, at most as many as are worth reading and sorting for a page
    /// of `wanted` rows (as on SQLite), or a quarter of the project for a
    /// count (`None`). The planner's guess of the stored text alone comes
    /// from its statistics, which sample the texts themselves (12% for a
    /// word in 12% of the tasks); a common text is left to the planner's
    /// walk, which meets matches at once. Empty on SQLite.
    async fn postgres_stored_first(
        &self,
        project: ProjectId,
        query: &TaskQuery,
        wanted: Option<usize>,
    ) -> Result<Vec<String>> {
        let mut texts = Vec::new();
        if self.backend != Backend::Postgres || !self.postgres_text_indexed() {
            return Ok(texts);
        }
        let mut known_cap = None;
        for condition in &query.data {
            let text = contains_text(condition);
            if condition.op != DataOp::Contains
                || !postgres_stored_text_search(&text)
                || texts.contains(&text)
            {
                continue;
            }
            // Read once, for the first text that may be searched so.
            let cap = match known_cap {
                Some(cap) => cap,
                None => {
                    let total = self.project_size(project).await?;
                    *known_cap.insert(match wanted {
                        Some(wanted) => balanced_candidates(wanted, total),
                        None => count_candidates(total),
                    })
                }
            };
            let plan = self
                .quick_read(
                    "EXPLAIN SELECT 1 FROM tasks WHERE project_id = $1 AND data ILIKE $2 ESCAPE '\\'",
                    &[Param::Int(project.0), Param::Text(&like_pattern(&text))],
                )
                .await?;
            let expected = plan
                .first()
                .map(|row| row.text("QUERY PLAN"))
                .transpose()?
                .and_then(|line| planned_rows(&line));
            if expected.is_some_and(|rows| rows <= cap) {
                texts.push(text);
            }
        }
        Ok(texts)
    }

    /// How a page is read on PostgreSQL: the planner decides, except that a
    /// label's or an annotator's tasks, when few enough (as on SQLite), are
    /// read and sorted on their own. The planner otherwise walks the sort
    /// order's index expecting matches spread evenly along it, which they
    /// are not: an annotator's tasks all come after the 95% without
    /// annotations in ascending annotation count (770 ms at a million tasks).
    async fn postgres_page_access(
        &self,
        project: ProjectId,
        query: &TaskQuery,
        sort: &TableSort,
        wanted: usize,
    ) -> Result<Access> {
        // In id order the planner's semi-join is fast already (1–5 ms).
        if sort.key == SortKey::Id {
            return Ok(Access::Planner);
        }
        let mut sets = Vec::new();
        if query.label.is_some() {
            sets.push(Candidates::Label);
        }
        if query.annotator.is_some() {
            sets.push(Candidates::Annotator);
        }
        Ok(
            match self
                .page_candidates(project, query, sort, wanted, sets)
                .await?
            {
                Some(candidates) => Access::Candidates(candidates),
                None => Access::Planner,
            },
        )
    }

    /// The candidate sets a filter offers, leaving out the index `walked`
    /// (reading it in order is better than sorting its entries).
    async fn candidate_sets(
        &self,
        project: ProjectId,
        query: &TaskQuery,
        walked: Option<&str>,
    ) -> Result<Vec<Candidates>> {
        let mut sets = Vec::new();
        if query.label.is_some() {
            sets.push(Candidates::Label);
        }
        if query.annotator.is_some() {
            sets.push(Candidates::Annotator);
        }
        let seeking: Vec<&DataCondition> = query
            .data
            .iter()
            .filter(|condition| seeks_in_data_index(condition))
            .collect();
        if !seeking.is_empty() {
            // Data fields' indexes are used once they exist (see
            // `prepare_data_indexes`): only this query's are looked up.
            let mut wanted: Vec<String> = seeking
                .iter()
                .map(|condition| data_index_name(project, &condition.key))
                .collect();
            wanted.sort_unstable();
            wanted.dedup();
            let params: Vec<Param<'_>> = wanted.iter().map(|name| Param::Text(name)).collect();
            let placeholders: Vec<String> = (1..=wanted.len()).map(|n| format!("${n}")).collect();
            let existing: Vec<String> = self
                .quick_read(
                    &format!(
                        "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ({})",
                        placeholders.join(", ")
                    ),
                    &params,
                )
                .await?
                .iter()
                .map(|row| row.text("name"))
                .collect::<Result<_>>()?;
            for name in existing {
                let index = Candidates::Index(name);
                if !sets.contains(&index) {
                    sets.push(index);
                }
            }
        }
        for condition in &query.data {
            if condition.op != DataOp::Contains {
                continue;
            }
            let text = contains_text(condition);
            if let Some(terms) = self.text_index_query(&text, &condition.key)? {
                sets.push(Candidates::Text(terms));
            }
        }
        if query.created_after.is_some() || query.created_before.is_some() {
            sets.push(Candidates::Index(CREATED_INDEX.to_string()));
        }
        if query.score_min.is_some() || query.score_max.is_some() {
            sets.push(Candidates::Index("tasks_by_prediction_score".to_string()));
        }
        if query.updated_after.is_some() || query.updated_before.is_some() {
            sets.push(Candidates::Index("tasks_by_updated".to_string()));
        }
        sets.retain(
            |set| !matches!(set, Candidates::Index(index) if Some(index.as_str()) == walked),
        );
        sets.dedup();
        Ok(sets)
    }

    /// The smallest of `sets` among those that hold at most `cap(set)`
    /// tasks (each is counted up to `cap(set) + 1` in its index, without
    /// reading tasks).
    async fn smallest(
        &self,
        project: ProjectId,
        query: &TaskQuery,
        sets: Vec<Candidates>,
        cap: impl Fn(&Candidates) -> i64,
    ) -> Result<Option<Candidates>> {
        let mut best: Option<(i64, Candidates)> = None;
        for set in sets {
            let cap = cap(&set);
            let mut sql = Sql::default();
            let p = sql.bind(Bind::Int(project.0));
            let inner = match &set {
                Candidates::Label => format!(
                    "SELECT 1 FROM task_labels WHERE project_id = {p} AND label = {}",
                    sql.bind(Bind::Text(query.label.clone().unwrap_or_default()))
                ),
                Candidates::Annotator => {
                    let user = sql.bind(Bind::Int(query.annotator.map_or(0, |user| user.0)));
                    person_annotations(self.backend, &p, &user, "")
                }
                Candidates::Text(terms) => {
                    format!("SELECT rowid FROM {}", text_candidates(&mut sql, terms, &p))
                }
                Candidates::Index(index) => {
                    // The id in place, as in `filter_sql`.
                    let mut conditions = vec![format!("t.project_id = {}", project.0)];
                    if index == "tasks_by_prediction_score" {
                        for (bound, op) in [(query.score_min, ">="), (query.score_max, "<=")] {
                            if let Some(bound) = bound {
                                let bound = sql.bind(Bind::Float(bound));
                                conditions.push(format!("t.prediction_score {op} {bound}"));
                            }
                        }
                    } else if index == "tasks_by_updated" || index == CREATED_INDEX {
                        let (column, after, before) = if index == CREATED_INDEX {
                            ("created_at", query.created_after, query.created_before)
                        } else {
                            ("updated_at", query.updated_after, query.updated_before)
                        };
                        for (bound, op) in [(after, ">="), (before, "<=")] {
                            if let Some(bound) = bound {
                                let bound = sql.bind(Bind::Int(bound));
                                conditions.push(format!("t.{column} {op} {bound}"));
                            }
                        }
                    } else {
                        let on_key: Vec<&DataCondition> = query
                            .data
                            .iter()
                            .filter(|condition| {
                                seeks_in_data_index(condition)
                                    && data_index_name(project, &condition.key) == *index
                            })
                            .collect();
                        for condition in &on_key {
                            let expr = data_expr(self.backend, &condition.key);
                            conditions.push(match condition.op {
                                DataOp::Eq if condition.value.is_null() => {
                                    format!("{expr} IS NULL")
                                }
                                op => {
                                    let value = data_bind(self.backend, &mut sql, &condition.value);
                                    format!("{expr} {} {value}", op.sql())
                                }
                            });
                        }
                        // A lower bound on a number alone would run on into
                        // the texts, which SQLite sorts after numbers: they
                        // end the range. (Only then: a second upper bound is
                        // checked on each entry, reading its task.)
                        let bounded = |ops: &[DataOp]| {
                            on_key.iter().any(|condition| ops.contains(&condition.op))
                        };
                        if bounded(&[DataOp::Gt, DataOp::Gte])
                            && !bounded(&[DataOp::Lt, DataOp::Lte, DataOp::Eq])
                        {
                            let key = &on_key[0].key;
                            conditions.push(format!("{} < ''", data_expr(self.backend, key)));
                        }
                    }
                    format!(
                        "SELECT 1 FROM tasks t INDEXED BY {index} WHERE {}",
                        conditions.join(" AND ")
                    )
                }
            };
            let text = format!(
                "SELECT COUNT(*) AS n FROM ({inner} LIMIT {}) candidates",
                cap + 1
            );
            let n = self.quick_read_one(&text, &sql.params()).await?.int("n")?;
            if n <= cap && best.as_ref().is_none_or(|(smallest, _)| n < *smallest) {
                best = Some((n, set));
            }
        }
        Ok(best.map(|(_, set)| set))
    }

    /// How many tasks a project has (from the per-status counters).
    async fn project_size(&self, project: ProjectId) -> Result<i64> {
        let row = self
            .quick_read_one(
                "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM task_counts \
                 WHERE project_id = $1",
                &[Param::Int(project.0)],
            )
            .await?;
        row.int("n")
    }

    /// Makes the indexes of the data keys a project's tasks have, ahead of
    /// the first sort by them (each takes about a second per million tasks,
    /// and holds the write lock on SQLite meanwhile): the keys of the first
    /// and last tasks (up to [`DATA_INDEX_SAMPLE`] of each) whose values are
    /// strings up to [`DATA_INDEX_MAX_TEXT`] characters, numbers or
    /// booleans (see [`Store::prepare_data_key_indexes`]). On SQLite the
    /// text index's worker finds the keys of every other task as it adds
    /// them (see [`Store::index_task_text`]). Returns the keys whose index
    /// it made.
    pub async fn prepare_data_indexes(&self, project: ProjectId) -> Result<Vec<String>> {
        let mut keys: Vec<String> = Vec::new();
        let mut too_long: Vec<String> = Vec::new();
        for order in ["ASC", "DESC"] {
            let rows = self
                .quick_read(
                    &format!(
                        "SELECT data FROM tasks WHERE project_id = $1 ORDER BY id {order} LIMIT {DATA_INDEX_SAMPLE}"
                    ),
                    &[Param::Int(project.0)],
                )
                .await?;
            for row in rows {
                let Ok(serde_json::Value::Object(data)) =
                    serde_json::from_str::<serde_json::Value>(&row.text("data")?)
                else {
                    continue;
                };
                for (key, value) in data {
                    let indexable = match &value {
                        serde_json::Value::String(text) => {
                            text.chars().count() <= DATA_INDEX_MAX_TEXT
                        }
                        serde_json::Value::Number(_) | serde_json::Value::Bool(_) => true,
                        _ => false,
                    };
                    if !indexable && value.is_string() && !too_long.contains(&key) {
                        too_long.push(key.clone());
                    }
                    if indexable && !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
        }
        keys.retain(|key| !too_long.contains(key));
        Ok(self.prepare_data_key_indexes(project, &keys).await?.made)
    }

    /// Makes the indexes of the given data keys of a project, in their
    /// order, unless they exist, as long as the project has fewer than
    /// [`DATA_INDEX_KEYS`] data-field indexes; other keys get theirs when
    /// first sorted or filtered by. Keys that are not data keys (see
    /// [`valid_data_key`]) are passed over.
    pub async fn prepare_data_key_indexes(
        &self,
        project: ProjectId,
        keys: &[String],
    ) -> Result<DataKeyIndexes> {
        let mut indexed = self.data_indexes_of(project).await?;
        let mut made = Vec::new();
        for key in keys.iter().filter(|key| valid_data_key(key)) {
            let name = self.data_index_name_for(project, key);
            if indexed.contains(&name) {
                continue;
            }
            if indexed.len() >= DATA_INDEX_KEYS {
                return Ok(DataKeyIndexes { made, full: true });
            }
            if self.ensure_data_index(project, key).await? {
                made.push(key.clone());
            }
            indexed.push(name);
        }
        Ok(DataKeyIndexes {
            full: indexed.len() >= DATA_INDEX_KEYS,
            made,
        })
    }

    /// The names of a project's own data-field indexes on SQLite. On
    /// PostgreSQL an index serves every project, so none is the project's
    /// own: the cap counts the keys of each call instead.
    async fn data_indexes_of(&self, project: ProjectId) -> Result<Vec<String>> {
        if self.backend != Backend::Sqlite {
            return Ok(Vec::new());
        }
        let pattern = project_data_index_pattern(project);
        let rows = self
            .quick_read(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE $1 ESCAPE '\\'",
                &[Param::Text(&pattern)],
            )
            .await?;
        rows.iter().map(|row| row.text("name")).collect()
    }

    /// The name of the index of a project's data key on this database.
    fn data_index_name_for(&self, project: ProjectId, key: &str) -> String {
        match self.backend {
            Backend::Sqlite => data_index_name(project, key),
            Backend::Postgres => shared_data_index_name(key),
        }
    }

    /// Makes the index that sorting a project's table by a data key reads,
    /// unless it exists (see [`Store::prepare_data_indexes`]): on SQLite a
    /// partial index `(project_id, <the key's value>, id) WHERE project_id =
    /// <the project>`, so that the project's inserts alone maintain it; on
    /// PostgreSQL the same without the condition, for every project.
    /// Returns whether it made the index.
    async fn ensure_data_index(&self, project: ProjectId, key: &str) -> Result<bool> {
        if !valid_data_key(key) {
            return Err(Error::Database(format!("`{key}` is not a data key")));
        }
        // PostgreSQL keeps one index per key, for every project: with a
        // partial index per project its planner sorted whole projects for
        // the first page of a data-field sort (1.4 s at a million tasks)
        // where it walks the shared index.
        let name = self.data_index_name_for(project, key);
        let predicate = match self.backend {
            Backend::Sqlite => format!(" WHERE project_id = {}", project.0),
            Backend::Postgres => String::new(),
        };
        let exists = match self.backend {
            Backend::Sqlite => {
                "SELECT 1 AS one FROM sqlite_master WHERE type = 'index' AND name = $1"
            }
            Backend::Postgres => "SELECT 1 AS one FROM pg_indexes WHERE indexname = $1",
        };
        if !self
            .quick_read(exists, &[Param::Text(&name)])
            .await?
            .is_empty()
        {
            return Ok(false);
        }
        let expr = match self.backend {
            Backend::Sqlite => format!("json_extract(data, '$.\"{key}\"')"),
            Backend::Postgres => format!("(CAST(data AS jsonb) -> '{key}')"),
        };
        // The project's id leads although a partial index holds one
        // project: the NULLs (`<value> IS NULL`, read by id) are then a
        // seek on two equal columns with the ids in order.
        let sql = format!(
            "CREATE INDEX IF NOT EXISTS {name} ON tasks (project_id, {expr}, id){predicate}"
        );
        let started = std::time::Instant::now();
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Two transactions making the same index (a sort while the
            // server makes it ahead, or two instances) would both insert
            // its name, and the second fail: they take turns instead, and
            // the second finds it made. (SQLite's writers take turns anyway.)
            sqlx::query("SELECT pg_advisory_xact_lock(7340931)")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(&sql).execute(&mut *tx).await?;
        if self.backend == Backend::Postgres {
            // PostgreSQL keeps statistics of an expression index's values
            // only after ANALYZE; without them it planned the first page of
            // a data-field sort as a full scan and sort (1 s at a million tasks).
            sqlx::query("ANALYZE tasks").execute(&mut *tx).await?;
        }
        tx.commit().await?;
        tracing::info!(
            index = name,
            project = project.0,
            key,
            seconds = started.elapsed().as_secs_f64(),
            "created the index of a data field"
        );
        Ok(true)
    }

    /// Makes the indexes of the data fields that `query` seeks in (equal
    /// to a value, or a bound on a number; see `seeks_in_data_index`),
    /// unless they exist, as the first sort by a field does. Without its
    /// index such a filter walks the table and reads every task it passes
    /// over (up to 0.5 s at a million tasks when few match), for a key not
    /// indexed ahead (see [`Store::prepare_data_indexes`]); the index is
    /// made once (about a second per million tasks). A failed build is
    /// logged and the filter walks, as before: PostgreSQL refuses index
    /// entries over about 2.7 kB, which a long text makes.
    async fn ensure_sought_data_indexes(&self, project: ProjectId, query: &TaskQuery) {
        let mut keys: Vec<&str> = query
            .data
            .iter()
            .filter(|condition| seeks_in_data_index(condition) && valid_data_key(&condition.key))
            .map(|condition| condition.key.as_str())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let name = data_index_name(project, key);
            let failed_lately = self
                .failed_data_indexes
                .lock()
                .expect("not poisoned")
                .get(&name)
                .is_some_and(|at| at.elapsed() < DATA_INDEX_RETRY);
            if failed_lately {
                continue;
            }
            if let Err(err) = self.ensure_data_index(project, key).await {
                tracing::warn!(
                    project = project.0,
                    key,
                    "could not make the index of a data field a filter seeks in: {err}"
                );
                self.failed_data_indexes
                    .lock()
                    .expect("not poisoned")
                    .insert(name, Instant::now());
            }
        }
    }

    /// Drops the indexes of a deleted project's data fields (SQLite; on
    /// PostgreSQL they serve every project).
    pub(crate) async fn drop_data_indexes(&self, project: ProjectId) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let pattern = project_data_index_pattern(project);
        let mut conn = self.write_conn().await?;
        drop_sqlite_indexes_like(&mut conn, &pattern, None).await
    }

    /// Applies a bulk action to tasks of a project, in one transaction, in
    /// batches; returns how many tasks it changed (for `Assign`, how many
    /// assignments it made).
    pub async fn bulk_tasks(
        &self,
        project: QueueProject,
        target: BulkTarget,
        action: BulkAction,
        now: i64,
    ) -> Result<u64> {
        self.bulk_call(project, target, action, now).await
    }

    /// The views of a project that `user` sees: shared ones and their own.
    pub async fn views(&self, project: ProjectId, user: Option<UserId>) -> Result<Vec<ViewRow>> {
        let rows = self
            .quick_read(
                &format!(
                    "{VIEW_SELECT} WHERE v.project_id = $1 AND (v.shared <> 0 OR v.owner_id = $2) \
                     ORDER BY v.shared DESC, v.name, v.id"
                ),
                &[
                    Param::Int(project.0),
                    Param::OptionalInt(user.map(|user| user.0)),
                ],
            )
            .await?;
        rows.iter().map(view_row).collect()
    }

    pub async fn view(&self, id: i64) -> Result<ViewRow> {
        let row = self
            .quick_read_one(&format!("{VIEW_SELECT} WHERE v.id = $1"), &[Param::Int(id)])
            .await?;
        view_row(&row)
    }

    pub async fn create_view(
        &self,
        project: ProjectId,
        owner: Option<UserId>,
        name: &str,
        shared: bool,
        state: &str,
        now: i64,
    ) -> Result<ViewRow> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO views (project_id, owner_id, name, shared, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(project.0)
        .bind(owner.map(|user| user.0))
        .bind(name)
        .bind(i64::from(shared))
        .bind(state)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        let id: i64 = sqlx::Row::try_get(&row, "id")?;
        self.view(id).await
    }

    pub async fn update_view(
        &self,
        id: i64,
        name: &str,
        shared: bool,
        state: &str,
        now: i64,
    ) -> Result<ViewRow> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE views SET name = $1, shared = $2, state = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(name)
        .bind(i64::from(shared))
        .bind(state)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        crate::users::expect_one(done.rows_affected())?;
        self.view(id).await
    }

    pub async fn delete_view(&self, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM views WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        crate::users::expect_one(done.rows_affected())
    }
}

const VIEW_SELECT: &str = "SELECT v.id, v.project_id, v.owner_id, u.username, v.name, v.shared, \
     v.state, v.created_at, v.updated_at FROM views v LEFT JOIN users u ON u.id = v.owner_id";

fn view_row(row: &QueueRow) -> Result<ViewRow> {
    Ok(ViewRow {
        id: row.int("id")?,
        project_id: ProjectId(row.int("project_id")?),
        owner_id: row.optional_int("owner_id")?.map(UserId),
        owner: row.optional_text("username")?,
        name: row.text("name")?,
        shared: row.int("shared")? != 0,
        state: row.text("state")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

/// Keeps `task_labels` of a task right after its annotations changed: the
/// labels of every annotation it has now.
pub(crate) async fn relabel_task<C: QueueSql>(
    conn: &mut C,
    project: ProjectId,
    task: TaskId,
) -> Result<()> {
    conn.execute(
        "DELETE FROM task_labels WHERE task_id = $1",
        &[Param::Int(task.0)],
    )
    .await?;
    let results = conn
        .fetch_all(
            "SELECT result FROM annotations WHERE task_id = $1",
            &[Param::Int(task.0)],
        )
        .await?;
    let mut labels: Vec<String> = Vec::new();
    for row in results {
        for label in result_labels(&row.text("result")?) {
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
    }
    add_labels(conn, project, task, &labels).await
}

/// Records labels present in a task's annotations.
pub(crate) async fn add_labels<C: QueueSql>(
    conn: &mut C,
    project: ProjectId,
    task: TaskId,
    labels: &[String],
) -> Result<()> {
    for label in labels {
        conn.execute(
            "INSERT INTO task_labels (project_id, label, task_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[
                Param::Int(project.0),
                Param::Text(label),
                Param::Int(task.0),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The body of a bulk action, run as one queue call (see `queue_call!`).
pub(crate) async fn bulk<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    target: &BulkTarget,
    action: &BulkAction,
    now: i64,
) -> Result<u64> {
    let backend = conn.backend();
    let mut affected = 0;
    // The selected ids, or the ids a filter leaves out; sorted.
    let mut selection: Vec<i64> = match target {
        BulkTarget::Tasks(ids) => ids.iter().map(|id| id.0).collect(),
        BulkTarget::Filter { except, .. } => except.iter().map(|id| id.0).collect(),
    };
    selection.sort_unstable();
    selection.dedup();
    let mut last = i64::MIN;
    loop {
        let batch: Vec<i64> = match target {
            BulkTarget::Tasks(_) => {
                let start = selection.partition_point(|id| *id <= last);
                let chunk = &selection[start..selection.len().min(start + BULK_BATCH as usize)];
                let Some(chunk_last) = chunk.last() else {
                    break;
                };
                last = *chunk_last;
                let rows = conn
                    .fetch_all(
                        &format!(
                            "SELECT id FROM tasks WHERE project_id = $1 AND id IN ({}) ORDER BY id",
                            id_list(chunk)
                        ),
                        &[Param::Int(project.id.0)],
                    )
                    .await?;
                rows.iter()
                    .map(|row| row.int("id"))
                    .collect::<Result<_>>()?
            }
            BulkTarget::Filter { query, .. } => {
                let mut sql = Sql::default();
                // (Bulk actions walk by id; they do not look the index up.)
                let filter = filter_sql(backend, project.id, query, &[], &mut sql);
                let after = sql.bind(Bind::Int(last));
                let rows = conn
                    .fetch_all(
                        &format!(
                            "SELECT t.id FROM tasks t WHERE {filter} AND t.id > {after} \
                             ORDER BY t.id LIMIT {BULK_BATCH}"
                        ),
                        &sql.params(),
                    )
                    .await?;
                let ids: Vec<i64> = rows
                    .iter()
                    .map(|row| row.int("id"))
                    .collect::<Result<_>>()?;
                match ids.last() {
                    Some(id) => last = *id,
                    None => break,
                }
                ids.into_iter()
                    .filter(|id| selection.binary_search(id).is_err())
                    .collect()
            }
        };
        if batch.is_empty() {
            continue;
        }
        affected += apply(conn, project, &batch, action, now).await?;
    }
    Ok(affected)
}

async fn apply<C: QueueSql>(
    conn: &mut C,
    project: QueueProject,
    ids: &[i64],
    action: &BulkAction,
    now: i64,
) -> Result<u64> {
    let list = id_list(ids);
    match action {
        BulkAction::Delete => {
            // No trigger counts deletions: the per-status counters are
            // lowered here, shard by shard (see `task_counts`, migration 4).
            let counts = conn
                .fetch_all(
                    &format!(
                        "SELECT status, id % 16 AS shard, COUNT(*) AS n FROM tasks \
                         WHERE id IN ({list}) GROUP BY status, id % 16"
                    ),
                    &[],
                )
                .await?;
            for row in counts {
                let status = row.text("status")?;
                conn.execute(
                    "UPDATE task_counts SET n = n - $1 \
                     WHERE project_id = $2 AND status = $3 AND shard = $4",
                    &[
                        Param::Int(row.int("n")?),
                        Param::Int(project.id.0),
                        Param::Text(&status),
                        Param::Int(row.int("shard")?),
                    ],
                )
                .await?;
            }
            // Annotations (and their versions), predictions, drafts,
            // reservations, skips, assignments and labels go with their
            // task (ON DELETE CASCADE).
            conn.execute(&format!("DELETE FROM tasks WHERE id IN ({list})"), &[])
                .await
        }
        BulkAction::Reset => {
            for table in [
                "annotations",
                "drafts",
                "reservations",
                "skips",
                "assignments",
                "task_labels",
            ] {
                conn.execute(
                    &format!("DELETE FROM {table} WHERE task_id IN ({list})"),
                    &[],
                )
                .await?;
            }
            // The status trigger moves the counts.
            conn.execute(
                &format!(
                    "UPDATE tasks SET annotation_count = 0, held = 0, status = 'new', \
                     updated_at = $1 WHERE id IN ({list})"
                ),
                &[Param::Int(now)],
            )
            .await
        }
        BulkAction::SetPriority(priority) => {
            conn.execute(
                &format!(
                    "UPDATE tasks SET priority = $1, queue_key = {}, updated_at = $2 \
                     WHERE id IN ({list})",
                    queue_key_with(project.order, "$1")
                ),
                &[Param::Int(*priority), Param::Int(now)],
            )
            .await
        }
        BulkAction::Assign { users, by } => {
            let tasks: Vec<TaskId> = ids.iter().map(|id| TaskId(*id)).collect();
            let mut assigned = 0;
            for user in users {
                assigned +=
                    crate::queue::assign_batch(conn, project, tasks.clone(), *user, *by, now)
                        .await?;
            }
            Ok(assigned)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_a_plan_expects_are_read_from_its_first_line() {
        assert_eq!(
            planned_rows("Seq Scan on tasks  (cost=0.00..45838.00 rows=121212 width=4)"),
            Some(121_212)
        );
        assert_eq!(
            planned_rows("Bitmap Heap Scan on tasks  (cost=360.77..745.19 rows=100 width=4)"),
            Some(100)
        );
        assert_eq!(planned_rows("Result  (cost=0.00..0.01)"), None);
        assert_eq!(planned_rows("rows=x y"), None);
    }

    #[test]
    fn labels_come_from_choices_and_every_kind_of_labels() {
        let result = r#"[
            {"type": "choices", "value": {"choices": ["Cat", "Dog"]}},
            {"type": "rectanglelabels", "value": {"x": 1, "rectanglelabels": ["Car"]}},
            {"type": "labels", "value": {"labels": ["Cat"], "text": "x"}},
            {"type": "textarea", "value": {"text": ["not a label"]}}
        ]"#;
        assert_eq!(result_labels(result), vec!["Cat", "Dog", "Car"]);
        assert!(result_labels("not json").is_empty());
    }

    #[test]
    fn data_keys_are_plain_names() {
        assert!(valid_data_key("image_url"));
        assert!(!valid_data_key("a'b"));
        assert!(!valid_data_key("a.b"));
        assert!(!valid_data_key(""));
        let project = ProjectId(12);
        assert_ne!(
            data_index_name(project, "Key"),
            data_index_name(project, "key")
        );
        assert_ne!(
            data_index_name(project, "key"),
            data_index_name(ProjectId(1), "key")
        );
        // Within PostgreSQL's 63 bytes for any project id.
        assert!(data_index_name(ProjectId(i64::MAX), "key").len() <= 63);
    }

    #[test]
    fn pages_read_ties_then_values_with_nulls_first_ascending_and_last_descending() {
        use Range::{Nulls, Tie, Values};
        let sort = |key: SortKey, descending: bool| TableSort { key, descending };
        let at = |value: SortValue| TableCursor { value, id: 7 };
        let score = sort(SortKey::PredictionScore, false);
        let score_desc = sort(SortKey::PredictionScore, true);
        let value = at(SortValue::Float(0.5));
        let null = at(SortValue::Null);
        assert_eq!(ranges(&score, true, true, None), vec![Nulls, Values]);
        assert_eq!(ranges(&score, true, true, Some(&null)), vec![Nulls, Values]);
        assert_eq!(ranges(&score, true, true, Some(&value)), vec![Tie, Values]);
        assert_eq!(ranges(&score_desc, true, true, None), vec![Values, Nulls]);
        assert_eq!(
            ranges(&score_desc, true, true, Some(&value)),
            vec![Tie, Values, Nulls]
        );
        assert_eq!(ranges(&score_desc, true, true, Some(&null)), vec![Nulls]);
        // A filter that keeps no NULL key reads no NULLs.
        assert_eq!(ranges(&score, true, false, None), vec![Values]);
        assert_eq!(
            ranges(&score_desc, true, false, Some(&value)),
            vec![Tie, Values]
        );
        // Keys that are never NULL, and ids, which are never tied.
        let count = sort(SortKey::AnnotationCount, false);
        assert_eq!(ranges(&count, false, true, None), vec![Values]);
        assert_eq!(
            ranges(&count, false, true, Some(&at(SortValue::Int(0)))),
            vec![Tie, Values]
        );
        let id = sort(SortKey::Id, true);
        assert_eq!(
            ranges(&id, false, true, Some(&at(SortValue::Int(7)))),
            vec![Values]
        );
    }

    #[test]
    fn a_tie_seeks_to_the_cursor_and_the_values_after_it() {
        let sort = TableSort {
            key: SortKey::Data("city".to_string()),
            descending: true,
        };
        let cursor = TableCursor {
            value: SortValue::Text("Lyon".to_string()),
            id: 42,
        };
        let mut sql = Sql::default();
        let tie = segment(Backend::Sqlite, &sort, Range::Tie, Some(&cursor), &mut sql);
        assert_eq!(
            tie.condition,
            "json_extract(t.data, '$.\"city\"') = $1 AND t.id < $2"
        );
        assert_eq!(tie.order, "t.id DESC");
        let values = segment(
            Backend::Sqlite,
            &sort,
            Range::Values,
            Some(&cursor),
            &mut sql,
        );
        assert_eq!(values.condition, "json_extract(t.data, '$.\"city\"') < $3");
        assert_eq!(
            values.order,
            "json_extract(t.data, '$.\"city\"') DESC, t.id DESC"
        );
    }

    #[test]
    fn filters_on_the_sort_key_leave_out_its_nulls() {
        let condition = |op, value| DataCondition {
            key: "width".to_string(),
            op,
            value,
        };
        let width = SortKey::Data("width".to_string());
        let query = |data| TaskQuery {
            data,
            ..TaskQuery::default()
        };
        assert!(keeps_null_keys(&TaskQuery::default(), &width));
        assert!(!keeps_null_keys(
            &query(vec![condition(DataOp::Gte, serde_json::json!(4))]),
            &width
        ));
        assert!(keeps_null_keys(
            &query(vec![condition(DataOp::Eq, serde_json::Value::Null)]),
            &width
        ));
        assert!(keeps_null_keys(
            &query(vec![condition(DataOp::Gte, serde_json::json!(4))]),
            &SortKey::Data("height".to_string())
        ));
        let scored = TaskQuery {
            score_min: Some(0.5),
            ..TaskQuery::default()
        };
        assert!(!keeps_null_keys(&scored, &SortKey::PredictionScore));
        assert!(keeps_null_keys(&scored, &SortKey::Updated));
    }

    #[test]
    fn candidates_by_label_or_annotator_replace_their_condition() {
        let query = TaskQuery {
            label: Some("Car".to_string()),
            annotator: Some(UserId(3)),
            ..TaskQuery::default()
        };
        let by_label = residual(&query, &Access::Candidates(Candidates::Label));
        assert_eq!(
            (by_label.label, by_label.annotator),
            (None, Some(UserId(3)))
        );
        let walked = residual(&query, &Access::Walk("tasks_by_project".to_string()));
        assert_eq!(walked, query);
        let mut sql = Sql::default();
        let (from, narrowed) = access_sql(
            Backend::Sqlite,
            &Access::Candidates(Candidates::Annotator),
            ProjectId(1),
            &query,
            &mut sql,
        );
        assert_eq!(from, "tasks t NOT INDEXED");
        assert_eq!(
            narrowed.as_deref(),
            Some(
                format!(
                    "t.id IN (SELECT a.task_id FROM ({}) a)",
                    person_annotations(Backend::Sqlite, "$1", "$2", "")
                )
                .as_str()
            )
        );
        // PostgreSQL: the candidates as a derived table the planner keeps
        // apart (`OFFSET 0`), their ids read from the primary key as one array.
        let mut sql = Sql::default();
        let (from, narrowed) = access_sql(
            Backend::Postgres,
            &Access::Candidates(Candidates::Annotator),
            ProjectId(1),
            &query,
            &mut sql,
        );
        assert_eq!(narrowed, None);
        assert!(
            from.starts_with(
                "(SELECT tasks.* FROM tasks WHERE tasks.id = ANY(ARRAY(SELECT a.task_id FROM \
                 (SELECT id, task_id, created_at FROM annotations"
            ) && from.ends_with(")) OFFSET 0) t"),
            "{from}"
        );
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
    }
}
