//! Label Studio exports: read, write back, read again.

mod common;

use common::{data_file, export_task, read_ok};
use gloss_formats::{
    ExportAnnotation, ExportPrediction, ExportTask, InputFormat, LabelStudioWriter,
    PredictionRecord, StoredResult, TaskRecord,
};
use gloss_types::result::{ResultItem, ResultValue};
use serde_json::{json, Value};

fn golden() -> Vec<TaskRecord> {
    read_ok(
        InputFormat::LabelStudio,
        &data_file("label_studio_export.json"),
    )
}

fn write_all(tasks: &[ExportTask]) -> Vec<u8> {
    let mut writer = LabelStudioWriter::new(Vec::new()).unwrap();
    for task in tasks {
        writer.write_task(task).unwrap();
    }
    writer.finish().unwrap()
}

/// Task ids in the golden file, which its annotations' `task` keys repeat.
const TASK_IDS: [i64; 3] = [101, 102, 103];

fn export_all(records: &[TaskRecord]) -> Vec<ExportTask> {
    records
        .iter()
        .zip(TASK_IDS)
        .map(|(record, id)| export_task(id, 7, record))
        .collect()
}

#[test]
fn golden_export_reads_with_its_values() {
    let tasks = golden();
    assert_eq!(tasks.len(), 3);

    let street = &tasks[0];
    assert_eq!(
        street.data["image"],
        json!("/data/upload/7/5f1c2a9e-street.jpg")
    );
    assert_eq!(street.data["camera"], json!("north-gate"));
    assert!(street.meta.is_empty());
    assert_eq!(street.annotations.len(), 2);

    let accepted = &street.annotations[0];
    assert_eq!(accepted.completed_by, Some(json!(3)));
    assert_eq!(accepted.lead_time, Some(42.718));
    assert!(accepted.ground_truth);
    assert!(!accepted.was_cancelled);
    // 2024-05-01T10:20:30.123456Z, microseconds dropped.
    assert_eq!(accepted.created_at, Some(1_714_558_830_123));
    assert_eq!(accepted.updated_at, Some(1_714_559_101_987));
    assert_eq!(accepted.extra["id"], json!(201));
    assert_eq!(accepted.extra["parent_prediction"], json!(301));
    assert_eq!(accepted.extra["history"], json!([]));
    assert_eq!(
        accepted.extra["draft_created_at"],
        json!("2024-05-01T10:19:00.000001Z")
    );
    assert_eq!(accepted.result.len(), 5);

    let car = &accepted.result[0];
    assert_eq!(car.id.as_deref(), Some("Xq1d9Bv2Lm"));
    assert_eq!(
        (car.original_width, car.original_height),
        (Some(1280), Some(720))
    );
    let ResultValue::RectangleLabels(car_box) = &car.value else {
        panic!("a box: {:?}", car.value)
    };
    assert_eq!(car_box.x, 12.34375);
    assert_eq!(car_box.rotation, Some(15.5));
    assert_eq!(car_box.rectanglelabels, ["Car"]);

    let plate = &accepted.result[1];
    assert_eq!(plate.parent_id.as_deref(), Some("Xq1d9Bv2Lm"));
    assert!(matches!(&plate.value, ResultValue::TextArea(v) if v.text == ["KA-4711"]));

    let ResultValue::PolygonLabels(walker) = &accepted.result[2].value else {
        panic!("a polygon")
    };
    assert_eq!(walker.points.len(), 4);
    assert_eq!(walker.points[0], [55.46875, 60.27777777777778]);
    assert_eq!(walker.closed, Some(true));
    assert!(
        matches!(&accepted.result[3].value, ResultValue::Choices(v) if v.choices == ["Daytime", "Urban"])
    );

    let cancelled = &street.annotations[1];
    assert!(cancelled.was_cancelled);
    assert!(!cancelled.ground_truth);
    assert_eq!(
        cancelled.completed_by.as_ref().unwrap()["email"],
        json!("ana@example.org")
    );
    assert_eq!(cancelled.created_at, Some(1_714_636_800_000));

    let prediction = &street.predictions[0];
    assert_eq!(prediction.model_version.as_deref(), Some("yolo-v8-2024-04"));
    assert_eq!(prediction.score, Some(0.87));
    assert_eq!(prediction.result[0].extra["score"], json!(0.91));
    assert_eq!(prediction.extra["mislabeling"], json!(0));

    let draft = &street.drafts[0];
    assert_eq!(draft.user, Some(json!("bo@example.org")));
    assert_eq!(draft.lead_time, Some(12.5));
    assert_eq!(draft.created_at, Some(1_714_737_600_250));
    assert_eq!(draft.result[0].image_rotation, Some(90.0));
    assert_eq!(draft.extra["created_ago"], json!("2 hours, 5 minutes"));

    let text = &tasks[1];
    assert_eq!(text.meta["priority"], json!(2));
    assert_eq!(text.data["source"], json!({"site": "news", "n": 12}));
    let spans: Vec<_> = text.annotations[0]
        .result
        .iter()
        .filter_map(|item| match &item.value {
            ResultValue::Labels(span) => Some((span.start, span.end, span.labels[0].as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(spans, [(0, 12, "Person"), (28, 34, "Location")]);
    assert!(matches!(
        &text.annotations[0].result[3].value,
        ResultValue::Rating(rating) if rating.rating > 0.0
    ));
    assert_eq!(text.predictions[0].model_version.as_deref(), Some(""));
    assert_eq!(text.predictions[0].score, None);

    assert!(tasks[2].annotations.is_empty());
    assert_eq!(
        tasks[2].predictions[0].model_version.as_deref(),
        Some("sam-2.1")
    );
}

/// Prediction times live in `extra` verbatim; the writer writes them from
/// the stored millisecond time, so finer digits are dropped.
fn with_millisecond_prediction_times(mut tasks: Vec<TaskRecord>) -> Vec<TaskRecord> {
    let normalized = |text: &str| -> String {
        let moment =
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .unwrap();
        let millis = moment.unix_timestamp_nanos() / 1_000_000;
        let moment = time::OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).unwrap();
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        moment.format(&format).unwrap()
    };
    for prediction in tasks.iter_mut().flat_map(|task| &mut task.predictions) {
        if let Some(Value::String(text)) = prediction.extra.get_mut("created_at") {
            *text = normalized(text);
        }
    }
    tasks
}

#[test]
fn golden_export_survives_a_round_trip() {
    let first = golden();
    let written = write_all(&export_all(&first));
    let second = read_ok(InputFormat::LabelStudio, &written);
    assert_eq!(second, with_millisecond_prediction_times(first));

    // Written again, the bytes no longer change.
    let again = write_all(&export_all(&second));
    assert_eq!(
        String::from_utf8(again).unwrap(),
        String::from_utf8(written).unwrap()
    );
}

/// Results as the importer stores them (serialized `ResultItem`s), read
/// back and serialized again, are the same bytes: what lets the writer copy
/// stored results (`StoredResult`) instead of parsing them.
#[test]
fn stored_results_are_written_as_parsing_would_write_them() {
    let mut results = Vec::new();
    for task in golden() {
        results.extend(task.annotations.into_iter().map(|a| a.result));
        results.extend(task.predictions.into_iter().map(|p| p.result));
        results.extend(task.drafts.into_iter().map(|d| d.result));
    }
    // Every kind of value, whole and fractional numbers, extra keys and
    // values Gloss does not read.
    let odd: Vec<ResultItem> = serde_json::from_value(json!([
        {"id": "r", "from_name": "box", "to_name": "img", "type": "rectanglelabels",
         "original_width": 640, "original_height": 480, "image_rotation": 0,
         "value": {"x": 10.0, "y": 2.5e-7, "width": 1e21, "height": -0.0, "rotation": 90,
                   "rectanglelabels": ["Car"], "extra": {"b": 1, "a": [1.5, null]}}},
        {"from_name": "box", "to_name": "img", "type": "rectangle",
         "value": {"x": 1, "y": 2, "width": 3, "height": 4}},
        {"id": "p", "from_name": "poly", "to_name": "img", "type": "polygonlabels",
         "value": {"points": [[1, 2.25], [3.0, 4], [5, 6]], "closed": true,
                   "polygonlabels": ["Person"]}},
        {"from_name": "poly", "to_name": "img", "type": "polygon",
         "value": {"points": [[0, 0], [1, 1], [2, 0]]}},
        {"from_name": "c", "to_name": "img", "type": "choices", "value": {"choices": ["A", "B"]}},
        {"from_name": "l", "to_name": "txt", "type": "labels",
         "value": {"start": 0, "end": 5, "text": "h\u{e9}llo \"x\"", "labels": ["X"]}},
        {"from_name": "t", "to_name": "txt", "type": "textarea", "value": {"text": ["a\nb"]}},
        {"from_name": "k", "to_name": "img", "type": "keypointlabels",
         "value": {"x": 1.5, "y": 2, "keypointlabels": ["Eye"]}, "score": 0.9},
        {"from_name": "box", "to_name": "img", "type": "rectanglelabels",
         "value": {"x": "not a number", "rectanglelabels": ["Car"]}}
    ]))
    .unwrap();
    results.push(odd);
    assert!(results.len() > 5);
    for result in results {
        let stored = serde_json::to_string(&result).unwrap();
        let read_back: Vec<ResultItem> = serde_json::from_str(&stored).unwrap();
        assert_eq!(serde_json::to_string(&read_back).unwrap(), stored);
    }
}

/// A stored result is written as it is.
#[test]
fn stored_results_are_copied() {
    let stored =
        r#"[{"from_name":"c","to_name":"img","type":"choices","value":{"choices":["A"]}}]"#;
    let task = ExportTask {
        id: 1,
        annotations: vec![ExportAnnotation {
            id: 2,
            stored_result: Some(StoredResult(stored.to_owned())),
            ..ExportAnnotation::default()
        }],
        predictions: vec![ExportPrediction {
            id: 3,
            stored_result: Some(StoredResult(stored.to_owned())),
            ..ExportPrediction::default()
        }],
        ..ExportTask::default()
    };
    let text = String::from_utf8(write_all(&[task])).unwrap();
    assert_eq!(text.matches(&format!(r#""result":{stored},"#)).count(), 2);

    let broken = ExportTask {
        annotations: vec![ExportAnnotation {
            stored_result: Some(StoredResult("[{".to_owned())),
            ..ExportAnnotation::default()
        }],
        ..ExportTask::default()
    };
    let mut writer = LabelStudioWriter::new(Vec::new()).unwrap();
    assert!(writer.write_task(&broken).is_err());
}

#[test]
fn written_json_has_label_studio_keys_in_order() {
    let first = golden();
    let written = write_all(&export_all(&first));
    let tasks: Value = serde_json::from_slice(&written).unwrap();
    let task = &tasks[0];
    assert_eq!(task["id"], json!(101));
    assert_eq!(task["project"], json!(7));
    assert_eq!(task["created_at"], json!("2024-04-20T07:30:00.000Z"));
    let annotation = &task["annotations"][0];
    assert_eq!(annotation["id"], json!(201));
    assert_eq!(annotation["task"], json!(101));
    assert_eq!(annotation["created_at"], json!("2024-05-01T10:20:30.123Z"));
    assert_eq!(annotation["lead_time"], json!(42.718));
    assert_eq!(
        task["predictions"][0]["created_at"],
        json!("2024-04-24T09:00:00.654Z")
    );
    assert_eq!(task["drafts"][0]["id"], json!(401));

    // serde_json's `Value` sorts keys, so check the order in the text.
    let text = String::from_utf8(written).unwrap();
    let first_line = text.lines().nth(1).unwrap();
    let position = |key: &str| {
        first_line
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} missing"))
    };
    let task_keys = ["id", "data", "annotations", "predictions", "drafts", "meta"];
    let positions: Vec<usize> = task_keys.iter().map(|key| position(key)).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{positions:?}"
    );
    assert!(text.starts_with("[\n{\"id\":101,\"data\":"));
    assert!(text.ends_with("}\n]\n"));
}

#[test]
fn minimal_task_is_written_exactly() {
    let task = ExportTask {
        id: 5,
        project_id: 2,
        data: json!({"text": "hi"}).as_object().unwrap().clone(),
        created_at: 0,
        updated_at: 1_500,
        annotations: vec![ExportAnnotation {
            id: 9,
            record: Default::default(),
            stored_result: None,
        }],
        predictions: vec![ExportPrediction {
            id: 4,
            record: PredictionRecord::default(),
            created_at: 86_400_000,
            stored_result: None,
        }],
        ..ExportTask::default()
    };
    let text = String::from_utf8(write_all(&[task])).unwrap();
    let expected = concat!(
        "[\n",
        r#"{"id":5,"data":{"text":"hi"},"#,
        r#""annotations":[{"id":9,"completed_by":null,"result":[],"was_cancelled":false,"ground_truth":false,"created_at":null,"updated_at":null,"lead_time":null,"task":5,"project":2}],"#,
        r#""predictions":[{"id":4,"model_version":"","score":null,"result":[],"created_at":"1970-01-02T00:00:00.000Z","task":5,"project":2}],"#,
        r#""drafts":[],"meta":{},"created_at":"1970-01-01T00:00:00.000Z","updated_at":"1970-01-01T00:00:01.500Z","project":2}"#,
        "\n]\n"
    );
    assert_eq!(text, expected);
}

#[test]
fn empty_export_is_an_empty_array() {
    let written = write_all(&[]);
    assert_eq!(
        serde_json::from_slice::<Value>(&written).unwrap(),
        json!([])
    );
}

#[test]
fn extra_keys_do_not_repeat_written_ones() {
    let mut record = golden().remove(0);
    // An old id from another instance must not shadow the stored one.
    record.annotations[0]
        .extra
        .insert("id".into(), json!(999_999));
    record.annotations[0]
        .extra
        .insert("project".into(), json!(1));
    let mut task = export_task(101, 7, &record);
    task.annotations[0].id = 201;
    let written = write_all(&[task]);
    let text = String::from_utf8(written.clone()).unwrap();
    assert!(!text.contains("999999"));
    assert_eq!(text.matches("\"project\":1,").count(), 0);
    let tasks: Value = serde_json::from_slice(&written).unwrap();
    assert_eq!(tasks[0]["annotations"][0]["id"], json!(201));
    assert_eq!(tasks[0]["annotations"][0]["project"], json!(7));
}
