//! `gloss user …`

use super::{open_engine, secret_from};
use crate::config::Settings;
use anyhow::{Context, Result};
use clap::Subcommand;
use gloss_engine::Actor;
use gloss_types::{PageRequest, Role, UserStatus};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password comes from GLOSS_PASSWORD or standard input
    Create {
        #[arg(long)]
        username: String,
        /// admin, manager, reviewer or annotator
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Print a new API token for a user
    Token {
        username: String,
        /// A name to tell the token apart from others
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List accounts
    List,
    /// Set a user's password (from GLOSS_PASSWORD or standard input)
    Password { username: String },
    /// Set a person's profile, skills or tier
    Set {
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Comma-separated language tags, such as de,en-GB ("" for none)
        #[arg(long)]
        languages: Option<String>,
        /// An IANA time zone name, such as Europe/Berlin
        #[arg(long)]
        time_zone: Option<String>,
        /// Comma-separated skills, such as medical,de ("" for none)
        #[arg(long)]
        skills: Option<String>,
        /// One of the tiers (`gloss user tiers`), or `none`
        #[arg(long)]
        tier: Option<String>,
        /// active, paused (given no work) or removed (cannot sign in)
        #[arg(long, value_parser = parse_status)]
        status: Option<UserStatus>,
    },
    /// Print the tiers, lowest first, or replace them
    Tiers {
        /// The new tiers, lowest first, comma-separated
        #[arg(long)]
        set: Option<String>,
    },
}

/// A comma-separated list ("" is an empty list).
pub(crate) fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_status(text: &str) -> Result<UserStatus, String> {
    UserStatus::parse(text).ok_or_else(|| format!("`{text}` is not one of active, paused, removed"))
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text)
        .ok_or_else(|| format!("`{text}` is not one of admin, manager, reviewer, annotator"))
}

pub async fn run(settings: &Settings, command: UserCommand) -> Result<()> {
    let engine = open_engine(settings).await?;
    let operator = Actor::Operator;
    match command {
        UserCommand::Create { username, role } => {
            let password = secret_from("GLOSS_PASSWORD", "password")?;
            let user = engine
                .create_user(&operator, &username, &password, role)
                .await?;
            println!("{}", user.id);
        }
        UserCommand::Token { username, name } => {
            let token = engine.create_token_for(&operator, &username, &name).await?;
            println!("{}", token.secret);
        }
        UserCommand::List => {
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            println!(
                "{:<8} {:<32} {:<10} {:<8} created",
                "id", "username", "role", "active"
            );
            loop {
                let users = engine.list_users(&operator, page).await?;
                for user in &users.items {
                    println!(
                        "{:<8} {:<32} {:<10} {:<8} {}",
                        user.id.0,
                        user.username,
                        user.role.as_str(),
                        if user.active { "yes" } else { "no" },
                        user.created_at
                    );
                }
                let Some(next) = users.next else { break };
                page.after = Some(next.parse().context("reading the next page")?);
            }
        }
        UserCommand::Set {
            username,
            display_name,
            languages,
            time_zone,
            skills,
            tier,
            status,
        } => {
            if status.is_some() {
                engine
                    .update_user(&operator, &username, None, None, status)
                    .await?;
            }
            let update = gloss_engine::ProfileUpdate {
                display_name,
                languages: languages.as_deref().map(comma_list),
                time_zone,
                skills: skills.as_deref().map(comma_list),
                tier: tier.map(|tier| (tier != "none").then_some(tier)),
            };
            let user = if update.is_empty() {
                engine.user_by_username(&operator, &username).await?
            } else {
                engine.update_profile(&operator, &username, update).await?
            };
            println!(
                "{}: {}; skills {}; tier {}; languages {}; time zone {}",
                user.username,
                user.status.as_str(),
                if user.skills.is_empty() {
                    "none".to_owned()
                } else {
                    user.skills.join(", ")
                },
                user.tier.as_deref().unwrap_or("none"),
                if user.languages.is_empty() {
                    "none".to_owned()
                } else {
                    user.languages.join(", ")
                },
                user.time_zone
            );
        }
        UserCommand::Tiers { set } => {
            let tiers = match set {
                Some(list) => engine.set_tiers(&operator, &comma_list(&list)).await?,
                None => engine.tiers().await?,
            };
            println!("{}", tiers.join("\n"));
        }
        UserCommand::Password { username } => {
            let password = secret_from("GLOSS_PASSWORD", "password")?;
            engine
                .reset_password(&operator, &username, &password)
                .await?;
            eprintln!("Password changed; {username}'s browser sessions were signed out");
        }
    }
    engine.store().close().await;
    Ok(())
}
