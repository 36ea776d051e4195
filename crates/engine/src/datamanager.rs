//! The data manager: the project's tasks as a filtered, sorted table in
//! keyset pages (reviewers and managers), saved views of it (any member for
//! themselves; managers share them with the project), and bulk actions on a
//! selection or a whole filtered set (managers).

use crate::access::Actor;
use crate::error::{Error, OrNotFound, Result};
use crate::Engine;
use base64::Engine as _;
use gloss_store::{
    BulkAction, BulkTarget, DataCondition, DataOp, QueueProject, SortKey, SortValue, TableCursor,
    TableSort, TaskQuery, ViewRow, PRIORITY_LIMIT,
};
use gloss_types::{Code, Project, ProjectId, ProjectRole, TaskId, TaskStatus, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Which tasks the table shows: every condition given must hold. The same
/// shape is used by the table's `filter` parameter, saved views and bulk
/// actions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskFilter {
    /// Any of these statuses (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<TaskStatus>,
    /// Tasks with an annotation by this user (a username).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotator: Option<String>,
    /// Tasks with an annotation using this label or choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Conditions on keys of the task data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<DataFilter>,
    /// The task's highest prediction score is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_score_min: Option<f64>,
    /// The task's highest prediction score is at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_score_max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_after: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_before: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_after: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_before: Option<Timestamp>,
}

/// A condition on one key of the task data, e.g. `{"key": "city", "op":
/// "eq", "value": "Lyon"}` or `{"key": "width", "op": "gt", "value": 640}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataFilter {
    /// A top-level key of the task data: letters, digits, `_` and `-`.
    pub key: String,
    pub op: DataFilterOp,
    /// A string, number, boolean or null for `eq`; a string for
    /// `contains`; a number for the comparisons.
    #[schema(value_type = Object)]
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataFilterOp {
    /// Equal (strings, numbers, booleans, null).
    Eq,
    /// A string containing the value, ignoring ASCII case.
    Contains,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A page request of the table.
#[derive(Debug, Clone, Default)]
pub struct TableRequest {
    pub filter: TaskFilter,
    /// `id`, `created`, `updated`, `annotation_count`, `prediction_score`
    /// or `data.KEY`, with a leading `-` for descending; default `id`.
    pub sort: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    pub limit: u32,
    /// Also count the tasks matching the filter.
    pub count: bool,
}

/// One row of the table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskTableRow {
    pub id: TaskId,
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, Value>,
    /// The URL of the task's image (the value of the label config's first
    /// `<Image>`), for a thumbnail.
    pub image: Option<String>,
    pub status: TaskStatus,
    pub priority: i64,
    pub annotation_count: i64,
    pub prediction_count: i64,
    /// The highest score of the task's predictions.
    pub prediction_score: Option<f64>,
    /// Usernames of the task's annotators.
    pub annotators: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A page of the table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskTablePage {
    pub items: Vec<TaskTableRow>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next: Option<String>,
    /// How many tasks match the filter, when asked for with `count=true`.
    pub total: Option<i64>,
}

/// A bulk action of the data manager (managers).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    pub action: BulkActionName,
    /// The selected tasks (up to 100000); or give `filter`.
    #[serde(default)]
    pub tasks: Option<Vec<TaskId>>,
    /// Every task matching this filter (`{}`: every task of the project).
    #[serde(default)]
    pub filter: Option<TaskFilter>,
    /// With `filter`: tasks to leave out (up to 100000), e.g. rows unticked
    /// after "select all matching".
    #[serde(default)]
    pub except: Option<Vec<TaskId>>,
    /// `assign`: the members to assign the tasks to.
    #[serde(default)]
    pub users: Option<Vec<String>>,
    /// `set_priority`: the new priority.
    #[serde(default)]
    pub priority: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkActionName {
    /// Remove the tasks with their annotations, predictions, drafts and queue state.
    Delete,
    /// Remove annotations, drafts, reservations, skips and assignments; back to `new`.
    Reset,
    /// Assign to each of `users`.
    Assign,
    SetPriority,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkDone {
    /// Tasks deleted, reset or changed; for `assign`, assignments made.
    pub affected: u64,
}

/// A saved view of the table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct View {
    pub id: i64,
    pub project_id: ProjectId,
    pub name: String,
    /// Seen by every member of the project (else by its owner only).
    pub shared: bool,
    /// Who saved it.
    pub owner: Option<String>,
    pub filter: TaskFilter,
    pub sort: Option<String>,
    /// The data columns shown, in order (empty: the page's default).
    pub columns: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A new view.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewInput {
    pub name: String,
    /// Share with the project (managers only); default false.
    #[serde(default)]
    pub shared: bool,
    #[serde(default)]
    pub filter: TaskFilter,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub columns: Vec<String>,
}

/// Changes to a view; what is left out stays.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewPatch {
    pub name: Option<String>,
    pub shared: Option<bool>,
    pub filter: Option<TaskFilter>,
    pub sort: Option<String>,
    pub columns: Option<Vec<String>>,
}

/// What a view stores besides its name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ViewState {
    #[serde(default)]
    filter: TaskFilter,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    columns: Vec<String>,
}

/// Ids a bulk action may list at once.
const MAX_BULK_IDS: usize = 100_000;

impl Engine {
    /// A page of the project's tasks (reviewers and managers).
    pub async fn task_table(
        &self,
        actor: &Actor,
        project: ProjectId,
        request: TableRequest,
    ) -> Result<TaskTablePage> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Reviewer, "browse tasks")
            .await?;
        let query = self.task_query(&request.filter, "").await?;
        let sort_text = request.sort.clone().unwrap_or_else(|| "id".to_string());
        let sort = parse_sort(&sort_text)?;
        let cursor = match request.after.as_deref() {
            None | Some("") => None,
            Some(text) => Some(decode_cursor(text, &sort_text)?),
        };
        let page = self
            .store
            .task_table(project.id, &query, &sort, cursor.as_ref(), request.limit)
            .await?;
        let total = if request.count {
            Some(self.store.count_task_table(project.id, &query).await?)
        } else {
            None
        };
        let (image_key, shows_video) = match image_key(&project) {
            Some((key, video)) => (Some(key), video),
            None => (None, false),
        };
        let items = page
            .rows
            .into_iter()
            .map(|row| {
                let task = row.task.to_task()?;
                let image = image_key
                    .as_deref()
                    .and_then(|key| task.data.get(key))
                    .and_then(|value| match value {
                        // An image sequence: its first frame.
                        Value::Array(frames) => frames.first().and_then(Value::as_str),
                        // A video file is no image.
                        _ if shows_video => None,
                        value => value.as_str(),
                    })
                    .map(str::to_string);
                Ok(TaskTableRow {
                    id: task.id,
                    data: task.data,
                    image,
                    status: task.status,
                    priority: task.priority,
                    annotation_count: task.annotation_count,
                    prediction_count: task.prediction_count,
                    prediction_score: row.prediction_score,
                    annotators: row.annotators,
                    created_at: task.created_at,
                    updated_at: task.updated_at,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TaskTablePage {
            items,
            next: page.next.map(|cursor| encode_cursor(&cursor, &sort_text)),
            total,
        })
    }

    /// Applies a bulk action (managers); all or nothing.
    pub async fn bulk_tasks(
        &self,
        actor: &Actor,
        project: ProjectId,
        request: BulkRequest,
    ) -> Result<BulkDone> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Manager, "change tasks in bulk")
            .await?;
        let target = match (&request.tasks, &request.filter) {
            (Some(_), None) if request.except.is_some() => {
                return Err(Error::invalid(
                    "except",
                    "leaves tasks out of a `filter`; with `tasks`, list only the tasks wanted",
                ))
            }
            (Some(tasks), None) => {
                if tasks.is_empty() || tasks.len() > MAX_BULK_IDS {
                    return Err(Error::invalid(
                        "tasks",
                        format!("give between 1 and {MAX_BULK_IDS} task ids, or a filter"),
                    ));
                }
                BulkTarget::Tasks(tasks.clone())
            }
            (None, Some(filter)) => {
                let except = request.except.clone().unwrap_or_default();
                if except.len() > MAX_BULK_IDS {
                    return Err(Error::invalid(
                        "except",
                        format!("leave out at most {MAX_BULK_IDS} tasks"),
                    ));
                }
                BulkTarget::Filter {
                    query: self.task_query(filter, "filter.").await?,
                    except,
                }
            }
            _ => {
                return Err(Error::invalid(
                    "tasks",
                    "give either `tasks` (ids) or `filter`, not both",
                ))
            }
        };
        let unused = |field: &str, present: bool| {
            if present {
                Err(Error::invalid(
                    field,
                    format!("has no meaning for `{:?}`", request.action).to_lowercase(),
                ))
            } else {
                Ok(())
            }
        };
        let action = match request.action {
            BulkActionName::Delete | BulkActionName::Reset => {
                unused("users", request.users.is_some())?;
                unused("priority", request.priority.is_some())?;
                if request.action == BulkActionName::Delete {
                    BulkAction::Delete
                } else {
                    BulkAction::Reset
                }
            }
            BulkActionName::Assign => {
                unused("priority", request.priority.is_some())?;
                let names = request.users.clone().unwrap_or_default();
                if names.is_empty() {
                    return Err(Error::invalid("users", "name at least one member"));
                }
                let mut users = Vec::new();
                for (index, name) in names.iter().enumerate() {
                    users.push(self.member_named(&project, name, index).await?);
                }
                BulkAction::Assign {
                    users,
                    by: actor.user().map(|user| user.id),
                }
            }
            BulkActionName::SetPriority => {
                unused("users", request.users.is_some())?;
                let priority = request
                    .priority
                    .ok_or_else(|| Error::invalid("priority", "is required"))?;
                if !(-PRIORITY_LIMIT..=PRIORITY_LIMIT).contains(&priority) {
                    return Err(Error::invalid(
                        "priority",
                        format!("must be between -{PRIORITY_LIMIT} and {PRIORITY_LIMIT}"),
                    ));
                }
                BulkAction::SetPriority(priority)
            }
        };
        let now = Timestamp::now().millis();
        let affected = self
            .store
            .bulk_tasks(QueueProject::from(&project), target, action, now)
            .await?;
        Ok(BulkDone { affected })
    }

    /// The views of a project the caller sees: shared ones and their own.
    pub async fn views(&self, actor: &Actor, project: ProjectId) -> Result<Vec<View>> {
        self.project_for(actor, project).await?;
        let rows = self
            .store
            .views(project, actor.user().map(|user| user.id))
            .await?;
        rows.iter().map(view).collect()
    }

    /// Saves a view: any member for themselves; managers may share it.
    pub async fn create_view(
        &self,
        actor: &Actor,
        project: ProjectId,
        input: ViewInput,
    ) -> Result<View> {
        let (project, role) = self.project_for(actor, project).await?;
        if input.shared && role < ProjectRole::Manager {
            return Err(Error::forbidden(
                "only the project's managers may share views; save it for yourself instead",
            ));
        }
        let state = ViewState {
            filter: input.filter,
            // An empty sort is the default order, as in `update_view`.
            sort: input.sort.filter(|sort| !sort.is_empty()),
            columns: input.columns,
        };
        self.check_view(&input.name, &state).await?;
        let row = self
            .store
            .create_view(
                project.id,
                actor.user().map(|user| user.id),
                input.name.trim(),
                input.shared,
                &state_json(&state)?,
                Timestamp::now().millis(),
            )
            .await?;
        view(&row)
    }

    /// Changes a view: its owner (a personal view) or the project's
    /// managers (a shared one, or sharing one).
    pub async fn update_view(&self, actor: &Actor, id: i64, patch: ViewPatch) -> Result<View> {
        let row = self.view_for_change(actor, id).await?;
        let (_, role) = self.project_for(actor, row.project_id).await?;
        let shared = patch.shared.unwrap_or(row.shared);
        if shared && role < ProjectRole::Manager {
            return Err(Error::forbidden(
                "only the project's managers may share views",
            ));
        }
        let mut state: ViewState = serde_json::from_str(&row.state)
            .map_err(|err| Error::internal(format!("view {id} is unreadable: {err}")))?;
        if let Some(filter) = patch.filter {
            state.filter = filter;
        }
        if let Some(sort) = patch.sort {
            state.sort = Some(sort).filter(|sort| !sort.is_empty());
        }
        if let Some(columns) = patch.columns {
            state.columns = columns;
        }
        let name = patch.name.unwrap_or(row.name);
        self.check_view(&name, &state).await?;
        let row = self
            .store
            .update_view(
                id,
                name.trim(),
                shared,
                &state_json(&state)?,
                Timestamp::now().millis(),
            )
            .await
            .or_not_found("view")?;
        view(&row)
    }

    /// Deletes a view (the same people who may change it).
    pub async fn delete_view(&self, actor: &Actor, id: i64) -> Result<()> {
        self.view_for_change(actor, id).await?;
        self.store.delete_view(id).await.or_not_found("view")
    }

    /// A view the caller may change: their own personal view, or a shared
    /// view of a project they manage. Views they cannot see are not found.
    async fn view_for_change(&self, actor: &Actor, id: i64) -> Result<ViewRow> {
        let row = self.store.view(id).await.or_not_found("view")?;
        let (_, role) = self
            .project_for(actor, row.project_id)
            .await
            .map_err(|err| match err.code {
                Code::NotFound => Error::not_found("view"),
                _ => err,
            })?;
        let own = actor
            .user()
            .is_some_and(|user| row.owner_id == Some(user.id));
        if !row.shared && !own && !actor.is_admin() {
            return Err(Error::not_found("view"));
        }
        if row.shared && role < ProjectRole::Manager {
            return Err(Error::forbidden(
                "only the project's managers may change shared views",
            ));
        }
        Ok(row)
    }

    async fn check_view(&self, name: &str, state: &ViewState) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "must be 1 to 100 characters"));
        }
        self.task_query(&state.filter, "filter.").await?;
        if let Some(sort) = &state.sort {
            parse_sort(sort).map_err(|err| Error {
                field: Some("sort".to_string()),
                ..err
            })?;
        }
        if state.columns.len() > 100 {
            return Err(Error::invalid("columns", "at most 100 columns"));
        }
        Ok(())
    }

    /// The store's form of a filter, once every part is checked; `prefix`
    /// goes before field names in errors.
    async fn task_query(&self, filter: &TaskFilter, prefix: &str) -> Result<TaskQuery> {
        let field = |name: &str| format!("{prefix}{name}");
        let annotator = match &filter.annotator {
            Some(name) if !name.is_empty() => Some(
                self.store
                    .user_by_username(name)
                    .await
                    .or_not_found("user")
                    .map_err(|_| {
                        Error::invalid(&field("annotator"), format!("no user is named `{name}`"))
                    })?
                    .id,
            ),
            _ => None,
        };
        let mut data = Vec::new();
        for (index, condition) in filter.data.iter().enumerate() {
            let at = |name: &str| field(&format!("data[{index}].{name}"));
            if !gloss_store::valid_data_key(&condition.key) {
                return Err(Error::invalid(
                    &at("key"),
                    "must be 1 to 64 letters, digits, `_` or `-`",
                ));
            }
            let value = &condition.value;
            let op = match condition.op {
                DataFilterOp::Eq => {
                    if value.is_array() || value.is_object() {
                        return Err(Error::invalid(
                            &at("value"),
                            "must be a string, number, boolean or null",
                        ));
                    }
                    DataOp::Eq
                }
                DataFilterOp::Contains => {
                    if !value.is_string() {
                        return Err(Error::invalid(&at("value"), "must be a string"));
                    }
                    DataOp::Contains
                }
                op => {
                    if !value.is_number() {
                        return Err(Error::invalid(&at("value"), "must be a number"));
                    }
                    match op {
                        DataFilterOp::Gt => DataOp::Gt,
                        DataFilterOp::Gte => DataOp::Gte,
                        DataFilterOp::Lt => DataOp::Lt,
                        _ => DataOp::Lte,
                    }
                }
            };
            data.push(DataCondition {
                key: condition.key.clone(),
                op,
                value: value.clone(),
            });
        }
        for (name, value) in [
            ("prediction_score_min", filter.prediction_score_min),
            ("prediction_score_max", filter.prediction_score_max),
        ] {
            if value.is_some_and(|value| !value.is_finite()) {
                return Err(Error::invalid(&field(name), "must be a number"));
            }
        }
        Ok(TaskQuery {
            statuses: filter.status.clone(),
            annotator,
            label: filter.label.clone().filter(|label| !label.is_empty()),
            data,
            score_min: filter.prediction_score_min,
            score_max: filter.prediction_score_max,
            created_after: filter.created_after.map(Timestamp::millis),
            created_before: filter.created_before.map(Timestamp::millis),
            updated_after: filter.updated_after.map(Timestamp::millis),
            updated_before: filter.updated_before.map(Timestamp::millis),
        })
    }

    /// A member of the project (or an admin) by username, for `users[index]`.
    async fn member_named(&self, project: &Project, name: &str, index: usize) -> Result<UserId> {
        let field = format!("users[{index}]");
        let user = self
            .store
            .user_by_username(name)
            .await
            .or_not_found("user")
            .map_err(|_| Error::invalid(&field, format!("no user is named `{name}`")))?;
        let is_member = user.role == gloss_types::Role::Admin
            || self.store.membership(project.id, user.id).await?.is_some();
        if !is_member {
            return Err(Error::invalid(
                &field,
                format!("{name} is not a member of this project"),
            ));
        }
        Ok(user.id)
    }
}

/// The data key of the label config's first `<Image>`, else of its first
/// `<Video>` (whose value may be an image sequence), and whether it is the
/// video's.
fn image_key(project: &Project) -> Option<(String, bool)> {
    let (config, _) = gloss_schema::parse(&project.label_config);
    let first = |kind: gloss_schema::ObjectKind| {
        config
            .objects
            .iter()
            .find(|object| object.kind == kind && !object.value.is_empty())
            .map(|object| object.value.clone())
    };
    first(gloss_schema::ObjectKind::Image)
        .map(|key| (key, false))
        .or_else(|| first(gloss_schema::ObjectKind::Video).map(|key| (key, true)))
}

fn parse_sort(text: &str) -> Result<TableSort> {
    let (descending, name) = match text.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, text),
    };
    let key = match name {
        "id" => SortKey::Id,
        "created" | "created_at" => SortKey::Created,
        "updated" | "updated_at" => SortKey::Updated,
        "annotation_count" | "annotations" => SortKey::AnnotationCount,
        "prediction_score" | "score" => SortKey::PredictionScore,
        other => match other.strip_prefix("data.") {
            Some(key) if gloss_store::valid_data_key(key) => SortKey::Data(key.to_string()),
            _ => {
                return Err(Error::invalid(
                    "sort",
                    "must be id, created, updated, annotation_count, prediction_score or \
                     data.KEY (KEY: letters, digits, `_`, `-`), with `-` in front for descending",
                ))
            }
        },
    };
    Ok(TableSort { key, descending })
}

/// Cursors are opaque to clients: base64url of `{"s": sort, "v": value, "i": id}`.
fn encode_cursor(cursor: &TableCursor, sort: &str) -> String {
    let value = match &cursor.value {
        SortValue::Null => Value::Null,
        SortValue::Int(value) => Value::from(*value),
        SortValue::Float(value) => Value::from(*value),
        SortValue::Text(value) => Value::from(value.clone()),
    };
    let json = serde_json::json!({"s": sort, "v": value, "i": cursor.id});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

fn decode_cursor(text: &str, sort: &str) -> Result<TableCursor> {
    let bad = || Error::invalid("after", "is not a cursor from this table");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| bad())?;
    let json: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if json["s"].as_str() != Some(sort) {
        return Err(Error::invalid(
            "after",
            "is a cursor of another sort order; start again from the first page",
        ));
    }
    let id = json["i"].as_i64().ok_or_else(bad)?;
    let value = match &json["v"] {
        Value::Null => SortValue::Null,
        Value::Number(number) => match number.as_i64() {
            Some(int) if !number.is_f64() => SortValue::Int(int),
            _ => SortValue::Float(number.as_f64().ok_or_else(bad)?),
        },
        Value::String(text) => SortValue::Text(text.clone()),
        _ => return Err(bad()),
    };
    Ok(TableCursor { value, id })
}

fn state_json(state: &ViewState) -> Result<String> {
    serde_json::to_string(state).map_err(|err| Error::internal(err.to_string()))
}

fn view(row: &ViewRow) -> Result<View> {
    let state: ViewState = serde_json::from_str(&row.state)
        .map_err(|err| Error::internal(format!("view {} is unreadable: {err}", row.id)))?;
    Ok(View {
        id: row.id,
        project_id: row.project_id,
        name: row.name.clone(),
        shared: row.shared,
        owner: row.owner.clone(),
        filter: state.filter,
        sort: state.sort,
        columns: state.columns,
        created_at: Timestamp(row.created_at),
        updated_at: Timestamp(row.updated_at),
    })
}

/// The pauses before each try to make PostgreSQL's trigram index of task data.
const POSTGRES_TEXT_INDEX_TRIES: [std::time::Duration; 4] = [
    std::time::Duration::ZERO,
    std::time::Duration::from_secs(2),
    std::time::Duration::from_secs(10),
    std::time::Duration::from_secs(60),
];

/// How long the text-index worker waits before looking for new tasks again
/// once every task is indexed, and after an error.
const TEXT_INDEX_IDLE: std::time::Duration = std::time::Duration::from_secs(1);
const TEXT_INDEX_RETRY: std::time::Duration = std::time::Duration::from_secs(10);

/// The pause between two batches of the text index, which lets writers
/// waiting for the write lock (the queue, imports) take it in between.
const TEXT_INDEX_PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

/// The data keys the text index's worker has asked indexes for, by
/// project (see `Engine::index_found_data_keys`).
#[derive(Debug, Default)]
struct SeenDataKeys {
    projects: std::collections::HashMap<ProjectId, SeenProjectKeys>,
}

#[derive(Debug, Default)]
struct SeenProjectKeys {
    keys: std::collections::HashSet<String>,
    /// The project has as many data-field indexes as are made ahead.
    full: bool,
}

/// The most keys of one project the worker remembers having asked for.
const SEEN_DATA_KEYS: usize = 10_000;

impl Engine {
    /// The data manager's indexes, kept in the background by `gloss serve`
    /// from its start until the store closes: first the indexes of every
    /// project's data fields (which imports made while the server was down,
    /// or by `gloss import`, may lack), then the text index, for good.
    pub async fn keep_table_indexes(&self) {
        let mut page = gloss_types::PageRequest::first(gloss_types::PageRequest::MAX_LIMIT);
        loop {
            let listed = match self
                .store
                .list_projects(gloss_store::ProjectScope::All, page)
                .await
            {
                Ok(listed) => listed,
                Err(err) => {
                    tracing::warn!(error = %err, "listing projects to index their data failed");
                    break;
                }
            };
            for project in &listed.items {
                self.prepare_data_indexes(project.id).await;
            }
            match listed.next.and_then(|next| next.parse().ok()) {
                Some(after) => page.after = Some(after),
                None => break,
            }
        }
        self.keep_text_index().await;
    }

    /// Makes the indexes of a project's data fields ahead of the first sort
    /// by them (see `Store::prepare_data_indexes`); after an import, and for
    /// every project at the start. Errors are logged: a sort makes its
    /// index anyway.
    pub(crate) async fn prepare_data_indexes(&self, project: ProjectId) {
        if let Err(err) = self.store.prepare_data_indexes(project).await {
            if !self.store.is_closed() {
                tracing::warn!(project = project.0, error = %err, "indexing data fields failed");
            }
        }
    }

    /// Makes the indexes of the data keys that the text index's worker
    /// found in the tasks it added (every task, once), unless it asked for
    /// them before: a key that only some tasks in the middle of an import
    /// have is indexed too, not only those of a project's first and last
    /// tasks (see `Store::prepare_data_indexes`). Errors are logged: a sort
    /// or filter makes its index anyway.
    async fn index_found_data_keys(
        &self,
        found: Vec<(ProjectId, String)>,
        seen: &mut SeenDataKeys,
    ) {
        let mut by_project: Vec<(ProjectId, Vec<String>)> = Vec::new();
        for (project, key) in found {
            let known = seen.projects.entry(project).or_default();
            if known.full || !known.keys.insert(key.clone()) {
                continue;
            }
            match by_project.last_mut() {
                Some((last, keys)) if *last == project => keys.push(key),
                _ => by_project.push((project, vec![key])),
            }
        }
        for (project, keys) in by_project {
            match self.store.prepare_data_key_indexes(project, &keys).await {
                Ok(done) => {
                    let known = seen.projects.entry(project).or_default();
                    if done.full {
                        // No more keys of this project are indexed ahead.
                        known.full = true;
                        known.keys = std::collections::HashSet::new();
                    } else if known.keys.len() > SEEN_DATA_KEYS {
                        // Keys that cannot be indexed (not data keys) are
                        // asked for again rather than kept without bound.
                        known.keys.clear();
                    }
                }
                Err(err) => {
                    if !self.store.is_closed() {
                        tracing::warn!(project = project.0, error = %err, "indexing data fields failed");
                    }
                    // Asked for again when the keys are next found.
                    if let Some(known) = seen.projects.get_mut(&project) {
                        for key in &keys {
                            known.keys.remove(key);
                        }
                    }
                }
            }
        }
    }

    /// Keeps the trigram index of task data (which `contains` filters read on
    /// SQLite) up to date, until the store closes: adds new tasks in small
    /// batches as they come, and logs when it has caught up with a large
    /// import (see `keep_table_indexes`). On PostgreSQL, where the database
    /// keeps its own trigram index, it makes that index once, if it can.
    async fn keep_text_index(&self) {
        let store = self.store();
        if store.backend() == gloss_store::Backend::Postgres {
            // Tried again a little later: another instance starting at the
            // same moment may be installing the extension or making the index.
            for pause in POSTGRES_TEXT_INDEX_TRIES {
                tokio::time::sleep(pause).await;
                match store.prepare_postgres_text_index().await {
                    Ok(_) => return,
                    Err(_) if store.is_closed() => return,
                    Err(err) => tracing::warn!(
                        "contains filters read each task's data until the trigram index of \
                         task data (extension pg_trgm) is made: {err}"
                    ),
                }
            }
            return;
        }
        let mut caught_up = true;
        let mut started = std::time::Instant::now();
        let mut added_since: u64 = 0;
        let mut seen = SeenDataKeys::default();
        while !store.is_closed() {
            match store.index_task_text(gloss_store::TEXT_INDEX_BATCH).await {
                Ok(batch) if batch.added == 0 => {
                    if !caught_up {
                        caught_up = true;
                        let seconds = started.elapsed().as_secs_f64();
                        if added_since >= 10_000 {
                            tracing::info!(
                                tasks = added_since,
                                seconds,
                                "the text index has every task"
                            );
                        } else {
                            tracing::debug!(
                                tasks = added_since,
                                seconds,
                                "the text index has every task"
                            );
                        }
                    }
                    if store.backend() != gloss_store::Backend::Sqlite {
                        return;
                    }
                    tokio::time::sleep(TEXT_INDEX_IDLE).await;
                }
                Ok(batch) => {
                    if caught_up {
                        caught_up = false;
                        started = std::time::Instant::now();
                        added_since = 0;
                    }
                    added_since += batch.added;
                    self.index_found_data_keys(batch.data_keys, &mut seen).await;
                    tokio::time::sleep(TEXT_INDEX_PAUSE).await;
                }
                Err(err) => {
                    if store.is_closed() {
                        return;
                    }
                    tracing::warn!(error = %err, "adding tasks to the text index failed");
                    tokio::time::sleep(TEXT_INDEX_RETRY).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_sort() {
        for value in [
            SortValue::Null,
            SortValue::Int(-3),
            SortValue::Float(0.25),
            SortValue::Float(2.0),
            SortValue::Text("Lyon \"x\"".to_string()),
        ] {
            let cursor = TableCursor {
                value: value.clone(),
                id: 42,
            };
            let text = encode_cursor(&cursor, "-data.city");
            assert_eq!(decode_cursor(&text, "-data.city").unwrap(), cursor);
            assert!(decode_cursor(&text, "id").is_err());
        }
        assert!(decode_cursor("garbage!", "id").is_err());
    }

    #[test]
    fn sorts_parse() {
        assert_eq!(
            parse_sort("-data.width").unwrap(),
            TableSort {
                key: SortKey::Data("width".to_string()),
                descending: true
            }
        );
        assert!(parse_sort("data.a'b").is_err());
        assert!(parse_sort("nope").is_err());
    }
}
