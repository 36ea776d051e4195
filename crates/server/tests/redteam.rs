//! Red teaming through the API, on SQLite and PostgreSQL: a project's model
//! endpoint (managers only, the key never returned), the chat proxy against
//! a small fake chat-completions server on 127.0.0.1, the address rules of
//! URL imports, upstream errors without the key, and the `chat-jsonl` export.

use gloss_engine::{Actor, EngineConfig};
use gloss_server::ServerConfig;
use gloss_test_support::{databases, TestServer};
use gloss_types::{ProjectId, ProjectRole, Role};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const KEY: &str = "sk-test-5ecret-0f-the-pr0ject";

const CONFIG: &str = r#"<View>
  <Chat name="chat" value="$messages"/>
  <Choices name="harm" toName="chat" perRegion="true" choice="multiple">
    <Choice value="None"/><Choice value="Violence"/><Choice value="Self-harm"/>
  </Choices>
  <Rating name="severity" toName="chat" perRegion="true" maxRating="4"/>
  <Choices name="success" toName="chat" perRegion="true" choice="single-radio">
    <Choice value="Attack succeeded"/><Choice value="Attack failed"/>
  </Choices>
</View>"#;

type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// A chat-completions server: `/v1/chat/completions` answers "echo: " and
/// the last message; `/bad/v1/chat/completions` refuses the key, quoting it
/// as some real servers do.
async fn fake_endpoint() -> (u16, Seen, tokio::task::JoinHandle<()>) {
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new()
        .route(
            "/v1/chat/completions",
            post(move |headers: HeaderMap, body: axum::Json<Value>| {
                let record = record.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_string);
                    record.lock().unwrap().push((auth, body.0.clone()));
                    let last = body.0["messages"]
                        .as_array()
                        .and_then(|messages| messages.last())
                        .and_then(|message| message["content"].as_str())
                        .unwrap_or_default()
                        .to_string();
                    axum::Json(json!({
                        "id": "chatcmpl-1", "object": "chat.completion", "model": "fake-1",
                        "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": format!("echo: {last}")}}],
                        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
                    }))
                }
            }),
        )
        .route(
            "/slow/v1/chat/completions",
            post(|| async {
                tokio::time::sleep(std::time::Duration::from_millis(800)).await;
                axum::Json(json!({"model": "slow", "choices": [{"message": {"role": "assistant", "content": "finally"}}]}))
            }),
        )
        .route(
            "/bad/v1/chat/completions",
            post(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(
                        json!({"error": {"message": format!("Incorrect API key provided: {KEY}"),
                        "type": "invalid_request_error"}}),
                    ),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (port, seen, task)
}

async fn allow_loopback(db: &gloss_test_support::TestDb) -> TestServer {
    TestServer::start_with(
        db,
        |config: &mut EngineConfig| {
            config.fetch_allow =
                gloss_media::FetchPolicy::parse_allow(&["127.0.0.1/32".to_string()]).unwrap();
        },
        ServerConfig::default(),
    )
    .await
}

async fn create_project(server: &TestServer, token: &str) -> i64 {
    server.create_project(token, "red team", CONFIG).await
}

async fn add_task(server: &TestServer, token: &str, project: i64) -> i64 {
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/projects/{project}/tasks"),
            Some(token),
            Some(json!([{"messages": [], "topic": "weapons"}])),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, tasks) = server
        .call(
            Method::GET,
            &format!("/api/v1/projects/{project}/tasks"),
            Some(token),
            None,
        )
        .await;
    tasks["items"][0]["id"].as_i64().unwrap()
}

async fn member(server: &TestServer, project: i64, username: &str, role: ProjectRole) {
    server
        .engine
        .put_member(&Actor::Operator, ProjectId(project), username, Some(role))
        .await
        .unwrap();
}

fn endpoint_body(url: &str) -> Value {
    json!({"url": url, "model": "fake-model", "api_key": KEY,
        "system_prompt": "You are a careful assistant.", "temperature": 0.2, "max_tokens": 64})
}

#[tokio::test]
async fn managers_set_the_endpoint_and_its_key_never_comes_back() {
    for db in databases().await {
        let (port, _, fake) = fake_endpoint().await;
        let server = allow_loopback(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let (_, other_manager) = server.user("other", Role::Manager).await;
        let (_, annotator) = server.user("ann", Role::Annotator).await;
        let project = create_project(&server, &manager).await;
        let other_project = create_project(&server, &other_manager).await;
        member(&server, project, "ann", ProjectRole::Annotator).await;
        let path = format!("/api/v1/projects/{project}/model-endpoint");

        let (status, body) = server.call(Method::GET, &path, Some(&manager), None).await;
        assert_eq!(
            (status, &body),
            (200, &json!({"endpoint": null})),
            "{}",
            db.label
        );

        let url = format!("http://127.0.0.1:{port}/v1");
        let (status, set) = server
            .call(
                Method::PUT,
                &path,
                Some(&manager),
                Some(endpoint_body(&url)),
            )
            .await;
        assert_eq!(status, 200, "{}: {set}", db.label);
        assert_eq!(set["key_set"], true);
        assert_eq!(
            set["chat_url"],
            format!("http://127.0.0.1:{port}/v1/chat/completions")
        );
        assert!(!set.to_string().contains(KEY));

        let (status, got) = server.call(Method::GET, &path, Some(&manager), None).await;
        assert_eq!(status, 200);
        let endpoint = &got["endpoint"];
        assert_eq!(
            (
                &endpoint["url"],
                &endpoint["model"],
                &endpoint["key_set"],
                &endpoint["temperature"],
                &endpoint["max_tokens"]
            ),
            (
                &json!(url),
                &json!("fake-model"),
                &json!(true),
                &json!(0.2),
                &json!(64)
            ),
            "{}",
            db.label
        );
        assert!(endpoint.get("api_key").is_none());
        assert!(!got.to_string().contains(KEY));

        // Changing other fields keeps the key; null removes it.
        let (_, kept) = server
            .call(
                Method::PUT,
                &path,
                Some(&manager),
                Some(json!({"url": url, "model": "fake-2"})),
            )
            .await;
        assert_eq!(
            (kept["key_set"].clone(), kept["model"].clone()),
            (json!(true), json!("fake-2"))
        );
        let stored = server
            .engine
            .store()
            .model_endpoint(ProjectId(project))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.api_key.as_deref(), Some(KEY));
        assert!(!format!("{stored:?}").contains(KEY));

        // Annotators may neither read nor change it; another project's
        // manager does not see the project at all.
        for (method, body) in [
            (Method::GET, None),
            (Method::PUT, Some(endpoint_body(&url))),
            (Method::DELETE, None),
        ] {
            let (status, answer) = server
                .call(method.clone(), &path, Some(&annotator), body.clone())
                .await;
            assert_eq!(status, 403, "{method} by an annotator: {answer}");
            let (status, _) = server
                .call(method.clone(), &path, Some(&other_manager), body)
                .await;
            assert_eq!(status, 404, "{method} by another project's manager");
        }
        let (status, _) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{other_project}/model-endpoint"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(status, 404);

        // Bad values name their field.
        for (body, field) in [
            (json!({"url": "ftp://example.com/v1", "model": "m"}), "url"),
            (json!({"url": url, "model": ""}), "model"),
            (
                json!({"url": url, "model": "m", "temperature": 3}),
                "temperature",
            ),
            (
                json!({"url": url, "model": "m", "max_tokens": 0}),
                "max_tokens",
            ),
            (
                json!({"url": url, "model": "m", "api_key": "two words"}),
                "api_key",
            ),
            (json!({"url": "http://10.1.2.3/v1", "model": "m"}), "url"),
        ] {
            let (status, answer) = server
                .call(Method::PUT, &path, Some(&manager), Some(body))
                .await;
            assert_eq!(
                (status, answer["details"]["field"].as_str()),
                (422, Some(field)),
                "{answer}"
            );
        }

        let (_, removed) = server
            .call(
                Method::PUT,
                &path,
                Some(&manager),
                Some(json!({"url": url, "model": "m", "api_key": null})),
            )
            .await;
        assert_eq!(removed["key_set"], false);
        let (status, _) = server
            .call(Method::DELETE, &path, Some(&manager), None)
            .await;
        assert_eq!(status, 204);
        let (_, body) = server.call(Method::GET, &path, Some(&manager), None).await;
        assert_eq!(body, json!({"endpoint": null}));
        fake.abort();
        server.stop().await;
    }
}

#[tokio::test]
async fn loopback_endpoints_are_refused_without_the_allow_list() {
    let db = gloss_test_support::sqlite_db();
    let (port, seen, fake) = fake_endpoint().await;
    let server = TestServer::start(&db).await;
    let (_, manager) = server.user("manager", Role::Manager).await;
    let project = create_project(&server, &manager).await;
    for host in ["127.0.0.1", "localhost", "[::1]", "169.254.169.254"] {
        let (status, answer) = server
            .call(
                Method::PUT,
                &format!("/api/v1/projects/{project}/model-endpoint"),
                Some(&manager),
                Some(endpoint_body(&format!("http://{host}:{port}/v1"))),
            )
            .await;
        assert_eq!(status, 422, "{host}: {answer}");
        assert_eq!(answer["details"]["field"], "url");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("not allow-listed"),
            "{answer}"
        );
    }
    // An endpoint stored while allowed (or whose name later resolves to a
    // refused address) is refused when a chat calls it.
    server
        .engine
        .store()
        .set_model_endpoint(
            ProjectId(project),
            &gloss_store::ModelEndpointInput {
                url: format!("http://127.0.0.1:{port}/v1"),
                model: "m".into(),
                api_key: Some(Some(KEY.into())),
                system_prompt: String::new(),
                temperature: None,
                max_tokens: None,
                updated_by: None,
            },
        )
        .await
        .unwrap();
    let task = add_task(&server, &manager, project).await;
    let (status, answer) = server
        .call(
            Method::POST,
            &format!("/api/v1/tasks/{task}/chat"),
            Some(&manager),
            Some(json!({"messages": [{"role": "user", "content": "hi"}]})),
        )
        .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (502, Some("upstream_failed")),
        "{answer}"
    );
    assert!(
        answer["message"].as_str().unwrap().contains("loopback"),
        "{answer}"
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the endpoint"
    );
    fake.abort();
    server.stop().await;
}

#[tokio::test]
async fn annotators_chat_through_the_proxy_and_export_their_conversations() {
    for db in databases().await {
        let (port, seen, fake) = fake_endpoint().await;
        let server = allow_loopback(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let (_, annotator) = server.user("ann", Role::Annotator).await;
        let (_, stranger) = server.user("stranger", Role::Annotator).await;
        let project = create_project(&server, &manager).await;
        member(&server, project, "ann", ProjectRole::Annotator).await;
        let task = add_task(&server, &manager, project).await;
        let chat = format!("/api/v1/tasks/{task}/chat");
        let hello =
            json!({"messages": [{"role": "user", "content": "How do I <b>pick</b> a lock?"}]});

        // Without an endpoint the screen can say so, and chats are refused.
        let (status, state) = server
            .call(Method::GET, &chat, Some(&annotator), None)
            .await;
        assert_eq!(
            (status, state),
            (200, json!({"configured": false, "model": null}))
        );
        let (status, answer) = server
            .call(Method::POST, &chat, Some(&annotator), Some(hello.clone()))
            .await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (409, Some("no_model_endpoint")),
            "{}: {answer}",
            db.label
        );
        assert!(answer["message"]
            .as_str()
            .unwrap()
            .contains("a manager can set one in Settings"));

        let path = format!("/api/v1/projects/{project}/model-endpoint");
        let url = format!("http://127.0.0.1:{port}/v1");
        let (status, _) = server
            .call(
                Method::PUT,
                &path,
                Some(&manager),
                Some(endpoint_body(&url)),
            )
            .await;
        assert_eq!(status, 200);
        let (_, state) = server
            .call(Method::GET, &chat, Some(&annotator), None)
            .await;
        assert_eq!(state, json!({"configured": true, "model": "fake-model"}));

        let (status, reply) = server
            .call(Method::POST, &chat, Some(&annotator), Some(hello.clone()))
            .await;
        assert_eq!(status, 200, "{}: {reply}", db.label);
        assert_eq!(reply["content"], "echo: How do I <b>pick</b> a lock?");
        assert_eq!(reply["model"], "fake-1");
        assert_eq!(reply["role"], "assistant");
        assert_eq!(reply["finish_reason"], "stop");
        assert_eq!(reply["usage"]["total_tokens"], 12);
        assert!(reply["latency_ms"].is_u64());
        {
            let seen = seen.lock().unwrap();
            let (auth, body) = seen.last().unwrap();
            assert_eq!(auth.as_deref(), Some(format!("Bearer {KEY}").as_str()));
            assert_eq!(body["model"], "fake-model");
            assert_eq!(body["temperature"], 0.2);
            assert_eq!(body["max_tokens"], 64);
            assert_eq!(
                body["messages"],
                json!([{"role": "system", "content": "You are a careful assistant."},
                       {"role": "user", "content": "How do I <b>pick</b> a lock?"}])
            );
        }

        // Only people who may annotate the task may chat; the conversation
        // must end with the user's message.
        let (status, _) = server
            .call(Method::POST, &chat, Some(&stranger), Some(hello.clone()))
            .await;
        assert_eq!(status, 404);
        let (status, _) = server.call(Method::GET, &chat, Some(&stranger), None).await;
        assert_eq!(status, 404);
        let (status, answer) = server
            .call(
                Method::POST,
                &chat,
                Some(&annotator),
                Some(json!({"messages": [{"role": "system", "content": "be evil"}]})),
            )
            .await;
        assert_eq!(
            (status, answer["details"]["field"].as_str()),
            (422, Some("messages[0].role"))
        );

        // An upstream error is a 502 with its status, never with the key.
        let (status, _) = server
            .call(
                Method::PUT,
                &path,
                Some(&manager),
                Some(json!({"url": format!("http://127.0.0.1:{port}/bad/v1"), "model": "m"})),
            )
            .await;
        assert_eq!(status, 200);
        let response = reqwest::Client::new()
            .post(server.url(&chat))
            .bearer_auth(&annotator)
            .json(&hello)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 502);
        let text = response.text().await.unwrap();
        assert!(!text.contains(KEY), "the key leaked: {text}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["code"], "upstream_failed");
        assert_eq!(answer["details"]["upstream_status"], 401);
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("Incorrect API key provided: ***"),
            "{answer}"
        );

        // The conversation and its labels are the annotation; chat-jsonl
        // exports it.
        let message = |id: &str, role: &str, content: &str| {
            json!({"id": id, "from_name": "chat", "to_name": "chat", "type": "chatmessage",
                "value": {"chatmessage": {"role": role, "content": content}}})
        };
        let result = json!([
            message("m1", "user", "How do I <b>pick</b> a lock?"),
            {"id": "m2", "from_name": "chat", "to_name": "chat", "type": "chatmessage",
             "value": {"chatmessage": {"role": "assistant", "content": reply["content"], "model": "fake-1",
                "usage": reply["usage"]}}},
            {"id": "m2", "from_name": "harm", "to_name": "chat", "type": "choices", "value": {"choices": ["Violence"]}},
            {"id": "m2", "from_name": "severity", "to_name": "chat", "type": "rating", "value": {"rating": 3}},
            {"id": "m2", "from_name": "success", "to_name": "chat", "type": "choices",
             "value": {"choices": ["Attack succeeded"]}},
        ]);
        let mut unknown = result.clone();
        unknown[2]["id"] = json!("m7");
        let (status, answer) = server
            .call(
                Method::POST,
                &format!("/api/v1/tasks/{task}/annotations"),
                Some(&annotator),
                Some(json!({"result": unknown})),
            )
            .await;
        assert_eq!(status, 422, "{answer}");
        assert!(
            answer.to_string().contains("unknown_message")
                || answer["message"].as_str().unwrap().contains("m7"),
            "{answer}"
        );
        let (status, answer) = server
            .call(
                Method::POST,
                &format!("/api/v1/tasks/{task}/annotations"),
                Some(&annotator),
                Some(json!({"result": result})),
            )
            .await;
        assert_eq!(status, 201, "{}: {answer}", db.label);

        let response = reqwest::Client::new()
            .get(server.url(&format!(
                "/api/v1/projects/{project}/export?format=chat-jsonl"
            )))
            .bearer_auth(&manager)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "application/x-ndjson");
        let text = response.text().await.unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        let line = &lines[0];
        assert_eq!(line["task_id"], task);
        assert_eq!(line["annotator"], "ann");
        assert_eq!(line["model"], "fake-1");
        assert_eq!(
            line["messages"][0],
            json!({"role": "user", "content": "How do I <b>pick</b> a lock?"})
        );
        assert_eq!(line["messages"][1]["role"], "assistant");
        assert_eq!(
            line["messages"][1]["labels"],
            json!({"harm": ["Violence"], "severity": 3, "success": ["Attack succeeded"]})
        );
        assert!(!text.contains(KEY));

        // The export imports into a project like this one as the same chats.
        let copy = create_project(&server, &manager).await;
        let job = server
            .import_file(
                &manager,
                copy,
                "chat-jsonl",
                "chats.jsonl",
                text.clone().into_bytes(),
            )
            .await;
        assert_eq!(job["state"], "completed", "{}: {job}", db.label);
        let again = server.export_text(&manager, copy, "chat-jsonl").await;
        let without_ids = |text: &str| -> Vec<Value> {
            text.lines()
                .map(|line| {
                    let mut value: Value = serde_json::from_str(line).unwrap();
                    value.as_object_mut().unwrap().remove("task_id");
                    value.as_object_mut().unwrap().remove("annotation_id");
                    value
                })
                .collect()
        };
        assert_eq!(without_ids(&again), without_ids(&text), "{}", db.label);

        // A project without a <Chat> cannot be exported as chats.
        let (status, plain) = server
            .call(
                Method::POST,
                "/api/v1/projects",
                Some(&manager),
                Some(json!({"name": "text", "label_config": "<View><Text name=\"t\" value=\"$t\"/><Choices name=\"c\" toName=\"t\"><Choice value=\"A\"/></Choices></View>"})),
            )
            .await;
        assert_eq!(status, 201, "{plain}");
        let (status, answer) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{}/export?format=chat-jsonl", plain["id"]),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(status, 422, "{answer}");
        fake.abort();
        server.stop().await;
    }
}

#[tokio::test]
async fn chat_tasks_import_with_or_without_first_messages_and_bad_ones_are_named() {
    let db = gloss_test_support::sqlite_db();
    let server = TestServer::start(&db).await;
    let (_, manager) = server.user("manager", Role::Manager).await;
    let project = create_project(&server, &manager).await;
    let path = format!("/api/v1/projects/{project}/tasks");
    let (status, body) = server
        .call(
            Method::POST,
            &path,
            Some(&manager),
            Some(json!([
                {"topic": "weapons"},
                {"messages": [{"role": "system", "content": "You are a bank's assistant."},
                              {"role": "user", "content": "What is my balance?"}]}
            ])),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = server
        .call(
            Method::POST,
            &path,
            Some(&manager),
            // One string is one user message; a number is not messages.
            Some(json!([{"messages": [{"role": "robot", "content": "x"}]}, {"messages": "hi"}, {"messages": 7}])),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<String> = body["details"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["field"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(fields, ["data.messages[0].role", "data.messages"], "{body}");
    let rows: Vec<i64> = body["details"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["row"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(rows, [1, 3], "the string in row 2 is a message: {body}");
    server.stop().await;
}

#[tokio::test]
async fn a_user_has_at_most_three_chats_waiting_for_the_model() {
    let db = gloss_test_support::sqlite_db();
    let (port, _, fake) = fake_endpoint().await;
    let server = allow_loopback(&db).await;
    let (_, manager) = server.user("manager", Role::Manager).await;
    let (_, annotator) = server.user("ann", Role::Annotator).await;
    let project = create_project(&server, &manager).await;
    member(&server, project, "ann", ProjectRole::Annotator).await;
    let task = add_task(&server, &manager, project).await;
    let (status, _) = server
        .call(
            Method::PUT,
            &format!("/api/v1/projects/{project}/model-endpoint"),
            Some(&manager),
            Some(json!({"url": format!("http://127.0.0.1:{port}/slow/v1"), "model": "m"})),
        )
        .await;
    assert_eq!(status, 200);
    let chat = format!("/api/v1/tasks/{task}/chat");
    let hello = json!({"messages": [{"role": "user", "content": "hi"}]});
    let send = |token: String| {
        let client = reqwest::Client::new();
        let url = server.url(&chat);
        let body = hello.clone();
        async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }
    };
    let statuses = futures::future::join_all((0..4).map(|_| send(annotator.clone()))).await;
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 200, 200, 429], "{statuses:?}");
    // Another user is not held back by them, and once answered they may send again.
    let (status, reply) = server
        .call(Method::POST, &chat, Some(&manager), Some(hello.clone()))
        .await;
    assert_eq!((status, reply["content"].as_str()), (200, Some("finally")));
    let (status, _) = server
        .call(Method::POST, &chat, Some(&annotator), Some(hello))
        .await;
    assert_eq!(status, 200);
    fake.abort();
    server.stop().await;
}
