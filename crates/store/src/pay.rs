//! Pay: rates per project (`pay_rates`, never edited), the insert-only pay
//! ledger (`pay_entries`: one row per piece of work and per reversal) and
//! approved periods (`pay_periods`). Triggers in the database refuse any
//! change or deletion of entries and approvals, and an entry into an
//! approved period. Amounts are exact decimals kept as text; the engine
//! prices and adds them up. SQLite finds a person's entries through
//! `pay_person_index` rather than an index (see `person_index.rs`).

use crate::person_index::person_entry_ids;
use crate::queue_sql::Param;
use crate::tasks::Columns;
use crate::{Backend, Error, Result, Store};
use gloss_types::{AnnotationId, ProjectId, TaskId, Timestamp, UserId};

/// A stored pay rate.
#[derive(Debug, Clone, PartialEq)]
pub struct PayRateRow {
    pub id: i64,
    pub project_id: ProjectId,
    /// `annotate` or `review`.
    pub work: String,
    pub tier: Option<String>,
    /// `per_task` or `hourly`.
    pub mode: String,
    pub rate: String,
    pub currency: String,
    /// A JSON object of label → decimal text.
    pub pieces: String,
    pub rejected_unpaid: bool,
    pub bonus_percent: Option<String>,
    pub bonus_gold_threshold: Option<f64>,
    /// `YYYY-MM-DD`.
    pub effective_from: String,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    /// Whether some pay entry was priced with it (then it stays).
    pub used: bool,
}

/// A rate to add (its fields as [`PayRateRow`]'s).
#[derive(Debug, Clone)]
pub struct NewPayRate {
    pub project_id: ProjectId,
    pub work: String,
    pub tier: Option<String>,
    pub mode: String,
    pub rate: String,
    pub currency: String,
    pub pieces: String,
    pub rejected_unpaid: bool,
    pub bonus_percent: Option<String>,
    pub bonus_gold_threshold: Option<f64>,
    pub effective_from: String,
    pub created_by: Option<UserId>,
}

/// One row of the pay ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct PayEntryRow {
    pub id: i64,
    pub user_id: UserId,
    pub username: Option<String>,
    pub project_id: ProjectId,
    pub task_id: Option<TaskId>,
    pub annotation_id: Option<AnnotationId>,
    pub review_id: Option<i64>,
    /// `submit`, `update`, `review` or `reversal`.
    pub kind: String,
    pub active_ms: i64,
    pub tasks: i64,
    pub rejected: i64,
    pub rate_id: Option<i64>,
    pub amount: String,
    pub bonus: String,
    pub currency: Option<String>,
    pub work_date: String,
    pub period_start: String,
    pub created_at: Timestamp,
}

/// A ledger row to insert (`id` and `username` are ignored).
pub type NewPayEntry = PayEntryRow;

/// Which entries to read: each `Some` narrows.
#[derive(Debug, Clone, Default)]
pub struct PayEntryFilter {
    pub user: Option<UserId>,
    /// Only these projects (`Some(vec![])`: none).
    pub projects: Option<Vec<ProjectId>>,
    /// Work dates, inclusive (`YYYY-MM-DD`).
    pub from_date: Option<String>,
    pub to_date: Option<String>,
    /// Periods (their Mondays), inclusive.
    pub from_period: Option<String>,
    pub to_period: Option<String>,
    pub annotation: Option<AnnotationId>,
}

/// An approved period: a person's week in a project, with its totals.
#[derive(Debug, Clone, PartialEq)]
pub struct PayPeriodRow {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub period_start: String,
    pub active_ms: i64,
    pub tasks: i64,
    pub rejected: i64,
    /// A JSON object of currency → decimal text.
    pub totals: String,
    pub approved_by: Option<UserId>,
    pub approved_at: Timestamp,
}

const RATE_COLUMNS: &str = "r.id, r.project_id, r.work, r.tier, r.mode, r.rate, r.currency, \
     r.pieces, r.rejected_unpaid, r.bonus_percent, r.bonus_gold_threshold, r.effective_from, \
     r.created_by, r.created_at, \
     CASE WHEN EXISTS (SELECT 1 FROM pay_entries e WHERE e.rate_id = r.id) THEN 1 ELSE 0 END AS used";

fn rate_row(row: &dyn Columns) -> Result<PayRateRow> {
    Ok(PayRateRow {
        id: row.int("id")?,
        project_id: ProjectId(row.int("project_id")?),
        work: row.text("work")?,
        tier: row.optional_text("tier")?,
        mode: row.text("mode")?,
        rate: row.text("rate")?,
        currency: row.text("currency")?,
        pieces: row.text("pieces")?,
        rejected_unpaid: row.int("rejected_unpaid")? != 0,
        bonus_percent: row.optional_text("bonus_percent")?,
        bonus_gold_threshold: row.optional_float("bonus_gold_threshold")?,
        effective_from: row.text("effective_from")?,
        created_by: row.optional_int("created_by")?.map(UserId),
        created_at: Timestamp(row.int("created_at")?),
        used: row.int("used")? != 0,
    })
}

const ENTRY_COLUMNS: &str = "e.id, e.user_id, u.username, e.project_id, e.task_id, \
     e.annotation_id, e.review_id, e.kind, e.active_ms, e.tasks, e.rejected, e.rate_id, e.amount, \
     e.bonus, e.currency, e.work_date, e.period_start, e.created_at";

fn entry_row(row: &dyn Columns) -> Result<PayEntryRow> {
    Ok(PayEntryRow {
        id: row.int("id")?,
        user_id: UserId(row.int("user_id")?),
        username: row.optional_text("username")?,
        project_id: ProjectId(row.int("project_id")?),
        task_id: row.optional_int("task_id")?.map(TaskId),
        annotation_id: row.optional_int("annotation_id")?.map(AnnotationId),
        review_id: row.optional_int("review_id")?,
        kind: row.text("kind")?,
        active_ms: row.int("active_ms")?,
        tasks: row.int("tasks")?,
        rejected: row.int("rejected")?,
        rate_id: row.optional_int("rate_id")?,
        amount: row.text("amount")?,
        bonus: row.text("bonus")?,
        currency: row.optional_text("currency")?,
        work_date: row.text("work_date")?,
        period_start: row.text("period_start")?,
        created_at: Timestamp(row.int("created_at")?),
    })
}

const PERIOD_COLUMNS: &str = "project_id, user_id, period_start, active_ms, tasks, rejected, \
     totals, approved_by, approved_at";

fn period_row(row: &dyn Columns) -> Result<PayPeriodRow> {
    Ok(PayPeriodRow {
        project_id: ProjectId(row.int("project_id")?),
        user_id: UserId(row.int("user_id")?),
        period_start: row.text("period_start")?,
        active_ms: row.int("active_ms")?,
        tasks: row.int("tasks")?,
        rejected: row.int("rejected")?,
        totals: row.text("totals")?,
        approved_by: row.optional_int("approved_by")?.map(UserId),
        approved_at: Timestamp(row.int("approved_at")?),
    })
}

/// A trigger's refusal, told apart from other database errors.
fn refused(err: sqlx::Error) -> Error {
    let text = err.to_string();
    if text.contains("pay period is approved") {
        Error::Conflict("this pay period is approved".to_owned())
    } else {
        Error::from(err)
    }
}

/// The columns a ledger entry is written with, in the order of its
/// parameters ($1 to $16), here and in a submit's own transaction: a macro,
/// so that each statement is one string made at compile time.
macro_rules! pay_entry_columns {
    () => {
        "user_id, project_id, task_id, annotation_id, review_id, kind, active_ms, tasks, \
         rejected, rate_id, amount, bonus, currency, work_date, period_start, created_at"
    };
}
pub(crate) use pay_entry_columns;

impl Store {
    /// Runs one statement as it is, outside any check of Gloss's: for
    /// tests of what the database itself refuses (the ledger's triggers).
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::raw_sql(sql).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// When the annotator's reservation of the task began, if they hold one.
    pub async fn reservation_started(&self, task: TaskId, user: UserId) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT created_at FROM reservations WHERE task_id = $1 AND user_id = $2",
        )
        .bind(task.0)
        .bind(user.0)
        .fetch_optional(&self.readers)
        .await?)
    }

    /// Who holds the annotation in review, and until when (ms).
    pub async fn review_hold(&self, annotation: AnnotationId) -> Result<Option<(UserId, i64)>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT reviewer_id, expires_at FROM review_holds WHERE annotation_id = $1",
        )
        .bind(annotation.0)
        .fetch_optional(&self.readers)
        .await?;
        Ok(row.map(|(user, until)| (UserId(user), until)))
    }

    /// The projects `user` is a manager member of.
    pub async fn managed_projects(&self, user: UserId) -> Result<Vec<ProjectId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT project_id FROM project_members WHERE user_id = $1 AND role = 'manager' \
             ORDER BY project_id",
        )
        .bind(user.0)
        .fetch_all(&self.readers)
        .await?;
        Ok(ids.into_iter().map(ProjectId).collect())
    }

    /// The project's rates, oldest date first.
    pub async fn pay_rates(&self, project: ProjectId) -> Result<Vec<PayRateRow>> {
        // Read on every submit (to price it): a quick read.
        let rows = self
            .quick_read(
                &format!(
                    "SELECT {RATE_COLUMNS} FROM pay_rates r WHERE r.project_id = $1 \
                     ORDER BY r.work, r.effective_from, r.id"
                ),
                &[Param::Int(project.0)],
            )
            .await?;
        rows.iter().map(|row| rate_row(row)).collect()
    }

    /// One rate.
    pub async fn pay_rate(&self, id: i64) -> Result<PayRateRow> {
        let row = sqlx::query(&format!(
            "SELECT {RATE_COLUMNS} FROM pay_rates r WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.readers)
        .await?
        .ok_or(Error::NotFound)?;
        rate_row(&row)
    }

    pub async fn add_pay_rate(&self, new: &NewPayRate) -> Result<PayRateRow> {
        let mut tx = self.begin_write().await?;
        let query = sqlx::query(
            "INSERT INTO pay_rates (project_id, work, tier, mode, rate, currency, pieces, \
             rejected_unpaid, bonus_percent, bonus_gold_threshold, effective_from, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(new.project_id.0)
        .bind(&new.work)
        .bind(new.tier.as_deref())
        .bind(&new.mode)
        .bind(&new.rate)
        .bind(&new.currency)
        .bind(&new.pieces)
        .bind(i64::from(new.rejected_unpaid))
        .bind(new.bonus_percent.as_deref());
        let row = crate::bind_optional_f64(query, new.bonus_gold_threshold)
            .bind(&new.effective_from)
            .bind(new.created_by.map(|user| user.0))
            .bind(Timestamp::now().millis())
            .fetch_one(&mut *tx)
            .await?;
        let id: i64 = sqlx::Row::try_get(&row, "id")?;
        tx.commit().await?;
        self.pay_rate(id).await
    }

    /// Deletes a rate of the project that no entry was priced with:
    /// [`Error::Conflict`] when one was, [`Error::NotFound`] without it.
    pub async fn delete_pay_rate(&self, project: ProjectId, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let used: Option<i64> = sqlx::query_scalar(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM pay_entries e WHERE e.rate_id = r.id) \
             THEN 1 ELSE 0 END FROM pay_rates r WHERE r.id = $1 AND r.project_id = $2",
        )
        .bind(id)
        .bind(project.0)
        .fetch_optional(&mut *tx)
        .await?;
        match used {
            None => return Err(Error::NotFound),
            Some(1) => {
                return Err(Error::Conflict(
                    "work was priced with this rate: add a new rate instead".to_owned(),
                ))
            }
            Some(_) => {}
        }
        sqlx::query("DELETE FROM pay_rates WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Appends entries to the ledger in one transaction. An entry into an
    /// approved period is refused by the database ([`Error::Conflict`]).
    pub async fn add_pay_entries(&self, entries: &[NewPayEntry]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for entry in entries {
            sqlx::query(concat!(
                "INSERT INTO pay_entries (",
                pay_entry_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
            ))
            .bind(entry.user_id.0)
            .bind(entry.project_id.0)
            .bind(entry.task_id.map(|id| id.0))
            .bind(entry.annotation_id.map(|id| id.0))
            .bind(entry.review_id)
            .bind(&entry.kind)
            .bind(entry.active_ms)
            .bind(entry.tasks)
            .bind(entry.rejected)
            .bind(entry.rate_id)
            .bind(&entry.amount)
            .bind(&entry.bonus)
            .bind(entry.currency.as_deref())
            .bind(&entry.work_date)
            .bind(&entry.period_start)
            .bind(entry.created_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(refused)?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ledger entries, in the order they were written.
    pub async fn pay_entries(&self, filter: &PayEntryFilter) -> Result<Vec<PayEntryRow>> {
        let mut conditions = Vec::new();
        let mut ints: Vec<i64> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        // Integers first ($1…), then texts.
        // With a person on SQLite, their entries are found first (see
        // `person_entry_ids`); `+` keeps the planner from walking a
        // project's entries instead and checking each against the person's.
        let other = if filter.user.is_some() && self.backend == Backend::Sqlite {
            "+e."
        } else {
            "e."
        };
        if let Some(user) = filter.user {
            ints.push(user.0);
            let person = format!("${}", ints.len());
            conditions.push(match self.backend {
                Backend::Sqlite => format!("e.id IN ({})", person_entry_ids(&person)),
                Backend::Postgres => format!("e.user_id = {person}"),
            });
        }
        if let Some(annotation) = filter.annotation {
            ints.push(annotation.0);
            conditions.push(format!("e.annotation_id = ${}", ints.len()));
        }
        if let Some(projects) = &filter.projects {
            if projects.is_empty() {
                return Ok(Vec::new());
            }
            let list: Vec<String> = projects.iter().map(|p| p.0.to_string()).collect();
            conditions.push(format!("{other}project_id IN ({})", list.join(", ")));
        }
        let mut text_condition = |column: &str, op: &str, value: &Option<String>| {
            if let Some(value) = value {
                texts.push(value.clone());
                conditions.push(format!("{column} {op} ${{T{}}}", texts.len()));
            }
        };
        let work_date = format!("{other}work_date");
        let period_start = format!("{other}period_start");
        text_condition(&work_date, ">=", &filter.from_date);
        text_condition(&work_date, "<=", &filter.to_date);
        text_condition(&period_start, ">=", &filter.from_period);
        text_condition(&period_start, "<=", &filter.to_period);
        let mut sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM pay_entries e LEFT JOIN users u ON u.id = e.user_id"
        );
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY e.id");
        for index in 1..=texts.len() {
            sql = sql.replace(
                &format!("${{T{index}}}"),
                &format!("${}", ints.len() + index),
            );
        }
        let mut query = sqlx::query(&sql);
        for value in &ints {
            query = query.bind(*value);
        }
        for value in &texts {
            query = query.bind(value.as_str());
        }
        let rows = query.fetch_all(&self.readers).await?;
        rows.iter().map(|row| entry_row(row)).collect()
    }

    /// The approved periods of a person in a project (or all of theirs).
    pub async fn pay_periods(
        &self,
        user: UserId,
        project: Option<ProjectId>,
    ) -> Result<Vec<PayPeriodRow>> {
        // Read on every submit (to find its open week): a quick read.
        let rows = self
            .quick_read(
                &format!(
                    "SELECT {PERIOD_COLUMNS} FROM pay_periods WHERE user_id = $1 \
                     AND ($2 = 0 OR project_id = $2) ORDER BY period_start, project_id"
                ),
                &[Param::Int(user.0), Param::Int(project.map_or(0, |p| p.0))],
            )
            .await?;
        rows.iter().map(|row| period_row(row)).collect()
    }

    /// Stores an approval once: [`Error::Conflict`] when the period is
    /// approved already, or when its entries are no longer the
    /// `entries` the totals were added up from (work landed meanwhile).
    pub async fn approve_pay_period(&self, period: &PayPeriodRow, entries: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let of_person = match self.backend {
            // The person's entries first, as in `pay_entries`.
            Backend::Sqlite => format!("+project_id = $1 AND id IN ({})", person_entry_ids("$2")),
            Backend::Postgres => "project_id = $1 AND user_id = $2".to_owned(),
        };
        let now_entries: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM pay_entries WHERE {of_person} \
             AND period_start = $3"
        ))
        .bind(period.project_id.0)
        .bind(period.user_id.0)
        .bind(&period.period_start)
        .fetch_one(&mut *tx)
        .await?;
        if now_entries != entries {
            return Err(Error::Conflict(
                "new work was recorded in this period meanwhile: look again and approve".to_owned(),
            ));
        }
        sqlx::query(&format!(
            "INSERT INTO pay_periods ({PERIOD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(period.project_id.0)
        .bind(period.user_id.0)
        .bind(&period.period_start)
        .bind(period.active_ms)
        .bind(period.tasks)
        .bind(period.rejected)
        .bind(&period.totals)
        .bind(period.approved_by.map(|user| user.0))
        .bind(period.approved_at.millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
