//! Time and pay through the API, on SQLite and PostgreSQL: active time
//! capped by the server and summed per day, person and project; per-task,
//! hourly and piece rates; a rate change mid-period; rejected work
//! reversed, also after its period was approved (posted to the next open
//! one); the bonus above a gold accuracy; decimal input refused by field;
//! approvals stored once; payroll totals equal to their entries, as JSON
//! and as CSV; and the ledger's triggers refusing any change.

use gloss_engine::Actor;
use gloss_test_support::{databases, TestServer, LABEL_CONFIG};
use gloss_types::{ProjectId, ProjectRole, Role};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn choice(label: &str) -> Value {
    json!([{"from_name": "class", "to_name": "image", "type": "choices", "value": {"choices": [label]}}])
}

/// An exact decimal string as millionths.
fn micros(text: &str) -> i64 {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let value = whole.parse::<i64>().unwrap() * 1_000_000
        + format!("{fraction:0<6}").parse::<i64>().unwrap();
    if negative {
        -value
    } else {
        value
    }
}

/// Today's date in UTC, `YYYY-MM-DD` (days since the epoch to a civil date).
fn utc_date(offset_hours: i64) -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + offset_hours * 3600;
    let days = seconds.div_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:04}-{:02}-{:02}", if m <= 2 { y + 1 } else { y }, m, d)
}

struct Setup {
    server: TestServer,
    manager: String,
    project: i64,
    people: Vec<String>,
}

/// A project with 6 tasks, `manager` managing it, annotators and a reviewer.
async fn setup(server: TestServer, annotators: &[&str], settings: Value) -> Setup {
    let (_, manager) = server.user("manager", Role::Manager).await;
    let project = server.create_project(&manager, "paid", LABEL_CONFIG).await;
    let tasks: Vec<Value> = (0..6)
        .map(|i| json!({"image": format!("/{i}.png")}))
        .collect();
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/projects/{project}/tasks"),
            Some(&manager),
            Some(Value::Array(tasks)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = server
        .call(
            Method::PATCH,
            &format!("/api/v1/projects/{project}"),
            Some(&manager),
            Some(settings),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut people = Vec::new();
    for (name, role) in annotators
        .iter()
        .map(|name| (*name, ProjectRole::Annotator))
        .chain([("rev", ProjectRole::Reviewer)])
    {
        let (user, token) = server
            .user(
                name,
                if role == ProjectRole::Reviewer {
                    Role::Reviewer
                } else {
                    Role::Annotator
                },
            )
            .await;
        server
            .engine
            .put_member(
                &Actor::Operator,
                ProjectId(project),
                &user.username,
                Some(role),
            )
            .await
            .unwrap();
        people.push(token);
    }
    Setup {
        server,
        manager,
        project,
        people,
    }
}

impl Setup {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.server.call(method, path, Some(token), body).await
    }

    /// `next`, then a submit of `label` with `active_time` seconds.
    async fn label(&self, token: &str, label: &str, active_time: f64) -> Value {
        let (status, next) = self
            .call(
                Method::GET,
                &format!("/api/v1/projects/{}/next", self.project),
                token,
                None,
            )
            .await;
        assert_eq!(status, 200, "{next}");
        let task = next["task"]["id"].as_i64().unwrap();
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/api/v1/tasks/{task}/annotations"),
                token,
                Some(json!({"result": choice(label), "active_time": active_time})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    async fn rate(&self, body: Value) -> Value {
        let (status, rate) = self
            .call(
                Method::POST,
                &format!("/api/v1/projects/{}/pay-rates", self.project),
                &self.manager,
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "{rate}");
        rate
    }

    async fn entries(&self, username: &str) -> Vec<Value> {
        let (status, body) = self
            .call(
                Method::GET,
                &format!("/api/v1/users/{username}/pay-entries"),
                &self.manager,
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["entries"].as_array().unwrap().clone()
    }

    async fn review(&self, annotation: i64, verdict: &str, active_time: f64) -> Value {
        let reviewer = self.people.last().unwrap();
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/api/v1/annotations/{annotation}/reviews"),
                reviewer,
                Some(json!({"verdict": verdict, "comment": "see the ears", "active_time": active_time})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }
}

fn sum(entries: &[Value], field: &str) -> i64 {
    entries.iter().map(|e| e[field].as_i64().unwrap()).sum()
}

fn sum_amounts(entries: &[Value]) -> i64 {
    entries
        .iter()
        .map(|e| micros(e["amount"].as_str().unwrap()))
        .sum()
}

#[tokio::test]
async fn active_time_is_capped_and_summed_per_day_person_and_project() {
    for db in databases().await {
        let s = setup(
            TestServer::start(&db).await,
            &["ann"],
            json!({"overlap": 1}),
        )
        .await;
        let ann = s.people[0].clone();
        let project = s.project;

        // The shorthand; amounts are decimal strings only.
        for (pay, field) in [
            (
                json!({"mode": "per_task", "rate": 0.35, "currency": "USD"}),
                "pay.rate",
            ),
            (
                json!({"mode": "per_task", "rate": "0.1.2", "currency": "USD"}),
                "pay.rate",
            ),
            (
                json!({"mode": "per_task", "rate": "0.35", "currency": "XXQ"}),
                "pay.currency",
            ),
            (
                json!({"mode": "per_task", "rate": "0.35", "currency": "usd"}),
                "pay.currency",
            ),
            (
                json!({"mode": "daily", "rate": "0.35", "currency": "USD"}),
                "pay.mode",
            ),
            (
                json!({"mode": "per_task", "rate": "-1", "currency": "USD"}),
                "pay.rate",
            ),
        ] {
            let (status, body) = s
                .call(
                    Method::PATCH,
                    &format!("/api/v1/projects/{project}"),
                    &s.manager,
                    Some(json!({"pay": pay})),
                )
                .await;
            assert_eq!(
                (status, body["details"]["field"].as_str()),
                (422, Some(field)),
                "{body}"
            );
        }
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{project}"),
                &s.manager,
                Some(json!({"pay": {"mode": "per_task", "rate": "0.35", "currency": "USD"}})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (_, rates) = s
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/pay-rates"),
                &s.manager,
                None,
            )
            .await;
        assert_eq!(rates["rates"].as_array().unwrap().len(), 1, "{rates}");
        assert_eq!(rates["rates"][0]["rate"], "0.35");
        let (status, _) = s
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/pay-rates"),
                &ann,
                None,
            )
            .await;
        assert_eq!(status, 403);

        // 10,000 s claimed after a 1 s wait: stored at most the real gap.
        let started = Instant::now();
        let (_, next) = s
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/next"),
                &ann,
                None,
            )
            .await;
        let task = next["task"]["id"].as_i64().unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (status, submitted) = s
            .call(
                Method::POST,
                &format!("/api/v1/tasks/{task}/annotations"),
                &ann,
                Some(json!({"result": choice("Cat"), "active_time": 10_000})),
            )
            .await;
        let gap = started.elapsed().as_millis() as i64;
        assert_eq!(status, 201, "{submitted}");
        let first_ms = submitted["active_ms"].as_i64().unwrap();
        assert!((1000..=gap).contains(&first_ms), "{first_ms} of {gap} ms");
        let id = submitted["id"].as_i64().unwrap();
        // Bad active time is refused by name.
        for bad in [json!(-1), json!("10")] {
            let (status, body) = s
                .call(
                    Method::PUT,
                    &format!("/api/v1/annotations/{id}"),
                    &ann,
                    Some(json!({"result": choice("Dog"), "version": 1, "active_time": bad})),
                )
                .await;
            assert_eq!(status, 422, "{body}");
            assert!(
                body["details"]["field"]
                    .as_str()
                    .unwrap()
                    .contains("active_time"),
                "{body}"
            );
        }
        // An update: capped at the time since the version was written, and added.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (status, updated) = s
            .call(
                Method::PUT,
                &format!("/api/v1/annotations/{id}"),
                &ann,
                Some(json!({"result": choice("Dog"), "version": 1, "active_time": 0.25})),
            )
            .await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["active_ms"].as_i64().unwrap(), first_ms + 250);

        let entries = s.entries("ann").await;
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(
            (
                entries[0]["kind"].as_str(),
                entries[0]["amount"].as_str(),
                entries[0]["currency"].as_str()
            ),
            (Some("submit"), Some("0.35"), Some("USD"))
        );
        // A plain update of a per-task annotation earns nothing more.
        assert_eq!(
            (entries[1]["kind"].as_str(), entries[1]["amount"].as_str()),
            (Some("update"), Some("0"))
        );
        assert_eq!(sum(&entries, "active_ms"), first_ms + 250);

        // Per day: the person's and the project's views agree with the annotation.
        let today = entries[0]["work_date"].as_str().unwrap().to_owned();
        let (status, mine) = s
            .call(
                Method::GET,
                &format!("/api/v1/users/ann/time?from={today}&to={today}"),
                &ann,
                None,
            )
            .await;
        assert_eq!(status, 200, "{mine}");
        assert_eq!(mine["days"].as_array().unwrap().len(), 1, "{mine}");
        assert_eq!(
            mine["days"][0]["active_ms"].as_i64().unwrap(),
            first_ms + 250
        );
        assert_eq!(mine["days"][0]["tasks"], 1);
        let (status, theirs) = s
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/time"),
                &s.manager,
                None,
            )
            .await;
        assert_eq!(status, 200, "{theirs}");
        assert_eq!(theirs["days"][0]["username"], "ann");
        assert_eq!(
            theirs["days"][0]["active_ms"].as_i64().unwrap(),
            first_ms + 250
        );
        let (status, body) = s
            .call(
                Method::GET,
                "/api/v1/users/ann/time?from=2026-13-01",
                &ann,
                None,
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("from")),
            "{body}"
        );
        let (_, versions) = s
            .call(
                Method::GET,
                &format!("/api/v1/annotations/{id}/versions"),
                &ann,
                None,
            )
            .await;
        assert!(versions.is_array() || versions.is_object());
        s.server.stop().await;
    }
}

#[tokio::test]
async fn pricing_rate_changes_rejections_approvals_and_payroll() {
    for db in databases().await {
        let s = setup(
            TestServer::start(&db).await,
            &["ann"],
            json!({"overlap": 1, "review_percent": 100}),
        )
        .await;
        let ann = s.people[0].clone();
        let project = s.project;
        let today = utc_date(0);

        // Rate A since 2020 with a piece rate; later rate B from today.
        s.rate(
            json!({"mode": "per_task", "rate": "0.50", "currency": "USD", "pieces": {"Cat": "0.05"},
                      "effective_from": "2020-01-06"}),
        )
        .await;
        // Reviews are paid by the hour.
        s.rate(
            json!({"work": "review", "mode": "hourly", "rate": "36", "currency": "USD",
                      "effective_from": "2020-01-06"}),
        )
        .await;
        // A rate from the future prices nothing yet.
        s.rate(json!({"mode": "per_task", "rate": "99", "currency": "USD", "effective_from": "2999-01-01"}))
            .await;
        let first = s.label(&ann, "Cat", 5.0).await;
        let rate_b = s
            .rate(json!({"mode": "per_task", "rate": "0.75", "currency": "USD", "pieces": {"Cat": "0.10"},
                         "effective_from": today}))
            .await;
        let second = s.label(&ann, "Dog", 5.0).await;
        let third = s.label(&ann, "Cat", 5.0).await;
        let entries = s.entries("ann").await;
        let amounts: Vec<&str> = entries
            .iter()
            .map(|e| e["amount"].as_str().unwrap())
            .collect();
        assert_eq!(amounts, ["0.55", "0.75", "0.85"], "{}", db.label);
        // A rate work was priced with stays; an unused one may go.
        let (status, _) = s
            .call(
                Method::DELETE,
                &format!("/api/v1/projects/{project}/pay-rates/{}", rate_b["id"]),
                &s.manager,
                None,
            )
            .await;
        assert_eq!(status, 409);

        // The reviewer rejects the first: its pay (0.55) is reversed.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (_, held) = s
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/review/next"),
                s.people.last().unwrap(),
                None,
            )
            .await;
        let held_id = held["annotation"]["id"].as_i64();
        let first_id = first["id"].as_i64().unwrap();
        let review = s.review(first_id, "reject", 10_000.0).await;
        let entries = s.entries("ann").await;
        let reversal = entries.last().unwrap();
        assert_eq!(
            (
                reversal["kind"].as_str(),
                reversal["amount"].as_str(),
                reversal["rejected"].as_i64()
            ),
            (Some("reversal"), Some("-0.55"), Some(1)),
            "{entries:?}"
        );
        // The reviewer's hourly pay: 36/h on their capped active time.
        let rev_entries = s.entries("rev").await;
        assert_eq!(rev_entries.len(), 1, "{rev_entries:?}");
        let review_ms = rev_entries[0]["active_ms"].as_i64().unwrap();
        assert!(review_ms < 10_000_000, "capped: {review_ms}");
        if held_id == Some(first_id) {
            assert!(review_ms < 60_000, "capped at the hold: {review_ms}");
        }
        assert_eq!(
            micros(rev_entries[0]["amount"].as_str().unwrap()),
            review_ms * 10
        );
        assert_eq!(rev_entries[0]["review_id"], review["id"]);

        // The timesheet: hours, tasks, rejected and earnings of this week.
        let (status, sheet) = s
            .call(Method::GET, "/api/v1/me/timesheet", &ann, None)
            .await;
        assert_eq!(status, 200, "{sheet}");
        let period = &sheet["periods"][0];
        assert_eq!(
            (period["tasks"].as_i64(), period["rejected"].as_i64()),
            (Some(3), Some(1)),
            "{sheet}"
        );
        assert_eq!(period["earnings"][0]["amount"], "1.60");
        assert_eq!(period["approved"], false);
        let start = period["period_start"].as_str().unwrap().to_owned();

        // Payroll: the totals are the sums of the person's entries, and the
        // CSV says what the JSON says.
        let range = "from=2020-01-01&to=2999-12-31";
        let (status, payroll) = s
            .call(
                Method::GET,
                &format!("/api/v1/payroll?{range}&project={project}"),
                &s.manager,
                None,
            )
            .await;
        assert_eq!(status, 200, "{payroll}");
        let rows = payroll["rows"].as_array().unwrap();
        for username in ["ann", "rev"] {
            let entries = s.entries(username).await;
            let row = rows.iter().find(|r| r["username"] == username).unwrap();
            assert_eq!(
                micros(row["gross_exact"].as_str().unwrap()),
                sum_amounts(&entries),
                "{username}"
            );
            assert_eq!(
                row["active_ms"].as_i64().unwrap(),
                sum(&entries, "active_ms")
            );
            assert_eq!(row["tasks"].as_i64().unwrap(), sum(&entries, "tasks"));
            assert_eq!(row["rejected"].as_i64().unwrap(), sum(&entries, "rejected"));
            assert_eq!(row["entries"].as_u64().unwrap() as usize, entries.len());
        }
        let ann_row = rows.iter().find(|r| r["username"] == "ann").unwrap();
        assert_eq!(
            (ann_row["gross"].as_str(), ann_row["currency"].as_str()),
            (Some("1.60"), Some("USD"))
        );
        let response = s
            .server
            .client
            .get(s.server.url(&format!(
                "/api/v1/payroll?{range}&project={project}&format=csv"
            )))
            .bearer_auth(&s.manager)
            .send()
            .await
            .unwrap();
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let csv = response.text().await.unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("username,hours,tasks,rejected,gross,currency")
        );
        let expected: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{},{},{},{},{},{}",
                    r["username"].as_str().unwrap(),
                    r["hours"].as_str().unwrap(),
                    r["tasks"],
                    r["rejected"],
                    r["gross"].as_str().unwrap(),
                    r["currency"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(lines.map(str::to_owned).collect::<Vec<_>>(), expected);
        // `Accept: text/csv` gives the same file.
        let accepted = s
            .server
            .client
            .get(
                s.server
                    .url(&format!("/api/v1/payroll?{range}&project={project}")),
            )
            .bearer_auth(&s.manager)
            .header("Accept", "text/csv")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(accepted, csv);
        let (status, _) = s
            .call(Method::GET, &format!("/api/v1/payroll?{range}"), &ann, None)
            .await;
        assert_eq!(status, 403);
        let (status, body) = s
            .call(
                Method::GET,
                "/api/v1/payroll?from=2026-02-30&to=2026-03-01",
                &s.manager,
                None,
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("from")),
            "{body}"
        );

        // Approval: stored once, with its totals; a Tuesday is no period.
        let approve = format!("/api/v1/projects/{project}/timesheets/ann/{start}/approve");
        let (status, approved) = s.call(Method::POST, &approve, &s.manager, None).await;
        assert_eq!(status, 201, "{approved}");
        assert_eq!(approved["earnings"][0]["amount"], "1.60");
        let (status, again) = s.call(Method::POST, &approve, &s.manager, None).await;
        assert_eq!(status, 409, "{again}");
        let (status, _) = s.call(Method::POST, &approve, &ann, None).await;
        assert_eq!(status, 403);
        let (status, body) = s
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/timesheets/ann/2026-03-03/approve"),
                &s.manager,
                None,
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("period_start")),
            "{body}"
        );

        // After approval: rejecting the second posts its reversal to the
        // next open week, and so does the rework of the first, which earns
        // again at today's rate.
        s.review(second["id"].as_i64().unwrap(), "reject", 1.0)
            .await;
        let (status, rework) = s
            .call(
                Method::PUT,
                &format!("/api/v1/annotations/{first_id}"),
                &ann,
                Some(json!({"result": choice("Cat"), "version": first["version"], "active_time": 1.0})),
            )
            .await;
        assert_eq!(status, 200, "{rework}");
        let entries = s.entries("ann").await;
        let late: Vec<&Value> = entries.iter().skip(4).collect();
        assert_eq!(late.len(), 2, "{entries:?}");
        assert_eq!(
            late.iter()
                .map(|e| e["amount"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["-0.75", "0.85"]
        );
        for entry in &late {
            assert_ne!(entry["period_start"].as_str().unwrap(), start);
            assert!(entry["period_start"].as_str().unwrap() > start.as_str());
        }
        let (_, sheet) = s
            .call(Method::GET, "/api/v1/me/timesheet", &ann, None)
            .await;
        let periods = sheet["periods"].as_array().unwrap();
        let old = periods
            .iter()
            .find(|p| p["period_start"] == start.as_str())
            .unwrap();
        assert_eq!(
            (
                old["approved"].as_bool(),
                old["earnings"][0]["amount"].as_str()
            ),
            (Some(true), Some("1.60"))
        );
        let next = periods
            .iter()
            .find(|p| p["period_start"] != start.as_str())
            .unwrap();
        assert_eq!(
            (
                next["approved"].as_bool(),
                next["earnings"][0]["amount"].as_str()
            ),
            (Some(false), Some("0.10"))
        );
        let _ = third;

        // The database refuses any change to the ledger and approvals, and
        // an entry into an approved period.
        let store = s.server.engine.store();
        for sql in [
            "UPDATE pay_entries SET amount = '100'".to_owned(),
            "DELETE FROM pay_entries".to_owned(),
            "UPDATE pay_periods SET totals = '{}'".to_owned(),
            "DELETE FROM pay_periods".to_owned(),
            "INSERT INTO pay_entries (user_id, project_id, kind, amount, work_date, period_start, \
             created_at) SELECT user_id, project_id, 'submit', '1', period_start, period_start, 0 \
             FROM pay_periods"
                .to_owned(),
        ] {
            assert!(
                store.execute_raw(&sql).await.is_err(),
                "{sql} was allowed on {}",
                db.label
            );
        }
        assert_eq!(s.entries("ann").await.len(), 6);
        s.server.stop().await;
    }
}

#[tokio::test]
async fn time_zones_tiers_and_the_gold_bonus() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let s = setup(
            server,
            &["east", "west"],
            json!({"overlap": 3, "honeypot_percent": 100}),
        )
        .await;
        let (east, west) = (s.people[0].clone(), s.people[1].clone());
        let project = s.project;
        // UTC+14 and UTC−12 are 26 hours apart: never the same date.
        for (name, zone) in [("east", "Pacific/Kiritimati"), ("west", "Etc/GMT+12")] {
            let (status, body) = s
                .call(
                    Method::PATCH,
                    &format!("/api/v1/users/{name}"),
                    &admin,
                    Some(json!({"time_zone": zone})),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
        let (status, body) = s
            .call(
                Method::PATCH,
                "/api/v1/users/west",
                &admin,
                Some(json!({"tier": "specialist"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        // A gold task: the manager's ground truth on the first task.
        let (_, tasks) = s
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/tasks?limit=10"),
                &s.manager,
                None,
            )
            .await;
        let gold = tasks["items"][0]["id"].as_i64().unwrap();
        let (status, truth) = s
            .call(
                Method::POST,
                &format!("/api/v1/tasks/{gold}/annotations"),
                &s.manager,
                Some(json!({"result": choice("Cat")})),
            )
            .await;
        assert_eq!(status, 201, "{truth}");
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("/api/v1/annotations/{}", truth["id"]),
                &s.manager,
                Some(json!({"ground_truth": true})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        s.rate(json!({"mode": "per_task", "rate": "1.00", "currency": "EUR", "effective_from": "2020-01-06",
                      "bonus_percent": "10", "bonus_gold_threshold": 0.9}))
            .await;
        // The specialist tier's own rate beats the general one.
        s.rate(
            json!({"mode": "per_task", "rate": "2.00", "currency": "EUR", "tier": "specialist",
                      "effective_from": "2020-01-06"}),
        )
        .await;
        let (status, body) = s
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/pay-rates"),
                &s.manager,
                Some(json!({"mode": "per_task", "rate": "1", "currency": "EUR", "tier": "nobody"})),
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("tier")),
            "{body}"
        );

        // east answers the gold task right: the bonus applies (accuracy 1 ≥ 0.9).
        let answered = s.label(&east, "Cat", 1.0).await;
        assert_eq!(answered["task_id"].as_i64(), Some(gold));
        let west_answer = s.label(&west, "Dog", 1.0).await;
        assert_eq!(west_answer["task_id"].as_i64(), Some(gold));
        let east_entries = s.entries("east").await;
        assert_eq!(
            (
                east_entries[0]["amount"].as_str(),
                east_entries[0]["bonus"].as_str(),
                east_entries[0]["currency"].as_str()
            ),
            (Some("1.1"), Some("0.1"), Some("EUR")),
            "{east_entries:?}"
        );
        let west_entries = s.entries("west").await;
        assert_eq!(
            (
                west_entries[0]["amount"].as_str(),
                west_entries[0]["bonus"].as_str()
            ),
            (Some("2"), Some("0"))
        );

        // Each person's work date is theirs, and its period is their week.
        assert_eq!(east_entries[0]["work_date"].as_str().unwrap(), utc_date(14));
        assert_eq!(
            west_entries[0]["work_date"].as_str().unwrap(),
            utc_date(-12)
        );
        for entry in [&east_entries[0], &west_entries[0]] {
            let date = entry["work_date"].as_str().unwrap();
            let monday = entry["period_start"].as_str().unwrap();
            assert!(monday <= date, "{entry}");
        }
        let (_, east_sheet) = s
            .call(Method::GET, "/api/v1/me/timesheet", &east, None)
            .await;
        assert_eq!(east_sheet["time_zone"], "Pacific/Kiritimati");
        assert_eq!(east_sheet["periods"][0]["earnings"][0]["amount"], "1.10");

        // The payroll range is in each person's own dates.
        let east_day = utc_date(14);
        let (_, payroll) = s
            .call(
                Method::GET,
                &format!("/api/v1/payroll?from={east_day}&to={east_day}"),
                &admin,
                None,
            )
            .await;
        let names: Vec<&str> = payroll["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["username"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"east"), "{payroll}");
        assert!(!names.contains(&"west"), "{payroll}");
        s.server.stop().await;
    }
}

#[test]
fn a_monday_at_two_utc_is_sunday_in_new_york() {
    // 2026-03-02 02:00 UTC.
    let at = 1_772_416_800_000;
    assert_eq!(
        gloss_engine::pay_period_of("America/New_York", at),
        ("2026-03-01".to_owned(), "2026-02-23".to_owned())
    );
    assert_eq!(
        gloss_engine::pay_period_of("UTC", at),
        ("2026-03-02".to_owned(), "2026-03-02".to_owned())
    );
    // A Sunday evening in UTC is a Monday in Tokyo.
    assert_eq!(
        gloss_engine::pay_period_of("Asia/Tokyo", at - 8 * 3_600_000),
        ("2026-03-02".to_owned(), "2026-03-02".to_owned())
    );
}
