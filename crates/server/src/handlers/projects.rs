//! `/api/v1/projects/*`: projects and their members.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller, PageQuery, Paging};
use crate::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gloss_engine::{LabelChange, ProjectInput, ProjectUpdate};
use gloss_types::{Member, Page, Project, ProjectId, ProjectRole, QueueOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, update_project, delete_project))
        .routes(routes!(list_members, put_member))
        .routes(routes!(remove_member))
        .routes(routes!(resume_member))
        .routes(routes!(label_config_impact))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImpactRequest {
    /// The label config about to be saved.
    label_config: String,
}

/// What saving a new label config would do to the project's stored results
/// (its managers): every label in use with its count and whether the new
/// config keeps it, the controls it drops, and the labels it offers to
/// rename or merge into. Save with `PATCH …/{project_id}` and `label_changes`.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/label-config/impact", tag = "projects",
    params(("project_id" = i64, Path)), request_body = ImpactRequest,
    responses((status = 200, description = "`{labels, controls_removed, new_labels, total_results}`", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn label_config_impact(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(request): ApiJson<ImpactRequest>,
) -> ApiResult<Json<gloss_engine::LabelConfigImpact>> {
    Ok(Json(
        app.engine
            .label_config_impact(&actor, ProjectId(project_id), &request.label_config)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewProjectRequest {
    name: String,
    #[serde(default)]
    description: String,
    /// A Label Studio XML label config.
    label_config: String,
}

/// A project with the caller's role in it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProjectView {
    #[serde(flatten)]
    project: Project,
    /// What the caller may do here (`manager` for admins).
    my_role: ProjectRole,
}

/// The projects the caller can see: all for admins, their own for everyone else.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(PageQuery),
    responses((status = 200, body = Page<Project>)))]
async fn list_projects(
    State(app): State<App>,
    Caller(actor): Caller,
    Paging(page): Paging,
) -> ApiResult<Json<Page<Project>>> {
    Ok(Json(app.engine.list_projects(&actor, page).await?))
}

/// Create a project (admins and managers); the creator becomes its manager.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = NewProjectRequest,
    responses((status = 201, body = ProjectView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_project(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiJson(request): ApiJson<NewProjectRequest>,
) -> ApiResult<(StatusCode, Json<ProjectView>)> {
    let input = ProjectInput {
        name: request.name,
        description: request.description,
        label_config: request.label_config,
    };
    let project = app.engine.create_project(&actor, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(ProjectView {
            project,
            my_role: ProjectRole::Manager,
        }),
    ))
}

/// One project. Projects the caller cannot see answer 404, like missing ones.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}", tag = "projects", params(("project_id" = i64, Path)),
    responses((status = 200, body = ProjectView), (status = 404, body = ErrorBody)))]
async fn get_project(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<ProjectView>> {
    let (project, my_role) = app.engine.project(&actor, ProjectId(project_id)).await?;
    Ok(Json(ProjectView { project, my_role }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectPatchRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    label_config: Option<String>,
    /// How many different annotators must submit a task (1 to 100).
    #[serde(default)]
    overlap: Option<i64>,
    /// `sequential`, `random` or `priority`.
    #[serde(default)]
    queue_order: Option<QueueOrder>,
    /// How long `next` reserves a task for its annotator (1 s to 7 days).
    #[serde(default)]
    reservation_seconds: Option<i64>,
    /// Review layers an annotation passes before it is accepted: 1 or 2.
    #[serde(default)]
    review_layers: Option<i64>,
    /// The share of each annotator's annotations the review queue hands
    /// out, in percent (0 to 100; 0 turns review off).
    #[serde(default)]
    review_percent: Option<i64>,
    /// The share of each annotator's queue that is gold tasks (tasks with a
    /// ground-truth annotation), 0 to 100.
    #[serde(default)]
    honeypot_percent: Option<i64>,
    /// The accuracy against gold (0 to 1) below which an annotator is
    /// paused in the project; `null` never pauses.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    gold_pause_below: Option<Option<f64>>,
    /// Gold answers (since a resume) before the pause rule applies, 1 to 1000.
    #[serde(default)]
    gold_pause_after: Option<i64>,
    /// Dynamic overlap: at most this many annotators per task (0: off).
    /// A task whose annotators' agreement is below
    /// `dynamic_agreement_below` asks for one more, up to this.
    #[serde(default)]
    dynamic_overlap_max: Option<i64>,
    /// The agreement (0 to 1) below which a task asks for another annotator.
    #[serde(default)]
    dynamic_agreement_below: Option<f64>,
    /// How a task's consensus weighs its annotators: `majority`,
    /// `weighted` (by reliability) or `dawid-skene`.
    #[serde(default)]
    consensus_method: Option<gloss_types::ConsensusMethod>,
    /// Skills (free tags) whoever labels the project must all have; `[]`: none.
    #[serde(default)]
    required_skills: Option<Vec<String>>,
    /// The lowest tier (see `GET /api/v1/tiers`) that may label; `null`: any.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    required_tier: Option<Option<String>>,
    /// At most this many tasks per person per day (UTC); 0: no limit.
    #[serde(default)]
    daily_limit: Option<i64>,
    /// Seconds without input after which the workspace stops counting
    /// active time (10 to 3600; default 60).
    #[serde(default)]
    idle_seconds: Option<i64>,
    /// Anti-fraud: submits with less active time are flagged (0: off).
    #[serde(default)]
    min_task_seconds: Option<i64>,
    /// Anti-fraud: this many identical answers in a row are flagged (0: off).
    #[serde(default)]
    same_answer_streak: Option<i64>,
    /// `labeling`, `training` (feedback after each submit) or
    /// `qualification` (a test; see `…/qualification`).
    #[serde(default)]
    kind: Option<gloss_types::ProjectKind>,
    /// Certifications whoever labels must hold, unexpired; `[]`: none.
    #[serde(default)]
    required_certifications: Option<Vec<String>>,
    /// A qualification test's mean score against gold to pass, 0 to 1.
    #[serde(default)]
    pass_score: Option<f64>,
    /// Attempts per person at a qualification test; 0: unlimited.
    #[serde(default)]
    max_attempts: Option<i64>,
    /// Minutes between a failed attempt and the next.
    #[serde(default)]
    cooldown_minutes: Option<i64>,
    /// The certification passing the test grants; `null`: none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    grants_certification: Option<Option<String>>,
    /// For how many days the certification is valid; `null`: no expiry.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    certification_valid_days: Option<Option<i64>>,
    /// A skill passing the test adds to the person's skills; `null`: none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    grants_skill: Option<Option<String>>,
    /// With a new `label_config`: what becomes of each label that stored
    /// results use and the new config lacks (see `…/label-config/impact`).
    #[serde(default)]
    label_changes: Vec<LabelChange>,
    /// Shorthand for a pay rate for annotating, every tier, effective today
    /// (see `POST …/pay-rates` for the rest).
    #[serde(default)]
    pay: Option<crate::handlers::pay::PayShorthand>,
}

/// Change a project (its managers): name, description, label config, and
/// the queue's settings (overlap, order, reservation time) and review's
/// (layers, sampled share). A new overlap
/// applies at once: tasks with enough annotations become completed, others
/// open again.
#[utoipa::path(patch, path = "/api/v1/projects/{project_id}", tag = "projects", params(("project_id" = i64, Path)),
    request_body = ProjectPatchRequest,
    responses((status = 200, body = ProjectView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_project(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(patch): ApiJson<ProjectPatchRequest>,
) -> ApiResult<Json<ProjectView>> {
    if let Some(pay) = patch.pay {
        crate::handlers::pay::set_pay(&app, &actor, ProjectId(project_id), pay).await?;
    }
    let update = ProjectUpdate {
        name: patch.name,
        description: patch.description,
        label_config: patch.label_config,
        overlap: patch.overlap,
        queue_order: patch.queue_order,
        reservation_seconds: patch.reservation_seconds,
        review_layers: patch.review_layers,
        review_percent: patch.review_percent,
        honeypot_percent: patch.honeypot_percent,
        gold_pause_below: patch.gold_pause_below,
        gold_pause_after: patch.gold_pause_after,
        dynamic_overlap_max: patch.dynamic_overlap_max,
        dynamic_agreement_below: patch.dynamic_agreement_below,
        consensus_method: patch.consensus_method,
        required_skills: patch.required_skills,
        required_tier: patch.required_tier,
        daily_limit: patch.daily_limit,
        idle_seconds: patch.idle_seconds,
        min_task_seconds: patch.min_task_seconds,
        same_answer_streak: patch.same_answer_streak,
        label_changes: patch.label_changes,
        qualification: gloss_engine::QualificationPatch {
            kind: patch.kind,
            required_certifications: patch.required_certifications,
            pass_score: patch.pass_score,
            max_attempts: patch.max_attempts,
            cooldown_minutes: patch.cooldown_minutes,
            grants_certification: patch.grants_certification,
            certification_valid_days: patch.certification_valid_days,
            grants_skill: patch.grants_skill,
        },
    };
    let project = app
        .engine
        .update_project(&actor, ProjectId(project_id), update)
        .await?;
    // Only project managers (and admins, who count as managers) may change a project.
    Ok(Json(ProjectView {
        project,
        my_role: ProjectRole::Manager,
    }))
}

/// Delete a project and everything in it (its managers).
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}", tag = "projects", params(("project_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_project(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    app.engine
        .delete_project(&actor, ProjectId(project_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A project's members (its reviewers and managers).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/members", tag = "projects",
    params(("project_id" = i64, Path), PageQuery),
    responses((status = 200, body = Page<Member>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_members(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    Paging(page): Paging,
) -> ApiResult<Json<Page<Member>>> {
    Ok(Json(
        app.engine
            .list_members(&actor, ProjectId(project_id), page)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberRequest {
    username: String,
    /// Defaults to the account's role (`manager` for admins and managers).
    #[serde(default)]
    role: Option<ProjectRole>,
}

/// Add a member by username, or change a member's role (its managers).
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/members", tag = "projects",
    params(("project_id" = i64, Path)), request_body = MemberRequest,
    responses((status = 200, body = Member), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn put_member(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(request): ApiJson<MemberRequest>,
) -> ApiResult<Json<Member>> {
    Ok(Json(
        app.engine
            .put_member(
                &actor,
                ProjectId(project_id),
                &request.username,
                request.role,
            )
            .await?,
    ))
}

/// Resume a member whose work the gold rule paused (the project's
/// managers); their earlier gold answers no longer count toward a pause.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/members/{username}/resume", tag = "projects",
    params(("project_id" = i64, Path), ("username" = String, Path)),
    responses((status = 200, body = Member), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn resume_member(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath((project_id, username)): ApiPath<(i64, String)>,
) -> ApiResult<Json<Member>> {
    Ok(Json(
        app.engine
            .resume_member(&actor, ProjectId(project_id), &username)
            .await?,
    ))
}

/// A field that may be given as `null`: present (`Some`), with or without a value.
/// A field that may be `null` on purpose: absent → `None`, `null` →
/// `Some(None)`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Remove a member (its managers).
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/members/{username}", tag = "projects",
    params(("project_id" = i64, Path), ("username" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_member(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath((project_id, username)): ApiPath<(i64, String)>,
) -> ApiResult<StatusCode> {
    app.engine
        .remove_member(&actor, ProjectId(project_id), &username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
