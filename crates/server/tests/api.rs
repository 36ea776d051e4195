//! The API's conventions and flows against the real server: error shapes,
//! sessions and CSRF, tokens, the sign-in limiter, pagination, and OpenAPI.

use gloss_test_support::{databases, sqlite_db, TestServer, LABEL_CONFIG, PASSWORD};
use gloss_types::Role;
use reqwest::Method;
use serde_json::{json, Value};

async fn raw(server: &TestServer, token: &str, content_type: &str, body: &str) -> (u16, Value) {
    let response = server
        .client
        .post(server.url("/api/v1/projects"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn bad_requests_name_the_field_and_the_reason() {
    let db = sqlite_db();
    let server = TestServer::start(&db).await;
    let (_, admin) = server.user("admin", Role::Admin).await;

    let (status, body) = raw(&server, &admin, "application/json", "{\"name\": ").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );

    let (status, body) = raw(
        &server,
        &admin,
        "application/json",
        &format!(
            r#"{{"name": "p", "label_config": {}, "owner": 1}}"#,
            json!(LABEL_CONFIG)
        ),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_field")),
        "{body}"
    );
    assert_eq!(
        body["details"]["field"], "owner",
        "unknown fields are refused by name: {body}"
    );

    let (status, body) = raw(
        &server,
        &admin,
        "application/json",
        &format!(r#"{{"name": 5, "label_config": {}}}"#, json!(LABEL_CONFIG)),
    )
    .await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (422, Some("name")),
        "{body}"
    );

    let (status, body) = raw(
        &server,
        &admin,
        "application/json",
        &format!(
            r#"{{"name": "  ", "label_config": {}}}"#,
            json!(LABEL_CONFIG)
        ),
    )
    .await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (422, Some("name")),
        "{body}"
    );

    let (status, body) = raw(&server, &admin, "application/json", r#"{"name": "p"}"#).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("label_config"),
        "{body}"
    );

    let (status, body) = raw(
        &server,
        &admin,
        "text/plain",
        &format!(
            r#"{{"name": "p", "label_config": {}}}"#,
            json!(LABEL_CONFIG)
        ),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("unsupported_media_type")),
        "{body}"
    );

    let huge = format!(
        r#"{{"name": "p", "label_config": "{}"}}"#,
        "x".repeat(5 * 1024 * 1024)
    );
    let (status, body) = raw(&server, &admin, "application/json", &huge).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large")),
        "{body}"
    );

    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/projects",
            Some(&admin),
            Some(json!({"name": "p", "label_config": LABEL_CONFIG})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let path = format!("/api/v1/projects/{}/members", body["id"]);
    let (status, body) = server
        .call(
            Method::POST,
            &path,
            Some(&admin),
            Some(json!({"username": "admin", "role": "boss"})),
        )
        .await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (422, Some("role")),
        "{body}"
    );
    let (status, body) = server
        .call(
            Method::POST,
            &path,
            Some(&admin),
            Some(json!({"username": "ghost"})),
        )
        .await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (404, Some("username")),
        "{body}"
    );

    // Malformed paths and queries: (path, status, code, field).
    let cases = [
        ("/api/v1/projects/not-a-number", 404, "not_found", None),
        ("/api/v1/nothing-here", 404, "not_found", None),
        (
            "/api/v1/projects?limit=0",
            422,
            "invalid_field",
            Some("limit"),
        ),
        (
            "/api/v1/projects?after=abc",
            422,
            "invalid_field",
            Some("after"),
        ),
    ];
    for (path, expected_status, code, field) in cases {
        let (status, body) = server.call(Method::GET, path, Some(&admin), None).await;
        assert_eq!(
            (
                status,
                body["code"].as_str(),
                body["details"]["field"].as_str()
            ),
            (expected_status, Some(code), field),
            "{path}: {body}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn lists_are_keyset_paginated() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        for idx in 0..5 {
            let body = json!({"name": format!("p{idx}"), "label_config": LABEL_CONFIG});
            assert_eq!(
                server
                    .call(Method::POST, "/api/v1/projects", Some(&admin), Some(body))
                    .await
                    .0,
                201
            );
        }
        let mut names = Vec::new();
        let mut path = "/api/v1/projects?limit=2".to_string();
        let mut pages = 0;
        loop {
            let (status, page) = server.call(Method::GET, &path, Some(&admin), None).await;
            assert_eq!(status, 200, "{page}");
            pages += 1;
            names.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["name"].as_str().unwrap().to_string()),
            );
            match page["next"].as_str() {
                Some(next) => path = format!("/api/v1/projects?limit=2&after={next}"),
                None => break,
            }
        }
        assert_eq!(
            (pages, names),
            (
                3,
                vec!["p0", "p1", "p2", "p3", "p4"]
                    .into_iter()
                    .map(String::from)
                    .collect()
            ),
            "{}",
            db.label
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn browser_sessions_need_the_csrf_token_to_write() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        server.user("manager", Role::Manager).await;
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let login = browser
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({"username": "manager", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status().as_u16(), 200);
        let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let session: Value = login.json().await.unwrap();
        let csrf = session["csrf_token"].as_str().unwrap().to_string();

        let me: Value = browser
            .get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["username"], "manager");
        let again: Value = browser
            .get(server.url("/api/v1/auth/session"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            again["csrf_token"],
            csrf.as_str(),
            "a reloaded page gets the token back"
        );

        let project = json!({"name": "from the browser", "label_config": LABEL_CONFIG});
        let refused = browser
            .post(server.url("/api/v1/projects"))
            .json(&project)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status().as_u16(), 403);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "csrf_failed");
        let wrong = browser
            .post(server.url("/api/v1/projects"))
            .header("x-csrf-token", "guess")
            .json(&project)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status().as_u16(), 403);
        let accepted = browser
            .post(server.url("/api/v1/projects"))
            .header("x-csrf-token", &csrf)
            .json(&project)
            .send()
            .await
            .unwrap();
        assert_eq!(accepted.status().as_u16(), 201);

        let logout = browser
            .post(server.url("/api/v1/auth/logout"))
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(logout.status().as_u16(), 204);
        assert_eq!(
            browser
                .get(server.url("/api/v1/me"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            401,
            "{}",
            db.label
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn tokens_are_listed_without_secrets_and_revocable() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, alice) = server.user("alice", Role::Annotator).await;
        let (_, bob) = server.user("bob", Role::Annotator).await;
        let (status, body) = server
            .call(
                Method::POST,
                "/api/v1/auth/token",
                None,
                Some(json!({"username": "alice", "password": PASSWORD, "name": "laptop"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let secret = body["token"].as_str().unwrap().to_string();
        assert!(secret.starts_with("gls_"));
        let (_, list) = server
            .call(Method::GET, "/api/v1/me/tokens", Some(&secret), None)
            .await;
        let listed = list["items"].as_array().unwrap();
        assert_eq!(listed.len(), 2);
        assert!(
            !list.to_string().contains(&secret[4..]),
            "no secret in listings"
        );
        let laptop = listed
            .iter()
            .find(|token| token["name"] == "laptop")
            .unwrap();
        assert!(secret.starts_with(laptop["prefix"].as_str().unwrap()));

        let path = format!("/api/v1/me/tokens/{}", laptop["id"]);
        assert_eq!(
            server.call(Method::DELETE, &path, Some(&bob), None).await.0,
            404,
            "not bob's token"
        );
        assert_eq!(
            server
                .call(Method::DELETE, &path, Some(&alice), None)
                .await
                .0,
            204
        );
        assert_eq!(
            server
                .call(Method::GET, "/api/v1/me", Some(&secret), None)
                .await
                .0,
            401,
            "{}: revoked",
            db.label
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn sign_in_is_rate_limited() {
    let db = sqlite_db();
    let server = TestServer::start(&db).await;
    server.user("carol", Role::Annotator).await;
    let attempt = |password: &'static str| {
        let server = &server;
        async move {
            let body = json!({"username": "carol", "password": password});
            let response = server
                .client
                .post(server.url("/api/v1/auth/token"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|value| value.to_str().unwrap().to_string());
            (status, retry_after, response.json::<Value>().await.unwrap())
        }
    };
    for _ in 0..10 {
        let (status, _, body) = attempt("wrong password").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("invalid_credentials"))
        );
    }
    let (status, retry_after, body) = attempt("wrong password").await;
    assert_eq!(status, 429, "{body}");
    assert!(retry_after.is_some_and(|secs| secs.parse::<u64>().unwrap() > 0));
    assert!(body["details"]["retry_after"].as_u64().is_some());
    let (status, _, _) = attempt(PASSWORD).await;
    assert_eq!(status, 429, "the right password waits too while locked");
    server.stop().await;
}

#[tokio::test]
async fn passwords_change_and_accounts_deactivate() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let (_, dave) = server.user("dave", Role::Reviewer).await;
        let change = json!({"current_password": PASSWORD, "new_password": "short"});
        let (status, body) = server
            .call(
                Method::POST,
                "/api/v1/me/password",
                Some(&dave),
                Some(change),
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("new_password")),
            "{body}"
        );
        let change =
            json!({"current_password": PASSWORD, "new_password": "a much better password"});
        assert_eq!(
            server
                .call(
                    Method::POST,
                    "/api/v1/me/password",
                    Some(&dave),
                    Some(change)
                )
                .await
                .0,
            204
        );
        let login = |password: &str| json!({"username": "dave", "password": password});
        assert_eq!(
            server
                .call(
                    Method::POST,
                    "/api/v1/auth/token",
                    None,
                    Some(login(PASSWORD))
                )
                .await
                .0,
            401
        );
        assert_eq!(
            server
                .call(
                    Method::POST,
                    "/api/v1/auth/token",
                    None,
                    Some(login("a much better password"))
                )
                .await
                .0,
            201
        );

        let (status, body) = server
            .call(
                Method::PATCH,
                "/api/v1/users/admin",
                Some(&admin),
                Some(json!({"active": false})),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("conflict")),
            "the last admin stays: {body}"
        );
        let (status, body) = server
            .call(
                Method::PATCH,
                "/api/v1/users/dave",
                Some(&admin),
                Some(json!({"active": false})),
            )
            .await;
        assert_eq!(
            (status, body["active"].as_bool()),
            (200, Some(false)),
            "{body}"
        );
        assert_eq!(
            server
                .call(Method::GET, "/api/v1/me", Some(&dave), None)
                .await
                .0,
            401,
            "{}: deactivated",
            db.label
        );
        assert_eq!(
            server
                .call(
                    Method::POST,
                    "/api/v1/auth/token",
                    None,
                    Some(login("a much better password"))
                )
                .await
                .0,
            401
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn members_get_their_account_role_by_default() {
    let db = sqlite_db();
    let server = TestServer::start(&db).await;
    let (_, manager) = server.user("manager", Role::Manager).await;
    server.user("rita", Role::Reviewer).await;
    server.user("mark", Role::Manager).await;
    let (_, project) = server
        .call(
            Method::POST,
            "/api/v1/projects",
            Some(&manager),
            Some(json!({"name": "p", "label_config": LABEL_CONFIG})),
        )
        .await;
    assert_eq!(project["my_role"], "manager");
    let path = format!("/api/v1/projects/{}/members", project["id"]);
    for (username, role) in [("rita", "reviewer"), ("mark", "manager")] {
        let (status, member) = server
            .call(
                Method::POST,
                &path,
                Some(&manager),
                Some(json!({"username": username})),
            )
            .await;
        assert_eq!(
            (status, member["role"].as_str()),
            (200, Some(role)),
            "{member}"
        );
    }
    let (_, members) = server.call(Method::GET, &path, Some(&manager), None).await;
    assert_eq!(members["items"].as_array().unwrap().len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_is_served_and_responses_are_hardened() {
    let db = sqlite_db();
    let server = TestServer::start(&db).await;
    let response = server
        .client
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/projects/{project_id}"]["patch"].is_object());
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    server.stop().await;
}

#[tokio::test]
async fn label_configs_are_checked_with_every_problem_and_its_line() {
    let db = sqlite_db();
    let server = TestServer::start(&db).await;
    let (_, admin) = server.user("admin", Role::Admin).await;
    let config = "<View>\n  <Image name=\"image\" value=\"$image\"/>\n  <RectangleLabels name=\"box\" toName=\"picture\">\n    <Label value=\"Car\"/>\n  </RectangleLabels>\n  <Choices name=\"box\" toName=\"image\"/>\n</View>";
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/projects",
            Some(&admin),
            Some(json!({"name": "p", "label_config": config})),
        )
        .await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (422, Some("label_config")),
        "{body}"
    );
    let problems = body["details"]["problems"].as_array().unwrap();
    assert!(problems.len() >= 2, "every problem at once: {body}");
    assert!(
        problems
            .iter()
            .any(|p| p["code"] == "unknown_to_name" && p["line"] == 3),
        "{body}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p["code"] == "duplicate_name" && p["line"] == 6),
        "{body}"
    );
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/projects",
            Some(&admin),
            Some(json!({"name": "p", "label_config": "<View><Image"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["details"]["problems"][0]["code"], "xml_syntax",
        "{body}"
    );
    server.stop().await;
}
