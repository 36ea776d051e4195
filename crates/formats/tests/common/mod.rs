//! Helpers shared by the integration tests.

#![allow(dead_code)] // Each test file uses a different part.

use gloss_formats::{
    read_tasks, ExportAnnotation, ExportPrediction, ExportTask, FormatError, InputFormat,
    Rejection, TaskRecord,
};
use serde_json::Value;
use std::path::PathBuf;

pub fn data_file(name: &str) -> Vec<u8> {
    // Found at run time: a path fixed at compile time would point into
    // another clone when CI reuses a target folder.
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run through cargo test");
    let path = PathBuf::from(crate_dir).join("tests/data").join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// Every row `read_tasks` delivers, and how it ended.
pub fn read_rows(
    format: InputFormat,
    input: &[u8],
) -> (Vec<Result<TaskRecord, Rejection>>, Result<u64, FormatError>) {
    let mut rows = Vec::new();
    let outcome = read_tasks(format, input, &mut |_line, row| {
        rows.push(row);
        true
    });
    (rows, outcome)
}

/// The tasks of a file that must read cleanly.
pub fn read_ok(format: InputFormat, input: &[u8]) -> Vec<TaskRecord> {
    let (rows, outcome) = read_rows(format, input);
    let count = outcome.expect("the file reads");
    assert_eq!(count as usize, rows.len());
    rows.into_iter()
        .map(|row| row.expect("every row is a task"))
        .collect()
}

/// The rejections of a file that reads to its end.
pub fn rejections(format: InputFormat, input: &[u8]) -> Vec<Rejection> {
    let (rows, outcome) = read_rows(format, input);
    outcome.expect("the file reads");
    rows.into_iter().filter_map(Result::err).collect()
}

fn id_in(extra: &serde_json::Map<String, Value>) -> i64 {
    extra.get("id").and_then(Value::as_i64).unwrap_or(0)
}

fn millis_in(extra: &serde_json::Map<String, Value>, key: &str) -> i64 {
    let text = extra
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("1970-01-01T00:00:00Z");
    let moment = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("an RFC 3339 time");
    (moment.unix_timestamp_nanos() / 1_000_000) as i64
}

/// What the engine would hand the writers for an imported task: ids and
/// prediction times taken from the records' `extra`.
pub fn export_task(id: i64, project_id: i64, record: &TaskRecord) -> ExportTask {
    ExportTask {
        id,
        project_id,
        data: record.data.clone(),
        meta: record.meta.clone(),
        created_at: 1_713_598_200_000,
        updated_at: 1_714_737_660_750,
        annotations: record
            .annotations
            .iter()
            .map(|annotation| ExportAnnotation {
                id: id_in(&annotation.extra),
                record: annotation.clone(),
                stored_result: None,
            })
            .collect(),
        predictions: record
            .predictions
            .iter()
            .map(|prediction| ExportPrediction {
                id: id_in(&prediction.extra),
                record: prediction.clone(),
                created_at: millis_in(&prediction.extra, "created_at"),
                stored_result: None,
            })
            .collect(),
        drafts: record.drafts.clone(),
        image: None,
        video: None,
        audio_name: None,
    }
}
