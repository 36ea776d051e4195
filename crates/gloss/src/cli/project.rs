//! `gloss project …`

use super::open_engine;
use crate::config::Settings;
use anyhow::{Context, Result};
use clap::Subcommand;
use gloss_engine::{Actor, ProjectInput};
use gloss_types::PageRequest;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project; prints its id alone
    Create {
        #[arg(long)]
        name: String,
        /// A file with the Label Studio XML label config
        #[arg(long = "config", visible_alias = "label-config", value_name = "FILE")]
        label_config: PathBuf,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List projects
    List,
}

pub async fn run(settings: &Settings, command: ProjectCommand) -> Result<()> {
    let engine = open_engine(settings).await?;
    let operator = Actor::Operator;
    match command {
        ProjectCommand::Create {
            name,
            label_config,
            description,
        } => {
            let path = label_config;
            let label_config = std::fs::read_to_string(&path)
                .with_context(|| format!("reading the label config {}", path.display()))?;
            let input = ProjectInput {
                name,
                description,
                label_config,
            };
            let project = engine.create_project(&operator, input).await?;
            println!("{}", project.id);
        }
        ProjectCommand::List => {
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            println!("{:<8} {:<40} created", "id", "name");
            loop {
                let projects = engine.list_projects(&operator, page).await?;
                for project in &projects.items {
                    println!(
                        "{:<8} {:<40} {}",
                        project.id.0, project.name, project.created_at
                    );
                }
                let Some(next) = projects.next else { break };
                page.after = Some(next.parse().context("reading the next page")?);
            }
        }
    }
    engine.store().close().await;
    Ok(())
}
