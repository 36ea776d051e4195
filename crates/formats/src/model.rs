//! The records readers produce and the errors they report.

use gloss_types::result::ResultItem;
use serde_json::{Map, Value};
use std::fmt;

/// One task as read from an import file (Label Studio's task shape).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskRecord {
    /// The task's `data`: what the label config's `$variables` refer to.
    pub data: Map<String, Value>,
    /// Label Studio's task `meta`; empty when absent.
    pub meta: Map<String, Value>,
    pub annotations: Vec<AnnotationRecord>,
    pub predictions: Vec<PredictionRecord>,
    pub drafts: Vec<DraftRecord>,
}

impl TaskRecord {
    /// A task showing `image` (a path in the imported dataset, kept in
    /// `data[image_field]`), with one annotation holding `results` if
    /// there are any: what the dataset readers make of an image.
    pub(crate) fn for_image(
        image_field: &str,
        image: String,
        results: Vec<ResultItem>,
    ) -> TaskRecord {
        let mut data = Map::new();
        data.insert(image_field.to_owned(), Value::String(image));
        let annotations = if results.is_empty() {
            Vec::new()
        } else {
            vec![AnnotationRecord {
                result: results,
                ..AnnotationRecord::default()
            }]
        };
        TaskRecord {
            data,
            annotations,
            ..TaskRecord::default()
        }
    }
}

/// One annotation of a task.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnnotationRecord {
    pub result: Vec<ResultItem>,
    /// As found in the file: a Label Studio user id (number) or user object.
    /// `None` when absent or null.
    pub completed_by: Option<Value>,
    /// Seconds the annotator spent.
    pub lead_time: Option<f64>,
    pub was_cancelled: bool,
    pub ground_truth: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub updated_at: Option<i64>,
    /// Every other key, verbatim (`id`, `unique_id`, `history`, `task`,
    /// `project`, `updated_by`, `parent_prediction`, `last_action`, …).
    pub extra: Map<String, Value>,
}

/// One prediction (pre-annotation) of a task.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PredictionRecord {
    pub result: Vec<ResultItem>,
    pub model_version: Option<String>,
    pub score: Option<f64>,
    /// Every other key, verbatim (`id`, `created_at`, `task`, `project`,
    /// `cluster`, `neighbors`, `mislabeling`, …).
    pub extra: Map<String, Value>,
}

/// One unsubmitted draft of a task.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftRecord {
    pub result: Vec<ResultItem>,
    /// Label Studio writes the user's email or name here.
    pub user: Option<Value>,
    /// Seconds the annotator spent.
    pub lead_time: Option<f64>,
    /// Milliseconds since the Unix epoch.
    pub created_at: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub updated_at: Option<i64>,
    /// Every other key, verbatim.
    pub extra: Map<String, Value>,
}

/// A row-level problem: the file is readable, this row is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// 1-based: a JSON array element's index + 1, a JSONL line number, a CSV
    /// line number (the header is line 1), a COCO or CVAT image's position +
    /// 1, or a VOC annotation file's position + 1 in sorted path order.
    /// 0 only for a COCO annotation whose image is unknown.
    pub row: u64,
    /// Where in the row: a JSON path such as `annotations[0].result[2].value.x`,
    /// a CSV column name, an XML path such as
    /// `Annotations/a.xml:object[0].bndbox.xmin` (VOC) or
    /// `image[2].box[0].xtl` (CVAT), or `""` for the row as a whole.
    pub field: String,
    /// What is wrong, in words.
    pub reason: String,
}

impl Rejection {
    pub fn new(row: u64, field: impl Into<String>, reason: impl Into<String>) -> Rejection {
        Rejection {
            row,
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "row {}: {}", self.row, self.reason)
        } else {
            write!(f, "row {}, {}: {}", self.row, self.field, self.reason)
        }
    }
}

impl std::error::Error for Rejection {}

/// The file as a whole is unusable.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The JSON is broken, ends early, or (for COCO) holds the wrong kind
    /// of value at this place.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// The JSON is well formed but is not tasks.
    #[error("the file must hold a JSON array of tasks or one task object, not {found}")]
    NotTasks { found: &'static str },
    /// A CSV or TSV header cell that cannot name a data field.
    #[error("header column {column} ({name:?}): {reason}")]
    Header {
        /// 1-based.
        column: usize,
        name: String,
        reason: String,
    },
    /// A CSV or TSV file the csv parser cannot continue reading.
    #[error("line {line}: {message}")]
    Csv { line: u64, message: String },
    /// A COCO file whose overall structure is wrong (a missing key,
    /// duplicate image ids, a malformed category, …).
    #[error("COCO {field}: {reason}")]
    Coco { field: String, reason: String },
    /// An XML file (CVAT's `annotations.xml`) that is not well formed, or
    /// that holds a DTD, which is refused so that entities are never
    /// expanded.
    #[error("invalid XML at line {line}, column {column}: {message}")]
    Xml {
        line: u32,
        column: u32,
        message: String,
    },
    /// A CVAT file whose overall structure is wrong (not `<annotations>`,
    /// CVAT for video's tracks, too large, …).
    #[error("CVAT {field}: {reason}")]
    Cvat { field: String, reason: String },
    /// A Pascal VOC dataset without annotation files.
    #[error("VOC {field}: {reason}")]
    Voc { field: String, reason: String },
    /// The format is not read by this function.
    #[error("{format} files are read with {use_instead}")]
    WrongReader {
        format: &'static str,
        use_instead: &'static str,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A dataset of many files (YOLO, …) whose layout or one of whose
    /// files is unusable as a whole; `file` is its path in the dataset
    /// (empty for the dataset itself).
    #[error("{file}: {reason}")]
    Dataset { file: String, reason: String },
    /// A `.spacy` file that is not a spaCy `DocBin`: not zlib, not
    /// MessagePack, the wrong shape, or tokens naming unknown strings.
    #[error("{reason}")]
    Spacy { reason: String },
}

impl From<serde_json::Error> for FormatError {
    fn from(error: serde_json::Error) -> FormatError {
        if error.is_io() {
            return FormatError::Io(error.into());
        }
        // serde_json appends " at line L column C" to its Display; the
        // position already has its own fields.
        let message = error.to_string();
        let message = match message.rfind(" at line ") {
            Some(at) => message[..at].to_owned(),
            None => message,
        };
        FormatError::Json {
            line: error.line(),
            column: error.column(),
            message,
        }
    }
}

/// How a JSON value is named in messages: "a string", "an object", ….
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
