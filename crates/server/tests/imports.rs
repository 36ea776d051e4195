//! Data in and out through the API, on SQLite and PostgreSQL: Label Studio
//! exports in and back out unchanged, image uploads stored and served, bad
//! input refused with nothing written, and export filters and splits.

#![recursion_limit = "256"]

use gloss_engine::EngineConfig;
use gloss_server::ServerConfig;
use gloss_test_support::{databases, png, TestServer};
use gloss_types::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::io::Read;

const CONFIG: &str = r##"<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car" background="#00f"/><Label value="Person"/>
  </RectangleLabels>
  <PolygonLabels name="outline" toName="image"><Label value="Road"/></PolygonLabels>
  <Choices name="scene" toName="image"><Choice value="Urban"/><Choice value="Rural"/></Choices>
  <TextArea name="note" toName="image"/>
</View>"##;

/// A Label Studio export as Label Studio 1.x writes it: boxes (one rotated),
/// polygons, choices, text, region ids and parentID, predictions with model
/// versions and scores, drafts, ground truth and a cancelled annotation.
fn label_studio_export() -> Value {
    json!([
      {
        "id": 101, "inner_id": 1, "total_annotations": 2, "project": 7,
        "created_at": "2024-05-01T10:20:30.123456Z", "updated_at": "2024-05-01T10:25:00.000001Z",
        "data": {"image": "/data/upload/7/street.jpg", "city": "Lyon"},
        "meta": {"batch": 3},
        "annotations": [
          {
            "id": 11, "completed_by": 1, "was_cancelled": false, "ground_truth": true,
            "lead_time": 31.586000000000002, "created_at": "2024-05-01T10:21:00.000000Z",
            "updated_at": "2024-05-01T10:22:00.500000Z", "unique_id": "0f0c-11", "task": 101,
            "project": 7, "history": [], "last_action": null,
            "result": [
              {"id": "r1", "from_name": "box", "to_name": "image", "type": "rectanglelabels",
               "original_width": 1280, "original_height": 720, "image_rotation": 0,
               "value": {"x": 12.5, "y": 20.25, "width": 30, "height": 15.125, "rotation": 0,
                         "rectanglelabels": ["Car"]}, "origin": "manual"},
              {"id": "r2", "from_name": "box", "to_name": "image", "type": "rectanglelabels",
               "original_width": 1280, "original_height": 720, "image_rotation": 0,
               "value": {"x": 50, "y": 40, "width": 10.5, "height": 20, "rotation": 17.5,
                         "rectanglelabels": ["Person"]}},
              {"id": "r3", "from_name": "outline", "to_name": "image", "type": "polygonlabels",
               "original_width": 1280, "original_height": 720, "image_rotation": 0,
               "value": {"points": [[0, 100], [100, 100], [55.5, 60.125], [45, 60]],
                         "polygonlabels": ["Road"], "closed": true}},
              {"id": "r1", "from_name": "note", "to_name": "image", "type": "textarea",
               "parentID": "r1", "value": {"text": ["red hatchback", "ünïcode ✓"]}},
              {"id": "c1", "from_name": "scene", "to_name": "image", "type": "choices",
               "value": {"choices": ["Urban"]}},
              {"from_id": "r2", "to_id": "r1", "type": "relation", "direction": "right",
               "labels": ["drives"]}
            ]
          },
          {
            "id": 12, "completed_by": {"id": 5, "email": "someone@example.com", "first_name": "S"},
            "was_cancelled": true, "ground_truth": false, "lead_time": 2.5,
            "created_at": "2024-05-02T08:00:00Z", "updated_at": "2024-05-02T08:00:00Z",
            "result": []
          }
        ],
        "predictions": [
          {"id": 21, "model_version": "yolo-v8-2024-04", "score": 0.8731, "created_at": "2024-04-30T00:00:00Z",
           "result": [{"id": "p1", "from_name": "box", "to_name": "image", "type": "rectanglelabels",
                       "original_width": 1280, "original_height": 720,
                       "value": {"x": 12, "y": 20, "width": 31, "height": 15, "rotation": 0,
                                 "rectanglelabels": ["Car"]}, "score": 0.91}]}
        ],
        "drafts": [
          {"id": 31, "user": "reviewer@example.com", "lead_time": 4.25,
           "created_at": "2024-05-03T09:00:00Z", "updated_at": "2024-05-03T09:01:00Z",
           "result": [{"id": "d1", "from_name": "scene", "to_name": "image", "type": "choices",
                       "value": {"choices": ["Rural"]}}]}
        ]
      },
      {
        "id": 102, "data": {"image": "https://example.com/b.jpg", "city": "Graz"},
        "annotations": [], "predictions": [], "drafts": []
      }
    ])
}

async fn create_project(server: &TestServer, token: &str, config: &str) -> i64 {
    server.create_project(token, "data", config).await
}

async fn get_bytes(
    server: &TestServer,
    token: &str,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = server
        .client
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

async fn task_count(server: &TestServer, token: &str, project: i64) -> i64 {
    let (status, counts) = server
        .call(
            Method::GET,
            &format!("/api/v1/projects/{project}/task-counts"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{counts}");
    counts["total"].as_i64().unwrap()
}

/// Every key of `expected` has the same value in `actual` (numbers compared as numbers).
fn assert_contains(actual: &Value, expected: &Value, path: &str) {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            for (key, value) in expected {
                let found = actual
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key} is missing"));
                assert_contains(found, value, &format!("{path}.{key}"));
            }
        }
        (Value::Array(actual), Value::Array(expected)) => {
            assert_eq!(actual.len(), expected.len(), "{path}: length");
            for (index, (a, e)) in actual.iter().zip(expected).enumerate() {
                assert_contains(a, e, &format!("{path}[{index}]"));
            }
        }
        (Value::Number(a), Value::Number(e)) => {
            assert_eq!(a.as_f64(), e.as_f64(), "{path}");
        }
        _ => assert_eq!(actual, expected, "{path}"),
    }
}

#[tokio::test]
async fn a_label_studio_export_imports_and_exports_back_unchanged() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let project = create_project(&server, &admin, CONFIG).await;
        let source = label_studio_export();
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                Some(source.clone()),
            )
            .await;
        assert_eq!(status, 201, "{}: {created}", db.label);
        assert_eq!(
            (
                created["created"].as_i64(),
                created["annotations"].as_i64(),
                created["predictions"].as_i64()
            ),
            (Some(2), Some(2), Some(1)),
            "{}",
            db.label
        );

        let (status, headers, bytes) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{project}/export?format=label-studio"),
        )
        .await;
        assert_eq!(status, 200, "{}", db.label);
        assert_eq!(headers["content-type"], "application/json");
        let exported: Value = serde_json::from_slice(&bytes).unwrap();
        let exported = exported.as_array().unwrap();
        assert_eq!(exported.len(), 2, "{}", db.label);
        // JSON Lines holds the same tasks, one per line.
        let (status, headers, lines) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{project}/export?format=jsonl"),
        )
        .await;
        assert_eq!(status, 200, "{}", db.label);
        assert_eq!(headers["content-type"], "application/x-ndjson");
        let lines: Vec<Value> = String::from_utf8(lines)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(&lines, exported, "{}", db.label);
        for (got, sent) in exported.iter().zip(source.as_array().unwrap()) {
            assert_eq!(got["data"], sent["data"], "{}", db.label);
            let sent_annotations = sent["annotations"].as_array().unwrap();
            let got_annotations = got["annotations"].as_array().unwrap();
            assert_eq!(got_annotations.len(), sent_annotations.len());
            for (got, sent) in got_annotations.iter().zip(sent_annotations) {
                // Every result, with every id, parentID, value and extra key.
                assert_eq!(got["result"], sent["result"], "{}", db.label);
                for key in [
                    "was_cancelled",
                    "ground_truth",
                    "lead_time",
                    "created_at",
                    "unique_id",
                ] {
                    if let Some(value) = sent.get(key) {
                        if key == "created_at" {
                            // Kept to the millisecond.
                            let (got, sent) = (got[key].as_str().unwrap(), value.as_str().unwrap());
                            let millis = |text: &str| {
                                text.get(19..23)
                                    .filter(|f| f.starts_with('.'))
                                    .unwrap_or(".000")
                                    .to_string()
                            };
                            assert_eq!(
                                (&got[..19], millis(got)),
                                (&sent[..19], millis(sent)),
                                "{key}"
                            );
                        } else {
                            assert_eq!(&got[key], value, "{}: {key}", db.label);
                        }
                    }
                }
            }
            // The unknown annotator keeps who they were in Label Studio.
            if sent["id"] == 101 {
                assert_eq!(
                    got_annotations[1]["completed_by"],
                    sent_annotations[1]["completed_by"]
                );
                assert_eq!(got["meta"], sent["meta"]);
            }
            let sent_predictions = sent["predictions"].as_array().unwrap();
            let got_predictions = got["predictions"].as_array().unwrap();
            assert_eq!(got_predictions.len(), sent_predictions.len());
            for (got, sent) in got_predictions.iter().zip(sent_predictions) {
                assert_eq!(got["result"], sent["result"]);
                assert_eq!(got["model_version"], sent["model_version"]);
                assert_eq!(got["score"], sent["score"]);
            }
            let sent_drafts = sent["drafts"].as_array().unwrap();
            let got_drafts = got["drafts"].as_array().unwrap();
            assert_eq!(got_drafts.len(), sent_drafts.len());
            for (got, sent) in got_drafts.iter().zip(sent_drafts) {
                assert_contains(
                    got,
                    &json!({"result": sent["result"], "lead_time": sent["lead_time"], "user": sent["user"]}),
                    "draft",
                );
            }
        }

        // Gloss's own format keeps the same and reads back as the same tasks.
        let (status, _, bytes) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{project}/export?format=json"),
        )
        .await;
        assert_eq!(status, 200);
        let native: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(native[0]["status"], "completed");
        assert_eq!(
            native[0]["annotations"][0]["result"],
            source[0]["annotations"][0]["result"]
        );
        assert_eq!(native[0]["annotations"][0]["version"], 1);
        // Keys Gloss does not model stay beside the known ones; Label
        // Studio's own ids are not written over Gloss's.
        assert_eq!(native[0]["annotations"][0]["unique_id"], "0f0c-11");
        assert_ne!(native[0]["annotations"][0]["id"], 11);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let first_annotation = &text[text.find("\"annotations\":[{").unwrap()..];
        let first_annotation = &first_annotation[..first_annotation.find("\"result\"").unwrap()];
        assert_eq!(
            first_annotation.matches("\"id\":").count(),
            1,
            "{first_annotation}"
        );
        assert_eq!(
            native[0]["annotations"][1]["completed_by"],
            source[0]["annotations"][1]["completed_by"]
        );
        let copy = create_project(&server, &admin, CONFIG).await;
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{copy}/tasks"),
                Some(&admin),
                Some(native.clone()),
            )
            .await;
        assert_eq!(
            (status, created["created"].as_i64()),
            (201, Some(2)),
            "{created}"
        );
        let (_, _, again) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{copy}/export?format=json"),
        )
        .await;
        let again: Value = serde_json::from_slice(&again).unwrap();
        for (a, b) in again
            .as_array()
            .unwrap()
            .iter()
            .zip(native.as_array().unwrap())
        {
            assert_eq!(a["data"], b["data"]);
            assert_eq!(a["annotations"][0]["result"], b["annotations"][0]["result"]);
            assert_eq!(
                a["predictions"],
                json!(b["predictions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        let mut p = p.clone();
                        p["id"] = a["predictions"][0]["id"].clone();
                        p["created_at"] = a["predictions"][0]["created_at"].clone();
                        p
                    })
                    .collect::<Vec<_>>())
            );
        }
        server.stop().await;
    }
}

async fn upload(
    server: &TestServer,
    token: &str,
    project: i64,
    files: Vec<(&str, Vec<u8>)>,
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (name, bytes) in files {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    }
    let response = server
        .client
        .post(server.url(&format!("/api/v1/projects/{project}/imports")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Waits for an import job to end and returns it.
async fn finished(server: &TestServer, token: &str, job: &Value) -> Value {
    let id = job["id"].as_i64().unwrap();
    for _ in 0..200 {
        let (status, job) = server
            .call(
                Method::GET,
                &format!("/api/v1/imports/{id}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{job}");
        if job["state"] != "running" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("import {id} did not finish");
}

#[tokio::test]
async fn uploaded_images_become_tasks_and_are_served_to_members_only() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let (_, outsider) = server.user("outsider", Role::Manager).await;
        let project = create_project(&server, &admin, CONFIG).await;
        let wide = png(64, 32, 1);
        let (status, job) = upload(
            &server,
            &admin,
            project,
            vec![
                ("wide.png", wide.clone()),
                ("../../etc/tall.png", png(16, 48, 2)),
                ("wide-again.png", wide.clone()),
            ],
        )
        .await;
        assert_eq!(status, 202, "{}: {job}", db.label);
        let job = finished(&server, &admin, &job).await;
        assert_eq!(
            (job["state"].as_str(), job["tasks_created"].as_i64()),
            (Some("completed"), Some(3)),
            "{}: {job}",
            db.label
        );

        let (_, tasks) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                None,
            )
            .await;
        let urls: Vec<&str> = tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["data"]["image"].as_str().unwrap())
            .collect();
        assert_eq!(urls.len(), 3);
        assert!(
            urls.iter().all(|url| url.starts_with("/api/v1/media/")),
            "{urls:?}"
        );
        assert_eq!(urls[0], urls[2], "the same bytes are stored once");
        let (status, headers, bytes) = get_bytes(&server, &admin, urls[0]).await;
        assert_eq!(status, 200);
        assert_eq!(bytes, wide);
        assert_eq!(headers["content-type"], "image/png");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers.get("content-disposition").is_none());
        let record = server
            .engine
            .store()
            .visible_media(urls[1].rsplit('/').next().unwrap(), None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (record.media.width, record.media.height),
            (Some(16), Some(48))
        );
        assert_eq!(record.file_name, "tall.png", "a name never carries a path");

        let (status, _, _) = get_bytes(&server, &outsider, urls[0]).await;
        assert_eq!(status, 404, "media of a project the caller is not in");
        let (status, _, _) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/media/{}", "0".repeat(64)),
        )
        .await;
        assert_eq!(status, 404);
        server.stop().await;
    }
}

/// A PNG whose header declares 100000 × 100000 pixels: a decompression bomb.
fn png_bomb() -> Vec<u8> {
    let mut small = png(8, 8, 3);
    // IHDR's width and height are bytes 16..24; its CRC (bytes 29..33) covers bytes 12..29.
    small[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    small[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&small[12..29]);
    small[29..33].copy_from_slice(&crc.to_be_bytes());
    small
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn bad_input_is_refused_clearly_and_nothing_is_written() {
    for db in databases().await {
        let (fetch_target, fetch_port) = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            (listener, port)
        };
        let server = TestServer::start_with(
            &db,
            |config: &mut EngineConfig| {
                config.fetch = Some(gloss_media::FetchPolicy::default());
                config.upload_limits.max_bytes = 512 * 1024;
            },
            ServerConfig {
                max_import_bytes: 64 * 1024,
                ..ServerConfig::default()
            },
        )
        .await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let project = create_project(&server, &admin, CONFIG).await;
        let tasks = format!("/api/v1/projects/{project}/tasks");
        let post = |content_type: &'static str, body: String| {
            let request = server
                .client
                .post(server.url(&tasks))
                .bearer_auth(&admin)
                .header("content-type", content_type)
                .body(body);
            async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                (
                    status,
                    response.json::<Value>().await.unwrap_or(Value::Null),
                )
            }
        };
        let car = |value: Value| json!([{"data": {"image": "/a.png"}, "annotations": [{"result": [{"id": "a", "from_name": "box", "to_name": "image", "type": "rectanglelabels", "value": value}]}]}]);
        let cases: Vec<(&str, &str, String, u16, &str, &str)> = vec![
            ("malformed JSON", "application/json", "[{\"data\": {\"image\": \"a\"}},\n {\"data\": ".into(), 422, "", "line 2"),
            ("a row that is not an object", "application/json", "[{\"image\": \"a\"}, 5]".into(), 422, "", "object"),
            ("a missing data key", "application/json", "[{\"data\": {\"picture\": \"a\"}}]".into(), 422, "data.image", "missing"),
            ("a label not in the config", "application/json", car(json!({"x": 1, "y": 1, "width": 5, "height": 5, "rectanglelabels": ["Tank"]})).to_string(), 422, "annotations[0].result[0].value.rectanglelabels[0]", "Tank"),
            ("coordinates out of range", "application/json", car(json!({"x": 99, "y": 1, "width": 5, "height": 5, "rectanglelabels": ["Car"]})).to_string(), 422, "annotations[0].result[0].value.width", "edge"),
            ("an unknown control", "application/json", json!([{"data": {"image": "a"}, "predictions": [{"result": [{"from_name": "nope", "to_name": "image", "type": "choices", "value": {"choices": ["Urban"]}}]}]}]).to_string(), 422, "predictions[0].result[0].from_name", "nope"),
            ("a score of the wrong type", "application/json", json!([{"data": {"image": "a"}, "predictions": [{"score": "high", "result": []}]}]).to_string(), 422, "predictions[0].score", ""),
            ("a ragged CSV row", "text/csv", "image,city\na.png,Lyon\nb.png,Graz,extra\n".into(), 422, "", ""),
            ("a body over the limit", "application/json", format!("[{}]", vec!["{\"image\": \"a\"}"; 10_000].join(",")), 413, "", "limit"),
            ("a URL to 127.0.0.1", "application/json", json!([{"image": format!("http://127.0.0.1:{fetch_port}/a.png")}]).to_string(), 422, "data.image", "127.0.0.1"),
            ("a URL to the metadata address", "application/json", json!([{"image": "http://169.254.169.254/latest/meta-data"}]).to_string(), 422, "data.image", "169.254.169.254"),
            ("an XML body", "application/xml", "<tasks/>".into(), 415, "", ""),
        ];
        for (case, content_type, body, expected, field, words) in cases {
            let (status, answer) = post(content_type, body).await;
            assert_eq!(status, expected, "{}: {case}: {answer}", db.label);
            assert!(
                answer["code"].is_string() && answer["message"].is_string(),
                "{case}: {answer}"
            );
            let text = answer.to_string();
            assert!(
                text.contains(words),
                "{case}: the answer should say `{words}`: {answer}"
            );
            if !field.is_empty() {
                let problems = answer["details"]["problems"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{case}: {answer}"));
                assert!(
                    problems.iter().any(|p| p["field"] == field),
                    "{case}: no problem names `{field}`: {answer}"
                );
                assert!(
                    problems.iter().all(|p| p["row"].as_u64().unwrap() >= 1),
                    "{case}: {answer}"
                );
            }
            assert_eq!(
                task_count(&server, &admin, project).await,
                0,
                "{}: {case} wrote tasks",
                db.label
            );
        }
        drop(fetch_target);

        // Files: a disguised one, a bomb, an oversized one, a broken COCO file,
        // each next to a good image: the whole upload fails, nothing is written.
        let html = b"<!doctype html><script>alert(1)</script>".to_vec();
        let coco = json!({"images": [{"id": 1, "file_name": "a.png", "width": 10, "height": 10}], "annotations": [{"id": 1, "image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1]}], "categories": [{"id": 1, "name": "Car"}]});
        let files: Vec<(&str, Vec<u8>, &str)> = vec![
            ("photo.png", html, "not a task file"),
            ("bomb.png", png_bomb(), "pixels"),
            ("huge.png", vec![0x89; 600 * 1024], "limit"),
            ("coco.json", coco.to_string().into_bytes(), "image_id"),
        ];
        for (name, bytes, words) in files {
            let (status, job) = upload(
                &server,
                &admin,
                project,
                vec![("good.png", png(4, 4, 9)), (name, bytes)],
            )
            .await;
            let text = if status == 202 {
                finished(&server, &admin, &job).await
            } else {
                job
            };
            assert!(
                text.to_string().contains(words),
                "{}: {name}: should say `{words}`: {text}",
                db.label
            );
            if status == 202 {
                assert_eq!(text["state"], "failed", "{name}: {text}");
            }
            assert_eq!(
                task_count(&server, &admin, project).await,
                0,
                "{}: {name} wrote tasks",
                db.label
            );
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn exports_filter_and_split() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let (ann, _) = server.user("ann", Role::Annotator).await;
        let project = create_project(&server, &admin, CONFIG).await;
        let choice = |value: &str| json!([{"from_name": "scene", "to_name": "image", "type": "choices", "value": {"choices": [value]}}]);
        let mut tasks = Vec::new();
        for index in 0..200 {
            let annotations = match index % 4 {
                0 => json!([]),
                1 => {
                    json!([{"completed_by": {"username": ann.username}, "result": choice("Urban")}])
                }
                2 => json!([{"completed_by": 1, "result": choice("Rural")}]),
                _ => {
                    json!([{"completed_by": {"username": ann.username}, "result": choice("Rural")}])
                }
            };
            tasks.push(
                json!({"data": {"image": format!("/img/{index}.png")}, "annotations": annotations}),
            );
        }
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                Some(Value::Array(tasks)),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let export = |query: String| {
            let server = &server;
            let admin = admin.clone();
            async move {
                let (status, headers, bytes) = get_bytes(
                    server,
                    &admin,
                    &format!("/api/v1/projects/{project}/export?{query}"),
                )
                .await;
                assert_eq!(status, 200, "{query}: {}", String::from_utf8_lossy(&bytes));
                (headers, bytes)
            }
        };
        let count = |bytes: &[u8]| {
            serde_json::from_slice::<Value>(bytes)
                .unwrap()
                .as_array()
                .unwrap()
                .len()
        };
        assert_eq!(count(&export("format=json".into()).await.1), 200);
        assert_eq!(count(&export("format=json&status=new".into()).await.1), 50);
        assert_eq!(
            count(
                &export("format=label-studio&status=completed".into())
                    .await
                    .1
            ),
            150
        );
        assert_eq!(
            count(&export("format=json&annotator=ann".into()).await.1),
            100
        );
        assert_eq!(
            count(&export("format=json&label=Rural".into()).await.1),
            100
        );
        assert_eq!(
            count(
                &export("format=json&label=Rural&annotator=ann".into())
                    .await
                    .1
            ),
            50
        );

        let (headers, bytes) = export("format=label-studio&split=0.8,0.1,0.1&seed=7".into()).await;
        assert_eq!(headers["content-type"], "application/zip");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        for name in ["train.json", "val.json", "test.json"] {
            let mut text = String::new();
            zip.by_name(name)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            let tasks: Vec<Value> = serde_json::from_str(&text).unwrap();
            sizes.push(tasks.len());
            seen.extend(tasks.iter().map(|t| t["id"].as_i64().unwrap()));
        }
        seen.sort();
        seen.dedup();
        assert_eq!(
            seen.len(),
            200,
            "every task in exactly one split: {sizes:?}"
        );
        assert!(sizes[0] > 130 && sizes[1] > 5 && sizes[2] > 5, "{sizes:?}");
        let (_, again) = export("format=label-studio&split=0.8,0.1,0.1&seed=7".into()).await;
        let mut zip_again = zip::ZipArchive::new(std::io::Cursor::new(again)).unwrap();
        let mut first = String::new();
        zip_again
            .by_name("val.json")
            .unwrap()
            .read_to_string(&mut first)
            .unwrap();
        let mut second = String::new();
        zip.by_name("val.json")
            .unwrap()
            .read_to_string(&mut second)
            .unwrap();
        assert_eq!(first, second, "the same seed gives the same split");

        for (query, field) in [
            ("format=xml", "format"),
            ("format=json&status=done", "status"),
            ("format=json&split=1,2", "split"),
            ("format=json&annotator=nobody", "annotator"),
            ("format=json&images=true", "images"),
        ] {
            let (status, answer) = server
                .call(
                    Method::GET,
                    &format!("/api/v1/projects/{project}/export?{query}"),
                    Some(&admin),
                    None,
                )
                .await;
            assert_eq!(
                (status, answer["details"]["field"].as_str()),
                (422, Some(field)),
                "{query}: {answer}"
            );
        }
        server.stop().await;
    }
}

/// Serves `body` as `image/png` at every path of 127.0.0.1:PORT until dropped.
async fn image_server(body: Vec<u8>) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move { ([("content-type", "image/png")], body) }
    });
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (port, task)
}

#[tokio::test]
async fn allow_listed_urls_are_fetched_into_the_media_store() {
    for db in databases().await {
        let picture = png(24, 12, 5);
        let (port, image_host) = image_server(picture.clone()).await;
        let server = TestServer::start_with(
            &db,
            |config: &mut EngineConfig| {
                config.fetch = Some(gloss_media::FetchPolicy {
                    allow: gloss_media::FetchPolicy::parse_allow(&["127.0.0.1/32".to_string()])
                        .unwrap(),
                    ..gloss_media::FetchPolicy::default()
                });
            },
            ServerConfig::default(),
        )
        .await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let project = create_project(&server, &admin, CONFIG).await;
        let url = format!("http://127.0.0.1:{port}/photos/cat.png");
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                Some(json!([{"image": url}])),
            )
            .await;
        assert_eq!(status, 201, "{}: {created}", db.label);
        let (_, tasks) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                None,
            )
            .await;
        let stored = tasks["items"][0]["data"]["image"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(stored.starts_with("/api/v1/media/"), "{stored}");
        let (status, headers, bytes) = get_bytes(&server, &admin, &stored).await;
        assert_eq!((status, bytes), (200, picture), "{}", db.label);
        assert_eq!(headers["content-type"], "image/png");
        let record = server
            .engine
            .store()
            .visible_media(stored.rsplit('/').next().unwrap(), None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                record.media.width,
                record.media.height,
                record.file_name.as_str()
            ),
            (Some(24), Some(12), "cat.png")
        );
        image_host.abort();
        server.stop().await;
    }
}

#[tokio::test]
async fn media_other_than_images_audio_and_video_download_as_attachments() {
    let db = gloss_test_support::sqlite_db();
    let server = TestServer::start(&db).await;
    let (_, admin) = server.user("admin", Role::Admin).await;
    let project = create_project(&server, &admin, CONFIG).await;
    let html = b"<!doctype html><script>alert(document.cookie)</script>".to_vec();
    let key = server
        .engine
        .media()
        .put(html.clone().into())
        .await
        .unwrap();
    let media = gloss_store::NewMedia {
        key: key.as_str().to_string(),
        content_type: "text/html".into(),
        size: html.len() as i64,
        width: None,
        height: None,
    };
    server
        .engine
        .store()
        .link_project_media(gloss_types::ProjectId(project), &media, "page \"1\".html")
        .await
        .unwrap();
    let (status, headers, bytes) =
        get_bytes(&server, &admin, &format!("/api/v1/media/{}", key.as_str())).await;
    assert_eq!((status, bytes), (200, html));
    assert_eq!(headers["content-type"], "text/html");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"page__1_.html\""
    );
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    server.stop().await;
}

#[tokio::test]
async fn imports_cut_short_by_a_stop_are_failed_and_their_uploads_removed() {
    let db = gloss_test_support::sqlite_db();
    let server = TestServer::start(&db).await;
    let (_, admin) = server.user("admin", Role::Admin).await;
    let project = create_project(&server, &admin, CONFIG).await;
    let job = server
        .engine
        .store()
        .create_import(gloss_types::ProjectId(project), None)
        .await
        .unwrap();
    let upload = server.engine.upload_file().unwrap();
    let (_, leftover) = upload.keep().unwrap();
    assert_eq!(
        server.engine.recover_interrupted_imports().await.unwrap(),
        1
    );
    let (status, job) = server
        .call(
            Method::GET,
            &format!("/api/v1/imports/{}", job.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (status, job["state"].as_str()),
        (200, Some("failed")),
        "{job}"
    );
    assert!(
        job["error"]
            .as_str()
            .unwrap()
            .contains("nothing was written"),
        "{job}"
    );
    assert!(
        !leftover.exists(),
        "uploads of cut-short imports are removed"
    );
    server.stop().await;
}

/// Optional numbers (prediction scores, lead times) missing in the first
/// rows of an import and present in later ones: the statement the first
/// chunk of 500 rows prepared must take numbers in the next chunk too
/// (PostgreSQL refused them: sqlx's `Any` driver declared a missing `f64`
/// as `float4`).
#[tokio::test]
async fn numbers_missing_in_early_rows_and_present_later_import() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let project = create_project(&server, &admin, gloss_test_support::LABEL_CONFIG).await;
        let class = |label: &str| {
            json!([{"from_name": "class", "to_name": "image", "type": "choices",
                    "value": {"choices": [label]}}])
        };
        let rows: Vec<Value> = (0..1200)
            .map(|i| {
                let later = i >= 600;
                json!({
                    "data": {"image": format!("/img/{i}.png")},
                    "predictions": [{"model_version": "m", "result": class("Cat"),
                                     "score": if later { json!(0.5) } else { Value::Null }}],
                    "annotations": [{"result": class("Dog"),
                                     "lead_time": if later { json!(2.5) } else { Value::Null }}],
                })
            })
            .collect();
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                Some(Value::Array(rows)),
            )
            .await;
        assert_eq!(status, 201, "{}: {body}", db.label);
        assert_eq!(
            task_count(&server, &admin, project).await,
            1200,
            "{}",
            db.label
        );
        let (_, page) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/task-table?sort=-prediction_score&limit=1"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(page["items"][0]["prediction_score"], 0.5, "{}", db.label);
        server.stop().await;
    }
}

/// A YOLO dataset as a zip: data.yaml, two images (one a background image
/// without labels) and a label file with a box.
fn yolo_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let files: [(&str, Vec<u8>); 4] = [
        (
            "data.yaml",
            b"train: images\nval: images\nnames:\n  0: Car\n  1: Person\n".to_vec(),
        ),
        ("images/street.png", png(40, 20, 3)),
        ("images/empty.png", png(10, 10, 4)),
        ("labels/street.txt", b"1 0.5 0.5 0.25 0.5\n".to_vec()),
    ];
    for (name, bytes) in files {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, &bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_yolo_dataset_zip_uploads_as_tasks_with_their_boxes() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let project = create_project(&server, &admin, CONFIG).await;
        let (status, job) =
            upload(&server, &admin, project, vec![("dataset.zip", yolo_zip())]).await;
        assert_eq!(status, 202, "{}: {job}", db.label);
        let job = finished(&server, &admin, &job).await;
        assert_eq!(
            (
                job["state"].as_str(),
                job["tasks_created"].as_i64(),
                job["annotations_created"].as_i64()
            ),
            (Some("completed"), Some(2), Some(1)),
            "{}: {job}",
            db.label
        );
        let (_, export) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/export?format=json"),
                Some(&admin),
                None,
            )
            .await;
        let result = export
            .as_array()
            .unwrap()
            .iter()
            .find_map(|task| task["annotations"].as_array().and_then(|a| a.first()))
            .map(|annotation| annotation["result"][0].clone())
            .expect("the street's box");
        assert_eq!(result["type"], json!("rectanglelabels"), "{}", db.label);
        assert_eq!(
            result["value"],
            json!({"x": 37.5, "y": 25, "width": 25, "height": 50, "rotation": 0, "rectanglelabels": ["Person"]}),
            "{}",
            db.label
        );
        assert_eq!(
            (
                result["original_width"].clone(),
                result["original_height"].clone()
            ),
            (json!(40), json!(20))
        );
        server.stop().await;
    }
}

/// An H.264 video made by ffmpeg (GLOSS_TEST_FFMPEG, or the one on the
/// PATH), or `None` when there is none (outside CI).
fn generated_video(dir: &std::path::Path) -> Option<Vec<u8>> {
    let ffmpeg = std::env::var("GLOSS_TEST_FFMPEG").unwrap_or_else(|_| "ffmpeg".into());
    let path = dir.join("clip.mp4");
    let made = std::process::Command::new(&ffmpeg)
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x48:rate=25",
            "-t",
            "1",
        ])
        .args(["-c:v", "libx264", "-bf", "2", "-pix_fmt", "yuv420p"])
        .arg(&path)
        .status()
        .is_ok_and(|status| status.success());
    if !made {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but ffmpeg ({ffmpeg}) did not run"
        );
        eprintln!("note: no ffmpeg, so the video routes are not tested here");
        return None;
    }
    Some(std::fs::read(path).unwrap())
}

#[tokio::test]
async fn videos_upload_with_their_frame_index_and_serve_byte_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let Some(video) = generated_video(dir.path()) else {
        return;
    };
    const VIDEO_CONFIG: &str = r#"<View>
  <Video name="video" value="$video"/>
  <Labels name="labels" toName="video"><Label value="Car"/></Labels>
  <VideoRectangle name="box" toName="video"/>
</View>"#;
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let (_, outsider) = server.user("outsider", Role::Manager).await;
        let project = create_project(&server, &admin, VIDEO_CONFIG).await;
        let (status, job) =
            upload(&server, &admin, project, vec![("clip.mp4", video.clone())]).await;
        assert_eq!(status, 202, "{job}");
        let job = finished(&server, &admin, &job).await;
        assert_eq!(job["tasks_created"], json!(1), "{}: {job}", db.label);
        let (_, tasks) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                None,
            )
            .await;
        let url = tasks["items"][0]["data"]["video"]
            .as_str()
            .unwrap()
            .to_owned();

        let (status, frames) = server
            .call(Method::GET, &format!("{url}/frames"), Some(&admin), None)
            .await;
        assert_eq!(status, 200, "{}: {frames}", db.label);
        assert_eq!(
            (
                frames["frames"].clone(),
                frames["width"].clone(),
                frames["height"].clone()
            ),
            (json!(25), json!(64), json!(48))
        );
        let times: Vec<f64> = frames["timestamps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_f64().unwrap())
            .collect();
        assert!(
            times
                .iter()
                .enumerate()
                .all(|(i, t)| (t - i as f64 * 0.04).abs() < 1e-9),
            "{times:?}"
        );
        let (status, _) = server
            .call(Method::GET, &format!("{url}/frames"), Some(&outsider), None)
            .await;
        assert_eq!(status, 404);

        // Its sample table, for decoding in the browser: 25 samples in the
        // file, the first a key frame, each frame shown once.
        let (status, samples) = server
            .call(Method::GET, &format!("{url}/samples"), Some(&admin), None)
            .await;
        assert_eq!(status, 200, "{}: {samples}", db.label);
        assert_eq!(samples["count"], json!(25));
        assert!(samples["codec"].as_str().unwrap().starts_with("avc1."));
        assert_eq!(samples["keys"][0], json!(0));
        let mut shown: Vec<u64> = samples["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_u64().unwrap())
            .collect();
        shown.sort_unstable();
        assert_eq!(shown, (0..25).collect::<Vec<u64>>());
        let size = video.len() as u64;
        let offsets = samples["offsets"].as_array().unwrap();
        let sizes = samples["sizes"].as_array().unwrap();
        assert!(offsets
            .iter()
            .zip(sizes)
            .all(|(o, s)| o.as_u64().unwrap() + s.as_u64().unwrap() <= size));
        let (status, _) = server
            .call(
                Method::GET,
                &format!("{url}/samples"),
                Some(&outsider),
                None,
            )
            .await;
        assert_eq!(status, 404);

        // A track with two keyframes and an outside stretch comes out
        // interpolated on every frame, as MOT and as CVAT for video.
        let task_id = tasks["items"][0]["id"].as_i64().unwrap();
        let key = |frame: u64, x: f64, enabled: bool| json!({"frame": frame, "enabled": enabled, "rotation": 0, "x": x, "y": 25, "width": 25, "height": 50, "time": 0});
        let track = json!({"id": "t1", "from_name": "box", "to_name": "video", "type": "videorectangle",
            "value": {"framesCount": 25, "duration": 1, "labels": ["Car"],
                      "sequence": [key(1, 0.0, true), key(11, 50.0, true), key(21, 50.0, false)]}});
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/tasks/{task_id}/annotations"),
                Some(&admin),
                Some(json!({"result": [track]})),
            )
            .await;
        assert_eq!(status, 201, "{}: {created}", db.label);
        let zip_of = |format: &'static str| {
            let url = server.url(&format!(
                "/api/v1/projects/{project}/export?format={format}"
            ));
            let token = admin.clone();
            let client = server.client.clone();
            async move {
                let bytes = client
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip")
            }
        };
        let read = |archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str| {
            let mut text = String::new();
            archive
                .by_name(name)
                .unwrap_or_else(|_| panic!("{name}"))
                .read_to_string(&mut text)
                .unwrap();
            text
        };
        let mut mot = zip_of("mot").await;
        let rows = read(&mut mot, "clip/gt/gt.txt");
        let rows: Vec<&str> = rows.lines().collect();
        assert_eq!(rows.len(), 20, "frames 1 to 20: {rows:?}");
        assert_eq!(rows[0], "1,1,0,12,16,24,1,1,1");
        assert_eq!(
            rows[5], "6,1,16,12,16,24,1,1,1",
            "halfway between the keyframes"
        );
        assert!(read(&mut mot, "clip/seqinfo.ini")
            .contains("frameRate=25\nseqLength=25\nimWidth=64\nimHeight=48"));
        assert_eq!(read(&mut mot, "clip/gt/labels.txt"), "Car\n");
        let mut cvat = zip_of("cvat").await;
        let xml = read(&mut cvat, "clip/annotations.xml");
        assert_eq!(
            xml.matches("<box ").count(),
            21,
            "20 boxes and the outside one: {xml}"
        );
        assert!(xml.contains(r#"<box frame="5" keyframe="0" outside="0" occluded="0" xtl="16" ytl="12" xbr="32" ybr="36""#), "{xml}");
        assert!(
            xml.contains(r#"<box frame="20" keyframe="1" outside="1""#),
            "{xml}"
        );

        // Players seek with byte ranges.
        let ranged = |range: &'static str| {
            server
                .client
                .get(server.url(&url))
                .bearer_auth(&admin)
                .header("Range", range)
                .send()
        };
        let response = ranged("bytes=10-19").await.unwrap();
        assert_eq!(response.status().as_u16(), 206);
        assert_eq!(
            response.headers()["content-range"].to_str().unwrap(),
            format!("bytes 10-19/{}", video.len())
        );
        assert_eq!(response.bytes().await.unwrap().as_ref(), &video[10..20]);
        let response = ranged("bytes=-7").await.unwrap();
        assert_eq!(response.status().as_u16(), 206);
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            &video[video.len() - 7..]
        );
        // A range past the end, or several ranges, get the whole video.
        for range in ["bytes=999999999-", "bytes=0-1,4-5"] {
            let response = ranged(range).await.unwrap();
            assert_eq!(response.status().as_u16(), 200, "{range}");
            assert_eq!(response.headers()["accept-ranges"], "bytes");
            assert_eq!(
                response.bytes().await.unwrap().len(),
                video.len(),
                "{range}"
            );
        }
        server.stop().await;
    }
}

/// A MOT sequence of four 40×20 frames at 10 frames a second: a car moving
/// 4 px a frame on frames 1 to 3, gone on frame 4.
fn mot_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "walk/seqinfo.ini".into(),
            b"[Sequence]\nname=walk\nimDir=img1\nframeRate=10\nseqLength=4\nimWidth=40\nimHeight=20\nimExt=.png\n".to_vec(),
        ),
        ("walk/gt/labels.txt".into(), b"Car\n".to_vec()),
        (
            "walk/gt/gt.txt".into(),
            b"1,1,0,2,8,6,1,1,1\n2,1,4,2,8,6,1,1,1\n3,1,8,2,8,6,1,1,1\n".to_vec(),
        ),
    ];
    for frame in 1..=4u8 {
        files.push((format!("walk/img1/{frame:06}.png"), png(40, 20, frame)));
    }
    for (name, bytes) in files {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, &bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_mot_zip_imports_as_an_image_sequence_with_its_track_and_exports_back() {
    const SEQUENCE_CONFIG: &str = r#"<View>
  <Video name="video" value="$video" frameRate="10"/>
  <Labels name="labels" toName="video"><Label value="Car"/></Labels>
  <VideoRectangle name="box" toName="video"/>
</View>"#;
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let project = create_project(&server, &admin, SEQUENCE_CONFIG).await;
        let (status, job) = upload(&server, &admin, project, vec![("walk.zip", mot_zip())]).await;
        assert_eq!(status, 202, "{job}");
        let job = finished(&server, &admin, &job).await;
        assert_eq!(
            (
                job["tasks_created"].clone(),
                job["annotations_created"].clone()
            ),
            (json!(1), json!(1)),
            "{}: {job}",
            db.label
        );
        let (_, tasks) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                None,
            )
            .await;
        let frames = tasks["items"][0]["data"]["video"]
            .as_array()
            .expect("the frames");
        assert_eq!(frames.len(), 4, "{}", db.label);
        // The data manager shows the first frame; every frame is served.
        let (_, table) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/task-table"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(
            table["items"][0]["image"], frames[0],
            "{}: {table}",
            db.label
        );
        for (index, frame) in frames.iter().enumerate() {
            let (status, _, bytes) = get_bytes(&server, &admin, frame.as_str().unwrap()).await;
            assert_eq!(status, 200);
            assert_eq!(bytes, png(40, 20, index as u8 + 1), "frame {index}");
        }

        let (_, export) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/export?format=json"),
                Some(&admin),
                None,
            )
            .await;
        let track = &export[0]["annotations"][0]["result"][0];
        assert_eq!(track["type"], json!("videorectangle"));
        let keyframes: Vec<(i64, bool)> = track["value"]["sequence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["frame"].as_i64().unwrap(),
                    k["enabled"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(keyframes, [(1, true), (3, true), (4, false)], "{track}");

        let bytes = server
            .client
            .get(server.url(&format!("/api/v1/projects/{project}/export?format=mot")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let mut mot = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
        let mut read = |name: &str| {
            let mut text = String::new();
            mot.by_name(name)
                .unwrap_or_else(|_| panic!("{name}"))
                .read_to_string(&mut text)
                .unwrap();
            text
        };
        assert_eq!(
            read("walk/gt/gt.txt"),
            "1,1,0,2,8,6,1,1,1\n2,1,4,2,8,6,1,1,1\n3,1,8,2,8,6,1,1,1\n"
        );
        assert!(
            read("walk/seqinfo.ini").contains("frameRate=10\nseqLength=4\nimWidth=40\nimHeight=20")
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn a_conll_file_imports_as_text_tasks_with_entities_and_exports_back_unchanged() {
    const NER_CONFIG: &str = r#"<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="LOC"/></Labels>
</View>"#;
    let conll = "-DOCSTART- -X- -X- O\n\nJosé\u{301} -X- _ B-PER\nvisited -X- _ O\nالقاهرة -X- _ B-LOC\n. -X- _ O\n\n";
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let project = create_project(&server, &admin, NER_CONFIG).await;
        let (status, job) = upload(
            &server,
            &admin,
            project,
            vec![("news.conll", conll.as_bytes().to_vec())],
        )
        .await;
        assert_eq!(status, 202, "{job}");
        let job = finished(&server, &admin, &job).await;
        assert_eq!(
            (
                job["tasks_created"].clone(),
                job["annotations_created"].clone()
            ),
            (json!(1), json!(1)),
            "{}: {job}",
            db.label
        );
        let (_, export) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/export?format=json"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(
            export[0]["data"]["text"],
            json!("José\u{301} visited القاهرة .")
        );
        let spans: Vec<(Value, Value)> = export[0]["annotations"][0]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["value"]["start"].clone(), r["value"]["end"].clone()))
            .collect();
        // Code points: the combining accent counts.
        assert_eq!(
            spans,
            [(json!(0), json!(5)), (json!(14), json!(21))],
            "{}",
            db.label
        );

        let response = server
            .client
            .get(server.url(&format!(
                "/api/v1/projects/{project}/export?format=conll2003"
            )))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        assert!(response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".conll"));
        assert_eq!(response.text().await.unwrap(), conll, "{}", db.label);

        // A project without a <Text> cannot export CoNLL, and says why.
        let images = create_project(&server, &admin, CONFIG).await;
        let (status, body) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{images}/export?format=conll2003"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("no <Text>"), "{body}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_spacy_file_imports_as_text_tasks_and_exports_back_as_a_docbin() {
    const SPACY_CONFIG: &str = r#"<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text">
    <Label value="PERSON"/><Label value="GPE"/><Label value="DATE"/><Label value="Friend"/>
  </Labels>
  <Choices name="sentiment" toName="text"><Choice value="positive"/><Choice value="negative"/></Choices>
</View>"#;
    // Made by spaCy itself (tests/python/spacy_check.py make), with what
    // spaCy finds in it.
    let made_by_spacy = include_bytes!("../../formats/tests/data/spacy_made_by_spacy.spacy");
    let want: Value = serde_json::from_str(include_str!(
        "../../formats/tests/data/spacy_made_by_spacy.json"
    ))
    .unwrap();
    let want = want.as_array().unwrap();
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let project = create_project(&server, &admin, SPACY_CONFIG).await;
        let (status, job) = upload(
            &server,
            &admin,
            project,
            vec![("train.spacy", made_by_spacy.to_vec())],
        )
        .await;
        assert_eq!(status, 202, "{job}");
        let job = finished(&server, &admin, &job).await;
        // Six documents; four annotated (one with no entities), two not.
        assert_eq!(
            (
                job["state"].clone(),
                job["tasks_created"].clone(),
                job["annotations_created"].clone()
            ),
            (json!("completed"), json!(6), json!(4)),
            "{}: {job}",
            db.label
        );
        let (_, export) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/export?format=json"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(export[1]["data"]["text"], want[1]["text"], "{}", db.label);
        let results = export[1]["annotations"][0]["result"].as_array().unwrap();
        let found: Vec<Value> = results
            .iter()
            .map(|r| match r["type"].as_str() {
                Some("labels") => json!([
                    r["value"]["start"],
                    r["value"]["end"],
                    r["value"]["labels"][0]
                ]),
                _ => r["value"]["choices"].clone(),
            })
            .collect();
        // Code points, as spaCy's characters: the emoji and the combining
        // accent count one each.
        assert_eq!(
            found,
            [
                json!([10, 17, "GPE"]),
                json!([22, 27, "PERSON"]),
                json!([32, 35, "Friend"]),
                json!(["negative"])
            ],
            "{}",
            db.label
        );

        let (status, headers, bytes) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{project}/export?format=spacy"),
        )
        .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        assert_eq!(headers["content-type"], "application/octet-stream");
        assert!(headers["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".spacy\""));
        // Read back: the same texts, entities and classes.
        let options = gloss_formats::SpacyImportOptions {
            text_field: "text".into(),
            labels: Some(gloss_formats::ControlRef {
                from_name: "ner".into(),
                to_name: "text".into(),
            }),
            choices: vec![gloss_formats::SpacyChoices {
                from_name: "sentiment".into(),
                to_name: "text".into(),
                choices: vec!["positive".into(), "negative".into()],
            }],
        };
        let (tasks, rejections) = gloss_formats::read_spacy(&bytes[..], &options).unwrap();
        assert!(rejections.is_empty(), "{rejections:?}");
        assert_eq!(tasks.len(), want.len());
        for (task, want) in tasks.iter().zip(want) {
            assert_eq!(task.data["text"], want["text"]);
            let spans: Vec<Value> = task
                .annotations
                .iter()
                .flat_map(|a| &a.result)
                .filter_map(|r| match &r.value {
                    gloss_types::result::ResultValue::Labels(v) => {
                        Some(json!([v.start, v.end, v.labels[0]]))
                    }
                    _ => None,
                })
                .collect();
            match &want["ents"] {
                Value::Null => assert!(task.annotations.is_empty(), "{task:?}"),
                ents => assert_eq!(&Value::Array(spans), ents),
            }
        }

        // Split: a zip of train.spacy, val.spacy and test.spacy, every
        // document in one of them.
        let (status, headers, bytes) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{project}/export?format=spacy&split=0.5,0.25,0.25"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "application/zip");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut texts = Vec::new();
        for name in ["train.spacy", "val.spacy", "test.spacy"] {
            let mut file = Vec::new();
            zip.by_name(name).unwrap().read_to_end(&mut file).unwrap();
            let (tasks, _) = gloss_formats::read_spacy(&file[..], &options).unwrap();
            texts.extend(tasks.into_iter().map(|t| t.data["text"].clone()));
        }
        texts.sort_by_key(|t| t.to_string());
        let mut want_texts: Vec<Value> = want.iter().map(|w| w["text"].clone()).collect();
        want_texts.sort_by_key(|t| t.to_string());
        assert_eq!(texts, want_texts);

        // A project without a <Text> can neither import nor export spaCy
        // files, and says why.
        let images = create_project(&server, &admin, CONFIG).await;
        let (status, body) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{images}/export?format=spacy"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("no <Text>"), "{body}");
        let (_, job) = upload(
            &server,
            &admin,
            images,
            vec![("train.spacy", made_by_spacy.to_vec())],
        )
        .await;
        let job = finished(&server, &admin, &job).await;
        assert_eq!(job["state"], "failed", "{job}");
        assert!(job["error"].as_str().unwrap().contains("<Text>"), "{job}");
        // A broken file is refused by name and reason.
        let (_, job) = upload(
            &server,
            &admin,
            project,
            vec![("broken.spacy", b"not a DocBin".to_vec())],
        )
        .await;
        let job = finished(&server, &admin, &job).await;
        let error = job["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("broken.spacy") && error.contains("not zlib-compressed"),
            "{job}"
        );
        server.stop().await;
    }
}

/// A 16-bit mono PCM WAV of `seconds` at 8 kHz: silence, with a tone in the
/// second half.
fn generated_wav(seconds: u32) -> Vec<u8> {
    let rate = 8000u32;
    let samples: Vec<i16> = (0..rate * seconds)
        .map(|i| {
            if i < rate * seconds / 2 {
                0
            } else {
                ((i as f64 * 440.0 * std::f64::consts::TAU / f64::from(rate)).sin() * 16000.0)
                    as i16
            }
        })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    for field in [
        16u32.to_le_bytes().to_vec(),
        1u16.to_le_bytes().to_vec(),
        1u16.to_le_bytes().to_vec(),
    ] {
        out.extend_from_slice(&field);
    }
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[tokio::test]
async fn sounds_upload_with_their_waveform_and_export_as_speech_formats() {
    const AUDIO_CONFIG: &str = r#"<View>
  <Audio name="audio" value="$audio"/>
  <Labels name="speaker" toName="audio"><Label value="Alice"/><Label value="Bob"/></Labels>
  <TextArea name="transcription" toName="audio" perRegion="true"/>
</View>"#;
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let (_, outsider) = server.user("outsider", Role::Manager).await;
        let project = create_project(&server, &admin, AUDIO_CONFIG).await;
        let (status, job) = upload(
            &server,
            &admin,
            project,
            vec![("call one.wav", generated_wav(4))],
        )
        .await;
        assert_eq!(status, 202, "{job}");
        let job = finished(&server, &admin, &job).await;
        assert_eq!(job["tasks_created"], json!(1), "{}: {job}", db.label);
        let (_, tasks) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                None,
            )
            .await;
        let url = tasks["items"][0]["data"]["audio"]
            .as_str()
            .unwrap()
            .to_owned();

        // The waveform: 100 peaks a second, silent then loud.
        for _ in 0..2 {
            // The second time from the cache.
            let (status, peaks) = server
                .call(Method::GET, &format!("{url}/peaks"), Some(&admin), None)
                .await;
            assert_eq!(status, 200, "{}: {peaks}", db.label);
            assert_eq!(
                (
                    peaks["duration"].clone(),
                    peaks["count"].clone(),
                    peaks["peaks_per_second"].clone()
                ),
                (json!(4.0), json!(400), json!(100))
            );
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(peaks["peaks"].as_str().unwrap())
                .unwrap();
            let values: Vec<i16> = bytes
                .chunks(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
            assert_eq!(values.len(), 800);
            assert!(values[..400].iter().all(|v| *v == 0));
            assert!(values[400..]
                .chunks(2)
                .all(|p| p[0] < -15000 && p[1] > 15000));
        }
        let (status, _) = server
            .call(Method::GET, &format!("{url}/peaks"), Some(&outsider), None)
            .await;
        assert_eq!(status, 404);

        // Two speakers, overlapping, with transcripts.
        let task_id = tasks["items"][0]["id"].as_i64().unwrap();
        let segment = |id: &str, start: f64, end: f64, who: &str, text: &str| {
            [
                json!({"id": id, "from_name": "speaker", "to_name": "audio", "type": "labels",
                       "value": {"start": start, "end": end, "channel": 0, "labels": [who]}}),
                json!({"id": id, "from_name": "transcription", "to_name": "audio", "type": "textarea",
                       "value": {"start": start, "end": end, "channel": 0, "text": [text]}}),
            ]
        };
        let result: Vec<Value> = [
            segment("a", 0.5, 2.25, "Alice", "Hello there."),
            segment("b", 2.0, 3.5, "Bob", "Hi!"),
        ]
        .concat();
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/tasks/{task_id}/annotations"),
                Some(&admin),
                Some(json!({"result": result})),
            )
            .await;
        assert_eq!(status, 201, "{}: {created}", db.label);
        let export = |format: &'static str| {
            let url = server.url(&format!(
                "/api/v1/projects/{project}/export?format={format}"
            ));
            let token = admin.clone();
            let client = server.client.clone();
            async move {
                let response = client.get(url).bearer_auth(token).send().await.unwrap();
                assert_eq!(response.status().as_u16(), 200, "{format}");
                let disposition = response.headers()["content-disposition"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                (disposition, response.bytes().await.unwrap().to_vec())
            }
        };
        let (disposition, rttm) = export("rttm").await;
        assert!(disposition.contains(".rttm"), "{disposition}");
        assert_eq!(
            String::from_utf8(rttm).unwrap(),
            "SPEAKER call_one 1 0.500 1.750 <NA> <NA> Alice <NA> <NA>\n\
             SPEAKER call_one 1 2.000 1.500 <NA> <NA> Bob <NA> <NA>\n",
            "{}",
            db.label
        );
        let (_, zip) = export("webvtt").await;
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let mut vtt = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("call_one.vtt").unwrap(), &mut vtt)
            .unwrap();
        assert_eq!(
            vtt,
            "WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.250\n<v Alice>Hello there.\n\n\
             2\n00:00:02.000 --> 00:00:03.500\n<v Bob>Hi!\n\n"
        );
        let (_, nemo) = export("nemo-asr").await;
        let lines: Vec<Value> = String::from_utf8(nemo)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[1],
            json!({"audio_filepath": "call one.wav", "offset": 2.0, "duration": 1.5, "text": "Hi!"})
        );

        // What was exported reads back: the sound with its RTTM and WebVTT,
        // zipped, makes the same task in a new project.
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let (_, vtt_zip) = export("webvtt").await;
        let mut vtt_archive = zip::ZipArchive::new(std::io::Cursor::new(vtt_zip)).unwrap();
        let mut vtt = Vec::new();
        std::io::Read::read_to_end(&mut vtt_archive.by_name("call_one.vtt").unwrap(), &mut vtt)
            .unwrap();
        let (_, rttm) = export("rttm").await;
        for (name, bytes) in [
            ("call one.wav", generated_wav(4)),
            ("call_one.vtt", vtt),
            ("speakers.rttm", rttm),
        ] {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut zip, &bytes).unwrap();
        }
        let dataset = zip.finish().unwrap().into_inner();
        let copy = create_project(&server, &admin, AUDIO_CONFIG).await;
        let (status, job) = upload(&server, &admin, copy, vec![("calls.zip", dataset)]).await;
        assert_eq!(status, 202, "{job}");
        let job = finished(&server, &admin, &job).await;
        assert_eq!(
            (
                job["tasks_created"].clone(),
                job["annotations_created"].clone()
            ),
            (json!(1), json!(1)),
            "{}: {job}",
            db.label
        );
        let (_, _, again) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{copy}/export?format=rttm"),
        )
        .await;
        assert_eq!(
            String::from_utf8(again).unwrap(),
            "SPEAKER call_one 1 0.500 1.750 <NA> <NA> Alice <NA> <NA>\n\
             SPEAKER call_one 1 2.000 1.500 <NA> <NA> Bob <NA> <NA>\n"
        );

        // A project without an <Audio> cannot export RTTM, and says why.
        let images = create_project(&server, &admin, CONFIG).await;
        let (status, body) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{images}/export?format=rttm"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("no <Audio>"), "{body}");
        server.stop().await;
    }
}

const LLM_CONFIG: &str = r#"<View>
  <Chat name="chat" value="$messages"/>
  <List name="answers" value="$responses"/>
  <Ranker name="rank" toName="answers"/>
  <Rating name="helpfulness" toName="answers" perItem="true"/>
  <Text name="a" value="$a"/>
  <Text name="b" value="$b"/>
  <Pairwise name="pw" toName="a,b"/>
</View>"#;

const RANKING_CONFIG: &str = r#"<View>
  <Chat name="chat" value="$messages"/>
  <List name="answers" value="$responses"/>
  <Ranker name="rank" toName="answers"/>
  <Rating name="helpfulness" toName="answers" perItem="true"/>
  <TextArea name="rewrite" toName="answers" perItem="true" value="$responses"/>
  <TextArea name="why" toName="chat"/>
</View>"#;

/// The lines of a JSON Lines export without the ids of stored rows (and,
/// for preference pairs, where the pair came from), sorted.
fn comparable_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut value: Value = serde_json::from_str(line).unwrap();
            let map = value.as_object_mut().unwrap();
            for key in ["task_id", "annotation_id", "source"] {
                map.remove(key);
            }
            value.to_string()
        })
        .collect();
    lines.sort();
    lines
}

/// `ranking-jsonl` and `preference-jsonl` exports import into a project
/// like the one they came from and export again the same; a line naming a
/// control the project lacks fails the import by line and field, writing
/// nothing.
#[tokio::test]
async fn llm_feedback_exports_import_back_as_tasks_with_annotations() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        server.user("ann", Role::Annotator).await;
        let source = create_project(&server, &admin, RANKING_CONFIG).await;
        let responses = json!([{"id": "r1", "body": "Paris."}, {"id": "r2", "body": "Lyon."}, {"id": "r3", "body": "Nice."}]);
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{source}/tasks"),
                Some(&admin),
                Some(json!([{
                    "data": {"messages": [{"role": "user", "content": "Capital of France?"}], "responses": responses},
                    "annotations": [
                        {"completed_by": {"username": "ann"}, "result": [
                            {"id": "k", "from_name": "rank", "to_name": "answers", "type": "ranker",
                             "value": {"ranker": {"rank": ["r1", "r3", "r2"]}}},
                            {"id": "h", "from_name": "helpfulness", "to_name": "answers", "type": "rating",
                             "value": {"rating": 2}, "item_index": 1},
                            {"id": "w", "from_name": "rewrite", "to_name": "answers", "type": "textarea",
                             "value": {"text": ["Lyon is not the capital."]}, "item_index": 1},
                            {"id": "y", "from_name": "why", "to_name": "chat", "type": "textarea",
                             "value": {"text": ["Only one is right."]}}]},
                        {"completed_by": 7, "result": [
                            {"id": "k", "from_name": "rank", "to_name": "answers", "type": "ranker",
                             "value": {"ranker": {"rank": ["r3", "r1", "r2"]}}}]}
                    ]
                }])),
            )
            .await;
        assert_eq!(status, 201, "{}: {created}", db.label);

        for format in ["ranking-jsonl", "preference-jsonl"] {
            let exported = server.export_text(&admin, source, format).await;
            let target = create_project(&server, &admin, RANKING_CONFIG).await;
            let job = server
                .import_file(
                    &admin,
                    target,
                    format,
                    "feedback.jsonl",
                    exported.clone().into_bytes(),
                )
                .await;
            assert_eq!(job["state"], "completed", "{} {format}: {job}", db.label);
            let again = server.export_text(&admin, target, format).await;
            assert_eq!(
                comparable_lines(&again),
                comparable_lines(&exported),
                "{} {format}",
                db.label
            );
            if format == "ranking-jsonl" {
                // Both annotations of the one task: one task again.
                assert_eq!(task_count(&server, &admin, target).await, 1, "{}", db.label);
                assert!(again.contains(r#""annotator":"ann""#), "{again}");
            } else {
                // 3 ranked items give 3 pairs each; 2 pairs are the same two
                // responses, judged oppositely: 4 tasks of two responses.
                assert_eq!(exported.lines().count(), 7, "{exported}");
                assert_eq!(task_count(&server, &admin, target).await, 4, "{}", db.label);
            }
        }

        let target = create_project(&server, &admin, RANKING_CONFIG).await;
        let bad = concat!(
            r#"{"prompt": "x", "responses": [{"id": "a", "text": "1"}], "ranking": ["a"]}"#,
            "\n",
            r#"{"prompt": "x", "responses": [{"id": "a", "text": "1"}], "ratings": {"fun": 1}}"#,
            "\n"
        );
        let job = server
            .import_file(
                &admin,
                target,
                "ranking-jsonl",
                "bad.jsonl",
                bad.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(job["state"], "failed", "{}: {job}", db.label);
        assert_eq!(job["rejected"][0]["row"], 2, "{job}");
        assert_eq!(job["rejected"][0]["field"], "ratings.fun", "{job}");
        assert_eq!(task_count(&server, &admin, target).await, 0, "{}", db.label);

        // A project without responses refuses the format by name.
        let images = create_project(&server, &admin, CONFIG).await;
        let job = server
            .import_file(
                &admin,
                images,
                "preference-jsonl",
                "p.jsonl",
                b"{}\n".to_vec(),
            )
            .await;
        assert_eq!(job["state"], "failed", "{job}");
        assert!(
            job["error"]
                .as_str()
                .unwrap_or_default()
                .contains("<Pairwise>"),
            "{job}"
        );
        server.stop().await;
    }
}

/// Label Studio's ranker and pairwise results (as Label Studio writes them)
/// import unchanged and come back out unchanged; the preference export
/// holds their pairs, and a config without responses is refused by name.
#[tokio::test]
async fn llm_results_import_unchanged_and_export_as_preference_pairs() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let project = create_project(&server, &admin, LLM_CONFIG).await;
        let result = json!([
            {"id": "PpwBv_NMxd", "from_name": "rank", "to_name": "answers", "type": "ranker",
             "value": {"ranker": {"rank": ["mdn", "wiki", "blog"]}}, "origin": "manual"},
            {"id": "h1", "from_name": "helpfulness", "to_name": "answers", "type": "rating",
             "value": {"rating": 4}, "item_index": 1},
            {"id": "p1", "from_name": "pw", "to_name": "a", "type": "pairwise",
             "value": {"selected": "right"}}
        ]);
        let tasks = json!([{
            "data": {
                "messages": [{"role": "user", "content": "Arrow functions?"}],
                "responses": [
                    {"id": "blog", "title": "Blog", "body": "Tips."},
                    {"id": "mdn", "title": "MDN", "body": "A compact alternative."},
                    {"id": "wiki", "title": "Wiki", "body": "A type class."}
                ],
                "a": "Left answer", "b": "Right answer"
            },
            "annotations": [{"result": result, "completed_by": 7}]
        }]);
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                Some(tasks),
            )
            .await;
        assert_eq!(status, 201, "{}: {created}", db.label);

        let (status, _, bytes) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{project}/export?format=label-studio"),
        )
        .await;
        assert_eq!(status, 200, "{}", db.label);
        let exported: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            exported[0]["annotations"][0]["result"], result,
            "{}",
            db.label
        );

        let (status, headers, bytes) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{project}/export?format=preference-jsonl"),
        )
        .await;
        assert_eq!(status, 200, "{}", db.label);
        assert_eq!(headers["content-type"], "application/x-ndjson");
        let pairs: Vec<Value> = String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // The pairwise control comes first: its pair, and the list is not read.
        assert_eq!(pairs.len(), 1, "{}: {pairs:?}", db.label);
        assert_eq!(
            (
                &pairs[0]["chosen"][0]["content"],
                &pairs[0]["rejected"][0]["content"]
            ),
            (&json!("Right answer"), &json!("Left answer")),
            "{}",
            db.label
        );

        let (status, _, bytes) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{project}/export?format=ranking-jsonl"),
        )
        .await;
        assert_eq!(status, 200, "{}", db.label);
        let line: Value =
            serde_json::from_str(String::from_utf8(bytes).unwrap().lines().next().unwrap())
                .unwrap();
        assert_eq!(line["pairwise"]["pw"]["selected"], "right", "{}", db.label);

        // A ranking-only project exports every ordered pair of the ranking.
        let ranking = create_project(
            &server,
            &admin,
            r#"<View><Chat name="chat" value="$messages"/><List name="answers" value="$responses"/><Ranker name="rank" toName="answers"/></View>"#,
        )
        .await;
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{ranking}/tasks"),
                Some(&admin),
                Some(json!([{
                    "data": {"messages": "Pick one", "responses": ["x", "y", "z"]},
                    "annotations": [{"result": [{"id": "k", "from_name": "rank", "to_name": "answers",
                        "type": "ranker", "value": {"ranker": {"rank": ["2", "0", "1"]}}}]}]
                }])),
            )
            .await;
        assert_eq!(status, 201, "{}: {created}", db.label);
        let (_, _, bytes) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{ranking}/export?format=preference-jsonl"),
        )
        .await;
        let pairs: Vec<(String, String)> = String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|p| {
                // A prompt given as a string: TRL's standard form, three strings.
                assert_eq!(p["prompt"], "Pick one");
                (
                    p["chosen"].as_str().unwrap().to_owned(),
                    p["rejected"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            pairs,
            [pair("z", "x"), pair("z", "y"), pair("x", "y")],
            "{}",
            db.label
        );

        // A ranker result naming an item twice is refused with its field.
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{ranking}/tasks"),
                Some(&admin),
                Some(json!([{
                    "data": {"messages": "Pick one", "responses": ["x", "y"]},
                    "annotations": [{"result": [{"id": "k", "from_name": "rank", "to_name": "answers",
                        "type": "ranker", "value": {"ranker": {"rank": ["0", "0"]}}}]}]
                }])),
            )
            .await;
        assert_eq!(status, 422, "{}: {body}", db.label);
        assert!(
            body.to_string().contains("ranker.rank[1]"),
            "{}: {body}",
            db.label
        );

        // An image project has no responses: refused by name.
        let images = create_project(&server, &admin, CONFIG).await;
        let (status, _, bytes) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{images}/export?format=preference-jsonl"),
        )
        .await;
        let body = String::from_utf8(bytes).unwrap();
        assert_eq!(status, 422, "{}: {body}", db.label);
        assert!(body.contains("<Pairwise>"), "{body}");
        server.stop().await;
    }
}

/// A Label Studio dialogue task with a span across two paragraphs imports
/// and exports unchanged; paragraphs without their text are refused by field.
#[tokio::test]
async fn paragraph_spans_import_and_export_unchanged() {
    const DIALOGUE: &str = r#"<View>
  <Paragraphs name="chat" value="$dialogue" layout="dialogue" textKey="line"/>
  <ParagraphLabels name="intent" toName="chat"><Label value="Greeting"/></ParagraphLabels>
</View>"#;
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let project = create_project(&server, &admin, DIALOGUE).await;
        let result = json!([{"id": "g1", "from_name": "intent", "to_name": "chat", "type": "paragraphlabels",
            "value": {"start": "0", "end": "1", "startOffset": 3, "endOffset": 2, "text": "lo\nHe", "paragraphlabels": ["Greeting"]},
            "origin": "manual"}]);
        let task = json!([{
            "data": {"dialogue": [{"author": "A", "line": "Hello"}, {"author": "B", "line": "Hey"}]},
            "annotations": [{"result": result}]
        }]);
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                Some(task),
            )
            .await;
        assert_eq!(status, 201, "{}: {body}", db.label);
        let (_, _, bytes) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{project}/export?format=label-studio"),
        )
        .await;
        let exported: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            exported[0]["annotations"][0]["result"], result,
            "{}",
            db.label
        );

        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                Some(json!([{"data": {"dialogue": [{"author": "A", "text": "wrong key"}]}}])),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body.to_string().contains("data.dialogue[0].line"),
            "{}: {body}",
            db.label
        );
        server.stop().await;
    }
}

/// A Label Studio HyperText span imports and exports unchanged, a malformed
/// one is refused by field, and the HTML cleaner strips what could run.
#[tokio::test]
async fn hypertext_spans_import_unchanged_and_html_is_cleaned() {
    const PAGES: &str = r#"<View>
  <HyperText name="page" value="$html"/>
  <HyperTextLabels name="ner" toName="page"><Label value="PER"/></HyperTextLabels>
</View>"#;
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("admin", Role::Admin).await;
        let project = create_project(&server, &admin, PAGES).await;
        let span = |start: &str| {
            json!([{"id": "h1", "from_name": "ner", "to_name": "page", "type": "hypertextlabels",
                "value": {"start": start, "end": "/p[1]/b[1]/text()[1]", "startOffset": 0, "endOffset": 8,
                          "globalOffsets": {"start": 4, "end": 12}, "text": "Lovelace", "htmllabels": ["PER"]}}])
        };
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                Some(json!([{"data": {"html": "<p>Ada <b>Lovelace</b></p>"},
                             "annotations": [{"result": span("/p[1]/b[1]/text()[1]")}]}])),
            )
            .await;
        assert_eq!(status, 201, "{}: {body}", db.label);
        let (_, _, bytes) = get_bytes(
            &server,
            &admin,
            &format!("/api/v1/projects/{project}/export?format=label-studio"),
        )
        .await;
        let exported: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            exported[0]["annotations"][0]["result"],
            span("/p[1]/b[1]/text()[1]"),
            "{}",
            db.label
        );
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project}/tasks"),
                Some(&admin),
                Some(json!([{"data": {"html": "<p>x</p>"}, "annotations": [{"result": span("p[1]")}]}])),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("value.start"), "{body}");

        let (status, cleaned) = server
            .call(
                Method::POST,
                "/api/v1/html",
                Some(&admin),
                Some(json!({"texts": ["<p onclick=\"x()\">Hi<script>alert(1)</script><img src=x onerror=y()><a href=\"javascript:z()\">l</a></p>"]})),
            )
            .await;
        assert_eq!(status, 200, "{cleaned}");
        let html = cleaned["html"][0].as_str().unwrap();
        for banned in ["script", "onclick", "onerror", "<img", "javascript:"] {
            assert!(!html.contains(banned), "{banned} in {html}");
        }
        assert!(html.starts_with("<p>Hi"), "{html}");
        server.stop().await;
    }
}
