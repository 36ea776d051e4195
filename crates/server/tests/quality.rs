//! The project quality report through the API, on SQLite and PostgreSQL:
//! agreement of classes (per task, label, pair, with Krippendorff's alpha
//! and Cohen's kappa as `gloss-quality` computes them on the same labels),
//! the confusion matrix, agreement with the majority, accuracy against
//! ground truth, rejection rates, throughput, the time window; and the
//! F1 agreement of boxes and text spans.

use gloss_quality::categorical::{cohen_kappa, krippendorff_alpha, CohenWeights, Level};
use gloss_quality::RatingsTable;
use gloss_test_support::{databases, TestServer, LABEL_CONFIG};
use gloss_types::Role;
use reqwest::Method;
use serde_json::{json, Value};

async fn project(server: &TestServer, token: &str, config: &str, tasks: Value) -> i64 {
    let id = server.create_project(token, "quality", config).await;
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/projects/{id}/tasks"),
            Some(token),
            Some(tasks),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    id
}

fn class(who: &str, label: &str) -> Value {
    json!({"completed_by": {"username": who}, "lead_time": 30,
        "result": [{"id": "c", "from_name": "class", "to_name": "image", "type": "choices",
                    "value": {"choices": [label]}}]})
}

fn close(actual: &Value, expected: f64) -> bool {
    actual
        .as_f64()
        .is_some_and(|a| (a - expected).abs() < 1e-12)
}

/// `GET path`, which must answer 200.
async fn get(server: &TestServer, token: &str, path: &str) -> Value {
    let (status, body) = server.call(Method::GET, path, Some(token), None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// The id of the project's first task.
async fn first_task(server: &TestServer, token: &str, project: i64) -> i64 {
    let tasks = get(server, token, &format!("/api/v1/projects/{project}/tasks")).await;
    tasks["items"][0]["id"].as_i64().unwrap()
}

async fn quality(server: &TestServer, token: &str, project: i64, query: &str) -> Value {
    let (status, report) = server
        .call(
            Method::GET,
            &format!("/api/v1/projects/{project}/quality{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    report
}

#[tokio::test]
async fn class_agreement_consensus_gold_and_reviews_are_reported() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        for name in ["ann", "bob", "cat"] {
            server.user(name, Role::Annotator).await;
        }
        let mut gold = class("manager", "Cat");
        gold["ground_truth"] = json!(true);
        let tasks = json!([
            {"data": {"image": "/1.png"}, "annotations": [class("ann", "Cat"), class("bob", "Cat"), class("cat", "Dog"), gold]},
            {"data": {"image": "/2.png"}, "annotations": [class("ann", "Dog"), class("bob", "Dog"), class("cat", "Dog")]},
            {"data": {"image": "/3.png"}, "annotations": [class("ann", "Cat"), class("bob", "Dog")]},
            {"data": {"image": "/4.png"}, "annotations": [class("ann", "Cat")]}
        ]);
        let id = project(&server, &manager, LABEL_CONFIG, tasks).await;
        // The manager rejects cat's first annotation.
        let (_, detail) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/tasks"),
                Some(&manager),
                None,
            )
            .await;
        let first = detail["items"][0]["id"].as_i64().unwrap();
        let (_, task) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{first}"),
                Some(&manager),
                None,
            )
            .await;
        let cats = task["annotations"][2]["id"].as_i64().unwrap();
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/annotations/{cats}/reviews"),
                Some(&manager),
                Some(json!({"verdict": "reject", "comment": "It is a cat."})),
            )
            .await;
        assert_eq!(status, 201, "{body}");

        let report = quality(&server, &manager, id, "").await;
        assert_eq!(
            (
                report["annotations"].as_i64(),
                report["tasks"].as_i64(),
                report["overlapping_tasks"].as_i64()
            ),
            (Some(9), Some(4), Some(3)),
            "{}: {report}",
            db.label
        );
        let control = &report["controls"][0];
        assert_eq!(control["control"], "class");
        assert_eq!(control["kind"], "classes");
        // Task agreements 1/3, 1 and 0.
        assert!(close(&control["agreement"], 4.0 / 9.0), "{control}");
        let labels = &control["labels"];
        assert_eq!(labels[0]["label"], "Cat");
        assert!(close(&labels[0]["agreement"], 2.0 / 5.0), "{labels}");
        assert!(close(&labels[1]["agreement"], 6.0 / 9.0), "{labels}");
        assert_eq!(control["confusion"]["counts"], json!([[2, 3], [3, 6]]));
        let pair = |a: &str, b: &str| {
            control["pairs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["a"] == a && p["b"] == b)
                .unwrap()
                .clone()
        };
        assert!(
            close(&pair("ann", "bob")["agreement"], 2.0 / 3.0),
            "{control}"
        );
        assert_eq!(pair("ann", "cat")["tasks"], 2);

        // Alpha and kappa are gloss-quality's on the same labels.
        let rows = [
            ("1", "ann", "Cat"),
            ("1", "bob", "Cat"),
            ("1", "cat", "Dog"),
            ("2", "ann", "Dog"),
            ("2", "bob", "Dog"),
            ("2", "cat", "Dog"),
            ("3", "ann", "Cat"),
            ("3", "bob", "Dog"),
            ("4", "ann", "Cat"),
        ];
        let table = RatingsTable::from_rows(rows).unwrap();
        let alpha = krippendorff_alpha(&table, Level::Nominal).unwrap();
        assert!(close(&control["alpha"], alpha), "{control} vs {alpha}");
        let kappa = cohen_kappa(&table, 0, 1, CohenWeights::None).unwrap();
        assert!(
            close(&pair("ann", "bob")["kappa"], kappa),
            "{control} vs {kappa}"
        );

        let annotator = |name: &str| {
            report["annotators"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["username"] == name)
                .unwrap()
                .clone()
        };
        // The majority: Cat, Dog, Cat (a tie goes to the first label), Cat.
        assert!(close(&annotator("ann")["agreement_with_consensus"], 1.0));
        assert!(close(
            &annotator("bob")["agreement_with_consensus"],
            2.0 / 3.0
        ));
        assert!(close(&annotator("cat")["agreement_with_consensus"], 0.5));
        // Ground truth on task 1 is Cat.
        assert_eq!(
            (
                annotator("ann")["gold_answers"].as_i64(),
                annotator("ann")["gold_accuracy"].as_f64()
            ),
            (Some(1), Some(1.0))
        );
        assert_eq!(annotator("cat")["gold_accuracy"].as_f64(), Some(0.0));
        assert_eq!(
            (
                annotator("cat")["rejected"].as_i64(),
                annotator("cat")["rejection_rate"].as_f64()
            ),
            (Some(1), Some(1.0))
        );
        // Four annotations of 30 s: 120 an hour.
        assert!(
            close(&annotator("ann")["per_hour"], 120.0),
            "{}",
            annotator("ann")
        );
        assert_eq!(report["over_time"].as_array().unwrap().len(), 1);
        assert_eq!(report["over_time"][0]["annotations"], 9);
        assert_eq!(
            report["tasks_to_check"][0]["annotators"],
            json!(["ann", "bob"])
        );
        assert!(close(&report["tasks_to_check"][0]["agreement"], 0.0));

        // Side by side, task 1: cat's Dog agrees with nobody, the Cats with some.
        let (_, compared) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{first}/compare"),
                Some(&manager),
                None,
            )
            .await;
        let states: Vec<Value> = compared["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["controls"]["class"].clone())
            .collect();
        assert_eq!(
            states,
            [
                json!("partly"),
                json!("partly"),
                json!("disagrees"),
                json!("partly")
            ],
            "{compared}"
        );

        // The consensus of task 1 is the majority's Cat (the ground truth does not vote).
        let (status, consensus) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{first}/consensus"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(status, 200, "{consensus}");
        assert_eq!(
            consensus["result"][0]["value"]["choices"],
            json!(["Cat"]),
            "{consensus}"
        );
        assert_eq!(consensus["annotations"].as_array().unwrap().len(), 3);
        // A consensus export: one annotation per annotated task.
        let exported: Value = serde_json::from_str(
            &server
                .export_text(&manager, id, "json&annotations=consensus")
                .await,
        )
        .unwrap();
        let exported = exported.as_array().unwrap();
        assert_eq!(exported.len(), 4, "{}", db.label);
        for task in exported {
            assert_eq!(task["annotations"].as_array().unwrap().len(), 1, "{task}");
        }
        assert_eq!(
            exported[1]["annotations"][0]["result"][0]["value"]["choices"],
            json!(["Dog"])
        );
        assert_eq!(
            exported[0]["annotations"][0]["consensus_of"]
                .as_array()
                .unwrap()
                .len(),
            3,
            "{}",
            exported[0]
        );

        // A window after today holds nothing; a bad time is refused by name.
        let later = quality(&server, &manager, id, "?since=2999-01-01T00:00:00Z").await;
        assert_eq!(later["annotations"], 0);
        let (status, body) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/quality?since=yesterday"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("since")),
            "{body}"
        );
        // The report follows changes: an update (read again from the cache's
        // changed tasks), a ground-truth mark and a deletion (read whole).
        let third = detail["items"][2]["id"].as_i64().unwrap();
        let (_, third_task) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{third}"),
                Some(&manager),
                None,
            )
            .await;
        let anns = third_task["annotations"][0]["id"].as_i64().unwrap();
        let (status, body) = server
            .call(
                Method::PUT,
                &format!("/api/v1/annotations/{anns}"),
                Some(&manager),
                Some(json!({"result": class("ann", "Dog")["result"], "version": 1})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let changed = quality(&server, &manager, id, "").await;
        // Task agreements 1/3, 1 and now 1.
        assert!(
            close(&changed["controls"][0]["agreement"], 7.0 / 9.0),
            "{}: {changed}",
            db.label
        );
        let gold_id = task["annotations"][3]["id"].as_i64().unwrap();
        server
            .call(
                Method::PATCH,
                &format!("/api/v1/annotations/{gold_id}"),
                Some(&manager),
                Some(json!({"ground_truth": false})),
            )
            .await;
        let fourth = detail["items"][3]["id"].as_i64().unwrap();
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{id}/tasks/bulk"),
                Some(&manager),
                Some(json!({"action": "delete", "tasks": [fourth]})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let changed = quality(&server, &manager, id, "").await;
        assert_eq!(changed["tasks"], 3, "{changed}");
        // The manager's former gold is an annotation like the others now.
        assert_eq!(changed["annotations"], 9, "{changed}");
        assert!(
            changed["annotators"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["gold_answers"] == 0),
            "{changed}"
        );

        // Annotators do not see it; strangers do not see the project.
        let (_, ann) = server.user("ann2", Role::Annotator).await;
        let (status, _) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/quality"),
                Some(&ann),
                None,
            )
            .await;
        assert_eq!(status, 404);
        server.stop().await;
    }
}

#[tokio::test]
async fn boxes_and_spans_agree_by_f1() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        for name in ["ann", "bob"] {
            server.user(name, Role::Annotator).await;
        }
        let boxes = |who: &str, places: &[f64]| {
            let result: Vec<Value> = places.iter().enumerate().map(|(i, x)| json!({
                "id": format!("b{i}"), "from_name": "box", "to_name": "image", "type": "rectanglelabels",
                "original_width": 200, "original_height": 100,
                "value": {"x": x, "y": 10, "width": 10, "height": 20, "rectanglelabels": ["Car"]}})).collect();
            json!({"completed_by": {"username": who}, "result": result})
        };
        let config = r#"<View><Image name="image" value="$image"/><RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels></View>"#;
        let id = project(&server, &manager, config, json!([
            {"data": {"image": "/1.png"}, "annotations": [boxes("ann", &[10.0]), boxes("bob", &[11.0, 60.0])]}
        ])).await;
        let report = quality(&server, &manager, id, "").await;
        let control = &report["controls"][0];
        assert_eq!(control["kind"], "shapes");
        // One match (IoU 0.9 > 0.5) among 1 and 2 boxes: F1 = 2/3.
        assert!(
            close(&control["agreement"], 2.0 / 3.0),
            "{}: {control}",
            db.label
        );
        assert!(
            close(&control["labels"][0]["agreement"], 2.0 / 3.0),
            "{control}"
        );
        assert!(control["alpha"].is_null());
        // The consensus fuses the two boxes that match and drops the lone one.
        let task = first_task(&server, &manager, id).await;
        let (status, consensus) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{task}/consensus"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(status, 200, "{consensus}");
        let boxes = consensus["result"].as_array().unwrap();
        assert_eq!(boxes.len(), 1, "{consensus}");
        assert!(close(&boxes[0]["value"]["x"], 10.5), "{consensus}");
        assert_eq!(boxes[0]["original_width"], 200);
        // Side by side: bob's second box has no match in ann's work.
        let compared = get(&server, &manager, &format!("/api/v1/tasks/{task}/compare")).await;
        assert_eq!(
            compared["annotations"][0]["regions"],
            json!({"b0": "matched"}),
            "{compared}"
        );
        assert_eq!(
            compared["annotations"][1]["regions"],
            json!({"b0": "matched", "b1": "unmatched"})
        );
        assert_eq!(compared["annotations"][1]["annotator"], "bob");

        let spans = |who: &str, spans: &[(u64, u64, &str)]| {
            let result: Vec<Value> = spans
                .iter()
                .enumerate()
                .map(|(i, (start, end, label))| {
                    json!({
                "id": format!("s{i}"), "from_name": "ner", "to_name": "text", "type": "labels",
                "value": {"start": start, "end": end, "labels": [label]}})
                })
                .collect();
            json!({"completed_by": {"username": who}, "result": result})
        };
        let config = r#"<View><Text name="text" value="$text"/><Labels name="ner" toName="text"><Label value="PER"/><Label value="LOC"/></Labels></View>"#;
        let id = project(
            &server,
            &manager,
            config,
            json!([
                {"data": {"text": "Alice in Paris"}, "annotations": [
                    spans("ann", &[(0, 5, "PER"), (9, 14, "LOC")]), spans("bob", &[(0, 5, "PER")])]}
            ]),
        )
        .await;
        let report = quality(&server, &manager, id, "").await;
        let control = &report["controls"][0];
        assert_eq!(control["kind"], "spans");
        assert!(close(&control["agreement"], 2.0 / 3.0), "{control}");
        let label = |name: &str| {
            control["labels"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["label"] == name)
                .unwrap()["agreement"]
                .clone()
        };
        assert!(
            close(&label("PER"), 1.0) && close(&label("LOC"), 0.0),
            "{control}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn keypoints_agree_by_oks_and_masks_by_pixel_iou() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        for name in ["ann", "bob"] {
            server.user(name, Role::Annotator).await;
        }
        // One skeleton each on a 200 × 100 image; bob's tail is 1 px right.
        let skeleton = |who: &str, tail_x: f64| {
            let point = |id: &str, label: &str, x: f64, y: f64| {
                json!({
                "id": id, "parentID": "p1", "from_name": "pose", "to_name": "image",
                "type": "keypointlabels", "original_width": 200, "original_height": 100,
                "value": {"x": x, "y": y, "keypointlabels": [label]}})
            };
            json!({"completed_by": {"username": who}, "result": [
                point("n", "nose", 10.0, 10.0), point("t", "tail", tail_x, 30.0)]})
        };
        let config = r#"<View><Image name="image" value="$image"/><KeyPointLabels name="pose" toName="image"><Label value="nose"/><Label value="tail"/><Skeleton value="animal"><Edge from="nose" to="tail"/></Skeleton></KeyPointLabels></View>"#;
        let mut gold = skeleton("manager", 30.0);
        gold["ground_truth"] = json!(true);
        let id = project(&server, &manager, config, json!([
            {"data": {"image": "/1.png"}, "annotations": [gold, skeleton("ann", 30.0), skeleton("bob", 30.5)]}
        ])).await;
        let report = quality(&server, &manager, id, "").await;
        let control = &report["controls"][0];
        assert_eq!(control["kind"], "keypoints", "{}: {control}", db.label);
        // COCO's OKS on the tail (σ 0.1, d = 1 px) with each side's box
        // around its points as the scale (40 × 20 and 41 × 20 px), averaged
        // over both directions; the nose matches exactly.
        let oks = |area: f64| (1.0 + (-1.0f64 / 0.04 / (area + f64::EPSILON) / 2.0).exp()) / 2.0;
        let expected = (oks(800.0) + oks(820.0)) / 2.0;
        assert!(close(&control["agreement"], expected), "{control}");
        assert!(
            close(&control["labels"][0]["agreement"], expected),
            "{control}"
        );
        let annotator = |name: &str| {
            report["annotators"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["username"] == name)
                .unwrap()
                .clone()
        };
        // Against the gold skeleton: ann exactly, bob by OKS with the gold's scale.
        assert!(close(&annotator("ann")["gold_accuracy"], 1.0), "{report}");
        assert!(
            close(&annotator("bob")["gold_accuracy"], oks(800.0)),
            "{report}"
        );
        // Per day too: for bob, and for the project.
        let bob_days = annotator("bob")["gold_by_day"].clone();
        assert_eq!(bob_days.as_array().unwrap().len(), 1, "{bob_days}");
        assert_eq!(bob_days[0]["answers"], 1);
        assert!(close(&bob_days[0]["accuracy"], oks(800.0)), "{bob_days}");
        assert_eq!(report["over_time"][0]["gold_answers"], 2, "{report}");
        assert!(close(
            &report["over_time"][0]["gold_accuracy"],
            (1.0 + oks(800.0)) / 2.0
        ));
        let task = first_task(&server, &manager, id).await;
        let compared = get(&server, &manager, &format!("/api/v1/tasks/{task}/compare")).await;
        let bob = compared["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["annotator"] == "bob")
            .unwrap();
        // The skeleton and its points are one matched object.
        assert_eq!(
            bob["regions"],
            json!({"n": "matched", "p1": "matched", "t": "matched"}),
            "{compared}"
        );

        // Masks on a 4 × 2 image: ann paints pixels 0..4, bob 2..6 (COCO's
        // column-major order): road IoU 2/6; only bob paints "car".
        let rle = |counts: Vec<u32>| {
            gloss_masks::CocoRle::new(4, 2, counts)
                .unwrap()
                .to_compressed()
        };
        let mask = |id: &str, label: &str, counts: Vec<u32>| {
            json!({
            "id": id, "from_name": "seg", "to_name": "image", "type": "brushlabels",
            "original_width": 4, "original_height": 2,
            "value": {"format": "coco_rle", "counts": rle(counts), "brushlabels": [label]}})
        };
        let config = r#"<View><Image name="image" value="$image"/><BrushLabels name="seg" toName="image"><Label value="road"/><Label value="car"/></BrushLabels></View>"#;
        let id = project(&server, &manager, config, json!([
            {"data": {"image": "/1.png"}, "annotations": [
                {"completed_by": {"username": "ann"}, "result": [mask("a", "road", vec![0, 4, 4])]},
                {"completed_by": {"username": "bob"}, "result": [
                    mask("b", "road", vec![2, 4, 2]), mask("c", "car", vec![7, 1])]},
            ]}
        ])).await;
        let report = quality(&server, &manager, id, "").await;
        let control = &report["controls"][0];
        assert_eq!(control["kind"], "masks", "{control}");
        // Mean over road (1/3) and car (0).
        assert!(close(&control["agreement"], 1.0 / 6.0), "{control}");
        let label = |name: &str| {
            control["labels"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["label"] == name)
                .unwrap()["agreement"]
                .clone()
        };
        assert!(
            close(&label("road"), 1.0 / 3.0) && close(&label("car"), 0.0),
            "{control}"
        );
        let task = first_task(&server, &manager, id).await;
        let compared = get(&server, &manager, &format!("/api/v1/tasks/{task}/compare")).await;
        // IoU 1/3 is under 0.5: no mask matches.
        assert_eq!(
            compared["annotations"][1]["regions"],
            json!({"b": "unmatched", "c": "unmatched"}),
            "{compared}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn consensus_weighs_annotators_by_reliability_or_dawid_skene() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        for name in ["ann", "bob", "cat"] {
            server.user(name, Role::Annotator).await;
        }
        // The truth alternates Cat, Dog; ann is always right, bob wrong on
        // tasks 0–3, cat on 4–7; on task 8 (truth Cat) both are wrong. Task 9
        // is gold, where only ann is right.
        let flip = |label: &'static str| if label == "Cat" { "Dog" } else { "Cat" };
        // Task `index`'s truth, and the labels of ann, bob and cat.
        let labels_of = |index: usize| {
            let truth = if index.is_multiple_of(2) {
                "Cat"
            } else {
                "Dog"
            };
            let bob = if (4..8).contains(&index) {
                truth
            } else {
                flip(truth)
            };
            let cat = if index < 4 { truth } else { flip(truth) };
            (truth, [truth, bob, cat])
        };
        let mut tasks = Vec::new();
        for index in 0..10 {
            let (truth, [_, bob, cat]) = labels_of(index);
            let mut annotations = vec![class("ann", truth), class("bob", bob), class("cat", cat)];
            if index == 9 {
                let mut gold = class("manager", truth);
                gold["ground_truth"] = json!(true);
                annotations.push(gold);
            }
            tasks.push(
                json!({"data": {"image": format!("/{index}.png")}, "annotations": annotations}),
            );
        }
        let config = r#"<View><Image name="image" value="$image"/><Choices name="class" toName="image"><Choice value="Cat"/><Choice value="Dog"/></Choices></View>"#;
        let id = project(&server, &manager, config, Value::Array(tasks)).await;
        let (_, listed) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/tasks?limit=100"),
                Some(&manager),
                None,
            )
            .await;
        let task8 = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["data"]["image"] == "/8.png")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let consensus_of = |method: &'static str| {
            let server = &server;
            let manager = manager.clone();
            async move {
                let (status, project) = server
                    .call(
                        Method::PATCH,
                        &format!("/api/v1/projects/{id}"),
                        Some(&manager),
                        Some(json!({"consensus_method": method})),
                    )
                    .await;
                assert_eq!(
                    (status, project["consensus_method"].as_str()),
                    (200, Some(method)),
                    "{project}"
                );
                let (status, consensus) = server
                    .call(
                        Method::GET,
                        &format!("/api/v1/tasks/{task8}/consensus"),
                        Some(&manager),
                        None,
                    )
                    .await;
                assert_eq!(status, 200, "{consensus}");
                consensus["result"][0]["value"]["choices"][0]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        };
        // Two against one: the majority says Dog.
        assert_eq!(consensus_of("majority").await, "Dog", "{}", db.label);
        // By reliability (gold: ann 1, bob and cat 0) ann's Cat wins.
        assert_eq!(consensus_of("weighted").await, "Cat");
        // Dawid–Skene learns from every task that ann is reliable.
        let names = ["ann", "bob", "cat"];
        let mut rows = Vec::new();
        for index in 0..10 {
            for (name, label) in names.iter().zip(labels_of(index).1) {
                rows.push((index.to_string(), name.to_string(), label.to_string()));
            }
        }
        let table = RatingsTable::from_rows(
            rows.iter()
                .map(|(i, a, l)| (i.as_str(), a.as_str(), l.as_str())),
        )
        .unwrap();
        let reference = gloss_quality::aggregate::dawid_skene(&table, Default::default()).unwrap();
        let expected = &table.labels()[reference.labels[8].unwrap() as usize];
        assert_eq!(expected, "Cat");
        assert_eq!(&consensus_of("dawid-skene").await, expected);
        // A consensus export weighs the same way.
        let exported: Value = serde_json::from_str(
            &server
                .export_text(&manager, id, "json&annotations=consensus")
                .await,
        )
        .unwrap();
        let exported_task8 = exported
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == task8)
            .unwrap();
        assert_eq!(
            exported_task8["annotations"][0]["result"][0]["value"]["choices"],
            json!(["Cat"])
        );
        let (status, body) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{id}"),
                Some(&manager),
                Some(json!({"consensus_method": "mean"})),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("consensus_method"), "{body}");
        server.stop().await;
    }
}

/// Waits up to 5 s for `path` to exist with another inode than `not`, and
/// returns its inode.
async fn saved_file(path: &std::path::Path, not: Option<u64>) -> u64 {
    use std::os::unix::fs::MetadataExt;
    for _ in 0..100 {
        if let Ok(meta) = std::fs::metadata(path) {
            if Some(meta.ino()) != not {
                return meta.ino();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{} was not saved", path.display());
}

#[tokio::test]
async fn the_reports_answers_are_saved_and_read_back_after_a_restart() {
    use std::os::unix::fs::MetadataExt;
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        for name in ["ann", "bob"] {
            server.user(name, Role::Annotator).await;
        }
        let id = project(&server, &manager, LABEL_CONFIG, json!([
            {"data": {"image": "/1.png"}, "annotations": [class("ann", "Cat"), class("bob", "Cat")]},
            {"data": {"image": "/2.png"}, "annotations": [class("ann", "Cat"), class("bob", "Dog")]},
        ])).await;
        let before = quality(&server, &manager, id, "").await;
        assert!(
            close(&before["controls"][0]["agreement"], 0.5),
            "{}: {before}",
            db.label
        );
        let path = db.dir.path().join(format!("cache/quality/{id}.answers"));
        let inode = saved_file(&path, None).await;
        server.stop().await;

        // A new server reads the saved answers: nothing changed, so nothing
        // is read whole and saved again (the file keeps its inode).
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager2", Role::Admin).await;
        assert_eq!(
            quality(&server, &manager, id, "").await["controls"],
            before["controls"]
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            std::fs::metadata(&path).unwrap().ino(),
            inode,
            "{}",
            db.label
        );
        // A change after the restart shows: the saved answers are brought up
        // to date from the database.
        let (_, tasks) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/tasks"),
                Some(&manager),
                None,
            )
            .await;
        let second = tasks["items"][1]["id"].as_i64().unwrap();
        let (_, detail) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{second}"),
                Some(&manager),
                None,
            )
            .await;
        let bobs = detail["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["result"][0]["value"]["choices"][0] == "Dog")
            .unwrap()
            .clone();
        let (status, body) = server
            .call(
                Method::PUT,
                &format!("/api/v1/annotations/{}", bobs["id"]),
                Some(&manager),
                Some(json!({"result": class("bob", "Cat")["result"], "version": bobs["version"]})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let after = quality(&server, &manager, id, "").await;
        assert!(close(&after["controls"][0]["agreement"], 1.0), "{after}");
        // A ground-truth mark (on the other task, unchanged since the
        // restart) is read from its task too: nothing is read whole (the
        // file keeps its inode), and the gold shows.
        let first = get(&server, &manager, &format!("/api/v1/projects/{id}/tasks")).await["items"]
            [0]["id"]
            .clone();
        let (_, first_detail) = server
            .call(
                Method::GET,
                &format!("/api/v1/tasks/{first}"),
                Some(&manager),
                None,
            )
            .await;
        let cats = first_detail["annotations"][0].clone();
        let (status, body) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/annotations/{}", cats["id"]),
                Some(&manager),
                Some(json!({"ground_truth": true})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let marked = quality(&server, &manager, id, "").await;
        let ann = marked["annotators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == "ann")
            .unwrap()
            .clone();
        // The gold is the first task's first annotation; whoever else
        // answered that task is scored against it.
        assert_eq!(marked["annotations"], 3, "{marked}");
        assert!(
            ann["gold_answers"].as_i64().unwrap()
                + marked["annotators"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["username"] == "bob")
                    .unwrap()["gold_answers"]
                    .as_i64()
                    .unwrap()
                == 1,
            "{marked}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            std::fs::metadata(&path).unwrap().ino(),
            inode,
            "{}",
            db.label
        );
        // A change of other settings than the label config keeps them too.
        let (status, body) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{id}"),
                Some(&manager),
                Some(json!({"name": "renamed", "consensus_method": "weighted"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        quality(&server, &manager, id, "").await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            std::fs::metadata(&path).unwrap().ino(),
            inode,
            "{}",
            db.label
        );
        // A deleted task is found by its counts: its answers are dropped
        // without a whole read either.
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{id}/tasks/bulk"),
                Some(&manager),
                Some(json!({"action": "delete", "tasks": [second]})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let deleted = quality(&server, &manager, id, "").await;
        assert_eq!(
            (deleted["tasks"].clone(), deleted["annotations"].clone()),
            (json!(1), json!(1)),
            "{deleted}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            std::fs::metadata(&path).unwrap().ino(),
            inode,
            "{}",
            db.label
        );
        server.stop().await;

        // Unreadable saved answers are read whole again, and saved anew.
        std::fs::write(&path, b"not saved answers").unwrap();
        let garbage = std::fs::metadata(&path).unwrap().ino();
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager3", Role::Admin).await;
        let read_again = quality(&server, &manager, id, "").await;
        assert_eq!(read_again["tasks"], 1, "{read_again}");
        assert_eq!(
            read_again["annotators"][0]["gold_answers"], 1,
            "{read_again}"
        );
        saved_file(&path, Some(garbage)).await;
        // Deleting the project forgets them.
        let (status, _) = server
            .call(
                Method::DELETE,
                &format!("/api/v1/projects/{id}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(status, 204);
        assert!(!path.exists());
        server.stop().await;
    }
}

#[tokio::test]
async fn sound_segments_agree_by_overlap_in_time() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        for name in ["ann", "bob"] {
            server.user(name, Role::Annotator).await;
        }
        let segment = |id: &str, who: &str, start: f64, end: f64| {
            json!({
            "id": id, "from_name": "speaker", "to_name": "audio", "type": "labels",
            "value": {"start": start, "end": end, "channel": 0, "labels": [who]}})
        };
        let config = r#"<View><Audio name="audio" value="$audio"/><Labels name="speaker" toName="audio"><Label value="Alice"/><Label value="Bob"/></Labels></View>"#;
        let id = project(&server, &manager, config, json!([
            {"data": {"audio": "/call.wav"}, "annotations": [
                {"completed_by": {"username": "ann"}, "result": [segment("a1", "Alice", 1.0, 3.0)]},
                {"completed_by": {"username": "bob"}, "result": [
                    segment("b1", "Alice", 1.2, 3.0), segment("b2", "Bob", 6.0, 7.0)]},
            ]}
        ])).await;
        let report = quality(&server, &manager, id, "").await;
        let control = &report["controls"][0];
        assert_eq!(control["kind"], "segments", "{}: {control}", db.label);
        // Alice's segments overlap 1.8 s of 2 s (IoU 0.9): one match among
        // one and two segments, F1 2/3.
        assert!(close(&control["agreement"], 2.0 / 3.0), "{control}");
        let task = first_task(&server, &manager, id).await;
        let compared = get(&server, &manager, &format!("/api/v1/tasks/{task}/compare")).await;
        assert_eq!(
            compared["annotations"][0]["regions"],
            json!({"a1": "matched"}),
            "{compared}"
        );
        assert_eq!(
            compared["annotations"][1]["regions"],
            json!({"b1": "matched", "b2": "unmatched"})
        );
        server.stop().await;
    }
}
