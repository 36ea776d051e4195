//! Accounts and their API tokens.

use crate::error::{Error, OrNotFound, Result};
use crate::{Actor, Engine, NewToken};
use gloss_types::{ApiToken, Page, PageRequest, Role, TokenId, User};

impl Engine {
    pub async fn list_users(&self, actor: &Actor, page: PageRequest) -> Result<Page<User>> {
        actor.require_admin("list accounts")?;
        Ok(self.store.list_users(page).await?)
    }

    /// A user by name: admins see anyone, managers the members of projects
    /// they manage, others only themselves.
    pub async fn user_by_username(&self, actor: &Actor, username: &str) -> Result<User> {
        let user = self
            .store
            .user_by_username(username)
            .await
            .or_not_found("user")?;
        match actor.user() {
            Some(me) if !actor.is_admin() && me.id != user.id => {
                let managed =
                    me.role == Role::Manager && self.store.manages_member(me.id, user.id).await?;
                if managed {
                    Ok(user)
                } else {
                    Err(Error::not_found("user"))
                }
            }
            _ => Ok(user),
        }
    }

    /// Changes an account's role or deactivates it. Admins only; the last
    /// active admin can be neither demoted nor deactivated.
    pub async fn update_user(
        &self,
        actor: &Actor,
        username: &str,
        role: Option<Role>,
        active: Option<bool>,
    ) -> Result<User> {
        actor.require_admin("change accounts")?;
        let user = self
            .store
            .user_by_username(username)
            .await
            .or_not_found("user")?;
        let role = role.unwrap_or(user.role);
        let active = active.unwrap_or(user.active);
        let stops_being_admin =
            user.role == Role::Admin && user.active && (role != Role::Admin || !active);
        if stops_being_admin && self.store.count_active_admins().await? <= 1 {
            return Err(Error::new(
                gloss_types::Code::Conflict,
                "this is the last active admin; make another admin first",
            ));
        }
        let updated = self.store.update_user(user.id, role, active).await?;
        if !active {
            self.store.delete_sessions_of(user.id).await?;
        }
        Ok(updated)
    }

    pub async fn create_own_token(&self, actor: &Actor, name: &str) -> Result<NewToken> {
        let Some(user) = actor.user() else {
            return Err(Error::forbidden("the operator has no tokens"));
        };
        self.issue_token(user, name).await
    }

    /// Issues a token for any user (operator: `gloss user token U`).
    pub async fn create_token_for(
        &self,
        actor: &Actor,
        username: &str,
        name: &str,
    ) -> Result<NewToken> {
        actor.require_admin("issue tokens for other accounts")?;
        let user = self
            .store
            .user_by_username(username)
            .await
            .or_not_found("user")?;
        self.issue_token(&user, name).await
    }

    pub async fn list_own_tokens(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<ApiToken>> {
        let Some(user) = actor.user() else {
            return Err(Error::forbidden("the operator has no tokens"));
        };
        Ok(self.store.list_tokens(user.id, page).await?)
    }

    pub async fn revoke_own_token(&self, actor: &Actor, id: TokenId) -> Result<()> {
        let Some(user) = actor.user() else {
            return Err(Error::forbidden("the operator has no tokens"));
        };
        self.store
            .delete_token(user.id, id)
            .await
            .or_not_found("token")
    }
}
