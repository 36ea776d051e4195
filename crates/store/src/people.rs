//! People's profiles, skills and tiers, and the ordered list of tiers.

use crate::person_index::person_annotations;
use crate::rows::{self, USER_COLUMNS};
use crate::{Error, Result, Store};
use gloss_types::UserId;
use sqlx::Row;

/// The tiers when none were set, lowest first.
pub const DEFAULT_TIERS: [&str; 4] = ["crowd", "specialist", "rlhf-rater", "qa-analyst"];

/// What to change in a person's profile; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub display_name: Option<String>,
    pub languages: Option<Vec<String>>,
    pub time_zone: Option<String>,
    pub skills: Option<Vec<String>>,
    /// `Some(None)` clears the tier.
    pub tier: Option<Option<String>>,
}

impl Store {
    /// Changes a person's profile.
    pub async fn update_profile(
        &self,
        user: UserId,
        patch: &ProfilePatch,
    ) -> Result<gloss_types::User> {
        let list = |list: &Option<Vec<String>>| {
            list.as_ref()
                .map(|list| serde_json::to_string(list).expect("a list of strings"))
        };
        let row = sqlx::query(&format!(
            "UPDATE users SET display_name = COALESCE($1, display_name), \
             languages = COALESCE($2, languages), time_zone = COALESCE($3, time_zone), \
             skills = COALESCE($4, skills), tier = CASE WHEN $5 = 1 THEN $6 ELSE tier END \
             WHERE id = $7 RETURNING {USER_COLUMNS}"
        ))
        .bind(patch.display_name.as_deref())
        .bind(list(&patch.languages))
        .bind(patch.time_zone.as_deref())
        .bind(list(&patch.skills))
        .bind(i64::from(patch.tier.is_some()))
        .bind(patch.tier.clone().flatten())
        .bind(user.0)
        .fetch_optional(&mut *self.write_conn().await?)
        .await?
        .ok_or(Error::NotFound)?;
        rows::user(&row)
    }

    /// The tiers, lowest first ([`DEFAULT_TIERS`] until some are set).
    pub async fn tiers(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT name FROM tiers ORDER BY position")
            .fetch_all(&self.readers)
            .await?;
        let tiers: Vec<String> = rows
            .iter()
            .map(|row| row.try_get("name"))
            .collect::<std::result::Result<_, _>>()?;
        Ok(if tiers.is_empty() {
            DEFAULT_TIERS.iter().map(|t| t.to_string()).collect()
        } else {
            tiers
        })
    }

    /// Replaces the tiers (lowest first). A tier that a person or a project
    /// still uses cannot go: [`Error::Conflict`] names them.
    pub async fn set_tiers(&self, tiers: &[String]) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let used_by_people: Vec<(String, String)> =
            sqlx::query_as("SELECT username, tier FROM users WHERE tier IS NOT NULL")
                .fetch_all(&mut *tx)
                .await?;
        let used_by_projects: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, required_tier FROM projects WHERE required_tier IS NOT NULL",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut gone = Vec::new();
        for (who, tier) in &used_by_people {
            if !tiers.contains(tier) {
                gone.push(format!("{who} is {tier}"));
            }
        }
        for (project, tier) in &used_by_projects {
            if !tiers.contains(tier) {
                gone.push(format!("project {project:?} requires {tier}"));
            }
        }
        if !gone.is_empty() {
            return Err(Error::Conflict(format!(
                "a tier in use would go: {}",
                gone.join("; ")
            )));
        }
        sqlx::query("DELETE FROM tiers").execute(&mut *tx).await?;
        for (position, name) in tiers.iter().enumerate() {
            sqlx::query("INSERT INTO tiers (name, position) VALUES ($1, $2)")
                .bind(name)
                .bind(position as i64 + 1)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(tiers.to_vec())
    }
}

impl Store {
    /// Whether `manager` manages a project that `user` is a member of.
    pub async fn manages_member(&self, manager: UserId, user: UserId) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM project_members a JOIN project_members b ON b.project_id = a.project_id \
             WHERE a.user_id = $1 AND a.role = 'manager' AND b.user_id = $2 LIMIT 1",
        )
        .bind(manager.0)
        .bind(user.0)
        .fetch_optional(&self.readers)
        .await?;
        Ok(found.is_some())
    }

    /// The people who are members of a project `manager` manages (the
    /// manager included), in id order, a page at a time.
    pub async fn people_of_manager(
        &self,
        manager: UserId,
        page: gloss_types::PageRequest,
    ) -> Result<gloss_types::Page<gloss_types::User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id > $2 AND id IN ( \
                 SELECT b.user_id FROM project_members a \
                 JOIN project_members b ON b.project_id = a.project_id \
                 WHERE a.user_id = $1 AND a.role = 'manager') \
             ORDER BY id LIMIT $3"
        ))
        .bind(manager.0)
        .bind(page.after.unwrap_or(0))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.readers)
        .await?;
        let users = rows
            .iter()
            .map(|row| rows::user(row))
            .collect::<Result<Vec<_>>>()?;
        Ok(gloss_types::Page::from_rows(users, page.limit, |user| {
            user.id.0
        }))
    }
}

/// Counts kept below this: past it, "this many or more".
pub const WORK_COUNT_CAP: i64 = 10_000;

impl Store {
    /// A person's annotations in a project created at or after `since` (ms).
    pub async fn annotations_since(
        &self,
        project: gloss_types::ProjectId,
        user: UserId,
        since: i64,
    ) -> Result<i64> {
        let theirs = person_annotations(self.backend, "$1", "$2", "AND created_at >= $3");
        Ok(
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM ({theirs}) theirs"))
                .bind(project.0)
                .bind(user.0)
                .bind(since)
                .fetch_one(&self.readers)
                .await?,
        )
    }

    /// Tasks of a project not yet completed that `user` has not annotated,
    /// counted up to [`WORK_COUNT_CAP`].
    pub async fn open_tasks_for(
        &self,
        project: gloss_types::ProjectId,
        user: UserId,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM tasks t \
             WHERE t.project_id = $1 AND t.status <> 'completed' AND NOT EXISTS \
             (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.completed_by = $2) \
             LIMIT $3) open",
        )
        .bind(project.0)
        .bind(user.0)
        .bind(WORK_COUNT_CAP)
        .fetch_one(&self.readers)
        .await?)
    }
}
