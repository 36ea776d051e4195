//! Reading tasks: the project's list and one task with its work.

use crate::access::Actor;
use crate::error::{Error, OrNotFound, Result};
use crate::Engine;
use gloss_types::{
    Annotation, Code, Page, PageRequest, Prediction, ProjectId, ProjectRole, Task, TaskId,
    TaskStatus,
};
use serde::Serialize;
use utoipa::ToSchema;

/// A task with its annotations and predictions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: Task,
    pub annotations: Vec<Annotation>,
    pub predictions: Vec<Prediction>,
}

/// How many tasks a project has, in all and per status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskCounts {
    pub total: i64,
    pub new: i64,
    pub in_progress: i64,
    pub completed: i64,
}

impl Engine {
    /// A project's tasks in id order (reviewers and managers).
    pub async fn list_tasks(
        &self,
        actor: &Actor,
        project: ProjectId,
        page: PageRequest,
    ) -> Result<Page<Task>> {
        self.project_with_role(actor, project, ProjectRole::Reviewer, "browse tasks")
            .await?;
        let rows = self.store.list_tasks(project, page).await?;
        let items = rows
            .items
            .iter()
            .map(|row| row.to_task().map_err(Error::from))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            next: rows.next,
        })
    }

    /// Task counts per status (any member).
    pub async fn task_counts(&self, actor: &Actor, project: ProjectId) -> Result<TaskCounts> {
        self.project_for(actor, project).await?;
        let counts = self.store.task_counts(project).await?;
        let count = |status: TaskStatus| {
            counts
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n)
        };
        Ok(TaskCounts {
            total: counts.iter().map(|(_, n)| n).sum(),
            new: count(TaskStatus::New),
            in_progress: count(TaskStatus::InProgress),
            completed: count(TaskStatus::Completed),
        })
    }

    /// One task with its work: reviewers and managers of its project see
    /// every annotation and prediction; an annotator who works on the task
    /// (an annotation, a draft or a reservation of theirs: what a
    /// notification sends them to) sees it with their own annotations only.
    pub async fn task_detail(&self, actor: &Actor, id: TaskId) -> Result<TaskDetail> {
        let row = self.store.task(id).await.or_not_found("task")?;
        // A task of a project the caller cannot see does not exist for them.
        let (_, role) = self
            .project_for(actor, row.project_id)
            .await
            .map_err(|err| match err.code {
                Code::NotFound => Error::not_found("task"),
                _ => err,
            })?;
        let reviewer = role >= ProjectRole::Reviewer;
        let own = actor.user().map(|user| user.id);
        if !reviewer {
            let works = match own {
                Some(user) => self.store.works_on_task(id, user).await?,
                None => false,
            };
            if !works {
                return Err(Error::not_found("task"));
            }
        }
        let annotations = self
            .store
            .task_annotations(id)
            .await?
            .iter()
            .filter(|row| reviewer || row.completed_by == own)
            .map(|row| row.to_annotation().map_err(Error::from))
            .collect::<Result<Vec<_>>>()?;
        let predictions = if reviewer {
            self.store
                .task_predictions(id)
                .await?
                .iter()
                .map(|row| row.to_prediction().map_err(Error::from))
                .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        Ok(TaskDetail {
            task: row.to_task()?,
            annotations,
            predictions,
        })
    }
}
