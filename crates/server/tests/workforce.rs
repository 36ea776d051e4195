//! The workforce through the API, on SQLite and PostgreSQL: a person's
//! status (paused: no work; removed: no sign-in) and who may set it,
//! invitations that preset a tier and skills, the per-project settings of
//! time and anti-fraud, and productivity: a project's report and flags, a
//! manager's leaderboard, and what an annotator may see of it.

use gloss_test_support::{databases, TestServer, LABEL_CONFIG, PASSWORD};
use gloss_types::Role;
use reqwest::Method;
use serde_json::{json, Value};

fn choice(label: &str) -> Value {
    json!([{"id": "c", "from_name": "class", "to_name": "image", "type": "choices",
            "value": {"choices": [label]}}])
}

async fn project(server: &TestServer, manager: &str, settings: Value) -> i64 {
    let id = server.create_project(manager, "work", LABEL_CONFIG).await;
    let (status, body) = server
        .call(
            Method::PATCH,
            &format!("/api/v1/projects/{id}"),
            Some(manager),
            Some(settings),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    id
}

async fn add_member(server: &TestServer, manager: &str, project: i64, who: &str, role: &str) {
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/projects/{project}/members"),
            Some(manager),
            Some(json!({"username": who, "role": role})),
        )
        .await;
    assert!(status == 200 || status == 201, "{body}");
}

async fn import(server: &TestServer, manager: &str, project: i64, tasks: Vec<Value>) {
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/projects/{project}/tasks"),
            Some(manager),
            Some(Value::Array(tasks)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// Takes the next task and submits `label`; `Err` with the status when
/// `next` gives none.
async fn work(server: &TestServer, token: &str, project: i64, label: &str) -> Result<i64, u16> {
    let (status, next) = server
        .call(
            Method::GET,
            &format!("/api/v1/projects/{project}/next"),
            Some(token),
            None,
        )
        .await;
    if status != 200 {
        return Err(status);
    }
    let task = next["task"]["id"].as_i64().unwrap();
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/tasks/{task}/annotations"),
            Some(token),
            Some(json!({"result": choice(label)})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    Ok(body["id"].as_i64().unwrap())
}

#[tokio::test]
async fn a_paused_person_gets_no_work_and_a_removed_one_cannot_sign_in() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("root", Role::Admin).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let (_, other_manager) = server.user("other", Role::Manager).await;
        let (_, ann) = server.user("ann", Role::Annotator).await;
        let id = project(&server, &manager, json!({})).await;
        add_member(&server, &manager, id, "ann", "annotator").await;
        import(
            &server,
            &manager,
            id,
            vec![json!({"data": {"image": "/a.png"}})],
        )
        .await;
        let set = |token: &str, who: &str, body: Value| {
            let (server, token, who) = (&server, token.to_owned(), who.to_owned());
            async move {
                server
                    .call(
                        Method::PATCH,
                        &format!("/api/v1/users/{who}"),
                        Some(&token),
                        Some(body),
                    )
                    .await
            }
        };
        // A manager's people are their projects' members, no one else.
        let (status, people) = server
            .call(Method::GET, "/api/v1/users", Some(&manager), None)
            .await;
        assert_eq!(status, 200, "{people}");
        let mut names: Vec<&str> = people["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["ann", "manager"], "{}", db.label);
        let (_, people) = server
            .call(Method::GET, "/api/v1/users", Some(&other_manager), None)
            .await;
        assert_eq!(people["items"], json!([]));
        // Not by the person, not by a manager who does not manage them.
        let (status, _) = set(&ann, "ann", json!({"status": "active"})).await;
        assert_eq!(status, 403, "{}", db.label);
        let (status, _) = set(&other_manager, "ann", json!({"status": "paused"})).await;
        assert_eq!(status, 403, "{}", db.label);
        let (status, _) = set(&manager, "ann", json!({"status": "asleep"})).await;
        assert_eq!(status, 422, "{}", db.label);

        let (status, body) = set(&manager, "ann", json!({"status": "paused"})).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("paused")),
            "{body}"
        );
        let (status, refusal) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/next"),
                Some(&ann),
                None,
            )
            .await;
        assert_eq!(status, 403, "{refusal}");
        assert_eq!(refusal["details"]["problems"]["account"], json!(true));
        assert!(refusal["message"].as_str().unwrap().contains("paused"));
        let (_, work_list) = server
            .call(Method::GET, "/api/v1/me/work", Some(&ann), None)
            .await;
        assert_eq!(
            work_list["projects"][0]["blocked"],
            json!("paused"),
            "{work_list}"
        );

        let (status, _) = set(&manager, "ann", json!({"status": "active"})).await;
        assert_eq!(status, 200);
        assert!(work(&server, &ann, id, "Cat").await.is_ok(), "{}", db.label);

        // Removed: the session and tokens stop working, and sign-in fails.
        let (status, body) = set(&manager, "ann", json!({"status": "removed"})).await;
        assert_eq!(
            (status, body["active"].clone()),
            (200, json!(false)),
            "{body}"
        );
        let (status, _) = server
            .call(Method::GET, "/api/v1/me", Some(&ann), None)
            .await;
        assert_eq!(status, 401, "{}", db.label);
        let login = reqwest::Client::new()
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({"username": "ann", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status().as_u16(), 401, "{}", db.label);
        // The older `active` flag reads and writes the same.
        let (status, body) = set(&admin, "ann", json!({"active": true})).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("active")));

        // A manager cannot change a manager's status; the last admin stays.
        let (status, _) = set(&manager, "other", json!({"status": "paused"})).await;
        assert_eq!(status, 403);
        let (status, _) = set(&admin, "root", json!({"status": "paused"})).await;
        assert_eq!(status, 409, "{}", db.label);
        server.stop().await;
    }
}

#[tokio::test]
async fn an_invitation_presets_the_new_persons_tier_and_skills() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let id = project(&server, &manager, json!({})).await;
        let invite = |body: Value| {
            let (server, manager) = (&server, manager.clone());
            async move {
                server
                    .call(
                        Method::POST,
                        &format!("/api/v1/projects/{id}/invites"),
                        Some(&manager),
                        Some(body),
                    )
                    .await
            }
        };
        let (status, error) = invite(json!({"role": "annotator", "tier": "wizard"})).await;
        assert_eq!(
            (status, error["details"]["field"].as_str()),
            (422, Some("tier")),
            "{error}"
        );
        let (status, error) = invite(json!({"role": "annotator", "skills": [" "]})).await;
        assert_eq!(
            (status, error["details"]["field"].as_str()),
            (422, Some("skills[0]")),
            "{error}"
        );
        let (status, made) =
            invite(json!({"role": "annotator", "tier": "Specialist", "skills": ["Medical", "de"]}))
                .await;
        assert_eq!(status, 201, "{made}");
        assert_eq!(
            (made["tier"].clone(), made["skills"].clone()),
            (json!("specialist"), json!(["de", "medical"]))
        );
        let code = made["code"].as_str().unwrap();
        let (status, user) = server
            .call(
                Method::POST,
                &format!("/api/v1/invites/{code}/accept"),
                None,
                Some(json!({"username": "newbie", "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "{user}");
        let user = &user["user"];
        assert_eq!(
            (
                user["tier"].clone(),
                user["skills"].clone(),
                user["status"].clone()
            ),
            (
                json!("specialist"),
                json!(["de", "medical"]),
                json!("active")
            )
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn time_and_anti_fraud_settings_are_checked_by_field() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let id = project(
            &server,
            &manager,
            json!({"idle_seconds": 90, "min_task_seconds": 4, "same_answer_streak": 0}),
        )
        .await;
        let (_, body) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(
            (
                body["idle_seconds"].clone(),
                body["min_task_seconds"].clone(),
                body["same_answer_streak"].clone()
            ),
            (json!(90), json!(4), json!(0)),
            "{body}"
        );
        for (field, value) in [
            ("idle_seconds", 5),
            ("min_task_seconds", -1),
            ("same_answer_streak", 1),
        ] {
            let (status, error) = server
                .call(
                    Method::PATCH,
                    &format!("/api/v1/projects/{id}"),
                    Some(&manager),
                    Some(json!({ field: value })),
                )
                .await;
            assert_eq!(
                (status, error["details"]["field"].as_str()),
                (422, Some(field)),
                "{error}"
            );
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn productivity_ranks_annotators_and_flags_runs_of_the_same_answer_and_low_gold() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let (_, steady) = server.user("steady", Role::Annotator).await;
        let (_, lazy) = server.user("lazy", Role::Annotator).await;
        let id = project(
            &server,
            &manager,
            json!({"honeypot_percent": 100, "gold_pause_below": 0.5, "gold_pause_after": 100,
                   "same_answer_streak": 3}),
        )
        .await;
        add_member(&server, &manager, id, "steady", "annotator").await;
        add_member(&server, &manager, id, "lazy", "annotator").await;
        let gold = json!({"completed_by": {"username": "manager"}, "ground_truth": true, "result": choice("Cat")});
        let mut tasks: Vec<Value> = (0..8)
            .map(|i| json!({"data": {"image": format!("/n{i}.png")}}))
            .collect();
        tasks.extend((0..3).map(
            |i| json!({"data": {"image": format!("/g{i}.png")}, "annotations": [gold.clone()]}),
        ));
        import(&server, &manager, id, tasks).await;

        // Three gold tasks first (honeypots at 100 %), then the rest.
        let mut steady_annotations = Vec::new();
        for turn in 0..8 {
            let label = if turn < 3 || turn % 2 == 0 {
                "Cat"
            } else {
                "Dog"
            };
            match work(&server, &steady, id, label).await {
                Ok(annotation) => steady_annotations.push(annotation),
                Err(status) => panic!("{}: steady's turn {turn}: {status}", db.label),
            }
        }
        let mut lazy_count = 0;
        while work(&server, &lazy, id, "Dog").await.is_ok() {
            lazy_count += 1;
        }
        assert_eq!(
            lazy_count, 6,
            "{}: three gold tasks and what steady left",
            db.label
        );
        // The manager rejects one of steady's answers.
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/annotations/{}/reviews", steady_annotations[4]),
                Some(&manager),
                Some(json!({"verdict": "reject", "comment": "look again"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");

        let (status, report) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/productivity"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(status, 200, "{report}");
        let rows = report["annotators"].as_array().unwrap();
        let names: Vec<&str> = rows
            .iter()
            .map(|r| r["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["steady", "lazy"], "ranked by tasks: {report}");
        let row = |name: &str| rows.iter().find(|r| r["username"] == name).unwrap().clone();
        let (steady_row, lazy_row) = (row("steady"), row("lazy"));
        assert_eq!(steady_row["tasks"], json!(8));
        assert_eq!(lazy_row["tasks"], json!(lazy_count));
        assert_eq!(
            (
                steady_row["reviewed"].clone(),
                steady_row["rejected"].clone(),
                steady_row["rejection_rate"].clone()
            ),
            (json!(1), json!(1), json!(1.0))
        );
        assert_eq!(
            (
                steady_row["gold_answers"].clone(),
                steady_row["gold_accuracy"].clone()
            ),
            (json!(3), json!(1.0))
        );
        assert_eq!(
            (
                lazy_row["gold_answers"].clone(),
                lazy_row["gold_accuracy"].clone()
            ),
            (json!(3), json!(0.0))
        );
        let kinds = |row: &Value| -> Vec<String> {
            row["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["kind"].as_str().unwrap().to_owned())
                .collect()
        };
        // Steady answered Cat three times in a row too: the gold tasks.
        assert_eq!(kinds(&steady_row), ["same_answers"], "{steady_row}");
        assert_eq!(kinds(&lazy_row), ["same_answers", "low_gold"], "{lazy_row}");
        assert_eq!(
            lazy_row["flags"][0]["count"],
            json!(lazy_count),
            "the longest run"
        );
        let day_tasks: i64 = steady_row["by_day"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["tasks"].as_i64().unwrap())
            .sum();
        assert_eq!(day_tasks, 8);
        assert!(!report["days"].as_array().unwrap().is_empty());

        // An annotator sees only themselves; the leaderboard is for managers.
        let (status, own) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/productivity"),
                Some(&lazy),
                None,
            )
            .await;
        assert_eq!(status, 200);
        let own_names: Vec<&str> = own["annotators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["username"].as_str().unwrap())
            .collect();
        assert_eq!(own_names, ["lazy"]);
        let (status, _) = server
            .call(Method::GET, "/api/v1/productivity", Some(&lazy), None)
            .await;
        assert_eq!(status, 403);
        let (status, board) = server
            .call(Method::GET, "/api/v1/productivity", Some(&manager), None)
            .await;
        assert_eq!(status, 200, "{board}");
        assert_eq!(board["projects"], json!(1));
        assert_eq!(board["annotators"][0]["username"], json!("steady"));
        // A window that holds nothing, and a bad one.
        let (status, empty) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/productivity?since=2020-01-01T00:00:00Z&until=2020-02-01T00:00:00Z"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!((status, empty["annotators"].clone()), (200, json!([])));
        let (status, error) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/productivity?since=yesterday"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(
            (status, error["details"]["field"].as_str()),
            (422, Some("since"))
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn submits_with_less_active_time_than_the_minimum_are_flagged_too_fast() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let (_, ann) = server.user("ann", Role::Annotator).await;
        let id = project(&server, &manager, json!({"min_task_seconds": 5})).await;
        add_member(&server, &manager, id, "ann", "annotator").await;
        import(
            &server,
            &manager,
            id,
            (0..3)
                .map(|i| json!({"data": {"image": format!("/{i}.png")}}))
                .collect(),
        )
        .await;
        for (index, label) in ["Cat", "Dog", "Cat"].iter().enumerate() {
            let (_, next) = server
                .call(
                    Method::GET,
                    &format!("/api/v1/projects/{id}/next"),
                    Some(&ann),
                    None,
                )
                .await;
            let task = next["task"]["id"].as_i64().unwrap();
            // The third claims no time: it is not timed, so not flagged.
            let body = if index < 2 {
                json!({"result": choice(label), "active_time": 0.25})
            } else {
                json!({"result": choice(label)})
            };
            let (status, made) = server
                .call(
                    Method::POST,
                    &format!("/api/v1/tasks/{task}/annotations"),
                    Some(&ann),
                    Some(body),
                )
                .await;
            assert_eq!(status, 201, "{made}");
        }
        let (_, report) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/productivity"),
                Some(&manager),
                None,
            )
            .await;
        let row = &report["annotators"][0];
        assert_eq!(
            (row["tasks"].clone(), row["timed_tasks"].clone()),
            (json!(3), json!(2)),
            "{report}"
        );
        assert_eq!(row["flags"][0]["kind"], json!("too_fast"), "{report}");
        assert_eq!(row["flags"][0]["count"], json!(2));
        let median = row["median_active_seconds"].as_f64().unwrap();
        assert!(
            median <= 0.25,
            "capped at what was claimed and at the reservation: {median}"
        );
        assert!(row["tasks_per_hour"].as_f64().unwrap() > 0.0);
        server.stop().await;
    }
}
