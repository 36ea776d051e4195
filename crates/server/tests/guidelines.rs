//! Labeling guidelines through the API, on SQLite and PostgreSQL: managers
//! write versions, every version is kept and rendered sanitized, `next`
//! waits until the caller acknowledged the current version, and a new
//! version asks again.

use gloss_test_support::{databases, TestServer, LABEL_CONFIG};
use gloss_types::Role;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn labeling_waits_for_the_current_guidelines_to_be_acknowledged() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let (_, annotator) = server.user("ann", Role::Annotator).await;
        let id = server
            .create_project(&manager, "guided", LABEL_CONFIG)
            .await;
        let base = format!("/api/v1/projects/{id}");
        let call = |method: Method, path: String, token: &str, body: Option<Value>| {
            let server = &server;
            let token = token.to_owned();
            async move { server.call(method, &path, Some(&token), body).await }
        };
        assert_eq!(
            call(
                Method::POST,
                format!("{base}/members"),
                &manager,
                Some(json!({"username": "ann", "role": "annotator"}))
            )
            .await
            .0,
            200
        );
        assert_eq!(
            call(
                Method::POST,
                format!("{base}/tasks"),
                &manager,
                Some(json!([{"image": "/1.png"}, {"image": "/2.png"}]))
            )
            .await
            .0,
            201
        );

        // No guidelines: nothing to acknowledge.
        let (status, none) =
            call(Method::GET, format!("{base}/guidelines"), &annotator, None).await;
        assert_eq!(status, 200);
        assert_eq!(
            (none["current"].clone(), none["must_acknowledge"].clone()),
            (Value::Null, json!(false)),
            "{}",
            db.label
        );
        let (status, _) = call(Method::GET, format!("{base}/next"), &annotator, None).await;
        assert_eq!(status, 200);

        // Version 1: rendered sanitized; the annotator's next waits for it.
        let text =
            "# Rules\n\nBox **every** car. <script>alert(1)</script><img src=x onerror=alert(2)>";
        let (status, written) = call(
            Method::PUT,
            format!("{base}/guidelines"),
            &manager,
            Some(json!({"text": text})),
        )
        .await;
        assert_eq!(status, 200, "{written}");
        assert_eq!(written["current"]["version"], 1);
        assert_eq!(written["current"]["author"], "manager");
        let html = written["current"]["html"].as_str().unwrap();
        assert!(
            html.contains("<h1>Rules</h1>") && html.contains("<strong>every</strong>"),
            "{html}"
        );
        assert!(
            !html.contains("<script") && !html.contains("onerror") && !html.contains("<img"),
            "{html}"
        );
        let (status, refused) = call(Method::GET, format!("{base}/next"), &annotator, None).await;
        assert_eq!(status, 403, "{refused}");
        assert_eq!(
            refused["details"]["problems"]["guidelines_version"], 1,
            "{refused}"
        );
        assert!(refused["message"]
            .as_str()
            .unwrap()
            .contains("guidelines (version 1)"));
        let (_, mine) = call(Method::GET, format!("{base}/guidelines"), &annotator, None).await;
        assert_eq!(
            (
                mine["must_acknowledge"].clone(),
                mine["acknowledged_version"].clone()
            ),
            (json!(true), Value::Null)
        );
        // Work already reserved is never refused: the submit is stored.
        let (_, tasks) = call(Method::GET, format!("{base}/tasks"), &manager, None).await;
        let first = tasks["items"][0]["id"].as_i64().unwrap();
        let work = json!({"result": [{"from_name": "class", "to_name": "image", "type": "choices", "value": {"choices": ["Cat"]}}]});
        let (status, body) = call(
            Method::POST,
            format!("/api/v1/tasks/{first}/annotations"),
            &annotator,
            Some(work),
        )
        .await;
        assert_eq!(status, 201, "{body}");

        // Acknowledging another version is a conflict naming the current one.
        let (status, stale) = call(
            Method::POST,
            format!("{base}/guidelines/acknowledge"),
            &annotator,
            Some(json!({"version": 2})),
        )
        .await;
        assert_eq!(status, 409, "{stale}");
        assert_eq!(stale["details"]["problems"]["guidelines_version"], 1);
        let (status, acknowledged) = call(
            Method::POST,
            format!("{base}/guidelines/acknowledge"),
            &annotator,
            Some(json!({"version": 1})),
        )
        .await;
        assert_eq!(status, 200, "{acknowledged}");
        assert_eq!(
            (
                acknowledged["must_acknowledge"].clone(),
                acknowledged["acknowledged_version"].clone()
            ),
            (json!(false), json!(1))
        );
        let (status, next) = call(Method::GET, format!("{base}/next"), &annotator, None).await;
        assert_eq!(status, 200, "{next}");

        // The same text again is no new version; a new text is, and asks again.
        let (_, same) = call(
            Method::PUT,
            format!("{base}/guidelines"),
            &manager,
            Some(json!({"text": text})),
        )
        .await;
        assert_eq!(same["current"]["version"], 1);
        let (_, second) = call(
            Method::PUT,
            format!("{base}/guidelines"),
            &manager,
            Some(json!({"text": "# Rules\n\nBox every car and every bus."})),
        )
        .await;
        assert_eq!(second["current"]["version"], 2);
        let (status, refused) = call(Method::GET, format!("{base}/next"), &annotator, None).await;
        assert_eq!(
            (
                status,
                refused["details"]["problems"]["guidelines_version"].clone()
            ),
            (403, json!(2))
        );
        let (_, versions) = call(
            Method::GET,
            format!("{base}/guidelines/versions"),
            &annotator,
            None,
        )
        .await;
        let numbers: Vec<i64> = versions["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect();
        assert_eq!(numbers, [2, 1]);
        assert_eq!(versions["versions"][1]["text"], text);

        // Bad text is refused by field; the project's settings are untouched.
        for (body, reason) in [
            (json!({"text": "  "}), "must not be empty"),
            (
                json!({"text": "x".repeat(gloss_engine::MAX_GUIDELINES_BYTES + 1)}),
                "at most",
            ),
        ] {
            let (status, error) = call(
                Method::PUT,
                format!("{base}/guidelines"),
                &manager,
                Some(body),
            )
            .await;
            assert_eq!(
                (status, error["details"]["field"].as_str()),
                (422, Some("text")),
                "{error}"
            );
            assert!(
                error["message"].as_str().unwrap().contains(reason),
                "{error}"
            );
        }
        let (_, project) = call(Method::GET, base.clone(), &manager, None).await;
        assert_eq!(project["guidelines_version"], 2);
        assert_eq!(project["updated_at"], project["created_at"], "{project}");
        server.stop().await;
    }
}
