//! Time and pay: a project's pay rates, timesheets and their approval,
//! payroll (JSON and CSV), ledger entries and active time per day.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::App;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gloss_engine::{
    payroll_csv, DateRange, PayEntry, PayRate, PayRateInput, Payroll, TimeRow, Timesheet,
    TimesheetPeriod,
};
use gloss_types::{Code, ProjectId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_pay_rates, add_pay_rate))
        .routes(routes!(delete_pay_rate))
        .routes(routes!(my_timesheet))
        .routes(routes!(user_timesheet))
        .routes(routes!(user_pay_entries))
        .routes(routes!(user_time))
        .routes(routes!(project_time))
        .routes(routes!(approve_period))
        .routes(routes!(payroll))
}

/// `PATCH /api/v1/projects/{id}` `{pay: {mode, rate, currency}}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayShorthand {
    /// `per_task` or `hourly`.
    mode: String,
    /// A decimal string (`"0.35"`).
    #[schema(value_type = String)]
    rate: serde_json::Value,
    /// ISO 4217.
    currency: String,
}

/// Adds the shorthand's rate: annotating, every tier, effective today.
pub(crate) async fn set_pay(
    app: &App,
    actor: &gloss_engine::Actor,
    project: ProjectId,
    pay: PayShorthand,
) -> ApiResult<()> {
    let prefixed = |err: gloss_engine::Error| {
        let mut err = err;
        if let Some(field) = err.field.take() {
            err.field = Some(format!("pay.{field}"));
        }
        err
    };
    let input = PayRateInput {
        work: None,
        tier: None,
        mode: pay.mode,
        rate: pay.rate,
        currency: pay.currency,
        pieces: Default::default(),
        rejected_unpaid: None,
        bonus_percent: None,
        bonus_gold_threshold: None,
        effective_from: None,
    };
    app.engine
        .add_pay_rate(actor, project, input)
        .await
        .map_err(prefixed)?;
    Ok(())
}

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

fn query<T>(query: QueryResult<T>) -> ApiResult<T> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::new(Code::BadRequest, rejection.body_text()))
}

#[derive(Debug, Serialize, ToSchema)]
struct PayRates {
    /// By work kind, then date.
    rates: Vec<PayRate>,
}

/// The project's pay rates (its managers).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/pay-rates", tag = "pay",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = PayRates), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_pay_rates(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<PayRates>> {
    Ok(Json(PayRates {
        rates: app.engine.pay_rates(&actor, ProjectId(project_id)).await?,
    }))
}

/// Add a pay rate (its managers). Rates are never changed: a new rate from
/// its `effective_from` date replaces the earlier one for work done from
/// then on. Amounts are decimal strings (`"0.35"`).
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/pay-rates", tag = "pay",
    params(("project_id" = i64, Path)), request_body = PayRateInput,
    responses((status = 201, body = PayRate), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_pay_rate(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    ApiJson(input): ApiJson<PayRateInput>,
) -> ApiResult<(StatusCode, Json<PayRate>)> {
    let rate = app
        .engine
        .add_pay_rate(&actor, ProjectId(project_id), input)
        .await?;
    Ok((StatusCode::CREATED, Json(rate)))
}

/// Delete a pay rate no work was priced with (its managers); `409` when
/// some was: add a new rate instead.
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/pay-rates/{rate_id}", tag = "pay",
    params(("project_id" = i64, Path), ("rate_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn delete_pay_rate(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath((project_id, rate_id)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    app.engine
        .delete_pay_rate(&actor, ProjectId(project_id), rate_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's timesheet: per project and week (Monday to Sunday in their
/// time zone), hours, tasks, rejected tasks, earnings and approval.
#[utoipa::path(get, path = "/api/v1/me/timesheet", tag = "pay",
    responses((status = 200, body = Timesheet), (status = 401, body = ErrorBody)))]
async fn my_timesheet(State(app): State<App>, Caller(actor): Caller) -> ApiResult<Json<Timesheet>> {
    let username = actor
        .user()
        .map(|user| user.username.clone())
        .ok_or_else(|| ApiError::new(Code::BadRequest, "a timesheet needs a signed-in user"))?;
    Ok(Json(app.engine.timesheet(&actor, &username).await?))
}

/// A person's timesheet (themselves, admins, and their managers, who see
/// the projects they manage).
#[utoipa::path(get, path = "/api/v1/users/{username}/timesheet", tag = "pay",
    params(("username" = String, Path)),
    responses((status = 200, body = Timesheet), (status = 404, body = ErrorBody)))]
async fn user_timesheet(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Json<Timesheet>> {
    Ok(Json(app.engine.timesheet(&actor, &username).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntriesQuery {
    /// First work date, `YYYY-MM-DD` (the person's own dates).
    from: Option<String>,
    /// Last work date, inclusive.
    to: Option<String>,
    /// One period: its Monday, `YYYY-MM-DD`.
    period: Option<String>,
    /// One project.
    project: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
struct PayEntries {
    /// In the order they were written.
    entries: Vec<PayEntry>,
}

/// A person's pay ledger entries (themselves, admins, their managers):
/// every submit, rework, review and reversal with its active time and
/// exact price, so that any total can be checked against them.
#[utoipa::path(get, path = "/api/v1/users/{username}/pay-entries", tag = "pay",
    params(("username" = String, Path), EntriesQuery),
    responses((status = 200, body = PayEntries), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn user_pay_entries(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(username): ApiPath<String>,
    entries: QueryResult<EntriesQuery>,
) -> ApiResult<Json<PayEntries>> {
    let q = query(entries)?;
    let range = DateRange {
        from: q.from,
        to: q.to,
        period: q.period,
    };
    Ok(Json(PayEntries {
        entries: app
            .engine
            .pay_entries(&actor, &username, range, q.project.map(ProjectId))
            .await?,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimeQuery {
    /// First date, `YYYY-MM-DD`.
    from: Option<String>,
    /// Last date, inclusive.
    to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct TimePerDay {
    /// Per date, person and project.
    days: Vec<TimeRow>,
}

/// A person's active time and tasks per day and project (themselves,
/// admins, their managers).
#[utoipa::path(get, path = "/api/v1/users/{username}/time", tag = "pay",
    params(("username" = String, Path), TimeQuery),
    responses((status = 200, body = TimePerDay), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn user_time(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(username): ApiPath<String>,
    time: QueryResult<TimeQuery>,
) -> ApiResult<Json<TimePerDay>> {
    let q = query(time)?;
    let range = DateRange {
        from: q.from,
        to: q.to,
        period: None,
    };
    Ok(Json(TimePerDay {
        days: app
            .engine
            .time_per_day(&actor, None, Some(&username), range)
            .await?,
    }))
}

/// A project's active time and tasks per day and person (its managers).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/time", tag = "pay",
    params(("project_id" = i64, Path), TimeQuery),
    responses((status = 200, body = TimePerDay), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn project_time(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    time: QueryResult<TimeQuery>,
) -> ApiResult<Json<TimePerDay>> {
    let q = query(time)?;
    let range = DateRange {
        from: q.from,
        to: q.to,
        period: None,
    };
    Ok(Json(TimePerDay {
        days: app
            .engine
            .time_per_day(&actor, Some(ProjectId(project_id)), None, range)
            .await?,
    }))
}

/// Approve a person's week in a project (its managers): stored once with
/// its totals and never changed; work recorded later for that week goes to
/// the next open week. A second approval is a `409`.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/timesheets/{username}/{period_start}/approve",
    tag = "pay",
    params(("project_id" = i64, Path), ("username" = String, Path),
        ("period_start" = String, Path, description = "The period's Monday, YYYY-MM-DD")),
    responses((status = 201, body = TimesheetPeriod), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn approve_period(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath((project_id, username, period_start)): ApiPath<(i64, String, String)>,
) -> ApiResult<(StatusCode, Json<TimesheetPeriod>)> {
    let period = app
        .engine
        .approve_period(&actor, ProjectId(project_id), &username, &period_start)
        .await?;
    Ok((StatusCode::CREATED, Json(period)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayrollQuery {
    /// First work date, `YYYY-MM-DD` (each person's own dates).
    from: String,
    /// Last work date, inclusive.
    to: String,
    /// One project.
    project: Option<i64>,
    /// `json` (the default) or `csv` (also chosen by `Accept: text/csv`).
    format: Option<String>,
}

/// The payroll for a date range (managers: the people of their projects;
/// admins: everyone): per person and currency, hours, tasks, rejected tasks
/// and gross pay rounded once. As CSV (`format=csv` or `Accept: text/csv`):
/// exactly `username,hours,tasks,rejected,gross,currency`.
#[utoipa::path(get, path = "/api/v1/payroll", tag = "pay",
    params(PayrollQuery),
    responses((status = 200, body = Payroll, content_type = "application/json"),
        (status = 200, body = String, content_type = "text/csv"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn payroll(
    State(app): State<App>,
    Caller(actor): Caller,
    headers: HeaderMap,
    payroll: QueryResult<PayrollQuery>,
) -> ApiResult<Response> {
    let q = query(payroll)?;
    let csv = match q.format.as_deref() {
        Some("csv") => true,
        Some("json") => false,
        Some(_) => return Err(ApiError::invalid("format", "must be `json` or `csv`")),
        None => headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv")),
    };
    let payroll = app
        .engine
        .payroll(&actor, &q.from, &q.to, q.project.map(ProjectId))
        .await?;
    if !csv {
        return Ok(Json(payroll).into_response());
    }
    let name = format!("payroll-{}-{}.csv", payroll.from, payroll.to);
    let mut response = payroll_csv(&payroll).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
