//! A project's labeling guidelines: Markdown written by its managers, kept
//! in every version, shown rendered and sanitized. Whoever labels must
//! acknowledge the current version first: `next` refuses until they have
//! (with the version to acknowledge), and a new version asks again. Work
//! already reserved or drafted is never refused: only `next` waits.

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::Engine;
use gloss_types::{Code, Project, ProjectId, ProjectRole, Timestamp, User};
use serde::Serialize;
use utoipa::ToSchema;

/// The longest guidelines, in bytes of Markdown.
pub const MAX_GUIDELINES_BYTES: usize = 256 * 1024;

/// One version of a project's guidelines as the API gives it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GuidelineVersion {
    pub version: i64,
    /// The Markdown as written.
    pub text: String,
    /// The Markdown rendered as sanitized HTML (no scripts, event handlers,
    /// styles, frames or images; links only to http, https and mailto).
    pub html: String,
    /// Who wrote this version (`None` for a deleted account or the CLI).
    pub author: Option<String>,
    pub created_at: Timestamp,
}

/// A project's guidelines for the caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Guidelines {
    /// The current version; `None` when the project has no guidelines.
    pub current: Option<GuidelineVersion>,
    /// The version the caller acknowledged last.
    pub acknowledged_version: Option<i64>,
    /// The caller must acknowledge `current` before labeling.
    pub must_acknowledge: bool,
}

impl Engine {
    /// The project's current guidelines (any member).
    pub async fn guidelines(&self, actor: &Actor, project: ProjectId) -> Result<Guidelines> {
        let (project, _) = self.project_for(actor, project).await?;
        let current = self.store.current_guideline(project.id).await?;
        let acknowledged_version = match actor {
            Actor::User(user) => {
                self.store
                    .acknowledged_guideline(project.id, user.id)
                    .await?
            }
            Actor::Operator => None,
        };
        let current = match current {
            Some(stored) => Some(self.guideline_version(stored).await?),
            None => None,
        };
        Ok(Guidelines {
            must_acknowledge: matches!(actor, Actor::User(_))
                && current
                    .as_ref()
                    .is_some_and(|c| acknowledged_version < Some(c.version)),
            current,
            acknowledged_version,
        })
    }

    /// Every version of the project's guidelines, the newest first (any member).
    pub async fn guideline_versions(
        &self,
        actor: &Actor,
        project: ProjectId,
    ) -> Result<Vec<GuidelineVersion>> {
        let (project, _) = self.project_for(actor, project).await?;
        let mut versions = Vec::new();
        for stored in self.store.guidelines(project.id).await? {
            versions.push(self.guideline_version(stored).await?);
        }
        Ok(versions)
    }

    /// Makes `text` the project's guidelines (its managers): a new version,
    /// which everyone labeling must acknowledge. The same text as the
    /// current version changes nothing.
    pub async fn set_guidelines(
        &self,
        actor: &Actor,
        project: ProjectId,
        text: &str,
    ) -> Result<Guidelines> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Manager, "write the guidelines")
            .await?;
        if text.trim().is_empty() {
            return Err(Error::invalid("text", "the guidelines must not be empty"));
        }
        if text.len() > MAX_GUIDELINES_BYTES {
            return Err(Error::invalid(
                "text",
                format!(
                    "the guidelines are {} bytes; at most {MAX_GUIDELINES_BYTES} are kept",
                    text.len()
                ),
            ));
        }
        let current = self.store.current_guideline(project.id).await?;
        if current.is_none_or(|current| current.text != text) {
            let author = match actor {
                Actor::User(user) => Some(user.id),
                Actor::Operator => None,
            };
            self.store.add_guideline(project.id, text, author).await?;
        }
        self.guidelines(actor, project.id).await
    }

    /// Records that the caller read `version` of the project's guidelines,
    /// which must be the current one (else 409 with the current version).
    pub async fn acknowledge_guidelines(
        &self,
        actor: &Actor,
        project: ProjectId,
        version: i64,
    ) -> Result<Guidelines> {
        let Actor::User(user) = actor else {
            return Err(Error::forbidden(
                "only a signed-in user acknowledges guidelines",
            ));
        };
        let (project, _) = self.project_for(actor, project).await?;
        if project.guidelines_version == 0 {
            return Err(Error::new(Code::Conflict, "the project has no guidelines"));
        }
        if version != project.guidelines_version {
            return Err(Error {
                problems: Some(serde_json::json!({"guidelines_version": project.guidelines_version})),
                ..Error::new(
                    Code::Conflict,
                    format!(
                        "version {version} is not the current guidelines: read version {} and acknowledge it",
                        project.guidelines_version
                    ),
                )
            });
        }
        self.store
            .acknowledge_guideline(project.id, user.id, version)
            .await?;
        self.guidelines(actor, project.id).await
    }

    /// Refuses `next` until the caller acknowledged the current guidelines
    /// (no query for a project without guidelines).
    pub(crate) async fn check_guidelines_acknowledged(
        &self,
        project: &Project,
        user: &User,
    ) -> Result<()> {
        if project.guidelines_version == 0 {
            return Ok(());
        }
        let acknowledged = self
            .store
            .acknowledged_guideline(project.id, user.id)
            .await?;
        if acknowledged >= Some(project.guidelines_version) {
            return Ok(());
        }
        Err(Error {
            problems: Some(serde_json::json!({"guidelines_version": project.guidelines_version})),
            ..Error::new(
                Code::Forbidden,
                format!(
                    "read and acknowledge the project's guidelines (version {}) before labeling",
                    project.guidelines_version
                ),
            )
        })
    }

    async fn guideline_version(&self, stored: gloss_store::Guideline) -> Result<GuidelineVersion> {
        let author = match stored.created_by {
            Some(user) => self.store.user(user).await.ok().map(|u| u.username),
            None => None,
        };
        let text = stored.text;
        let (text, html) = tokio::task::spawn_blocking(move || {
            let html =
                crate::render_markdown(std::slice::from_ref(&text)).map(|mut html| html.remove(0));
            (text, html)
        })
        .await
        .map_err(|_| Error::internal("the Markdown renderer stopped"))?;
        Ok(GuidelineVersion {
            version: stored.version,
            text,
            html: html?,
            author,
            created_at: stored.created_at,
        })
    }
}
