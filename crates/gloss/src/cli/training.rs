//! `gloss project set`'s training and qualification flags, and
//! `gloss project qualification-results`.

use anyhow::Result;
use gloss_engine::QualificationPatch;
use gloss_engine::{Actor, Engine};
use gloss_types::{ProjectId, ProjectKind};

/// A project's kind, required certifications and qualification test settings.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainingArgs {
    /// labeling, training (feedback after each submit) or qualification (a test)
    #[arg(long, value_parser = parse_kind)]
    kind: Option<ProjectKind>,
    /// Certifications whoever labels must hold, comma-separated ("" for none)
    #[arg(long)]
    required_certifications: Option<String>,
    /// A qualification test's mean score against gold to pass (0 to 1)
    #[arg(long)]
    pass_score: Option<f64>,
    /// Attempts per person at a qualification test; 0: unlimited
    #[arg(long)]
    max_attempts: Option<i64>,
    /// Minutes between a failed attempt and the next
    #[arg(long)]
    cooldown_minutes: Option<i64>,
    /// The certification passing the test grants ("" for none)
    #[arg(long, value_name = "NAME")]
    grants_certification: Option<String>,
    /// Days the certification is valid, or `none` for no expiry
    #[arg(long, value_name = "DAYS")]
    valid_days: Option<String>,
    /// A skill passing the test adds to the person's skills ("" for none)
    #[arg(long, value_name = "SKILL")]
    grants_skill: Option<String>,
}

fn parse_kind(text: &str) -> Result<ProjectKind, String> {
    ProjectKind::parse(text)
        .ok_or_else(|| "must be labeling, training or qualification".to_string())
}

fn optional(text: Option<String>) -> Option<Option<String>> {
    text.map(|text| (!text.trim().is_empty()).then_some(text))
}

impl TrainingArgs {
    pub fn patch(self) -> Result<QualificationPatch> {
        let certification_valid_days = match self.valid_days.as_deref() {
            None => None,
            Some("none") => Some(None),
            Some(days) => Some(Some(days.parse::<i64>().map_err(|_| {
                anyhow::anyhow!("--valid-days: `{days}` is not a number of days, nor none")
            })?)),
        };
        Ok(QualificationPatch {
            kind: self.kind,
            required_certifications: self
                .required_certifications
                .as_deref()
                .map(super::user::comma_list),
            pass_score: self.pass_score,
            max_attempts: self.max_attempts,
            cooldown_minutes: self.cooldown_minutes,
            grants_certification: optional(self.grants_certification),
            certification_valid_days,
            grants_skill: optional(self.grants_skill),
        })
    }
}

/// Prints every attempt at a qualification test, one a line.
pub async fn print_results(engine: &Engine, project: i64) -> Result<()> {
    let rows = engine
        .qualification_results(&Actor::Operator, ProjectId(project))
        .await?;
    println!(
        "{:<8} {:<24} {:<10} {:<8} {:<8} started",
        "attempt", "username", "answered", "score", "passed"
    );
    for row in rows {
        println!(
            "{:<8} {:<24} {:<10} {:<8} {:<8} {}",
            row.id,
            row.username,
            format!("{}/{}", row.answered, row.tasks),
            row.score
                .map(|s| format!("{s:.3}"))
                .unwrap_or_else(|| "-".into()),
            row.passed
                .map(|p| if p { "yes" } else { "no" })
                .unwrap_or("-"),
            row.started_at,
        );
    }
    Ok(())
}

/// The kind, test settings and required certifications after `project set`
/// (nothing for a labeling project that requires none).
pub fn print_settings(project: &gloss_types::Project) {
    let q = &project.qualification;
    if project.kind == ProjectKind::Qualification {
        let attempts = match q.max_attempts {
            0 => "unlimited attempts".to_owned(),
            n => format!("{n} attempts"),
        };
        let grants = match (&q.grants_certification, q.certification_valid_days) {
            (Some(name), Some(days)) => format!("grants {name} for {days} days"),
            (Some(name), None) => format!("grants {name} without expiry"),
            (None, _) => "grants no certification".to_owned(),
        };
        let skill = q
            .grants_skill
            .as_ref()
            .map(|s| format!(" and the skill {s}"))
            .unwrap_or_default();
        println!(
            "kind qualification: pass score {}, {attempts}, {} min cool-down, {grants}{skill}",
            q.pass_score, q.cooldown_minutes
        );
    } else if project.kind == ProjectKind::Training {
        println!("kind training");
    }
    if !project.required_certifications.is_empty() {
        println!(
            "requires the certifications {}",
            project.required_certifications.join(", ")
        );
    }
}
