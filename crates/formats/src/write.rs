//! Label Studio's export JSON, written task by task.

use crate::model::{AnnotationRecord, DraftRecord, PredictionRecord};
use crate::timestamp::millis_text;
use gloss_types::result::ResultItem;
use serde::ser::{Error as _, SerializeMap, Serializer};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::io::{self, BufWriter, Write};

/// What the engine hands to the writers for one task.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportTask {
    pub id: i64,
    pub project_id: i64,
    pub data: Map<String, Value>,
    pub meta: Map<String, Value>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
    pub annotations: Vec<ExportAnnotation>,
    pub predictions: Vec<ExportPrediction>,
    pub drafts: Vec<DraftRecord>,
    /// The task's image, for COCO.
    pub image: Option<ImageInfo>,
    /// The task's video, for MOT and CVAT video.
    pub video: Option<VideoInfo>,
    /// The file name the task's sound was imported with, for the speech
    /// formats (RTTM, WebVTT, SRT, NeMo).
    pub audio_name: Option<String>,
}

/// The video a task shows, from its frame index.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    pub file_name: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Frames in the video.
    pub frames: u64,
    /// Frames per second, on average.
    pub frame_rate: f64,
}

/// The image a task shows, as COCO describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub file_name: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
}

/// A stored annotation; `record.completed_by` is already filled in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportAnnotation {
    pub id: i64,
    pub record: AnnotationRecord,
    /// The result as stored, for [`LabelStudioWriter`] to write as it is in
    /// place of `record.result`; see [`StoredResult`].
    pub stored_result: Option<StoredResult>,
}

/// A stored prediction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportPrediction {
    pub id: i64,
    pub record: PredictionRecord,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// The result as stored, for [`LabelStudioWriter`] to write as it is in
    /// place of `record.result`; see [`StoredResult`].
    pub stored_result: Option<StoredResult>,
}

/// A JSON array of result items as Gloss stores it: serialized from
/// [`ResultItem`](gloss_types::result::ResultItem)s, which serialize the
/// same way again once read back. So writing the stored text gives the same
/// bytes as parsing it and writing the items, without the cost of parsing
/// (most of an export's time when it was done for every annotation).
/// The text is checked to be JSON when written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredResult(pub String);

/// Label Studio's export JSON: a JSON array of tasks, one per line, written
/// as tasks arrive so memory stays constant however many there are.
///
/// Output is buffered inside; [`LabelStudioWriter::finish`] flushes it and
/// gives the writer back. Dropping the writer without `finish` leaves the
/// array unclosed.
pub struct LabelStudioWriter<W: Write> {
    out: BufWriter<W>,
    tasks: u64,
    /// JSON Lines: one task per line, no array around them.
    lines: bool,
}

impl<W: Write> LabelStudioWriter<W> {
    pub fn new(out: W) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(64 * 1024, out);
        out.write_all(b"[")?;
        Ok(LabelStudioWriter {
            out,
            tasks: 0,
            lines: false,
        })
    }

    /// The same tasks as JSON Lines (`jsonl`): one task object per line,
    /// which Gloss's and Label Studio's JSONL imports read.
    pub fn lines(out: W) -> Self {
        LabelStudioWriter {
            out: BufWriter::with_capacity(64 * 1024, out),
            tasks: 0,
            lines: true,
        }
    }

    pub fn write_task(&mut self, task: &ExportTask) -> io::Result<()> {
        let separator: &[u8] = match (self.lines, self.tasks) {
            (true, _) => b"",
            (false, 0) => b"\n",
            (false, _) => b",\n",
        };
        self.out.write_all(separator)?;
        serde_json::to_writer(&mut self.out, &TaskJson(task))?;
        if self.lines {
            self.out.write_all(b"\n")?;
        }
        self.tasks += 1;
        Ok(())
    }

    /// Closes the array (if any) and returns the underlying writer, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.lines {
            self.out.write_all(b"\n]\n")?;
        }
        self.out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
    }
}

/// Keys the writer sets itself; the same keys in a record's `extra` (left
/// from an import, say an old `id`) are not written a second time.
const ANNOTATION_KEYS: &[&str] = &[
    "id",
    "completed_by",
    "result",
    "was_cancelled",
    "ground_truth",
    "created_at",
    "updated_at",
    "lead_time",
    "task",
    "project",
];
const PREDICTION_KEYS: &[&str] = &[
    "id",
    "model_version",
    "score",
    "result",
    "created_at",
    "task",
    "project",
];
const DRAFT_KEYS: &[&str] = &[
    "id",
    "user",
    "result",
    "lead_time",
    "created_at",
    "updated_at",
    "task",
];

struct TaskJson<'a>(&'a ExportTask);

impl Serialize for TaskJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let task = self.0;
        let annotations = || {
            task.annotations
                .iter()
                .map(|annotation| AnnotationJson { annotation, task })
        };
        let predictions = || {
            task.predictions
                .iter()
                .map(|prediction| PredictionJson { prediction, task })
        };
        let drafts = || task.drafts.iter().map(|draft| DraftJson { draft, task });

        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &task.id)?;
        map.serialize_entry("data", &task.data)?;
        map.serialize_entry("annotations", &Seq(annotations))?;
        map.serialize_entry("predictions", &Seq(predictions))?;
        map.serialize_entry("drafts", &Seq(drafts))?;
        map.serialize_entry("meta", &task.meta)?;
        map.serialize_entry("created_at", &Time(Some(task.created_at)))?;
        map.serialize_entry("updated_at", &Time(Some(task.updated_at)))?;
        map.serialize_entry("project", &task.project_id)?;
        map.end()
    }
}

struct AnnotationJson<'a> {
    annotation: &'a ExportAnnotation,
    task: &'a ExportTask,
}

impl Serialize for AnnotationJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let record = &self.annotation.record;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.annotation.id)?;
        map.serialize_entry("completed_by", &record.completed_by)?;
        serialize_result(&mut map, &self.annotation.stored_result, &record.result)?;
        map.serialize_entry("was_cancelled", &record.was_cancelled)?;
        map.serialize_entry("ground_truth", &record.ground_truth)?;
        map.serialize_entry("created_at", &Time(record.created_at))?;
        map.serialize_entry("updated_at", &Time(record.updated_at))?;
        map.serialize_entry("lead_time", &record.lead_time.map(JsNumber))?;
        map.serialize_entry("task", &self.task.id)?;
        map.serialize_entry("project", &self.task.project_id)?;
        serialize_extra(&mut map, &record.extra, ANNOTATION_KEYS)?;
        map.end()
    }
}

struct PredictionJson<'a> {
    prediction: &'a ExportPrediction,
    task: &'a ExportTask,
}

impl Serialize for PredictionJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let record = &self.prediction.record;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.prediction.id)?;
        // Label Studio's own exports write "" for a prediction without a
        // version, never null.
        map.serialize_entry(
            "model_version",
            record.model_version.as_deref().unwrap_or(""),
        )?;
        map.serialize_entry("score", &record.score.map(JsNumber))?;
        serialize_result(&mut map, &self.prediction.stored_result, &record.result)?;
        map.serialize_entry("created_at", &Time(Some(self.prediction.created_at)))?;
        map.serialize_entry("task", &self.task.id)?;
        map.serialize_entry("project", &self.task.project_id)?;
        serialize_extra(&mut map, &record.extra, PREDICTION_KEYS)?;
        map.end()
    }
}

struct DraftJson<'a> {
    draft: &'a DraftRecord,
    task: &'a ExportTask,
}

impl Serialize for DraftJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let draft = self.draft;
        let mut map = serializer.serialize_map(None)?;
        // Drafts have no id of their own in an export task; one kept from an
        // import leads, as in Label Studio's files.
        if let Some(id) = draft.extra.get("id") {
            map.serialize_entry("id", id)?;
        }
        map.serialize_entry("user", &draft.user)?;
        map.serialize_entry("result", &draft.result)?;
        map.serialize_entry("lead_time", &draft.lead_time.map(JsNumber))?;
        map.serialize_entry("created_at", &Time(draft.created_at))?;
        map.serialize_entry("updated_at", &Time(draft.updated_at))?;
        map.serialize_entry("task", &self.task.id)?;
        serialize_extra(&mut map, &draft.extra, DRAFT_KEYS)?;
        map.end()
    }
}

/// The `result` entry: the stored text when there is one, else the items.
fn serialize_result<M: SerializeMap>(
    map: &mut M,
    stored: &Option<StoredResult>,
    items: &[ResultItem],
) -> Result<(), M::Error> {
    match stored {
        Some(StoredResult(text)) => {
            let raw: &RawValue = serde_json::from_str(text).map_err(|err| {
                M::Error::custom(format_args!("a stored result is not valid JSON: {err}"))
            })?;
            map.serialize_entry("result", raw)
        }
        None => map.serialize_entry("result", items),
    }
}

fn serialize_extra<M: SerializeMap>(
    map: &mut M,
    extra: &Map<String, Value>,
    written: &[&str],
) -> Result<(), M::Error> {
    for (key, value) in extra {
        if !written.contains(&key.as_str()) {
            map.serialize_entry(key, value)?;
        }
    }
    Ok(())
}

/// A JSON array of whatever iterator the function makes, written without
/// collecting it first.
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.0)())
    }
}

/// A date-time in milliseconds, written as RFC 3339 UTC (`null` if absent
/// or beyond the years RFC 3339 can hold).
struct Time(Option<i64>);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.and_then(millis_text) {
            Some(text) => serializer.serialize_str(text.as_str()),
            None => serializer.serialize_none(),
        }
    }
}

/// An `f64` written the way JavaScript's `JSON.stringify` writes it: whole
/// numbers without a fraction (`12`, not `12.0`), as Label Studio's files have
/// them; non-finite numbers, which JSON cannot hold, as `null`.
#[derive(Clone, Copy)]
pub(crate) struct JsNumber(pub f64);

impl Serialize for JsNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// Largest integer an `f64` holds exactly (2^53).
        const EXACT: f64 = 9_007_199_254_740_992.0;
        let value = self.0;
        if value.fract() == 0.0 && value.abs() <= EXACT {
            // Whole and within 2^53, so the conversion is exact.
            serializer.serialize_i64(value as i64)
        } else {
            serializer.serialize_f64(value)
        }
    }
}
