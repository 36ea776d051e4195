//! Tasks, media records and imports as the API shows them.

use crate::{AnnotationId, ImportId, PredictionId, ProjectId, TaskId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Where a task stands in its project's workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Nobody has submitted work on it yet.
    New,
    /// Reserved by an annotator, or annotated by fewer annotators than the project needs.
    InProgress,
    /// Annotated by as many annotators as the project needs.
    Completed,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 3] = [
        TaskStatus::New,
        TaskStatus::InProgress,
        TaskStatus::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::New => "new",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Completed => "completed",
        }
    }

    pub fn parse(text: &str) -> Option<TaskStatus> {
        TaskStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// One item to annotate: Label Studio's `data` object plus Gloss's bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Task {
    pub id: TaskId,
    pub project_id: ProjectId,
    /// The task's data fields, referenced by the label config as `$name`.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    /// Free-form metadata carried with the task (Label Studio's `meta`).
    #[schema(value_type = Object)]
    pub meta: Map<String, Value>,
    pub status: TaskStatus,
    /// Higher goes first in projects whose queue is ordered by priority.
    pub priority: i64,
    /// Submitted, not cancelled annotations.
    pub annotation_count: i64,
    pub prediction_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A submitted annotation as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Annotation {
    pub id: AnnotationId,
    pub task_id: TaskId,
    /// The Gloss user who submitted it; `None` for imported work by someone unknown here.
    pub completed_by: Option<UserId>,
    /// Label Studio result items.
    #[schema(value_type = Vec<Object>)]
    pub result: Vec<Value>,
    /// Seconds spent, as the annotator's client measured it.
    pub lead_time: Option<f64>,
    pub was_cancelled: bool,
    pub ground_truth: bool,
    /// 1 when submitted; each accepted update adds one (see its versions).
    pub version: i64,
    /// Where it stands in review.
    pub review_state: crate::ReviewState,
    /// How many review layers accepted it.
    pub reviews_passed: i64,
    /// Active time spent on it in milliseconds, all versions together, as the
    /// labeling workspace measured it and the server capped it; `None`
    /// when never measured (imports, scripts).
    #[serde(default)]
    pub active_ms: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A model's suggested result for a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Prediction {
    pub id: PredictionId,
    pub task_id: TaskId,
    pub model_version: String,
    pub score: Option<f64>,
    #[schema(value_type = Vec<Object>)]
    pub result: Vec<Value>,
    pub created_at: Timestamp,
}

/// A stored media object as one project knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MediaRecord {
    /// Lowercase hex SHA-256 of the bytes.
    pub key: String,
    /// The type sniffed from the content, never from a file name.
    pub content_type: String,
    pub size: i64,
    /// Displayed width and height (after EXIF orientation), for images.
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// The name the file had when it was uploaded or imported.
    pub file_name: String,
    /// Where the API serves it; this is what task data refers to.
    pub url: String,
}

/// Where an import job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportState {
    Running,
    /// Every task was written.
    Completed,
    /// Nothing was written: rows were rejected or the files were unreadable.
    Failed,
}

impl ImportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportState::Running => "running",
            ImportState::Completed => "completed",
            ImportState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<ImportState> {
        [
            ImportState::Running,
            ImportState::Completed,
            ImportState::Failed,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// One rejected row of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RejectedRow {
    /// The file the row came from.
    pub file: String,
    /// 1-based row within its file: array element, JSONL/CSV line, or COCO image.
    pub row: u64,
    /// JSON path of the offending field within the row.
    pub field: String,
    pub reason: String,
}

/// An import job and its progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Import {
    pub id: ImportId,
    pub project_id: ProjectId,
    pub state: ImportState,
    /// Rows read so far.
    pub rows_read: i64,
    /// Tasks, annotations and predictions written (all zero unless completed).
    pub tasks_created: i64,
    pub annotations_created: i64,
    pub predictions_created: i64,
    /// Why the import failed, when it did for a reason other than rejected rows.
    pub error: Option<String>,
    /// Every rejected row (the import fails when there is any).
    pub rejected: Vec<RejectedRow>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}
