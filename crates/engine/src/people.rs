//! People: profiles (display name, languages, time zone), skills and tiers,
//! and who may label a project that requires them. Admins change anyone;
//! managers change the skills and tier of the members of projects they
//! manage ("their people"); everyone changes their own profile.

use crate::access::Actor;
use crate::error::{Error, OrNotFound, Result};
use crate::Engine;
use gloss_store::ProfilePatch;
use gloss_types::{Code, Project, Role, User};

/// At most this many skills, languages or tiers, each at most
/// [`MAX_TAG_CHARS`] characters.
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_CHARS: usize = 50;

/// Changes to a person (see [`Engine::update_profile`]); `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub languages: Option<Vec<String>>,
    pub time_zone: Option<String>,
    pub skills: Option<Vec<String>>,
    /// `Some(None)` clears the tier.
    pub tier: Option<Option<String>>,
}

impl ProfileUpdate {
    pub fn is_empty(&self) -> bool {
        self.display_name.is_none()
            && self.languages.is_none()
            && self.time_zone.is_none()
            && self.skills.is_none()
            && self.tier.is_none()
    }
}

/// Skills or tiers as stored: trimmed, lower case, each once, sorted for
/// skills (tiers keep their order); refused by `field` when one is empty,
/// too long or holds a control character, or when there are too many.
pub(crate) fn clean_tags(field: &str, tags: &[String], sort: bool) -> Result<Vec<String>> {
    if tags.len() > MAX_TAGS {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_TAGS} are allowed"),
        ));
    }
    let mut clean: Vec<String> = Vec::with_capacity(tags.len());
    for (index, tag) in tags.iter().enumerate() {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty()
            || tag.chars().count() > MAX_TAG_CHARS
            || tag.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                &format!("{field}[{index}]"),
                format!("must be 1 to {MAX_TAG_CHARS} characters without control characters"),
            ));
        }
        if !clean.contains(&tag) {
            clean.push(tag);
        }
    }
    if sort {
        clean.sort();
    }
    Ok(clean)
}

/// `true` for a BCP 47 language tag's shape (`de`, `en-GB`, `zh-Hant-TW`).
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// `true` for an IANA time zone name's shape (`UTC`, `Europe/Berlin`,
/// `America/Argentina/Buenos_Aires`, `Etc/GMT+5`); not checked against the
/// time zone database, which the server does not carry.
fn is_time_zone(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.split('/').all(|part| {
            !part.is_empty()
                && part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
}

impl Engine {
    /// The tiers, lowest first (any signed-in user).
    pub async fn tiers(&self) -> Result<Vec<String>> {
        Ok(self.store.tiers().await?)
    }

    /// Replaces the tiers, lowest first (admins). A tier someone has or a
    /// project requires cannot be left out.
    pub async fn set_tiers(&self, actor: &Actor, tiers: &[String]) -> Result<Vec<String>> {
        actor.require_admin("change the tiers")?;
        let tiers = clean_tags("tiers", tiers, false)?;
        if tiers.is_empty() {
            return Err(Error::invalid("tiers", "list at least one tier"));
        }
        Ok(self.store.set_tiers(&tiers).await?)
    }

    /// `tier` when it is one of the tiers, else an error naming `field`.
    pub(crate) async fn known_tier(&self, field: &str, tier: &str) -> Result<String> {
        let tier = tier.trim().to_lowercase();
        let tiers = self.store.tiers().await?;
        if tiers.contains(&tier) {
            Ok(tier)
        } else {
            Err(Error::invalid(
                field,
                format!("`{tier}` is not a tier; the tiers are {}", tiers.join(", ")),
            ))
        }
    }

    /// Changes a person's profile, skills or tier: their own display name,
    /// languages and time zone (or an admin); skills and tier by an admin,
    /// or by a manager of a project they are a member of.
    pub async fn update_profile(
        &self,
        actor: &Actor,
        username: &str,
        update: ProfileUpdate,
    ) -> Result<User> {
        let person = self
            .store
            .user_by_username(username)
            .await
            .or_not_found("user")?;
        let (is_self, is_admin) = match actor {
            Actor::Operator => (false, true),
            Actor::User(me) => (me.id == person.id, me.role == Role::Admin),
        };
        let own_fields = update.display_name.is_some()
            || update.languages.is_some()
            || update.time_zone.is_some();
        if own_fields && !is_self && !is_admin {
            return Err(self
                .hidden_or_forbidden(actor, &person, "change another person's profile")
                .await);
        }
        if update.skills.is_some() || update.tier.is_some() {
            let allowed = is_admin
                || match actor {
                    Actor::User(me) if me.role == Role::Manager => {
                        self.store.manages_member(me.id, person.id).await?
                    }
                    _ => false,
                };
            if !allowed {
                return Err(self
                    .hidden_or_forbidden(
                        actor,
                        &person,
                        "set skills and tiers (admins, and managers for their projects' members)",
                    )
                    .await);
            }
        }
        let mut patch = ProfilePatch {
            display_name: update.display_name.map(|name| name.trim().to_owned()),
            time_zone: update.time_zone.map(|zone| zone.trim().to_owned()),
            ..ProfilePatch::default()
        };
        if patch
            .display_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > 100 || n.chars().any(char::is_control))
        {
            return Err(Error::invalid(
                "display_name",
                "must be at most 100 characters without control characters",
            ));
        }
        if let Some(zone) = &patch.time_zone {
            if !is_time_zone(zone) {
                return Err(Error::invalid(
                    "time_zone",
                    format!("`{zone}` is not a time zone name such as UTC or Europe/Berlin"),
                ));
            }
        }
        if let Some(languages) = &update.languages {
            if languages.len() > MAX_TAGS {
                return Err(Error::invalid(
                    "languages",
                    format!("at most {MAX_TAGS} are allowed"),
                ));
            }
            let mut clean = Vec::new();
            for (index, language) in languages.iter().enumerate() {
                let language = language.trim();
                if !is_language_tag(language) {
                    return Err(Error::invalid(
                        &format!("languages[{index}]"),
                        format!("`{language}` is not a language tag such as de or en-GB"),
                    ));
                }
                if !clean
                    .iter()
                    .any(|l: &String| l.eq_ignore_ascii_case(language))
                {
                    clean.push(language.to_owned());
                }
            }
            patch.languages = Some(clean);
        }
        if let Some(skills) = &update.skills {
            patch.skills = Some(clean_tags("skills", skills, true)?);
        }
        if let Some(tier) = update.tier {
            patch.tier = Some(match tier {
                Some(tier) => Some(self.known_tier("tier", &tier).await?),
                None => None,
            });
        }
        Ok(self.store.update_profile(person.id, &patch).await?)
    }

    /// A person the caller may not see is "not found"; one they may see
    /// (their own account, or an admin's view) but not change is forbidden.
    async fn hidden_or_forbidden(&self, actor: &Actor, person: &User, action: &str) -> Error {
        let sees = match actor {
            Actor::Operator => true,
            Actor::User(me) => {
                me.role == Role::Admin
                    || me.id == person.id
                    || (me.role == Role::Manager
                        && self
                            .store
                            .manages_member(me.id, person.id)
                            .await
                            .unwrap_or(false))
            }
        };
        if sees {
            Error::forbidden(format!("you may not {action}"))
        } else {
            Error::not_found("user")
        }
    }

    /// Refuses `next` to a person without the skills and tier the project
    /// requires, saying what is missing (no query for a project without
    /// requirements).
    pub(crate) async fn check_qualified(&self, project: &Project, user: &User) -> Result<()> {
        let missing: Vec<&String> = project
            .required_skills
            .iter()
            .filter(|skill| !user.skills.contains(skill))
            .collect();
        let tier_ok = match &project.required_tier {
            None => true,
            Some(required) => {
                let tiers = self.store.tiers().await?;
                let rank = |tier: &str| tiers.iter().position(|t| t == tier);
                match (user.tier.as_deref().and_then(rank), rank(required)) {
                    (Some(mine), Some(needed)) => mine >= needed,
                    // A required tier no longer listed admits nobody but its own.
                    _ => user.tier.as_ref() == Some(required),
                }
            }
        };
        let certifications = self.missing_certifications(project, user).await?;
        if missing.is_empty() && tier_ok && certifications.is_none() {
            return Ok(());
        }
        let mut needs = Vec::new();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            needs.push(format!("the skills {} (you lack them)", names.join(", ")));
        }
        if !tier_ok {
            needs.push(format!(
                "the tier {} or above (yours: {})",
                project.required_tier.as_deref().unwrap_or(""),
                user.tier.as_deref().unwrap_or("none")
            ));
        }
        let mut problems = serde_json::json!({
            "missing_skills": missing,
            "required_tier": project.required_tier,
            "tier": user.tier,
        });
        if let Some((phrase, details)) = certifications {
            needs.push(phrase);
            crate::qualification::merge_problems(&mut problems, details);
        }
        Err(Error {
            problems: Some(serde_json::json!({ "qualification": problems })),
            ..Error::new(
                Code::Forbidden,
                format!(
                    "this project is labeled by people with {}; a manager can add skills and tiers to your profile",
                    needs.join(" and ")
                ),
            )
        })
    }
}
