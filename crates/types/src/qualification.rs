//! Training projects and qualification tests: what a project is for, a
//! qualification test's settings, and the certifications a pass grants.

use crate::{ProjectId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a project is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectKind {
    /// Ordinary labeling.
    #[default]
    Labeling,
    /// Practice on tasks with ground truth: after each submit the annotator
    /// sees what was right and wrong, and the task's `explanation`.
    Training,
    /// A test of gold tasks taken in attempts; passing grants a certification.
    Qualification,
}

impl ProjectKind {
    pub const ALL: [ProjectKind; 3] = [
        ProjectKind::Labeling,
        ProjectKind::Training,
        ProjectKind::Qualification,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectKind::Labeling => "labeling",
            ProjectKind::Training => "training",
            ProjectKind::Qualification => "qualification",
        }
    }

    pub fn parse(text: &str) -> Option<ProjectKind> {
        ProjectKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// A qualification test's settings (kept, unused, on other kinds of project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QualificationSettings {
    /// The mean score against gold (0 to 1) an attempt needs to pass.
    pub pass_score: f64,
    /// Attempts per person; 0: unlimited.
    pub max_attempts: i64,
    /// Minutes between a failed attempt and the next.
    pub cooldown_minutes: i64,
    /// The certification a pass grants; `None`: none.
    pub grants_certification: Option<String>,
    /// For how many days the certification is valid; `None`: no expiry.
    pub certification_valid_days: Option<i64>,
    /// A skill a pass adds to the person's skills; `None`: none.
    pub grants_skill: Option<String>,
}

impl Default for QualificationSettings {
    fn default() -> Self {
        QualificationSettings {
            pass_score: 0.8,
            max_attempts: 0,
            cooldown_minutes: 0,
            grants_certification: None,
            certification_valid_days: None,
            grants_skill: None,
        }
    }
}

/// A certification a person holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Certification {
    pub name: String,
    pub granted_at: Timestamp,
    /// `None`: it does not expire.
    pub expires_at: Option<Timestamp>,
    /// Whether it has expired (at the time it was read).
    pub expired: bool,
    /// The qualification test that granted it, if it still exists.
    pub project_id: Option<ProjectId>,
    pub project_name: Option<String>,
    /// The passing attempt and its score.
    pub attempt_id: Option<i64>,
    pub score: Option<f64>,
}
