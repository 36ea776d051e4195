//! The annotator queue's vocabulary: how a project hands out tasks, and the
//! versions and drafts of annotators' work.

use crate::{AnnotationId, TaskId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// In which order a project's queue hands out tasks. Tasks a manager
/// assigned to an annotator come first in that annotator's queue whatever
/// the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueOrder {
    /// By task id: the order of import.
    #[default]
    Sequential,
    /// A shuffled order; each annotator starts at their own point of it
    /// (seeded by user and project), so annotators spread over the project.
    Random,
    /// Highest `priority` first, then by task id.
    Priority,
}

impl QueueOrder {
    pub const ALL: [QueueOrder; 3] = [
        QueueOrder::Sequential,
        QueueOrder::Random,
        QueueOrder::Priority,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueOrder::Sequential => "sequential",
            QueueOrder::Random => "random",
            QueueOrder::Priority => "priority",
        }
    }

    pub fn parse(text: &str) -> Option<QueueOrder> {
        QueueOrder::ALL
            .into_iter()
            .find(|order| order.as_str() == text)
    }
}

/// How a task's consensus weighs its annotators' votes (see the engine's
/// `consensus` module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConsensusMethod {
    /// Every annotator's vote counts the same.
    #[default]
    Majority,
    /// Votes weighted by each annotator's reliability in the project: their
    /// accuracy against gold, else their agreement with the others.
    Weighted,
    /// Classes by Dawid–Skene over the whole project; other answers weighted.
    DawidSkene,
}

impl ConsensusMethod {
    pub const ALL: [ConsensusMethod; 3] = [
        ConsensusMethod::Majority,
        ConsensusMethod::Weighted,
        ConsensusMethod::DawidSkene,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsensusMethod::Majority => "majority",
            ConsensusMethod::Weighted => "weighted",
            ConsensusMethod::DawidSkene => "dawid-skene",
        }
    }

    pub fn parse(text: &str) -> Option<ConsensusMethod> {
        ConsensusMethod::ALL
            .into_iter()
            .find(|method| method.as_str() == text)
    }
}

/// One immutable version of an annotation. Version 1 is the submit; every
/// accepted update adds the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AnnotationVersion {
    pub annotation_id: AnnotationId,
    pub version: i64,
    /// Label Studio result items, as they were in this version.
    #[schema(value_type = Vec<Object>)]
    pub result: Vec<Value>,
    pub lead_time: Option<f64>,
    /// Who wrote this version.
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
}

/// An annotator's unsubmitted work on a task, kept between visits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Draft {
    pub task_id: TaskId,
    pub user_id: UserId,
    #[schema(value_type = Vec<Object>)]
    pub result: Vec<Value>,
    pub lead_time: Option<f64>,
    pub updated_at: Timestamp,
}

/// A task a manager put in an annotator's queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    pub task_id: TaskId,
    pub user_id: UserId,
    pub username: String,
    pub assigned_by: Option<UserId>,
    pub assigned_at: Timestamp,
}
