//! Streaming readers for JSON, JSONL, CSV, TSV and Label Studio task files.

use crate::model::{FormatError, Rejection, TaskRecord};
use crate::task::{task_from_json, TaskShape};
use serde::de::{
    self, Deserialize as _, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};
use serde_json::{Map, Value};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

/// The task file formats Gloss imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// A JSON array of tasks (Label Studio's shape or bare data), or one task.
    Json,
    /// One JSON task per line.
    Jsonl,
    /// Comma-separated values; the header names the data fields.
    Csv,
    /// Tab-separated values; the header names the data fields.
    Tsv,
    /// A Label Studio JSON export: every task must have a `data` object.
    LabelStudio,
    /// A COCO instances file; read with [`crate::read_coco`].
    Coco,
    /// A CoNLL-2003 NER file; read with [`crate::read_conll`].
    Conll2003,
    /// A spaCy v3 `DocBin` (`.spacy`); read with [`crate::read_spacy`].
    Spacy,
    /// Preference pairs (`prompt`, `chosen`, `rejected`); read with
    /// [`crate::read_preference`].
    PreferenceJsonl,
    /// Rankings and ratings, one annotation a line; read with
    /// [`crate::read_ranking`].
    RankingJsonl,
    /// Red-teaming chats, one annotation a line; read with
    /// [`crate::read_chats`].
    ChatJsonl,
}

impl InputFormat {
    pub const ALL: [InputFormat; 11] = [
        InputFormat::Json,
        InputFormat::Jsonl,
        InputFormat::Csv,
        InputFormat::Tsv,
        InputFormat::LabelStudio,
        InputFormat::Coco,
        InputFormat::Conll2003,
        InputFormat::Spacy,
        InputFormat::PreferenceJsonl,
        InputFormat::RankingJsonl,
        InputFormat::ChatJsonl,
    ];

    /// The format called `name` (`"json"`, `"jsonl"`, `"csv"`, `"tsv"`,
    /// `"label-studio"`, `"coco"`, `"conll2003"`, `"spacy"`,
    /// `"preference-jsonl"`, `"ranking-jsonl"`, `"chat-jsonl"`).
    pub fn parse(name: &str) -> Option<InputFormat> {
        InputFormat::ALL
            .into_iter()
            .find(|format| format.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Json => "json",
            InputFormat::Jsonl => "jsonl",
            InputFormat::Csv => "csv",
            InputFormat::Tsv => "tsv",
            InputFormat::LabelStudio => "label-studio",
            InputFormat::Coco => "coco",
            InputFormat::Conll2003 => "conll2003",
            InputFormat::Spacy => "spacy",
            InputFormat::PreferenceJsonl => "preference-jsonl",
            InputFormat::RankingJsonl => "ranking-jsonl",
            InputFormat::ChatJsonl => "chat-jsonl",
        }
    }
}

/// How many leading bytes [`detect`] looks at.
pub const DETECT_HEAD_LEN: usize = 64 * 1024;

/// Guesses a file's format from its name and first bytes (up to 64 KiB).
///
/// `.jsonl`/`.ndjson` → Jsonl, `.csv` → Csv, `.tsv` → Tsv. A `.json` file
/// whose top level is an object with an `images` key and an `annotations`
/// or `categories` key is COCO; so is one with `images` whose head ends
/// before the object does (a large COCO file lists thousands of images
/// before its other keys). A `.json` array whose first element has a `data`
/// object is a Label Studio export; any other `.json` is Json. `.conll` →
/// Conll2003, `.spacy` → Spacy. Anything else → `None`.
pub fn detect(file_name: &str, head: &[u8]) -> Option<InputFormat> {
    let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    match extension.as_str() {
        "jsonl" | "ndjson" => Some(InputFormat::Jsonl),
        "csv" => Some(InputFormat::Csv),
        "tsv" => Some(InputFormat::Tsv),
        "json" => Some(detect_json(head)),
        "conll" => Some(InputFormat::Conll2003),
        "spacy" => Some(InputFormat::Spacy),
        _ => None,
    }
}

fn detect_json(head: &[u8]) -> InputFormat {
    let head = &head[..head.len().min(DETECT_HEAD_LEN)];
    let head = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    let mut sniff = JsonSniff::default();
    // The head is usually cut mid-value, so the parse is expected to fail;
    // what matters is what the visitor saw before it did.
    let complete = Sniffer {
        place: Place::TopLevel,
        sniff: &mut sniff,
    }
    .deserialize(&mut serde_json::Deserializer::from_slice(head))
    .is_ok();
    let key = |name: &str| sniff.top_keys.iter().any(|key| key == name);
    if key("images") && (key("annotations") || key("categories") || !complete) {
        InputFormat::Coco
    } else if sniff.first_element_has_data_object {
        InputFormat::LabelStudio
    } else {
        InputFormat::Json
    }
}

/// What [`detect`] learns from the start of a JSON file.
#[derive(Default)]
struct JsonSniff {
    /// Keys of a top-level object, as far as the head goes.
    top_keys: Vec<String>,
    /// Whether a top-level array's first element has a `data` object.
    first_element_has_data_object: bool,
}

/// Where in the file the value a [`Sniffer`] visits is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    TopLevel,
    FirstElement,
    FirstElementData,
    Elsewhere,
}

/// Walks the start of a JSON file, noting into `sniff` what it sees as it
/// sees it, so that a head cut anywhere still tells what came before.
struct Sniffer<'a> {
    place: Place,
    sniff: &'a mut JsonSniff,
}

impl Sniffer<'_> {
    fn at(&mut self, place: Place) -> Sniffer<'_> {
        Sniffer {
            place,
            sniff: self.sniff,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Sniffer<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Sniffer<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        if self.place == Place::FirstElementData {
            self.sniff.first_element_has_data_object = true;
        }
        while let Some(key) = map.next_key::<String>()? {
            let inner = match self.place {
                Place::FirstElement if key == "data" => Place::FirstElementData,
                _ => Place::Elsewhere,
            };
            if self.place == Place::TopLevel {
                self.sniff.top_keys.push(key);
            }
            map.next_value_seed(self.at(inner))?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        if self.place == Place::TopLevel {
            seq.next_element_seed(self.at(Place::FirstElement))?;
            // The rest of the array does not matter; stop here.
            return Err(de::Error::custom("sniffed"));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where [`read_tasks`] sends each row with its number (the 1-based array
/// element, JSONL line or CSV line, as in [`Rejection::row`]); returns
/// `false` to stop reading.
pub type TaskSink<'a> = dyn FnMut(u64, Result<TaskRecord, Rejection>) -> bool + 'a;

/// Streams the tasks of a Json, Jsonl, Csv, Tsv or LabelStudio file to
/// `sink`, one call per row, in file order, holding one task at a time.
///
/// `sink` returns `false` to stop early. Returns the number of rows given to
/// `sink`, or a [`FormatError`] when the file cannot be read further (rows
/// before that point have already been delivered). COCO files group
/// annotations by image and are read whole by [`crate::read_coco`].
pub fn read_tasks<R: Read>(
    format: InputFormat,
    input: R,
    sink: &mut TaskSink<'_>,
) -> Result<u64, FormatError> {
    let input = BufReader::with_capacity(64 * 1024, without_bom(input)?);
    match format {
        InputFormat::Json => read_json(input, TaskShape::LabelStudioOrBare, sink),
        InputFormat::LabelStudio => read_json(input, TaskShape::LabelStudio, sink),
        InputFormat::Jsonl => read_jsonl(input, sink),
        InputFormat::Csv => read_delimited(input, b',', sink),
        InputFormat::Tsv => read_delimited(input, b'\t', sink),
        InputFormat::Coco => Err(FormatError::WrongReader {
            format: "COCO",
            use_instead: "read_coco, which needs the label config's controls",
        }),
        InputFormat::Conll2003 => Err(FormatError::WrongReader {
            format: "CoNLL-2003",
            use_instead: "read_conll, which needs the label config's controls",
        }),
        InputFormat::Spacy => Err(FormatError::WrongReader {
            format: "spaCy",
            use_instead: "read_spacy, which needs the label config's controls",
        }),
        InputFormat::PreferenceJsonl | InputFormat::RankingJsonl | InputFormat::ChatJsonl => {
            Err(FormatError::WrongReader {
                format: "LLM feedback JSONL",
                use_instead: "read_preference, read_ranking or read_chats, which need the label config's controls",
            })
        }
    }
}

/// The input after a UTF-8 byte order mark, if it starts with one.
///
/// Spreadsheet programs write a BOM at the start of CSV and JSON files;
/// serde_json would call it malformed JSON and csv would make it part of
/// the first column's name.
pub(crate) fn without_bom<R: Read>(mut input: R) -> io::Result<impl Read> {
    let mut head = [0u8; 3];
    let mut filled = 0;
    // A reader may hand out fewer bytes than asked, so read until three
    // bytes or the end.
    while filled < head.len() {
        match input.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    let start = if head[..filled] == *UTF8_BOM {
        filled
    } else {
        0
    };
    Ok(io::Cursor::new(head[start..filled].to_vec()).chain(input))
}

/// A JSON array of tasks or one task object, read element by element.
fn read_json<R: Read>(
    input: R,
    shape: TaskShape,
    sink: &mut TaskSink<'_>,
) -> Result<u64, FormatError> {
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    let mut state = JsonState {
        shape,
        sink,
        rows: 0,
        stopped: false,
    };
    let outcome = (&mut deserializer).deserialize_any(TopLevelVisitor { state: &mut state });
    if state.stopped {
        // Stopping leaves the rest of the array unread, which serde_json
        // reports as an error; the caller asked for exactly that.
        return Ok(state.rows);
    }
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(found)) => return Err(FormatError::NotTasks { found }),
        Err(error) => return Err(error.into()),
    }
    deserializer.end()?;
    Ok(state.rows)
}

struct JsonState<'s, 'a> {
    shape: TaskShape,
    sink: &'s mut TaskSink<'a>,
    rows: u64,
    stopped: bool,
}

impl JsonState<'_, '_> {
    /// Gives one element to the sink; `false` once the sink wants no more.
    fn deliver(&mut self, element: Value) -> bool {
        self.rows += 1;
        let task = task_from_json(element, self.rows, self.shape);
        self.stopped = !(self.sink)(self.rows, task);
        !self.stopped
    }
}

/// Visits the top level: an array streams its elements, an object is one
/// task, anything else is `Err(kind)` for [`FormatError::NotTasks`].
struct TopLevelVisitor<'v, 's, 'a> {
    state: &'v mut JsonState<'s, 'a>,
}

impl<'de> Visitor<'de> for TopLevelVisitor<'_, '_, '_> {
    type Value = Result<(), &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of tasks or one task object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Each element is parsed into a `Value` of its own and handed on, so
        // memory holds one task, never the array.
        while let Some(element) = seq.next_element::<Value>()? {
            if !self.state.deliver(element) {
                return Err(de::Error::custom("stopped by the caller"));
            }
        }
        Ok(Ok(()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let task = Map::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.state.deliver(Value::Object(task));
        Ok(Ok(()))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("a string"))
    }
}

/// One task per line; blank lines are skipped, a line that is not JSON is
/// rejected on its own.
fn read_jsonl<R: BufRead>(mut input: R, sink: &mut TaskSink<'_>) -> Result<u64, FormatError> {
    let mut line = Vec::new();
    let mut line_number = 0;
    let mut rows = 0;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(rows);
        }
        line_number += 1;
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        rows += 1;
        let task = match serde_json::from_slice::<Value>(text) {
            Ok(element) => task_from_json(element, line_number, TaskShape::LabelStudioOrBare),
            Err(error) => Err(Rejection::new(
                line_number,
                "",
                format!("not valid JSON: {error}"),
            )),
        };
        if !sink(line_number, task) {
            return Ok(rows);
        }
    }
}

/// CSV or TSV: the header names the data fields, each record is one task
/// whose data values are strings.
fn read_delimited<R: Read>(
    input: R,
    delimiter: u8,
    sink: &mut TaskSink<'_>,
) -> Result<u64, FormatError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        // Ragged rows are rejected one by one below instead of failing
        // the whole file.
        .flexible(true)
        .from_reader(input);
    let header = reader.headers().map_err(csv_error)?.clone();
    check_header(&header)?;

    let mut record = csv::StringRecord::new();
    let mut rows = 0;
    loop {
        let line = reader.position().line();
        let outcome = match reader.read_record(&mut record) {
            Ok(false) => return Ok(rows),
            Ok(true) => {
                let line = record.position().map_or(line, csv::Position::line);
                Ok(record_task(&header, &record, line))
            }
            Err(error) => Err(error),
        };
        let row = match &outcome {
            Ok(_) => record.position().map_or(line, csv::Position::line),
            Err(_) => line,
        };
        let task = match outcome {
            Ok(task) => task,
            // Invalid UTF-8 spoils one record; the reader has moved past it.
            Err(error) => match error.kind() {
                csv::ErrorKind::Utf8 { pos, err } => {
                    let line = pos.as_ref().map_or(line, csv::Position::line);
                    let field = header.get(err.field()).unwrap_or_default();
                    Err(Rejection::new(line, field, "is not valid UTF-8 text"))
                }
                _ => return Err(csv_error(error)),
            },
        };
        rows += 1;
        if !sink(row, task) {
            return Ok(rows);
        }
    }
}

fn check_header(header: &csv::StringRecord) -> Result<(), FormatError> {
    if header.is_empty() {
        return Err(FormatError::Header {
            column: 1,
            name: String::new(),
            reason: "the file has no header line".to_owned(),
        });
    }
    for (index, name) in header.iter().enumerate() {
        let reason = if name.trim().is_empty() {
            "is empty; every column needs a name to become a data field"
        } else if header.iter().take(index).any(|earlier| earlier == name) {
            "repeats an earlier column's name"
        } else {
            continue;
        };
        return Err(FormatError::Header {
            column: index + 1,
            name: name.to_owned(),
            reason: reason.to_owned(),
        });
    }
    Ok(())
}

fn record_task(
    header: &csv::StringRecord,
    record: &csv::StringRecord,
    line: u64,
) -> Result<TaskRecord, Rejection> {
    if record.len() < header.len() {
        return Err(Rejection::new(
            line,
            &header[record.len()],
            format!(
                "is missing: the row has {} fields, the header has {}",
                record.len(),
                header.len()
            ),
        ));
    }
    if record.len() > header.len() {
        return Err(Rejection::new(
            line,
            "",
            format!(
                "the row has {} fields, the header has {}",
                record.len(),
                header.len()
            ),
        ));
    }
    let data = header
        .iter()
        .zip(record.iter())
        .map(|(name, value)| (name.to_owned(), Value::String(value.to_owned())))
        .collect();
    Ok(TaskRecord {
        data,
        ..TaskRecord::default()
    })
}

fn csv_error(error: csv::Error) -> FormatError {
    let line = error.position().map_or(0, csv::Position::line);
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(error) => FormatError::Io(error),
        _ => FormatError::Csv { line, message },
    }
}
