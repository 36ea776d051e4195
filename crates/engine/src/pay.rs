//! Time and pay: active time capped by the server, pay rates per project
//! (effective-dated, per work kind and tier, per task or hourly, piece
//! rates per label, rejected work unpaid, a bonus above a gold accuracy),
//! the insert-only pay ledger written after each piece of work, weekly
//! periods in each person's time zone approved by managers, timesheets and
//! payroll. Money is exact ([`Amount`]); a sum is rounded once, to its
//! currency's minor unit, when it is shown.

use crate::access::Actor;
use crate::error::{Error, OrNotFound, Result};
use crate::Engine;
use gloss_store::{
    AnnotationRow, NewPayEntry, NewPayRate, PayEntryFilter, PayEntryRow, PayPeriodRow, PayRateRow,
    QueueCaller,
};
use gloss_types::{
    Amount, AnnotationId, Code, Currency, Project, ProjectId, ProjectRole, Role, TaskId, Timestamp,
    User, UserId,
};
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use utoipa::ToSchema;

/// The CSV header of a payroll.
pub const PAYROLL_CSV_HEADER: &str = "username,hours,tasks,rejected,gross,currency";

/// Milliseconds in an hour.
const HOUR_MS: i64 = 3_600_000;

/// A pay rate as the API gives it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayRate {
    pub id: i64,
    pub project_id: ProjectId,
    /// `annotate` (submits and reworks) or `review` (verdicts).
    pub work: String,
    /// The tier it is for; `None`: every tier (a tier's own rate beats it).
    pub tier: Option<String>,
    /// `per_task` or `hourly` (on active time).
    pub mode: String,
    /// A decimal string, per task or per hour.
    pub rate: String,
    /// ISO 4217.
    pub currency: String,
    /// Piece rates: each region, span or choice carrying the label adds its price.
    pub pieces: BTreeMap<String, String>,
    /// A rejection takes back the work's pay (a rework submitted earns again).
    pub rejected_unpaid: bool,
    /// Percent added to the price when the person's gold accuracy in the
    /// project is at or above `bonus_gold_threshold` at the time of the work.
    pub bonus_percent: Option<String>,
    pub bonus_gold_threshold: Option<f64>,
    /// `YYYY-MM-DD`: prices work done on this date (the worker's) or later.
    pub effective_from: String,
    pub created_at: Timestamp,
    /// Some work was priced with it: it can no longer be deleted.
    pub used: bool,
}

/// A new rate. Amounts are decimal strings (`"0.35"`): a JSON number is refused.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayRateInput {
    /// `annotate` (the default) or `review`.
    #[serde(default)]
    pub work: Option<String>,
    /// A tier (see `GET /api/v1/tiers`); absent: every tier.
    #[serde(default)]
    pub tier: Option<String>,
    /// `per_task` or `hourly`.
    pub mode: String,
    /// A decimal string, 0 or more, at most 6 decimals.
    #[schema(value_type = String)]
    pub rate: Value,
    /// ISO 4217 (`USD`, `EUR`, `JPY`).
    pub currency: String,
    /// Label → decimal string.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub pieces: BTreeMap<String, Value>,
    /// Default `true`.
    #[serde(default)]
    pub rejected_unpaid: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub bonus_percent: Option<Value>,
    /// 0 to 1; needed with `bonus_percent`.
    #[serde(default)]
    pub bonus_gold_threshold: Option<f64>,
    /// `YYYY-MM-DD`; absent: today (the earliest date anywhere on Earth, so
    /// that work anyone does from now on is priced with it).
    #[serde(default)]
    pub effective_from: Option<String>,
}

/// One entry of the pay ledger as the API gives it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayEntry {
    pub id: i64,
    pub username: Option<String>,
    pub project_id: ProjectId,
    pub task_id: Option<TaskId>,
    pub annotation_id: Option<AnnotationId>,
    pub review_id: Option<i64>,
    /// `submit`, `update` (a rework by its annotator), `review` or `reversal`
    /// (a rejection; negative when the rate leaves rejected work unpaid).
    pub kind: String,
    pub active_ms: i64,
    pub tasks: i64,
    pub rejected: i64,
    pub rate_id: Option<i64>,
    /// The exact price, bonus included (a decimal string, up to 6 decimals).
    pub amount: String,
    /// The bonus part of `amount`.
    pub bonus: String,
    /// `None` when no rate priced the work.
    pub currency: Option<String>,
    /// The work's date in the person's time zone.
    pub work_date: String,
    /// The Monday of the week it is paid in (a later open week when its
    /// own was approved already).
    pub period_start: String,
    pub created_at: Timestamp,
}

/// Money in one currency: exact, and rounded to the currency's minor unit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Money {
    /// `""` for work no rate priced.
    pub currency: String,
    /// Rounded once, half away from zero, to the currency's minor unit.
    pub amount: String,
    /// The exact sum of the entries.
    pub exact: String,
}

/// A person's week in one project.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimesheetPeriod {
    pub username: String,
    pub project_id: ProjectId,
    pub project_name: String,
    /// Monday, `YYYY-MM-DD`.
    pub period_start: String,
    /// Sunday.
    pub period_end: String,
    pub active_ms: i64,
    /// Hours to 2 decimals.
    pub hours: String,
    pub tasks: i64,
    pub rejected: i64,
    pub earnings: Vec<Money>,
    pub entries: usize,
    pub approved: bool,
    pub approved_at: Option<Timestamp>,
}

/// A person's timesheet: their periods, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Timesheet {
    pub username: String,
    /// The time zone the periods are in.
    pub time_zone: String,
    pub periods: Vec<TimesheetPeriod>,
}

/// A payroll row: one person in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PayrollRow {
    pub username: String,
    /// Hours to 2 decimals (active time, rounded half away from zero).
    pub hours: String,
    pub active_ms: i64,
    pub tasks: i64,
    pub rejected: i64,
    /// Rounded once to the currency's minor unit.
    pub gross: String,
    /// The exact sum of the entries.
    pub gross_exact: String,
    /// `""` for work no rate priced.
    pub currency: String,
    /// How many ledger entries it adds up.
    pub entries: usize,
}

/// A payroll for a date range.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Payroll {
    pub from: String,
    pub to: String,
    pub project_id: Option<ProjectId>,
    pub rows: Vec<PayrollRow>,
}

/// Active time and tasks of one person in one project on one day.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TimeRow {
    pub date: String,
    pub username: String,
    pub project_id: ProjectId,
    pub active_ms: i64,
    pub hours: String,
    pub tasks: i64,
    pub reviews: i64,
}

/// What kind of work a ledger entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PaidWork {
    Submit,
    /// The annotator's own update; `true` when it reworks a rejection.
    Update(bool),
    Review,
}

/// The work a ledger entry prices: its task, its annotation (`None` before
/// the submit is stored) and the result whose labels piece rates count.
pub(crate) struct PricedItem<'a> {
    pub task: TaskId,
    pub annotation: Option<AnnotationId>,
    pub result: &'a str,
}

/// Seconds from the client → milliseconds, capped at `cap_ms`.
pub(crate) fn capped_active_ms(active_time: Option<f64>, cap_ms: i64) -> Result<Option<i64>> {
    let Some(seconds) = active_time else {
        return Ok(None);
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(Error::invalid(
            "active_time",
            "must be a number of seconds, 0 or more",
        ));
    }
    let ms = (seconds * 1000.0).round().min(i64::MAX as f64 / 2.0) as i64;
    Ok(Some(ms.min(cap_ms.max(0))))
}

/// The work date and its period's Monday (`YYYY-MM-DD`) of work done at
/// `millis` by someone in `time_zone` (an IANA name; unknown names are UTC).
pub fn pay_period_of(time_zone_name: &str, millis: i64) -> (String, String) {
    let date = local_date(&time_zone(time_zone_name), millis);
    (date.to_string(), monday(date).to_string())
}

/// Hours to 2 decimals, half away from zero.
pub fn hours(active_ms: i64) -> String {
    let hundredths = (i128::from(active_ms.max(0)) + 18_000) / 36_000;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

fn parse_date(field: &str, text: &str) -> Result<Date> {
    let bad = || Error::invalid(field, format!("`{text}` is not a date written YYYY-MM-DD"));
    if text.len() != 10 {
        return Err(bad());
    }
    text.parse::<Date>().map_err(|_| bad())
}

fn time_zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// The person's local date at `millis`.
fn local_date(zone: &TimeZone, millis: i64) -> Date {
    jiff::Timestamp::from_millisecond(millis)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone())
        .date()
}

/// The Monday of the date's week.
fn monday(date: Date) -> Date {
    let back = date.weekday().to_monday_zero_offset();
    date.checked_sub(jiff::Span::new().days(i64::from(back)))
        .unwrap_or(date)
}

fn plus_days(date: Date, days: i64) -> Date {
    date.checked_add(jiff::Span::new().days(days))
        .unwrap_or(date)
}

fn decimal(field: &str, value: &Value) -> Result<Amount> {
    match value {
        Value::String(text) => {
            let amount = Amount::parse(text).map_err(|reason| Error::invalid(field, reason))?;
            if amount < Amount::ZERO {
                return Err(Error::invalid(field, "must be 0 or more"));
            }
            Ok(amount)
        }
        Value::Number(_) => Err(Error::invalid(
            field,
            "must be a decimal string such as \"0.35\", not a JSON number (numbers are not exact)",
        )),
        _ => Err(Error::invalid(
            field,
            "must be a decimal string such as \"0.35\"",
        )),
    }
}

fn amount_of(text: &str) -> Result<Amount> {
    Amount::parse(text)
        .map_err(|reason| Error::new(Code::Internal, format!("a stored amount is bad: {reason}")))
}

fn to_rate(row: PayRateRow) -> PayRate {
    PayRate {
        id: row.id,
        project_id: row.project_id,
        work: row.work,
        tier: row.tier,
        mode: row.mode,
        rate: row.rate,
        currency: row.currency,
        pieces: serde_json::from_str(&row.pieces).unwrap_or_default(),
        rejected_unpaid: row.rejected_unpaid,
        bonus_percent: row.bonus_percent,
        bonus_gold_threshold: row.bonus_gold_threshold,
        effective_from: row.effective_from,
        created_at: row.created_at,
        used: row.used,
    }
}

fn to_entry(row: PayEntryRow) -> PayEntry {
    PayEntry {
        id: row.id,
        username: row.username,
        project_id: row.project_id,
        task_id: row.task_id,
        annotation_id: row.annotation_id,
        review_id: row.review_id,
        kind: row.kind,
        active_ms: row.active_ms,
        tasks: row.tasks,
        rejected: row.rejected,
        rate_id: row.rate_id,
        amount: row.amount,
        bonus: row.bonus,
        currency: row.currency,
        work_date: row.work_date,
        period_start: row.period_start,
        created_at: row.created_at,
    }
}

/// Sums per currency: exact, then rounded once.
fn money(sums: &BTreeMap<String, Amount>) -> Vec<Money> {
    sums.iter()
        .map(|(currency, exact)| Money {
            currency: currency.clone(),
            amount: rounded(currency, *exact),
            exact: exact.to_string(),
        })
        .collect()
}

fn rounded(currency: &str, exact: Amount) -> String {
    let decimals = Currency::parse(currency).map_or(2, |c| c.minor_unit());
    exact.to_fixed(decimals)
}

/// How many result items carry each label (regions, spans, choices).
fn label_counts(result: &str) -> HashMap<String, i64> {
    let mut counts = HashMap::new();
    let items: Vec<Value> = serde_json::from_str(result).unwrap_or_default();
    for item in items {
        let Some(value) = item.get("value").and_then(Value::as_object) else {
            continue;
        };
        for (key, labels) in value {
            if !(key.ends_with("labels") || key == "choices" || key == "taxonomy") {
                continue;
            }
            let Some(labels) = labels.as_array() else {
                continue;
            };
            for label in labels {
                match label {
                    Value::String(label) => *counts.entry(label.clone()).or_insert(0) += 1,
                    // A taxonomy's path: its last node.
                    Value::Array(path) => {
                        if let Some(Value::String(label)) = path.last() {
                            *counts.entry(label.clone()).or_insert(0) += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    counts
}

/// Adds an entry's numbers to a running total.
#[derive(Debug, Default, Clone)]
struct Totals {
    active_ms: i64,
    tasks: i64,
    rejected: i64,
    sums: BTreeMap<String, Amount>,
    entries: usize,
}

impl Totals {
    fn add(&mut self, entry: &PayEntryRow) -> Result<()> {
        self.active_ms += entry.active_ms;
        self.tasks += entry.tasks;
        self.rejected += entry.rejected;
        self.entries += 1;
        let currency = entry.currency.clone().unwrap_or_default();
        let sum = self.sums.entry(currency).or_insert(Amount::ZERO);
        *sum = sum
            .checked_add(amount_of(&entry.amount)?)
            .ok_or_else(|| Error::new(Code::Internal, "a pay sum is too large"))?;
        Ok(())
    }
}

impl Engine {
    /// The project's pay rates (its managers).
    pub async fn pay_rates(&self, actor: &Actor, project: ProjectId) -> Result<Vec<PayRate>> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Manager, "see the pay rates")
            .await?;
        Ok(self
            .store
            .pay_rates(project.id)
            .await?
            .into_iter()
            .map(to_rate)
            .collect())
    }

    /// Adds a rate (its managers). Rates are never changed: a change is a
    /// new rate from its date.
    pub async fn add_pay_rate(
        &self,
        actor: &Actor,
        project: ProjectId,
        input: PayRateInput,
    ) -> Result<PayRate> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Manager, "set pay rates")
            .await?;
        let work = input.work.unwrap_or_else(|| "annotate".to_owned());
        if !matches!(work.as_str(), "annotate" | "review") {
            return Err(Error::invalid("work", "must be `annotate` or `review`"));
        }
        if !matches!(input.mode.as_str(), "per_task" | "hourly") {
            return Err(Error::invalid("mode", "must be `per_task` or `hourly`"));
        }
        let rate = decimal("rate", &input.rate)?;
        let currency = Currency::parse(&input.currency)
            .map_err(|reason| Error::invalid("currency", reason))?;
        let mut pieces = BTreeMap::new();
        for (label, value) in &input.pieces {
            if label.is_empty() {
                return Err(Error::invalid("pieces", "a label must not be empty"));
            }
            let price = decimal(&format!("pieces.{label}"), value)?;
            pieces.insert(label.clone(), price.to_string());
        }
        let bonus_percent = match &input.bonus_percent {
            Some(Value::Null) | None => None,
            Some(value) => Some(decimal("bonus_percent", value)?.to_string()),
        };
        if let Some(threshold) = input.bonus_gold_threshold {
            if !threshold.is_finite() || !(0.0..=1.0).contains(&threshold) {
                return Err(Error::invalid(
                    "bonus_gold_threshold",
                    "must be a number from 0 to 1",
                ));
            }
        }
        if bonus_percent.is_some() != input.bonus_gold_threshold.is_some() {
            return Err(Error::invalid(
                "bonus_gold_threshold",
                "a bonus needs both `bonus_percent` and `bonus_gold_threshold`",
            ));
        }
        let tier = match input.tier.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(tier) => {
                if !self.store.tiers().await?.iter().any(|t| t == tier) {
                    return Err(Error::invalid(
                        "tier",
                        format!("`{tier}` is not a tier (see GET /api/v1/tiers)"),
                    ));
                }
                Some(tier.to_owned())
            }
        };
        let effective_from = match &input.effective_from {
            Some(text) => parse_date("effective_from", text)?,
            // The earliest date anywhere on Earth (UTC−12).
            None => local_date(
                &TimeZone::fixed(jiff::tz::offset(-12)),
                Timestamp::now().millis(),
            ),
        };
        let new = NewPayRate {
            project_id: project.id,
            work,
            tier,
            mode: input.mode,
            rate: rate.to_string(),
            currency: currency.as_str().to_owned(),
            pieces: serde_json::to_string(&pieces).unwrap_or_else(|_| "{}".to_owned()),
            rejected_unpaid: input.rejected_unpaid.unwrap_or(true),
            bonus_percent,
            bonus_gold_threshold: input.bonus_gold_threshold,
            effective_from: effective_from.to_string(),
            created_by: actor.user().map(|user| user.id),
        };
        Ok(to_rate(self.store.add_pay_rate(&new).await?))
    }

    /// Deletes a rate no work was priced with (its managers); 409 otherwise.
    pub async fn delete_pay_rate(
        &self,
        actor: &Actor,
        project: ProjectId,
        rate: i64,
    ) -> Result<()> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Manager, "delete pay rates")
            .await?;
        self.store
            .delete_pay_rate(project.id, rate)
            .await
            .or_not_found("pay rate")
    }

    /// The rate that prices `work` done by someone of `tier` on `date`.
    async fn rate_for(
        &self,
        project: ProjectId,
        work: &str,
        tier: Option<&str>,
        date: &str,
    ) -> Result<Option<PayRateRow>> {
        let rates = self.store.pay_rates(project).await?;
        let latest = |for_tier: bool| {
            rates
                .iter()
                .filter(|r| r.work == work && r.effective_from.as_str() <= date)
                .filter(|r| match (&r.tier, for_tier) {
                    (Some(rate_tier), true) => Some(rate_tier.as_str()) == tier,
                    (None, false) => true,
                    _ => false,
                })
                .max_by(|a, b| (&a.effective_from, a.id).cmp(&(&b.effective_from, b.id)))
                .cloned()
        };
        Ok(latest(true).or_else(|| latest(false)))
    }

    /// The first period at or after `date`'s that is not approved for the
    /// person in the project.
    async fn open_period(&self, project: ProjectId, user: UserId, date: Date) -> Result<Date> {
        let approved: BTreeSet<String> = self
            .store
            .pay_periods(user, Some(project))
            .await?
            .into_iter()
            .map(|period| period.period_start)
            .collect();
        let mut start = monday(date);
        while approved.contains(&start.to_string()) {
            start = plus_days(start, 7);
        }
        Ok(start)
    }

    /// Writes the ledger entries of a piece of work just stored; a failure
    /// is logged and never fails the work.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record_pay(
        &self,
        project: &Project,
        user: &User,
        work: PaidWork,
        annotation: &AnnotationRow,
        review_id: Option<i64>,
        active_ms: Option<i64>,
        at: i64,
    ) {
        if let Err(err) = self
            .write_pay(project, user, work, annotation, review_id, active_ms, at)
            .await
        {
            tracing::error!(project = project.id.0, user = user.id.0, error = %err.message,
                "the pay ledger entry was not written");
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_pay(
        &self,
        project: &Project,
        user: &User,
        work: PaidWork,
        annotation: &AnnotationRow,
        review_id: Option<i64>,
        active_ms: Option<i64>,
        at: i64,
    ) -> Result<()> {
        let rate = self.rate_of(project, user, work, at).await?;
        let item = PricedItem {
            task: annotation.task_id,
            annotation: Some(annotation.id),
            result: &annotation.result,
        };
        let entry = self
            .price_work(
                project, user, work, item, rate, true, review_id, active_ms, at,
            )
            .await?;
        self.store.add_pay_entries(&[entry]).await?;
        Ok(())
    }

    /// The ledger entry of a submit, or of an annotator's update of their
    /// own annotation, priced before the work is stored, for the store to
    /// write in the work's own transaction; `None` (logged when pricing
    /// failed) leaves it to [`Engine::record_pay`] after the work is stored.
    /// A rate with a gold bonus is priced after: the bonus counts the
    /// accuracy that this very work's gold score may change. `caller`, when
    /// known, says whether the project has rates and the person approved
    /// weeks; what it does not say is read.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn price_ahead(
        &self,
        project: &Project,
        user: &User,
        caller: Option<&QueueCaller>,
        work: PaidWork,
        item: PricedItem<'_>,
        active_ms: Option<i64>,
        at: i64,
    ) -> Option<NewPayEntry> {
        let priced = async {
            // Most projects have no rates, and most weeks are open: the
            // read with the project said which, so neither needs a read here.
            let rate = if caller.is_none_or(|c| c.has_pay_rates) {
                self.rate_of(project, user, work, at).await?
            } else {
                None
            };
            if rate
                .as_ref()
                .is_some_and(|r| r.bonus_percent.is_some() && r.bonus_gold_threshold.is_some())
            {
                return Ok(None);
            }
            let approved_weeks = caller.is_none_or(|c| c.has_approved_weeks);
            self.price_work(
                project,
                user,
                work,
                item,
                rate,
                approved_weeks,
                None,
                active_ms,
                at,
            )
            .await
            .map(Some)
        }
        .await;
        priced.unwrap_or_else(|err: Error| {
            tracing::warn!(project = project.id.0, user = user.id.0, error = %err.message,
                "pricing work ahead failed; it is priced after it is stored");
            None
        })
    }

    /// The rate that prices this work by this person on the day it is done.
    async fn rate_of(
        &self,
        project: &Project,
        user: &User,
        work: PaidWork,
        at: i64,
    ) -> Result<Option<PayRateRow>> {
        let date = local_date(&time_zone(&user.time_zone), at).to_string();
        let kind = match work {
            PaidWork::Review => "review",
            _ => "annotate",
        };
        self.rate_for(project.id, kind, user.tier.as_deref(), &date)
            .await
    }

    /// The ledger entry of a piece of work at `rate`, in the first open week
    /// (its own week when `approved_weeks` says the person has none approved
    /// in the project).
    #[allow(clippy::too_many_arguments)]
    async fn price_work(
        &self,
        project: &Project,
        user: &User,
        work: PaidWork,
        item: PricedItem<'_>,
        rate: Option<PayRateRow>,
        approved_weeks: bool,
        review_id: Option<i64>,
        active_ms: Option<i64>,
        at: i64,
    ) -> Result<NewPayEntry> {
        let zone = time_zone(&user.time_zone);
        let date = local_date(&zone, at);
        let date_text = date.to_string();
        let active_ms = active_ms.unwrap_or(0);
        let overflow = || Error::new(Code::Internal, "a price is too large");
        let (amount, bonus) = match &rate {
            None => (Amount::ZERO, Amount::ZERO),
            Some(rate) => {
                let per = amount_of(&rate.rate)?;
                // A rework of rejected work earns the task's price again
                // when the rejection took it back.
                let priced_again = match work {
                    PaidWork::Submit => true,
                    PaidWork::Update(rework) => rework && rate.rejected_unpaid,
                    PaidWork::Review => false,
                };
                let mut base = match (rate.mode.as_str(), work) {
                    ("hourly", _) => per.mul_div(active_ms, HOUR_MS).ok_or_else(overflow)?,
                    (_, PaidWork::Review) => per,
                    _ if priced_again => per,
                    _ => Amount::ZERO,
                };
                if priced_again {
                    let pieces: BTreeMap<String, String> =
                        serde_json::from_str(&rate.pieces).unwrap_or_default();
                    if !pieces.is_empty() {
                        for (label, count) in label_counts(item.result) {
                            if let Some(price) = pieces.get(&label) {
                                let piece =
                                    amount_of(price)?.mul_div(count, 1).ok_or_else(overflow)?;
                                base = base.checked_add(piece).ok_or_else(overflow)?;
                            }
                        }
                    }
                }
                let bonus = match (&rate.bonus_percent, rate.bonus_gold_threshold) {
                    (Some(percent), Some(threshold)) => {
                        let (scored, accuracy) =
                            self.store.gold_accuracy(project.id, user.id).await?;
                        if scored > 0 && accuracy >= threshold {
                            base.percent(amount_of(percent)?).ok_or_else(overflow)?
                        } else {
                            Amount::ZERO
                        }
                    }
                    _ => Amount::ZERO,
                };
                (base.checked_add(bonus).ok_or_else(overflow)?, bonus)
            }
        };
        let period = if approved_weeks {
            self.open_period(project.id, user.id, date).await?
        } else {
            monday(date)
        };
        let entry = NewPayEntry {
            id: 0,
            user_id: user.id,
            username: None,
            project_id: project.id,
            task_id: Some(item.task),
            annotation_id: item.annotation,
            review_id,
            kind: match work {
                PaidWork::Submit => "submit",
                PaidWork::Update(_) => "update",
                PaidWork::Review => "review",
            }
            .to_owned(),
            active_ms,
            tasks: i64::from(work == PaidWork::Submit),
            rejected: 0,
            rate_id: rate.as_ref().map(|r| r.id),
            amount: amount.to_string(),
            bonus: bonus.to_string(),
            currency: rate.as_ref().map(|r| r.currency.clone()),
            work_date: date_text,
            period_start: period.to_string(),
            created_at: Timestamp(at),
        };
        Ok(entry)
    }

    /// A rejection of an annotation: a `reversal` entry for its annotator,
    /// taking back the annotation's net pay so far when the rate that priced
    /// it leaves rejected work unpaid (0 otherwise), dated now.
    pub(crate) async fn record_rejection(
        &self,
        project: &Project,
        annotation: &AnnotationRow,
        review_id: i64,
        at: i64,
    ) {
        let result = async {
            let Some(annotator) = annotation.completed_by else {
                return Ok(());
            };
            let user = self.store.user(annotator).await?;
            let entries = self
                .store
                .pay_entries(&PayEntryFilter {
                    user: Some(annotator),
                    annotation: Some(annotation.id),
                    ..PayEntryFilter::default()
                })
                .await?;
            let mut net: BTreeMap<String, Amount> = BTreeMap::new();
            let mut rate_id = None;
            for entry in entries.iter().filter(|e| e.kind != "review") {
                if entry.kind != "reversal" && entry.rate_id.is_some() {
                    rate_id = entry.rate_id;
                }
                if let Some(currency) = &entry.currency {
                    let sum = net.entry(currency.clone()).or_insert(Amount::ZERO);
                    *sum = sum
                        .checked_add(amount_of(&entry.amount)?)
                        .ok_or_else(|| Error::new(Code::Internal, "a pay sum is too large"))?;
                }
            }
            let unpaid = match rate_id {
                Some(id) => self.store.pay_rate(id).await?.rejected_unpaid,
                None => false,
            };
            let zone = time_zone(&user.time_zone);
            let date = local_date(&zone, at);
            let period = self.open_period(project.id, user.id, date).await?;
            let base = NewPayEntry {
                id: 0,
                user_id: user.id,
                username: None,
                project_id: project.id,
                task_id: Some(annotation.task_id),
                annotation_id: Some(annotation.id),
                review_id: Some(review_id),
                kind: "reversal".to_owned(),
                active_ms: 0,
                tasks: 0,
                rejected: 1,
                rate_id,
                amount: "0".to_owned(),
                bonus: "0".to_owned(),
                currency: None,
                work_date: date.to_string(),
                period_start: period.to_string(),
                created_at: Timestamp(at),
            };
            let mut rows: Vec<NewPayEntry> = Vec::new();
            if unpaid {
                // One reversal per currency the annotation was paid in (a
                // rate may have changed currency); the first counts the rejection.
                for (currency, amount) in net.iter().filter(|(_, a)| **a != Amount::ZERO) {
                    rows.push(NewPayEntry {
                        amount: amount.checked_neg().unwrap_or(Amount::ZERO).to_string(),
                        currency: Some(currency.clone()),
                        rejected: i64::from(rows.is_empty()),
                        ..base.clone()
                    });
                }
            }
            if rows.is_empty() {
                let currency = entries.iter().rev().find_map(|e| e.currency.clone());
                rows.push(NewPayEntry { currency, ..base });
            }
            self.store.add_pay_entries(&rows).await?;
            Ok::<(), Error>(())
        }
        .await;
        if let Err(err) = result {
            tracing::error!(project = project.id.0, annotation = annotation.id.0, error = %err.message,
                "the pay reversal was not written");
        }
    }

    /// The person named and the projects whose pay the caller may see of
    /// theirs (`None`: all of them): themselves, admins, and their managers
    /// (the projects they manage).
    async fn pay_subject(
        &self,
        actor: &Actor,
        username: &str,
    ) -> Result<(User, Option<Vec<ProjectId>>)> {
        let person = self
            .store
            .user_by_username(username)
            .await
            .or_not_found("user")?;
        match actor {
            Actor::Operator => Ok((person, None)),
            Actor::User(me) if me.role == Role::Admin || me.id == person.id => Ok((person, None)),
            Actor::User(me) if me.role == Role::Manager => {
                if !self.store.manages_member(me.id, person.id).await? {
                    return Err(Error::not_found("user"));
                }
                Ok((person, Some(self.store.managed_projects(me.id).await?)))
            }
            Actor::User(_) => Err(Error::not_found("user")),
        }
    }

    /// The projects whose pay the caller sees for everyone (`None`: all).
    async fn pay_projects(
        &self,
        actor: &Actor,
        project: Option<ProjectId>,
    ) -> Result<Option<Vec<ProjectId>>> {
        if let Some(project) = project {
            let project = self
                .project_with_role(actor, project, ProjectRole::Manager, "see its payroll")
                .await?;
            return Ok(Some(vec![project.id]));
        }
        match actor {
            Actor::Operator => Ok(None),
            Actor::User(me) if me.role == Role::Admin => Ok(None),
            Actor::User(me) if me.role == Role::Manager => {
                Ok(Some(self.store.managed_projects(me.id).await?))
            }
            Actor::User(_) => Err(Error::forbidden(
                "only managers and admins may see payrolls; your own pay is on your timesheet",
            )),
        }
    }

    /// A person's ledger entries (themselves, their managers, admins):
    /// work dates `from`..=`to`, or one period.
    pub async fn pay_entries(
        &self,
        actor: &Actor,
        username: &str,
        range: DateRange,
        project: Option<ProjectId>,
    ) -> Result<Vec<PayEntry>> {
        let (person, visible) = self.pay_subject(actor, username).await?;
        let projects = narrow(visible, project);
        let mut filter = PayEntryFilter {
            user: Some(person.id),
            projects,
            ..PayEntryFilter::default()
        };
        range.apply(&mut filter)?;
        Ok(self
            .store
            .pay_entries(&filter)
            .await?
            .into_iter()
            .map(to_entry)
            .collect())
    }

    /// A person's timesheet: per project and week, newest first.
    pub async fn timesheet(&self, actor: &Actor, username: &str) -> Result<Timesheet> {
        let (person, visible) = self.pay_subject(actor, username).await?;
        let entries = self
            .store
            .pay_entries(&PayEntryFilter {
                user: Some(person.id),
                projects: visible.clone(),
                ..PayEntryFilter::default()
            })
            .await?;
        let mut weeks: BTreeMap<(String, ProjectId), Totals> = BTreeMap::new();
        for entry in &entries {
            weeks
                .entry((entry.period_start.clone(), entry.project_id))
                .or_default()
                .add(entry)?;
        }
        let approvals: HashMap<(String, ProjectId), PayPeriodRow> = self
            .store
            .pay_periods(person.id, None)
            .await?
            .into_iter()
            .filter(|p| visible.as_ref().is_none_or(|v| v.contains(&p.project_id)))
            .map(|p| ((p.period_start.clone(), p.project_id), p))
            .collect();
        for key in approvals.keys() {
            weeks.entry(key.clone()).or_default();
        }
        let mut names: HashMap<ProjectId, String> = HashMap::new();
        let mut periods = Vec::new();
        for ((start, project), totals) in weeks.into_iter().rev() {
            if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(project) {
                let name = match self.store.project(project).await {
                    Ok(p) => p.name,
                    Err(_) => format!("project {}", project.0),
                };
                slot.insert(name);
            }
            let approval = approvals.get(&(start.clone(), project));
            let end = parse_date("period_start", &start)
                .map(|d| plus_days(d, 6).to_string())
                .unwrap_or_default();
            periods.push(TimesheetPeriod {
                username: person.username.clone(),
                project_id: project,
                project_name: names[&project].clone(),
                period_start: start,
                period_end: end,
                active_ms: totals.active_ms,
                hours: hours(totals.active_ms),
                tasks: totals.tasks,
                rejected: totals.rejected,
                earnings: money(&totals.sums),
                entries: totals.entries,
                approved: approval.is_some(),
                approved_at: approval.map(|a| a.approved_at),
            });
        }
        Ok(Timesheet {
            username: person.username.clone(),
            time_zone: if TimeZone::get(&person.time_zone).is_ok() {
                person.time_zone.clone()
            } else {
                "UTC".to_owned()
            },
            periods,
        })
    }

    /// Approves a person's week in a project (its managers): stored once
    /// with its totals; later work of that week goes to the next open week.
    pub async fn approve_period(
        &self,
        actor: &Actor,
        project: ProjectId,
        username: &str,
        period_start: &str,
    ) -> Result<TimesheetPeriod> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Manager, "approve timesheets")
            .await?;
        let person = self
            .store
            .user_by_username(username)
            .await
            .or_not_found("user")?;
        let start = parse_date("period_start", period_start)?;
        if start.weekday() != Weekday::Monday {
            return Err(Error::invalid(
                "period_start",
                format!("`{period_start}` is not a Monday: periods run Monday to Sunday"),
            ));
        }
        let today = local_date(&time_zone(&person.time_zone), Timestamp::now().millis());
        if start > today {
            return Err(Error::invalid(
                "period_start",
                "this period has not started yet",
            ));
        }
        let start_text = start.to_string();
        let entries = self
            .store
            .pay_entries(&PayEntryFilter {
                user: Some(person.id),
                projects: Some(vec![project.id]),
                from_period: Some(start_text.clone()),
                to_period: Some(start_text.clone()),
                ..PayEntryFilter::default()
            })
            .await?;
        let mut totals = Totals::default();
        for entry in &entries {
            totals.add(entry)?;
        }
        let sums: BTreeMap<String, String> = totals
            .sums
            .iter()
            .map(|(currency, amount)| (currency.clone(), amount.to_string()))
            .collect();
        let row = PayPeriodRow {
            project_id: project.id,
            user_id: person.id,
            period_start: start_text.clone(),
            active_ms: totals.active_ms,
            tasks: totals.tasks,
            rejected: totals.rejected,
            totals: serde_json::to_string(&sums).unwrap_or_else(|_| "{}".to_owned()),
            approved_by: actor.user().map(|user| user.id),
            approved_at: Timestamp::now(),
        };
        match self
            .store
            .approve_pay_period(&row, entries.len() as i64)
            .await
        {
            Ok(()) => {}
            Err(gloss_store::Error::Conflict(message)) if message.contains("meanwhile") => {
                return Err(Error::new(Code::Conflict, message))
            }
            Err(gloss_store::Error::Conflict(_)) => {
                return Err(Error::new(
                    Code::Conflict,
                    format!(
                        "{username}'s week of {start_text} in this project is approved already; \
                         approved periods never change (corrections go to the next open week)"
                    ),
                ))
            }
            Err(err) => return Err(err.into()),
        }
        Ok(TimesheetPeriod {
            username: person.username,
            project_id: project.id,
            project_name: project.name,
            period_start: start_text,
            period_end: plus_days(start, 6).to_string(),
            active_ms: totals.active_ms,
            hours: hours(totals.active_ms),
            tasks: totals.tasks,
            rejected: totals.rejected,
            earnings: money(&totals.sums),
            entries: totals.entries,
            approved: true,
            approved_at: Some(row.approved_at),
        })
    }

    /// The payroll for work dates `from`..=`to` (each person's own dates):
    /// per person and currency (managers: their projects; admins: all).
    pub async fn payroll(
        &self,
        actor: &Actor,
        from: &str,
        to: &str,
        project: Option<ProjectId>,
    ) -> Result<Payroll> {
        let from_date = parse_date("from", from)?;
        let to_date = parse_date("to", to)?;
        if to_date < from_date {
            return Err(Error::invalid("to", "must not be before `from`"));
        }
        let projects = self.pay_projects(actor, project).await?;
        let entries = self
            .store
            .pay_entries(&PayEntryFilter {
                projects,
                from_date: Some(from_date.to_string()),
                to_date: Some(to_date.to_string()),
                ..PayEntryFilter::default()
            })
            .await?;
        let mut people: BTreeMap<(String, String), Totals> = BTreeMap::new();
        for entry in &entries {
            let username = entry
                .username
                .clone()
                .unwrap_or_else(|| format!("user {}", entry.user_id.0));
            let currency = entry.currency.clone().unwrap_or_default();
            people.entry((username, currency)).or_default().add(entry)?;
        }
        let rows = people
            .into_iter()
            .map(|((username, currency), totals)| {
                let exact = totals.sums.get(&currency).copied().unwrap_or_default();
                PayrollRow {
                    username,
                    hours: hours(totals.active_ms),
                    active_ms: totals.active_ms,
                    tasks: totals.tasks,
                    rejected: totals.rejected,
                    gross: rounded(&currency, exact),
                    gross_exact: exact.to_string(),
                    currency,
                    entries: totals.entries,
                }
            })
            .collect();
        Ok(Payroll {
            from: from_date.to_string(),
            to: to_date.to_string(),
            project_id: project,
            rows,
        })
    }

    /// Active time and tasks per day, person and project: of a project
    /// (its managers), or of a person (themselves, their managers, admins).
    pub async fn time_per_day(
        &self,
        actor: &Actor,
        project: Option<ProjectId>,
        username: Option<&str>,
        range: DateRange,
    ) -> Result<Vec<TimeRow>> {
        let mut filter = PayEntryFilter::default();
        if let Some(username) = username {
            let (person, visible) = self.pay_subject(actor, username).await?;
            filter.user = Some(person.id);
            filter.projects = visible;
        }
        if let Some(project) = project {
            let project = self
                .project_with_role(actor, project, ProjectRole::Manager, "see its time")
                .await?;
            filter.projects = Some(vec![project.id]);
        }
        range.apply(&mut filter)?;
        let entries = self.store.pay_entries(&filter).await?;
        let mut days: BTreeMap<(String, String, ProjectId), (i64, i64, i64)> = BTreeMap::new();
        for entry in &entries {
            let username = entry
                .username
                .clone()
                .unwrap_or_else(|| format!("user {}", entry.user_id.0));
            let day = days
                .entry((entry.work_date.clone(), username, entry.project_id))
                .or_default();
            day.0 += entry.active_ms;
            day.1 += entry.tasks;
            day.2 += i64::from(entry.kind == "review");
        }
        Ok(days
            .into_iter()
            .map(
                |((date, username, project_id), (active_ms, tasks, reviews))| TimeRow {
                    date,
                    username,
                    project_id,
                    active_ms,
                    hours: hours(active_ms),
                    tasks,
                    reviews,
                },
            )
            .collect())
    }
}

/// Which entries: work dates, or one period (its Monday).
#[derive(Debug, Clone, Default)]
pub struct DateRange {
    pub from: Option<String>,
    pub to: Option<String>,
    pub period: Option<String>,
}

impl DateRange {
    fn apply(&self, filter: &mut PayEntryFilter) -> Result<()> {
        if let Some(from) = &self.from {
            filter.from_date = Some(parse_date("from", from)?.to_string());
        }
        if let Some(to) = &self.to {
            filter.to_date = Some(parse_date("to", to)?.to_string());
        }
        if let Some(period) = &self.period {
            let start = parse_date("period", period)?.to_string();
            filter.from_period = Some(start.clone());
            filter.to_period = Some(start);
        }
        Ok(())
    }
}

fn narrow(visible: Option<Vec<ProjectId>>, project: Option<ProjectId>) -> Option<Vec<ProjectId>> {
    match (visible, project) {
        (None, None) => None,
        (None, Some(project)) => Some(vec![project]),
        (Some(visible), None) => Some(visible),
        (Some(visible), Some(project)) => {
            Some(visible.into_iter().filter(|p| *p == project).collect())
        }
    }
}

/// The payroll as CSV: exactly [`PAYROLL_CSV_HEADER`], one row per person
/// and currency.
pub fn payroll_csv(payroll: &Payroll) -> String {
    let mut out = String::from(PAYROLL_CSV_HEADER);
    out.push('\n');
    for row in &payroll.rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            csv_field(&row.username),
            row.hours,
            row.tasks,
            row.rejected,
            row.gross,
            row.currency
        ));
    }
    out
}

/// A CSV field, quoted when needed; a leading `=`, `+`, `-` or `@` is
/// prefixed with `'` so that spreadsheets never run it as a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_in_time_zones() {
        // 02:00 UTC on Monday 2026-03-02 is Sunday evening in New York.
        let at = jiff::Timestamp::from_second(1_772_416_800)
            .unwrap()
            .as_millisecond();
        let ny = time_zone("America/New_York");
        assert_eq!(local_date(&ny, at).to_string(), "2026-03-01");
        assert_eq!(monday(local_date(&ny, at)).to_string(), "2026-02-23");
        assert_eq!(
            monday(local_date(&TimeZone::UTC, at)).to_string(),
            "2026-03-02"
        );
        assert_eq!(time_zone("Not/AZone"), TimeZone::UTC);
    }

    #[test]
    fn hours_and_labels() {
        assert_eq!(hours(0), "0.00");
        assert_eq!(hours(18_000), "0.01");
        assert_eq!(hours(17_999), "0.00");
        assert_eq!(hours(5_400_000), "1.50");
        let counts = label_counts(
            r#"[{"value":{"rectanglelabels":["Car"]}},{"value":{"rectanglelabels":["Car","Bus"]}},{"value":{"choices":["Bus"]}}]"#,
        );
        assert_eq!(counts["Car"], 2);
        assert_eq!(counts["Bus"], 2);
        assert_eq!(capped_active_ms(Some(10_000.0), 1500).unwrap(), Some(1500));
        assert!(capped_active_ms(Some(-1.0), 1500).is_err());
        assert!(capped_active_ms(Some(f64::NAN), 1500).is_err());
    }

    #[test]
    fn csv_is_safe() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
    }
}
