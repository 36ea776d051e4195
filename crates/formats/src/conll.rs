//! CoNLL-2003 named-entity files with IOB2 tags, out and in.
//!
//! ```text
//! -DOCSTART- -X- -X- O
//!
//! EU -X- _ B-ORG
//! rejects -X- _ O
//! German -X- _ B-MISC
//!
//! Peter -X- _ B-PER
//! Blackburn -X- _ I-PER
//! ```
//!
//! One document per task (a `-DOCSTART-` line, then a blank line), one
//! sentence per line of the task's text (blank lines between sentences),
//! one token per line: the token, `-X-` and `_` where CoNLL-2003 has the
//! part of speech and chunk (Gloss has neither), and the entity tag last.
//!
//! # Tokens
//!
//! [`tokenize`] splits the text at whitespace, and splits off every
//! character that is not a letter, digit, `_` or combining mark as a token
//! of its own: `don't` is `don`, `'`, `t`; `U.S.` is `U`, `.`, `S`, `.`;
//! `(Paris)` is `(`, `Paris`, `)`. Combining marks stay with the letter
//! before them (`é` written as `e` + U+0301 is one token, and so are Arabic
//! words with their vowel marks); an emoji is a token of its own. Token
//! offsets are Unicode code points, as Label Studio's `labels` results
//! count them.
//!
//! # Tags
//!
//! IOB2: a span's first token is `B-{label}`, its others `I-{label}`,
//! tokens outside every span `O`. A token is in a span when they overlap,
//! so a span that starts or ends inside a token takes the whole token
//! (counted as `widened`). IOB2 cannot nest or overlap spans: where spans
//! overlap, the one that starts first (the longer at the same start) is
//! written and the others are counted as `overlapping`, which the export
//! reports.
//!
//! # Reading
//!
//! [`read_conll`] makes one task per `-DOCSTART-` document (one per
//! sentence in a file without any), its text the tokens joined by single
//! spaces and the sentences by line breaks, and one `labels` result per
//! entity. Both IOB2 and IOB1 (`I-` starting an entity) are read; the last
//! column is the tag, the first the token. A line of one column, or a tag
//! that is not `O`, `B-…` or `I-…`, rejects the document, naming its line.

use crate::coco::ControlRef;
use crate::model::{AnnotationRecord, FormatError, Rejection, TaskRecord};
use crate::write::ExportTask;
use gloss_types::result::{LabelsValue, ResultItem, ResultValue};
use serde_json::{Map, Value};
use std::io::{self, BufRead, Write};

/// One token of a text: its characters and where they are, in code points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub start: u64,
    pub end: u64,
}

/// Whether a character is part of a word token (see the [module](self)).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_combining_mark(c)
}

/// The combining marks of the blocks text is written with (Latin, Greek,
/// Cyrillic, Hebrew, Arabic, Devanagari… diacritics), which belong to the
/// letter before them.
fn is_combining_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x05BF | 0x05C1..=0x05C2
        | 0x05C4..=0x05C5 | 0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670
        | 0x06D6..=0x06DC | 0x06DF..=0x06E4 | 0x06E7..=0x06E8 | 0x06EA..=0x06ED
        | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0951..=0x0957 | 0x0962..=0x0963
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x200C..=0x200D | 0x20D0..=0x20FF
        | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F)
}

/// The tokens of `text` (see the [module](self)).
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut word: Option<Token> = None;
    for (at, c) in text.chars().enumerate() {
        let at = at as u64;
        if is_combining_mark(c) {
            // A mark belongs to the token it follows (none: it is dropped).
            let token = word.as_mut().or(tokens.last_mut().filter(|t| t.end == at));
            if let Some(token) = token {
                token.text.push(c);
                token.end = at + 1;
            }
            continue;
        }
        if is_word_char(c) {
            match &mut word {
                Some(token) => {
                    token.text.push(c);
                    token.end = at + 1;
                }
                None => {
                    word = Some(Token {
                        text: c.to_string(),
                        start: at,
                        end: at + 1,
                    })
                }
            }
            continue;
        }
        tokens.extend(word.take());
        if !c.is_whitespace() {
            tokens.push(Token {
                text: c.to_string(),
                start: at,
                end: at + 1,
            });
        }
    }
    tokens.extend(word);
    tokens
}

/// Which results an export writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConllOptions {
    /// The data key of the `<Text>`, e.g. `"text"`.
    pub text_field: String,
    /// The `Labels` control whose spans are the entities.
    pub labels_control: String,
}

/// Counts of what a CoNLL export wrote and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConllSummary {
    pub documents: u64,
    pub tokens: u64,
    pub entities: u64,
    /// Spans that started or ended inside a token, written as whole tokens.
    pub widened: u64,
    /// Spans left out because they overlap one written (IOB2 cannot nest).
    pub overlapping: u64,
    /// Tasks without text.
    pub skipped: u64,
}

/// Writes tasks as CoNLL-2003 documents, as they come.
pub struct ConllWriter<W: Write> {
    out: W,
    options: ConllOptions,
    summary: ConllSummary,
}

impl<W: Write> ConllWriter<W> {
    pub fn new(out: W, options: ConllOptions) -> ConllWriter<W> {
        ConllWriter {
            out,
            options,
            summary: ConllSummary::default(),
        }
    }

    /// Writes one task: its text's tokens tagged by the spans of its first
    /// annotation that was not cancelled (none: every token `O`).
    pub fn write_task(&mut self, task: &ExportTask) -> io::Result<()> {
        let Some(text) = task
            .data
            .get(&self.options.text_field)
            .and_then(Value::as_str)
        else {
            self.summary.skipped += 1;
            return Ok(());
        };
        let spans: Vec<(u64, u64, &str)> = task
            .annotations
            .iter()
            .find(|a| !a.record.was_cancelled)
            .map(|a| {
                a.record
                    .result
                    .iter()
                    .filter(|r| r.from_name == self.options.labels_control)
                    .filter_map(|r| match &r.value {
                        ResultValue::Labels(v) => {
                            Some((v.start, v.end, v.labels.first()?.as_str()))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let tokens = tokenize(text);
        let tags = self.tags(&tokens, spans);
        let mut lines = String::from("-DOCSTART- -X- -X- O\n");
        let mut previous_line_end = None;
        let line_of = line_starts(text);
        for (token, tag) in tokens.iter().zip(&tags) {
            // A sentence per line of text.
            let line = line_of.partition_point(|&start| start <= token.start);
            if previous_line_end != Some(line) {
                lines.push('\n');
                previous_line_end = Some(line);
            }
            lines.push_str(&token.text);
            lines.push_str(" -X- _ ");
            lines.push_str(tag);
            lines.push('\n');
        }
        lines.push('\n');
        self.out.write_all(lines.as_bytes())?;
        self.summary.documents += 1;
        self.summary.tokens += tokens.len() as u64;
        Ok(())
    }

    /// The IOB2 tag of each token.
    fn tags(&mut self, tokens: &[Token], spans: Vec<(u64, u64, &str)>) -> Vec<String> {
        let placed = place_spans(tokens, spans);
        self.summary.widened += placed.widened;
        self.summary.overlapping += placed.overlapping;
        self.summary.entities += placed.entities.len() as u64;
        let mut tags = vec!["O".to_owned(); tokens.len()];
        for (first, last, label) in placed.entities {
            tags[first] = format!("B-{label}");
            for tag in &mut tags[first + 1..last] {
                *tag = format!("I-{label}");
            }
        }
        tags
    }

    pub fn finish(mut self) -> io::Result<(W, ConllSummary)> {
        self.out.flush()?;
        Ok((self.out, self.summary))
    }
}

/// Spans placed on tokens: each entity as its tokens `first..last` and label.
pub(crate) struct PlacedSpans<'a> {
    pub entities: Vec<(usize, usize, &'a str)>,
    /// Spans that started or ended inside a token, taken as whole tokens.
    pub widened: u64,
    /// Spans left out: over a token of a span placed before, or over no token.
    pub overlapping: u64,
}

/// Places spans (code point `start`, `end`, label) on whole tokens, without
/// overlaps: the one that starts first (the longer at the same start) wins,
/// and a span over part of a token takes the whole token.
pub(crate) fn place_spans<'a>(
    tokens: &[Token],
    mut spans: Vec<(u64, u64, &'a str)>,
) -> PlacedSpans<'a> {
    // First start first; the longer first at the same start.
    spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut placed = PlacedSpans {
        entities: Vec::new(),
        widened: 0,
        overlapping: 0,
    };
    let mut taken_until = 0usize;
    for (start, end, label) in spans {
        let first = tokens.partition_point(|t| t.end <= start);
        let last = tokens.partition_point(|t| t.start < end);
        if first >= last {
            // No token under it (whitespace only).
            placed.overlapping += 1;
            continue;
        }
        if first < taken_until {
            placed.overlapping += 1;
            continue;
        }
        if tokens[first].start != start || tokens[last - 1].end != end {
            placed.widened += 1;
        }
        placed.entities.push((first, last, label));
        taken_until = last;
    }
    placed
}

/// The code point offsets where each line of `text` starts, after the first.
fn line_starts(text: &str) -> Vec<u64> {
    text.chars()
        .enumerate()
        .filter(|(_, c)| *c == '\n')
        .map(|(at, _)| at as u64 + 1)
        .collect()
}

/// Where CoNLL's documents go in the project's tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConllImportOptions {
    /// The data key that gets the text, e.g. `"text"`.
    pub text_field: String,
    /// The `Labels` control that gets the entities.
    pub labels: Option<ControlRef>,
}

/// A document on its way to becoming a task.
#[derive(Default)]
struct Document {
    /// Its first line, 1-based, for rejections.
    line: u64,
    sentences: Vec<Vec<(String, String, u64)>>,
}

/// Reads a CoNLL-2003 (or any CoNLL-style, tag last) file; see the
/// [module](self).
pub fn read_conll<R: BufRead>(
    input: R,
    options: &ConllImportOptions,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let mut documents: Vec<Document> = Vec::new();
    let mut sentence: Vec<(String, String, u64)> = Vec::new();
    let mut any_docstart = false;
    let mut current = Document::default();
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        let number = index as u64 + 1;
        let cells: Vec<&str> = line.split_whitespace().collect();
        if cells.first() == Some(&"-DOCSTART-") {
            any_docstart = true;
            if !sentence.is_empty() {
                current.sentences.push(std::mem::take(&mut sentence));
            }
            if !current.sentences.is_empty() {
                documents.push(std::mem::take(&mut current));
            }
            current.line = number;
            continue;
        }
        if cells.is_empty() {
            if !sentence.is_empty() {
                current.sentences.push(std::mem::take(&mut sentence));
            }
            continue;
        }
        if current.line == 0 {
            current.line = number;
        }
        let tag = if cells.len() == 1 {
            ""
        } else {
            cells[cells.len() - 1]
        };
        sentence.push((cells[0].to_owned(), tag.to_owned(), number));
    }
    if !sentence.is_empty() {
        current.sentences.push(sentence);
    }
    if !current.sentences.is_empty() {
        documents.push(current);
    }
    // Without -DOCSTART-, every sentence is a document.
    if !any_docstart {
        documents = documents
            .into_iter()
            .flat_map(|d| d.sentences)
            .map(|sentence| Document {
                line: sentence.first().map_or(0, |t| t.2),
                sentences: vec![sentence],
            })
            .collect();
    }
    let mut tasks = Vec::new();
    let mut rejections = Vec::new();
    for (position, document) in documents.into_iter().enumerate() {
        match task_of(document, position as u64 + 1, options) {
            Ok(task) => tasks.push(task),
            Err(problems) => rejections.extend(problems),
        }
    }
    Ok((tasks, rejections))
}

/// A document's task: its text and entities.
fn task_of(
    document: Document,
    row: u64,
    options: &ConllImportOptions,
) -> Result<TaskRecord, Vec<Rejection>> {
    let mut text = String::new();
    let mut at = 0u64;
    let mut problems = Vec::new();
    // Entities as (start, end, label); the last one grows while `open`.
    let mut entities: Vec<(u64, u64, String)> = Vec::new();
    for (index, sentence) in document.sentences.iter().enumerate() {
        if index > 0 {
            text.push('\n');
            at += 1;
        }
        let mut open = false;
        for (position, (token, tag, line)) in sentence.iter().enumerate() {
            if position > 0 {
                text.push(' ');
                at += 1;
            }
            let start = at;
            text.push_str(token);
            at += token.chars().count() as u64;
            let parsed = match tag.as_str() {
                "O" => Some(None),
                tag => match tag.split_once('-') {
                    Some((prefix @ ("B" | "I"), label)) if !label.is_empty() => {
                        Some(Some((prefix, label)))
                    }
                    _ => None,
                },
            };
            match parsed {
                None => problems.push(Rejection::new(
                    row,
                    format!("line {line}"),
                    if tag.is_empty() {
                        "needs the token and its tag, the tag last".to_owned()
                    } else {
                        format!("tag {tag:?} is not O, B-label or I-label")
                    },
                )),
                Some(None) => open = false,
                Some(Some((prefix, label))) => {
                    let continues = prefix == "I"
                        && open
                        && entities.last().is_some_and(|(_, _, l)| l == label);
                    if continues {
                        if let Some(last) = entities.last_mut() {
                            last.1 = at;
                        }
                    } else {
                        entities.push((start, at, label.to_owned()));
                    }
                    open = true;
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if !entities.is_empty() && options.labels.is_none() {
        return Err(vec![Rejection::new(
            row,
            format!("line {}", document.line),
            "has entities, and the label config has no Labels control on the text for them",
        )]);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut data = Map::new();
    data.insert(options.text_field.clone(), Value::String(text.clone()));
    let mut task = TaskRecord {
        data,
        ..TaskRecord::default()
    };
    if let Some(control) = &options.labels {
        let result: Vec<ResultItem> = entities
            .into_iter()
            .enumerate()
            .map(|(n, (start, end, label))| ResultItem {
                id: Some(format!("conll-{}", n + 1)),
                from_name: control.from_name.clone(),
                to_name: control.to_name.clone(),
                value: ResultValue::Labels(LabelsValue {
                    start,
                    end,
                    text: Some(chars[start as usize..end as usize].iter().collect()),
                    labels: vec![label],
                    extra: Map::new(),
                }),
                original_width: None,
                original_height: None,
                image_rotation: None,
                parent_id: None,
                extra: Map::new(),
            })
            .collect();
        if !result.is_empty() {
            task.annotations.push(AnnotationRecord {
                result,
                ..AnnotationRecord::default()
            });
        }
    }
    Ok(task)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        tokenize(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn tokens_split_at_spaces_and_punctuation_and_keep_marks() {
        assert_eq!(
            texts("don't (Paris) U.S."),
            ["don", "'", "t", "(", "Paris", ")", "U", ".", "S", "."]
        );
        // e + combining acute is one token; offsets count code points.
        let tokens = tokenize("Cafe\u{301} 😀 ok");
        assert_eq!(tokens[0].text, "Cafe\u{301}");
        assert_eq!((tokens[0].start, tokens[0].end), (0, 5));
        assert_eq!((tokens[1].text.as_str(), tokens[1].start), ("😀", 6));
        assert_eq!((tokens[2].start, tokens[2].end), (8, 10));
        // Arabic with its vowel marks stays one word.
        assert_eq!(texts("مُحَمَّد جاء"), ["مُحَمَّد", "جاء"]);
    }
}
