//! Invitation links. The secret arrives hashed; a link makes one account.

use crate::rows;
use crate::tasks::Columns;
use crate::users::NewUser;
use crate::{Error, Result, Store};
use gloss_types::{Invite, ProjectId, Role, Timestamp, User, UserId};
use sqlx::any::AnyRow;

/// A new invitation, its secret already hashed.
#[derive(Debug, Clone)]
pub struct NewInvite {
    pub token_hash: String,
    pub role: Role,
    pub project: Option<ProjectId>,
    pub created_by: Option<UserId>,
    pub expires_at: Timestamp,
    pub tier: Option<String>,
    pub skills: Vec<String>,
}

const INVITE_QUERY: &str = "SELECT i.id, i.role, i.project_id, p.name AS project_name, \
     c.username AS created_by, i.created_at, i.expires_at, u.username AS used_by, i.used_at, \
     i.tier, i.skills \
     FROM invites i LEFT JOIN projects p ON p.id = i.project_id \
     LEFT JOIN users c ON c.id = i.created_by LEFT JOIN users u ON u.id = i.used_by";

fn invite(row: &AnyRow) -> Result<Invite> {
    let role = row.text("role")?;
    Ok(Invite {
        id: row.int("id")?,
        role: Role::parse(&role)
            .ok_or_else(|| Error::Database(format!("unknown role `{role}` in invites")))?,
        project_id: row.optional_int("project_id")?.map(ProjectId),
        project_name: row.optional_text("project_name")?,
        created_by: row.optional_text("created_by")?,
        created_at: Timestamp(row.int("created_at")?),
        expires_at: Timestamp(row.int("expires_at")?),
        used_by: row.optional_text("used_by")?,
        used_at: row.optional_int("used_at")?.map(Timestamp),
        tier: row.optional_text("tier")?,
        skills: rows::string_list(&row.text("skills")?, "invites.skills")?,
    })
}

impl Store {
    pub async fn create_invite(&self, new: &NewInvite) -> Result<Invite> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO invites (token_hash, role, project_id, created_by, created_at, expires_at, tier, skills) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&new.token_hash)
        .bind(new.role.as_str())
        .bind(new.project.map(|p| p.0))
        .bind(new.created_by.map(|u| u.0))
        .bind(Timestamp::now().millis())
        .bind(new.expires_at.millis())
        .bind(new.tier.as_deref())
        .bind(serde_json::to_string(&new.skills).expect("a list of strings"))
        .fetch_one(&mut *tx)
        .await?;
        let row = sqlx::query(&format!("{INVITE_QUERY} WHERE i.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        invite(&row)
    }

    /// The invitation with this secret hash, used or not.
    pub async fn invite_by_hash(&self, token_hash: &str) -> Result<Invite> {
        let row = sqlx::query(&format!("{INVITE_QUERY} WHERE i.token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&self.readers)
            .await?
            .ok_or(Error::NotFound)?;
        invite(&row)
    }

    /// A project's invitations, newest first (at most `limit`).
    pub async fn list_invites(&self, project: ProjectId, limit: u32) -> Result<Vec<Invite>> {
        let rows = sqlx::query(&format!(
            "{INVITE_QUERY} WHERE i.project_id = $1 ORDER BY i.id DESC LIMIT $2"
        ))
        .bind(project.0)
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(invite).collect()
    }

    pub async fn delete_invite(&self, project: ProjectId, id: i64) -> Result<()> {
        let result = sqlx::query("DELETE FROM invites WHERE id = $1 AND project_id = $2")
            .bind(id)
            .bind(project.0)
            .execute(&mut *self.write_conn().await?)
            .await?;
        crate::users::expect_one(result.rows_affected())
    }

    /// Uses an unexpired, unused invitation: makes the account and its
    /// membership in one transaction, so a link makes exactly one account
    /// even when two people open it at once. `NotFound` when the link is
    /// unknown, used or expired.
    pub async fn accept_invite(&self, token_hash: &str, user: &NewUser) -> Result<User> {
        let now = Timestamp::now().millis();
        let mut tx = self.begin_write().await?;
        let claimed: Option<(String, Option<i64>, Option<String>, String)> = sqlx::query_as(
            "UPDATE invites SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING role, project_id, tier, skills",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((role, project, tier, skills)) = claimed else {
            return Err(Error::NotFound);
        };
        if Role::parse(&role) != Some(user.role) {
            return Err(Error::Database(format!(
                "the invitation's role `{role}` changed"
            )));
        }
        let row = sqlx::query(&format!(
            "INSERT INTO users (username, password_hash, role, active, created_at, tier, skills) \
             VALUES ($1, $2, $3, 1, $4, $5, $6) RETURNING {}",
            rows::USER_COLUMNS
        ))
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(now)
        .bind(tier)
        .bind(skills)
        .fetch_one(&mut *tx)
        .await
        .map_err(|err| match Error::from(err) {
            Error::Conflict(_) => Error::Conflict(format!("username `{}` is taken", user.username)),
            other => other,
        })?;
        let created = rows::user(&row)?;
        if let Some(project) = project {
            let project_role = user.role.default_project_role();
            sqlx::query(
                "INSERT INTO project_members (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(project)
            .bind(created.id.0)
            .bind(project_role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE invites SET used_by = $1 WHERE token_hash = $2")
            .bind(created.id.0)
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(created)
    }
}
