//! One JSON task (Label Studio's shape or bare data) → [`TaskRecord`].
//!
//! Every check here names the row and the JSON path of the first problem,
//! so a user can find it in their file.

use crate::model::{
    json_kind, AnnotationRecord, DraftRecord, PredictionRecord, Rejection, TaskRecord,
};
use crate::timestamp::parse_millis;
use gloss_types::result::{ResultItem, ResultValue};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Which task shapes a reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskShape {
    /// Label Studio's `{"data": {...}, "annotations": [...]}` or, when there
    /// is no `data` object, the element itself as the data.
    LabelStudioOrBare,
    /// Only Label Studio's shape.
    LabelStudio,
}

/// Turns one element of a task file into a task, or says why it is not one.
pub(crate) fn task_from_json(
    element: Value,
    row: u64,
    shape: TaskShape,
) -> Result<TaskRecord, Rejection> {
    let Value::Object(mut task) = element else {
        return Err(Rejection::new(row, "", "a task must be a JSON object"));
    };
    let data = match task.remove("data") {
        Some(Value::Object(data)) => data,
        not_an_object => {
            if let Some(value) = not_an_object {
                // A `data` key that is not an object is just a data field.
                task.insert("data".to_owned(), value);
            }
            return match shape {
                TaskShape::LabelStudioOrBare => Ok(TaskRecord {
                    data: task,
                    ..TaskRecord::default()
                }),
                TaskShape::LabelStudio => Err(Rejection::new(
                    row,
                    "data",
                    "a Label Studio task needs a \"data\" object",
                )),
            };
        }
    };
    let fields = Fields { row };

    let meta = match task.remove("meta") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(meta)) => meta,
        Some(other) => return Err(fields.wrong_type("meta", "an object", &other)),
    };
    // `completions` is what Label Studio called annotations before 1.0; its
    // importer still accepts it, so old exports keep working.
    let (annotations_key, annotations) = match task.remove("annotations") {
        Some(list) => ("annotations", Some(list)),
        None => ("completions", task.remove("completions")),
    };
    let annotations = fields.list(annotations_key, annotations, |path, value| {
        fields.annotation(path, value)
    })?;
    let predictions = fields.list("predictions", task.remove("predictions"), |path, value| {
        fields.prediction(path, value)
    })?;
    let drafts = fields.list("drafts", task.remove("drafts"), |path, value| {
        fields.draft(path, value)
    })?;
    // Other task-level keys (`id`, `created_at`, `inner_id`, `project`,
    // counters, …) belong to the exporting instance and are not kept.
    Ok(TaskRecord {
        data,
        meta,
        annotations,
        predictions,
        drafts,
    })
}

/// Reads typed fields out of one row, naming problems by their path.
struct Fields {
    row: u64,
}

impl Fields {
    fn reject(&self, path: impl Into<String>, reason: impl Into<String>) -> Rejection {
        Rejection::new(self.row, path, reason)
    }

    fn wrong_type(&self, path: impl Into<String>, expected: &str, found: &Value) -> Rejection {
        self.reject(
            path,
            format!("must be {expected}, found {}", json_kind(found)),
        )
    }

    /// A list such as `annotations`: absent or null is empty; each element
    /// is read by `read_one` with its path, e.g. `annotations[2]`.
    fn list<T>(
        &self,
        key: &str,
        value: Option<Value>,
        mut read_one: impl FnMut(String, Value) -> Result<T, Rejection>,
    ) -> Result<Vec<T>, Rejection> {
        match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| read_one(format!("{key}[{index}]"), item))
                .collect(),
            Some(other) => Err(self.wrong_type(key, "an array", &other)),
        }
    }

    fn object(&self, path: &str, value: Value) -> Result<Map<String, Value>, Rejection> {
        match value {
            Value::Object(map) => Ok(map),
            other => Err(self.wrong_type(path, "an object", &other)),
        }
    }

    fn annotation(&self, path: String, value: Value) -> Result<AnnotationRecord, Rejection> {
        let mut map = self.object(&path, value)?;
        Ok(AnnotationRecord {
            result: self.results(&path, map.remove("result"))?,
            completed_by: not_null(map.remove("completed_by")),
            lead_time: self.number(&path, "lead_time", map.remove("lead_time"))?,
            was_cancelled: self.flag(&path, "was_cancelled", map.remove("was_cancelled"))?,
            ground_truth: self.flag(&path, "ground_truth", map.remove("ground_truth"))?,
            created_at: self.time(&path, "created_at", map.remove("created_at"))?,
            updated_at: self.time(&path, "updated_at", map.remove("updated_at"))?,
            extra: map,
        })
    }

    fn prediction(&self, path: String, value: Value) -> Result<PredictionRecord, Rejection> {
        let mut map = self.object(&path, value)?;
        let model_version = match map.remove("model_version") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text),
            // Label Studio's API takes any JSON here, and some scripts send
            // numbers such as `3`; the version is a name either way.
            Some(Value::Number(number)) => Some(number.to_string()),
            Some(other) => {
                return Err(self.wrong_type(format!("{path}.model_version"), "a string", &other))
            }
        };
        Ok(PredictionRecord {
            result: self.results(&path, map.remove("result"))?,
            model_version,
            score: self.number(&path, "score", map.remove("score"))?,
            extra: map,
        })
    }

    fn draft(&self, path: String, value: Value) -> Result<DraftRecord, Rejection> {
        let mut map = self.object(&path, value)?;
        Ok(DraftRecord {
            result: self.results(&path, map.remove("result"))?,
            user: not_null(map.remove("user")),
            lead_time: self.number(&path, "lead_time", map.remove("lead_time"))?,
            created_at: self.time(&path, "created_at", map.remove("created_at"))?,
            updated_at: self.time(&path, "updated_at", map.remove("updated_at"))?,
            extra: map,
        })
    }

    fn number(
        &self,
        path: &str,
        key: &str,
        value: Option<Value>,
    ) -> Result<Option<f64>, Rejection> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) => Ok(number.as_f64()),
            Some(other) => Err(self.wrong_type(format!("{path}.{key}"), "a number", &other)),
        }
    }

    fn flag(&self, path: &str, key: &str, value: Option<Value>) -> Result<bool, Rejection> {
        match value {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(flag)) => Ok(flag),
            Some(other) => Err(self.wrong_type(format!("{path}.{key}"), "true or false", &other)),
        }
    }

    fn time(&self, path: &str, key: &str, value: Option<Value>) -> Result<Option<i64>, Rejection> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => parse_millis(&text).map(Some).ok_or_else(|| {
                self.reject(
                    format!("{path}.{key}"),
                    format!("{text:?} is not an RFC 3339 date-time such as 2024-05-01T10:20:30Z"),
                )
            }),
            Some(other) => Err(self.wrong_type(
                format!("{path}.{key}"),
                "an RFC 3339 date-time string",
                &other,
            )),
        }
    }

    /// The `result` list of an annotation, prediction or draft.
    fn results(&self, owner: &str, value: Option<Value>) -> Result<Vec<ResultItem>, Rejection> {
        let path = format!("{owner}.result");
        match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| self.result_item(&format!("{path}[{index}]"), item))
                .collect(),
            Some(other) => Err(self.wrong_type(path, "an array of results", &other)),
        }
    }

    fn result_item(&self, path: &str, value: Value) -> Result<ResultItem, Rejection> {
        let map = self.object(path, value)?;
        // A relation (Label Studio's `Relations`) names its two regions
        // instead of a control and a value.
        if map.get("type").and_then(Value::as_str) == Some("relation") {
            for key in ["from_id", "to_id"] {
                match map.get(key) {
                    Some(Value::String(_)) => {}
                    None => return Err(self.reject(format!("{path}.{key}"), "is missing")),
                    Some(other) => {
                        return Err(self.wrong_type(format!("{path}.{key}"), "a string", other))
                    }
                }
            }
            return ResultItem::deserialize(Value::Object(map))
                .map_err(|error| self.reject(path, error.to_string()));
        }
        for key in ["from_name", "to_name", "type"] {
            match map.get(key) {
                Some(Value::String(_)) => {}
                None => return Err(self.reject(format!("{path}.{key}"), "is missing")),
                Some(other) => {
                    return Err(self.wrong_type(format!("{path}.{key}"), "a string", other))
                }
            }
        }
        match map.get("value") {
            Some(Value::Object(_)) => {}
            None => return Err(self.reject(format!("{path}.value"), "is missing")),
            Some(other) => {
                return Err(self.wrong_type(format!("{path}.value"), "an object", other))
            }
        }
        let item = ResultItem::deserialize(Value::Object(map))
            .map_err(|error| self.reject(path, error.to_string()))?;
        if let ResultValue::Other { type_name, value } = &item.value {
            if let Some((key, reason)) = shape_problem(type_name, value) {
                return Err(self.reject(format!("{path}.value{key}"), reason));
            }
        }
        Ok(item)
    }
}

/// Absent and `null` both mean "not given".
fn not_null(value: Option<Value>) -> Option<Value> {
    value.filter(|value| !value.is_null())
}

/// Why the `value` of an image region result does not have its type's
/// shape, as (`.key` suffix of the path, reason).
///
/// `ResultItem` keeps any malformed value as `ResultValue::Other` so that odd
/// results survive a round trip. For boxes and polygons that would hide a
/// broken region (Label Studio cannot draw it, COCO cannot export it), so the
/// reader rejects them instead. Other types stay lenient: `labels`, for one,
/// legitimately holds float seconds for audio.
fn shape_problem(type_name: &str, value: &Value) -> Option<(String, String)> {
    let (geometry, labels_key): (&[&str], Option<&str>) = match type_name {
        "rectanglelabels" => (&["x", "y", "width", "height"], Some("rectanglelabels")),
        "rectangle" => (&["x", "y", "width", "height"], None),
        "polygonlabels" => (&["points"], Some("polygonlabels")),
        "polygon" => (&["points"], None),
        _ => return None,
    };
    for &key in geometry {
        let reason = match value.get(key) {
            None => Some("is missing".to_owned()),
            Some(points) if key == "points" => points_problem(points),
            Some(Value::Number(_)) => None,
            Some(other) => Some(format!("must be a number, found {}", json_kind(other))),
        };
        if let Some(reason) = reason {
            return Some((format!(".{key}"), reason));
        }
    }
    if let Some(rotation) = value.get("rotation") {
        if !rotation.is_number() && !rotation.is_null() {
            return Some((
                ".rotation".into(),
                format!("must be a number, found {}", json_kind(rotation)),
            ));
        }
    }
    if let Some(key) = labels_key {
        let is_strings = |labels: &Vec<Value>| labels.iter().all(Value::is_string);
        match value.get(key) {
            Some(Value::Array(labels)) if is_strings(labels) => {}
            None => return Some((format!(".{key}"), "is missing".into())),
            Some(_) => return Some((format!(".{key}"), "must be an array of label names".into())),
        }
    }
    if let Some(closed) = value.get("closed") {
        if !closed.is_boolean() {
            return Some((
                ".closed".into(),
                format!("must be true or false, found {}", json_kind(closed)),
            ));
        }
    }
    None
}

fn points_problem(points: &Value) -> Option<String> {
    let Value::Array(points) = points else {
        return Some(format!(
            "must be an array of [x, y] points, found {}",
            json_kind(points)
        ));
    };
    for (index, point) in points.iter().enumerate() {
        let is_pair =
            matches!(point, Value::Array(xy) if xy.len() == 2 && xy.iter().all(Value::is_number));
        if !is_pair {
            return Some(format!("point {index} must be [x, y] with two numbers"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task(value: Value) -> Result<TaskRecord, Rejection> {
        task_from_json(value, 7, TaskShape::LabelStudioOrBare)
    }

    fn rejection(value: Value) -> (String, String) {
        let rejection = task(value).expect_err("must be rejected");
        assert_eq!(rejection.row, 7);
        (rejection.field, rejection.reason)
    }

    fn rect(value: Value) -> Value {
        json!({"from_name": "label", "to_name": "image", "type": "rectanglelabels", "value": value})
    }

    #[test]
    fn bare_object_is_the_data() {
        let record = task(json!({"image": "a.png", "annotations": 3})).unwrap();
        assert_eq!(
            record.data,
            json!({"image": "a.png", "annotations": 3})
                .as_object()
                .unwrap()
                .clone()
        );
        assert!(record.annotations.is_empty());
    }

    #[test]
    fn data_that_is_not_an_object_means_bare_data() {
        let record = task(json!({"data": "text"})).unwrap();
        assert_eq!(record.data.get("data"), Some(&json!("text")));
        let strict = task_from_json(json!({"data": "text"}), 3, TaskShape::LabelStudio);
        assert_eq!(
            strict.unwrap_err(),
            Rejection::new(3, "data", "a Label Studio task needs a \"data\" object")
        );
    }

    #[test]
    fn completions_are_annotations() {
        let record = task(json!({
            "data": {"text": "x"},
            "completions": [{"result": [], "lead_time": 2.5}]
        }))
        .unwrap();
        assert_eq!(record.annotations.len(), 1);
        assert_eq!(record.annotations[0].lead_time, Some(2.5));
        let (field, _) = rejection(json!({"data": {}, "completions": [{"result": {}}]}));
        assert_eq!(field, "completions[0].result");
    }

    #[test]
    fn wrong_types_name_the_field() {
        let cases = [
            (
                json!({"data": {}, "predictions": [{"result": []}, {"result": [], "score": "high"}]}),
                "predictions[1].score",
                "must be a number, found a string",
            ),
            (
                json!({"data": {}, "annotations": [{"result": {"x": 1}}]}),
                "annotations[0].result",
                "must be an array of results, found an object",
            ),
            (
                json!({"data": {}, "annotations": [{"result": [], "was_cancelled": "no"}]}),
                "annotations[0].was_cancelled",
                "must be true or false, found a string",
            ),
            (
                json!({"data": {}, "annotations": [{"result": [], "created_at": "May 1st"}]}),
                "annotations[0].created_at",
                "\"May 1st\" is not an RFC 3339 date-time such as 2024-05-01T10:20:30Z",
            ),
            (
                json!({"data": {}, "annotations": {}}),
                "annotations",
                "must be an array, found an object",
            ),
            (
                json!({"data": {}, "annotations": [7]}),
                "annotations[0]",
                "must be an object, found a number",
            ),
            (
                json!({"data": {}, "meta": []}),
                "meta",
                "must be an object, found an array",
            ),
            (
                json!({"data": {}, "predictions": [{"result": [], "model_version": ["v1"]}]}),
                "predictions[0].model_version",
                "must be a string, found an array",
            ),
            (
                json!({"data": {}, "drafts": [{"result": [], "lead_time": "5s"}]}),
                "drafts[0].lead_time",
                "must be a number, found a string",
            ),
        ];
        for (input, field, reason) in cases {
            assert_eq!(rejection(input), (field.to_owned(), reason.to_owned()));
        }
    }

    #[test]
    fn results_missing_keys_name_the_key() {
        let ok = rect(json!({"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["A"]}));
        let mut missing_from = ok.clone();
        missing_from.as_object_mut().unwrap().remove("from_name");
        let (field, reason) = rejection(json!({
            "data": {}, "annotations": [{"result": [ok, missing_from]}]
        }));
        assert_eq!(field, "annotations[0].result[1].from_name");
        assert_eq!(reason, "is missing");

        let (field, reason) = rejection(json!({
            "data": {}, "annotations": [{"result": [{"from_name": "a", "to_name": "b", "type": "choices", "value": "Yes"}]}]
        }));
        assert_eq!(field, "annotations[0].result[0].value");
        assert_eq!(reason, "must be an object, found a string");
    }

    #[test]
    fn broken_region_values_name_the_coordinate() {
        let cases = [
            (
                rect(json!({"x": "1", "y": 2, "width": 3, "height": 4, "rectanglelabels": ["A"]})),
                ".value.x",
                "must be a number, found a string",
            ),
            (
                rect(json!({"x": 1, "y": 2, "width": 3, "rectanglelabels": ["A"]})),
                ".value.height",
                "is missing",
            ),
            (
                rect(
                    json!({"x": 1, "y": 2, "width": 3, "height": 4, "rotation": "9", "rectanglelabels": ["A"]}),
                ),
                ".value.rotation",
                "must be a number, found a string",
            ),
            (
                rect(json!({"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": "A"})),
                ".value.rectanglelabels",
                "must be an array of label names",
            ),
            (
                json!({"from_name": "p", "to_name": "i", "type": "polygonlabels", "value": {"points": [[1, 2], [3]], "polygonlabels": ["A"]}}),
                ".value.points",
                "point 1 must be [x, y] with two numbers",
            ),
        ];
        for (result, suffix, reason) in cases {
            let (field, got) =
                rejection(json!({"data": {}, "predictions": [{"result": [result]}]}));
            assert_eq!(field, format!("predictions[0].result[0]{suffix}"));
            assert_eq!(got, reason);
        }
    }

    #[test]
    fn unknown_and_audio_results_stay_lenient() {
        let record = task(json!({"data": {}, "annotations": [{"result": [
            {"from_name": "l", "to_name": "audio", "type": "labels", "value": {"start": 1.5, "end": 2.25, "labels": ["Speech"]}},
            {"from_name": "k", "to_name": "image", "type": "keypointlabels", "value": {"x": 1, "y": 2}}
        ]}]}))
        .unwrap();
        assert_eq!(record.annotations[0].result.len(), 2);
    }

    #[test]
    fn nulls_mean_absent() {
        let record = task(json!({"data": {}, "meta": null, "annotations": [{
            "result": null, "completed_by": null, "lead_time": null, "was_cancelled": null,
            "created_at": null, "id": 4
        }], "predictions": null}))
        .unwrap();
        let annotation = &record.annotations[0];
        assert_eq!(annotation.completed_by, None);
        assert!(!annotation.was_cancelled);
        assert_eq!(
            annotation.extra,
            json!({"id": 4}).as_object().unwrap().clone()
        );
    }

    #[test]
    fn numeric_model_version_becomes_text() {
        let record = task(
            json!({"data": {}, "predictions": [{"result": [], "model_version": 3, "score": 0.5}]}),
        )
        .unwrap();
        assert_eq!(record.predictions[0].model_version.as_deref(), Some("3"));
        assert_eq!(record.predictions[0].score, Some(0.5));
    }
}
