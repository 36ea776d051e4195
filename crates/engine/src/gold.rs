//! Gold and honeypots. A gold task is a task with a ground-truth
//! annotation. With `honeypot_percent` set, that share of each annotator's
//! `next` calls (decided by a hash of the annotator and how many tasks they
//! were given, so it is spread evenly and the same on every instance) puts
//! a gold task they have not seen first in their queue; it looks like any
//! other task. Every answer to a gold task is scored against the ground
//! truth, per control, by the same score the quality report uses
//! ([`gloss_quality::gold::score_against_gold`]), and kept with its time
//! and (for classes) the gold label. With `gold_pause_below` set, an
//! annotator whose mean score since their last resume falls below it after
//! `gold_pause_after` gold answers is paused in the project: `next` tells
//! them why, until a manager resumes them.

use crate::access::Actor;
use crate::error::{Error, OrNotFound, Result};
use crate::quality::{given_answer, ClassCodes, Given, Kind};
use crate::Engine;
use gloss_store::{AnnotationRow, GoldScore, QueueProject};
use gloss_types::result::ResultItem;
use gloss_types::{Code, Project, ProjectId, ProjectRole, Timestamp, User};

impl Engine {
    /// Refuses work to a person whose account is paused.
    pub(crate) fn check_account_active(&self, user: &User) -> Result<()> {
        if user.status != gloss_types::UserStatus::Paused {
            return Ok(());
        }
        let reason = "your account is paused";
        Err(Error {
            problems: Some(serde_json::json!({"paused": true, "account": true, "reason": reason})),
            ..Error::new(
                Code::Forbidden,
                format!("{reason}: you are given no work until an admin or a manager of your projects sets it active again"),
            )
        })
    }

    /// Refuses a paused member's queue calls with the reason.
    pub(crate) async fn check_not_paused(&self, project: &Project, user: &User) -> Result<()> {
        not_paused(self.store.member_pause(project.id, user.id).await?)
    }

    /// Puts a gold task first in the annotator's queue when their turn for
    /// one has come (see the [module](self)).
    pub(crate) async fn maybe_serve_honeypot(&self, project: &Project, user: &User) -> Result<()> {
        if project.honeypot_percent <= 0
            || self.store.holds_reservation(project.id, user.id).await?
        {
            return Ok(());
        }
        let position = self.store.queue_position(project.id, user.id).await?;
        if !gold_turn(user.id.0, position, project.honeypot_percent) {
            return Ok(());
        }
        let Some(task) = self.store.honeypot_candidate(project.id, user.id).await? else {
            return Ok(());
        };
        let now = Timestamp::now().millis();
        self.store
            .record_honeypot(project.id, task, user.id, now)
            .await?;
        self.store
            .assign_tasks(QueueProject::from(project), vec![task], user.id, None, now)
            .await?;
        Ok(())
    }

    /// Scores an annotation of a gold task against its ground truth and
    /// applies the pause rule. A failure is logged, never the submit's.
    pub(crate) async fn score_against_ground_truth(
        &self,
        project: &Project,
        annotation: &AnnotationRow,
    ) {
        if project.honeypot_percent <= 0 && project.gold_pause_below.is_none() {
            return;
        }
        if let Err(err) = self.try_score(project, annotation).await {
            tracing::warn!(project = project.id.0, annotation = annotation.id.0, error = %err.message,
                "scoring against ground truth failed");
        }
    }

    async fn try_score(&self, project: &Project, annotation: &AnnotationRow) -> Result<()> {
        let Some(user) = annotation.completed_by else {
            return Ok(());
        };
        if annotation.ground_truth || annotation.was_cancelled {
            return Ok(());
        }
        let Some(gold) = self.store.ground_truth_of(annotation.task_id).await? else {
            return Ok(());
        };
        let parse = |text: &str| -> Result<Vec<ResultItem>> {
            serde_json::from_str(text)
                .map_err(|err| Error::internal(format!("a stored result: {err}")))
        };
        let (gold_items, items) = (parse(&gold.result)?, parse(&annotation.result)?);
        let (config, _) = gloss_schema::parse(&project.label_config);
        let scores = scores_against_gold(&config, &gold_items, &items);
        if scores.is_empty() {
            return Ok(());
        }
        let now = Timestamp::now().millis();
        self.store
            .record_gold_scores(project.id, annotation, user, &scores, now)
            .await?;
        let Some(threshold) = project.gold_pause_below else {
            return Ok(());
        };
        let (answers, accuracy) = self.store.gold_accuracy(project.id, user).await?;
        if answers >= project.gold_pause_after && accuracy < threshold {
            let reason = format!(
                "accuracy on check tasks is {:.0}% over {answers} answers, below the project's {:.0}%",
                accuracy * 100.0,
                threshold * 100.0
            );
            self.store
                .pause_member(project.id, user, &reason, now)
                .await?;
        }
        Ok(())
    }

    /// Resumes a member paused by the gold rule (the project's managers).
    pub async fn resume_member(
        &self,
        actor: &Actor,
        project: ProjectId,
        username: &str,
    ) -> Result<gloss_types::Member> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Manager, "resume members")
            .await?;
        let member = self.user_named(username).await?;
        self.store
            .resume_member(project.id, member.id, Timestamp::now().millis())
            .await
            .or_not_found("member")?;
        Ok(self.store.member(project.id, member.id).await?)
    }
}

/// An answer's score against the ground truth per control that the gold
/// answers (and, for classes, under the gold's label), by the quality
/// report's score; an unanswered control scores 0.
pub(crate) fn scores_against_gold(
    config: &gloss_schema::LabelConfig,
    gold_items: &[ResultItem],
    items: &[ResultItem],
) -> Vec<GoldScore> {
    let mut scores = Vec::new();
    for control in &config.controls {
        let Some(kind) = Kind::of(control, config) else {
            continue;
        };
        let mut codes = ClassCodes::default();
        let Some(gold_answer) = given_answer(control, kind, gold_items, &mut codes) else {
            continue;
        };
        let score = given_answer(control, kind, items, &mut codes)
            .and_then(|answer| gold_answer.score_of(&answer))
            .unwrap_or(0.0);
        let label = match &gold_answer {
            Given::Set(set) => Some(codes.set_name(*set)),
            Given::Answer(_) => None,
        };
        scores.push(GoldScore {
            control: control.name.clone(),
            label,
            score,
        });
    }
    scores
}

/// Whether the annotator's `position`-th task is a gold one, for a share
/// of `percent`: a SplitMix64 hash of both, so turns spread evenly.
fn gold_turn(user: i64, position: i64, percent: i64) -> bool {
    let mut x = (user as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (position as u64);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x % 100) < percent.clamp(0, 100) as u64
}

/// Refuses a paused member's queue calls with the reason (`paused`: when
/// and why a manager paused their work in the project).
pub(crate) fn not_paused(paused: Option<(Timestamp, String)>) -> Result<()> {
    let Some((_, reason)) = paused else {
        return Ok(());
    };
    Err(Error {
        problems: Some(serde_json::json!({"paused": true, "reason": reason})),
        ..Error::new(
            Code::Forbidden,
            format!(
                "your work in this project is paused: {reason}. A manager of the project can resume you."
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::gold_turn;

    #[test]
    fn gold_turns_come_at_about_the_share_asked() {
        for percent in [0, 10, 25, 100] {
            let turns = (0..10_000).filter(|p| gold_turn(7, *p, percent)).count();
            let expected = percent as usize * 100;
            assert!(turns.abs_diff(expected) <= 300, "{percent}%: {turns}");
        }
    }
}
