//! Review through the API, on SQLite and PostgreSQL: the review queue and
//! its holds, accept, reject with a comment and the rework it sends back
//! to the annotator's `next`, fixes as new versions by the reviewer, two
//! layers by different reviewers, sampling, and who may review what.

use gloss_engine::Actor;
use gloss_test_support::{databases, TestServer, LABEL_CONFIG};
use gloss_types::{ProjectId, ProjectRole, Role};
use reqwest::Method;
use serde_json::{json, Value};

fn choice(label: &str) -> Value {
    json!([{"id": "c1", "from_name": "class", "to_name": "image", "type": "choices",
            "value": {"choices": [label]}}])
}

struct People {
    manager: String,
    ann: String,
    bob: String,
    rev1: String,
    rev2: String,
}

/// A project of `tasks` tasks with members: ann and bob annotate, rev1
/// and rev2 review, and the manager created it.
async fn setup(server: &TestServer, tasks: usize) -> (i64, People) {
    let (_, manager) = server.user("manager", Role::Manager).await;
    let id = server
        .create_project(&manager, "review", LABEL_CONFIG)
        .await;
    let rows: Vec<Value> = (0..tasks)
        .map(|i| json!({"image": format!("/img/{i}.png")}))
        .collect();
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/projects/{id}/tasks"),
            Some(&manager),
            Some(Value::Array(rows)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut tokens = Vec::new();
    for (name, role) in [
        ("ann", ProjectRole::Annotator),
        ("bob", ProjectRole::Annotator),
        ("rev1", ProjectRole::Reviewer),
        ("rev2", ProjectRole::Reviewer),
    ] {
        let account = if role == ProjectRole::Reviewer {
            Role::Reviewer
        } else {
            Role::Annotator
        };
        let (user, token) = server.user(name, account).await;
        server
            .engine
            .put_member(&Actor::Operator, ProjectId(id), &user.username, Some(role))
            .await
            .unwrap();
        tokens.push(token);
    }
    let mut tokens = tokens.into_iter();
    let mut take = || tokens.next().unwrap();
    let people = People {
        manager,
        ann: take(),
        bob: take(),
        rev1: take(),
        rev2: take(),
    };
    (id, people)
}

/// The annotator takes their next task and submits `label`; returns the annotation id.
async fn annotate(server: &TestServer, token: &str, project: i64, label: &str) -> i64 {
    let (status, next) = server
        .call(
            Method::GET,
            &format!("/api/v1/projects/{project}/next"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{next}");
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
    body["id"].as_i64().unwrap()
}

async fn next_review(server: &TestServer, token: &str, project: i64, layer: i64) -> (u16, Value) {
    server
        .call(
            Method::GET,
            &format!("/api/v1/projects/{project}/review/next?layer={layer}"),
            Some(token),
            None,
        )
        .await
}

async fn review(server: &TestServer, token: &str, annotation: i64, body: Value) -> (u16, Value) {
    server
        .call(
            Method::POST,
            &format!("/api/v1/annotations/{annotation}/reviews"),
            Some(token),
            Some(body),
        )
        .await
}

async fn annotation(server: &TestServer, token: &str, id: i64) -> Value {
    let (status, body) = server
        .call(
            Method::GET,
            &format!("/api/v1/annotations/{id}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn reviewers_accept_reject_and_fix_and_rejections_come_back_for_rework() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (project, people) = setup(&server, 4).await;
        let a1 = annotate(&server, &people.ann, project, "Cat").await;
        let b1 = annotate(&server, &people.bob, project, "Dog").await;
        let a2 = annotate(&server, &people.ann, project, "Cat").await;

        // Each reviewer holds their own: asking again gives the same one.
        let (status, first) = next_review(&server, &people.rev1, project, 1).await;
        assert_eq!(status, 200, "{}: {first}", db.label);
        assert_eq!(first["annotation"]["id"], a1, "{first}");
        assert_eq!(first["annotator"], "ann");
        assert_eq!(first["layer"], 1);
        let (_, again) = next_review(&server, &people.rev1, project, 1).await;
        assert_eq!(again["annotation"]["id"], a1);
        let (_, other) = next_review(&server, &people.rev2, project, 1).await;
        assert_eq!(other["annotation"]["id"], b1, "{}", db.label);

        // Annotators do not review; a project with one layer has no layer 2.
        let (status, _) = next_review(&server, &people.ann, project, 1).await;
        assert_eq!(status, 403);
        let (status, body) = next_review(&server, &people.rev1, project, 2).await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("layer")),
            "{body}"
        );

        // Accept.
        let (status, verdict) =
            review(&server, &people.rev1, a1, json!({"verdict": "accept"})).await;
        assert_eq!(status, 201, "{}: {verdict}", db.label);
        assert_eq!(
            (verdict["layer"].as_i64(), verdict["reviewer"].as_str()),
            (Some(1), Some("rev1"))
        );
        let accepted = annotation(&server, &people.manager, a1).await;
        assert_eq!(
            (
                accepted["review_state"].as_str(),
                accepted["reviews_passed"].as_i64()
            ),
            (Some("accepted"), Some(1))
        );
        // A second verdict on the same layer is too late.
        let (status, body) = review(
            &server,
            &people.rev2,
            a1,
            json!({"verdict": "reject", "comment": "no"}),
        )
        .await;
        assert_eq!(status, 409, "{body}");

        // A rejection needs a comment; with one, the work goes back.
        let (status, body) = review(&server, &people.rev2, b1, json!({"verdict": "reject"})).await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("comment")),
            "{body}"
        );
        let (status, _) = review(
            &server,
            &people.rev2,
            b1,
            json!({"verdict": "reject", "comment": "It is a cat, look at the ears."}),
        )
        .await;
        assert_eq!(status, 201);
        let (status, next) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/next"),
                Some(&people.bob),
                None,
            )
            .await;
        assert_eq!(status, 200, "{next}");
        assert_eq!(
            next["rework"]["annotation"]["id"], b1,
            "{}: {next}",
            db.label
        );
        assert_eq!(
            next["rework"]["rejection"]["comment"],
            "It is a cat, look at the ears."
        );
        assert_eq!(next["rework"]["rejection"]["reviewer"], "rev2");
        assert_eq!(next["task"]["id"], next["rework"]["annotation"]["task_id"]);
        // Bob's change sends it back to review from the first layer.
        let (status, changed) = server
            .call(
                Method::PUT,
                &format!("/api/v1/annotations/{b1}"),
                Some(&people.bob),
                Some(json!({"result": choice("Cat"), "version": 1})),
            )
            .await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(
            (
                changed["review_state"].as_str(),
                changed["version"].as_i64()
            ),
            (Some("pending"), Some(2))
        );
        let (_, next) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/next"),
                Some(&people.bob),
                None,
            )
            .await;
        assert!(next.get("rework").is_none_or(Value::is_null), "{next}");

        // A fix is a new version by the reviewer, and passes.
        let (_, held) = next_review(&server, &people.rev1, project, 1).await;
        let target = held["annotation"]["id"].as_i64().unwrap();
        assert!(target == a2 || target == b1, "{held}");
        let (status, body) = review(
            &server,
            &people.rev1,
            target,
            json!({"verdict": "fix", "result": choice("Dog"), "version": 1}),
        )
        .await;
        let version = annotation(&server, &people.manager, target).await["version"]
            .as_i64()
            .unwrap();
        if version == 1 {
            assert_eq!(status, 201, "{body}");
        } else {
            // b1 is at version 2 now: a fix of version 1 is stale.
            assert_eq!(status, 409, "{body}");
            let (status, body) = review(
                &server,
                &people.rev1,
                target,
                json!({"verdict": "fix", "result": choice("Dog"), "version": version}),
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
        let fixed = annotation(&server, &people.manager, target).await;
        assert_eq!(fixed["review_state"], "accepted", "{fixed}");
        assert_eq!(fixed["result"][0]["value"]["choices"], json!(["Dog"]));
        let (_, versions) = server
            .call(
                Method::GET,
                &format!("/api/v1/annotations/{target}/versions"),
                Some(&people.manager),
                None,
            )
            .await;
        let last = versions.as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            last["result"][0]["value"]["choices"],
            json!(["Dog"]),
            "{versions}"
        );
        let (_, reviews) = server
            .call(
                Method::GET,
                &format!("/api/v1/annotations/{target}/reviews"),
                Some(&people.manager),
                None,
            )
            .await;
        assert_eq!(
            reviews.as_array().unwrap().last().unwrap()["verdict"],
            "fix",
            "{reviews}"
        );

        // Only a fix carries a result.
        let (_, held) = next_review(&server, &people.rev2, project, 1).await;
        if let Some(id) = held["annotation"]["id"].as_i64() {
            let (status, body) = review(
                &server,
                &people.rev2,
                id,
                json!({"verdict": "accept", "result": choice("Dog"), "version": 1}),
            )
            .await;
            assert_eq!(status, 422, "{body}");
        }

        let (status, progress) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/review/progress"),
                Some(&people.rev1),
                None,
            )
            .await;
        assert_eq!(status, 200, "{progress}");
        assert_eq!(progress["accepted"], 2, "{}: {progress}", db.label);
        assert_eq!(progress["waiting_first"], 1, "{progress}");

        // A reviewed-only export holds the two accepted annotations alone.
        let exported = server
            .export_text(&people.manager, project, "json&annotations=reviewed")
            .await;
        let tasks: Value = serde_json::from_str(&exported).unwrap();
        let mut ids: Vec<i64> = tasks
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|task| task["annotations"].as_array().unwrap().clone())
            .map(|annotation| annotation["id"].as_i64().unwrap())
            .collect();
        ids.sort_unstable();
        let mut accepted = vec![a1, target];
        accepted.sort_unstable();
        assert_eq!(ids, accepted, "{}: {exported}", db.label);
        let (status, body) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/export?format=json&annotations=best"),
                Some(&people.manager),
                None,
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("annotations")),
            "{body}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn two_layers_need_two_reviewers_and_nobody_reviews_their_own_work() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (project, people) = setup(&server, 3).await;
        let (status, body) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{project}"),
                Some(&people.manager),
                Some(json!({"review_layers": 2})),
            )
            .await;
        assert_eq!(
            (status, body["review_layers"].as_i64()),
            (200, Some(2)),
            "{body}"
        );
        let (status, body) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{project}"),
                Some(&people.manager),
                Some(json!({"review_layers": 3})),
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("review_layers")),
            "{body}"
        );

        let a1 = annotate(&server, &people.ann, project, "Cat").await;
        let (_, held) = next_review(&server, &people.rev1, project, 1).await;
        assert_eq!(held["annotation"]["id"], a1);
        let (status, _) = review(
            &server,
            &people.rev1,
            a1,
            json!({"verdict": "accept", "comment": "fine"}),
        )
        .await;
        assert_eq!(status, 201);
        let state = annotation(&server, &people.manager, a1).await;
        assert_eq!(
            (
                state["review_state"].as_str(),
                state["reviews_passed"].as_i64()
            ),
            (Some("pending"), Some(1))
        );
        // rev1 passed it at layer 1: layer 2 is someone else's.
        let (status, _) = next_review(&server, &people.rev1, project, 2).await;
        assert_eq!(status, 204, "{}", db.label);
        let (status, body) = review(&server, &people.rev1, a1, json!({"verdict": "accept"})).await;
        assert_eq!(status, 403, "{body}");
        let (status, held) = next_review(&server, &people.rev2, project, 2).await;
        assert_eq!(
            (status, held["annotation"]["id"].as_i64()),
            (200, Some(a1)),
            "{held}"
        );
        assert_eq!(held["reviews"][0]["comment"], "fine");
        let (status, _) = review(&server, &people.rev2, a1, json!({"verdict": "accept"})).await;
        assert_eq!(status, 201);
        assert_eq!(
            annotation(&server, &people.manager, a1).await["review_state"],
            "accepted"
        );

        // The manager annotates too, and never reviews their own annotation.
        let own = annotate(&server, &people.manager, project, "Dog").await;
        let (status, held) = next_review(&server, &people.manager, project, 1).await;
        assert_eq!(status, 204, "{held}");
        let (status, body) =
            review(&server, &people.manager, own, json!({"verdict": "accept"})).await;
        assert_eq!(status, 403, "{body}");

        // Reviewers mark ground truth; annotators may not.
        let (status, marked) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/annotations/{a1}"),
                Some(&people.rev2),
                Some(json!({"ground_truth": true})),
            )
            .await;
        assert_eq!(
            (status, marked["ground_truth"].as_bool()),
            (200, Some(true)),
            "{marked}"
        );
        let (status, _) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/annotations/{a1}"),
                Some(&people.ann),
                Some(json!({"ground_truth": false})),
            )
            .await;
        assert_eq!(status, 403);
        assert_eq!(
            annotation(&server, &people.manager, a1).await["ground_truth"],
            true
        );

        // Sampling 0 % leaves nothing to review.
        server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{project}"),
                Some(&people.manager),
                Some(json!({"review_percent": 0})),
            )
            .await;
        let (status, _) = next_review(&server, &people.rev1, project, 1).await;
        assert_eq!(status, 204);

        // Another project's reviewer sees none of this.
        let (_, outsider) = server.user("outsider", Role::Reviewer).await;
        let (status, _) = review(&server, &outsider, own, json!({"verdict": "accept"})).await;
        assert_eq!(status, 404);
        let (status, _) = next_review(&server, &outsider, project, 1).await;
        assert_eq!(status, 404);
        server.stop().await;
    }
}

#[tokio::test]
async fn concurrent_reviewers_never_hold_the_same_annotation() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (project, people) = setup(&server, 12).await;
        for _ in 0..12 {
            annotate(&server, &people.ann, project, "Cat").await;
        }
        let mut reviewers = Vec::new();
        for i in 0..8 {
            let (user, token) = server.user(&format!("r{i}"), Role::Reviewer).await;
            server
                .engine
                .put_member(
                    &Actor::Operator,
                    ProjectId(project),
                    &user.username,
                    Some(ProjectRole::Reviewer),
                )
                .await
                .unwrap();
            reviewers.push(token);
        }
        let server = std::sync::Arc::new(server);
        let calls = reviewers.iter().map(|token| {
            let server = server.clone();
            let token = token.clone();
            async move {
                let (status, held) = next_review(&server, &token, project, 1).await;
                assert_eq!(status, 200, "{held}");
                held["annotation"]["id"].as_i64().unwrap()
            }
        });
        let mut held: Vec<i64> = futures::future::join_all(calls).await;
        held.sort_unstable();
        held.dedup();
        assert_eq!(held.len(), 8, "{}: {held:?}", db.label);
        std::sync::Arc::into_inner(server).unwrap().stop().await;
    }
}
