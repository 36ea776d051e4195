//! spaCy v3 `.spacy` files (`DocBin`), out and in.
//!
//! # The file
//!
//! A `.spacy` file is what spaCy's `DocBin.to_bytes` writes: zlib-compressed
//! MessagePack of one map,
//!
//! ```text
//! {"version": "0.1",
//!  "attrs": [65, 77, 78],              # ORTH, ENT_IOB, ENT_TYPE (attribute ids)
//!  "tokens": bytes,                    # uint64, little-endian, a row per token, a column per attr
//!  "spaces": bytes,                    # a byte per token: 1 when a space follows it
//!  "lengths": bytes,                   # int32, little-endian: tokens per document
//!  "strings": ["", "Paris", "LOC", …], # every string the tokens name, sorted
//!  "cats": [{"positive": 1.0, …}, …],  # per document
//!  "flags": [{"has_unknown_spaces": false}, …],
//!  "span_groups": [b"\x90", …]}        # per document: no span groups
//! ```
//!
//! Strings are in the token rows as spaCy's hashes ([`spacy_hash`]):
//! MurmurHash64A of the UTF-8 bytes with seed 1, except spaCy's symbols
//! (`PERSON`, `ORG`, `NOUN`, attribute names…), which are their small ids.
//! `ENT_IOB` is 0 where entities are not annotated, 1 inside an entity,
//! 2 outside any, 3 at an entity's first token; `ENT_TYPE` is the hash of
//! the entity's label (0 outside).
//!
//! # Writing
//!
//! One document per task with text, in the order tasks come: its text's
//! tokens ([`crate::tokenize`], as CoNLL-2003's), with the whitespace
//! between them as spaCy keeps it, so that spaCy's `doc.text` is the task's
//! text exactly: a single space after a token is that token's `SPACY` flag,
//! other whitespace (line breaks, runs of spaces) a token of its own (as
//! spaCy's own tokenizer makes them). The entities (`doc.ents`) are the
//! spans of the `Labels` control in the first annotation that was not
//! cancelled, placed on whole tokens as the CoNLL export places them (a span
//! over part of a token takes the whole token, counted as `widened`;
//! overlapping spans cannot be entities together, so the later ones are
//! left out and counted as `overlapping`). A task without such an
//! annotation has its entities unannotated (`ENT_IOB` 0, which spaCy's
//! training takes as missing), not "no entities".
//!
//! `doc.cats` comes from the document-level `Choices` controls on the text:
//! 1.0 for each choice chosen in that annotation, 0.0 for the control's
//! other choices (`{}` for a task without an annotation).
//!
//! Only `ORTH`, `ENT_IOB` and `ENT_TYPE` are written (spaCy's `DocBin` with
//! `attrs=["ENT_IOB", "ENT_TYPE"]`), so `NORM`, `LEMMA`, tags and parses
//! are left to spaCy's pipelines; the rest of the map is as spaCy writes it.
//!
//! # Reading
//!
//! [`read_spacy`] takes a file written by spaCy (any `attrs`, as long as
//! `ORTH` is among them) or by Gloss: each document becomes a task whose
//! text is spaCy's `doc.text` (the tokens joined with their spaces),
//! `doc.ents` become `labels` results in code points (which are Python's
//! characters), and `cats` above 0.5 become the choices of the `Choices`
//! control that has them. Span groups and user data are not read. A file
//! that is not zlib, not MessagePack, not of `DocBin`'s shape, or whose
//! tokens name a hash its strings do not hold is refused with the reason; a
//! document with a broken entity (an `I` token without a `B` before it, an
//! `ENT_IOB` beyond 3) or with entities or classes the label config cannot
//! hold is rejected by its position.

use crate::coco::ControlRef;
use crate::conll::{place_spans, tokenize, Token};
use crate::model::{AnnotationRecord, FormatError, Rejection, TaskRecord};
use crate::msgpack::{self, Value as Pack};
use crate::spacy_symbols::SYMBOLS;
use crate::write::ExportTask;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use gloss_types::result::{ChoicesValue, LabelsValue, ResultItem, ResultValue};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom, Write};

/// spaCy's attribute id of a token's text.
pub const ORTH: u64 = 65;
/// spaCy's attribute id of a token's place in an entity (IOB).
pub const ENT_IOB: u64 = 77;
/// spaCy's attribute id of a token's entity label.
pub const ENT_TYPE: u64 = 78;

/// `ENT_IOB` values.
const IOB_MISSING: u64 = 0;
const IOB_INSIDE: u64 = 1;
const IOB_OUTSIDE: u64 = 2;
const IOB_BEGIN: u64 = 3;

/// The most bytes a `.spacy` file may unpack to.
pub const MAX_SPACY_BYTES: u64 = 1 << 30;

/// MurmurHash64A (Austin Appleby's MurmurHash2, 64-bit, for 64-bit
/// machines), the hash spaCy's strings use with seed 1.
pub fn murmurhash64a(bytes: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(M);
    let mut blocks = bytes.chunks_exact(8);
    for block in &mut blocks {
        let mut k = u64::from_le_bytes(block.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The id spaCy gives a string (`nlp.vocab.strings[s]`): 0 for the empty
/// string, a symbol's id for its symbols, else [`murmurhash64a`] of its
/// UTF-8 bytes with seed 1.
pub fn spacy_hash(string: &str) -> u64 {
    if string.is_empty() {
        return 0;
    }
    match symbol_id(string) {
        Some(id) => id,
        None => murmurhash64a(string.as_bytes(), 1),
    }
}

fn symbol_id(string: &str) -> Option<u64> {
    static IDS: std::sync::OnceLock<HashMap<&'static str, u64>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        SYMBOLS
            .iter()
            .enumerate()
            .map(|(id, name)| (*name, id as u64))
            .collect()
    })
    .get(string)
    .copied()
}

/// A document-level `Choices` control whose choices are `doc.cats`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpacyChoices {
    pub from_name: String,
    pub to_name: String,
    /// Its choices, in the label config's order.
    pub choices: Vec<String>,
}

/// What a spaCy export writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpacyOptions {
    /// The data key of the `<Text>`, e.g. `"text"`.
    pub text_field: String,
    /// The `Labels` control whose spans are the entities.
    pub labels_control: Option<String>,
    /// The `Choices` controls on the text, for `doc.cats`.
    pub choices: Vec<SpacyChoices>,
}

/// Counts of what a spaCy export wrote and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpacySummary {
    pub documents: u64,
    pub tokens: u64,
    pub entities: u64,
    /// Spans that started or ended inside a token, written as whole tokens.
    pub widened: u64,
    /// Spans left out because they overlap one written (or cover no token).
    pub overlapping: u64,
    /// Tasks without text.
    pub skipped: u64,
}

/// Collects tasks as spaCy documents and writes the `DocBin` at the end.
///
/// A `DocBin` is one map whose byte string of token rows is announced with
/// its length and whose strings are all the tokens' texts, so nothing can
/// be written before the last task: the token rows (24 bytes a token) go
/// to a spool file the caller gives, and only a byte a token (its space),
/// each distinct string once and each document's classes stay in memory
/// until [`SpacyWriter::finish`].
pub struct SpacyWriter<W: Write, S: Read + Write + Seek> {
    out: W,
    options: SpacyOptions,
    summary: SpacySummary,
    /// `ORTH`, `ENT_IOB`, `ENT_TYPE` of each token, as little-endian u64s.
    tokens: io::BufWriter<S>,
    spaces: Vec<u8>,
    lengths: Vec<u8>,
    strings: HashSet<String>,
    cats: Vec<Vec<(String, f64)>>,
}

/// A spaCy token of a text: code points `start..end`, and whether a space
/// follows it.
struct DocToken {
    start: usize,
    end: usize,
    space: bool,
}

/// spaCy's tokens for Gloss's `words` of `chars`, so that the tokens with
/// their spaces are the text again (see the [module](self)); and where each
/// word is among them.
fn doc_tokens(chars: &[char], words: &[Token]) -> (Vec<DocToken>, Vec<usize>) {
    let mut tokens: Vec<DocToken> = Vec::with_capacity(words.len() * 2);
    let mut word_at = Vec::with_capacity(words.len());
    let gap = |tokens: &mut Vec<DocToken>, mut from: usize, to: usize| {
        if from < to && chars[from] == ' ' {
            if let Some(last) = tokens.last_mut() {
                last.space = true;
                from += 1;
            }
        }
        if from < to {
            tokens.push(DocToken {
                start: from,
                end: to,
                space: false,
            });
        }
    };
    let mut at = 0;
    for word in words {
        let (start, end) = (word.start as usize, word.end as usize);
        gap(&mut tokens, at, start);
        word_at.push(tokens.len());
        tokens.push(DocToken {
            start,
            end,
            space: false,
        });
        at = end;
    }
    gap(&mut tokens, at, chars.len());
    (tokens, word_at)
}

impl<W: Write, S: Read + Write + Seek> SpacyWriter<W, S> {
    /// A writer to `out`, spooling token rows to `spool` (a temporary file,
    /// empty).
    pub fn new(out: W, spool: S, options: SpacyOptions) -> SpacyWriter<W, S> {
        SpacyWriter {
            out,
            options,
            summary: SpacySummary::default(),
            tokens: io::BufWriter::with_capacity(256 * 1024, spool),
            spaces: Vec::new(),
            lengths: Vec::new(),
            strings: HashSet::new(),
            cats: Vec::new(),
        }
    }

    /// Adds one task as a document: its text's tokens, the entities and
    /// classes of its first annotation that was not cancelled.
    pub fn write_task(&mut self, task: &ExportTask) -> io::Result<()> {
        let Some(text) = task
            .data
            .get(&self.options.text_field)
            .and_then(Value::as_str)
        else {
            self.summary.skipped += 1;
            return Ok(());
        };
        let annotation = task
            .annotations
            .iter()
            .find(|a| !a.record.was_cancelled)
            .map(|a| &a.record.result);
        let spans: Vec<(u64, u64, &str)> = match (annotation, &self.options.labels_control) {
            (Some(result), Some(control)) => result
                .iter()
                .filter(|r| &r.from_name == control)
                .filter_map(|r| match &r.value {
                    ResultValue::Labels(v) => Some((v.start, v.end, v.labels.first()?.as_str())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let chars: Vec<char> = text.chars().collect();
        let words = tokenize(text);
        let placed = place_spans(&words, spans);
        let (doc, word_at) = doc_tokens(&chars, &words);

        let annotated = annotation.is_some() && self.options.labels_control.is_some();
        let mut iob = vec![if annotated { IOB_OUTSIDE } else { IOB_MISSING }; doc.len()];
        let mut types = vec![0u64; doc.len()];
        for (first, last, label) in &placed.entities {
            let (first, last) = (word_at[*first], word_at[*last - 1]);
            let hash = self.string(label);
            iob[first] = IOB_BEGIN;
            types[first] = hash;
            for token in first + 1..=last {
                iob[token] = IOB_INSIDE;
                types[token] = hash;
            }
        }
        let length = i32::try_from(doc.len()).map_err(|_| {
            io::Error::other("a text of over 2³¹ tokens cannot be a spaCy document")
        })?;
        if !doc.is_empty() {
            // spaCy's DocBin adds every token's (empty) tag, lemma and so on.
            self.strings.insert(String::new());
        }
        for ((token, iob), ent_type) in doc.iter().zip(iob).zip(types) {
            let text: String = chars[token.start..token.end].iter().collect();
            let orth = self.string(&text);
            let mut row = [0u8; 24];
            row[..8].copy_from_slice(&orth.to_le_bytes());
            row[8..16].copy_from_slice(&iob.to_le_bytes());
            row[16..].copy_from_slice(&ent_type.to_le_bytes());
            self.tokens.write_all(&row)?;
            self.spaces.push(u8::from(token.space));
        }
        self.lengths.extend_from_slice(&length.to_le_bytes());

        let mut cats: Vec<(String, f64)> = Vec::new();
        if let Some(result) = annotation {
            for control in &self.options.choices {
                let chosen: Vec<&str> = result
                    .iter()
                    .filter(|r| r.from_name == control.from_name)
                    .filter_map(|r| match &r.value {
                        ResultValue::Choices(v) => Some(v.choices.iter().map(String::as_str)),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                for choice in &control.choices {
                    let score = if chosen.contains(&choice.as_str()) {
                        1.0
                    } else {
                        0.0
                    };
                    // A choice of two controls is one class: chosen in either.
                    match cats.iter_mut().find(|(name, _)| name == choice) {
                        Some((_, old)) => *old = f64::max(*old, score),
                        None => cats.push((choice.clone(), score)),
                    }
                }
            }
        }
        self.cats.push(cats);

        self.summary.documents += 1;
        self.summary.tokens += doc.len() as u64;
        self.summary.entities += placed.entities.len() as u64;
        self.summary.widened += placed.widened;
        self.summary.overlapping += placed.overlapping;
        Ok(())
    }

    /// The hash of `string`, noted among the file's strings.
    fn string(&mut self, string: &str) -> u64 {
        if !self.strings.contains(string) {
            self.strings.insert(string.to_owned());
        }
        spacy_hash(string)
    }

    /// Writes the `DocBin` and returns the output with what was written.
    pub fn finish(self) -> io::Result<(W, SpacySummary)> {
        let SpacyWriter {
            out,
            summary,
            tokens,
            spaces,
            lengths,
            strings,
            cats,
            ..
        } = self;
        let documents = cats.len();
        let mut z = ZlibEncoder::new(out, Compression::default());
        msgpack::write_map_head(&mut z, 9)?;
        msgpack::write_str(&mut z, "version")?;
        msgpack::write_str(&mut z, "0.1")?;
        msgpack::write_str(&mut z, "attrs")?;
        msgpack::write_array_head(&mut z, 3)?;
        for attr in [ORTH, ENT_IOB, ENT_TYPE] {
            msgpack::write_uint(&mut z, attr)?;
        }
        msgpack::write_str(&mut z, "tokens")?;
        let rows = spaces.len() * 24;
        msgpack::write_bin_head(&mut z, rows)?;
        let mut spool = tokens.into_inner().map_err(|err| err.into_error())?;
        spool.seek(SeekFrom::Start(0))?;
        let copied = io::copy(&mut (&mut spool).take(rows as u64), &mut z)?;
        if copied != rows as u64 {
            return Err(io::Error::other(format!(
                "the spool of token rows holds {copied} bytes, not {rows}"
            )));
        }
        msgpack::write_str(&mut z, "spaces")?;
        msgpack::write_bin(&mut z, &spaces)?;
        msgpack::write_str(&mut z, "lengths")?;
        msgpack::write_bin(&mut z, &lengths)?;
        msgpack::write_str(&mut z, "strings")?;
        // Sorted as Python sorts strings: by code point, which is UTF-8's byte order.
        let mut strings: Vec<String> = strings.into_iter().collect();
        strings.sort_unstable();
        msgpack::write_array_head(&mut z, strings.len())?;
        for string in &strings {
            msgpack::write_str(&mut z, string)?;
        }
        msgpack::write_str(&mut z, "cats")?;
        msgpack::write_array_head(&mut z, documents)?;
        for doc_cats in &cats {
            msgpack::write_map_head(&mut z, doc_cats.len())?;
            for (name, score) in doc_cats {
                msgpack::write_str(&mut z, name)?;
                msgpack::write_f64(&mut z, *score)?;
            }
        }
        msgpack::write_str(&mut z, "flags")?;
        msgpack::write_array_head(&mut z, documents)?;
        for _ in 0..documents {
            msgpack::write_map_head(&mut z, 1)?;
            msgpack::write_str(&mut z, "has_unknown_spaces")?;
            msgpack::write_bool(&mut z, false)?;
        }
        msgpack::write_str(&mut z, "span_groups")?;
        msgpack::write_array_head(&mut z, documents)?;
        for _ in 0..documents {
            // `doc.spans.to_bytes()` of no span groups: an empty array.
            msgpack::write_bin(&mut z, &[0x90])?;
        }
        let mut out = z.finish()?;
        out.flush()?;
        Ok((out, summary))
    }
}

/// Where a `.spacy` file's documents go in the project's tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpacyImportOptions {
    /// The data key that gets the text, e.g. `"text"`.
    pub text_field: String,
    /// The `Labels` control that gets the entities.
    pub labels: Option<ControlRef>,
    /// The `Choices` controls on the text, which get the classes.
    pub choices: Vec<SpacyChoices>,
}

/// The bytes of a byte string.
fn bytes_of<'a>(value: &Pack<'a>) -> Option<&'a [u8]> {
    match *value {
        Pack::Bin(bytes) => Some(bytes),
        _ => None,
    }
}

fn malformed(reason: impl Into<String>) -> FormatError {
    FormatError::Spacy {
        reason: reason.into(),
    }
}

/// A field of the DocBin map, of the kind `read` takes.
fn field<'m, 'a, T>(
    map: &'m Pack<'a>,
    name: &str,
    want: &str,
    read: impl FnOnce(&'m Pack<'a>) -> Option<T>,
) -> Result<T, FormatError> {
    let value = map
        .get(name)
        .ok_or_else(|| malformed(format!("it has no `{name}`")))?;
    read(value).ok_or_else(|| malformed(format!("`{name}` is {}, not {want}", value.kind())))
}

/// Reads a spaCy v3 `DocBin` file; see the [module](self).
pub fn read_spacy<R: Read>(
    input: R,
    options: &SpacyImportOptions,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let mut bytes = Vec::new();
    ZlibDecoder::new(input)
        .take(MAX_SPACY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| match err.kind() {
            io::ErrorKind::InvalidInput
            | io::ErrorKind::InvalidData
            | io::ErrorKind::UnexpectedEof => {
                malformed(format!("it is not zlib-compressed data ({err})"))
            }
            _ => FormatError::Io(err),
        })?;
    if bytes.len() as u64 > MAX_SPACY_BYTES {
        return Err(malformed(format!(
            "it unpacks to more than {} MiB",
            MAX_SPACY_BYTES >> 20
        )));
    }
    let bin = msgpack::decode(&bytes)
        .map_err(|err| malformed(format!("its unpacked bytes are not MessagePack: {err}")))?;
    if !matches!(bin, Pack::Map(_)) {
        return Err(malformed(format!(
            "it holds {}, not the map of a DocBin",
            bin.kind()
        )));
    }
    let attrs: Vec<u64> = field(&bin, "attrs", "an array of attribute ids", |v| match v {
        Pack::Array(items) => items
            .iter()
            .map(|item| match item {
                Pack::UInt(n) => Some(*n),
                _ => None,
            })
            .collect(),
        _ => None,
    })?;
    let column = |attr: u64| attrs.iter().position(|&a| a == attr);
    let orth_column = column(ORTH).ok_or_else(|| {
        malformed(format!(
            "`attrs` {attrs:?} lacks ORTH ({ORTH}), the tokens' text"
        ))
    })?;
    let iob_column = column(ENT_IOB);
    let type_column = column(ENT_TYPE);
    let token_bytes = field(&bin, "tokens", "bytes", bytes_of)?;
    let space_bytes = field(&bin, "spaces", "bytes", bytes_of)?;
    let length_bytes = field(&bin, "lengths", "bytes", bytes_of)?;
    let strings: Vec<&str> = field(&bin, "strings", "an array of strings", |v| match v {
        Pack::Array(items) => items
            .iter()
            .map(|item| match item {
                Pack::Str(s) => Some(*s),
                _ => None,
            })
            .collect(),
        _ => None,
    })?;

    if length_bytes.len() % 4 != 0 {
        return Err(malformed(format!(
            "`lengths` is {} bytes, not a whole number of int32s",
            length_bytes.len()
        )));
    }
    let mut lengths = Vec::with_capacity(length_bytes.len() / 4);
    for (doc, chunk) in length_bytes.chunks_exact(4).enumerate() {
        let length = i32::from_le_bytes(chunk.try_into().expect("4 bytes"));
        let length = usize::try_from(length)
            .map_err(|_| malformed(format!("document {} has {length} tokens", doc + 1)))?;
        lengths.push(length);
    }
    let total: usize = lengths.iter().sum();
    let want = (total as u128) * (attrs.len() as u128) * 8;
    if token_bytes.len() as u128 != want {
        return Err(malformed(format!(
            "`tokens` is {} bytes, and {total} tokens (the sum of `lengths`) of {} attrs take {want}",
            token_bytes.len(),
            attrs.len()
        )));
    }
    if space_bytes.len() != total {
        return Err(malformed(format!(
            "`spaces` is {} bytes, and there are {total} tokens (the sum of `lengths`)",
            space_bytes.len()
        )));
    }
    let documents = lengths.len();
    let cats: Vec<Vec<(&str, f64)>> = match bin.get("cats") {
        None => vec![Vec::new(); documents],
        Some(Pack::Array(items)) if items.len() == documents => {
            let mut all = Vec::with_capacity(documents);
            for (doc, item) in items.iter().enumerate() {
                let Pack::Map(entries) = item else {
                    return Err(malformed(format!(
                        "`cats` of document {} is {}, not a map",
                        doc + 1,
                        item.kind()
                    )));
                };
                let mut doc_cats = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    match (key, value.as_f64()) {
                        (Pack::Str(name), Some(score)) => doc_cats.push((*name, score)),
                        _ => {
                            return Err(malformed(format!(
                                "`cats` of document {} maps {} to {}, not a name to a number",
                                doc + 1,
                                key.kind(),
                                value.kind()
                            )))
                        }
                    }
                }
                all.push(doc_cats);
            }
            all
        }
        Some(Pack::Array(items)) => {
            return Err(malformed(format!(
                "`cats` has {} entries for {documents} documents",
                items.len()
            )))
        }
        Some(other) => {
            return Err(malformed(format!(
                "`cats` is {}, not an array",
                other.kind()
            )))
        }
    };
    let unknown_spaces: Vec<bool> = match bin.get("flags") {
        Some(Pack::Array(items)) if items.len() == documents => items
            .iter()
            .map(|flags| matches!(flags.get("has_unknown_spaces"), Some(Pack::Bool(true))))
            .collect(),
        None => vec![false; documents],
        Some(Pack::Array(items)) => {
            return Err(malformed(format!(
                "`flags` has {} entries for {documents} documents",
                items.len()
            )))
        }
        Some(other) => {
            return Err(malformed(format!(
                "`flags` is {}, not an array",
                other.kind()
            )))
        }
    };

    let by_hash: HashMap<u64, &str> = strings.iter().map(|s| (spacy_hash(s), *s)).collect();
    let lookup = |hash: u64| -> Option<&str> {
        match hash {
            0 => Some(""),
            h if h < SYMBOLS.len() as u64 => Some(SYMBOLS[h as usize]),
            h => by_hash.get(&h).copied(),
        }
    };
    let width = attrs.len();
    let cell = |token: usize, column: usize| -> u64 {
        let at = (token * width + column) * 8;
        u64::from_le_bytes(token_bytes[at..at + 8].try_into().expect("8 bytes"))
    };

    let mut tasks = Vec::with_capacity(documents);
    let mut rejections = Vec::new();
    let mut first_token = 0usize;
    for (index, &length) in lengths.iter().enumerate() {
        let row = index as u64 + 1;
        let tokens = first_token..first_token + length;
        first_token += length;
        // The text, and where each token starts in it (code points).
        let mut text = String::new();
        let mut starts = Vec::with_capacity(length + 1);
        let mut at = 0u64;
        for token in tokens.clone() {
            let hash = cell(token, orth_column);
            let orth = lookup(hash).ok_or_else(|| {
                malformed(format!(
                    "document {row}, token {}: its ORTH {hash} is the hash of none of the file's strings",
                    token - tokens.start + 1
                ))
            })?;
            starts.push(at);
            text.push_str(orth);
            at += orth.chars().count() as u64;
            if unknown_spaces[index] || space_bytes[token] != 0 {
                text.push(' ');
                at += 1;
            }
        }
        // The end of each token, before its space.
        let ends: Vec<u64> = tokens
            .clone()
            .enumerate()
            .map(|(i, token)| {
                let next = starts.get(i + 1).copied().unwrap_or(at);
                let spaced = unknown_spaces[index] || space_bytes[token] != 0;
                next - u64::from(spaced)
            })
            .collect();

        // doc.ents, as spaCy reads them from ENT_IOB and ENT_TYPE.
        let mut entities: Vec<(usize, usize)> = Vec::new();
        let mut labels: Vec<&str> = Vec::new();
        let mut problems = Vec::new();
        let mut annotated = false;
        if let (Some(iob_column), Some(type_column)) = (iob_column, type_column) {
            let mut open: Option<(usize, &str)> = None;
            // Ends the open entity before token `end`; spaCy drops entities
            // without a label.
            fn close<'s>(
                open: &mut Option<(usize, &'s str)>,
                end: usize,
                entities: &mut Vec<(usize, usize)>,
                labels: &mut Vec<&'s str>,
            ) {
                if let Some((start, label)) = open.take().filter(|(_, l)| !l.is_empty()) {
                    entities.push((start, end));
                    labels.push(label);
                }
            }
            for (i, token) in tokens.clone().enumerate() {
                let iob = cell(token, iob_column);
                if iob != IOB_MISSING {
                    annotated = true;
                }
                match iob {
                    IOB_INSIDE if open.is_none() => problems.push(Rejection::new(
                        row,
                        format!("token {}", i + 1),
                        "is inside an entity (ENT_IOB I) that no B token starts",
                    )),
                    IOB_INSIDE => {}
                    IOB_MISSING | IOB_OUTSIDE => close(&mut open, i, &mut entities, &mut labels),
                    IOB_BEGIN => {
                        close(&mut open, i, &mut entities, &mut labels);
                        let hash = cell(token, type_column);
                        if hash != 0 {
                            let label = lookup(hash).ok_or_else(|| {
                                malformed(format!(
                                    "document {row}, token {}: its ENT_TYPE {hash} is the hash of none of the file's strings",
                                    i + 1
                                ))
                            })?;
                            open = Some((i, label));
                        }
                    }
                    other => problems.push(Rejection::new(
                        row,
                        format!("token {}", i + 1),
                        format!("has ENT_IOB {other}, not 0 to 3"),
                    )),
                }
            }
            close(&mut open, length, &mut entities, &mut labels);
        }
        if !entities.is_empty() && options.labels.is_none() {
            problems.push(Rejection::new(
                row,
                "ents",
                "has entities, and the label config has no Labels control on the text for them",
            ));
        }
        // Classes above 0.5, by the Choices control that has them.
        let mut chosen: Vec<(usize, Vec<String>)> = Vec::new();
        for (name, score) in &cats[index] {
            if *score <= 0.5 {
                continue;
            }
            match options
                .choices
                .iter()
                .position(|c| c.choices.iter().any(|choice| choice == name))
            {
                Some(control) => match chosen.iter_mut().find(|(c, _)| *c == control) {
                    Some((_, names)) => names.push((*name).to_owned()),
                    None => chosen.push((control, vec![(*name).to_owned()])),
                },
                None => problems.push(Rejection::new(
                    row,
                    format!("cats.{name}"),
                    format!(
                        "is {score}, and no Choices control on the text has the choice {name:?}"
                    ),
                )),
            }
        }
        if !problems.is_empty() {
            rejections.extend(problems);
            continue;
        }

        let chars: Vec<char> = text.chars().collect();
        let mut result = Vec::new();
        if let Some(control) = &options.labels {
            for ((first, end), label) in entities.into_iter().zip(labels) {
                let (start, end) = (starts[first], ends[end - 1]);
                result.push(ResultItem {
                    id: Some(format!("spacy-{}", result.len() + 1)),
                    from_name: control.from_name.clone(),
                    to_name: control.to_name.clone(),
                    value: ResultValue::Labels(LabelsValue {
                        start,
                        end,
                        text: Some(chars[start as usize..end as usize].iter().collect()),
                        labels: vec![label.to_owned()],
                        extra: Map::new(),
                    }),
                    original_width: None,
                    original_height: None,
                    image_rotation: None,
                    parent_id: None,
                    extra: Map::new(),
                });
            }
        }
        for (control, names) in chosen {
            let control = &options.choices[control];
            result.push(ResultItem {
                id: Some(format!("spacy-{}", result.len() + 1)),
                from_name: control.from_name.clone(),
                to_name: control.to_name.clone(),
                value: ResultValue::Choices(ChoicesValue {
                    choices: names,
                    extra: Map::new(),
                }),
                original_width: None,
                original_height: None,
                image_rotation: None,
                parent_id: None,
                extra: Map::new(),
            });
        }
        let mut data = Map::new();
        data.insert(options.text_field.clone(), Value::String(text));
        let mut task = TaskRecord {
            data,
            ..TaskRecord::default()
        };
        // Annotated (entities or "no entities", or classes): an annotation,
        // even an empty one, so that a Gloss export writes it back the same.
        let has_ents = annotated && options.labels.is_some();
        let has_cats = !cats[index].is_empty() && !options.choices.is_empty();
        if !result.is_empty() || has_ents || has_cats {
            task.annotations.push(AnnotationRecord {
                result,
                ..AnnotationRecord::default()
            });
        }
        tasks.push(task);
    }
    Ok((tasks, rejections))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_spacys() {
        // `spacy.strings.hash_string(s)` / `nlp.vocab.strings[s]`, spaCy 3.8.
        assert_eq!(spacy_hash(""), 0);
        assert_eq!(spacy_hash("PERSON"), 380);
        assert_eq!(spacy_hash("ORTH"), ORTH);
        assert_eq!(spacy_hash("ENT_IOB"), ENT_IOB);
        assert_eq!(spacy_hash("ENT_TYPE"), ENT_TYPE);
        assert_eq!(murmurhash64a(b"PERSON", 1), 11121653176597302729);
        assert_eq!(spacy_hash("Peter"), 12811822816318728671);
        assert_eq!(spacy_hash("a"), 11901859001352538922);
        assert_eq!(spacy_hash("😀"), 13900606239988879105);
        assert_eq!(spacy_hash("Café"), 6806715258286457036);
        assert_eq!(spacy_hash("abcdefgh"), 17751780907874141760);
        assert_eq!(spacy_hash("abcdefghi"), 13885881106499164936);
    }

    #[test]
    fn whitespace_other_than_one_space_is_a_token() {
        let text = "  New  York\n\nis big \u{301}";
        let chars: Vec<char> = text.chars().collect();
        let words = tokenize(text);
        let (doc, word_at) = doc_tokens(&chars, &words);
        let shown: Vec<(String, bool)> = doc
            .iter()
            .map(|t| (chars[t.start..t.end].iter().collect(), t.space))
            .collect();
        let want: Vec<(String, bool)> = [
            ("  ", false),
            ("New", true),
            (" ", false),
            ("York", false),
            ("\n\n", false),
            ("is", true),
            ("big", true),
            ("\u{301}", false),
        ]
        .iter()
        .map(|(t, s)| ((*t).to_owned(), *s))
        .collect();
        assert_eq!(shown, want);
        assert_eq!(word_at, [1, 3, 5, 6]);
        // The tokens with their spaces are the text again.
        let again: String = shown
            .iter()
            .map(|(t, s)| format!("{t}{}", if *s { " " } else { "" }))
            .collect();
        assert_eq!(again, text);
    }
}
