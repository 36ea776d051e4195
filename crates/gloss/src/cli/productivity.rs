//! `gloss productivity`: a project's productivity per annotator, or the
//! leaderboard over every project, as CSV.

use super::open_engine;
use crate::config::Settings;
use anyhow::{Context, Result};
use clap::Args;
use gloss_engine::{Actor, AnnotatorProductivity, QualityWindow};
use gloss_types::{ProjectId, Timestamp};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ProductivityArgs {
    /// One project (without it: every project added up, the leaderboard)
    #[arg(long)]
    project: Option<i64>,
    /// From this day (YYYY-MM-DD, UTC; default: 29 days before --to)
    #[arg(long)]
    from: Option<String>,
    /// To this day, included (YYYY-MM-DD, UTC; default: today)
    #[arg(long)]
    to: Option<String>,
    /// Write the CSV here instead of standard output
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The header of the CSV.
pub const HEADER: &str = "rank,username,tasks,active_hours,tasks_per_hour,median_active_seconds,\
rejection_rate,gold_accuracy,agreement,flags";

/// Midnight (UTC) starting a `YYYY-MM-DD` day, named by its flag.
fn day_start(flag: &str, text: &str) -> Result<Timestamp> {
    Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z"))
        .filter(|_| text.len() == 10)
        .with_context(|| format!("{flag}: `{text}` is not a day such as 2026-12-01"))
}

fn number(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.4}")).unwrap_or_default()
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn row(rank: usize, person: &AnnotatorProductivity) -> String {
    let flags: Vec<String> = person
        .flags
        .iter()
        .map(|flag| format!("{}={}", flag.kind, flag.count))
        .collect();
    format!(
        "{rank},{},{},{:.4},{},{},{},{},{},{}",
        csv_field(&person.username),
        person.tasks,
        person.active_hours,
        number(person.tasks_per_hour),
        number(person.median_active_seconds),
        number(person.rejection_rate),
        number(person.gold_accuracy),
        number(person.agreement),
        csv_field(&flags.join(" "))
    )
}

pub async fn run(settings: &Settings, args: ProductivityArgs) -> Result<()> {
    let engine = open_engine(settings).await?;
    const DAY_MS: i64 = 86_400_000;
    let until = match &args.to {
        Some(day) => Timestamp(day_start("--to", day)?.millis() + DAY_MS),
        None => Timestamp((Timestamp::now().millis() / DAY_MS + 1) * DAY_MS),
    };
    let since = match &args.from {
        Some(day) => day_start("--from", day)?,
        None => Timestamp(until.millis() - 30 * DAY_MS),
    };
    let window = QualityWindow {
        since: Some(since),
        until: Some(until),
    };
    let people = match args.project {
        Some(project) => {
            engine
                .productivity_report(&Actor::Operator, ProjectId(project), window)
                .await?
                .annotators
        }
        None => {
            engine
                .leaderboard(&Actor::Operator, window)
                .await?
                .annotators
        }
    };
    let mut text = format!("{HEADER}\n");
    for (index, person) in people.iter().enumerate() {
        text.push_str(&row(index + 1, person));
        text.push('\n');
    }
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}
