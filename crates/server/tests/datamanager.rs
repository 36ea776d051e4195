//! The data manager through the API, on SQLite and PostgreSQL: the task
//! table's filters, sorts and keyset pages (every row exactly once, in
//! order, ties included), bulk actions by selection and by filter with the
//! per-status counts kept right, and saved views, personal and shared.

use gloss_engine::Actor;
use gloss_test_support::{databases, index_names, TestServer, LABEL_CONFIG};
use gloss_types::{ProjectId, ProjectRole, Role};
use reqwest::Method;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::collections::HashSet;

const TASKS: usize = 30;
const CITIES: [&str; 3] = ["Lyon", "Paris", "Nice"];

fn work(choice: &str) -> Value {
    json!({"result": [{"id": "c1", "from_name": "class", "to_name": "image", "type": "choices",
                       "value": {"choices": [choice]}}]})
}

/// The data of task number `i` (0-based): a city for most, a width for
/// some, a prediction score for every third.
fn task(i: usize) -> Value {
    let mut data = json!({"image": format!("/img/{i}.png"), "n": i});
    if i % 5 != 4 {
        data["city"] = json!(CITIES[i % 3]);
    }
    if i.is_multiple_of(2) {
        data["width"] = json!((i * 37) % 200);
    }
    let mut task = json!({"data": data});
    if i.is_multiple_of(3) {
        task["predictions"] = json!([
            {"model_version": "m", "score": (i % 7) as f64 / 10.0, "result": []},
            {"model_version": "m", "score": 0.05, "result": []}
        ]);
    }
    task
}

struct Setup {
    server: TestServer,
    manager: String,
    reviewer: String,
    annotators: Vec<String>,
    outsider: String,
    project: i64,
    /// Task ids in import order.
    ids: Vec<i64>,
}

async fn setup(server: TestServer) -> Setup {
    let (_, manager) = server.user("manager", Role::Manager).await;
    let (_, reviewer) = server.user("reviewer", Role::Reviewer).await;
    let (_, outsider) = server.user("outsider", Role::Annotator).await;
    let id = server.create_project(&manager, "dm", LABEL_CONFIG).await;
    let rows: Vec<Value> = (0..TASKS).map(task).collect();
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/projects/{id}/tasks"),
            Some(&manager),
            Some(Value::Array(rows)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut annotators = Vec::new();
    for (name, role) in [
        ("reviewer", ProjectRole::Reviewer),
        ("a1", ProjectRole::Annotator),
        ("a2", ProjectRole::Annotator),
    ] {
        if name != "reviewer" {
            let (_, token) = server.user(name, Role::Annotator).await;
            annotators.push(token);
        }
        server
            .engine
            .put_member(&Actor::Operator, ProjectId(id), name, Some(role))
            .await
            .unwrap();
    }
    let mut ids = Vec::new();
    let mut after = String::new();
    loop {
        let (status, page) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/tasks?limit=1000{after}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        for item in page["items"].as_array().unwrap() {
            ids.push(item["id"].as_i64().unwrap());
        }
        match page["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    assert_eq!(ids.len(), TASKS);
    Setup {
        server,
        manager,
        reviewer,
        annotators,
        outsider,
        project: id,
        ids,
    }
}

impl Setup {
    async fn submit(&self, annotator: usize, task: usize, choice: &str) {
        let (status, body) = self
            .server
            .call(
                Method::POST,
                &format!("/api/v1/tasks/{}/annotations", self.ids[task]),
                Some(&self.annotators[annotator]),
                Some(work(choice)),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    /// Every row of the table for `query`, page by page (`limit` rows each).
    async fn all(&self, query: &str, limit: usize) -> Vec<Value> {
        let mut rows = Vec::new();
        let mut after = String::new();
        for _ in 0..1000 {
            let (status, page) = self
                .server
                .call(
                    Method::GET,
                    &format!(
                        "/api/v1/projects/{}/task-table?limit={limit}{query}{after}",
                        self.project
                    ),
                    Some(&self.manager),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{query}: {page}");
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= limit);
            rows.extend(items.iter().cloned());
            match page["next"].as_str() {
                Some(next) => {
                    assert_eq!(items.len(), limit, "{query}: a short page before the end");
                    after = format!("&after={next}");
                }
                None => return rows,
            }
        }
        panic!("{query}: the pages never end");
    }

    /// The ids of every matching task, in the table's order.
    async fn ids_for(&self, query: &str) -> Vec<i64> {
        self.all(query, 7)
            .await
            .iter()
            .map(|row| row["id"].as_i64().unwrap())
            .collect()
    }

    /// The ids of tasks (by number) for which `pick` holds, in id order.
    fn expected(&self, pick: impl Fn(usize) -> bool) -> Vec<i64> {
        (0..TASKS)
            .filter(|i| pick(*i))
            .map(|i| self.ids[i])
            .collect()
    }

    async fn counts(&self) -> Value {
        let (status, counts) = self
            .server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{}/task-counts", self.project),
                Some(&self.manager),
                None,
            )
            .await;
        assert_eq!(status, 200, "{counts}");
        counts
    }

    async fn bulk(&self, token: &str, body: Value) -> (u16, Value) {
        self.server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{}/tasks/bulk", self.project),
                Some(token),
                Some(body),
            )
            .await
    }
}

fn filter(value: Value) -> String {
    format!(
        "&filter={}",
        url_escape(&serde_json::to_string(&value).unwrap())
    )
}

fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Compares sort keys as the table orders them: missing (null) first,
/// numbers by value, strings by text.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap()
            .partial_cmp(&y.as_f64().unwrap())
            .unwrap(),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => panic!("mixed sort keys {a} {b}"),
    }
}

#[tokio::test]
async fn the_table_filters_sorts_and_pages() {
    for db in databases().await {
        let setup = setup(TestServer::start(&db).await).await;
        let before_work = gloss_types::Timestamp::now();
        // a1 labels tasks 0..5 Cat; a2 labels 3..8 Dog.
        for i in 0..5 {
            setup.submit(0, i, "Cat").await;
        }
        for i in 3..8 {
            setup.submit(1, i, "Dog").await;
        }
        let all: Vec<i64> = setup.ids.clone();

        // No filter: every task once, in id order, with a count.
        assert_eq!(setup.ids_for("").await, all, "{}", db.label);
        let (status, page) = setup
            .server
            .call(
                Method::GET,
                &format!(
                    "/api/v1/projects/{}/task-table?limit=3&count=true&status=completed",
                    setup.project
                ),
                Some(&setup.manager),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], 8, "{}", db.label);
        let first = &page["items"][0];
        assert_eq!(first["image"], "/img/0.png");
        assert_eq!(first["annotators"], json!(["a1"]));
        assert_eq!(first["status"], "completed");
        assert_eq!(first["prediction_score"], 0.05);
        assert_eq!(first["data"]["city"], "Lyon");

        // Each kind of filter.
        let checks: Vec<(String, Vec<i64>)> = vec![
            ("&status=completed".into(), setup.expected(|i| i < 8)),
            ("&status=new,in_progress".into(), setup.expected(|i| i >= 8)),
            ("&annotator=a1".into(), setup.expected(|i| i < 5)),
            (
                "&annotator=a2".into(),
                setup.expected(|i| (3..8).contains(&i)),
            ),
            ("&label=Cat".into(), setup.expected(|i| i < 5)),
            // Independent conditions: a1 annotated 3 and 4, which a2 labelled Dog.
            (
                "&label=Dog&annotator=a1".into(),
                setup.expected(|i| (3..5).contains(&i)),
            ),
            ("&label=Bird".into(), vec![]),
            ("&label=Dog".into(), setup.expected(|i| (3..8).contains(&i))),
            (
                filter(json!({"data": [{"key": "city", "op": "eq", "value": "Lyon"}]})),
                setup.expected(|i| i % 5 != 4 && i % 3 == 0),
            ),
            (
                filter(json!({"data": [{"key": "city", "op": "contains", "value": "ARI"}]})),
                setup.expected(|i| i % 5 != 4 && i % 3 == 1),
            ),
            // Three letters and fewer (no trigram to look up), any case.
            (
                filter(json!({"data": [{"key": "city", "op": "contains", "value": "nIc"}]})),
                setup.expected(|i| i % 5 != 4 && i % 3 == 2),
            ),
            (
                filter(json!({"data": [{"key": "city", "op": "contains", "value": "Ly"}]})),
                setup.expected(|i| i % 5 != 4 && i % 3 == 0),
            ),
            (
                filter(json!({"data": [{"key": "width", "op": "gt", "value": 100}]})),
                setup.expected(|i| i % 2 == 0 && (i * 37) % 200 > 100),
            ),
            (
                filter(json!({"data": [{"key": "width", "op": "lte", "value": 74},
                                       {"key": "n", "op": "gte", "value": 2}]})),
                setup.expected(|i| i % 2 == 0 && (i * 37) % 200 <= 74 && i >= 2),
            ),
            (
                filter(json!({"data": [{"key": "city", "op": "eq", "value": null}]})),
                setup.expected(|i| i % 5 == 4),
            ),
            // Text in another field of the task ("png" is in every image
            // path) does not make `contains` match; nor does a quote, which
            // the stored JSON escapes.
            (
                filter(json!({"data": [{"key": "city", "op": "contains", "value": "png"}]})),
                vec![],
            ),
            (
                filter(json!({"data": [{"key": "city", "op": "contains", "value": "Ly\"on"}]})),
                vec![],
            ),
            (
                filter(json!({"data": [{"key": "image", "op": "contains", "value": "/IMG/1"}]})),
                setup.expected(|i| format!("/img/{i}").starts_with("/img/1")),
            ),
            (
                "&prediction_score_min=0.3".into(),
                setup.expected(|i| i % 3 == 0 && (i % 7) as f64 / 10.0 >= 0.3),
            ),
            (
                "&prediction_score_max=0.1".into(),
                setup.expected(|i| i % 3 == 0 && (i % 7) as f64 / 10.0 <= 0.1),
            ),
            (
                format!("&updated_after={}", url_escape(&before_work.to_rfc3339())),
                setup.expected(|i| i < 8),
            ),
            (
                format!("&created_before={}", url_escape(&before_work.to_rfc3339())),
                all.clone(),
            ),
            // No task created in the window (on PostgreSQL, in id order,
            // its ids are read first: there are none).
            (
                format!("&created_after={}", url_escape(&before_work.to_rfc3339())),
                vec![],
            ),
            (
                format!(
                    "&status=completed{}",
                    filter(json!({"status": ["new"], "label": "Cat"}))
                ),
                setup.expected(|i| i < 5),
            ),
        ];
        // On SQLite, `contains` reads the text index for the tasks in it:
        // checked with none, half and all of the tasks in it.
        let store = setup.server.engine.store();
        for round in ["no task", "half the tasks", "every task"] {
            match round {
                "no task" => {}
                "half the tasks" => {
                    store.index_task_text(TASKS as i64 / 2).await.unwrap();
                }
                _ => while store.index_task_text(7).await.unwrap().added > 0 {},
            }
            if round != "no task" && db.label != "sqlite" {
                continue;
            }
            check_filters(
                &setup,
                &checks,
                &format!("{}, {round} in the text index", db.label),
            )
            .await;
        }

        // Every sort, read in pages of several sizes: each task exactly
        // once, in order of (key, id), ties included.
        let key = |sort: &str, row: &Value| -> Value {
            let name = sort.trim_start_matches('-');
            match name {
                "id" => row["id"].clone(),
                // As instants: RFC 3339 text leaves out zero milliseconds,
                // so it does not sort as text.
                "updated" | "created" => {
                    let text = row[format!("{name}_at")].as_str().unwrap();
                    json!(gloss_types::Timestamp::parse_rfc3339(text)
                        .unwrap()
                        .millis())
                }
                "annotation_count" => row["annotation_count"].clone(),
                "prediction_score" => row["prediction_score"].clone(),
                data => row["data"][data.trim_start_matches("data.")].clone(),
            }
        };
        for sort in [
            "id",
            "-id",
            "updated",
            "-updated",
            "created",
            "annotation_count",
            "-annotation_count",
            "prediction_score",
            "-prediction_score",
            "data.city",
            "-data.city",
            "data.width",
            "-data.width",
        ] {
            for (limit, extra) in [(1, ""), (4, ""), (30, ""), (3, "&status=new")] {
                let rows = setup.all(&format!("&sort={sort}{extra}"), limit).await;
                let ids: Vec<i64> = rows.iter().map(|row| row["id"].as_i64().unwrap()).collect();
                let unique: HashSet<i64> = ids.iter().copied().collect();
                assert_eq!(
                    unique.len(),
                    ids.len(),
                    "{}: {sort} repeats a row",
                    db.label
                );
                let expected = if extra.is_empty() { TASKS } else { TASKS - 8 };
                assert_eq!(ids.len(), expected, "{}: {sort} {limit}{extra}", db.label);
                for pair in rows.windows(2) {
                    let mut order = compare(&key(sort, &pair[0]), &key(sort, &pair[1]))
                        .then(pair[0]["id"].as_i64().cmp(&pair[1]["id"].as_i64()));
                    if sort.starts_with('-') {
                        order = order.reverse();
                    }
                    assert_eq!(
                        order,
                        Ordering::Less,
                        "{}: {sort} out of order: {} then {}",
                        db.label,
                        pair[0],
                        pair[1]
                    );
                }
            }
        }

        // Mistakes name their parameter.
        for (query, field) in [
            ("sort=nope", "sort"),
            ("sort=data.a%27b", "sort"),
            ("after=garbage", "after"),
            ("status=done", "status"),
            ("limit=0", "limit"),
            ("annotator=nobody", "annotator"),
            ("filter=%7B%22x%22%3A1%7D", "filter.x"),
            ("created_after=yesterday", "created_after"),
        ] {
            let (status, body) = setup
                .server
                .call(
                    Method::GET,
                    &format!("/api/v1/projects/{}/task-table?{query}", setup.project),
                    Some(&setup.manager),
                    None,
                )
                .await;
            assert_eq!(status, 422, "{}: {query}: {body}", db.label);
            assert_eq!(body["details"]["field"], field, "{query}: {body}");
        }
        // A cursor of one sort is refused by another.
        let (_, page) = setup
            .server
            .call(
                Method::GET,
                &format!(
                    "/api/v1/projects/{}/task-table?limit=2&sort=-updated",
                    setup.project
                ),
                Some(&setup.manager),
                None,
            )
            .await;
        let next = page["next"].as_str().unwrap();
        let (status, _) = setup
            .server
            .call(
                Method::GET,
                &format!(
                    "/api/v1/projects/{}/task-table?sort=id&after={next}",
                    setup.project
                ),
                Some(&setup.manager),
                None,
            )
            .await;
        assert_eq!(status, 422);

        // Reviewers read the table; annotators and outsiders do not.
        for (token, expected) in [
            (&setup.reviewer, 200),
            (&setup.annotators[0], 403),
            (&setup.outsider, 404),
        ] {
            let (status, body) = setup
                .server
                .call(
                    Method::GET,
                    &format!("/api/v1/projects/{}/task-table", setup.project),
                    Some(token),
                    None,
                )
                .await;
            assert_eq!(status, expected, "{body}");
        }
        setup.server.stop().await;
    }
}

#[tokio::test]
async fn bulk_actions_change_tasks_and_keep_counts_right() {
    for db in databases().await {
        let setup = setup(TestServer::start(&db).await).await;
        for i in 0..4 {
            setup.submit(0, i, "Cat").await;
        }
        // a2 holds a reservation and a draft on a task.
        let (status, next) = setup
            .server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{}/next", setup.project),
                Some(&setup.annotators[1]),
                None,
            )
            .await;
        assert_eq!(status, 200, "{next}");
        let held = next["task"]["id"].as_i64().unwrap();
        let (status, _) = setup
            .server
            .call(
                Method::PUT,
                &format!("/api/v1/tasks/{held}/draft"),
                Some(&setup.annotators[1]),
                Some(work("Dog")),
            )
            .await;
        assert_eq!(status, 200);
        let counts = setup.counts().await;
        assert_eq!(counts["completed"], 4, "{counts}");
        assert_eq!(counts["in_progress"], 1, "{counts}");

        // Who may: managers (and admins); reviewers and annotators are
        // refused, outsiders do not see the project.
        let body = json!({"action": "delete", "tasks": [setup.ids[0]]});
        for (token, expected) in [
            (&setup.reviewer, 403),
            (&setup.annotators[0], 403),
            (&setup.outsider, 404),
        ] {
            let (status, answer) = setup.bulk(token, body.clone()).await;
            assert_eq!(status, expected, "{}: {answer}", db.label);
        }
        // Malformed requests.
        for (body, field) in [
            (json!({"action": "delete"}), "tasks"),
            (
                json!({"action": "delete", "tasks": [1], "filter": {}}),
                "tasks",
            ),
            (json!({"action": "delete", "tasks": []}), "tasks"),
            (
                json!({"action": "delete", "tasks": [1], "except": [2]}),
                "except",
            ),
            (json!({"action": "assign", "tasks": [1]}), "users"),
            (
                json!({"action": "assign", "tasks": [1], "users": ["outsider"]}),
                "users[0]",
            ),
            (
                json!({"action": "assign", "tasks": [1], "users": ["nobody"]}),
                "users[0]",
            ),
            (json!({"action": "set_priority", "tasks": [1]}), "priority"),
            (
                json!({"action": "set_priority", "tasks": [1], "priority": 99_999_999}),
                "priority",
            ),
            (
                json!({"action": "reset", "tasks": [1], "priority": 3}),
                "priority",
            ),
            (json!({"action": "explode", "tasks": [1]}), "action"),
            (
                json!({"action": "delete", "filter": {"annotator": "nobody"}}),
                "filter.annotator",
            ),
        ] {
            let (status, answer) = setup.bulk(&setup.manager, body.clone()).await;
            assert_eq!(status, 422, "{}: {body}: {answer}", db.label);
            assert_eq!(answer["details"]["field"], field, "{body}: {answer}");
        }
        let counts_before = setup.counts().await;
        assert_eq!(counts_before, counts, "refused actions changed nothing");

        // Delete a selection: an annotated task, the held one, and an id of
        // no task of this project.
        let (status, done) = setup
            .bulk(
                &setup.manager,
                json!({"action": "delete", "tasks": [setup.ids[0], held, 999_999]}),
            )
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["affected"], 2, "{}", db.label);
        let counts = setup.counts().await;
        assert_eq!(
            counts["total"],
            (TASKS - 2) as i64,
            "{}: {counts}",
            db.label
        );
        assert_eq!(counts["completed"], 3, "{counts}");
        assert_eq!(counts["in_progress"], 0, "{counts}");
        for id in [setup.ids[0], held] {
            let (status, _) = setup
                .server
                .call(
                    Method::GET,
                    &format!("/api/v1/tasks/{id}"),
                    Some(&setup.manager),
                    None,
                )
                .await;
            assert_eq!(status, 404);
        }
        assert_eq!(setup.ids_for("&label=Cat").await.len(), 3);

        // Reset every completed task (by filter): annotations gone, back to new.
        let (status, done) = setup
            .bulk(
                &setup.manager,
                json!({"action": "reset", "filter": {"status": ["completed"]}}),
            )
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["affected"], 3);
        let counts = setup.counts().await;
        assert_eq!(counts["completed"], 0, "{}: {counts}", db.label);
        assert_eq!(counts["new"], (TASKS - 2) as i64, "{counts}");
        assert!(setup.ids_for("&label=Cat").await.is_empty());
        assert!(setup.ids_for("&annotator=a1").await.is_empty());
        let (_, detail) = setup
            .server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{}", setup.ids[1]),
                Some(&setup.manager),
                None,
            )
            .await;
        assert_eq!(detail["annotations"], json!([]), "{detail}");
        assert_eq!(detail["annotation_count"], 0);
        // a1 can label a reset task again.
        setup.submit(0, 1, "Dog").await;
        assert_eq!(setup.ids_for("&label=Dog").await, vec![setup.ids[1]]);

        // Priorities for a whole filtered set; the queue follows them.
        let (status, _) = setup
            .server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{}", setup.project),
                Some(&setup.manager),
                Some(json!({"queue_order": "priority"})),
            )
            .await;
        assert_eq!(status, 200);
        let lyon = json!({"data": [{"key": "city", "op": "eq", "value": "Lyon"}]});
        let (status, done) = setup
            .bulk(
                &setup.manager,
                json!({"action": "set_priority", "filter": lyon, "priority": 7}),
            )
            .await;
        assert_eq!(status, 200, "{done}");
        let lyon_ids = setup.ids_for(&filter(lyon.clone())).await;
        assert_eq!(done["affected"], lyon_ids.len() as i64);
        let rows = setup.all(&filter(lyon.clone()), 50).await;
        assert!(rows.iter().all(|row| row["priority"] == 7));
        // The same set but two tasks ("select all matching", then untick two).
        let (status, done) = setup
            .bulk(
                &setup.manager,
                json!({"action": "set_priority", "filter": lyon, "priority": 5,
                       "except": [lyon_ids[0], lyon_ids[1]]}),
            )
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["affected"], lyon_ids.len() as i64 - 2);
        let rows = setup.all(&filter(lyon.clone()), 50).await;
        for row in &rows {
            let left_out = row["id"] == lyon_ids[0] || row["id"] == lyon_ids[1];
            assert_eq!(row["priority"], if left_out { 7 } else { 5 }, "{row}");
        }
        let (_, next) = setup
            .server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{}/next", setup.project),
                Some(&setup.annotators[1]),
                None,
            )
            .await;
        assert!(
            lyon_ids.contains(&next["task"]["id"].as_i64().unwrap()),
            "{}: {next}",
            db.label
        );

        // Assign a selection to two members.
        let chosen = vec![setup.ids[20], setup.ids[21]];
        let (status, done) = setup
            .bulk(
                &setup.manager,
                json!({"action": "assign", "tasks": chosen, "users": ["a1", "reviewer"]}),
            )
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["affected"], 4);
        let (_, assignments) = setup
            .server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{}/assignments", setup.project),
                Some(&setup.manager),
                None,
            )
            .await;
        assert_eq!(assignments.as_array().unwrap().len(), 4, "{assignments}");

        // Delete a filtered set; the counts follow.
        let before = setup.counts().await;
        let paris = json!({"data": [{"key": "city", "op": "eq", "value": "Paris"}]});
        let paris_ids = setup.ids_for(&filter(paris.clone())).await;
        let (status, done) = setup
            .bulk(&setup.manager, json!({"action": "delete", "filter": paris}))
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["affected"], paris_ids.len() as i64);
        let after = setup.counts().await;
        assert_eq!(
            after["total"].as_i64().unwrap(),
            before["total"].as_i64().unwrap() - paris_ids.len() as i64,
            "{}",
            db.label
        );
        let remaining = setup.ids_for("").await;
        assert_eq!(remaining.len() as i64, after["total"].as_i64().unwrap());
        for status in ["new", "in_progress", "completed"] {
            let listed = setup.ids_for(&format!("&status={status}")).await;
            assert_eq!(
                listed.len() as i64,
                after[status].as_i64().unwrap(),
                "{}: {status}",
                db.label
            );
        }

        // Everything, by the empty filter.
        let (status, done) = setup
            .bulk(&setup.manager, json!({"action": "delete", "filter": {}}))
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["affected"], after["total"]);
        let counts = setup.counts().await;
        assert_eq!(
            counts,
            json!({"total": 0, "new": 0, "in_progress": 0, "completed": 0})
        );
        setup.server.stop().await;
    }
}

#[tokio::test]
async fn views_are_personal_or_shared_by_managers() {
    for db in databases().await {
        let setup = setup(TestServer::start(&db).await).await;
        let project = setup.project;
        let call = |method: Method, path: String, token: &str, body: Option<Value>| {
            let server = &setup.server;
            let token = token.to_string();
            async move { server.call(method, &path, Some(&token), body).await }
        };
        let views_path = format!("/api/v1/projects/{project}/views");
        let names = |views: &Value| -> Vec<String> {
            views
                .as_array()
                .unwrap()
                .iter()
                .map(|view| view["name"].as_str().unwrap().to_string())
                .collect()
        };

        // An annotator saves a view for themselves; nobody else sees it.
        let state = json!({"name": "my cats", "filter": {"label": "Cat", "status": ["completed"]},
                           "sort": "-updated", "columns": ["image", "city"]});
        let (status, mine) = call(
            Method::POST,
            views_path.clone(),
            &setup.annotators[0],
            Some(state),
        )
        .await;
        assert_eq!(status, 201, "{}: {mine}", db.label);
        assert_eq!(mine["shared"], false);
        assert_eq!(mine["owner"], "a1");
        assert_eq!(mine["filter"]["label"], "Cat");
        assert_eq!(mine["columns"], json!(["image", "city"]));
        let mine_id = mine["id"].as_i64().unwrap();
        // An empty sort is the default order, on create as on update.
        let (status, plain) = call(
            Method::POST,
            views_path.clone(),
            &setup.annotators[0],
            Some(json!({"name": "plain", "sort": ""})),
        )
        .await;
        assert_eq!((status, &plain["sort"]), (201, &Value::Null), "{plain}");
        let (status, _) = call(
            Method::DELETE,
            format!("/api/v1/views/{}", plain["id"]),
            &setup.annotators[0],
            None,
        )
        .await;
        assert_eq!(status, 204);
        // Only managers share.
        let (status, _) = call(
            Method::POST,
            views_path.clone(),
            &setup.annotators[0],
            Some(json!({"name": "for all", "shared": true})),
        )
        .await;
        assert_eq!(status, 403);
        let (status, shared) = call(
            Method::POST,
            views_path.clone(),
            &setup.manager,
            Some(json!({"name": "to review", "shared": true,
                        "filter": {"data": [{"key": "city", "op": "eq", "value": "Lyon"}]}})),
        )
        .await;
        assert_eq!(status, 201, "{shared}");
        let shared_id = shared["id"].as_i64().unwrap();
        let (_, personal) = call(
            Method::POST,
            views_path.clone(),
            &setup.manager,
            Some(json!({"name": "manager's own"})),
        )
        .await;

        for (token, expected) in [
            (&setup.annotators[0], vec!["to review", "my cats"]),
            (&setup.annotators[1], vec!["to review"]),
            (&setup.reviewer, vec!["to review"]),
            (&setup.manager, vec!["to review", "manager's own"]),
        ] {
            let (status, views) = call(Method::GET, views_path.clone(), token, None).await;
            assert_eq!(status, 200, "{views}");
            assert_eq!(names(&views), expected, "{}", db.label);
        }
        let (status, _) = call(Method::GET, views_path.clone(), &setup.outsider, None).await;
        assert_eq!(status, 404);

        // Changing and deleting: owners their personal views, managers the
        // shared ones; others' personal views do not exist for anyone else.
        let view_path = |id: i64| format!("/api/v1/views/{id}");
        let rename = Some(json!({"name": "renamed"}));
        for (token, id, expected) in [
            (&setup.reviewer, shared_id, 403),
            (&setup.annotators[0], shared_id, 403),
            (&setup.annotators[1], mine_id, 404),
            (&setup.manager, mine_id, 404),
            (&setup.outsider, shared_id, 404),
            (&setup.annotators[0], mine_id, 200),
            (&setup.manager, shared_id, 200),
        ] {
            let (status, body) = call(Method::PATCH, view_path(id), token, rename.clone()).await;
            assert_eq!(status, expected, "{}: view {id}: {body}", db.label);
        }
        let (status, body) = call(
            Method::PATCH,
            view_path(mine_id),
            &setup.annotators[0],
            Some(json!({"shared": true})),
        )
        .await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = call(
            Method::PATCH,
            view_path(mine_id),
            &setup.annotators[0],
            Some(json!({"sort": "data.city", "filter": {"status": ["new"]}})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["sort"], "data.city");
        assert_eq!(body["filter"], json!({"status": ["new"]}));
        assert_eq!(body["columns"], json!(["image", "city"]), "kept");
        // Bad states are refused, naming the field.
        for (body, field) in [
            (json!({"name": ""}), "name"),
            (json!({"name": "x", "sort": "bogus"}), "sort"),
            (
                json!({"name": "x", "filter": {"data": [{"key": "a b", "op": "eq", "value": 1}]}}),
                "filter.data[0].key",
            ),
            (
                json!({"name": "x", "filter": {"data": [{"key": "w", "op": "gt", "value": "big"}]}}),
                "filter.data[0].value",
            ),
        ] {
            let (status, answer) =
                call(Method::POST, views_path.clone(), &setup.manager, Some(body)).await;
            assert_eq!(status, 422, "{answer}");
            assert_eq!(answer["details"]["field"], field, "{answer}");
        }
        for (token, id, expected) in [
            (&setup.reviewer, shared_id, 403),
            (&setup.annotators[1], mine_id, 404),
            (&setup.annotators[0], mine_id, 204),
            (&setup.manager, shared_id, 204),
            (&setup.manager, shared_id, 404),
        ] {
            let (status, body) = call(Method::DELETE, view_path(id), token, None).await;
            assert_eq!(status, expected, "{}: view {id}: {body}", db.label);
        }
        let (_, views) = call(Method::GET, views_path.clone(), &setup.manager, None).await;
        assert_eq!(names(&views), vec!["manager's own"], "{personal}");
        setup.server.stop().await;
    }
}

/// Reads each filter's tasks and count, and checks them against the expected ids.
async fn check_filters(setup: &Setup, checks: &[(String, Vec<i64>)], label: &str) {
    for (query, expected) in checks {
        assert_eq!(&setup.ids_for(query).await, expected, "{}: {query}", label);
        let (_, page) = setup
            .server
            .call(
                Method::GET,
                &format!(
                    "/api/v1/projects/{}/task-table?count=true{query}",
                    setup.project
                ),
                Some(&setup.manager),
                None,
            )
            .await;
        assert_eq!(
            page["total"].as_i64(),
            Some(expected.len() as i64),
            "{}: count of {query}",
            label
        );
    }
}

/// The server's background worker (`keep_table_indexes`, which `gloss
/// serve` runs) indexes a data key that only tasks in the middle of an
/// import have, as it adds them to the text index (SQLite): the import's
/// own look at the project's first and last 100 tasks misses it.
#[tokio::test]
async fn a_key_only_tasks_in_the_middle_have_is_indexed_in_the_background() {
    for db in databases().await {
        if db.label != "sqlite" {
            // PostgreSQL keeps its own text index; there is no worker.
            continue;
        }
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let id = ProjectId(
            server
                .create_project(&manager, "middle", LABEL_CONFIG)
                .await,
        );
        let rows: Vec<Value> = (0..300)
            .map(|i| {
                let mut data = json!({"image": format!("/img/{i}.png")});
                if i == 150 {
                    data["camera"] = json!("C7");
                }
                json!({"data": data})
            })
            .collect();
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{}/tasks", id.0),
                Some(&manager),
                Some(Value::Array(rows)),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let indexing = server.engine.clone();
        let worker = tokio::spawn(async move { indexing.keep_table_indexes().await });
        // The import's look at the first and last tasks makes the image's
        // index; the worker, the camera's.
        let pattern = format!("tasks\\_data\\_%\\_p{}", id.0);
        let started = std::time::Instant::now();
        while index_names(&db, &pattern).await.len() < 2 {
            assert!(
                started.elapsed().as_secs() < 30,
                "indexes after 30 s: {:?}",
                index_names(&db, &pattern).await
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let done = server
            .engine
            .store()
            .prepare_data_key_indexes(id, &["image".to_string(), "camera".to_string()])
            .await
            .unwrap();
        assert_eq!(done.made, Vec::<String>::new(), "both were made before");
        worker.abort();
    }
}
