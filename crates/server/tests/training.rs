//! Training projects and qualification tests through the API, on SQLite and
//! PostgreSQL: feedback after a submit in a training project (a wrong and a
//! right class, a matched and a missed box, spans, the explanation) and who
//! may read it again; qualification tests graded against gold (a fail
//! below the threshold, a pass at it, the attempt limit, the cool-down
//! with `retry_at`), the certification granted with its expiry and the
//! skill, an expired certification not qualifying, results for managers
//! only; and a project requiring a certification drained by several people
//! at once, of whom only the certified ever receive a task.

use gloss_test_support::{databases, TestServer};
use gloss_types::{Role, Timestamp};
use reqwest::Method;
use serde_json::{json, Value};

const BOXES: &str = r#"<View><Image name="image" value="$image"/><Choices name="class" toName="image"><Choice value="Cat"/><Choice value="Dog"/></Choices><RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels></View>"#;
const SPANS: &str = r#"<View><Text name="text" value="$text"/><Labels name="ner" toName="text"><Label value="PER"/><Label value="LOC"/></Labels></View>"#;
const CLASSES: &str = r#"<View><Image name="image" value="$image"/><Choices name="class" toName="image"><Choice value="Cat"/><Choice value="Dog"/></Choices></View>"#;

fn class(id: &str, label: &str) -> Value {
    json!({"id": id, "from_name": "class", "to_name": "image", "type": "choices",
           "value": {"choices": [label]}})
}

fn car(id: &str, x: f64) -> Value {
    json!({"id": id, "from_name": "box", "to_name": "image", "type": "rectanglelabels",
           "original_width": 200, "original_height": 100,
           "value": {"x": x, "y": 10, "width": 10, "height": 20, "rectanglelabels": ["Car"]}})
}

fn span(id: &str, start: u64, end: u64, label: &str) -> Value {
    json!({"id": id, "from_name": "ner", "to_name": "text", "type": "labels",
           "value": {"start": start, "end": end, "labels": [label]}})
}

fn millis(time: &Value) -> i64 {
    serde_json::from_value::<Timestamp>(time.clone())
        .expect("a time")
        .millis()
}

fn gold(result: Value) -> Value {
    json!([{"completed_by": {"username": "manager"}, "ground_truth": true, "result": result}])
}

async fn ok(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let (status, body) = server.call(method, path, Some(token), body).await;
    assert!((200..300).contains(&status), "{path}: {status} {body}");
    body
}

/// A project with tasks, of a kind, with members.
async fn project(
    server: &TestServer,
    manager: &str,
    config: &str,
    settings: Value,
    tasks: Value,
    members: &[&str],
) -> i64 {
    let created = ok(
        server,
        Method::POST,
        "/api/v1/projects",
        manager,
        Some(json!({"name": "p", "label_config": config})),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    ok(
        server,
        Method::PATCH,
        &format!("/api/v1/projects/{id}"),
        manager,
        Some(settings),
    )
    .await;
    if tasks.as_array().is_some_and(|t| !t.is_empty()) {
        ok(
            server,
            Method::POST,
            &format!("/api/v1/projects/{id}/tasks"),
            manager,
            Some(tasks),
        )
        .await;
    }
    for member in members {
        ok(
            server,
            Method::POST,
            &format!("/api/v1/projects/{id}/members"),
            manager,
            Some(json!({"username": member, "role": "annotator"})),
        )
        .await;
    }
    id
}

/// Takes the next task and submits `result`; returns the submit's body.
async fn submit_next(server: &TestServer, token: &str, project: i64, result: Value) -> Value {
    let next = ok(
        server,
        Method::GET,
        &format!("/api/v1/projects/{project}/next"),
        token,
        None,
    )
    .await;
    let task = next["task"]["id"].as_i64().expect("a task");
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/tasks/{task}/annotations"),
            Some(token),
            Some(json!({"result": result})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

#[tokio::test]
async fn training_shows_what_was_right_wrong_and_missed_with_the_explanation() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let (_, ann) = server.user("ann", Role::Annotator).await;
        let (_, bob) = server.user("bob", Role::Annotator).await;
        let (_, _outsider) = server.user("outsider", Role::Annotator).await;
        let id = project(&server, &manager, BOXES, json!({"kind": "training"}), json!([
            {"data": {"image": "/a.png", "explanation": "A cat <b>and</b> two cars: the second is far right."},
             "annotations": gold(json!([class("c", "Cat"), car("g0", 10.0), car("g1", 80.0)]))},
            {"data": {"image": "/b.png"},
             "annotations": gold(json!([class("c", "Dog"), car("g0", 40.0)]))},
        ]), &["ann", "bob"]).await;
        let (_, settings) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(settings["kind"], "training", "{settings}");

        // The gold tasks are completed by their ground truth (overlap 1),
        // and still served to each annotator, first by id.
        let wrong = submit_next(
            &server,
            &ann,
            id,
            json!([class("c", "Dog"), car("b0", 10.0), car("b1", 50.0)]),
        )
        .await;
        let feedback = &wrong["feedback"];
        assert_eq!(
            feedback["explanation"], "A cat <b>and</b> two cars: the second is far right.",
            "{wrong}"
        );
        let controls = feedback["controls"].as_array().unwrap();
        let control = |name: &str| {
            controls
                .iter()
                .find(|c| c["control"] == name)
                .unwrap()
                .clone()
        };
        assert_eq!(
            (
                control("class")["verdict"].clone(),
                control("class")["given"].clone(),
                control("class")["expected"].clone(),
                control("class")["kind"].clone()
            ),
            (
                json!("wrong"),
                json!(["Dog"]),
                json!(["Cat"]),
                json!("answer")
            )
        );
        assert_eq!(control("box")["kind"], "regions");
        assert_eq!(control("box")["verdict"], "partly", "{feedback}");
        assert_eq!(feedback["regions"], json!({"b0": "right", "b1": "wrong"}));
        assert_eq!(
            feedback["expected_regions"],
            json!({"g0": "found", "g1": "missed"})
        );
        assert_eq!(feedback["missed"], 1);
        assert_eq!(feedback["ground_truth"].as_array().unwrap().len(), 3);
        assert_eq!(feedback["answer"].as_array().unwrap().len(), 3);
        let score = feedback["score"].as_f64().unwrap();
        assert!(score > 0.0 && score < 0.5, "{score}");

        // The second task, answered right.
        let right = submit_next(
            &server,
            &ann,
            id,
            json!([class("c", "Dog"), car("b0", 40.0)]),
        )
        .await;
        assert_eq!(right["feedback"]["score"], 1.0, "{right}");
        assert!(right["feedback"]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"] == "right"));
        assert_eq!(right["feedback"]["regions"], json!({"b0": "right"}));
        assert!(right["feedback"]["explanation"].is_null());
        // Nothing left for ann; bob still gets both.
        let (status, _) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/next"),
                Some(&ann),
                None,
            )
            .await;
        assert_eq!(status, 204);
        let bobs = submit_next(&server, &bob, id, json!([class("c", "Cat")])).await;
        assert_eq!(
            bobs["feedback"]["expected_regions"],
            json!({"g0": "missed", "g1": "missed"})
        );

        // Fetched again by its annotator only.
        let annotation = wrong["id"].as_i64().unwrap();
        let path = format!("/api/v1/annotations/{annotation}/feedback");
        let again = ok(&server, Method::GET, &path, &ann, None).await;
        assert_eq!(again["regions"], feedback["regions"]);
        assert_eq!(again["explanation"], feedback["explanation"]);
        for (token, expected) in [(&bob, 403), (&manager, 403), (&_outsider, 404)] {
            let (status, body) = server.call(Method::GET, &path, Some(token), None).await;
            assert_eq!(status, expected, "{body}");
        }

        // Spans: one found, one missed.
        let text = project(
            &server,
            &manager,
            SPANS,
            json!({"kind": "training"}),
            json!([
                {"data": {"text": "Alice in Paris", "explanation": "Paris is a place."},
                 "annotations": gold(json!([span("g0", 0, 5, "PER"), span("g1", 9, 14, "LOC")]))},
            ]),
            &["ann"],
        )
        .await;
        let spans = submit_next(
            &server,
            &ann,
            text,
            json!([span("s0", 0, 5, "PER"), span("s1", 9, 14, "PER")]),
        )
        .await;
        assert_eq!(
            spans["feedback"]["regions"],
            json!({"s0": "right", "s1": "wrong"}),
            "{spans}"
        );
        assert_eq!(
            spans["feedback"]["expected_regions"],
            json!({"g0": "found", "g1": "missed"})
        );
        assert_eq!(spans["feedback"]["explanation"], "Paris is a place.");

        // A labeling project gives no feedback.
        let plain = project(
            &server,
            &manager,
            CLASSES,
            json!({}),
            json!([{"image": "/c.png"}]),
            &["ann"],
        )
        .await;
        let submitted = submit_next(&server, &ann, plain, json!([class("c", "Cat")])).await;
        assert!(submitted.get("feedback").is_none(), "{submitted}");
        let (status, _) = server
            .call(
                Method::GET,
                &format!("/api/v1/annotations/{}/feedback", submitted["id"]),
                Some(&ann),
                None,
            )
            .await;
        assert_eq!(status, 409);
        let (status, error) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{plain}"),
                Some(&manager),
                Some(json!({"kind": "exam"})),
            )
            .await;
        assert!(status == 422 || status == 400, "{status} {error}");
    }
}

/// Answers every task of an attempt: `right` of them with the gold answer.
async fn take_test(server: &TestServer, token: &str, test: i64, right: usize) -> Value {
    let attempt = ok(
        server,
        Method::POST,
        &format!("/api/v1/projects/{test}/qualification/attempts"),
        token,
        None,
    )
    .await;
    let id = attempt["attempt"]["id"].as_i64().unwrap();
    let tasks = attempt["tasks"].as_array().unwrap().clone();
    let mut last = Value::Null;
    for (index, task) in tasks.iter().enumerate() {
        let expected = task["task"]["data"]["answer"].as_str().unwrap();
        let other = if expected == "Cat" { "Dog" } else { "Cat" };
        let label = if index < right { expected } else { other };
        last = ok(
            server,
            Method::POST,
            &format!("/api/v1/qualification-attempts/{id}/answers"),
            token,
            Some(json!({"task_id": task["task"]["id"], "result": [class("c", label)]})),
        )
        .await;
        if index + 1 < tasks.len() {
            assert!(
                last["attempt"]["score"].is_null() && last["attempt"]["finished_at"].is_null(),
                "{last}"
            );
            assert!(
                last["tasks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|t| t["score"].is_null()),
                "no verdict before the end: {last}"
            );
        }
    }
    last
}

fn gold_tasks(labels: &[&str]) -> Value {
    Value::Array(
        labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                json!({
        "data": {"image": format!("/q{i}.png"), "answer": label},
        "annotations": gold(json!([class("c", label)]))})
            })
            .collect(),
    )
}

#[tokio::test]
async fn qualification_tests_grade_attempts_and_grant_certifications() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let (_, ann) = server.user("ann", Role::Annotator).await;
        let (_, bob) = server.user("bob", Role::Annotator).await;
        let (_, carol) = server.user("carol", Role::Annotator).await;
        let (_, root) = server.user("root", Role::Admin).await;
        let test = project(&server, &manager, CLASSES, json!({
            "kind": "qualification", "pass_score": 0.75, "max_attempts": 3, "cooldown_minutes": 60,
            "grants_certification": "Cat-Expert", "certification_valid_days": 30, "grants_skill": "cats"}),
            gold_tasks(&["Cat", "Cat", "Dog", "Dog"]), &["bob"]).await;
        let (_, settings) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{test}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(
            settings["qualification"]["grants_certification"], "cat-expert",
            "{settings}"
        );
        for (body, field) in [
            (json!({"pass_score": 1.5}), "pass_score"),
            (json!({"max_attempts": -1}), "max_attempts"),
            (json!({"cooldown_minutes": -5}), "cooldown_minutes"),
            (
                json!({"certification_valid_days": 0}),
                "certification_valid_days",
            ),
            (
                json!({"required_certifications": [" "]}),
                "required_certifications[0]",
            ),
        ] {
            let (status, error) = server
                .call(
                    Method::PATCH,
                    &format!("/api/v1/projects/{test}"),
                    Some(&manager),
                    Some(body),
                )
                .await;
            assert_eq!(
                (status, error["details"]["field"].as_str()),
                (422, Some(field)),
                "{error}"
            );
        }
        // next is not how a test is taken.
        let (status, _) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{test}/next"),
                Some(&bob),
                None,
            )
            .await;
        assert_eq!(status, 409);

        let gated = project(
            &server,
            &manager,
            CLASSES,
            json!({"required_certifications": ["cat-expert"]}),
            json!([{"image": "/1.png"}, {"image": "/2.png"}]),
            &["ann"],
        )
        .await;
        let (status, refused) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{gated}/next"),
                Some(&ann),
                None,
            )
            .await;
        assert_eq!(status, 403, "{refused}");
        let problems = &refused["details"]["problems"]["qualification"];
        assert_eq!(
            problems["missing_certifications"],
            json!(["cat-expert"]),
            "{refused}"
        );
        assert_eq!(problems["qualification_tests"][0]["project_id"], test);
        assert!(
            refused["message"].as_str().unwrap().contains("cat-expert"),
            "{refused}"
        );
        let work = ok(&server, Method::GET, "/api/v1/me/work", &ann, None).await;
        let item = work["projects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["project_id"] == gated)
            .unwrap()
            .clone();
        assert_eq!(
            (
                item["blocked"].clone(),
                item["qualification_tests"][0]["project_id"].clone()
            ),
            (json!("qualification"), json!(test))
        );

        // ann may take the test (the gated project requires what it grants); carol may not.
        let status_of = |token: String| {
            let server = &server;
            async move {
                server
                    .call(
                        Method::GET,
                        &format!("/api/v1/projects/{test}/qualification"),
                        Some(&token),
                        None,
                    )
                    .await
            }
        };
        let (status, _) = status_of(carol.clone()).await;
        assert_eq!(status, 404);
        let (status, before) = status_of(ann.clone()).await;
        assert_eq!(
            (
                status,
                before["tasks"].as_i64(),
                before["can_start"].as_bool()
            ),
            (200, Some(4), Some(true)),
            "{before}"
        );

        // A fail below the threshold (2 of 4), then the cool-down.
        let failed = take_test(&server, &ann, test, 2).await;
        assert_eq!(
            (
                failed["attempt"]["passed"].clone(),
                failed["attempt"]["score"].clone()
            ),
            (json!(false), json!(0.5)),
            "{failed}"
        );
        let scores: Vec<f64> = failed["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["score"].as_f64().unwrap())
            .collect();
        assert_eq!(scores, vec![1.0, 1.0, 0.0, 0.0]);
        let retry_at = millis(&failed["retry_at"]);
        let now = Timestamp::now().millis();
        assert!((retry_at - now - 3_600_000).abs() < 120_000, "{failed}");
        assert_eq!(failed["attempts_left"], 2);
        let (status, refused) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{test}/qualification/attempts"),
                Some(&ann),
                None,
            )
            .await;
        assert_eq!(status, 403, "{refused}");
        assert_eq!(
            refused["details"]["problems"]["retry_at"],
            failed["retry_at"]
        );
        let (_, waiting) = status_of(ann.clone()).await;
        assert_eq!(
            (waiting["can_start"].clone(), waiting["retry_at"].clone()),
            (json!(false), failed["retry_at"].clone())
        );

        // Without a cool-down, a pass at the threshold (3 of 4).
        ok(
            &server,
            Method::PATCH,
            &format!("/api/v1/projects/{test}"),
            &manager,
            Some(json!({"cooldown_minutes": 0})),
        )
        .await;
        let passed = take_test(&server, &ann, test, 3).await;
        assert_eq!(
            (
                passed["attempt"]["passed"].clone(),
                passed["attempt"]["score"].clone()
            ),
            (json!(true), json!(0.75)),
            "{passed}"
        );
        let certification = &passed["certification"];
        assert_eq!(certification["name"], "cat-expert");
        let granted = millis(&certification["granted_at"]);
        assert_eq!(
            millis(&certification["expires_at"]) - granted,
            30 * 86_400_000
        );
        let me = ok(&server, Method::GET, "/api/v1/me", &ann, None).await;
        assert_eq!(me["certifications"][0]["name"], "cat-expert", "{me}");
        assert_eq!(me["certifications"][0]["expired"], false);
        assert!(
            me["skills"].as_array().unwrap().contains(&json!("cats")),
            "{me}"
        );
        let seen = ok(&server, Method::GET, "/api/v1/users/ann", &root, None).await;
        assert_eq!(seen["certifications"], me["certifications"], "{seen}");
        assert_eq!(seen["certifications"][0]["project_id"], test);
        let (_, status) = status_of(ann.clone()).await;
        assert_eq!(
            (
                status["passed"].clone(),
                status["best_score"].clone(),
                status["attempts"].as_array().unwrap().len()
            ),
            (json!(true), json!(0.75), 2)
        );
        // Now ann labels the gated project.
        let next = ok(
            &server,
            Method::GET,
            &format!("/api/v1/projects/{gated}/next"),
            &ann,
            None,
        )
        .await;
        assert!(next["task"]["id"].is_i64(), "{next}");

        // A finished attempt takes no answers; a task outside it is refused.
        let attempt = passed["attempt"]["id"].as_i64().unwrap();
        let task = passed["tasks"][0]["task"]["id"].clone();
        let (status, _) = server
            .call(
                Method::POST,
                &format!("/api/v1/qualification-attempts/{attempt}/answers"),
                Some(&ann),
                Some(json!({"task_id": task, "result": [class("c", "Cat")]})),
            )
            .await;
        assert_eq!(status, 409);

        // The attempt limit: bob fails three times.
        for _ in 0..3 {
            let attempt = ok(
                &server,
                Method::POST,
                &format!("/api/v1/projects/{test}/qualification/attempts"),
                &bob,
                None,
            )
            .await;
            let id = attempt["attempt"]["id"].as_i64().unwrap();
            let (status, error) = server
                .call(
                    Method::POST,
                    &format!("/api/v1/qualification-attempts/{id}/answers"),
                    Some(&bob),
                    Some(json!({"task_id": 999_999, "result": [class("c", "Cat")]})),
                )
                .await;
            assert_eq!(
                (status, error["details"]["field"].as_str()),
                (422, Some("task_id")),
                "{error}"
            );
            let (status, error) = server
                .call(Method::POST, &format!("/api/v1/qualification-attempts/{id}/answers"), Some(&bob),
                    Some(json!({"task_id": attempt["tasks"][0]["task"]["id"], "result": [class("c", "Horse")]})))
                .await;
            assert_eq!(status, 422, "{error}");
            // Someone else's attempt is not theirs to answer, nor to see.
            let (status, _) = server
                .call(
                    Method::GET,
                    &format!("/api/v1/qualification-attempts/{id}"),
                    Some(&ann),
                    None,
                )
                .await;
            assert_eq!(status, 404);
            for task in attempt["tasks"].as_array().unwrap() {
                ok(
                    &server,
                    Method::POST,
                    &format!("/api/v1/qualification-attempts/{id}/answers"),
                    &bob,
                    Some(json!({"task_id": task["task"]["id"], "result": [class("c", "Dog")]})),
                )
                .await;
            }
        }
        let (status, refused) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{test}/qualification/attempts"),
                Some(&bob),
                None,
            )
            .await;
        assert_eq!(status, 403, "{refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("all 3 attempts"),
            "{refused}"
        );
        assert!(refused["details"]["problems"]["retry_at"].is_null());

        // Results: the managers see every attempt; annotators do not.
        let results_url = format!("/api/v1/projects/{test}/qualification/results");
        let results = ok(&server, Method::GET, &results_url, &manager, None).await;
        let rows = results.as_array().unwrap();
        assert_eq!(rows.len(), 5, "{results}");
        assert_eq!(rows.iter().filter(|r| r["username"] == "ann").count(), 2);
        assert!(rows
            .iter()
            .filter(|r| r["username"] == "bob")
            .all(|r| r["passed"] == false && r["score"] == 0.5));
        // The attempt that granted a certification says whether it is in
        // force; every other attempt says nothing.
        let certified = |rows: &Value| -> Vec<(String, Value)> {
            rows.as_array()
                .unwrap()
                .iter()
                .filter(|r| !r["certified"].is_null())
                .map(|r| {
                    (
                        r["username"].as_str().unwrap().to_owned(),
                        r["certified"].clone(),
                    )
                })
                .collect()
        };
        assert_eq!(
            certified(&results),
            vec![("ann".to_owned(), json!(true))],
            "{results}"
        );
        for token in [&ann, &bob] {
            let (status, _) = server
                .call(
                    Method::GET,
                    &format!("/api/v1/projects/{test}/qualification/results"),
                    Some(token),
                    None,
                )
                .await;
            assert_eq!(status, 403);
        }
        let csv = server
            .client
            .get(server.url(&format!(
                "/api/v1/projects/{test}/qualification/results.csv"
            )))
            .bearer_auth(&manager)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(csv.starts_with("attempt,username,"), "{csv}");
        assert_eq!(csv.lines().count(), 6, "{csv}");

        // A revoked (expired) certification does not qualify. Only the
        // test's managers revoke it.
        let revoke = format!("/api/v1/projects/{test}/qualification/certifications/ann");
        let (status, _) = server.call(Method::DELETE, &revoke, Some(&ann), None).await;
        assert_eq!(status, 403);
        let (status, _) = server
            .call(
                Method::DELETE,
                &format!("/api/v1/projects/{test}/qualification/certifications/nobody"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(status, 404);
        let revoked = ok(&server, Method::DELETE, &revoke, &manager, None).await;
        assert_eq!(
            (revoked["name"].clone(), revoked["expired"].clone()),
            (json!("cat-expert"), json!(true)),
            "{revoked}"
        );
        let me = ok(&server, Method::GET, "/api/v1/me", &ann, None).await;
        assert_eq!(me["certifications"][0]["expired"], true);
        let results = ok(&server, Method::GET, &results_url, &manager, None).await;
        assert_eq!(
            certified(&results),
            vec![("ann".to_owned(), json!(false))],
            "{results}"
        );
        // ann's reservation is released by skipping it, then next refuses.
        let task = next["task"]["id"].as_i64().unwrap();
        ok(
            &server,
            Method::POST,
            &format!("/api/v1/tasks/{task}/skip"),
            &ann,
            None,
        )
        .await;
        let (status, refused) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{gated}/next"),
                Some(&ann),
                None,
            )
            .await;
        assert_eq!(status, 403, "{refused}");
        assert_eq!(
            refused["details"]["problems"]["qualification"]["expired_certifications"],
            json!(["cat-expert"])
        );
    }
}

#[tokio::test]
async fn a_project_requiring_a_certification_reaches_only_the_certified_under_concurrency() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let names = ["c1", "c2", "c3", "c4", "x1", "x2", "x3", "x4"];
        let mut tokens = Vec::new();
        let mut users = Vec::new();
        for name in names {
            let (user, token) = server.user(name, Role::Annotator).await;
            tokens.push((name.to_string(), token));
            users.push(user);
        }
        let test = project(
            &server,
            &manager,
            CLASSES,
            json!({
            "kind": "qualification", "pass_score": 1.0, "grants_certification": "radiology"}),
            gold_tasks(&["Cat", "Dog"]),
            &names,
        )
        .await;
        // Two starts at once give one attempt.
        let start = format!("/api/v1/projects/{test}/qualification/attempts");
        let (a, b) = tokio::join!(
            server.call(Method::POST, &start, Some(&tokens[0].1), None),
            server.call(Method::POST, &start, Some(&tokens[0].1), None)
        );
        assert_eq!((a.0, b.0), (201, 201), "{} {}", a.1, b.1);
        assert_eq!(a.1["attempt"]["id"], b.1["attempt"]["id"]);
        // c1..c4 pass; x1 fails; x2 passes but their certification is
        // back-dated to expired; x3 and x4 never take it.
        for (name, token) in &tokens[..6] {
            let right = if name == "x1" { 1 } else { 2 };
            let outcome = take_test(&server, token, test, right).await;
            assert_eq!(
                outcome["attempt"]["passed"],
                json!(name != "x1"),
                "{name}: {outcome}"
            );
        }
        server
            .engine
            .store()
            .set_certification_expiry(
                users[5].id,
                "radiology",
                Some(Timestamp::now().millis() - 1),
            )
            .await
            .unwrap();
        let tasks: Vec<Value> = (0..40)
            .map(|i| json!({"image": format!("/{i}.png")}))
            .collect();
        let id = project(
            &server,
            &manager,
            CLASSES,
            json!({"required_certifications": ["radiology"]}),
            Value::Array(tasks),
            &names,
        )
        .await;
        let mut workers = Vec::new();
        for (name, token) in &tokens {
            let (client, base, name, token) = (
                server.client.clone(),
                server.url(""),
                name.clone(),
                token.clone(),
            );
            workers.push(tokio::spawn(async move {
                let (mut done, mut refused) = (Vec::new(), 0);
                loop {
                    let next = client
                        .get(format!("{base}/api/v1/projects/{id}/next"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    match next.status().as_u16() {
                        204 => break,
                        403 => {
                            let body: Value = next.json().await.unwrap();
                            assert!(
                                body["details"]["problems"]["qualification"]["qualification_tests"]
                                    [0]["project_id"]
                                    == test,
                                "{body}"
                            );
                            refused += 1;
                            break;
                        }
                        200 => {
                            let body: Value = next.json().await.unwrap();
                            let task = body["task"]["id"].as_i64().unwrap();
                            let submit = client
                                .post(format!("{base}/api/v1/tasks/{task}/annotations"))
                                .bearer_auth(&token)
                                .json(&json!({"result": [class("c", "Cat")]}))
                                .send()
                                .await
                                .unwrap();
                            assert_eq!(submit.status().as_u16(), 201);
                            done.push(task);
                        }
                        other => panic!("{name}: next answered {other}"),
                    }
                }
                (name, done, refused)
            }));
        }
        let mut labeled = Vec::new();
        for worker in workers {
            let (name, done, refused) = worker.await.unwrap();
            if name.starts_with('c') {
                assert_eq!(refused, 0, "{name}");
            } else {
                assert!(
                    done.is_empty() && refused == 1,
                    "{}: {name} labeled {done:?}",
                    db.label
                );
            }
            labeled.extend(done);
        }
        labeled.sort_unstable();
        labeled.dedup();
        assert_eq!(
            labeled.len(),
            40,
            "{}: every task labeled, by the certified",
            db.label
        );
    }
}
