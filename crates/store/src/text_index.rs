//! The trigram index of task data that the data manager's `contains`
//! filters read on SQLite (migration 23, table `tasks_text`).
//!
//! A `contains` filter asks for tasks whose value of a data field holds a
//! text, ignoring ASCII case. Stored task data is JSON as serde_json writes
//! it, which escapes only quotes, backslashes and control characters, so a
//! text without those that is in a field's value (or in the JSON of a
//! nested value) is also in the stored text. The index holds the trigrams
//! of the stored text of every task, folded to lower case, without
//! positions: the tasks that hold all of a search's trigrams are a superset
//! of the matches (usually a close one), which the filter itself then
//! checks on each. A text with a character that serde_json escapes (a
//! quote, a backslash, a control character) is looked up both as stored
//! JSON writes it and as it is, since the JSON text of a nested value holds
//! quotes and backslashes of its own; as it is, only among the tasks whose
//! field holds a nested value (`"key":{` or `"key":[`), since a quote as it
//! is, which JSON's syntax writes everywhere, would find every task. A form
//! of the text shorter than three characters is looked up through the
//! index's terms that it starts, folded as the index folds them (SQLite's
//! Unicode case folding, asked of SQLite itself once). A form in too many
//! terms, or whose terms take too long to list (a common one or two
//! characters, such as `a`), is not looked up: the filter walks the
//! tasks, and meets matches at once.
//!
//! Imports do not write the index (it would halve their speed): a worker
//! (`Engine::keep_text_index`) adds tasks in id order, a few hundred per
//! write transaction, and records the last id it added. Task ids only grow
//! and task data never changes, so the index holds every task up to that
//! id, and the tasks after it are candidates as they are. A trigger
//! removes a deleted task from the index.

use crate::datamanager::DATA_INDEX_MAX_TEXT;
use crate::queue_sql::Param;
use crate::tasks::Columns;
use crate::{Backend, Result, Store};
use gloss_types::ProjectId;
use sqlx::Row;

/// Tasks indexed per write transaction: about 5 ms of the write lock each
/// on a 2-core machine, so that queue writes waiting behind it wait little.
pub const TEXT_INDEX_BATCH: i64 = 400;

/// The most trigrams one search looks up: tasks holding these are already
/// few, and each more costs a read of its list.
const MAX_TRIGRAMS: usize = 12;

/// Whether serde_json writes `text` differently inside stored JSON (a
/// quote, a backslash or a control character).
fn escaped_in_storage(text: &str) -> bool {
    text.chars()
        .any(|c| c == '"' || c == '\\' || c.is_control())
}

/// How serde_json writes `text` inside stored JSON: quotes, backslashes and
/// control characters escaped, everything else as it is.
fn stored_form(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// The forms of a `contains` text that stored JSON holds where a field's
/// value holds the text: the text as it is (in a nested value's JSON, a
/// number, or a string without escaped characters), and as a stored string
/// writes it when that differs. serde_json escapes each character on its
/// own, so a string holding the text holds its stored form when stored.
pub(crate) fn searched_forms(text: &str) -> Vec<String> {
    let stored = stored_form(text);
    if stored == text {
        vec![text.to_owned()]
    } else {
        vec![text.to_owned(), stored]
    }
}

/// What the index looks up for one form of a `contains` text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lookup {
    /// A full-text query of the form's trigrams, all of which must be there.
    Trigrams(String),
    /// The index's terms from the first to before the second: those that a
    /// form of one or two characters starts (see [`short_text_terms`]).
    TermsStarting(String, String),
    /// A form that only a nested value of the field holds in stored JSON:
    /// the tasks where the field's value is an object or an array (the
    /// first query), among them those the form's trigrams find, if it has
    /// any.
    InNestedValue(String, Option<String>),
}

/// What the index looks up to find every task whose stored data holds
/// `text` in the field `key` ignoring case (and some that do not), one
/// lookup for each form of the text; `None` when the index cannot serve it
/// (see the module documentation).
///
/// A text with a character that serde_json escapes is looked up both as it
/// is written in stored JSON (a string value holding it) and as it is (the
/// JSON text of a nested value, where a quote is also part of the syntax).
/// Each form of three characters or more is looked up by its trigrams, a
/// shorter one by the terms it starts. The text as it is, when it differs
/// from its stored form, is only in the field's value when that value is
/// nested (a number, `true`, `false` and `null` hold no such character),
/// so it is looked up among the tasks where the field is nested (by its
/// trigrams too, when it has three characters or more): a quote alone, in
/// every task's JSON, then finds few candidates.
fn index_lookups(text: &str, key: &str) -> Option<Vec<Lookup>> {
    let forms = searched_forms(text);
    let own_lookup = |form: &str| match trigram_terms(form) {
        Some(terms) => Some(Lookup::Trigrams(terms)),
        None => short_text_terms(form).map(|(from, to)| Lookup::TermsStarting(from, to)),
    };
    forms
        .iter()
        .map(|form| {
            if forms.len() > 1 && form == text {
                // Trigrams narrow the nested values down; the terms a form
                // of one or two characters starts are not worth listing
                // (a quote starts every key's and string's terms).
                Some(Lookup::InNestedValue(
                    nested_value_query(key),
                    trigram_terms(form),
                ))
            } else {
                own_lookup(form)
            }
        })
        .collect()
}

/// The full-text query of the tasks whose stored JSON has `key` with an
/// object or an array as its value (`"key":{` or `"key":[`, as serde_json
/// writes them, without spaces), at any depth. Data keys are plain names
/// (letters, digits, `_` and `-`), written in stored JSON as they are.
fn nested_value_query(key: &str) -> String {
    let queries: Vec<String> = ['{', '[']
        .iter()
        .filter_map(|opening| trigram_terms(&format!("\"{key}\":{opening}")))
        .collect();
    any_of(queries)
}

/// One full-text query of several, any of which a task may match (an
/// empty one matches none, and so do all when every one is empty).
fn any_of(queries: Vec<String>) -> String {
    let queries: Vec<String> = queries.into_iter().filter(|q| !q.is_empty()).collect();
    match queries.as_slice() {
        [one] => one.clone(),
        _ => queries
            .iter()
            .map(|query| format!("({query})"))
            .collect::<Vec<_>>()
            .join(" OR "),
    }
}

/// The trigrams of `text` as full-text terms that must all be there, or
/// `None` when it has fewer than three characters.
fn trigram_terms(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut trigrams: Vec<String> = chars
        .windows(3)
        .map(|window| window.iter().collect())
        .collect();
    if trigrams.is_empty() {
        return None;
    }
    if trigrams.len() > MAX_TRIGRAMS {
        // Spread over the whole text, first and last included.
        let last = trigrams.len() - 1;
        trigrams = (0..MAX_TRIGRAMS)
            .map(|i| trigrams[i * last / (MAX_TRIGRAMS - 1)].clone())
            .collect();
    }
    trigrams.sort();
    trigrams.dedup();
    // A quoted string is one trigram to FTS5.
    let terms: Vec<String> = trigrams
        .iter()
        .map(|trigram| quoted_term(trigram))
        .collect();
    Some(terms.join(" AND "))
}

/// The PostgreSQL index of stored task data's trigrams (`pg_trgm`), which
/// the server makes in the background (see
/// [`Store::prepare_postgres_text_index`]).
const POSTGRES_TEXT_INDEX: &str = "tasks_text_trgm";

/// Whether a `contains` text can be searched for in PostgreSQL's stored
/// text first, through its trigram index: the stored text then holds every
/// match, and the index finds trigrams in it. A field's text as the filter
/// reads it (`json ->>`) is the stored text of its value, except that a
/// string's escaped characters are unescaped (as on SQLite); a word of
/// three ASCII letters is one `pg_trgm` makes trigrams of in any locale
/// (without one it would read the whole index).
pub(crate) fn postgres_stored_text_search(text: &str) -> bool {
    let mut letters = 0;
    let has_word = text.chars().any(|c| {
        letters = if c.is_ascii_alphabetic() {
            letters + 1
        } else {
            0
        };
        letters >= 3
    });
    has_word && !escaped_in_storage(text)
}

/// What one call of [`Store::index_task_text`] added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextIndexBatch {
    /// How many tasks.
    pub added: u64,
    /// The data keys of those tasks that a data field's index can serve
    /// (see [`Store::prepare_data_key_indexes`]), by project: each key with
    /// a string of up to 200 characters, a number or a boolean in some
    /// task of the batch, and no longer string in any.
    pub data_keys: Vec<(ProjectId, String)>,
}

/// The most terms a search of one or two characters looks up: a text in
/// more trigrams than this is common, and the table walks instead.
const MAX_SHORT_TERMS: i64 = 200;

/// How long listing the terms a search of one or two characters starts
/// may take. The index's vocabulary reads each term's whole list of tasks
/// to count them, so the terms of a common text cost about 5 ms each at a
/// million tasks (a quote's 35: 160 ms; the letter `a`'s 20: 90 ms). A
/// text whose terms take longer than this is common, and the table walks
/// instead, meeting matches at once.
const TERMS_LISTING_BUDGET: std::time::Duration = std::time::Duration::from_millis(5);

/// For a form of one or two characters (no trigram of its own): the
/// range of the index's terms that start with it, folded to lower case as
/// the index folds them. Each place the form is in stored data starts a
/// trigram, since stored JSON goes on after any value. The filter ignores
/// only ASCII case, so a stored match differs from the text only in ASCII
/// case, and the index folds both the same way.
fn short_text_terms(form: &str) -> Option<(String, String)> {
    let length = form.chars().count();
    if !(1..3).contains(&length) {
        return None;
    }
    let from: Vec<char> = form.chars().map(index_fold).collect::<Option<_>>()?;
    let mut to = from.clone();
    let last = to.last_mut()?;
    *last = next_char(*last)?;
    Some((from.into_iter().collect(), to.into_iter().collect()))
}

/// The character the index's trigram tokenizer writes for `c` (SQLite's
/// Unicode case folding, by tables of its own): ASCII in lower case, a
/// character without case as it is, any other as SQLite itself folds it;
/// `None` if SQLite could not be asked.
fn index_fold(c: char) -> Option<char> {
    if c.is_ascii() {
        Some(c.to_ascii_lowercase())
    } else if without_case(c) {
        Some(c)
    } else {
        cased_folds()?.get(&c).copied()
    }
}

/// Whether `c` has no case: no upper or lower case form, and not a letter
/// of either, which Unicode case folding leaves alone. (SQLite reads the
/// noncharacters U+FFFE and U+FFFF as U+FFFD: they count as cased here, so
/// that SQLite is asked.)
fn without_case(c: char) -> bool {
    !c.is_lowercase()
        && !c.is_uppercase()
        && c.to_lowercase().eq([c])
        && c.to_uppercase().eq([c])
        && !matches!(c, '\u{fffe}' | '\u{ffff}')
}

/// How SQLite's trigram tokenizer folds each non-ASCII character with
/// case (4,582, all in Unicode's first two planes), asked once.
fn cased_folds() -> Option<&'static std::collections::HashMap<char, char>> {
    static FOLDS: std::sync::OnceLock<Option<std::collections::HashMap<char, char>>> =
        std::sync::OnceLock::new();
    FOLDS
        .get_or_init(|| {
            let cased: Vec<char> = (0x80..=0x1ffff)
                .filter_map(char::from_u32)
                .filter(|&c| !without_case(c))
                .collect();
            match trigram_folds(&cased) {
                Ok(folded) => Some(cased.into_iter().zip(folded).collect()),
                Err(err) => {
                    tracing::warn!("short non-ASCII searches will read every task: {err}");
                    None
                }
            }
        })
        .as_ref()
}

/// The first character of the trigram that each of `chars` starts, as an
/// FTS5 trigram table in memory writes it (the index's tokenizer and
/// options).
fn trigram_folds(chars: &[char]) -> std::result::Result<Vec<char>, String> {
    let connection = rusqlite::Connection::open_in_memory().map_err(|err| err.to_string())?;
    connection
        .execute_batch(
            "CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'trigram');
             CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance');",
        )
        .map_err(|err| err.to_string())?;
    // Each character then two tabs: token 3k is the trigram character k starts.
    let text: String = chars.iter().flat_map(|&c| [c, '\t', '\t']).collect();
    connection
        .execute("INSERT INTO t (rowid, x) VALUES (1, ?1)", [&text])
        .map_err(|err| err.to_string())?;
    let mut folded: Vec<Option<char>> = vec![None; chars.len()];
    let mut statement = connection
        .prepare("SELECT term, \"offset\" FROM v WHERE \"offset\" % 3 = 0")
        .map_err(|err| err.to_string())?;
    let rows = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })
        .map_err(|err| err.to_string())?;
    for row in rows {
        let (term, offset) = row.map_err(|err| err.to_string())?;
        if let Some(slot) = usize::try_from(offset / 3)
            .ok()
            .and_then(|k| folded.get_mut(k))
        {
            *slot = term.chars().next();
        }
    }
    folded
        .into_iter()
        .collect::<Option<Vec<char>>>()
        .ok_or_else(|| "a character started no trigram".to_string())
}

/// The character after `c` (terms compare by their UTF-8 bytes, which
/// order as code points do), over the surrogates' gap; `None` after the last.
fn next_char(c: char) -> Option<char> {
    match c {
        '\u{d7ff}' => Some('\u{e000}'),
        _ => char::from_u32(u32::from(c) + 1),
    }
}

/// A term as an FTS5 string.
fn quoted_term(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// How far the text index has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextIndexProgress {
    /// Every task up to this id is indexed.
    pub indexed_to: i64,
    /// The highest task id there is (0 without tasks).
    pub last_task: i64,
}

impl Store {
    /// Adds up to `batch` tasks that are not in the text index yet, in one
    /// write transaction; returns how many it added (0 when every task is
    /// in, and always on PostgreSQL, which has no such index) and the
    /// data keys of those tasks.
    pub async fn index_task_text(&self, batch: i64) -> Result<TextIndexBatch> {
        let mut done = TextIndexBatch::default();
        match self.text_index_progress().await? {
            // Looked at first without the write lock: the worker asks
            // every second.
            Some(progress) if progress.indexed_to < progress.last_task => {}
            _ => return Ok(done),
        }
        let mut tx = self.begin_write().await?;
        let from: i64 = sqlx::query("SELECT indexed_to FROM tasks_text_progress")
            .fetch_one(&mut *tx)
            .await?
            .try_get("indexed_to")?;
        let to: Option<i64> = sqlx::query(
            "SELECT MAX(id) AS last FROM (SELECT id FROM tasks WHERE id > $1 ORDER BY id LIMIT $2)",
        )
        .bind(from)
        .bind(batch)
        .fetch_one(&mut *tx)
        .await?
        .try_get("last")?;
        let Some(to) = to else {
            return Ok(done);
        };
        done.added =
            sqlx::query("INSERT INTO tasks_text (rowid, data) SELECT id, data FROM tasks WHERE id > $1 AND id <= $2")
                .bind(from)
                .bind(to)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        sqlx::query("UPDATE tasks_text_progress SET indexed_to = $1")
            .bind(to)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // Read after the commit, so that the write lock is not held for it.
        done.data_keys = self.indexable_data_keys(from, to).await?;
        Ok(done)
    }

    /// The top-level keys of the tasks with ids in `from + 1 ..= to` whose
    /// values a data field's index can serve, by project: a key with a
    /// string of up to 200 characters (`DATA_INDEX_MAX_TEXT`), a number or
    /// a boolean in some task, and no longer string in any. SQLite only.
    /// `NOT INDEXED` keeps the read to the batch's ids: for the grouping,
    /// SQLite's planner otherwise walked the whole of an index that starts
    /// with the project (80 ms a batch at a million tasks).
    async fn indexable_data_keys(&self, from: i64, to: i64) -> Result<Vec<(ProjectId, String)>> {
        let rows = self
            .quick_read(
                &format!(
                    "SELECT tasks.project_id AS project, field.key AS key \
                     FROM tasks NOT INDEXED, json_each(tasks.data) AS field \
                     WHERE tasks.id > $1 AND tasks.id <= $2 AND json_type(tasks.data) = 'object' \
                     GROUP BY tasks.project_id, field.key \
                     HAVING max(field.type = 'text' AND length(field.atom) > {DATA_INDEX_MAX_TEXT}) = 0 \
                     AND max(field.type IN ('text', 'integer', 'real', 'true', 'false')) = 1 \
                     ORDER BY tasks.project_id, min(tasks.id)"
                ),
                &[Param::Int(from), Param::Int(to)],
            )
            .await?;
        rows.iter()
            .map(|row| Ok((ProjectId(row.int("project")?), row.text("key")?)))
            .collect()
    }

    /// The full-text query that finds, in `tasks_text`, every task whose
    /// stored data holds a `contains` text ignoring case (and some that do
    /// not): `Some("")` when no task in the index holds it; `None` when the
    /// index cannot serve the search (see [`index_lookups`]) or a form of
    /// one or two characters is common (it starts more than
    /// [`MAX_SHORT_TERMS`] terms, or listing them takes longer than
    /// [`TERMS_LISTING_BUDGET`]), and on PostgreSQL.
    pub(crate) fn text_index_query(&self, text: &str, key: &str) -> Result<Option<String>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let Some(lookups) = index_lookups(text, key) else {
            return Ok(None);
        };
        let mut queries = Vec::new();
        for lookup in lookups {
            match self.lookup_query(lookup)? {
                Some(query) => queries.push(query),
                None => return Ok(None),
            }
        }
        Ok(Some(any_of(queries)))
    }

    /// The full-text query of one lookup (`""` when no task holds it), or
    /// `None` when its text is too common to look up.
    fn lookup_query(&self, lookup: Lookup) -> Result<Option<String>> {
        Ok(match lookup {
            Lookup::Trigrams(terms) => Some(terms),
            Lookup::TermsStarting(from, to) => self.terms_between(&from, &to)?,
            Lookup::InNestedValue(nested, trigrams) => Some(match trigrams {
                Some(trigrams) => format!("({nested}) AND ({trigrams})"),
                None => nested,
            }),
        })
    }

    /// The full-text query of the index's terms from `from` to before `to`
    /// (any of them), or `None` when there are more than
    /// [`MAX_SHORT_TERMS`] or listing them takes longer than
    /// [`TERMS_LISTING_BUDGET`].
    fn terms_between(&self, from: &str, to: &str) -> Result<Option<String>> {
        let sql = format!(
            "SELECT term FROM tasks_text_terms WHERE term >= $1 AND term < $2 LIMIT {}",
            MAX_SHORT_TERMS + 1
        );
        let params = [Param::Text(from), Param::Text(to)];
        // The index is SQLite's, whose store always has quick reads.
        let Some(reads) = &self.sqlite_quick_reads else {
            return Ok(None);
        };
        let Some(rows) = reads.rows_within(&sql, &params, TERMS_LISTING_BUDGET)? else {
            return Ok(None);
        };
        if rows.len() as i64 > MAX_SHORT_TERMS {
            return Ok(None);
        }
        let terms: Vec<String> = rows
            .iter()
            .map(|row| row.text("term").map(|term| quoted_term(&term)))
            .collect::<Result<_>>()?;
        Ok(Some(terms.join(" OR ")))
    }

    /// Makes PostgreSQL's trigram index of stored task data, unless it is
    /// there, so that `contains` filters search the stored text first:
    /// installs the `pg_trgm` extension (shipped with PostgreSQL; a trusted
    /// extension, which the database's owner may install) and builds the
    /// index without blocking writes (`CONCURRENTLY`, about 40 s at a
    /// million tasks), in place of one a stopped build left unfinished.
    /// Returns whether the index is there; nothing to do on SQLite. Until
    /// it is, `contains` filters read each task's JSON, as before.
    pub async fn prepare_postgres_text_index(&self) -> Result<bool> {
        if self.backend != Backend::Postgres {
            return Ok(false);
        }
        // Whether it is there (`None`: no), and valid.
        let state = || async {
            let rows = self
                .quick_read(
                    "SELECT CAST(i.indisvalid AS INT) AS valid FROM pg_index i \
                     JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1",
                    &[Param::Text(POSTGRES_TEXT_INDEX)],
                )
                .await?;
            rows.first()
                .map(|row| row.int("valid").map(|valid| valid == 1))
                .transpose()
        };
        let found = state().await?;
        if found != Some(true) {
            sqlx::raw_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .execute(&self.writers)
                .await?;
            if found == Some(false) {
                sqlx::raw_sql(&format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS {POSTGRES_TEXT_INDEX}"
                ))
                .execute(&self.writers)
                .await?;
            }
            let started = std::time::Instant::now();
            sqlx::raw_sql(&format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {POSTGRES_TEXT_INDEX} \
                 ON tasks USING gin (data gin_trgm_ops)"
            ))
            .execute(&self.writers)
            .await?;
            tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "made the trigram index of task data"
            );
        }
        let ready = state().await? == Some(true);
        self.postgres_text_index
            .store(ready, std::sync::atomic::Ordering::Relaxed);
        Ok(ready)
    }

    /// Whether `contains` filters may search PostgreSQL's stored text first.
    pub(crate) fn postgres_text_indexed(&self) -> bool {
        self.postgres_text_index
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How far the text index has come; `None` on PostgreSQL.
    pub async fn text_index_progress(&self) -> Result<Option<TextIndexProgress>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let row = self
            .quick_read_one(
                "SELECT (SELECT indexed_to FROM tasks_text_progress) AS indexed_to, \
                 (SELECT COALESCE(MAX(id), 0) FROM tasks) AS last_task",
                &[],
            )
            .await?;
        Ok(Some(TextIndexProgress {
            indexed_to: row.int("indexed_to")?,
            last_task: row.int("last_task")?,
        }))
    }

    /// Whether [`Store::close`] has been called.
    pub fn is_closed(&self) -> bool {
        self.writers.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_become_their_trigrams() {
        assert_eq!(
            index_lookups("frame 99", "caption"),
            Some(vec![Lookup::Trigrams(
                r#"" 99" AND "ame" AND "e 9" AND "fra" AND "me " AND "ram""#.to_string()
            )])
        );
        // Repeated trigrams are looked up once.
        assert_eq!(trigram_terms("aaaa").as_deref(), Some(r#""aaa""#));
        // Characters count, not bytes.
        assert_eq!(trigram_terms("héé").as_deref(), Some(r#""héé""#));
    }

    #[test]
    fn one_or_two_characters_without_case_look_up_the_terms_they_start() {
        for (text, range) in [
            ("Zq", Some(("zq", "zr"))),
            ("~", Some(("~", "\u{7f}"))),
            ("abc", None),
            // Characters with case: as the index folds them.
            ("É", Some(("é", "ê"))),
            ("aǅ", Some(("aǆ", "aǇ"))),
            // Characters without case: as they are.
            ("東京", Some(("東京", "東亭"))),
            ("A駅", Some(("a駅", "a駆"))),
            ("\u{d7ff}", Some(("\u{d7ff}", "\u{e000}"))),
            ("\u{10ffff}", None),
            ("", None),
            // Characters that stored JSON escapes, in either form.
            ("\"", Some(("\"", "#"))),
            ("\\\"", Some(("\\\"", "\\#"))),
        ] {
            let expected = range.map(|(from, to)| (from.to_string(), to.to_string()));
            assert_eq!(short_text_terms(text), expected, "{text:?}");
        }
        assert_eq!(quoted_term("a\"b"), "\"a\"\"b\"");
    }

    /// `index_fold` writes every character as SQLite's trigram tokenizer
    /// does: checked on every assigned plane of Unicode.
    #[test]
    fn characters_fold_as_the_index_folds_them() {
        let chars: Vec<char> = (1..=0x3ffff)
            .chain(0xe0000..=0xe01ff)
            .filter_map(char::from_u32)
            .collect();
        let folded = trigram_folds(&chars).unwrap();
        let otherwise: Vec<String> = chars
            .iter()
            .zip(&folded)
            .filter(|(&c, &f)| index_fold(c) != Some(f))
            .map(|(&c, &f)| format!("U+{:04X} to U+{:04X}", u32::from(c), u32::from(f)))
            .collect();
        assert!(otherwise.is_empty(), "folded otherwise: {otherwise:?}");
        // Some that SQLite folds, and some it leaves.
        assert_eq!(index_fold('É'), Some('é'));
        assert_eq!(index_fold('Ж'), Some('ж'));
        assert_eq!(index_fold('東'), Some('東'));
        assert_eq!(index_fold('\u{ffff}'), Some('\u{fffd}'));
    }

    #[test]
    fn postgres_searches_the_stored_text_for_a_word_of_three_ascii_letters() {
        assert!(postgres_stored_text_search("frame 99999"));
        assert!(postgres_stored_text_search("Zürich"));
        assert!(postgres_stored_text_search("a-bcd-e"));
        // No word pg_trgm makes trigrams of, or written otherwise there.
        for text in [
            "ab",
            "a-b-c",
            "99999",
            "1e2",
            "東京駅",
            "ünï",
            "\"bicycle\"",
            "a\\bcd",
        ] {
            assert!(!postgres_stored_text_search(text), "{text}");
        }
        // A nested value's text is as stored, spaces and all.
        assert!(postgres_stored_text_search("red, blue"));
        assert!(postgres_stored_text_search("say: hello"));
    }

    #[test]
    fn short_texts_look_up_the_terms_they_start() {
        assert_eq!(trigram_terms("ab"), None);
        assert_eq!(index_lookups("", "k"), None);
        assert_eq!(
            index_lookups("aB", "k"),
            Some(vec![Lookup::TermsStarting("ab".into(), "ac".into())])
        );
        // Two characters as they are (any nested value), three as stored.
        assert_eq!(
            index_lookups("a\"", "k"),
            Some(vec![
                Lookup::InNestedValue(nested_value_query("k"), None),
                Lookup::Trigrams(quoted_term(r#"a\""#)),
            ])
        );
        // One character as it is, two as stored.
        assert_eq!(
            index_lookups("\n", "k"),
            Some(vec![
                Lookup::InNestedValue(nested_value_query("k"), None),
                Lookup::TermsStarting(r"\n".into(), r"\o".into()),
            ])
        );
    }

    #[test]
    fn lookups_are_joined_as_alternatives() {
        assert_eq!(any_of(vec!["\"ab\"".into()]), "\"ab\"");
        assert_eq!(
            any_of(vec![
                "\"ab\" OR \"ac\"".into(),
                String::new(),
                "\"x\"".into()
            ]),
            "(\"ab\" OR \"ac\") OR (\"x\")"
        );
        // No task in the index holds any form.
        assert_eq!(any_of(vec![String::new(), String::new()]), "");
    }

    #[test]
    fn escaped_texts_are_looked_up_as_stored_and_as_they_are() {
        assert_eq!(stored_form("say \"hi\""), r#"say \"hi\""#);
        assert_eq!(stored_form("a\\b\nc\u{1}"), r#"a\\b\nc\u0001"#);
        assert_eq!(
            index_lookups(r#"1"}"#, "k").unwrap(),
            vec![
                Lookup::InNestedValue(nested_value_query("k"), Some(quoted_term(r#"1"}"#))),
                Lookup::Trigrams(format!(
                    "{} AND {}",
                    quoted_term(r#"1\""#),
                    quoted_term(r#"\"}"#)
                )),
            ]
        );
        assert_eq!(
            index_lookups("a\nb", "k").unwrap(),
            vec![
                Lookup::InNestedValue(nested_value_query("k"), Some(quoted_term("a\nb"))),
                Lookup::Trigrams(format!(
                    "{} AND {}",
                    quoted_term(r"\nb"),
                    quoted_term(r"a\n")
                )),
            ]
        );
    }

    #[test]
    fn a_nested_value_is_looked_up_by_its_key_and_opening() {
        // `"k":{` and `"k":[`, any of the two.
        assert_eq!(
            nested_value_query("k"),
            format!(
                "({} AND {} AND {}) OR ({} AND {} AND {})",
                quoted_term("\":{"),
                quoted_term("\"k\""),
                quoted_term("k\":"),
                quoted_term("\":["),
                quoted_term("\"k\""),
                quoted_term("k\":"),
            )
        );
        // A text without escaped characters has one form, looked up alone.
        assert_eq!(
            index_lookups("say", "k"),
            Some(vec![Lookup::Trigrams(quoted_term("say"))])
        );
    }

    #[test]
    fn long_searches_look_up_a_spread_of_trigrams() {
        let text = "abcdefghijklmnopqrstuvwxyz";
        let query = trigram_terms(text).unwrap();
        let terms: Vec<&str> = query.split(" AND ").collect();
        assert_eq!(terms.len(), MAX_TRIGRAMS);
        assert!(terms.contains(&r#""abc""#) && terms.contains(&r#""xyz""#));
    }
}
