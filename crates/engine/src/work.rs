//! A person's work: the daily limit `next` applies, and the list of the
//! projects they label with what is left for them in each and what, if
//! anything, stops them (`GET /api/v1/me/work`, the projects page).

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::Engine;
use gloss_store::{ProjectScope, WORK_COUNT_CAP};
use gloss_types::{Code, PageRequest, Project, ProjectId, ProjectRole, Timestamp, User};
use serde::Serialize;
use utoipa::ToSchema;

const DAY_MS: i64 = 86_400_000;

/// One project in a person's work list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkItem {
    pub project_id: ProjectId,
    pub name: String,
    /// Their role in the project.
    pub role: ProjectRole,
    /// Tasks not yet completed that they have not annotated, counted up to
    /// 10,000 (`open_tasks_capped` then).
    pub open_tasks: i64,
    pub open_tasks_capped: bool,
    /// Their submits today (UTC), and the project's daily limit (0: none).
    pub done_today: i64,
    pub daily_limit: i64,
    /// Why `next` would refuse them now: `paused`, `qualification`,
    /// `guidelines` (to acknowledge) or `daily_limit`; `None` when they can
    /// label.
    pub blocked: Option<String>,
    /// The refusal's message.
    pub blocked_reason: Option<String>,
    /// What the project is for (a qualification test is taken from its page).
    pub kind: gloss_types::ProjectKind,
    /// When certifications are missing: the tests that grant them.
    pub qualification_tests: Vec<crate::TestLink>,
}

/// The start of today (UTC) in milliseconds.
fn today_start() -> i64 {
    Timestamp::now().millis().div_euclid(DAY_MS) * DAY_MS
}

impl Engine {
    /// Refuses `next` once the caller submitted the project's daily limit
    /// today (UTC); no query without a limit.
    pub(crate) async fn check_daily_limit(&self, project: &Project, user: &User) -> Result<()> {
        if project.daily_limit <= 0 {
            return Ok(());
        }
        let done = self
            .store
            .annotations_since(project.id, user.id, today_start())
            .await?;
        if done < project.daily_limit {
            return Ok(());
        }
        Err(Error {
            problems: Some(serde_json::json!({"daily_limit": {"limit": project.daily_limit, "done": done}})),
            ..Error::new(
                Code::Forbidden,
                format!(
                    "you have done this project's limit of {} tasks today; it starts again at 00:00 UTC",
                    project.daily_limit
                ),
            )
        })
    }

    /// The projects the caller is a member of, with what is left for them
    /// and what stops them (signed-in users).
    pub async fn my_work(&self, actor: &Actor) -> Result<Vec<WorkItem>> {
        let Actor::User(user) = actor else {
            return Err(Error::forbidden("only a signed-in user has work"));
        };
        let mut items = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let projects = self
                .store
                .list_projects(ProjectScope::MemberOf(user.id), page)
                .await?;
            for project in &projects.items {
                items.push(self.work_item(actor, user, project).await?);
            }
            let Some(next) = projects.next else { break };
            page.after = next.parse().ok();
            if page.after.is_none() {
                break;
            }
        }
        Ok(items)
    }

    async fn work_item(&self, actor: &Actor, user: &User, project: &Project) -> Result<WorkItem> {
        let (_, role) = self.project_for(actor, project.id).await?;
        let open_tasks = self.store.open_tasks_for(project.id, user.id).await?;
        let done_today = self
            .store
            .annotations_since(project.id, user.id, today_start())
            .await?;
        // The same checks, in the same order, as `next`.
        let checks = [
            ("paused", self.check_account_active(user)),
            ("paused", self.check_not_paused(project, user).await),
            ("qualification", self.check_qualified(project, user).await),
            (
                "guidelines",
                self.check_guidelines_acknowledged(project, user).await,
            ),
            ("daily_limit", self.check_daily_limit(project, user).await),
        ];
        let mut blocked = None;
        let mut tests = Vec::new();
        for (name, check) in checks {
            match check {
                Ok(()) => {}
                Err(err) if err.code == Code::Forbidden => {
                    tests = crate::qualification::tests_in(err.problems.as_ref());
                    blocked = Some((name.to_owned(), err.message));
                    break;
                }
                Err(err) => return Err(err),
            }
        }
        Ok(WorkItem {
            project_id: project.id,
            name: project.name.clone(),
            role,
            open_tasks,
            open_tasks_capped: open_tasks >= WORK_COUNT_CAP,
            done_today,
            daily_limit: project.daily_limit,
            blocked_reason: blocked.as_ref().map(|(_, reason)| reason.clone()),
            blocked: blocked.map(|(name, _)| name),
            kind: project.kind,
            qualification_tests: tests,
        })
    }
}
