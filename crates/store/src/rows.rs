//! Turning rows into the vocabulary of `gloss-types`.

use crate::tasks::Columns;
use crate::{Error, Result};
use gloss_types::{
    ApiToken, ConsensusMethod, Member, Project, ProjectId, ProjectRole, QueueOrder, Role,
    Timestamp, TokenId, User, UserId, UserStatus,
};
use sqlx::any::AnyRow;
use sqlx::Row;

pub(crate) const USER_COLUMNS: &str =
    "id, username, role, active, status, display_name, languages, time_zone, skills, tier, created_at";
pub(crate) const PROJECT_COLUMNS: &str = "id, name, description, label_config, created_by, \
     overlap, queue_order, reservation_seconds, review_layers, review_percent, honeypot_percent, \
     gold_pause_below, gold_pause_after, dynamic_overlap_max, dynamic_agreement_below, consensus_method, guidelines_version, \
     required_skills, required_tier, daily_limit, idle_seconds, min_task_seconds, same_answer_streak, \
     kind, required_certifications, pass_score, max_attempts, cooldown_minutes, \
     grants_certification, certification_valid_days, grants_skill, \
     created_at, updated_at";
pub(crate) const TOKEN_COLUMNS: &str = "id, user_id, name, prefix, created_at, last_used_at";

pub(crate) fn user(row: &dyn Columns) -> Result<User> {
    let role = row.text("role")?;
    Ok(User {
        id: UserId(row.int("id")?),
        username: row.text("username")?,
        role: Role::parse(&role)
            .ok_or_else(|| Error::Database(format!("unknown role `{role}` in users")))?,
        active: row.int("active")? != 0,
        status: {
            let status = row.text("status")?;
            UserStatus::parse(&status)
                .ok_or_else(|| Error::Database(format!("unknown status `{status}` in users")))?
        },
        display_name: row.text("display_name")?,
        languages: string_list(&row.text("languages")?, "users.languages")?,
        time_zone: row.text("time_zone")?,
        skills: string_list(&row.text("skills")?, "users.skills")?,
        tier: row.optional_text("tier")?,
        created_at: Timestamp(row.int("created_at")?),
    })
}

/// A JSON list of strings stored in a text column.
pub(crate) fn string_list(text: &str, column: &str) -> Result<Vec<String>> {
    serde_json::from_str(text)
        .map_err(|err| Error::Database(format!("{column} is not a list of strings: {err}")))
}

pub(crate) fn project(row: &dyn Columns) -> Result<Project> {
    let order = row.text("queue_order")?;
    let method = row.text("consensus_method")?;
    let (kind, required_certifications, qualification) = crate::qualification::from_row(row)?;
    Ok(Project {
        id: ProjectId(row.int("id")?),
        name: row.text("name")?,
        description: row.text("description")?,
        label_config: row.text("label_config")?,
        created_by: row.optional_int("created_by")?.map(UserId),
        overlap: row.int("overlap")?,
        queue_order: QueueOrder::parse(&order)
            .ok_or_else(|| Error::Database(format!("unknown queue order `{order}`")))?,
        reservation_seconds: row.int("reservation_seconds")?,
        review_layers: row.int("review_layers")?,
        review_percent: row.int("review_percent")?,
        honeypot_percent: row.int("honeypot_percent")?,
        gold_pause_below: row.optional_float("gold_pause_below")?,
        gold_pause_after: row.int("gold_pause_after")?,
        dynamic_overlap_max: row.int("dynamic_overlap_max")?,
        dynamic_agreement_below: row
            .optional_float("dynamic_agreement_below")?
            .unwrap_or(0.7),
        consensus_method: ConsensusMethod::parse(&method)
            .ok_or_else(|| Error::Database(format!("unknown consensus method `{method}`")))?,
        guidelines_version: row.int("guidelines_version")?,
        required_skills: string_list(&row.text("required_skills")?, "projects.required_skills")?,
        required_tier: row.optional_text("required_tier")?,
        daily_limit: row.int("daily_limit")?,
        idle_seconds: row.int("idle_seconds")?,
        min_task_seconds: row.int("min_task_seconds")?,
        same_answer_streak: row.int("same_answer_streak")?,
        kind,
        required_certifications,
        qualification,
        created_at: Timestamp(row.int("created_at")?),
        updated_at: Timestamp(row.int("updated_at")?),
    })
}

pub(crate) fn member(row: &AnyRow) -> Result<Member> {
    Ok(Member {
        project_id: ProjectId(row.try_get("project_id")?),
        user_id: UserId(row.try_get("user_id")?),
        username: row.try_get("username")?,
        role: project_role(&row.try_get::<String, _>("role")?)?,
        added_at: Timestamp(row.try_get("added_at")?),
        paused_at: row.try_get::<Option<i64>, _>("paused_at")?.map(Timestamp),
        paused_reason: row.try_get("paused_reason")?,
        skills: string_list(&row.try_get::<String, _>("skills")?, "users.skills")?,
        tier: row.try_get("tier")?,
        status: {
            let status: String = row.try_get("status")?;
            UserStatus::parse(&status)
                .ok_or_else(|| Error::Database(format!("unknown status `{status}` in users")))?
        },
        certifications: Vec::new(),
    })
}

pub(crate) fn project_role(text: &str) -> Result<ProjectRole> {
    ProjectRole::parse(text)
        .ok_or_else(|| Error::Database(format!("unknown project role `{text}`")))
}

pub(crate) fn token(row: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: TokenId(row.try_get("id")?),
        user_id: UserId(row.try_get("user_id")?),
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(Timestamp),
    })
}

/// A nullable floating-point column. SQLite may hand back a whole number as
/// an integer, so both are accepted.
pub(crate) fn optional_f64(row: &AnyRow, column: &str) -> Result<Option<f64>> {
    match row.try_get::<Option<f64>, _>(column) {
        Ok(value) => Ok(value),
        Err(_) => Ok(row
            .try_get::<Option<i64>, _>(column)?
            .map(|value| value as f64)),
    }
}
