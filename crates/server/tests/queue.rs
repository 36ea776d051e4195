//! The annotator queue through the API, on SQLite and PostgreSQL: 64
//! concurrent annotators draining projects, reservations and their expiry,
//! skips, versions and stale updates, manual assignment, drafts, orders.

use gloss_engine::Actor;
use gloss_test_support::{databases, TestServer, LABEL_CONFIG};
use gloss_types::{ProjectId, ProjectRole, Role, TaskId};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// A valid result for [`LABEL_CONFIG`].
fn cat() -> Value {
    json!([{"id": "c1", "from_name": "class", "to_name": "image", "type": "choices",
            "value": {"choices": ["Cat"]}}])
}

fn dog() -> Value {
    json!([{"id": "c1", "from_name": "class", "to_name": "image", "type": "choices",
            "value": {"choices": ["Dog"]}}])
}

/// A project with `tasks` tasks and the given queue settings; returns its id.
async fn project(server: &TestServer, token: &str, tasks: usize, settings: Value) -> i64 {
    let id = server.create_project(token, "queue", LABEL_CONFIG).await;
    let (status, body) = server
        .call(
            Method::PATCH,
            &format!("/api/v1/projects/{id}"),
            Some(token),
            Some(settings),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let rows: Vec<Value> = (0..tasks)
        .map(|i| json!({"image": format!("/img/{i}.png")}))
        .collect();
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/projects/{id}/tasks"),
            Some(token),
            Some(Value::Array(rows)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    id
}

/// Annotator accounts, members of `projects`, with their tokens.
async fn annotators(
    server: &TestServer,
    prefix: &str,
    count: usize,
    projects: &[i64],
) -> Vec<(i64, String)> {
    let mut people = Vec::new();
    for i in 0..count {
        let (user, token) = server.user(&format!("{prefix}{i}"), Role::Annotator).await;
        for project in projects {
            server
                .engine
                .put_member(
                    &Actor::Operator,
                    ProjectId(*project),
                    &user.username,
                    Some(ProjectRole::Annotator),
                )
                .await
                .unwrap();
        }
        people.push((user.id.0, token));
    }
    people
}

async fn next(server: &TestServer, token: &str, project: i64) -> Option<i64> {
    let (status, body) = server
        .call(
            Method::GET,
            &format!("/api/v1/projects/{project}/next"),
            Some(token),
            None,
        )
        .await;
    match status {
        200 => Some(body["task"]["id"].as_i64().unwrap()),
        204 => None,
        _ => panic!("next: {status} {body}"),
    }
}

async fn submit(server: &TestServer, token: &str, task: i64, result: Value) -> (u16, Value) {
    server
        .call(
            Method::POST,
            &format!("/api/v1/tasks/{task}/annotations"),
            Some(token),
            Some(json!({"result": result, "lead_time": 3.5})),
        )
        .await
}

async fn skip(server: &TestServer, token: &str, task: i64) {
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/tasks/{task}/skip"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

/// A submit is checked against the project's label config as it is now:
/// the server keeps each project's parsed config, and a changed config
/// replaces it.
#[tokio::test]
async fn submits_are_checked_against_the_label_config_as_it_is_now() {
    for db in databases().await {
        let label = db.label;
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let id = project(&server, &admin, 2, json!({"overlap": 1})).await;
        let people = annotators(&server, "c", 1, &[id]).await;
        let token = &people[0].1;
        let bird = json!([{"id": "c1", "from_name": "class", "to_name": "image", "type": "choices",
                           "value": {"choices": ["Bird"]}}]);
        let first = next(&server, token, id).await.unwrap();
        let (status, body) = submit(&server, token, first, bird.clone()).await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("Bird"),
            "{label}: {body}"
        );
        let (status, body) = submit(&server, token, first, cat()).await;
        assert_eq!(status, 201, "{label}: {body}");

        let with_bird = LABEL_CONFIG.replace(
            r#"<Choice value="Dog"/>"#,
            r#"<Choice value="Dog"/><Choice value="Bird"/>"#,
        );
        let (status, body) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{id}"),
                Some(&admin),
                Some(json!({"label_config": with_bird})),
            )
            .await;
        assert_eq!(status, 200, "{label}: {body}");
        let second = next(&server, token, id).await.unwrap();
        let (status, body) = submit(&server, token, second, bird).await;
        assert_eq!(status, 201, "{label}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_annotators_drain_projects_with_overlap_one_and_three() {
    for db in databases().await {
        let label = db.label;
        let server = Arc::new(TestServer::start(&db).await);
        let (_, admin) = server.user("admin", Role::Admin).await;
        let single = project(&server, &admin, 300, json!({"overlap": 1})).await;
        let triple = project(
            &server,
            &admin,
            100,
            json!({"overlap": 3, "queue_order": "random"}),
        )
        .await;
        let people = annotators(&server, "a", 64, &[single, triple]).await;

        for (project, overlap, tasks) in [(single, 1usize, 300usize), (triple, 3, 100)] {
            // Every (task, annotator) the server handed out and that is not
            // released, and every submit: at no moment more than `overlap` per task.
            let taken: Arc<Mutex<HashMap<i64, HashSet<i64>>>> = Default::default();
            let mut workers = Vec::new();
            for (user, token) in people.clone() {
                let server = server.clone();
                let taken = taken.clone();
                workers.push(tokio::spawn(async move {
                    let mut done = Vec::new();
                    while let Some(task) = next(&server, &token, project).await {
                        {
                            let mut taken = taken.lock().unwrap();
                            let holders = taken.entry(task).or_default();
                            holders.insert(user);
                            assert!(
                                holders.len() <= overlap,
                                "task {task} held by {holders:?} with overlap {overlap}"
                            );
                        }
                        let (status, body) = submit(&server, &token, task, cat()).await;
                        assert_eq!(status, 201, "{body}");
                        assert_eq!(body["past_overlap"], false, "{body}");
                        done.push(task);
                    }
                    (user, done)
                }));
            }
            let mut pairs = HashSet::new();
            let mut per_task: HashMap<i64, usize> = HashMap::new();
            for worker in workers {
                let (user, done) = worker.await.expect("an annotator failed");
                for task in done {
                    assert!(
                        pairs.insert((task, user)),
                        "{label}: annotator {user} got task {task} twice"
                    );
                    *per_task.entry(task).or_default() += 1;
                }
            }
            assert_eq!(per_task.len(), tasks, "{label}: every task annotated");
            assert!(
                per_task.values().all(|n| *n == overlap),
                "{label}: each task has exactly {overlap} annotations"
            );
            // The database agrees: every task completed with N annotations by N people.
            let (status, counts) = server
                .call(
                    Method::GET,
                    &format!("/api/v1/projects/{project}/task-counts"),
                    Some(&admin),
                    None,
                )
                .await;
            assert_eq!(status, 200);
            assert_eq!(counts["completed"], tasks, "{label}: {counts}");
            for task in per_task.keys() {
                let annotations = server
                    .engine
                    .store()
                    .task_annotations(TaskId(*task))
                    .await
                    .unwrap();
                let annotators: HashSet<_> = annotations.iter().map(|a| a.completed_by).collect();
                assert_eq!(
                    (annotations.len(), annotators.len()),
                    (overlap, overlap),
                    "{label}: task {task}"
                );
            }
        }
        Arc::into_inner(server).unwrap().stop().await;
    }
}

#[tokio::test]
async fn reservations_hold_expire_and_late_submits_are_kept() {
    for db in databases().await {
        let label = db.label;
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let id = project(
            &server,
            &admin,
            3,
            json!({"overlap": 1, "reservation_seconds": 1}),
        )
        .await;
        let people = annotators(&server, "r", 3, &[id]).await;
        let (a, b, c) = (&people[0].1, &people[1].1, &people[2].1);

        let first = next(&server, a, id).await.unwrap();
        assert_eq!(
            next(&server, a, id).await,
            Some(first),
            "{label}: same task back"
        );
        let (_, body) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/next"),
                Some(a),
                None,
            )
            .await;
        assert!(body["reserved_until"].as_str().is_some(), "{body}");
        let second = next(&server, b, id).await.unwrap();
        assert_ne!(
            first, second,
            "{label}: a reserved task is not handed out twice"
        );
        let (_, counts) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/task-counts"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(
            (counts["in_progress"].as_i64(), counts["new"].as_i64()),
            (Some(2), Some(1)),
            "{counts}"
        );

        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        // Both reservations expired: the first task is open again.
        assert_eq!(next(&server, b, id).await, Some(first), "{label}");
        assert_eq!(next(&server, c, id).await, Some(second), "{label}");

        // A's submit comes late: it is stored, and completes the task.
        let (status, body) = submit(&server, a, first, cat()).await;
        assert_eq!(
            (status, body["past_overlap"].as_bool()),
            (201, Some(false)),
            "{body}"
        );
        // B still held the task: their submit is stored too, past the overlap.
        let (status, body) = submit(&server, b, first, dog()).await;
        assert_eq!(
            (status, body["past_overlap"].as_bool()),
            (201, Some(true)),
            "{body}"
        );
        let annotations = server
            .engine
            .store()
            .task_annotations(TaskId(first))
            .await
            .unwrap();
        assert_eq!(annotations.len(), 2, "{label}: no submit lost");
        server.stop().await;
    }
}

#[tokio::test]
async fn skipped_tasks_go_to_others_and_come_back_last() {
    for db in databases().await {
        let label = db.label;
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let id = project(&server, &admin, 3, json!({"overlap": 1})).await;
        let people = annotators(&server, "s", 2, &[id]).await;
        let (a, b) = (&people[0].1, &people[1].1);

        let t1 = next(&server, a, id).await.unwrap();
        skip(&server, a, t1).await;
        let t2 = next(&server, a, id).await.unwrap();
        assert_ne!(t2, t1, "{label}: the skipper gets something else");
        assert_eq!(
            next(&server, b, id).await,
            Some(t1),
            "{label}: others get it"
        );
        skip(&server, b, t1).await;
        let (status, _) = submit(&server, a, t2, cat()).await;
        assert_eq!(status, 201);
        let t3 = next(&server, a, id).await.unwrap();
        assert!(t3 != t1 && t3 != t2, "{label}");
        let (status, _) = submit(&server, a, t3, cat()).await;
        assert_eq!(status, 201);
        // Nothing else is left: the skipped task comes back.
        assert_eq!(next(&server, a, id).await, Some(t1), "{label}");
        let (status, _) = submit(&server, a, t1, cat()).await;
        assert_eq!(status, 201);
        assert_eq!(next(&server, a, id).await, None, "{label}");
        assert_eq!(next(&server, b, id).await, None, "{label}");
        server.stop().await;
    }
}

#[tokio::test]
async fn annotations_keep_every_version_and_refuse_stale_updates() {
    for db in databases().await {
        let label = db.label;
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let id = project(&server, &admin, 2, json!({"overlap": 2})).await;
        let people = annotators(&server, "v", 2, &[id]).await;
        let (a, b) = (&people[0].1, &people[1].1);
        let (_, reviewer) = server.user("rev", Role::Reviewer).await;
        server
            .engine
            .put_member(
                &Actor::Operator,
                ProjectId(id),
                "rev",
                Some(ProjectRole::Reviewer),
            )
            .await
            .unwrap();

        let task = next(&server, a, id).await.unwrap();
        // A result the config does not allow: 422 naming the result and field.
        let (status, body) = submit(
            &server,
            a,
            task,
            json!([{"from_name": "class", "to_name": "image", "type": "choices",
                    "value": {"choices": ["Horse"]}}]),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["details"]["field"]
                .as_str()
                .unwrap()
                .starts_with("result[0]"),
            "{body}"
        );

        let (status, created) = submit(&server, a, task, cat()).await;
        assert_eq!(
            (status, created["version"].as_i64()),
            (201, Some(1)),
            "{created}"
        );
        let annotation = created["id"].as_i64().unwrap();
        let (status, body) = submit(&server, a, task, dog()).await;
        assert_eq!(
            status, 409,
            "{label}: a second submit by the same annotator: {body}"
        );

        let path = format!("/api/v1/annotations/{annotation}");
        let (status, updated) = server
            .call(
                Method::PUT,
                &path,
                Some(a),
                Some(json!({"result": dog(), "version": 1})),
            )
            .await;
        assert_eq!(
            (status, updated["version"].as_i64()),
            (200, Some(2)),
            "{updated}"
        );
        let (status, stale) = server
            .call(
                Method::PUT,
                &path,
                Some(a),
                Some(json!({"result": cat(), "version": 1})),
            )
            .await;
        assert_eq!(status, 409, "{label}: {stale}");
        assert_eq!(stale["details"]["problems"]["version"], 2, "{stale}");
        // Another annotator may not change it; a reviewer may.
        let (status, _) = server
            .call(
                Method::PUT,
                &path,
                Some(b),
                Some(json!({"result": cat(), "version": 2})),
            )
            .await;
        assert_eq!(status, 403, "{label}");
        let (status, body) = server
            .call(
                Method::PUT,
                &path,
                Some(&reviewer),
                Some(json!({"result": cat(), "version": 2})),
            )
            .await;
        assert_eq!((status, body["version"].as_i64()), (200, Some(3)), "{body}");

        let (status, versions) = server
            .call(Method::GET, &format!("{path}/versions"), Some(a), None)
            .await;
        assert_eq!(status, 200, "{versions}");
        let choices: Vec<&str> = versions
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["result"][0]["value"]["choices"][0].as_str().unwrap())
            .collect();
        assert_eq!(choices, ["Cat", "Dog", "Cat"], "{label}: {versions}");
        let numbers: Vec<i64> = versions
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect();
        assert_eq!(numbers, [1, 2, 3]);
        let (status, _) = server
            .call(Method::GET, &format!("{path}/versions"), Some(b), None)
            .await;
        assert_eq!(status, 403, "{label}: another annotator sees no versions");
        server.stop().await;
    }
}

#[tokio::test]
async fn assigned_tasks_come_first_and_only_to_their_annotator() {
    for db in databases().await {
        let label = db.label;
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let id = project(&server, &admin, 5, json!({"overlap": 1})).await;
        let people = annotators(&server, "m", 2, &[id]).await;
        let (a, b) = (&people[0].1, &people[1].1);
        let (status, tasks) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/tasks"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, 200);
        let ids: Vec<i64> = tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect();
        let assigned = ids[3];
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{id}/assignments"),
                Some(&admin),
                Some(json!({"username": "m1", "task_ids": [assigned]})),
            )
            .await;
        assert_eq!((status, body["changed"].as_u64()), (200, Some(1)), "{body}");
        // Annotators may not assign.
        let (status, _) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{id}/assignments"),
                Some(a),
                Some(json!({"username": "m0", "task_ids": [ids[0]]})),
            )
            .await;
        assert_eq!(status, 403);

        let (status, body) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/next"),
                Some(b),
                None,
            )
            .await;
        assert_eq!(
            (status, body["task"]["id"].as_i64()),
            (200, Some(assigned)),
            "{label}"
        );
        assert_eq!(body["assigned"], true);
        // A drains everything else, never the assigned task.
        let mut got = Vec::new();
        while let Some(task) = next(&server, a, id).await {
            let (status, _) = submit(&server, a, task, cat()).await;
            assert_eq!(status, 201);
            got.push(task);
        }
        assert_eq!(got, [ids[0], ids[1], ids[2], ids[4]], "{label}");
        let (status, _) = submit(&server, b, assigned, cat()).await;
        assert_eq!(status, 201);
        // Assigning a task the member already submitted changes nothing.
        let (_, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{id}/assignments"),
                Some(&admin),
                Some(json!({"username": "m1", "task_ids": [assigned]})),
            )
            .await;
        assert_eq!(body["changed"], 0, "{body}");
        // Unassigning hands the task back to the pool.
        let other = project(&server, &admin, 2, json!({"overlap": 1})).await;
        for (name, _) in [("m0", 0), ("m1", 1)] {
            server
                .engine
                .put_member(
                    &Actor::Operator,
                    ProjectId(other),
                    name,
                    Some(ProjectRole::Annotator),
                )
                .await
                .unwrap();
        }
        let (_, tasks) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{other}/tasks"),
                Some(&admin),
                None,
            )
            .await;
        let first = tasks["items"][0]["id"].as_i64().unwrap();
        let assign = json!({"username": "m1", "task_ids": [first]});
        server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{other}/assignments"),
                Some(&admin),
                Some(assign.clone()),
            )
            .await;
        let (_, listed) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{other}/assignments"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(listed[0]["username"], "m1", "{listed}");
        assert_ne!(next(&server, a, other).await, Some(first), "{label}");
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{other}/unassign"),
                Some(&admin),
                Some(assign),
            )
            .await;
        assert_eq!((status, body["changed"].as_u64()), (200, Some(1)), "{body}");
        let a2 = &people[0].1;
        let held = next(&server, a2, other).await.unwrap();
        skip(&server, a2, held).await;
        assert_eq!(
            next(&server, a2, other).await,
            Some(first),
            "{label}: back in the pool"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn drafts_come_back_with_the_task_and_orders_are_kept() {
    for db in databases().await {
        let label = db.label;
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let id = project(&server, &admin, 4, json!({"queue_order": "priority"})).await;
        let people = annotators(&server, "d", 2, &[id]).await;
        let (a, b) = (&people[0].1, &people[1].1);
        let (_, tasks) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/tasks"),
                Some(&admin),
                None,
            )
            .await;
        let ids: Vec<i64> = tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect();
        for (task, priority) in [(ids[2], 10), (ids[1], 5)] {
            let (status, body) = server
                .call(
                    Method::PATCH,
                    &format!("/api/v1/tasks/{task}"),
                    Some(&admin),
                    Some(json!({"priority": priority})),
                )
                .await;
            assert_eq!(
                (status, body["priority"].as_i64()),
                (200, Some(priority)),
                "{body}"
            );
        }
        let (status, _) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/tasks/{}", ids[0]),
                Some(a),
                Some(json!({"priority": 99})),
            )
            .await;
        assert_eq!(status, 403, "{label}: annotators set no priorities");

        let top = next(&server, a, id).await.unwrap();
        assert_eq!(top, ids[2], "{label}: highest priority first");
        assert_eq!(next(&server, b, id).await, Some(ids[1]), "{label}");

        let (status, draft) = server
            .call(
                Method::PUT,
                &format!("/api/v1/tasks/{top}/draft"),
                Some(a),
                Some(json!({"result": dog(), "lead_time": 7.0})),
            )
            .await;
        assert_eq!(status, 200, "{draft}");
        let (status, again) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/next"),
                Some(a),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(again["task"]["id"], top);
        assert_eq!(again["draft"]["result"], dog(), "{label}: {again}");
        let (status, _) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{top}/draft"),
                Some(b),
                None,
            )
            .await;
        assert_eq!(status, 404, "{label}: drafts are personal");

        // Priorities set while the project was sequential count once it is
        // ordered by priority.
        let later = project(&server, &admin, 3, json!({})).await;
        server
            .engine
            .put_member(
                &Actor::Operator,
                ProjectId(later),
                "d0",
                Some(ProjectRole::Annotator),
            )
            .await
            .unwrap();
        let (_, tasks) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{later}/tasks"),
                Some(&admin),
                None,
            )
            .await;
        let last = tasks["items"][2]["id"].as_i64().unwrap();
        let (status, _) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/tasks/{last}"),
                Some(&admin),
                Some(json!({"priority": 5})),
            )
            .await;
        assert_eq!(status, 200);
        let (status, body) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/tasks/{last}"),
                Some(&admin),
                Some(json!({"priority": 5_000_000})),
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("priority")),
            "{body}"
        );
        server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{later}"),
                Some(&admin),
                Some(json!({"queue_order": "priority"})),
            )
            .await;
        assert_eq!(next(&server, a, later).await, Some(last), "{label}");
        server.stop().await;
    }
}

async fn upcoming(server: &TestServer, token: &str, project: i64) -> Option<i64> {
    let (status, body) = server
        .call(
            Method::GET,
            &format!("/api/v1/projects/{project}/upcoming"),
            Some(token),
            None,
        )
        .await;
    match status {
        200 => Some(body["id"].as_i64().unwrap()),
        204 => None,
        _ => panic!("upcoming: {status} {body}"),
    }
}

#[tokio::test]
async fn upcoming_names_the_task_next_gives_after_the_held_one() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        for order in ["sequential", "random", "priority"] {
            let label = format!("{} {order}", db.label);
            let id = project(
                &server,
                &admin,
                6,
                json!({"overlap": 1, "queue_order": order}),
            )
            .await;
            let people = annotators(&server, &format!("u{order}"), 2, &[id]).await;
            let (a, b) = (&people[0].1, &people[1].1);

            // Holding nothing, the look ahead is what next gives.
            let first = upcoming(&server, a, id).await;
            assert_eq!(next(&server, a, id).await, first, "{label}");
            let mut held = first.unwrap();
            // A skipped task comes last; the look ahead follows that too.
            skip(&server, a, held).await;
            let skipped = held;
            held = next(&server, a, id).await.unwrap();
            let mut seen = HashSet::from([skipped, held]);
            loop {
                let ahead = upcoming(&server, a, id).await;
                assert_ne!(ahead, Some(held), "{label}: never the held task");
                let (status, _) = submit(&server, a, held, cat()).await;
                assert_eq!(status, 201, "{label}");
                let got = next(&server, a, id).await;
                assert_eq!(got, ahead, "{label}: next gives what upcoming said");
                let Some(task) = got else { break };
                held = task;
                if held == skipped {
                    assert_eq!(seen.len(), 6, "{label}: the skipped task comes last");
                }
                seen.insert(held);
                // A task another annotator takes is passed over too.
                if seen.len() == 3 {
                    let theirs = next(&server, b, id).await.unwrap();
                    let after = upcoming(&server, a, id).await;
                    assert!(after != Some(theirs) && after != Some(held), "{label}");
                    let (status, _) = submit(&server, b, theirs, dog()).await;
                    assert_eq!(status, 201, "{label}");
                    seen.insert(theirs);
                }
            }
            assert_eq!(seen.len(), 6, "{label}");
            assert_eq!(upcoming(&server, a, id).await, None, "{label}");
        }
        server.stop().await;
    }
}
