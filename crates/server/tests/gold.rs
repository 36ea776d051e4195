//! Gold and honeypots through the API, on SQLite and PostgreSQL: gold tasks
//! put in annotators' queues (looking like any other), answers scored
//! against the ground truth, an annotator paused below the threshold with a
//! clear message, a manager resuming them, and per-label gold accuracy in
//! the quality report.

use gloss_engine::Actor;
use gloss_test_support::{databases, TestServer, LABEL_CONFIG};
use gloss_types::{ProjectId, ProjectRole, Role};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;

fn choice(label: &str) -> Value {
    json!([{"id": "c", "from_name": "class", "to_name": "image", "type": "choices",
            "value": {"choices": [label]}}])
}

/// Takes and submits the next task with `label`; returns (task id, next's
/// body), or `None` with the refusal when `next` does not give a task.
async fn work(
    server: &TestServer,
    token: &str,
    project: i64,
    label: &str,
) -> Result<(i64, Value), (u16, Value)> {
    let (status, next) = server
        .call(
            Method::GET,
            &format!("/api/v1/projects/{project}/next"),
            Some(token),
            None,
        )
        .await;
    if status != 200 {
        return Err((status, next));
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
    Ok((task, next))
}

#[tokio::test]
async fn honeypots_score_annotators_and_pause_the_inaccurate_until_resumed() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let project = server.create_project(&manager, "gold", LABEL_CONFIG).await;
        let gold_answer = json!({"completed_by": {"username": "manager"}, "ground_truth": true, "result": choice("Cat")});
        let mut tasks: Vec<Value> = (0..10)
            .map(|i| json!({"data": {"image": format!("/n{i}.png")}}))
            .collect();
        tasks.extend((0..5).map(|i| json!({"data": {"image": format!("/g{i}.png")}, "annotations": [gold_answer.clone()]})));
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&manager),
                Some(Value::Array(tasks)),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let (_, listed) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/tasks?limit=100"),
                Some(&manager),
                None,
            )
            .await;
        let gold: HashSet<i64> = listed["items"].as_array().unwrap()[10..]
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect();
        let (status, settings) = server
            .call(Method::PATCH, &format!("/api/v1/projects/{project}"), Some(&manager),
                Some(json!({"honeypot_percent": 100, "gold_pause_below": 0.6, "gold_pause_after": 3})))
            .await;
        assert_eq!(status, 200, "{settings}");
        assert_eq!(
            (
                settings["honeypot_percent"].as_i64(),
                settings["gold_pause_below"].as_f64()
            ),
            (Some(100), Some(0.6))
        );
        let (status, body) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{project}"),
                Some(&manager),
                Some(json!({"gold_pause_below": 2})),
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("gold_pause_below")),
            "{body}"
        );

        let mut people = Vec::new();
        for name in ["ann", "bob"] {
            let (user, token) = server.user(name, Role::Annotator).await;
            server
                .engine
                .put_member(
                    &Actor::Operator,
                    ProjectId(project),
                    &user.username,
                    Some(ProjectRole::Annotator),
                )
                .await
                .unwrap();
            people.push(token);
        }
        let (ann, bob) = (&people[0], &people[1]);

        // ann always answers Dog: every task is gold while gold is left
        // (100 %), looking like any other task, and three wrong answers pause her.
        for round in 0..3 {
            let (task, next) = work(&server, ann, project, "Dog").await.unwrap();
            assert!(
                gold.contains(&task),
                "round {round}: task {task} is not gold ({})",
                db.label
            );
            assert_eq!(
                next["assigned"], false,
                "a gold task looks like any other: {next}"
            );
        }
        let (status, refusal) = work(&server, ann, project, "Dog").await.unwrap_err();
        assert_eq!(status, 403, "{refusal}");
        assert_eq!(refusal["details"]["problems"]["paused"], true, "{refusal}");
        assert!(
            refusal["message"]
                .as_str()
                .unwrap()
                .contains("accuracy on check tasks is 0% over 3 answers"),
            "{refusal}"
        );

        // bob answers Cat: right on gold, never paused; the queue gives all
        // five gold tasks and then the others.
        let mut served = Vec::new();
        while let Ok((task, _)) = work(&server, bob, project, "Cat").await {
            served.push(task);
        }
        assert_eq!(served.len(), 15, "{}: {served:?}", db.label);
        assert!(served[..5].iter().all(|t| gold.contains(t)), "{served:?}");

        // Only the project's managers resume; then ann works again, her old answers forgotten.
        let resume = format!("/api/v1/projects/{project}/members/ann/resume");
        let (status, _) = server.call(Method::POST, &resume, Some(bob), None).await;
        assert_eq!(status, 403);
        let (status, member) = server
            .call(Method::POST, &resume, Some(&manager), None)
            .await;
        assert_eq!(status, 200, "{member}");
        assert!(member["paused_at"].is_null(), "{member}");
        let (task, _) = work(&server, ann, project, "Dog").await.expect("resumed");
        assert!(gold.contains(&task), "ann's next gold task");

        // The quality report: gold accuracy per annotator and per gold class.
        let (_, report) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/quality"),
                Some(&manager),
                None,
            )
            .await;
        let annotator = |name: &str| {
            report["annotators"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["username"] == name)
                .unwrap()
                .clone()
        };
        assert_eq!(
            (
                annotator("bob")["gold_answers"].as_i64(),
                annotator("bob")["gold_accuracy"].as_f64()
            ),
            (Some(5), Some(1.0))
        );
        assert_eq!(
            annotator("ann")["gold_by_label"],
            json!([{"label": "Cat", "agreement": 0.0, "uses": 4}])
        );
        let (_, members) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/members"),
                Some(&manager),
                None,
            )
            .await;
        assert!(
            members["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["paused_at"].is_null()),
            "{members}"
        );
        server.stop().await;
    }
}

/// Dynamic overlap: with overlap 2, a task whose two annotators disagree
/// opens again for a third, and a fourth, up to the maximum; one they
/// agree on is completed at two.
#[tokio::test]
async fn disagreeing_tasks_ask_for_more_annotators_up_to_the_maximum() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let project = server
            .create_project(&manager, "dynamic", LABEL_CONFIG)
            .await;
        server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&manager),
                Some(json!([{"image": "/agreed.png"}, {"image": "/disputed.png"}])),
            )
            .await;
        let (status, settings) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{project}"),
                Some(&manager),
                Some(
                    json!({"overlap": 2, "dynamic_overlap_max": 4, "dynamic_agreement_below": 0.8}),
                ),
            )
            .await;
        assert_eq!(status, 200, "{settings}");
        assert_eq!(
            (
                settings["dynamic_overlap_max"].as_i64(),
                settings["dynamic_agreement_below"].as_f64()
            ),
            (Some(4), Some(0.8))
        );
        let mut tokens = Vec::new();
        for i in 0..5 {
            let (user, token) = server.user(&format!("a{i}"), Role::Annotator).await;
            server
                .engine
                .put_member(
                    &Actor::Operator,
                    ProjectId(project),
                    &user.username,
                    Some(ProjectRole::Annotator),
                )
                .await
                .unwrap();
            tokens.push(token);
        }
        let (_, listed) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&manager),
                None,
            )
            .await;
        let (agreed, disputed) = (
            listed["items"][0]["id"].as_i64().unwrap(),
            listed["items"][1]["id"].as_i64().unwrap(),
        );
        // (annotator, label, the task they must get)
        let steps = [
            (0, "Cat", agreed),
            (1, "Cat", agreed),
            (0, "Cat", disputed),
            (1, "Dog", disputed),
            // Cat vs Dog: it opens for a third, then (1/3 < 0.8) for a fourth.
            (2, "Cat", disputed),
            (3, "Cat", disputed),
        ];
        for (who, label, expected) in steps {
            let (task, _) = work(&server, &tokens[who], project, label).await.unwrap();
            assert_eq!(task, expected, "{}: a{who}", db.label);
        }
        // Four is the maximum: nothing is left for a4.
        let (status, _) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/next"),
                Some(&tokens[4]),
                None,
            )
            .await;
        assert_eq!(status, 204, "{}", db.label);
        let (_, listed) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&manager),
                None,
            )
            .await;
        let task = |id: i64| {
            listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["id"] == id)
                .unwrap()
                .clone()
        };
        assert_eq!(
            (
                task(agreed)["status"].as_str(),
                task(agreed)["annotation_count"].as_i64()
            ),
            (Some("completed"), Some(2)),
            "{listed}"
        );
        assert_eq!(
            (
                task(disputed)["status"].as_str(),
                task(disputed)["annotation_count"].as_i64()
            ),
            (Some("completed"), Some(4)),
            "{listed}"
        );
        let (status, body) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{project}"),
                Some(&manager),
                Some(json!({"dynamic_agreement_below": 1.5})),
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("dynamic_agreement_below"))
        );
        server.stop().await;
    }
}
