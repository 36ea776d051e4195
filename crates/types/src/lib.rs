//! The vocabulary of Gloss: ids, roles, users, projects, members, tokens,
//! stable error codes and timestamps, with their JSON form.
//!
//! This crate knows nothing about storage, HTTP, async runtimes or files:
//! every other crate in the workspace may depend on it, and it depends on
//! none of them.

mod code;
mod comment;
mod ids;
mod money;
mod qualification;
mod queue;
pub mod result;
mod review;
mod task;
mod time_stamp;

pub use code::Code;
pub use comment::{Comment, Notification};
pub use ids::{AnnotationId, ImportId, PredictionId, ProjectId, TaskId, TokenId, UserId};
pub use money::{Amount, Currency, AMOUNT_DECIMALS};
pub use qualification::{Certification, ProjectKind, QualificationSettings};
pub use queue::{AnnotationVersion, Assignment, ConsensusMethod, Draft, QueueOrder};
pub use review::{Review, ReviewState, ReviewVerdict};
pub use task::{
    Annotation, Import, ImportState, MediaRecord, Prediction, RejectedRow, Task, TaskStatus,
};
pub use time_stamp::Timestamp;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An account's role on the whole instance.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May do everything, in every project.
    Admin,
    /// May create projects, and manages the projects they created or were made manager of.
    Manager,
    /// Reviews work in the projects they are a member of.
    Reviewer,
    /// Labels tasks in the projects they are a member of.
    Annotator,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Reviewer, Role::Annotator];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Reviewer => "reviewer",
            Role::Annotator => "annotator",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// The project role a new member with this account role gets when none is given.
    pub fn default_project_role(self) -> ProjectRole {
        match self {
            Role::Admin | Role::Manager => ProjectRole::Manager,
            Role::Reviewer => ProjectRole::Reviewer,
            Role::Annotator => ProjectRole::Annotator,
        }
    }
}

/// A person's standing in the workforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Works as their roles allow.
    #[default]
    Active,
    /// Signs in and sees their records, but is given no work (no `next`,
    /// no review queue) until set active again.
    Paused,
    /// Can no longer sign in or use tokens; their work and records stay.
    Removed,
}

impl UserStatus {
    pub const ALL: [UserStatus; 3] = [UserStatus::Active, UserStatus::Paused, UserStatus::Removed];

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Paused => "paused",
            UserStatus::Removed => "removed",
        }
    }

    pub fn parse(text: &str) -> Option<UserStatus> {
        UserStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A member's role inside one project. Ordered by power: `Annotator < Reviewer < Manager`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ProjectRole {
    Annotator,
    Reviewer,
    Manager,
}

impl ProjectRole {
    pub const ALL: [ProjectRole; 3] = [
        ProjectRole::Annotator,
        ProjectRole::Reviewer,
        ProjectRole::Manager,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectRole::Annotator => "annotator",
            ProjectRole::Reviewer => "reviewer",
            ProjectRole::Manager => "manager",
        }
    }

    pub fn parse(text: &str) -> Option<ProjectRole> {
        ProjectRole::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
    }
}

/// A person (or script) who can sign in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    /// A deactivated account can neither sign in nor use its tokens
    /// (`false` exactly when `status` is `removed`).
    pub active: bool,
    /// Active, paused (no work given) or removed (no sign-in).
    pub status: UserStatus,
    /// The name shown beside the username ("" when not given).
    pub display_name: String,
    /// Languages the person works in (such as `de`, `en-GB`).
    pub languages: Vec<String>,
    /// An IANA time zone name (such as `Europe/Berlin`), for their timesheets.
    pub time_zone: String,
    /// Free tags (`medical`, `legal`, `de`) that projects can require.
    pub skills: Vec<String>,
    /// Their tier (see `GET /api/v1/tiers`), `None` when not given.
    pub tier: Option<String>,
    pub created_at: Timestamp,
}

/// A labeling project: its label config and who works on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub description: String,
    /// The label config, in Label Studio's XML, kept exactly as given.
    pub label_config: String,
    /// Who created the project; `None` when it was created from the command line.
    pub created_by: Option<UserId>,
    /// How many different annotators must submit a task before it is completed.
    pub overlap: i64,
    /// In which order the queue hands out tasks.
    pub queue_order: QueueOrder,
    /// How long a task handed out by the queue stays reserved for its annotator.
    pub reservation_seconds: i64,
    /// How many review layers an annotation passes before it is accepted (1 or 2).
    pub review_layers: i64,
    /// The share of each annotator's annotations that the review queue
    /// hands out, in percent (0: no review).
    pub review_percent: i64,
    /// The share of each annotator's queue that is gold tasks (tasks with a
    /// ground-truth annotation), in percent (0: no honeypots).
    pub honeypot_percent: i64,
    /// The accuracy against gold (0 to 1) below which an annotator is
    /// paused in the project; `None`: never.
    pub gold_pause_below: Option<f64>,
    /// How many gold answers (since the last resume) before the pause rule applies.
    pub gold_pause_after: i64,
    /// Dynamic overlap: when a task's annotators agree less than
    /// `dynamic_agreement_below`, it asks for one more, up to this many
    /// annotators; 0: off.
    pub dynamic_overlap_max: i64,
    pub dynamic_agreement_below: f64,
    /// How a task's consensus weighs its annotators.
    pub consensus_method: ConsensusMethod,
    /// The current version of the project's guidelines; 0: none.
    pub guidelines_version: i64,
    /// Skills whoever labels the project must all have.
    pub required_skills: Vec<String>,
    /// The lowest tier that may label the project; `None`: any.
    pub required_tier: Option<String>,
    /// At most this many tasks per person per day (UTC); 0: no limit.
    pub daily_limit: i64,
    /// Seconds without input after which the labeling workspace stops
    /// counting active time.
    pub idle_seconds: i64,
    /// A submit with less active time than this is flagged as too fast; 0: off.
    pub min_task_seconds: i64,
    /// This many identical answers in a row by one person are flagged; 0: off.
    pub same_answer_streak: i64,
    /// What the project is for: labeling, training or a qualification test.
    pub kind: ProjectKind,
    /// Certifications whoever labels the project must hold, unexpired.
    pub required_certifications: Vec<String>,
    /// The settings of a qualification test (kind `qualification`).
    pub qualification: QualificationSettings,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One person's membership of one project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub username: String,
    pub role: ProjectRole,
    pub added_at: Timestamp,
    /// When their accuracy against gold paused their work here, if it is paused.
    pub paused_at: Option<Timestamp>,
    pub paused_reason: Option<String>,
    /// The person's skills and tier (see [`User`]).
    pub skills: Vec<String>,
    pub tier: Option<String>,
    /// Their account's status (a paused account gets no work anywhere).
    pub status: UserStatus,
    /// Their certifications, expired ones included (see [`Certification`]).
    #[serde(default)]
    pub certifications: Vec<Certification>,
}

/// An invitation link as it can be shown again: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Invite {
    pub id: i64,
    /// The account role the new account gets (and its role in the project).
    pub role: Role,
    /// The project the new account joins, if any.
    pub project_id: Option<ProjectId>,
    pub project_name: Option<String>,
    /// Who made the link.
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The account made with the link; a link works once.
    pub used_by: Option<String>,
    pub used_at: Option<Timestamp>,
    /// The tier the new account starts with, if the link presets one.
    pub tier: Option<String>,
    /// The skills the new account starts with.
    pub skills: Vec<String>,
}

/// An API token as it can be shown again: never the secret itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the secret, so that a person can tell tokens apart.
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// One page of a keyset-paginated list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next: Option<String>,
}

/// Where a keyset-paginated list starts and how long a page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Only items whose key is greater than this one.
    pub after: Option<i64>,
    pub limit: u32,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 100;
    pub const MAX_LIMIT: u32 = 1000;

    pub fn first(limit: u32) -> PageRequest {
        PageRequest { after: None, limit }
    }
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row, when present,
    /// only proves that there is a next page.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> i64) -> Page<T> {
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = if has_more {
            rows.last().map(|row| key(row).to_string())
        } else {
            None
        };
        Page { items: rows, next }
    }
}
