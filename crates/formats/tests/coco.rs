//! COCO: import, export against a golden file, and the round trip.

mod common;
mod dataset_support;

use common::data_file;
use gloss_formats::{
    read_coco, AnnotationRecord, CocoImportOptions, CocoSummary, CocoWriter, ControlRef,
    ExportAnnotation, ExportCategory, ExportPrediction, ExportTask, FormatError, ImageInfo,
    KeypointCategory, KeypointControl, PredictionRecord, Rejection, TaskRecord,
};
use gloss_types::result::{
    ChoicesValue, PolygonLabelsValue, RectangleLabelsValue, ResultItem, ResultValue,
};
use serde_json::{json, Map, Value};

fn control(from_name: &str) -> Option<ControlRef> {
    Some(ControlRef {
        from_name: from_name.to_owned(),
        to_name: "image".to_owned(),
    })
}

fn both_controls() -> CocoImportOptions {
    CocoImportOptions {
        image_field: "image".to_owned(),
        rectangles: control("box"),
        polygons: control("outline"),
        masks: None,
        keypoints: Vec::new(),
    }
}

fn read_small(options: &CocoImportOptions) -> (Vec<TaskRecord>, Vec<Rejection>) {
    read_coco(&data_file("coco_small.json")[..], options).expect("the file reads")
}

fn read_text(
    text: &str,
    options: &CocoImportOptions,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    read_coco(text.as_bytes(), options)
}

fn rectangle(item: &ResultItem) -> &RectangleLabelsValue {
    match &item.value {
        ResultValue::RectangleLabels(value) => value,
        other => panic!("not a box: {other:?}"),
    }
}

fn polygon(item: &ResultItem) -> &PolygonLabelsValue {
    match &item.value {
        ResultValue::PolygonLabels(value) => value,
        other => panic!("not a polygon: {other:?}"),
    }
}

#[test]
fn small_coco_file_imports_with_percent_coordinates() {
    let (tasks, rejections) = read_small(&both_controls());
    assert_eq!(tasks.len(), 4, "yard.jpg is rejected");
    let names: Vec<&Value> = tasks.iter().map(|task| &task.data["image"]).collect();
    assert_eq!(
        names,
        [
            &json!("street.jpg"),
            &json!("park.jpg"),
            &json!("empty.jpg"),
            &json!("odd.jpg")
        ]
    );
    assert_eq!(
        tasks[0].meta,
        *json!({"coco_image_id": 10}).as_object().unwrap()
    );
    assert_eq!(tasks[0].data.len(), 1);

    // street.jpg, 640×480: a box and a one-ring polygon.
    let street = &tasks[0].annotations;
    assert_eq!(street.len(), 1);
    let [car, walker] = &street[0].result[..] else {
        panic!("two results: {:?}", street[0].result)
    };
    assert_eq!(car.id.as_deref(), Some("coco-1"));
    assert_eq!(
        (car.from_name.as_str(), car.to_name.as_str()),
        ("box", "image")
    );
    assert_eq!(
        (car.original_width, car.original_height),
        (Some(640), Some(480))
    );
    let car = rectangle(car);
    assert_eq!(
        (car.x, car.y, car.width, car.height),
        (10.0, 10.0, 20.0, 20.0)
    );
    assert_eq!(car.rectanglelabels, ["car"]);
    assert_eq!(walker.id.as_deref(), Some("coco-2"));
    assert_eq!(walker.from_name, "outline");
    let walker = polygon(walker);
    assert_eq!(walker.points, [[50.0, 50.0], [60.0, 50.0], [60.0, 70.0]]);
    assert_eq!(walker.polygonlabels, ["person"]);

    // park.jpg, 800×400: a two-ring polygon and an RLE crowd as its bbox.
    let park = &tasks[1].annotations[0].result;
    let ids: Vec<_> = park
        .iter()
        .map(|item| item.id.as_deref().unwrap())
        .collect();
    assert_eq!(ids, ["coco-3", "coco-3", "coco-4"]);
    assert_eq!(
        polygon(&park[0]).points,
        [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]
    );
    assert_eq!(
        polygon(&park[1]).points,
        [[50.0, 50.0], [60.0, 50.0], [60.0, 60.0], [50.0, 60.0]]
    );
    let crowd = rectangle(&park[2]);
    assert_eq!(
        (crowd.x, crowd.y, crowd.width, crowd.height),
        (25.0, 25.0, 50.0, 50.0)
    );
    assert_eq!(crowd.rectanglelabels, ["car"]);

    // empty.jpg has no annotations at all.
    assert!(tasks[2].annotations.is_empty());

    // odd.jpg, 333×777.
    let odd = &tasks[3].annotations[0].result;
    let dog = rectangle(&odd[0]);
    assert_eq!(dog.x, 100.0 * 12.3 / 333.0);
    assert_eq!(dog.height, 100.0 * 101.1 / 777.0);
    assert_eq!(
        polygon(&odd[1]).points[2],
        [100.0 * 150.15 / 333.0, 100.0 * 700.7 / 777.0]
    );

    assert_eq!(
        rejections,
        [Rejection::new(
            3,
            "annotations[4].category_id",
            "no category has id 99"
        )]
    );
}

#[test]
fn without_a_polygon_control_polygons_import_as_boxes() {
    let options = CocoImportOptions {
        polygons: None,
        ..both_controls()
    };
    let (tasks, _) = read_small(&options);
    let walker = &tasks[0].annotations[0].result[1];
    assert_eq!(walker.id.as_deref(), Some("coco-2"));
    let walker = rectangle(walker);
    assert_eq!(
        (walker.x, walker.y, walker.width, walker.height),
        (50.0, 50.0, 10.0, 20.0)
    );
    // One box for the whole two-ring annotation.
    assert_eq!(tasks[1].annotations[0].result.len(), 2);
}

#[test]
fn without_a_box_control_boxes_and_masks_are_rejected() {
    let options = CocoImportOptions {
        rectangles: None,
        ..both_controls()
    };
    let (tasks, rejections) = read_small(&options);
    let kept: Vec<&Value> = tasks.iter().map(|task| &task.data["image"]).collect();
    assert_eq!(kept, [&json!("empty.jpg")]);
    let fields: Vec<(u64, &str)> = rejections
        .iter()
        .map(|rejection| (rejection.row, rejection.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            (1, "annotations[0]"),
            (2, "annotations[3]"),
            (3, "annotations[4].category_id"),
            (3, "annotations[5]"),
            (5, "annotations[6]"),
        ]
    );
    assert_eq!(
        rejections[1].reason,
        "is a mask, which imports as its bbox, and the label config has no RectangleLabels control for it"
    );
}

const SIZES: &str = r#""categories": [{"id": 1, "name": "a"}]"#;

#[test]
fn bad_images_and_annotations_are_rejected_with_their_row() {
    let text = format!(
        r#"{{
        "images": [
            {{"id": 1, "file_name": "one.png", "width": 100, "height": 100}},
            {{"id": 2, "file_name": "two.png", "height": 100}},
            {{"id": 3, "file_name": "three.png", "width": 100, "height": 100}},
            {{"id": 4, "file_name": "four.png", "width": 100, "height": 100}},
            {{"id": "x", "file_name": "", "width": 0, "height": 10.5}},
            {{"id": 6, "file_name": "six.png", "width": 100, "height": 100}}
        ],
        "annotations": [
            {{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, -5, 10]}},
            {{"id": 2, "image_id": 2, "category_id": 1, "bbox": [0, 0, 5, 10]}},
            {{"id": 3, "image_id": 3, "category_id": 1, "bbox": [0, 0, 5, 10], "segmentation": [[1, 2, 3, 4, 5, 6, 7]]}},
            {{"id": 4, "image_id": 42, "category_id": 1, "bbox": [0, 0, 5, 10]}},
            {{"id": 5, "image_id": 4, "category_id": 1, "bbox": [0, 0, 5]}},
            {{"id": 6, "image_id": 4, "category_id": 1, "segmentation": [[1, 2, 3, 4]]}},
            {{"id": 7, "image_id": 6, "category_id": 1, "segmentation": [[1, "2", 3, 4, 5, 6]]}},
            {{"image_id": 6, "category_id": 1, "bbox": [0, 0, 5, 10]}}
        ],
        {SIZES}
    }}"#
    );
    let (tasks, rejections) = read_text(&text, &both_controls()).unwrap();
    assert!(tasks.is_empty(), "{tasks:?}");
    let expected = [
        Rejection::new(1, "annotations[0].bbox", "has a negative width"),
        Rejection::new(
            2,
            "images[1].width",
            "is missing; COCO images need a width and height in pixels",
        ),
        Rejection::new(
            3,
            "annotations[2].segmentation[0]",
            "has an odd number of coordinates (7); a polygon is x, y pairs",
        ),
        Rejection::new(
            4,
            "annotations[4].bbox",
            "must be [x, y, width, height] in pixels, found [0,0,5]",
        ),
        Rejection::new(
            4,
            "annotations[5].segmentation[0]",
            "has 2 points; a polygon needs at least 3",
        ),
        Rejection::new(5, "images[4].id", "must be a number, found a string"),
        Rejection::new(5, "images[4].file_name", "is empty"),
        Rejection::new(
            5,
            "images[4].width",
            "must be a whole number of pixels above 0, found 0",
        ),
        Rejection::new(
            5,
            "images[4].height",
            "must be a whole number of pixels above 0, found 10.5",
        ),
        Rejection::new(
            6,
            "annotations[6].segmentation",
            "must be polygon rings [[x1, y1, x2, y2, ...], ...] or an RLE mask object",
        ),
        Rejection::new(6, "annotations[7].id", "is missing"),
        Rejection::new(0, "annotations[3].image_id", "no image has id 42"),
    ];
    assert_eq!(rejections, expected);
}

#[test]
fn structural_problems_fail_the_file() {
    let cases = [
        (
            r#"{"annotations": [], "categories": []}"#.to_owned(),
            "COCO images: is missing",
        ),
        (
            r#"{"images": [], "annotations": []}"#.to_owned(),
            "COCO categories: is missing",
        ),
        (
            format!(r#"{{"images": [{{"id": 1}}, {{"id": 2}}, {{"id": 1}}], {SIZES}}}"#),
            "COCO images[2].id: repeats image id 1 of images[0]",
        ),
        (
            r#"{"images": [], "categories": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]}"#
                .to_owned(),
            "COCO categories[1].id: repeats category id 1",
        ),
        (
            r#"{"images": [], "categories": [{"id": 1}]}"#.to_owned(),
            "COCO categories[0].name: is missing",
        ),
    ];
    for (text, message) in cases {
        let error = read_text(&text, &both_controls()).unwrap_err();
        assert!(error.to_string().starts_with(message), "{error} for {text}");
    }
    let error = read_text("\n[1, 2]", &both_controls()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid JSON at line 2, column 1: invalid type: sequence, expected a COCO instances object"
    );
    let error = read_text("{\"images\": [{}, 7]}", &both_controls()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid JSON at line 1, column 18: invalid type: integer `7`, expected a COCO image object"
    );
    assert!(matches!(
        read_text("{\"images\": [", &both_controls()),
        Err(FormatError::Json { .. })
    ));
}

#[test]
fn missing_annotations_key_means_no_annotations() {
    let text = format!(
        r#"{{"images": [{{"id": 1, "file_name": "a.png", "width": 5, "height": 5}}], {SIZES}}}"#
    );
    let (tasks, rejections) = read_text(&text, &both_controls()).unwrap();
    assert_eq!(tasks.len(), 1);
    assert!(tasks[0].annotations.is_empty() && rejections.is_empty());
}

fn result(value: ResultValue) -> ResultItem {
    ResultItem {
        id: Some("r".to_owned()),
        from_name: "label".to_owned(),
        to_name: "image".to_owned(),
        value,
        original_width: Some(400),
        original_height: Some(200),
        image_rotation: Some(0.0),
        parent_id: None,
        extra: Map::new(),
    }
}

fn boxed(x: f64, y: f64, width: f64, height: f64, rotation: f64, label: &str) -> ResultItem {
    result(ResultValue::RectangleLabels(RectangleLabelsValue {
        x,
        y,
        width,
        height,
        rotation: Some(rotation),
        rectanglelabels: vec![label.to_owned()],
        extra: Map::new(),
    }))
}

fn annotation(result: Vec<ResultItem>, was_cancelled: bool) -> ExportAnnotation {
    ExportAnnotation {
        id: 1,
        record: AnnotationRecord {
            result,
            was_cancelled,
            ..AnnotationRecord::default()
        },
        stored_result: None,
    }
}

fn write_coco(tasks: &[ExportTask], categories: &[&str]) -> (String, CocoSummary) {
    let categories: Vec<ExportCategory> = categories
        .iter()
        .map(|name| ExportCategory::shapes(*name))
        .collect();
    write_coco_categories(tasks, &categories)
}

fn write_coco_categories(
    tasks: &[ExportTask],
    categories: &[ExportCategory],
) -> (String, CocoSummary) {
    let spool = tempfile::tempfile().unwrap();
    let mut out = Vec::new();
    let mut writer = CocoWriter::new(&mut out, spool, categories).unwrap();
    for task in tasks {
        writer.write_task(task).unwrap();
    }
    let summary = writer.finish().unwrap();
    (String::from_utf8(out).unwrap(), summary)
}

#[test]
fn coco_export_matches_the_golden_file() {
    let first = ExportTask {
        id: 1,
        image: Some(ImageInfo {
            file_name: "a.jpg".to_owned(),
            width: 200,
            height: 100,
        }),
        annotations: vec![
            annotation(
                vec![
                    boxed(10.0, 20.0, 30.0, 40.0, 0.0, "car"),
                    boxed(50.0, 10.0, 10.0, 20.0, 90.0, "person"),
                    result(ResultValue::PolygonLabels(PolygonLabelsValue {
                        points: vec![[10.0, 10.0], [50.0, 10.0], [50.0, 50.0]],
                        polygonlabels: vec!["dog".to_owned()],
                        closed: Some(true),
                        extra: Map::new(),
                    })),
                    result(ResultValue::Choices(ChoicesValue {
                        choices: vec!["car".to_owned()],
                        extra: Map::new(),
                    })),
                    boxed(1.0, 1.0, 1.0, 1.0, 0.0, "tree"),
                ],
                false,
            ),
            annotation(vec![boxed(0.0, 0.0, 50.0, 50.0, 0.0, "car")], true),
        ],
        predictions: vec![ExportPrediction {
            id: 1,
            record: PredictionRecord {
                result: vec![boxed(0.0, 0.0, 5.0, 5.0, 0.0, "car")],
                ..PredictionRecord::default()
            },
            created_at: 0,
            stored_result: None,
        }],
        ..ExportTask::default()
    };
    let without_image = ExportTask {
        id: 2,
        annotations: vec![annotation(
            vec![boxed(0.0, 0.0, 5.0, 5.0, 0.0, "car")],
            false,
        )],
        ..ExportTask::default()
    };
    // An unknown image size falls back to the size the result was drawn on.
    let unknown_size = ExportTask {
        id: 3,
        image: Some(ImageInfo {
            file_name: "b.jpg".to_owned(),
            width: 0,
            height: 0,
        }),
        annotations: vec![annotation(
            vec![boxed(25.0, 25.0, 50.0, 50.0, 0.0, "car")],
            false,
        )],
        ..ExportTask::default()
    };
    let (text, summary) = write_coco(
        &[first, without_image, unknown_size],
        &["car", "person", "dog"],
    );
    let golden = String::from_utf8(data_file("coco_export_expected.json")).unwrap();
    assert_eq!(text, golden);
    assert_eq!(
        summary,
        CocoSummary {
            images: 2,
            annotations: 4,
            skipped: 2
        }
    );
    let keys = [
        "\"info\"",
        "\"licenses\"",
        "\"categories\"",
        "\"images\"",
        "\"annotations\"",
    ];
    let positions: Vec<usize> = keys.iter().map(|key| text.find(key).unwrap()).collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]));
}

#[test]
fn rotated_box_corners() {
    let task = ExportTask {
        id: 9,
        image: Some(ImageInfo {
            file_name: "r.png".to_owned(),
            width: 1000,
            height: 1000,
        }),
        annotations: vec![annotation(
            vec![boxed(10.0, 20.0, 20.0, 10.0, 30.0, "car")],
            false,
        )],
        ..ExportTask::default()
    };
    let (text, _) = write_coco(&[task], &["car"]);
    let coco: Value = serde_json::from_str(&text).unwrap();
    let annotation = &coco["annotations"][0];
    let numbers = |value: &Value| -> Vec<f64> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_f64().unwrap())
            .collect()
    };
    // Top-left (100, 200), 200×100 px, turned 30° clockwise about it.
    let (sin, cos) = (0.5, 3f64.sqrt() / 2.0);
    let expected = [
        100.0,
        200.0,
        100.0 + 200.0 * cos,
        200.0 + 200.0 * sin,
        100.0 + 200.0 * cos - 100.0 * sin,
        200.0 + 200.0 * sin + 100.0 * cos,
        100.0 - 100.0 * sin,
        200.0 + 100.0 * cos,
    ];
    let corners = numbers(&annotation["segmentation"][0]);
    for (got, want) in corners.iter().zip(expected) {
        assert!((got - want).abs() < 1e-6, "{corners:?}");
    }
    let bbox = numbers(&annotation["bbox"]);
    let want = [50.0, 200.0, 200.0 * cos + 50.0, 100.0 + 100.0 * cos];
    for (got, want) in bbox.iter().zip(want) {
        assert!((got - want).abs() < 1e-6, "{bbox:?}");
    }
    assert_eq!(annotation["area"], json!(20000));
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_f64().unwrap())
        .collect()
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
    }
}

#[test]
fn coco_round_trip_keeps_pixel_geometry() {
    let input: Value = serde_json::from_slice(&data_file("coco_small.json")).unwrap();
    let (tasks, _) = read_small(&both_controls());
    let size_of = |image_id: i64| {
        let image = input["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|image| image["id"] == json!(image_id))
            .unwrap();
        (
            image["width"].as_u64().unwrap() as u32,
            image["height"].as_u64().unwrap() as u32,
        )
    };
    let export: Vec<ExportTask> = tasks
        .iter()
        .map(|task| {
            let id = task.meta["coco_image_id"].as_i64().unwrap();
            let (width, height) = size_of(id);
            ExportTask {
                id,
                image: Some(ImageInfo {
                    file_name: task.data["image"].as_str().unwrap().to_owned(),
                    width,
                    height,
                }),
                annotations: task
                    .annotations
                    .iter()
                    .map(|record| ExportAnnotation {
                        id: 1,
                        record: record.clone(),
                        stored_result: None,
                    })
                    .collect(),
                ..ExportTask::default()
            }
        })
        .collect();
    let (text, summary) = write_coco(&export, &["car", "person", "dog"]);
    assert_eq!((summary.images, summary.skipped), (4, 0));
    let output: Value = serde_json::from_str(&text).unwrap();
    let images = output["images"].as_array().unwrap();
    assert_eq!(
        images[1],
        json!({"id": 11, "file_name": "park.jpg", "width": 800, "height": 400})
    );

    let written = output["annotations"].as_array().unwrap();
    let original = |id: u64| {
        input["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|annotation| annotation["id"] == json!(id))
            .unwrap()
    };
    // Each input annotation, in output order: (annotation id, first ring
    // compared by segmentation, or None for a box compared by bbox). The
    // two rings of annotation 3 come back as one annotation.
    let expected: [(u64, Option<usize>); 6] = [
        (1, None),
        (2, Some(0)),
        (3, Some(0)),
        (4, None),
        (7, None),
        (8, Some(0)),
    ];
    assert_eq!(written.len(), expected.len());
    for (output, (id, ring)) in written.iter().zip(expected) {
        let source = original(id);
        assert_eq!(output["image_id"], source["image_id"]);
        assert_eq!(output["category_id"], source["category_id"]);
        match ring {
            None => assert_close(&numbers(&output["bbox"]), &numbers(&source["bbox"])),
            Some(ring) => assert_close(
                &numbers(&output["segmentation"][0]),
                &numbers(&source["segmentation"][ring]),
            ),
        }
    }
    // A one-ring polygon's bbox is its bounds, which the input bbox is too.
    assert_close(
        &numbers(&written[1]["bbox"]),
        &numbers(&original(2)["bbox"]),
    );
    assert_close(
        &numbers(&written[5]["bbox"]),
        &numbers(&original(8)["bbox"]),
    );
    // Both rings of annotation 3, in one annotation with the union's bounds.
    assert_close(
        &numbers(&written[2]["segmentation"][1]),
        &numbers(&original(3)["segmentation"][1]),
    );
    assert_eq!(written[2]["segmentation"].as_array().unwrap().len(), 2);
}

const PERSON_KEYPOINTS: &str = r#"{
  "images": [{"id": 3, "file_name": "walk.png", "width": 200, "height": 100}],
  "categories": [{"id": 1, "name": "person", "keypoints": ["nose", "left_eye", "right_eye"],
                  "skeleton": [[1, 2], [1, 3]]}],
  "annotations": [
    {"id": 8, "image_id": 3, "category_id": 1, "bbox": [10, 10, 50, 50], "area": 2500,
     "num_keypoints": 2, "keypoints": [20, 30, 2, 0, 0, 0, 40, 50.5, 1], "iscrowd": 0},
    {"id": 9, "image_id": 3, "category_id": 1, "bbox": [100, 10, 50, 50], "area": 2500,
     "num_keypoints": 1, "keypoints": [120, 30, 2, 0, 0, 0, 0, 0, 0], "iscrowd": 0}
  ]
}"#;

fn pose_options() -> CocoImportOptions {
    CocoImportOptions {
        image_field: "image".to_owned(),
        rectangles: None,
        polygons: None,
        masks: None,
        keypoints: vec![KeypointControl {
            control: control("pose").unwrap(),
            skeleton: Some("person".to_owned()),
            joints: vec!["nose".into(), "left_eye".into(), "right_eye".into()],
        }],
    }
}

fn pose_category() -> ExportCategory {
    ExportCategory {
        name: "person".to_owned(),
        keypoints: Some(KeypointCategory {
            control: "pose".to_owned(),
            joints: vec!["nose".into(), "left_eye".into(), "right_eye".into()],
            edges: vec![
                ["nose".into(), "left_eye".into()],
                ["nose".into(), "right_eye".into()],
            ],
        }),
    }
}

#[test]
fn coco_keypoints_import_as_points_of_one_instance() {
    let (tasks, rejections) = read_text(PERSON_KEYPOINTS, &pose_options()).unwrap();
    assert!(rejections.is_empty(), "{rejections:?}");
    let results = &tasks[0].annotations[0].result;
    // Absent joints (v = 0) have no result; the boxes have no control.
    assert_eq!(results.len(), 3);
    let json: Vec<Value> = results
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    assert_eq!(json[0]["parentID"], json!("coco-8"));
    assert_eq!(json[0]["from_name"], json!("pose"));
    assert_eq!(
        json[0]["value"],
        json!({"x": 10, "y": 30, "keypointlabels": ["nose"]})
    );
    assert_eq!(
        json[1]["value"],
        json!({"x": 20, "y": 50.5, "visibility": "occluded", "keypointlabels": ["right_eye"]})
    );
    assert_eq!(json[2]["parentID"], json!("coco-9"));
    assert_ne!(json[0]["id"], json[1]["id"]);
}

#[test]
fn bad_coco_keypoints_reject_their_image() {
    let cases = [
        (
            r#"[20, 30, 2]"#,
            "annotations[0].keypoints",
            "must be 9 numbers",
        ),
        (
            r#"[20, 30, 3, 0, 0, 0, 0, 0, 0]"#,
            "annotations[0].keypoints[2]",
            "is 3; a keypoint's v",
        ),
        (r#""nose""#, "annotations[0].keypoints", "must be 9 numbers"),
    ];
    for (keypoints, field, reason) in cases {
        let text = PERSON_KEYPOINTS.replace("[20, 30, 2, 0, 0, 0, 40, 50.5, 1]", keypoints);
        let (tasks, rejections) = read_text(&text, &pose_options()).unwrap();
        assert!(tasks.is_empty(), "{keypoints}");
        assert_eq!(rejections[0].field, field, "{keypoints}");
        assert!(
            rejections[0].reason.contains(reason),
            "{}",
            rejections[0].reason
        );
    }
    let options = CocoImportOptions {
        keypoints: Vec::new(),
        ..pose_options()
    };
    let (_, rejections) = read_text(PERSON_KEYPOINTS, &options).unwrap();
    assert!(rejections[0].reason.contains("no KeyPointLabels control"));
    let mut options = pose_options();
    options.keypoints[0].joints.pop();
    let (_, rejections) = read_text(PERSON_KEYPOINTS, &options).unwrap();
    assert!(
        rejections[0]
            .reason
            .contains("\"right_eye\" is not a label"),
        "{}",
        rejections[0].reason
    );
}

#[test]
fn coco_keypoints_round_trip_to_the_same_numbers() {
    let (tasks, _) = read_text(PERSON_KEYPOINTS, &pose_options()).unwrap();
    let export = ExportTask {
        id: 3,
        image: Some(ImageInfo {
            file_name: "walk.png".to_owned(),
            width: 200,
            height: 100,
        }),
        annotations: vec![ExportAnnotation {
            id: 1,
            record: tasks[0].annotations[0].clone(),
            stored_result: None,
        }],
        ..ExportTask::default()
    };
    let (text, summary) = write_coco_categories(&[export], &[pose_category()]);
    assert_eq!((summary.annotations, summary.skipped), (2, 0));
    let output: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        output["categories"][0],
        json!({"id": 1, "name": "person", "supercategory": "",
               "keypoints": ["nose", "left_eye", "right_eye"], "skeleton": [[1, 2], [1, 3]]})
    );
    let first = &output["annotations"][0];
    assert_eq!(first["keypoints"], json!([20, 30, 2, 0, 0, 0, 40, 50.5, 1]));
    assert_eq!(first["num_keypoints"], json!(2));
    assert_eq!(first["bbox"], json!([20, 30, 20, 20.5]));
    assert_eq!(first["segmentation"], json!([]));
    assert_eq!(
        output["annotations"][1]["keypoints"],
        json!([120, 30, 2, 0, 0, 0, 0, 0, 0])
    );
}

#[test]
fn ellipses_export_as_polygons_with_their_true_area() {
    let ellipse = result(ResultValue::EllipseLabels(gloss_types::result::Labeled {
        shape: gloss_types::result::EllipseValue {
            x: 50.0,
            y: 50.0,
            radius_x: 10.0,
            radius_y: 20.0,
            rotation: None,
            extra: Map::new(),
        },
        labels: vec!["eye".to_owned()],
    }));
    let task = ExportTask {
        id: 1,
        image: Some(ImageInfo {
            file_name: "face.png".to_owned(),
            width: 400,
            height: 200,
        }),
        annotations: vec![annotation(vec![ellipse], false)],
        ..ExportTask::default()
    };
    let (text, _) = write_coco(&[task], &["eye"]);
    let output: Value = serde_json::from_str(&text).unwrap();
    let written = &output["annotations"][0];
    // Centre (200, 100), radii 40 and 40 pixels.
    assert_close(&numbers(&written["bbox"]), &[160.0, 60.0, 80.0, 80.0]);
    let area = written["area"].as_f64().unwrap();
    assert!(
        (area - std::f64::consts::PI * 1600.0).abs() < 1e-3,
        "{area}"
    );
    assert_eq!(written["segmentation"][0].as_array().unwrap().len(), 144);
}

#[test]
fn rle_masks_import_as_brushes_and_export_as_the_same_rle() {
    // A 4 × 3 image; pycocotools' counts run down columns from a zero run.
    let text = r#"{
      "images": [{"id": 1, "file_name": "m.png", "width": 4, "height": 3}],
      "categories": [{"id": 5, "name": "road"}],
      "annotations": [
        {"id": 2, "image_id": 1, "category_id": 5, "iscrowd": 1, "bbox": [1, 1, 2, 1], "area": 2,
         "segmentation": {"size": [3, 4], "counts": [4, 1, 2, 1, 4]}}
      ]}"#;
    let options = CocoImportOptions {
        masks: control("mask"),
        ..both_controls()
    };
    let (tasks, rejections) = read_text(text, &options).unwrap();
    assert!(rejections.is_empty(), "{rejections:?}");
    let result = &tasks[0].annotations[0].result[0];
    let json = serde_json::to_value(result).unwrap();
    assert_eq!(
        json["value"],
        json!({"format": "coco_rle", "counts": "41202", "brushlabels": ["road"]})
    );
    assert_eq!(
        (
            json["original_width"].clone(),
            json["original_height"].clone()
        ),
        (json!(4), json!(3))
    );

    let export = ExportTask {
        id: 1,
        image: Some(ImageInfo {
            file_name: "m.png".to_owned(),
            width: 4,
            height: 3,
        }),
        annotations: vec![annotation(tasks[0].annotations[0].result.clone(), false)],
        ..ExportTask::default()
    };
    let (text, summary) = write_coco(&[export], &["road"]);
    assert_eq!((summary.annotations, summary.skipped), (1, 0));
    let output: Value = serde_json::from_str(&text).unwrap();
    let written = &output["annotations"][0];
    assert_eq!(
        written["segmentation"],
        json!({"size": [3, 4], "counts": "41202"})
    );
    assert_eq!(written["bbox"], json!([1, 1, 2, 1]));
    assert_eq!(written["area"], json!(2));

    // A mask of another size than its image is refused by field.
    let wrong = r#"{"images": [{"id": 1, "file_name": "m.png", "width": 4, "height": 3}],
        "categories": [{"id": 5, "name": "road"}],
        "annotations": [{"id": 2, "image_id": 1, "category_id": 5, "bbox": [0, 0, 1, 1],
                         "segmentation": {"size": [4, 4], "counts": "0"}}]}"#;
    let (_, rejections) = read_text(wrong, &options).unwrap();
    assert_eq!(rejections[0].field, "annotations[0].segmentation.size");
    assert!(
        rejections[0].reason.contains("but the image is 4 × 3"),
        "{}",
        rejections[0].reason
    );
}

#[test]
fn datumaros_coco_export_imports_with_its_boxes_and_polygons() {
    let mut tasks = Vec::new();
    for subset in ["train", "val"] {
        let path = dataset_support::data_dir("datumaro_coco")
            .join(format!("annotations/instances_{subset}.json"));
        let (read, rejections) =
            read_coco(&std::fs::read(path).unwrap()[..], &both_controls()).unwrap();
        assert_eq!(rejections, []);
        tasks.extend(read);
    }
    let worst = dataset_support::compare_with_expected(
        "datumaro_coco",
        &dataset_support::expected_json("datumaro_coco"),
        &tasks,
        |task| {
            let image = task.data["image"].as_str().unwrap();
            gloss_formats::file_stem(image.rsplit('/').next().unwrap()).to_owned()
        },
    );
    eprintln!("largest difference from datumaro: {worst} px");
}
