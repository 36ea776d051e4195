//! End-to-end tests of the `gloss` binary: each test runs the real program on
//! temporary folders, on SQLite and, when `GLOSS_TEST_POSTGRES_URL` is set
//! (see scripts/with-postgres.sh), on PostgreSQL too. Servers listen on
//! 127.0.0.1 with an ephemeral port. Every command and every test is bounded
//! in time, and every process started here is killed when its handle drops.

mod common;
use common::*;

use gloss_test_support::TestDb;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The longest one test may take, over both backends.
const TEST_TIMEOUT: Duration = Duration::from_secs(240);

const ADMIN_PASSWORD: &str = "admin password 123";
/// The password of accounts the tests create through the API.
const USER_PASSWORD: &str = "a long password";
const LABEL_CONFIG: &str = r#"<View>
  <Image name="image" value="$image"/>
  <Choices name="scene" toName="image"><Choice value="Urban"/><Choice value="Rural"/></Choices>
</View>
"#;

// ---------------------------------------------------------------- helpers

/// Runs a test body, failing it when it runs past [`TEST_TIMEOUT`]; dropping
/// it kills any process it started.
async fn within(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test ran out of time");
}

/// One Gloss instance: a working folder (the commands' current folder), a
/// data folder inside it, and a fresh database.
struct Instance {
    label: &'static str,
    home: TempDir,
    db: TestDb,
}

impl Instance {
    fn sqlite() -> Instance {
        Instance::on(gloss_test_support::sqlite_db())
    }

    async fn postgres() -> Option<Instance> {
        gloss_test_support::postgres_db().await.map(Instance::on)
    }

    fn on(db: TestDb) -> Instance {
        Instance {
            label: db.label,
            home: tempfile::tempdir().expect("temporary folder"),
            db,
        }
    }

    /// A fresh SQLite instance, and a fresh PostgreSQL one when configured.
    async fn all() -> Vec<Instance> {
        let mut instances = vec![Instance::sqlite()];
        instances.extend(Instance::postgres().await);
        instances
    }

    fn data(&self) -> PathBuf {
        self.home.path().join("data")
    }

    /// `gloss --data DATA --database URL ARGS…`
    fn gloss(&self, args: &[&str]) -> Gloss {
        let data = self.data();
        Gloss::new(self.home.path())
            .args(&["--data", data.to_str().expect("UTF-8 path")])
            .args(&["--database", &self.db.url])
            .args(args)
    }

    /// `gloss user create --username USERNAME --role ROLE`
    fn user_create(&self, username: &str, role: &str) -> Gloss {
        self.gloss(&["user", "create", "--username", username, "--role", role])
    }

    /// `gloss project create --name NAME --config …` with `LABEL_CONFIG`;
    /// returns the new project's id.
    async fn create_project(&self, name: &str) -> String {
        let config = self.home.path().join("config.xml");
        std::fs::write(&config, LABEL_CONFIG).unwrap();
        let id = self
            .gloss(&["project", "create", "--name", name, "--config"])
            .args(&[config.to_str().unwrap()])
            .ok()
            .await;
        assert!(
            is_id_line(&id),
            "{}: project create printed {id:?}",
            self.label
        );
        id.trim().to_string()
    }

    /// `gloss serve --bind 127.0.0.1:0` with a known admin password.
    async fn serve(&self, extra: &[&str]) -> Server {
        self.gloss(&["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .env("GLOSS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .serve()
            .await
    }
}

impl Server {
    /// The admin password printed at the first start, when one was generated.
    fn generated_password(&self) -> Option<String> {
        let line = self.banner.iter().find(|line| {
            line.starts_with("Created the first account: username `admin`, password `")
        })?;
        assert!(line.ends_with("(shown only this once)"), "{line}");
        Some(
            line.split('`')
                .nth(3)
                .expect("a quoted password")
                .to_string(),
        )
    }

    fn created_an_account(&self) -> bool {
        self.banner
            .iter()
            .any(|line| line.starts_with("Created the first account"))
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        call(&self.client, &self.base, method, path, token, body)
            .await
            .unwrap_or_else(|err| panic!("{path}: {err}"))
    }

    /// Signs in with a password; returns the new API token.
    async fn sign_in(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/token",
                None,
                Some(json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(status, 201, "signing in as {username}: {body}");
        let token = body["token"].as_str().expect("a token").to_string();
        assert!(token.starts_with("gls_"), "{token}");
        token
    }

    async fn create_project(&self, token: &str, name: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/projects",
                Some(token),
                Some(json!({"name": name, "label_config": LABEL_CONFIG})),
            )
            .await;
        assert_eq!(status, 201, "creating project {name}: {body}");
    }

    async fn create_user(&self, token: &str, username: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/users",
                Some(token),
                Some(json!({"username": username, "password": USER_PASSWORD, "role": "annotator"})),
            )
            .await;
        assert_eq!(status, 201, "creating user {username}: {body}");
    }

    /// Every project, following `next` page by page.
    async fn all_projects(&self, token: &str) -> Vec<Value> {
        let mut projects = Vec::new();
        let mut path = "/api/v1/projects?limit=1000".to_string();
        loop {
            let (status, page) = self
                .call(reqwest::Method::GET, &path, Some(token), None)
                .await;
            assert_eq!(status, 200, "{path}: {page}");
            projects.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next"].as_str() {
                Some(next) => path = format!("/api/v1/projects?limit=1000&after={next}"),
                None => return projects,
            }
        }
    }
}

async fn call(
    client: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Result<(u16, Value)> {
    let mut request = client.request(method, format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, json))
}

/// The rows of a `user list` or `project list` (without the header), split into fields.
fn rows(listing: &str) -> Vec<Vec<String>> {
    listing
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .collect()
}

fn usernames(listing: &str) -> Vec<String> {
    rows(listing)
        .into_iter()
        .map(|row| row[1].clone())
        .collect()
}

fn is_id_line(stdout: &str) -> bool {
    stdout
        .strip_suffix('\n')
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

// ---------------------------------------------------------------- accounts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_create_reads_the_password_from_env_or_stdin_and_rejects_bad_input() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let id = gloss
                .user_create("alice", "annotator")
                .env("GLOSS_PASSWORD", "alice's password")
                .ok()
                .await;
            assert!(is_id_line(&id), "{label}: {id:?}");
            let id = id.trim();

            let bob = gloss
                .user_create("bob", "reviewer")
                .stdin("bob's password\n")
                .ok()
                .await;
            assert!(is_id_line(&bob), "{label}: {bob:?}");

            let listing = gloss.gloss(&["user", "list"]).ok().await;
            let alice = rows(&listing)
                .into_iter()
                .find(|row| row[1] == "alice")
                .unwrap_or_else(|| panic!("{label}: alice not listed:\n{listing}"));
            assert_eq!(alice[0], id, "{label}");
            assert_eq!(alice[2], "annotator", "{label}");
            assert!(usernames(&listing).contains(&"bob".to_string()), "{label}");

            let err = gloss
                .user_create("alice", "admin")
                .env("GLOSS_PASSWORD", "another password")
                .fails()
                .await;
            assert!(err.contains("alice"), "{label}: {err}");

            let err = gloss
                .user_create("carol", "boss")
                .env("GLOSS_PASSWORD", "carol's password")
                .fails()
                .await;
            assert!(
                err.contains("admin, manager, reviewer, annotator"),
                "{label}: {err}"
            );

            let err = gloss
                .user_create("carol", "admin")
                .env("GLOSS_PASSWORD", "short")
                .fails()
                .await;
            assert!(err.contains("password"), "{label}: {err}");

            let err = gloss.user_create("carol", "admin").fails().await;
            assert!(err.contains("GLOSS_PASSWORD"), "{label}: {err}");

            let listing = gloss.gloss(&["user", "list"]).ok().await;
            assert_eq!(usernames(&listing), ["alice", "bob"], "{label}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_token_works_against_a_running_server() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            gloss
                .user_create("alice", "manager")
                .env("GLOSS_PASSWORD", "alice's password")
                .ok()
                .await;
            let server = gloss.serve(&[]).await;
            // Issued by a second process while the server has the database open.
            let token = gloss.gloss(&["user", "token", "alice"]).ok().await;
            assert_eq!(token.lines().count(), 1, "{label}: {token:?}");
            let token = token.trim();
            assert!(token.starts_with("gls_"), "{label}: {token}");
            let (status, me) = server
                .call(reqwest::Method::GET, "/api/v1/me", Some(token), None)
                .await;
            assert_eq!(status, 200, "{label}: {me}");
            assert_eq!(me["username"], "alice", "{label}");
            let (status, _) = server
                .call(reqwest::Method::GET, "/api/v1/me", Some("gls_nope"), None)
                .await;
            assert_eq!(status, 401, "{label}");
            server.stop().await;
        }
    })
    .await;
}

/// One number from the database the instance uses (SQL on either backend).
async fn database_number(db: &TestDb, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let row = sqlx::query(sql).fetch_one(&mut connection).await.unwrap();
    sqlx::Connection::close(connection).await.ok();
    sqlx::Row::get::<i64, _>(&row, 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_indexes_tasks_that_gloss_import_adds_before_and_while_it_runs() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let id = gloss.create_project("Indexed").await;
            let import = |name: &str, key: &str| {
                let path = gloss.home.path().join(name);
                let rows: Vec<String> = (0..5)
                    .map(|i| {
                        json!({"data": {"image": format!("/img/{i}.png"), key: format!("v{i}")}})
                            .to_string()
                    })
                    .collect();
                std::fs::write(&path, rows.join("\n")).unwrap();
                gloss.gloss(&["import", "--project", &id, path.to_str().unwrap()])
            };
            let data_indexes = |id: String| {
                let db = &gloss.db;
                async move {
                    let sql = match db.label {
                        "sqlite" => format!(
                            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' \
                             AND name LIKE 'tasks\\_data\\_%\\_p{id}' ESCAPE '\\'"
                        ),
                        // One index per key, for every project.
                        _ => "SELECT COUNT(*) FROM pg_indexes \
                              WHERE indexname LIKE 'tasks\\_data\\_%' ESCAPE '\\'"
                            .to_string(),
                    };
                    database_number(db, &sql).await
                }
            };
            // Polls the condition (an expression with `.await`s) for up to 30 s.
            macro_rules! wait_for {
                ($what:expr, $done:expr) => {
                    let deadline = Instant::now() + Duration::from_secs(30);
                    while !$done {
                        assert!(Instant::now() < deadline, "{label}: {}", $what);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                };
            }
            let text_index_has_every_task =
                "SELECT CASE WHEN indexed_to = (SELECT MAX(id) FROM tasks) \
                 THEN 1 ELSE 0 END FROM tasks_text_progress";
            // Imported while no server runs: indexed when one starts.
            import("first.jsonl", "city").ok().await;
            assert_eq!(data_indexes(id.clone()).await, 0, "{label}");
            let server = gloss.serve(&[]).await;
            wait_for!(
                "the data fields of tasks imported before the start get indexes",
                data_indexes(id.clone()).await == 2
            );
            if label == "sqlite" {
                wait_for!(
                    "the text index gets the first import",
                    database_number(&gloss.db, text_index_has_every_task).await == 1
                );
                // Imported by another process while the server runs: the
                // text index takes the tasks in, then their new data field
                // gets its index.
                import("second.jsonl", "street").ok().await;
                wait_for!(
                    "the text index gets the second import",
                    database_number(&gloss.db, text_index_has_every_task).await == 1
                );
                wait_for!(
                    "the new data field gets its index",
                    data_indexes(id.clone()).await == 3
                );
            }
            server.stop().await;
        }
    })
    .await;
}

// ---------------------------------------------------------------- projects

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_create_prints_the_id_alone_and_a_missing_label_config_creates_nothing() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let config = gloss.home.path().join("label config.xml");
            std::fs::write(&config, LABEL_CONFIG).unwrap();
            let config = config.to_str().unwrap();
            // The global `--config` (the settings file) works beside the label config.
            std::fs::write(gloss.home.path().join("settings.toml"), "log = \"warn\"\n").unwrap();

            let id = gloss
                .gloss(&["--settings", "settings.toml", "project", "create"])
                .args(&["--name", "Street scenes", "--config", config])
                .ok()
                .await;
            assert!(
                is_id_line(&id),
                "{label}: stdout must be the id alone: {id:?}"
            );
            let id = id.trim();

            let listing = gloss.gloss(&["project", "list"]).ok().await;
            let row = rows(&listing)
                .into_iter()
                .find(|row| row[0] == id)
                .unwrap_or_else(|| panic!("{label}: project {id} not listed:\n{listing}"));
            assert_eq!(row[1..3], ["Street", "scenes"], "{label}");

            let missing = gloss.home.path().join("missing.xml");
            let err = gloss
                .gloss(&["project", "create", "--name", "Nope", "--label-config"])
                .args(&[missing.to_str().unwrap()])
                .fails()
                .await;
            assert!(err.contains("missing.xml"), "{label}: {err}");
            assert_eq!(
                gloss.gloss(&["project", "list"]).ok().await,
                listing,
                "{label}: a failed create must not add a project"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_set_member_and_assign_change_the_queue() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let tasks = gloss.home.path().join("tasks.json");
            std::fs::write(&tasks, r#"[{"image": "/a.png"}, {"image": "/b.png"}]"#).unwrap();
            let id = gloss.create_project("Q").await;
            let id = id.as_str();
            gloss
                .gloss(&["import", "--project", id, tasks.to_str().unwrap()])
                .ok()
                .await;
            gloss
                .user_create("ann", "annotator")
                .env("GLOSS_PASSWORD", "a long password")
                .ok()
                .await;

            let set = gloss
                .gloss(&[
                    "project",
                    "set",
                    id,
                    "--overlap",
                    "2",
                    "--queue-order",
                    "random",
                ])
                .ok()
                .await;
            assert!(
                set.contains("overlap 2, queue order random"),
                "{label}: {set}"
            );
            let err = gloss
                .gloss(&["project", "set", id, "--overlap", "0"])
                .fails()
                .await;
            assert!(err.contains("overlap"), "{label}: {err}");
            let err = gloss
                .gloss(&["project", "assign", id, "--user", "ann", "1"])
                .fails()
                .await;
            assert!(err.contains("not a member"), "{label}: {err}");
            let member = gloss.gloss(&["project", "member", id, "ann"]).ok().await;
            assert!(member.contains("ann is annotator"), "{label}: {member}");
            let assigned = gloss
                .gloss(&["project", "assign", id, "--user", "ann", "2"])
                .ok()
                .await;
            assert!(assigned.contains("1 tasks assigned"), "{label}: {assigned}");
            let removed = gloss
                .gloss(&["project", "assign", id, "--user", "ann", "--remove", "2"])
                .ok()
                .await;
            assert!(removed.contains("1 tasks taken out"), "{label}: {removed}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_pay_sets_a_rate_and_payroll_writes_the_csv() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let tasks = gloss.home.path().join("tasks.json");
            std::fs::write(&tasks, r#"[{"image": "/a.png"}, {"image": "/b.png"}]"#).unwrap();
            let id = gloss.create_project("Paid").await;
            gloss
                .gloss(&["import", "--project", &id, tasks.to_str().unwrap()])
                .ok()
                .await;
            gloss
                .user_create("ann", "annotator")
                .env("GLOSS_PASSWORD", USER_PASSWORD)
                .ok()
                .await;
            gloss.gloss(&["project", "member", &id, "ann"]).ok().await;
            let rate = gloss
                .gloss(&[
                    "project",
                    "pay",
                    &id,
                    "--mode",
                    "per_task",
                    "--rate",
                    "0.35",
                    "--currency",
                    "USD",
                    "--from",
                    "2020-01-06",
                    "--piece",
                    "Urban=0.05",
                ])
                .ok()
                .await;
            assert!(
                rate.contains("annotate per_task 0.35 USD from 2020-01-06"),
                "{label}: {rate}"
            );
            for (bad, field) in [("0.1.2", "rate"), ("1e3", "rate")] {
                let err = gloss
                    .gloss(&[
                        "project",
                        "pay",
                        &id,
                        "--mode",
                        "hourly",
                        "--rate",
                        bad,
                        "--currency",
                        "USD",
                    ])
                    .fails()
                    .await;
                assert!(err.contains(field), "{label}: {err}");
            }
            let err = gloss
                .gloss(&[
                    "project",
                    "pay",
                    &id,
                    "--mode",
                    "hourly",
                    "--rate",
                    "1",
                    "--currency",
                    "ABC",
                ])
                .fails()
                .await;
            assert!(err.contains("currency"), "{label}: {err}");

            let server = gloss.serve(&[]).await;
            let token = server.sign_in("ann", USER_PASSWORD).await;
            for choice in ["Urban", "Rural"] {
                let (status, next) = server
                    .call(
                        reqwest::Method::GET,
                        &format!("/api/v1/projects/{id}/next"),
                        Some(&token),
                        None,
                    )
                    .await;
                assert_eq!(status, 200, "{label}: {next}");
                let task = next["task"]["id"].as_i64().unwrap();
                let work = json!({"result": [{"from_name": "scene", "to_name": "image",
                    "type": "choices", "value": {"choices": [choice]}}]});
                let (status, body) = server
                    .call(
                        reqwest::Method::POST,
                        &format!("/api/v1/tasks/{task}/annotations"),
                        Some(&token),
                        Some(work),
                    )
                    .await;
                assert_eq!(status, 201, "{label}: {body}");
            }
            server.stop().await;

            let out = gloss.home.path().join("payroll.csv");
            gloss
                .gloss(&[
                    "payroll",
                    "--from",
                    "2020-01-01",
                    "--to",
                    "2999-12-31",
                    "--out",
                ])
                .args(&[out.to_str().unwrap()])
                .ok()
                .await;
            let csv = std::fs::read_to_string(&out).unwrap();
            assert_eq!(
                csv, "username,hours,tasks,rejected,gross,currency\nann,0.00,2,0,0.75,USD\n",
                "{label}"
            );
            let err = gloss
                .gloss(&["payroll", "--from", "2026-02-30", "--to", "2026-03-01"])
                .fails()
                .await;
            assert!(err.contains("from"), "{label}: {err}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_set_and_tiers_change_people_and_the_tier_list() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            gloss
                .gloss(&["user", "create", "--username", "ann", "--role", "annotator"])
                .env("GLOSS_PASSWORD", "a long enough password")
                .ok()
                .await;
            let tiers = gloss.gloss(&["user", "tiers"]).ok().await;
            assert_eq!(tiers.trim(), "crowd\nspecialist\nrlhf-rater\nqa-analyst", "{label}");
            let set = gloss
                .gloss(&["user", "set", "ann", "--skills", "Medical,de", "--tier", "specialist"])
                .args(&["--languages", "de,en-GB", "--time-zone", "Europe/Berlin"])
                .ok()
                .await;
            assert_eq!(
                set.trim(),
                "ann: active; skills de, medical; tier specialist; languages de, en-GB; time zone Europe/Berlin",
                "{label}"
            );
            let refused = gloss.gloss(&["user", "tiers", "--set", "crowd,expert"]).fails().await;
            assert!(refused.contains("ann is specialist"), "{label}: {refused}");
            let replaced = gloss
                .gloss(&["user", "tiers", "--set", "crowd, specialist, expert"])
                .ok()
                .await;
            assert_eq!(replaced.trim(), "crowd\nspecialist\nexpert", "{label}");
            let bad = gloss.gloss(&["user", "set", "ann", "--tier", "wizard"]).fails().await;
            assert!(bad.contains("`wizard` is not a tier"), "{label}: {bad}");
            let cleared = gloss.gloss(&["user", "set", "ann", "--skills", "", "--tier", "none"]).ok().await;
            assert!(cleared.contains("skills none; tier none"), "{label}: {cleared}");
            let paused = gloss.gloss(&["user", "set", "ann", "--status", "paused"]).ok().await;
            assert!(paused.starts_with("ann: paused;"), "{label}: {paused}");
            let bad = gloss.gloss(&["user", "set", "ann", "--status", "asleep"]).fails().await;
            assert!(bad.contains("`asleep` is not one of active, paused, removed"), "{label}: {bad}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_guidelines_are_saved_as_versions_and_shown() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let id = gloss.create_project("Guided").await;
            let id = id.as_str();
            let none = gloss.gloss(&["project", "guidelines", id]).ok().await;
            // Nothing on standard output ("has no guidelines" on standard error).
            assert_eq!(none, "", "{label}");
            let file = gloss.home.path().join("guidelines.md");
            std::fs::write(&file, "# Rules\n\nBox every car.").unwrap();
            let saved = gloss
                .gloss(&["project", "guidelines", id, "--file"])
                .args(&[file.to_str().unwrap()])
                .ok()
                .await;
            // Standard output is the Markdown alone (the version goes to standard error).
            assert_eq!(saved.trim(), "# Rules\n\nBox every car.", "{label}");
            let piped = gloss
                .gloss(&["project", "guidelines", id, "--file", "-"])
                .stdin("# Rules\n\nBox every bus.")
                .ok()
                .await;
            assert!(piped.contains("Box every bus."), "{label}: {piped}");
            let shown = gloss.gloss(&["project", "guidelines", id]).ok().await;
            assert_eq!(shown.trim(), "# Rules\n\nBox every bus.", "{label}");
            let empty = gloss
                .gloss(&["project", "guidelines", id, "--file", "-"])
                .stdin(" ")
                .fails()
                .await;
            assert!(
                empty.contains("text: the guidelines must not be empty"),
                "{label}: {empty}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_model_endpoint_reads_the_key_from_env_and_never_prints_it() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let id = gloss.create_project("Red").await;
            let id = id.as_str();
            let none = gloss.gloss(&["project", "model-endpoint", id]).ok().await;
            assert!(none.contains("has no model endpoint"), "{label}: {none}");
            let key = "sk-cli-secret-7d1e";
            // A public address: nothing is looked up.
            let set = gloss
                .gloss(&[
                    "project",
                    "model-endpoint",
                    id,
                    "--url",
                    "https://1.1.1.1/v1",
                ])
                .args(&["--model", "m-1", "--set-key", "--temperature", "0.5"])
                .env("GLOSS_MODEL_API_KEY", key)
                .ok()
                .await;
            assert!(
                set.contains("url = https://1.1.1.1/v1/chat/completions")
                    && set.contains("key_set = true")
                    && set.contains("temperature = 0.5"),
                "{label}: {set}"
            );
            assert!(!set.contains(key), "{label}: {set}");
            let shown = gloss.gloss(&["project", "model-endpoint", id]).ok().await;
            assert!(
                shown.contains("model = m-1") && !shown.contains(key),
                "{label}: {shown}"
            );
            let err = gloss
                .gloss(&[
                    "project",
                    "model-endpoint",
                    id,
                    "--url",
                    "http://127.0.0.1:9/v1",
                ])
                .args(&["--model", "m"])
                .fails()
                .await;
            assert!(err.contains("not allow-listed"), "{label}: {err}");
            let allowed = gloss
                .gloss(&[
                    "--fetch-allow",
                    "127.0.0.1",
                    "project",
                    "model-endpoint",
                    id,
                ])
                .args(&["--url", "http://127.0.0.1:9/v1", "--model", "m"])
                .ok()
                .await;
            assert!(
                allowed.contains("key_set = true"),
                "{label}: the key is kept: {allowed}"
            );
            let removed = gloss
                .gloss(&["project", "model-endpoint", id, "--remove"])
                .ok()
                .await;
            assert!(
                removed.contains("model endpoint removed"),
                "{label}: {removed}"
            );
        }
    })
    .await;
}

// ---------------------------------------------------------------- serve

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_prints_a_generated_admin_password_once() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let server = gloss
                .gloss(&["serve", "--bind", "127.0.0.1:0"])
                .serve()
                .await;
            let password = server
                .generated_password()
                .unwrap_or_else(|| panic!("{label}: no password:\n{}", server.banner.join("\n")));
            assert!(password.len() >= 16, "{label}: {password}");
            let token = server.sign_in("admin", &password).await;
            let (status, me) = server
                .call(reqwest::Method::GET, "/api/v1/me", Some(&token), None)
                .await;
            assert_eq!(
                (status, &me["role"]),
                (200, &json!("admin")),
                "{label}: {me}"
            );
            server.stop().await;

            let again = gloss
                .gloss(&["serve", "--bind", "127.0.0.1:0"])
                .serve()
                .await;
            assert!(
                !again.created_an_account() && !again.banner.join("\n").contains(&password),
                "{label}: the second start printed an account:\n{}",
                again.banner.join("\n")
            );
            again.sign_in("admin", &password).await;
            again.stop().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gloss_admin_password_sets_the_first_admins_password() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let server = gloss.serve(&[]).await;
            assert!(server.created_an_account(), "{label}");
            assert_eq!(server.generated_password(), None, "{label}");
            assert!(
                !server.banner.join("\n").contains(ADMIN_PASSWORD),
                "{label}: the given password must not be printed"
            );
            server.sign_in("admin", ADMIN_PASSWORD).await;
            server.stop().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_seeds_one_project_once() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            for start in 0..2 {
                let server = gloss.serve(&["--demo"]).await;
                let token = server.sign_in("admin", ADMIN_PASSWORD).await;
                let projects = server.all_projects(&token).await;
                assert_eq!(projects.len(), 1, "{label}, start {start}: {projects:?}");
                server.stop().await;
            }
        }
    })
    .await;
}

// ---------------------------------------------------------------- settings

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_comes_from_the_flag_then_env_then_gloss_toml() {
    within(async {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("gloss.toml"), "data = \"from-file\"\n").unwrap();
        let data_line = |stdout: String| -> String {
            stdout
                .lines()
                .find(|line| line.starts_with("data = "))
                .unwrap_or_else(|| panic!("no data line:\n{stdout}"))
                .to_string()
        };

        let shown = data_line(Gloss::new(home.path()).args(&["config", "show"]).ok().await);
        assert!(shown.ends_with("/from-file\""), "{shown}");
        let shown = data_line(
            Gloss::new(home.path())
                .args(&["config", "show"])
                .env("GLOSS_DATA", "from-env")
                .ok()
                .await,
        );
        assert!(shown.ends_with("/from-env\""), "{shown}");
        let shown = data_line(
            Gloss::new(home.path())
                .args(&["config", "show", "--data", "from-flag"])
                .env("GLOSS_DATA", "from-env")
                .ok()
                .await,
        );
        assert!(shown.ends_with("/from-flag\""), "{shown}");
        assert!(
            !home.path().join("from-file").exists(),
            "config show must not create the data folder"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_setting_is_named_and_the_example_file_parses() {
    within(async {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("gloss.toml"), "datta = \"typo\"\n").unwrap();
        let err = Gloss::new(home.path())
            .args(&["config", "show"])
            .fails()
            .await;
        assert!(err.contains("datta"), "{err}");

        std::fs::remove_file(home.path().join("gloss.toml")).unwrap();
        let example = Gloss::new(home.path())
            .args(&["config", "example"])
            .ok()
            .await;
        assert!(example.contains("sqlite_sync"), "{example}");
        std::fs::write(home.path().join("gloss.toml"), &example).unwrap();
        Gloss::new(home.path()).args(&["config", "show"]).ok().await;
    })
    .await;
}

// ---------------------------------------------------------------- backups

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_into_a_fresh_and_into_the_same_instance() {
    within(async {
        let mut fresh = Instance::all().await.into_iter();
        for gloss in Instance::all().await {
            let label = gloss.label;
            let server = gloss.serve(&[]).await;
            let token = gloss.gloss(&["user", "token", "admin"]).ok().await;
            let token = token.trim();
            for name in ["alice", "bob"] {
                server.create_user(token, name).await;
            }
            for name in ["first", "second", "third"] {
                server.create_project(token, name).await;
            }
            let backup = gloss.home.path().join("backup.tar.gz");
            gloss
                .gloss(&["backup", "--out", backup.to_str().unwrap()])
                .ok()
                .await;
            assert!(backup.is_file(), "{label}");
            let users = gloss.gloss(&["user", "list"]).ok().await;
            let projects = gloss.gloss(&["project", "list"]).ok().await;
            assert_eq!(rows(&users).len(), 3, "{label}: {users}");
            assert_eq!(rows(&projects).len(), 3, "{label}: {projects}");

            // Into a fresh instance of the same backend.
            let other = fresh.next().expect("a fresh instance");
            assert_eq!(other.label, label);
            other
                .gloss(&["restore", backup.to_str().unwrap()])
                .ok()
                .await;
            assert_eq!(other.gloss(&["user", "list"]).ok().await, users, "{label}");
            assert_eq!(
                other.gloss(&["project", "list"]).ok().await,
                projects,
                "{label}"
            );
            // New rows get new ids after a restore.
            let config = gloss.home.path().join("label.xml");
            std::fs::write(&config, LABEL_CONFIG).unwrap();
            let id = other
                .gloss(&["project", "create", "--name", "after restore"])
                .args(&["--label-config", config.to_str().unwrap()])
                .ok()
                .await;
            let id: i64 = id.trim().parse().expect("an id");
            assert!(id > 3, "{label}: the new project got id {id}");

            // Into the same instance: what was added since is gone.
            server.create_user(token, "carol").await;
            server.create_project(token, "fourth").await;
            server.stop().await;
            assert_ne!(gloss.gloss(&["user", "list"]).ok().await, users);
            gloss
                .gloss(&["restore", backup.to_str().unwrap()])
                .ok()
                .await;
            assert_eq!(gloss.gloss(&["user", "list"]).ok().await, users, "{label}");
            assert_eq!(
                gloss.gloss(&["project", "list"]).ok().await,
                projects,
                "{label}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_backup_is_refused_and_changes_nothing() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            gloss
                .user_create("alice", "admin")
                .env("GLOSS_PASSWORD", "alice's password")
                .ok()
                .await;
            let good = gloss.home.path().join("good.tar.gz");
            gloss
                .gloss(&["backup", "--out", good.to_str().unwrap()])
                .ok()
                .await;
            gloss
                .user_create("bob", "admin")
                .env("GLOSS_PASSWORD", "bob's password")
                .ok()
                .await;
            let before = gloss.gloss(&["user", "list"]).ok().await;

            let bytes = std::fs::read(&good).unwrap();
            let damaged = [
                ("garbage.tar.gz", b"this is not a backup".to_vec()),
                ("truncated.tar.gz", bytes[..bytes.len() / 2].to_vec()),
            ];
            for (name, content) in damaged {
                let path = gloss.home.path().join(name);
                std::fs::write(&path, content).unwrap();
                let err = gloss
                    .gloss(&["restore", path.to_str().unwrap()])
                    .fails()
                    .await;
                assert!(err.contains("invalid backup"), "{label}, {name}: {err}");
                assert_eq!(
                    gloss.gloss(&["user", "list"]).ok().await,
                    before,
                    "{label}, {name}: the database changed"
                );
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_restores_into_postgres() {
    within(async {
        let Some(postgres) = Instance::postgres().await else {
            eprintln!("skipped: GLOSS_TEST_POSTGRES_URL is not set");
            return;
        };
        let sqlite = Instance::sqlite();
        sqlite
            .user_create("alice", "manager")
            .env("GLOSS_PASSWORD", "alice's password")
            .ok()
            .await;
        let config = sqlite.home.path().join("label.xml");
        std::fs::write(&config, LABEL_CONFIG).unwrap();
        sqlite
            .gloss(&["project", "create", "--name", "moved"])
            .args(&["--label-config", config.to_str().unwrap()])
            .ok()
            .await;
        let backup = sqlite.home.path().join("backup.tar.gz");
        sqlite
            .gloss(&["backup", "--out", backup.to_str().unwrap()])
            .ok()
            .await;

        postgres
            .gloss(&["restore", backup.to_str().unwrap()])
            .ok()
            .await;
        for list in [["user", "list"], ["project", "list"]] {
            assert_eq!(
                postgres.gloss(&list).ok().await,
                sqlite.gloss(&list).ok().await,
                "{list:?}"
            );
        }
        let server = postgres.serve(&[]).await;
        let token = server.sign_in("alice", "alice's password").await;
        server.create_project(&token, "after the move").await;
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_schema_is_backed_up_before_it_is_migrated() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let store =
                gloss_store::Store::open(&gloss.db.url, &gloss_store::StoreOptions::default())
                    .await
                    .expect("opening the store");
            store
                .migrate_to(gloss_store::MIGRATION_COUNT - 1)
                .await
                .expect("migrating to the previous schema");
            store.close().await;
            // The row is written in SQL with the columns of the first
            // schema, which every later one keeps, so whatever the last
            // migration changes, the row is one the old schema could hold.
            sqlx::any::install_default_drivers();
            let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&gloss.db.url)
                .await
                .expect("connecting to the database");
            sqlx::query(
                "INSERT INTO users (username, password_hash, role, active, created_at) \
                 VALUES ('old-timer', 'not a real hash', 'reviewer', 1, 0)",
            )
            .execute(&mut connection)
            .await
            .expect("creating a user");
            sqlx::Connection::close(connection).await.ok();

            let out = gloss.gloss(&["user", "list"]).run().await;
            assert!(out.status.success(), "{label}: {}", out.stderr);
            assert!(
                usernames(&out.stdout).contains(&"old-timer".to_string()),
                "{label}: {}",
                out.stdout
            );
            let backups: Vec<PathBuf> = std::fs::read_dir(gloss.data().join("backups"))
                .expect("a backups folder")
                .map(|entry| entry.unwrap().path())
                .collect();
            assert_eq!(backups.len(), 1, "{label}: {backups:?}");
            let name = backups[0].file_name().unwrap().to_str().unwrap();
            assert!(
                name.starts_with("before-migration-") && name.ends_with(".tar.gz"),
                "{label}: {name}"
            );
            assert!(
                out.stderr.contains("backup") && out.stderr.contains(name),
                "{label}: {}",
                out.stderr
            );

            // Migrated now: no second backup.
            gloss.gloss(&["user", "list"]).ok().await;
            let count = std::fs::read_dir(gloss.data().join("backups"))
                .unwrap()
                .count();
            assert_eq!(count, 1, "{label}");
        }
    })
    .await;
}

// ---------------------------------------------------------------- durability

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_kill_9() {
    const WRITERS: usize = 16;
    const MAX_PER_WRITER: usize = 200;
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let server = gloss.serve(&[]).await;
            let token = server.sign_in("admin", ADMIN_PASSWORD).await;
            let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
            let killed = Arc::new(AtomicBool::new(false));
            let mut writers = Vec::new();
            for writer in 0..WRITERS {
                let (client, base, token) =
                    (server.client.clone(), server.base.clone(), token.clone());
                let (acknowledged, killed) = (acknowledged.clone(), killed.clone());
                writers.push(tokio::spawn(async move {
                    for n in 0..MAX_PER_WRITER {
                        let name = format!("w{writer}-{n}");
                        let body = json!({"name": name, "label_config": LABEL_CONFIG});
                        let result = call(
                            &client,
                            &base,
                            reqwest::Method::POST,
                            "/api/v1/projects",
                            Some(&token),
                            Some(body),
                        )
                        .await;
                        match result {
                            Ok((status, _)) if (200..300).contains(&status) => {
                                acknowledged.lock().unwrap().push(name)
                            }
                            Ok((status, body)) => {
                                assert!(killed.load(Ordering::SeqCst), "{status}: {body}");
                                return;
                            }
                            Err(err) => {
                                assert!(killed.load(Ordering::SeqCst), "{err}");
                                return;
                            }
                        }
                    }
                }));
            }
            let started = Instant::now();
            while started.elapsed() < Duration::from_millis(1500)
                && acknowledged.lock().unwrap().len() < 300
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            killed.store(true, Ordering::SeqCst);
            server.crash().await;
            for writer in writers {
                writer.await.expect("a writer panicked");
            }
            let acknowledged = acknowledged.lock().unwrap().clone();
            assert!(
                acknowledged.len() >= 16,
                "{label}: only {} writes were acknowledged",
                acknowledged.len()
            );

            let server = gloss.serve(&[]).await;
            let token = server.sign_in("admin", ADMIN_PASSWORD).await;
            let stored: HashSet<String> = server
                .all_projects(&token)
                .await
                .iter()
                .map(|project| project["name"].as_str().unwrap().to_string())
                .collect();
            let lost: Vec<&String> = acknowledged
                .iter()
                .filter(|name| !stored.contains(*name))
                .collect();
            assert!(
                lost.is_empty(),
                "{label}: {} of {} acknowledged projects were lost: {lost:?}",
                lost.len(),
                acknowledged.len()
            );
            eprintln!(
                "{label}: {} acknowledged, {} stored",
                acknowledged.len(),
                stored.len()
            );
            server.stop().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_annotation_is_lost_to_kill_9() {
    const ANNOTATORS: usize = 16;
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let server = gloss.serve(&[]).await;
            let admin = server.sign_in("admin", ADMIN_PASSWORD).await;
            server.create_project(&admin, "queue").await;
            let project = server.all_projects(&admin).await[0]["id"].as_i64().unwrap();
            let tasks: Vec<Value> = (0..2000)
                .map(|i| json!({"image": format!("/{i}.png")}))
                .collect();
            let (status, body) = server
                .call(
                    reqwest::Method::POST,
                    &format!("/api/v1/projects/{project}/tasks"),
                    Some(&admin),
                    Some(Value::Array(tasks)),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            let mut tokens = Vec::new();
            for n in 0..ANNOTATORS {
                let username = format!("annotator{n}");
                server.create_user(&admin, &username).await;
                let (status, body) = server
                    .call(
                        reqwest::Method::POST,
                        &format!("/api/v1/projects/{project}/members"),
                        Some(&admin),
                        Some(json!({"username": username, "role": "annotator"})),
                    )
                    .await;
                assert_eq!(status, 200, "{body}");
                tokens.push(server.sign_in(&username, USER_PASSWORD).await);
            }

            let acknowledged = Arc::new(Mutex::new(Vec::<(i64, i64)>::new()));
            let killed = Arc::new(AtomicBool::new(false));
            let mut annotators = Vec::new();
            for token in tokens {
                let (client, base) = (server.client.clone(), server.base.clone());
                let (acknowledged, killed) = (acknowledged.clone(), killed.clone());
                annotators.push(tokio::spawn(async move {
                    loop {
                        let next = format!("/api/v1/projects/{project}/next");
                        let task = match call(
                            &client,
                            &base,
                            reqwest::Method::GET,
                            &next,
                            Some(&token),
                            None,
                        )
                        .await
                        {
                            Ok((200, body)) => body["task"]["id"].as_i64().unwrap(),
                            Ok((status, body)) => {
                                assert!(killed.load(Ordering::SeqCst), "{status}: {body}");
                                return;
                            }
                            Err(err) => {
                                assert!(killed.load(Ordering::SeqCst), "{err}");
                                return;
                            }
                        };
                        let submit = format!("/api/v1/tasks/{task}/annotations");
                        let work = json!({"result": [{"from_name": "scene", "to_name": "image",
                            "type": "choices", "value": {"choices": ["Urban"]}}]});
                        match call(
                            &client,
                            &base,
                            reqwest::Method::POST,
                            &submit,
                            Some(&token),
                            Some(work),
                        )
                        .await
                        {
                            Ok((201, body)) => acknowledged
                                .lock()
                                .unwrap()
                                .push((body["id"].as_i64().unwrap(), task)),
                            Ok((status, body)) => {
                                assert!(killed.load(Ordering::SeqCst), "{status}: {body}");
                                return;
                            }
                            Err(err) => {
                                assert!(killed.load(Ordering::SeqCst), "{err}");
                                return;
                            }
                        }
                    }
                }));
            }
            let started = Instant::now();
            while started.elapsed() < Duration::from_millis(1500)
                && acknowledged.lock().unwrap().len() < 400
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            killed.store(true, Ordering::SeqCst);
            server.crash().await;
            for annotator in annotators {
                annotator.await.expect("an annotator panicked");
            }
            let acknowledged = acknowledged.lock().unwrap().clone();
            assert!(
                acknowledged.len() >= 16,
                "{label}: only {} submits were acknowledged",
                acknowledged.len()
            );

            let server = gloss.serve(&[]).await;
            let admin = server.sign_in("admin", ADMIN_PASSWORD).await;
            let mut lost = Vec::new();
            for (annotation, task) in &acknowledged {
                let (status, body) = server
                    .call(
                        reqwest::Method::GET,
                        &format!("/api/v1/annotations/{annotation}"),
                        Some(&admin),
                        None,
                    )
                    .await;
                if status != 200 || body["task_id"] != *task {
                    lost.push(annotation);
                }
            }
            assert!(
                lost.is_empty(),
                "{label}: {} of {} acknowledged annotations were lost: {lost:?}",
                lost.len(),
                acknowledged.len()
            );
            // Each stored submit is priced in its own transaction: the
            // ledger holds one submit entry per stored annotation, for
            // acknowledged ones and for those the crash left unanswered,
            // and none for work that was not stored.
            let mut priced: HashMap<i64, usize> = HashMap::new();
            for n in 0..ANNOTATORS {
                let (status, body) = server
                    .call(
                        reqwest::Method::GET,
                        &format!("/api/v1/users/annotator{n}/pay-entries?project={project}"),
                        Some(&admin),
                        None,
                    )
                    .await;
                assert_eq!(status, 200, "{label}: {body}");
                for entry in body["entries"].as_array().unwrap() {
                    assert_eq!(entry["kind"], "submit", "{label}: {entry}");
                    let annotation = entry["annotation_id"].as_i64().unwrap();
                    *priced.entry(annotation).or_default() += 1;
                }
            }
            for (annotation, _) in &acknowledged {
                assert_eq!(
                    priced.get(annotation),
                    Some(&1),
                    "{label}: acknowledged annotation {annotation} is not priced once"
                );
            }
            let (status, export) = server
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/projects/{project}/export?format=json"),
                    Some(&admin),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{label}: {export}");
            let stored: HashSet<i64> = export
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|task| task["annotations"].as_array().unwrap())
                .map(|annotation| annotation["id"].as_i64().unwrap())
                .collect();
            let priced_once: HashSet<i64> = priced
                .iter()
                .filter(|(_, count)| **count == 1)
                .map(|(annotation, _)| *annotation)
                .collect();
            assert_eq!(
                (priced_once.len(), &stored),
                (priced.len(), &priced_once),
                "{label}: the stored annotations and the priced ones differ"
            );
            eprintln!(
                "{label}: {} acknowledged annotations, none lost, {} priced",
                acknowledged.len(),
                priced.len()
            );
            server.stop().await;
        }
    })
    .await;
}

// ---------------------------------------------------------------- errors

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_is_named_without_its_password() {
    within(async {
        let home = tempfile::tempdir().unwrap();
        let err = Gloss::new(home.path())
            .args(&["--data", "data"])
            .args(&["--database", "postgres://nobody:s3cret@127.0.0.1:1/none"])
            .args(&["user", "list"])
            .fails()
            .await;
        assert!(
            err.contains("postgres://nobody:***@127.0.0.1:1/none"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_database_scheme_is_refused() {
    within(async {
        let home = tempfile::tempdir().unwrap();
        let err = Gloss::new(home.path())
            .args(&["--data", "data", "--database", "mysql://x", "user", "list"])
            .fails()
            .await;
        assert!(
            err.contains("mysql://x") && err.contains("sqlite:// or postgres://"),
            "{err}"
        );
    })
    .await;
}

// ---------------------------------------------------------------- productivity

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gloss_productivity_writes_a_projects_annotators_and_the_leaderboard_as_csv() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let server = gloss.serve(&[]).await;
            let token = server.sign_in("admin", ADMIN_PASSWORD).await;
            server.create_project(&token, "counted").await;
            let tasks = json!([{"data": {"image": "/a.png"}}, {"data": {"image": "/b.png"}}, {"data": {"image": "/c.png"}}]);
            let (status, body) = server
                .call(reqwest::Method::POST, "/api/v1/projects/1/tasks", Some(&token), Some(tasks))
                .await;
            assert_eq!(status, 201, "{label}: {body}");
            for _ in 0..3 {
                let (_, next) = server
                    .call(reqwest::Method::GET, "/api/v1/projects/1/next", Some(&token), None)
                    .await;
                let task = next["task"]["id"].as_i64().expect("a task");
                let result = json!({"result": [{"id": "r", "from_name": "scene", "to_name": "image",
                    "type": "choices", "value": {"choices": ["Urban"]}}]});
                let (status, body) = server
                    .call(reqwest::Method::POST, &format!("/api/v1/tasks/{task}/annotations"), Some(&token), Some(result))
                    .await;
                assert_eq!(status, 201, "{label}: {body}");
            }
            server.stop().await;

            let csv = gloss.gloss(&["productivity", "--project", "1"]).ok().await;
            let lines: Vec<&str> = csv.lines().collect();
            assert_eq!(
                lines[0],
                "rank,username,tasks,active_hours,tasks_per_hour,median_active_seconds,\
                 rejection_rate,gold_accuracy,agreement,flags",
                "{label}"
            );
            assert_eq!(lines.len(), 2, "{label}: {csv}");
            assert!(lines[1].starts_with("1,admin,3,"), "{label}: {csv}");
            let out = gloss.home.path().join("board.csv");
            gloss
                .gloss(&["productivity", "--out", out.to_str().unwrap()])
                .ok()
                .await;
            let board = std::fs::read_to_string(&out).unwrap();
            assert!(board.lines().nth(1).unwrap().starts_with("1,admin,3,"), "{label}: {board}");
            let empty = gloss
                .gloss(&["productivity", "--project", "1", "--from", "2020-01-01", "--to", "2020-01-31"])
                .ok()
                .await;
            assert_eq!(empty.lines().count(), 1, "{label}: {empty}");
            let bad = gloss.gloss(&["productivity", "--from", "2026-1-1"]).fails().await;
            assert!(bad.contains("--from: `2026-1-1` is not a day"), "{label}: {bad}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_set_makes_a_qualification_test_and_requires_certifications() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let id = gloss.create_project("Test").await;
            let id = id.as_str();
            let set = gloss
                .gloss(&["project", "set", id, "--kind", "qualification", "--pass-score", "0.8"])
                .args(&["--max-attempts", "3", "--cooldown-minutes", "60"])
                .args(&["--grants-certification", "Pets", "--valid-days", "365", "--grants-skill", "cats"])
                .args(&["--required-certifications", "a,b"])
                .ok()
                .await;
            assert!(
                set.contains("kind qualification: pass score 0.8, 3 attempts, 60 min cool-down, grants pets for 365 days and the skill cats"),
                "{label}: {set}"
            );
            assert!(set.contains("requires the certifications a, b"), "{label}: {set}");
            let set = gloss
                .gloss(&["project", "set", id, "--valid-days", "none", "--grants-skill", ""])
                .ok()
                .await;
            assert!(set.contains("grants pets without expiry\n"), "{label}: {set}");
            let err = gloss
                .gloss(&["project", "set", id, "--pass-score", "1.5"])
                .fails()
                .await;
            assert!(err.contains("pass_score"), "{label}: {err}");
            let err = gloss
                .gloss(&["project", "set", id, "--kind", "exam"])
                .fails()
                .await;
            assert!(err.contains("labeling, training or qualification"), "{label}: {err}");
            let results = gloss
                .gloss(&["project", "qualification-results", id])
                .ok()
                .await;
            assert!(results.starts_with("attempt"), "{label}: {results}");
        }
    })
    .await;
}
