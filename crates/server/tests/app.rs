//! What the browser app needs from the server, against the real server on
//! both backends: the embedded app itself, invitation links, the label
//! config check, and label config changes that migrate stored results.

use gloss_test_support::{databases, sqlite_db, TestServer, LABEL_CONFIG, PASSWORD};
use gloss_types::Role;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn the_app_is_served_with_a_strict_policy_and_pages_fall_back_to_it() {
    let db = sqlite_db();
    let server = TestServer::start(&db).await;
    for path in ["/", "/projects/7/label", "/invite/abc"] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let html = response.text().await.unwrap();
        assert!(html.contains(r#"src="/static/main.js""#), "{html}");
    }
    let script = server
        .client
        .get(server.url("/static/main.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = script.headers()["etag"].clone();
    let again = server
        .client
        .get(server.url("/static/main.js"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "an unchanged module is not sent again");
    let missing = server
        .client
        .get(server.url("/static/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let (status, body) = server
        .call(Method::GET, "/api/v1/nothing", None, None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "API addresses stay JSON"
    );
    server.stop().await;
}

#[tokio::test]
async fn invitation_links_make_one_account_with_the_role_and_membership() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let (_, manager) = server.user("boss", Role::Manager).await;
        let (_, annotator) = server.user("ann", Role::Annotator).await;
        let id = server.create_project(&manager, "P", LABEL_CONFIG).await;
        let invites = format!("/api/v1/projects/{id}/invites");

        // Only the project's managers invite; outsiders do not see the project.
        let (status, _) = server
            .call(
                Method::POST,
                &invites,
                Some(&annotator),
                Some(json!({"role": "annotator"})),
            )
            .await;
        assert_eq!(status, 404, "a non-member");
        let (status, body) = server
            .call(
                Method::POST,
                &invites,
                Some(&manager),
                Some(json!({"role": "admin"})),
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
                &invites,
                Some(&manager),
                Some(json!({"role": "annotator", "valid_days": 90})),
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("valid_days")),
            "{body}"
        );

        let (status, made) = server
            .call(
                Method::POST,
                &invites,
                Some(&manager),
                Some(json!({"role": "reviewer"})),
            )
            .await;
        assert_eq!(status, 201, "{made}");
        let code = made["code"].as_str().unwrap();
        assert_eq!(made["path"], format!("/invite/{code}"));
        let (status, offered) = server
            .call(Method::GET, &format!("/api/v1/invites/{code}"), None, None)
            .await;
        assert_eq!(
            (
                status,
                offered["role"].as_str(),
                offered["project_name"].as_str()
            ),
            (200, Some("reviewer"), Some("P")),
            "{offered}"
        );

        let accept = format!("/api/v1/invites/{code}/accept");
        let (status, body) = server
            .call(
                Method::POST,
                &accept,
                None,
                Some(json!({"username": "new person", "password": PASSWORD})),
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("username")),
            "{body}"
        );
        let (status, body) = server
            .call(
                Method::POST,
                &accept,
                None,
                Some(json!({"username": "ann", "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 409, "a taken username: {body}");
        let response = server
            .client
            .post(server.url(&accept))
            .json(&json!({"username": "rev", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .starts_with("gloss_session="),
            "the new account is signed in"
        );
        let session: Value = response.json().await.unwrap();
        assert_eq!(
            (
                session["user"]["username"].as_str(),
                session["user"]["role"].as_str()
            ),
            (Some("rev"), Some("reviewer"))
        );

        // The link works once; the account is a reviewer of the project.
        let (status, _) = server
            .call(
                Method::POST,
                &accept,
                None,
                Some(json!({"username": "rev2", "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 404);
        let (status, _) = server
            .call(Method::GET, &format!("/api/v1/invites/{code}"), None, None)
            .await;
        assert_eq!(status, 404);
        let (_, members) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/members"),
                Some(&admin),
                None,
            )
            .await;
        let rev = members["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["username"] == "rev")
            .cloned()
            .unwrap();
        assert_eq!(rev["role"], "reviewer");
        let (status, list) = server
            .call(Method::GET, &invites, Some(&manager), None)
            .await;
        assert_eq!(
            (status, list[0]["used_by"].as_str()),
            (200, Some("rev")),
            "{list}"
        );

        // A withdrawn link stops working.
        let (_, second) = server
            .call(
                Method::POST,
                &invites,
                Some(&manager),
                Some(json!({"role": "annotator"})),
            )
            .await;
        let (status, _) = server
            .call(
                Method::DELETE,
                &format!("{invites}/{}", second["id"]),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(status, 204);
        let (status, _) = server
            .call(
                Method::GET,
                &format!("/api/v1/invites/{}", second["code"].as_str().unwrap()),
                None,
                None,
            )
            .await;
        assert_eq!(status, 404);
        server.stop().await;
    }
}

#[tokio::test]
async fn the_config_check_gives_the_model_and_every_problem_with_its_line() {
    let db = sqlite_db();
    let server = TestServer::start(&db).await;
    let (_, annotator) = server.user("ann", Role::Annotator).await;
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/label-config/check",
            Some(&annotator),
            Some(json!({"label_config": LABEL_CONFIG})),
        )
        .await;
    assert_eq!(
        (status, body["valid"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    assert_eq!(body["config"]["controls"][0]["labels"][1]["value"], "Dog");
    let broken = "<View>\n  <Image name=\"image\" value=\"$image\"/>\n  <Choices name=\"c\" toName=\"nothing\"><Choice value=\"A\"/></Choices>\n</View>";
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/label-config/check",
            Some(&annotator),
            Some(json!({"label_config": broken})),
        )
        .await;
    assert_eq!(
        (status, body["valid"].as_bool()),
        (200, Some(false)),
        "{body}"
    );
    assert_eq!(body["problems"][0]["line"], 3, "{body}");
    let (status, _) = server
        .call(
            Method::POST,
            "/api/v1/label-config/check",
            None,
            Some(json!({"label_config": broken})),
        )
        .await;
    assert_eq!(status, 401);
    server.stop().await;
}

#[tokio::test]
async fn markdown_is_rendered_as_sanitized_html_for_signed_in_users() {
    let db = sqlite_db();
    let server = TestServer::start(&db).await;
    let (_, annotator) = server.user("ann", Role::Annotator).await;
    let texts = json!({"texts": [
        "**Paris** is [the capital](https://example.org)",
        "<img src=x onerror=alert(1)><script>alert(2)</script>[x](javascript:alert(3))",
    ]});
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/markdown",
            Some(&annotator),
            Some(texts.clone()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["html"][0],
        "<p><strong>Paris</strong> is <a href=\"https://example.org\" target=\"_blank\" rel=\"noopener noreferrer\">the capital</a></p>\n"
    );
    let unsafe_html = body["html"][1].as_str().unwrap();
    for gone in ["<img", "onerror", "<script", "alert(2)", "javascript"] {
        assert!(!unsafe_html.contains(gone), "{unsafe_html}");
    }
    let (status, _) = server
        .call(Method::POST, "/api/v1/markdown", None, Some(texts))
        .await;
    assert_eq!(status, 401);
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/markdown",
            Some(&annotator),
            Some(json!({"texts": "no"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    server.stop().await;
}

const BOXES: &str = r##"<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image"><Label value="Car"/><Label value="Truck"/><Label value="Bike"/></RectangleLabels><Choices name="scene" toName="image"><Choice value="Day"/></Choices></View>"##;
const BOXES_AFTER: &str = r##"<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image"><Label value="Vehicle"/><Label value="Bike"/></RectangleLabels></View>"##;

fn region(label: &str) -> Value {
    json!({"id": label, "from_name": "label", "to_name": "image", "type": "rectanglelabels",
        "original_width": 100, "original_height": 100,
        "value": {"x": 1, "y": 2, "width": 3, "height": 4, "rotation": 0, "rectanglelabels": [label]}})
}

#[tokio::test]
async fn a_config_change_shows_its_impact_and_migrates_results_in_one_go() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("boss", Role::Manager).await;
        let id = server.create_project(&manager, "P", BOXES).await;
        let day = json!({"id": "s", "from_name": "scene", "to_name": "image", "type": "choices", "value": {"choices": ["Day"]}});
        let tasks = json!([
            {"data": {"image": "a.png"}, "annotations": [{"result": [region("Car"), region("Truck"), day]}]},
            {"data": {"image": "b.png"}, "annotations": [{"result": [region("Bike")]}], "predictions": [{"result": [region("Truck")]}]},
        ]);
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{id}/tasks"),
                Some(&manager),
                Some(tasks),
            )
            .await;
        assert_eq!(status, 201, "{body}");

        let (status, impact) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{id}/label-config/impact"),
                Some(&manager),
                Some(json!({"label_config": BOXES_AFTER})),
            )
            .await;
        assert_eq!(status, 200, "{impact}");
        let uses: Vec<(String, u64, bool)> = impact["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["label"].as_str().unwrap().to_string(),
                    l["results"].as_u64().unwrap(),
                    l["kept"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            uses,
            [
                ("Bike".into(), 1, true),
                ("Car".into(), 1, false),
                ("Truck".into(), 2, false)
            ],
            "{impact}"
        );
        assert_eq!(
            impact["controls_removed"],
            json!([{"from_name": "scene", "results": 1}])
        );
        assert_eq!(impact["new_labels"]["label"], json!(["Vehicle", "Bike"]));

        // Saving without saying what becomes of Car and Truck is refused, naming them.
        let path = format!("/api/v1/projects/{id}");
        let (status, body) = server
            .call(
                Method::PATCH,
                &path,
                Some(&manager),
                Some(json!({"label_config": BOXES_AFTER})),
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("label_changes")),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("`Truck` (2 results)"),
            "{body}"
        );
        let (status, body) = server
            .call(Method::PATCH, &path, Some(&manager), Some(json!({"label_config": BOXES_AFTER, "label_changes": [
                {"from_name": "label", "label": "Car", "to": "Vehicle"}, {"from_name": "label", "label": "Truck", "to": "Lorry"}]})))
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("label_changes[1].to")),
            "{body}"
        );
        let (_, unchanged) = server.call(Method::GET, &path, Some(&manager), None).await;
        assert_eq!(
            unchanged["label_config"], BOXES,
            "a refused change changes nothing"
        );

        // Car and Truck merge into Vehicle; the scene control goes.
        let (status, body) = server
            .call(Method::PATCH, &path, Some(&manager), Some(json!({"label_config": BOXES_AFTER, "label_changes": [
                {"from_name": "label", "label": "Car", "to": "Vehicle"}, {"from_name": "label", "label": "Truck", "to": "Vehicle"}]})))
            .await;
        assert_eq!(
            (status, body["label_config"].as_str()),
            (200, Some(BOXES_AFTER)),
            "{body}"
        );
        let (_, page) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/tasks"),
                Some(&manager),
                None,
            )
            .await;
        let first = page["items"][0]["id"].as_i64().unwrap();
        let (_, detail) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{first}"),
                Some(&manager),
                None,
            )
            .await;
        let annotation = &detail["annotations"][0];
        let labels: Vec<&Value> = annotation["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| &item["value"]["rectanglelabels"][0])
            .collect();
        assert_eq!(
            labels,
            [&json!("Vehicle"), &json!("Vehicle")],
            "{annotation}"
        );
        assert_eq!(
            annotation["version"], 2,
            "a migrated annotation gets a new version"
        );
        // The data manager's "label present" filter follows the migration.
        for (label, expected) in [("Vehicle", 1), ("Car", 0)] {
            let (_, table) = server
                .call(
                    Method::GET,
                    &format!("/api/v1/projects/{id}/task-table?count=true&label={label}"),
                    Some(&manager),
                    None,
                )
                .await;
            assert!(
                table["total"].as_i64().unwrap() >= expected
                    && (expected > 0 || table["total"] == 0),
                "label {label}: {table}"
            );
        }
        let (_, versions) = server
            .call(
                Method::GET,
                &format!("/api/v1/annotations/{}/versions", annotation["id"]),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(
            versions.as_array().unwrap().len(),
            2,
            "the old result stays readable: {versions}"
        );
        let second = page["items"][1]["id"].as_i64().unwrap();
        let (_, detail) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{second}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(
            detail["predictions"][0]["result"][0]["value"]["rectanglelabels"],
            json!(["Vehicle"])
        );
        assert_eq!(
            detail["annotations"][0]["version"], 1,
            "an annotation the change does not touch keeps its version"
        );

        // Nothing is left to migrate now.
        let (_, impact) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{id}/label-config/impact"),
                Some(&manager),
                Some(json!({"label_config": BOXES_AFTER})),
            )
            .await;
        assert!(
            impact["labels"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["kept"] == true),
            "{impact}"
        );
        server.stop().await;
    }
}
