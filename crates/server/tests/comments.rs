//! Comments and notifications through the API, on SQLite and PostgreSQL:
//! who may read and write a task's comments, region comments, who is
//! notified (annotators and earlier commenters, never the author; the
//! annotator of rejected work), resolving, and marking read.

use gloss_engine::Actor;
use gloss_test_support::{databases, TestServer, LABEL_CONFIG};
use gloss_types::{ProjectId, ProjectRole, Role};
use reqwest::Method;
use serde_json::{json, Value};

async fn notifications(server: &TestServer, token: &str) -> Value {
    let (status, body) = server
        .call(Method::GET, "/api/v1/me/notifications", Some(token), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn comments_notify_the_people_concerned_and_only_they_see_them() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let project = server
            .create_project(&manager, "comments", LABEL_CONFIG)
            .await;
        server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&manager),
                Some(json!([{"image": "/a.png"}, {"image": "/b.png"}])),
            )
            .await;
        let mut tokens = Vec::new();
        for (name, role) in [
            ("ann", ProjectRole::Annotator),
            ("bob", ProjectRole::Annotator),
            ("rev", ProjectRole::Reviewer),
        ] {
            let (user, token) = server.user(name, Role::Annotator).await;
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
            tokens.push(token);
        }
        let (ann, bob, rev) = (&tokens[0], &tokens[1], &tokens[2]);
        // ann annotates task 1.
        let (_, next) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/next"),
                Some(ann),
                None,
            )
            .await;
        let task = next["task"]["id"].as_i64().unwrap();
        let (_, made) = server
            .call(Method::POST, &format!("/api/v1/tasks/{task}/annotations"), Some(ann),
                Some(json!({"result": [{"id": "c1", "from_name": "class", "to_name": "image", "type": "choices", "value": {"choices": ["Cat"]}}]})))
            .await;
        let annotation = made["id"].as_i64().unwrap();
        let path = format!("/api/v1/tasks/{task}/comments");

        let (status, first) = server
            .call(
                Method::POST,
                &path,
                Some(rev),
                Some(json!({"text": "Is that <b>really</b> a cat?"})),
            )
            .await;
        assert_eq!(status, 201, "{}: {first}", db.label);
        assert_eq!(first["author"], "rev");
        let mine = notifications(&server, ann).await;
        assert_eq!(mine["unread"], 1, "{mine}");
        assert_eq!(mine["items"][0]["kind"], "comment");
        assert_eq!(mine["items"][0]["actor"], "rev");
        assert_eq!(mine["items"][0]["message"], "Is that <b>really</b> a cat?");
        assert_eq!(mine["items"][0]["task_id"], task);
        assert_eq!(
            notifications(&server, rev).await["unread"],
            0,
            "never the author"
        );
        assert_eq!(
            notifications(&server, bob).await["unread"],
            0,
            "bob has no work on the task"
        );

        // ann opens the task her notification names: hers is the one annotation she sees.
        let (_, bobs_next) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/next"),
                Some(bob),
                None,
            )
            .await;
        let bobs_task = bobs_next["task"]["id"].as_i64().unwrap();
        server
            .call(Method::POST, &format!("/api/v1/tasks/{task}/annotations"), Some(&manager),
                Some(json!({"result": [{"id": "m", "from_name": "class", "to_name": "image", "type": "choices", "value": {"choices": ["Dog"]}}]})))
            .await;
        let (status, detail) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{task}"),
                Some(ann),
                None,
            )
            .await;
        assert_eq!(status, 200, "{detail}");
        let seen: Vec<i64> = detail["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect();
        assert_eq!(seen, [annotation], "{detail}");
        let (status, _) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{bobs_task}"),
                Some(ann),
                None,
            )
            .await;
        assert_eq!(status, 404, "not a task ann works on");

        // bob has no work on the task: it does not exist for him.
        let (status, _) = server.call(Method::GET, &path, Some(bob), None).await;
        assert_eq!(status, 404);
        let (status, _) = server
            .call(Method::POST, &path, Some(bob), Some(json!({"text": "hi"})))
            .await;
        assert_eq!(status, 404);

        // ann answers on her region; rev, who commented before, hears of it.
        let (status, reply) = server
            .call(Method::POST, &path, Some(ann),
                Some(json!({"text": "Yes, look at the ears.", "annotation_id": annotation, "region_id": "c1"})))
            .await;
        assert_eq!(status, 201, "{reply}");
        assert_eq!(
            (reply["annotation_id"].as_i64(), reply["region_id"].as_str()),
            (Some(annotation), Some("c1"))
        );
        assert_eq!(notifications(&server, rev).await["unread"], 1);
        let (status, listed) = server.call(Method::GET, &path, Some(ann), None).await;
        assert_eq!(status, 200);
        assert_eq!(listed.as_array().unwrap().len(), 2);

        // Bad comments are refused by field.
        for (body, field) in [
            (json!({"text": "  "}), "text"),
            (json!({"text": "x", "region_id": "c1"}), "annotation_id"),
            (
                json!({"text": "x", "annotation_id": annotation}),
                "region_id",
            ),
        ] {
            let (status, error) = server
                .call(Method::POST, &path, Some(rev), Some(body))
                .await;
            assert_eq!(
                (status, error["details"]["field"].as_str()),
                (422, Some(field)),
                "{error}"
            );
        }
        let (_, tasks) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&manager),
                None,
            )
            .await;
        let other = tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .find(|id| *id != task)
            .unwrap();
        let (status, error) = server
            .call(
                Method::POST,
                &format!("/api/v1/tasks/{other}/comments"),
                Some(rev),
                Some(json!({"text": "x", "annotation_id": annotation, "region_id": "c1"})),
            )
            .await;
        assert_eq!(
            (status, error["details"]["field"].as_str()),
            (422, Some("annotation_id")),
            "{error}"
        );

        // Resolving: the author or a reviewer, not another annotator.
        let first_id = first["id"].as_i64().unwrap();
        let (status, _) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/comments/{first_id}"),
                Some(ann),
                Some(json!({"resolved": true})),
            )
            .await;
        assert_eq!(status, 403);
        let (status, resolved) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/comments/{first_id}"),
                Some(rev),
                Some(json!({"resolved": true})),
            )
            .await;
        assert_eq!(status, 200, "{resolved}");
        assert!(resolved["resolved_at"].is_string(), "{resolved}");
        let (status, _) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/comments/{first_id}"),
                Some(bob),
                Some(json!({"resolved": false})),
            )
            .await;
        assert_eq!(status, 404);

        // A rejection tells the annotator; marking read clears the count.
        let (status, _) = server
            .call(
                Method::POST,
                &format!("/api/v1/annotations/{annotation}/reviews"),
                Some(rev),
                Some(json!({"verdict": "reject", "comment": "The ears are a dog's."})),
            )
            .await;
        assert_eq!(status, 201);
        let mine = notifications(&server, ann).await;
        assert_eq!(mine["unread"], 2, "{mine}");
        assert_eq!(mine["items"][0]["kind"], "rejection");
        assert_eq!(mine["items"][0]["message"], "The ears are a dog's.");
        let first_notification = mine["items"][1]["id"].as_i64().unwrap();
        let (status, marked) = server
            .call(
                Method::POST,
                "/api/v1/me/notifications/read",
                Some(ann),
                Some(json!({"ids": [first_notification]})),
            )
            .await;
        assert_eq!(
            (status, marked["marked"].as_i64()),
            (200, Some(1)),
            "{marked}"
        );
        // Someone else's ids are not theirs to mark.
        let (_, marked) = server
            .call(
                Method::POST,
                "/api/v1/me/notifications/read",
                Some(bob),
                Some(json!({"ids": [first_notification]})),
            )
            .await;
        assert_eq!(marked["marked"], 0);
        let (_, marked) = server
            .call(
                Method::POST,
                "/api/v1/me/notifications/read",
                Some(ann),
                Some(json!({})),
            )
            .await;
        assert_eq!(marked["marked"], 1);
        assert_eq!(notifications(&server, ann).await["unread"], 0);
        server.stop().await;
    }
}
