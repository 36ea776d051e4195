//! Accounts, API tokens and browser sessions. Secrets arrive here already
//! hashed: the store never sees a password or a token.

use crate::queue_sql::Param;
use crate::rows::{self, TOKEN_COLUMNS, USER_COLUMNS};
use crate::tasks::Columns;
use crate::{Error, Result, Store};
use gloss_types::{
    ApiToken, Page, PageRequest, Role, Timestamp, TokenId, User, UserId, UserStatus,
};
use sqlx::Row;

/// A new account, with its password already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

impl Store {
    pub async fn create_user(&self, new: &NewUser) -> Result<User> {
        let row = sqlx::query(&format!(
            "INSERT INTO users (username, password_hash, role, active, created_at) \
             VALUES ($1, $2, $3, 1, $4) RETURNING {USER_COLUMNS}"
        ))
        .bind(&new.username)
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(Timestamp::now().millis())
        .fetch_one(&mut *self.write_conn().await?)
        .await
        .map_err(|err| match Error::from(err) {
            Error::Conflict(_) => Error::Conflict(format!("username `{}` is taken", new.username)),
            other => other,
        })?;
        rows::user(&row)
    }

    pub async fn user(&self, id: UserId) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.0)
            .fetch_one(&self.readers)
            .await?;
        rows::user(&row)
    }

    pub async fn user_by_username(&self, username: &str) -> Result<User> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_one(&self.readers)
        .await?;
        rows::user(&row)
    }

    /// The user and their password hash, for signing in.
    pub async fn user_with_password(&self, username: &str) -> Result<(User, String)> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_one(&self.readers)
        .await?;
        Ok((rows::user(&row)?, row.try_get("password_hash")?))
    }

    pub async fn list_users(&self, page: PageRequest) -> Result<Page<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(page.after.unwrap_or(0))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.readers)
        .await?;
        let users = rows
            .iter()
            .map(|row| rows::user(row))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(users, page.limit, |user| user.id.0))
    }

    pub async fn count_active_admins(&self) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND status = 'active'",
        )
        .fetch_one(&self.readers)
        .await?;
        Ok(row.try_get("n")?)
    }

    pub async fn set_password_hash(&self, id: UserId, password_hash: &str) -> Result<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.0)
            .execute(&mut *self.write_conn().await?)
            .await?;
        expect_one(done.rows_affected())
    }

    /// Changes an account's role and status; `active` follows the status
    /// (only a removed account is inactive).
    pub async fn update_user(&self, id: UserId, role: Role, status: UserStatus) -> Result<User> {
        let row = sqlx::query(&format!(
            "UPDATE users SET role = $1, active = $2, status = $4 WHERE id = $3 RETURNING {USER_COLUMNS}"
        ))
        .bind(role.as_str())
        .bind(i64::from(status != UserStatus::Removed))
        .bind(id.0)
        .bind(status.as_str())
        .fetch_one(&mut *self.write_conn().await?)
        .await?;
        rows::user(&row)
    }

    pub async fn create_token(
        &self,
        user: UserId,
        name: &str,
        token_hash: &str,
        prefix: &str,
    ) -> Result<ApiToken> {
        let row = sqlx::query(&format!(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(user.0)
        .bind(name)
        .bind(token_hash)
        .bind(prefix)
        .bind(Timestamp::now().millis())
        .fetch_one(&mut *self.write_conn().await?)
        .await?;
        rows::token(&row)
    }

    /// The active user a token belongs to, the token's id and when it was last used.
    pub async fn user_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<(User, TokenId, Option<Timestamp>)> {
        let row = self
            .quick_read_one(
                &format!(
                    "SELECT {USER_COLUMNS}, t.token_id, t.last_used_at FROM users \
                     JOIN (SELECT id AS token_id, user_id, last_used_at FROM api_tokens \
                     WHERE token_hash = $1) t ON t.user_id = users.id WHERE users.active = 1"
                ),
                &[Param::Text(token_hash)],
            )
            .await?;
        Ok((
            rows::user(&row)?,
            TokenId(row.int("token_id")?),
            row.optional_int("last_used_at")?.map(Timestamp),
        ))
    }

    /// Records that a token was used; callers call it at most once a minute
    /// per token. It goes with the queue's writes (on SQLite, the group
    /// commit), because it comes with the first API call of every working
    /// session, when a busy queue holds the write lock.
    pub async fn touch_token(&self, id: TokenId, at: Timestamp) -> Result<()> {
        self.queue_update(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2",
            vec![at.millis(), id.0],
        )
        .await
    }

    pub async fn list_tokens(&self, user: UserId, page: PageRequest) -> Result<Page<ApiToken>> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(user.0)
        .bind(page.after.unwrap_or(0))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.readers)
        .await?;
        let tokens = rows.iter().map(rows::token).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(tokens, page.limit, |token| token.id.0))
    }

    /// Revokes one of `user`'s tokens; another user's token is not found.
    pub async fn delete_token(&self, user: UserId, id: TokenId) -> Result<()> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(id.0)
            .bind(user.0)
            .execute(&mut *self.write_conn().await?)
            .await?;
        expect_one(done.rows_affected())
    }

    pub async fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        csrf_token: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        let now = Timestamp::now().millis();
        let mut tx = self.begin_write().await?;
        // Expired sessions are swept here rather than by a timer: logins are rare
        // enough to pay for it and frequent enough to keep the table small.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user.0)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at.millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The unexpired session and its active user.
    pub async fn session(&self, token_hash: &str) -> Result<Session> {
        let row = self
            .quick_read_one(
                &format!(
                    "SELECT {USER_COLUMNS}, s.csrf_token, s.expires_at FROM users \
                     JOIN (SELECT user_id, csrf_token, expires_at FROM sessions \
                     WHERE token_hash = $1) s ON s.user_id = users.id \
                     WHERE users.active = 1 AND s.expires_at > $2"
                ),
                &[
                    Param::Text(token_hash),
                    Param::Int(Timestamp::now().millis()),
                ],
            )
            .await?;
        Ok(Session {
            user: rows::user(&row)?,
            csrf_token: row.text("csrf_token")?,
            expires_at: Timestamp(row.int("expires_at")?),
        })
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(())
    }

    /// Signs a user out everywhere (after a password change, say).
    pub async fn delete_sessions_of(&self, user: UserId) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.0)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(())
    }
}

pub(crate) fn expect_one(rows_affected: u64) -> Result<()> {
    if rows_affected == 0 {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}
