//! Invitation links: the only way to make an account besides an admin.
//! A project manager makes a link with a role; whoever opens it picks a
//! username and password and joins the project with that role. A link
//! works once and expires.

use crate::access::Actor;
use crate::auth::{check_password, check_username, hash_password, hash_secret, random_secret};
use crate::error::{Error, Result};
use crate::Engine;
use gloss_store::{NewInvite, NewUser};
use gloss_types::{Code, Invite, ProjectId, ProjectRole, Role, Timestamp, User};

/// The longest an invitation may stay open.
pub const MAX_INVITE_DAYS: i64 = 30;
const DEFAULT_INVITE_DAYS: i64 = 7;

/// What an invitation gives the new account besides its role.
#[derive(Debug, Clone, Default)]
pub struct InvitePreset {
    pub tier: Option<String>,
    pub skills: Vec<String>,
}

/// An invitation as made: the secret is shown once.
#[derive(Debug, Clone)]
pub struct NewInviteLink {
    pub invite: Invite,
    pub secret: String,
}

impl Engine {
    /// Makes an invitation to `project` with `role` and, optionally, the
    /// tier and skills the new account starts with (project managers and
    /// admins; an admin account cannot be invited).
    pub async fn create_invite(
        &self,
        actor: &Actor,
        project: ProjectId,
        role: Role,
        valid_days: Option<i64>,
        preset: InvitePreset,
    ) -> Result<NewInviteLink> {
        self.project_with_role(actor, project, ProjectRole::Manager, "invite people")
            .await?;
        if role == Role::Admin {
            return Err(Error::invalid(
                "role",
                "admins cannot be invited; an admin creates them with `gloss user create`",
            ));
        }
        let days = valid_days.unwrap_or(DEFAULT_INVITE_DAYS);
        if !(1..=MAX_INVITE_DAYS).contains(&days) {
            return Err(Error::invalid(
                "valid_days",
                format!("must be 1 to {MAX_INVITE_DAYS}"),
            ));
        }
        let tier = match &preset.tier {
            Some(tier) => Some(self.known_tier("tier", tier).await?),
            None => None,
        };
        let skills = crate::people::clean_tags("skills", &preset.skills, true)?;
        let secret = random_secret();
        let invite = self
            .store
            .create_invite(&NewInvite {
                token_hash: hash_secret(&secret),
                role,
                project: Some(project),
                created_by: actor.user().map(|user| user.id),
                expires_at: Timestamp(Timestamp::now().millis() + days * 86_400_000),
                tier,
                skills,
            })
            .await?;
        Ok(NewInviteLink { invite, secret })
    }

    /// A project's invitations (managers).
    pub async fn list_invites(&self, actor: &Actor, project: ProjectId) -> Result<Vec<Invite>> {
        self.project_with_role(actor, project, ProjectRole::Manager, "see invitations")
            .await?;
        Ok(self.store.list_invites(project, 200).await?)
    }

    /// Withdraws an invitation (managers).
    pub async fn delete_invite(&self, actor: &Actor, project: ProjectId, id: i64) -> Result<()> {
        self.project_with_role(actor, project, ProjectRole::Manager, "withdraw invitations")
            .await?;
        self.store
            .delete_invite(project, id)
            .await
            .map_err(|_| Error::not_found("invitation"))
    }

    /// What an open invitation offers, for the sign-up page. Anyone with the
    /// link may ask; a used, expired or withdrawn link is "not found".
    pub async fn open_invite(&self, secret: &str) -> Result<Invite> {
        let invite = self
            .store
            .invite_by_hash(&hash_secret(secret))
            .await
            .map_err(|_| invalid_link())?;
        if invite.used_at.is_some() || invite.expires_at <= Timestamp::now() {
            return Err(invalid_link());
        }
        Ok(invite)
    }

    /// Makes the account an invitation offers.
    pub async fn accept_invite(
        &self,
        secret: &str,
        username: &str,
        password: &str,
    ) -> Result<User> {
        let invite = self.open_invite(secret).await?;
        check_username(username)?;
        check_password(password)?;
        let password_hash = hash_password(password.to_string()).await?;
        let new = NewUser {
            username: username.to_string(),
            password_hash,
            role: invite.role,
        };
        match self.store.accept_invite(&hash_secret(secret), &new).await {
            Ok(user) => Ok(user),
            Err(gloss_store::Error::NotFound) => Err(invalid_link()),
            Err(err) => Err(Error {
                field: Some("username".to_string()),
                ..Error::from(err)
            }),
        }
    }
}

fn invalid_link() -> Error {
    Error::new(
        Code::NotFound,
        "this invitation link does not work: it was used, it expired or it was withdrawn; ask for a new one",
    )
}
