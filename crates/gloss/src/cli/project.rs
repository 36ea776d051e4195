//! `gloss project …`

use super::open_engine;
use crate::config::Settings;
use anyhow::{Context, Result};
use clap::Subcommand;
use gloss_engine::{Actor, LabelChange, ProjectInput, ProjectUpdate};
use gloss_types::{ConsensusMethod, PageRequest, ProjectId, ProjectRole, QueueOrder, TaskId};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
// Parsed once per run: the size of `Set` costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
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
    /// Change a project's name, description, queue or review settings
    Set {
        /// The project's id
        project: i64,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// How many different annotators must submit each task (1 to 100)
        #[arg(long)]
        overlap: Option<i64>,
        /// sequential, random or priority
        #[arg(long, value_parser = parse_order)]
        queue_order: Option<QueueOrder>,
        /// How long `next` reserves a task for its annotator
        #[arg(long)]
        reservation_seconds: Option<i64>,
        /// Review layers each annotation passes before it is accepted (1 or 2)
        #[arg(long)]
        review_layers: Option<i64>,
        /// The share of each annotator's work to review, in percent (0 to 100)
        #[arg(long)]
        review_percent: Option<i64>,
        /// The share of each annotator's queue that is gold tasks, in percent (0 to 100)
        #[arg(long)]
        honeypot_percent: Option<i64>,
        /// Pause an annotator whose accuracy against gold falls below this (0 to 1), or `off`
        #[arg(long, value_name = "ACCURACY")]
        gold_pause_below: Option<String>,
        /// Gold answers before the pause rule applies
        #[arg(long)]
        gold_pause_after: Option<i64>,
        /// Dynamic overlap: at most this many annotators per task when they disagree (0: off)
        #[arg(long)]
        dynamic_overlap_max: Option<i64>,
        /// Dynamic overlap: the agreement (0 to 1) below which a task asks for one more annotator
        #[arg(long)]
        dynamic_agreement_below: Option<f64>,
        /// How a task's consensus weighs its annotators: majority, weighted
        /// (by reliability) or dawid-skene
        #[arg(long, value_parser = parse_consensus_method)]
        consensus_method: Option<ConsensusMethod>,
        /// Skills whoever labels must all have, comma-separated ("" for none)
        #[arg(long)]
        required_skills: Option<String>,
        /// The lowest tier that may label, or `any`
        #[arg(long)]
        required_tier: Option<String>,
        /// At most this many tasks per person per day (UTC); 0: no limit
        #[arg(long)]
        daily_limit: Option<i64>,
        /// Seconds without input after which active time stops (10 to 3600)
        #[arg(long)]
        idle_seconds: Option<i64>,
        /// Flag submits with less active time than this many seconds; 0: off
        #[arg(long)]
        min_task_seconds: Option<i64>,
        /// Flag this many identical answers in a row; 0: off
        #[arg(long)]
        same_answer_streak: Option<i64>,
        /// A new label config (XML file); stored results are migrated with it
        #[arg(long)]
        config: Option<PathBuf>,
        /// With --config: what becomes of a label stored results use and the
        /// new config lacks, as CONTROL:LABEL=NEW (rename or merge) or
        /// CONTROL:LABEL= (remove); repeat for each
        #[arg(long = "label-change", value_parser = parse_label_change)]
        label_changes: Vec<LabelChange>,
        #[command(flatten)]
        training: Box<super::training::TrainingArgs>,
    },
    /// Every attempt of every person at a qualification test
    QualificationResults {
        /// The project's id
        project: i64,
    },
    /// Add a member to a project, or change their role
    Member {
        /// The project's id
        project: i64,
        username: String,
        /// manager, reviewer or annotator [default: from the account's role]
        #[arg(long, value_parser = parse_role)]
        role: Option<ProjectRole>,
    },
    /// Put tasks first in a member's queue (or take them out with --remove)
    Assign {
        /// The project's id
        project: i64,
        #[arg(long)]
        user: String,
        /// Task ids
        #[arg(required = true)]
        tasks: Vec<i64>,
        #[arg(long)]
        remove: bool,
    },
    /// Show the project's labeling guidelines (Markdown), or save a new
    /// version from a file, which everyone labeling must acknowledge
    Guidelines {
        /// The project's id
        project: i64,
        /// A Markdown file; `-` reads standard input
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Add a pay rate (never changed: a new rate applies from its date)
    Pay(super::pay::PayArgs),
    /// Show or set a project's model endpoint for red-teaming chats (an
    /// OpenAI-compatible chat-completions API); the key is never printed
    ModelEndpoint {
        /// The project's id
        project: i64,
        /// Base URL (…/v1, to which /chat/completions is added) or the full
        /// chat-completions URL; without it the endpoint is shown
        #[arg(long)]
        url: Option<String>,
        /// The model named in each request (with --url)
        #[arg(long, requires = "url")]
        model: Option<String>,
        /// Read a new API key from GLOSS_MODEL_API_KEY or standard input
        #[arg(long, requires = "url", conflicts_with = "clear_key")]
        set_key: bool,
        /// Remove the stored API key
        #[arg(long, requires = "url")]
        clear_key: bool,
        /// Sent first, as a system message
        #[arg(long, requires = "url", default_value = "")]
        system_prompt: String,
        /// 0 to 2
        #[arg(long, requires = "url")]
        temperature: Option<f64>,
        #[arg(long, requires = "url")]
        max_tokens: Option<i64>,
        /// Remove the endpoint and its key
        #[arg(long, conflicts_with = "url")]
        remove: bool,
    },
}

fn parse_consensus_method(text: &str) -> Result<ConsensusMethod, String> {
    ConsensusMethod::parse(text)
        .ok_or_else(|| "must be majority, weighted or dawid-skene".to_string())
}

fn parse_order(text: &str) -> Result<QueueOrder, String> {
    QueueOrder::parse(text).ok_or_else(|| "must be sequential, random or priority".to_string())
}

fn parse_role(text: &str) -> Result<ProjectRole, String> {
    ProjectRole::parse(text).ok_or_else(|| "must be manager, reviewer or annotator".to_string())
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
        ProjectCommand::Set {
            project,
            name,
            description,
            overlap,
            queue_order,
            reservation_seconds,
            review_layers,
            review_percent,
            honeypot_percent,
            gold_pause_below,
            gold_pause_after,
            dynamic_overlap_max,
            dynamic_agreement_below,
            consensus_method,
            required_skills,
            required_tier,
            daily_limit,
            idle_seconds,
            min_task_seconds,
            same_answer_streak,
            config,
            label_changes,
            training,
        } => {
            let label_config = match config {
                Some(path) => Some(
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?,
                ),
                None => None,
            };
            let update = ProjectUpdate {
                name,
                description,
                label_config,
                overlap,
                queue_order,
                reservation_seconds,
                review_layers,
                review_percent,
                honeypot_percent,
                gold_pause_below: gold_pause_below
                    .as_deref()
                    .map(parse_threshold)
                    .transpose()
                    .map_err(|reason| anyhow::anyhow!("--gold-pause-below: {reason}"))?,
                gold_pause_after,
                dynamic_overlap_max,
                dynamic_agreement_below,
                consensus_method,
                required_skills: required_skills.as_deref().map(super::user::comma_list),
                required_tier: required_tier.map(|tier| (tier != "any").then_some(tier)),
                daily_limit,
                idle_seconds,
                min_task_seconds,
                same_answer_streak,
                label_changes,
                qualification: training.patch()?,
            };
            let project = engine
                .update_project(&operator, ProjectId(project), update)
                .await?;
            println!(
                "project {}: overlap {}, queue order {}, reservations last {} s, \
                 {} review layer(s) over {}% of each annotator's work",
                project.id,
                project.overlap,
                project.queue_order.as_str(),
                project.reservation_seconds,
                project.review_layers,
                project.review_percent
            );
            super::training::print_settings(&project);
        }
        ProjectCommand::Member {
            project,
            username,
            role,
        } => {
            let member = engine
                .put_member(&operator, ProjectId(project), &username, role)
                .await?;
            println!(
                "{} is {} of project {}",
                member.username,
                member.role.as_str(),
                project
            );
        }
        ProjectCommand::Assign {
            project,
            user,
            tasks,
            remove,
        } => {
            let tasks: Vec<TaskId> = tasks.into_iter().map(TaskId).collect();
            let project = ProjectId(project);
            if remove {
                let changed = engine
                    .unassign_tasks(&operator, project, &user, &tasks)
                    .await?;
                println!("{changed} tasks taken out of {user}'s queue");
            } else {
                let changed = engine
                    .assign_tasks(&operator, project, &user, &tasks)
                    .await?;
                println!("{changed} tasks assigned to {user}");
            }
        }
        ProjectCommand::Pay(args) => super::pay::set_rate(&engine, args).await?,
        ProjectCommand::QualificationResults { project } => {
            super::training::print_results(&engine, project).await?;
        }
        ProjectCommand::Guidelines { project, file } => {
            let project = ProjectId(project);
            let guidelines = match file {
                Some(path) => {
                    let text = if path.as_os_str() == "-" {
                        std::io::read_to_string(std::io::stdin())
                            .context("reading the guidelines from standard input")?
                    } else {
                        std::fs::read_to_string(&path)
                            .with_context(|| format!("reading {}", path.display()))?
                    };
                    engine.set_guidelines(&operator, project, &text).await?
                }
                None => engine.guidelines(&operator, project).await?,
            };
            match guidelines.current {
                Some(current) => {
                    eprintln!("version {} of {}", current.version, current.created_at);
                    println!("{}", current.text);
                }
                None => eprintln!("project {project} has no guidelines"),
            }
        }
        ProjectCommand::ModelEndpoint {
            project,
            url,
            model,
            set_key,
            clear_key,
            system_prompt,
            temperature,
            max_tokens,
            remove,
        } => {
            let project = ProjectId(project);
            if remove {
                let removed = engine.delete_model_endpoint(&operator, project).await?;
                println!(
                    "{}",
                    if removed {
                        "model endpoint removed"
                    } else {
                        "the project had no model endpoint"
                    }
                );
            } else if let Some(url) = url {
                let api_key = if set_key {
                    gloss_engine::KeyChange::Set(super::secret_from(
                        "GLOSS_MODEL_API_KEY",
                        "API key",
                    )?)
                } else if clear_key {
                    gloss_engine::KeyChange::Remove
                } else {
                    gloss_engine::KeyChange::Keep
                };
                let update = gloss_engine::ModelEndpointUpdate {
                    url,
                    model: model.unwrap_or_default(),
                    api_key,
                    system_prompt,
                    temperature,
                    max_tokens,
                };
                let endpoint = engine
                    .set_model_endpoint(&operator, project, update)
                    .await?;
                print_endpoint(&endpoint);
            } else {
                match engine.model_endpoint(&operator, project).await? {
                    Some(endpoint) => print_endpoint(&endpoint),
                    None => println!("project {project} has no model endpoint"),
                }
            }
        }
    }
    engine.store().close().await;
    Ok(())
}

fn print_endpoint(endpoint: &gloss_engine::ModelEndpointView) {
    println!("url = {}", endpoint.chat_url);
    println!("model = {}", endpoint.model);
    println!("key_set = {}", endpoint.key_set);
    if let Some(temperature) = endpoint.temperature {
        println!("temperature = {temperature}");
    }
    if let Some(tokens) = endpoint.max_tokens {
        println!("max_tokens = {tokens}");
    }
    if !endpoint.system_prompt.is_empty() {
        println!("system_prompt = {:?}", endpoint.system_prompt);
    }
}

/// `CONTROL:LABEL=NEW` (rename or merge into NEW) or `CONTROL:LABEL=` (remove).
fn parse_label_change(text: &str) -> Result<LabelChange, String> {
    let (from, to) = text
        .split_once('=')
        .ok_or("expected CONTROL:LABEL=NEW or CONTROL:LABEL=")?;
    let (from_name, label) = from
        .split_once(':')
        .ok_or("expected CONTROL:LABEL before the `=`")?;
    Ok(LabelChange {
        from_name: from_name.to_string(),
        label: label.to_string(),
        to: (!to.is_empty()).then(|| to.to_string()),
    })
}

/// `off`, or an accuracy from 0 to 1.
fn parse_threshold(text: &str) -> Result<Option<f64>, String> {
    if text == "off" {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(value) if (0.0..=1.0).contains(&value) => Ok(Some(value)),
        _ => Err(format!("`{text}` is not an accuracy from 0 to 1, nor off")),
    }
}
