//! Who may do what. Each rule is a small function so that the table of rules
//! can be read in one place.

use crate::error::{Error, OrNotFound, Result};
use crate::Engine;
use gloss_types::{Project, ProjectId, ProjectRole, Role, User};

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Actor {
    /// Someone at the command line with access to the instance's files: they
    /// could read and write the database directly, so they may do everything.
    Operator,
    /// A signed-in user, through the API or the browser.
    User(User),
}

impl Actor {
    pub fn user(&self) -> Option<&User> {
        match self {
            Actor::Operator => None,
            Actor::User(user) => Some(user),
        }
    }

    pub fn is_admin(&self) -> bool {
        match self {
            Actor::Operator => true,
            Actor::User(user) => user.role == Role::Admin,
        }
    }

    /// Admins, and managers for the projects they create.
    pub(crate) fn require_project_creator(&self) -> Result<()> {
        match self {
            Actor::User(user) if !matches!(user.role, Role::Admin | Role::Manager) => Err(
                Error::forbidden("only admins and managers may create projects"),
            ),
            _ => Ok(()),
        }
    }

    pub(crate) fn require_admin(&self, action: &str) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::forbidden(format!("only admins may {action}")))
        }
    }
}

impl Engine {
    /// The project and the caller's power in it. A project the caller may not
    /// see is "not found", exactly like one that does not exist, so that ids
    /// of other teams' projects reveal nothing.
    pub(crate) async fn project_for(
        &self,
        actor: &Actor,
        id: ProjectId,
    ) -> Result<(Project, ProjectRole)> {
        Ok(match actor {
            Actor::Operator => (
                self.store.project(id).await.or_not_found("project")?,
                ProjectRole::Manager,
            ),
            Actor::User(user) => {
                let (project, membership) = self
                    .store
                    .project_and_role(id, user.id)
                    .await
                    .or_not_found("project")?;
                (project, effective_role(user, membership)?)
            }
        })
    }

    /// Like [`Engine::project_for`], and the caller must hold at least `needed`.
    pub(crate) async fn project_with_role(
        &self,
        actor: &Actor,
        id: ProjectId,
        needed: ProjectRole,
        action: &str,
    ) -> Result<Project> {
        let (project, role) = self.project_for(actor, id).await?;
        require_role(role, needed, action)?;
        Ok(project)
    }
}

/// The caller's role must be at least `needed`.
pub(crate) fn require_role(role: ProjectRole, needed: ProjectRole, action: &str) -> Result<()> {
    if role < needed {
        return Err(Error::forbidden(format!(
            "only project {}s may {action}; you are {} in this project",
            needed.as_str(),
            article(role.as_str())
        )));
    }
    Ok(())
}

/// Admins manage every project; everyone else has their membership's role,
/// and a project they are not a member of does not exist for them.
pub(crate) fn effective_role(user: &User, membership: Option<ProjectRole>) -> Result<ProjectRole> {
    if user.role == Role::Admin {
        return Ok(ProjectRole::Manager);
    }
    membership.ok_or_else(|| Error::not_found("project"))
}

fn article(word: &str) -> String {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {word}")
    } else {
        format!("a {word}")
    }
}
