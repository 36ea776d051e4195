//! `gloss payroll` and `gloss project pay`.

use super::open_engine;
use crate::config::Settings;
use anyhow::{Context, Result};
use clap::Args;
use gloss_engine::{payroll_csv, Actor, Engine, PayRateInput};
use gloss_types::ProjectId;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PayrollArgs {
    /// First work date, YYYY-MM-DD (each person's own dates)
    #[arg(long, value_name = "DATE")]
    from: String,
    /// Last work date, inclusive
    #[arg(long, value_name = "DATE")]
    to: String,
    /// Only this project's work
    #[arg(long, value_name = "ID")]
    project: Option<i64>,
    /// The CSV file to write (`-`: standard output)
    #[arg(long, value_name = "FILE", default_value = "-")]
    out: PathBuf,
}

/// Writes the payroll CSV: `username,hours,tasks,rejected,gross,currency`.
pub async fn payroll(settings: &Settings, args: PayrollArgs) -> Result<()> {
    let engine = open_engine(settings).await?;
    let payroll = engine
        .payroll(
            &Actor::Operator,
            &args.from,
            &args.to,
            args.project.map(ProjectId),
        )
        .await?;
    let csv = payroll_csv(&payroll);
    if args.out.as_os_str() == "-" {
        std::io::stdout().write_all(csv.as_bytes())?;
    } else {
        std::fs::write(&args.out, csv)
            .with_context(|| format!("writing {}", args.out.display()))?;
        eprintln!(
            "{} row(s) from {} to {} written to {}",
            payroll.rows.len(),
            payroll.from,
            payroll.to,
            args.out.display()
        );
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct PayArgs {
    /// The project's id
    project: i64,
    /// per_task or hourly
    #[arg(long)]
    mode: String,
    /// A decimal amount per task or per hour (`0.35`, `12.50`)
    #[arg(long)]
    rate: String,
    /// ISO 4217 (USD, EUR, JPY)
    #[arg(long)]
    currency: String,
    /// The first date it prices, YYYY-MM-DD [default: today]
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Only for people of this tier [default: every tier]
    #[arg(long)]
    tier: Option<String>,
    /// annotate or review
    #[arg(long, default_value = "annotate")]
    work: String,
    /// A piece rate, LABEL=AMOUNT: each region, span or choice with the label adds it; repeat
    #[arg(long = "piece", value_name = "LABEL=AMOUNT")]
    pieces: Vec<String>,
    /// Pay rejected work too (by default a rejection takes its pay back)
    #[arg(long)]
    pay_rejected: bool,
    /// A bonus in percent when gold accuracy reaches --bonus-threshold
    #[arg(long, requires = "bonus_threshold")]
    bonus_percent: Option<String>,
    /// The gold accuracy (0 to 1) at or above which the bonus is paid
    #[arg(long, requires = "bonus_percent")]
    bonus_threshold: Option<f64>,
}

/// Adds a pay rate to a project and prints it.
pub async fn set_rate(engine: &Engine, args: PayArgs) -> Result<()> {
    let mut pieces = BTreeMap::new();
    for piece in &args.pieces {
        let (label, amount) = piece
            .split_once('=')
            .with_context(|| format!("--piece {piece}: write LABEL=AMOUNT"))?;
        pieces.insert(label.to_owned(), Value::String(amount.to_owned()));
    }
    let input = PayRateInput {
        work: Some(args.work),
        tier: args.tier,
        mode: args.mode,
        rate: Value::String(args.rate),
        currency: args.currency,
        pieces,
        rejected_unpaid: Some(!args.pay_rejected),
        bonus_percent: args.bonus_percent.map(Value::String),
        bonus_gold_threshold: args.bonus_threshold,
        effective_from: args.from,
    };
    let rate = engine
        .add_pay_rate(&Actor::Operator, ProjectId(args.project), input)
        .await?;
    println!(
        "rate {}: {} {} {} {} from {}{}",
        rate.id,
        rate.work,
        rate.mode,
        rate.rate,
        rate.currency,
        rate.effective_from,
        rate.tier
            .map(|tier| format!(" for tier {tier}"))
            .unwrap_or_default()
    );
    Ok(())
}
