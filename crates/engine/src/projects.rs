//! Projects and their members.

use crate::auth::check_username;
use crate::error::{Error, OrNotFound, Result};
use crate::{Actor, Engine};
use gloss_store::{NewProject, ProjectPatch, ProjectScope};
use gloss_types::{Member, Page, PageRequest, Project, ProjectId, ProjectRole, QueueOrder, Role};

const MAX_NAME_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// Label configs are XML written by people; a megabyte is far beyond any real one.
pub const MAX_LABEL_CONFIG_BYTES: usize = 1024 * 1024;

/// What a new project is made of.
#[derive(Debug, Clone, Default)]
pub struct ProjectInput {
    pub name: String,
    pub description: String,
    pub label_config: String,
}

/// The fields of a project to change; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ProjectUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub label_config: Option<String>,
    /// Annotators per task, 1 to [`MAX_OVERLAP`].
    pub overlap: Option<i64>,
    pub queue_order: Option<QueueOrder>,
    /// How long `next` reserves a task, [`MIN_RESERVATION_SECONDS`] to
    /// [`MAX_RESERVATION_SECONDS`].
    pub reservation_seconds: Option<i64>,
    /// Review layers an annotation passes before it is accepted: 1 or 2.
    pub review_layers: Option<i64>,
    /// The share of each annotator's work the review queue hands out, 0 to 100.
    pub review_percent: Option<i64>,
    /// The share of each annotator's queue that is gold tasks, 0 to 100.
    pub honeypot_percent: Option<i64>,
    /// The accuracy against gold below which an annotator is paused, 0 to 1;
    /// `Some(None)` turns pausing off.
    pub gold_pause_below: Option<Option<f64>>,
    /// Gold answers before the pause rule applies, 1 to 1000.
    pub gold_pause_after: Option<i64>,
    /// Dynamic overlap's most annotators per task (0: off; else more than
    /// the overlap, at most [`MAX_OVERLAP`]).
    pub dynamic_overlap_max: Option<i64>,
    /// The agreement (0 to 1) below which a task asks for one more annotator.
    pub dynamic_agreement_below: Option<f64>,
    /// How a task's consensus weighs its annotators.
    pub consensus_method: Option<gloss_types::ConsensusMethod>,
    /// Skills whoever labels the project must all have.
    pub required_skills: Option<Vec<String>>,
    /// The lowest tier that may label; `Some(None)` admits any.
    pub required_tier: Option<Option<String>>,
    /// At most this many tasks per person per day (UTC), 0 (none) to
    /// [`MAX_DAILY_LIMIT`].
    pub daily_limit: Option<i64>,
    /// Seconds without input after which active time stops, 10 to 3600.
    pub idle_seconds: Option<i64>,
    /// Submits faster than this many seconds of active time are flagged;
    /// 0 (off) to 3600.
    pub min_task_seconds: Option<i64>,
    /// This many identical answers in a row are flagged; 0 (off) or 2 to 1000.
    pub same_answer_streak: Option<i64>,
    /// What becomes of labels stored results use and a new `label_config`
    /// lacks (see [`crate::LabelChange`]).
    pub label_changes: Vec<crate::LabelChange>,
    /// The kind, required certifications and qualification test settings.
    pub qualification: gloss_store::QualificationPatch,
}

pub const MAX_OVERLAP: i64 = 100;
pub const MAX_DAILY_LIMIT: i64 = 100_000;
pub const MIN_RESERVATION_SECONDS: i64 = 1;
pub const MAX_RESERVATION_SECONDS: i64 = 7 * 24 * 3600;

impl Engine {
    /// Creates a project; the creator (when a user) becomes its manager.
    pub async fn create_project(&self, actor: &Actor, input: ProjectInput) -> Result<Project> {
        actor.require_project_creator()?;
        let name = check_name(&input.name)?;
        check_description(&input.description)?;
        check_label_config(&input.label_config)?;
        let new = NewProject {
            name,
            description: input.description,
            label_config: input.label_config,
            created_by: actor.user().map(|user| user.id),
        };
        Ok(self.store.create_project(&new).await?)
    }

    /// The projects the caller can see: all for admins, their own for everyone else.
    pub async fn list_projects(&self, actor: &Actor, page: PageRequest) -> Result<Page<Project>> {
        let scope = match actor {
            Actor::User(user) if user.role != Role::Admin => ProjectScope::MemberOf(user.id),
            _ => ProjectScope::All,
        };
        Ok(self.store.list_projects(scope, page).await?)
    }

    /// One project and the caller's role in it.
    pub async fn project(&self, actor: &Actor, id: ProjectId) -> Result<(Project, ProjectRole)> {
        self.project_for(actor, id).await
    }

    pub async fn update_project(
        &self,
        actor: &Actor,
        id: ProjectId,
        update: ProjectUpdate,
    ) -> Result<Project> {
        self.project_with_role(actor, id, ProjectRole::Manager, "change the project")
            .await?;
        let name = update.name.as_deref().map(check_name).transpose()?;
        if let Some(description) = &update.description {
            check_description(description)?;
        }
        let mut label_config = update.label_config;
        if let Some(text) = &label_config {
            check_label_config(text)?;
            let (current, _) = self.project_for(actor, id).await?;
            if *text != current.label_config {
                // A changed config is saved together with the results it
                // migrates; the plain update below leaves it alone.
                let (config, _) = gloss_schema::parse(text);
                self.change_label_config(actor, id, &config, text, &update.label_changes)
                    .await?;
            }
            label_config = None;
        } else if !update.label_changes.is_empty() {
            return Err(Error::invalid(
                "label_changes",
                "only goes with a new label_config",
            ));
        }
        if let Some(overlap) = update.overlap {
            if !(1..=MAX_OVERLAP).contains(&overlap) {
                return Err(Error::invalid(
                    "overlap",
                    format!("must be between 1 and {MAX_OVERLAP}"),
                ));
            }
        }
        if let Some(seconds) = update.reservation_seconds {
            if !(MIN_RESERVATION_SECONDS..=MAX_RESERVATION_SECONDS).contains(&seconds) {
                return Err(Error::invalid(
                    "reservation_seconds",
                    format!(
                        "must be between {MIN_RESERVATION_SECONDS} and {MAX_RESERVATION_SECONDS}"
                    ),
                ));
            }
        }
        if let Some(layers) = update.review_layers {
            if !(1..=2).contains(&layers) {
                return Err(Error::invalid("review_layers", "must be 1 or 2"));
            }
        }
        if let Some(percent) = update.review_percent {
            if !(0..=100).contains(&percent) {
                return Err(Error::invalid(
                    "review_percent",
                    "must be between 0 and 100",
                ));
            }
        }
        if let Some(percent) = update.honeypot_percent {
            if !(0..=100).contains(&percent) {
                return Err(Error::invalid(
                    "honeypot_percent",
                    "must be between 0 and 100",
                ));
            }
        }
        if let Some(Some(threshold)) = update.gold_pause_below {
            if !(0.0..=1.0).contains(&threshold) {
                return Err(Error::invalid(
                    "gold_pause_below",
                    "must be an accuracy between 0 and 1, or null to never pause",
                ));
            }
        }
        if let Some(after) = update.gold_pause_after {
            if !(1..=1000).contains(&after) {
                return Err(Error::invalid(
                    "gold_pause_after",
                    "must be between 1 and 1000",
                ));
            }
        }
        if let Some(max) = update.dynamic_overlap_max {
            if !(0..=MAX_OVERLAP).contains(&max) {
                return Err(Error::invalid(
                    "dynamic_overlap_max",
                    format!("must be 0 (off) or a number of annotators up to {MAX_OVERLAP}"),
                ));
            }
        }
        if let Some(threshold) = update.dynamic_agreement_below {
            if !(0.0..=1.0).contains(&threshold) {
                return Err(Error::invalid(
                    "dynamic_agreement_below",
                    "must be an agreement between 0 and 1",
                ));
            }
        }
        let required_skills = match &update.required_skills {
            Some(skills) => Some(crate::people::clean_tags("required_skills", skills, true)?),
            None => None,
        };
        let required_tier = match &update.required_tier {
            Some(Some(tier)) => Some(Some(self.known_tier("required_tier", tier).await?)),
            Some(None) => Some(None),
            None => None,
        };
        if let Some(limit) = update.daily_limit {
            if !(0..=MAX_DAILY_LIMIT).contains(&limit) {
                return Err(Error::invalid(
                    "daily_limit",
                    format!("must be 0 (no limit) to {MAX_DAILY_LIMIT} tasks a day"),
                ));
            }
        }
        check_range("idle_seconds", update.idle_seconds, 10..=3600, "seconds")?;
        check_range(
            "min_task_seconds",
            update.min_task_seconds,
            0..=3600,
            "seconds (0: off)",
        )?;
        if update.same_answer_streak != Some(0) {
            check_range(
                "same_answer_streak",
                update.same_answer_streak,
                2..=1000,
                "answers in a row, or 0 (off)",
            )?;
        }
        let patch = ProjectPatch {
            idle_seconds: update.idle_seconds,
            min_task_seconds: update.min_task_seconds,
            same_answer_streak: update.same_answer_streak,
            required_skills,
            required_tier,
            daily_limit: update.daily_limit,
            name,
            description: update.description,
            label_config,
            overlap: update.overlap,
            queue_order: update.queue_order,
            reservation_seconds: update.reservation_seconds,
            review_layers: update.review_layers,
            review_percent: update.review_percent,
            honeypot_percent: update.honeypot_percent,
            gold_pause_below: update.gold_pause_below,
            gold_pause_after: update.gold_pause_after,
            dynamic_overlap_max: update.dynamic_overlap_max,
            dynamic_agreement_below: update.dynamic_agreement_below,
            consensus_method: update.consensus_method,
            qualification: crate::qualification::checked_patch(update.qualification)?,
        };
        self.store
            .update_project(id, &patch)
            .await
            .or_not_found("project")
    }

    pub async fn delete_project(&self, actor: &Actor, id: ProjectId) -> Result<()> {
        self.project_with_role(actor, id, ProjectRole::Manager, "delete the project")
            .await?;
        self.store
            .delete_project(id)
            .await
            .or_not_found("project")?;
        self.forget_answers(id);
        Ok(())
    }

    /// Members are visible to the project's reviewers and managers.
    pub async fn list_members(
        &self,
        actor: &Actor,
        id: ProjectId,
        page: PageRequest,
    ) -> Result<Page<Member>> {
        self.project_with_role(actor, id, ProjectRole::Reviewer, "see the members")
            .await?;
        let mut members = self.store.list_members(id, page).await?;
        for member in &mut members.items {
            member.certifications = self.certifications_of(member.user_id).await?;
        }
        Ok(members)
    }

    /// Adds a member by username, or changes their role. Without a role the
    /// member gets their account's default (see [`Role::default_project_role`]).
    pub async fn put_member(
        &self,
        actor: &Actor,
        id: ProjectId,
        username: &str,
        role: Option<ProjectRole>,
    ) -> Result<Member> {
        self.project_with_role(actor, id, ProjectRole::Manager, "manage members")
            .await?;
        check_username(username)?;
        let user = self.user_named(username).await?;
        let role = role.unwrap_or(user.role.default_project_role());
        Ok(self.store.put_member(id, user.id, role).await?)
    }

    /// The account named in a request's `username` field (a missing one is
    /// "not found", naming the field).
    pub(crate) async fn user_named(&self, username: &str) -> Result<gloss_types::User> {
        self.store
            .user_by_username(username)
            .await
            .or_not_found("user")
            .map_err(|err| Error {
                field: Some("username".to_string()),
                ..err
            })
    }

    pub async fn remove_member(&self, actor: &Actor, id: ProjectId, username: &str) -> Result<()> {
        self.project_with_role(actor, id, ProjectRole::Manager, "manage members")
            .await?;
        let user = self
            .store
            .user_by_username(username)
            .await
            .or_not_found("member")?;
        self.store
            .remove_member(id, user.id)
            .await
            .or_not_found("member")
    }
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_string())
}

fn check_description(description: &str) -> Result<()> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Error::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A label config as the config editor shows it: the parsed model (for the
/// live preview) and every problem with its line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LabelConfigCheck {
    pub config: gloss_schema::LabelConfig,
    pub problems: Vec<gloss_schema::Diagnostic>,
    /// Whether a project may use it (no problem is an error).
    pub valid: bool,
}

/// Parses a label config for the editor; only its size can be refused.
pub fn label_config_check(label_config: &str) -> Result<LabelConfigCheck> {
    if label_config.len() > MAX_LABEL_CONFIG_BYTES {
        return Err(Error::invalid(
            "label_config",
            format!("must be at most {MAX_LABEL_CONFIG_BYTES} bytes"),
        ));
    }
    let (config, problems) = gloss_schema::parse(label_config);
    let valid = !label_config.trim().is_empty() && !gloss_schema::has_errors(&problems);
    Ok(LabelConfigCheck {
        config,
        problems,
        valid,
    })
}

fn check_label_config(label_config: &str) -> Result<()> {
    if label_config.trim().is_empty() {
        return Err(Error::invalid("label_config", "must not be empty"));
    }
    if label_config.len() > MAX_LABEL_CONFIG_BYTES {
        return Err(Error::invalid(
            "label_config",
            format!("must be at most {MAX_LABEL_CONFIG_BYTES} bytes"),
        ));
    }
    let (_, diagnostics) = gloss_schema::parse(label_config);
    let errors: Vec<_> = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.severity == gloss_schema::Severity::Error)
        .collect();
    let Some(first) = errors.first() else {
        return Ok(());
    };
    let summary = match errors.len() {
        1 => format!("line {}: {}", first.line, first.message),
        n => format!(
            "{n} problems; the first, on line {}: {}",
            first.line, first.message
        ),
    };
    Err(Error {
        problems: serde_json::to_value(&errors).ok(),
        ..Error::invalid(
            "label_config",
            format!("is not a valid label config: {summary}"),
        )
    })
}

/// Refuses a setting outside its range, naming it.
fn check_range(
    field: &str,
    value: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
    unit: &str,
) -> Result<()> {
    match value {
        Some(value) if !range.contains(&value) => Err(Error::invalid(
            field,
            format!("must be {} to {} {unit}", range.start(), range.end()),
        )),
        _ => Ok(()),
    }
}
