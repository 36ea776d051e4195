//! `gloss user …`

use super::{open_engine, secret_from};
use crate::config::Settings;
use anyhow::{Context, Result};
use clap::Subcommand;
use gloss_engine::Actor;
use gloss_types::{PageRequest, Role};

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
