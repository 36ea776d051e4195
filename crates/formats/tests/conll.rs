//! CoNLL-2003: the export of NER spans (golden file, seqeval's judgement),
//! read back, and Unicode offsets through both.

mod dataset_support;

use gloss_formats::{
    read_conll, AnnotationRecord, ConllImportOptions, ConllOptions, ConllWriter, ControlRef,
    ExportAnnotation, ExportTask,
};
use gloss_types::result::ResultValue;
use serde_json::{json, Value};

fn span(id: &str, start: u64, end: u64, label: &str) -> Value {
    json!({"id": id, "from_name": "ner", "to_name": "text", "type": "labels",
           "value": {"start": start, "end": end, "labels": [label]}})
}

fn task(id: i64, text: &str, spans: Vec<Value>) -> ExportTask {
    let mut data = serde_json::Map::new();
    data.insert("text".into(), json!(text));
    ExportTask {
        id,
        data,
        annotations: vec![ExportAnnotation {
            id,
            record: AnnotationRecord {
                result: spans.into_iter().map(dataset_support::item).collect(),
                ..AnnotationRecord::default()
            },
            stored_result: None,
        }],
        ..ExportTask::default()
    }
}

fn export(tasks: &[ExportTask]) -> (String, gloss_formats::ConllSummary) {
    let options = ConllOptions {
        text_field: "text".into(),
        labels_control: "ner".into(),
    };
    let mut writer = ConllWriter::new(Vec::new(), options);
    for task in tasks {
        writer.write_task(task).unwrap();
    }
    let (bytes, summary) = writer.finish().unwrap();
    (String::from_utf8(bytes).unwrap(), summary)
}

/// Two documents: a sentence of two with a two-token entity and one off the
/// token edges, an overlapping span, and a second line; Unicode in the second.
fn sample() -> Vec<ExportTask> {
    let first = "EU rejects German call.\nPeter Blackburn spoke.";
    let second = "Café 😀 in القاهرة met José\u{301}.";
    vec![
        task(
            1,
            first,
            vec![
                span("a", 0, 2, "ORG"),
                // "erman": inside a token, widened to "German".
                span("b", 12, 17, "MISC"),
                // Overlaps "German": left out.
                span("c", 14, 22, "MISC"),
                span("d", 24, 39, "PER"),
            ],
        ),
        task(
            2,
            second,
            vec![span("e", 10, 17, "LOC"), span("f", 22, 27, "PER")],
        ),
    ]
}

#[test]
fn spans_export_as_iob2_and_seqeval_reads_them() {
    let (text, summary) = export(&sample());
    dataset_support::golden("conll_export.conll", text.as_bytes());
    assert_eq!(
        (
            summary.documents,
            summary.entities,
            summary.widened,
            summary.overlapping
        ),
        (2, 5, 1, 1)
    );
    // The entities seqeval must find, per sentence: [label, first, last token].
    let expected = json!([
        [["ORG", 0, 0], ["MISC", 2, 2]],
        [["PER", 0, 1]],
        [["LOC", 3, 3], ["PER", 5, 5]]
    ]);
    judge_with_seqeval(&text, &expected);
}

#[test]
fn exports_read_back_with_the_same_spans_and_offsets() {
    let (text, _) = export(&sample());
    let options = ConllImportOptions {
        text_field: "text".into(),
        labels: Some(ControlRef {
            from_name: "ner".into(),
            to_name: "text".into(),
        }),
    };
    let (tasks, rejections) = read_conll(text.as_bytes(), &options).unwrap();
    assert!(rejections.is_empty(), "{rejections:?}");
    assert_eq!(tasks.len(), 2);
    // The text is the tokens joined by spaces, sentences by line breaks.
    assert_eq!(
        tasks[0].data["text"],
        "EU rejects German call .\nPeter Blackburn spoke ."
    );
    assert_eq!(
        tasks[1].data["text"],
        "Café 😀 in القاهرة met José\u{301} ."
    );
    let spans = |index: usize| -> Vec<(u64, u64, String, String)> {
        tasks[index].annotations[0]
            .result
            .iter()
            .map(|r| match &r.value {
                ResultValue::Labels(v) => {
                    (v.start, v.end, v.labels[0].clone(), v.text.clone().unwrap())
                }
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(
        spans(0),
        [
            (0, 2, "ORG".into(), "EU".into()),
            (11, 17, "MISC".into(), "German".into()),
            (25, 40, "PER".into(), "Peter Blackburn".into())
        ]
    );
    // Offsets count code points: the emoji is one, José's accent one more.
    assert_eq!(
        spans(1),
        [
            (10, 17, "LOC".into(), "القاهرة".into()),
            (22, 27, "PER".into(), "José\u{301}".into())
        ]
    );
    // Read again and written again, the file is the same.
    let again: Vec<ExportTask> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| ExportTask {
            id: i as i64 + 1,
            data: t.data.clone(),
            annotations: vec![ExportAnnotation {
                id: 1,
                record: t.annotations[0].clone(),
                stored_result: None,
            }],
            ..ExportTask::default()
        })
        .collect();
    assert_eq!(export(&again).0, text);
}

#[test]
fn broken_lines_reject_their_document_by_line() {
    let options = ConllImportOptions {
        text_field: "text".into(),
        labels: None,
    };
    let input =
        "-DOCSTART- -X- -X- O\n\nEU B-ORG\nlonely\nx Z-ORG\n\n-DOCSTART- -X- -X- O\n\nfine O\n";
    let (tasks, rejections) = read_conll(input.as_bytes(), &options).unwrap();
    assert_eq!(tasks.len(), 1, "the second document is fine");
    let fields: Vec<(&str, &str)> = rejections
        .iter()
        .map(|r| (r.field.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("line 4", "needs the token and its tag, the tag last"),
            ("line 5", "tag \"Z-ORG\" is not O, B-label or I-label")
        ]
    );
    // Entities without a Labels control to hold them are refused too.
    let (_, rejections) = read_conll("EU B-ORG\n".as_bytes(), &options).unwrap();
    assert!(
        rejections[0].reason.contains("no Labels control"),
        "{rejections:?}"
    );
}

/// Runs tests/python/seqeval_check.py on the export when GLOSS_TEST_PYTHON names a python.
fn judge_with_seqeval(text: &str, expected: &Value) {
    let Some(python) = dataset_support::test_python("seqeval") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.conll");
    std::fs::write(&file, text).unwrap();
    let want = dir.path().join("expected.json");
    std::fs::write(&want, expected.to_string()).unwrap();
    dataset_support::run_python_check(
        &python,
        "seqeval_check.py",
        &[file.as_os_str(), want.as_os_str()],
        &[],
    );
}
