//! Accounts and their API tokens.

use crate::error::{Error, OrNotFound, Result};
use crate::{Actor, Engine, NewToken};
use gloss_types::{ApiToken, Page, PageRequest, Role, TokenId, User, UserStatus};

impl Engine {
    /// Every account (admins), or a manager's people: the members of the
    /// projects they manage.
    pub async fn list_users(&self, actor: &Actor, page: PageRequest) -> Result<Page<User>> {
        match actor.user() {
            Some(me) if !actor.is_admin() && me.role == Role::Manager => {
                Ok(self.store.people_of_manager(me.id, page).await?)
            }
            _ => {
                actor.require_admin("list accounts")?;
                Ok(self.store.list_users(page).await?)
            }
        }
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

    /// Changes an account's role (admins) or its status: `active: false`
    /// is the older spelling of `status: removed`, `active: true` of
    /// `status: active` for a removed account. Admins change anyone's
    /// status; managers that of the annotators and reviewers in their
    /// projects. The last active admin can be neither demoted nor removed.
    pub async fn update_user(
        &self,
        actor: &Actor,
        username: &str,
        role: Option<Role>,
        active: Option<bool>,
        status: Option<UserStatus>,
    ) -> Result<User> {
        let is_admin = match actor {
            Actor::Operator => true,
            Actor::User(me) => me.role == Role::Admin,
        };
        if role.is_some() {
            actor.require_admin("change accounts' roles")?;
        }
        let user = self
            .store
            .user_by_username(username)
            .await
            .or_not_found("user")?;
        let status = match (status, active) {
            (Some(status), _) => status,
            (None, Some(false)) => UserStatus::Removed,
            (None, Some(true)) if user.status == UserStatus::Removed => UserStatus::Active,
            (None, _) => user.status,
        };
        if !is_admin {
            let manages = match actor {
                Actor::User(me) if me.role == Role::Manager && me.id != user.id => {
                    self.store.manages_member(me.id, user.id).await?
                }
                _ => false,
            };
            if !manages {
                actor.require_admin("change accounts")?;
            }
            if matches!(user.role, Role::Admin | Role::Manager) {
                return Err(Error::forbidden(
                    "only admins change the status of admins and managers",
                ));
            }
        }
        let role = role.unwrap_or(user.role);
        let stops_being_admin = user.role == Role::Admin
            && user.status == UserStatus::Active
            && (role != Role::Admin || status != UserStatus::Active);
        if stops_being_admin && self.store.count_active_admins().await? <= 1 {
            return Err(Error::new(
                gloss_types::Code::Conflict,
                "this is the last active admin; make another admin first",
            ));
        }
        let updated = self.store.update_user(user.id, role, status).await?;
        if status == UserStatus::Removed {
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
