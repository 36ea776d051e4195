//! JSON, JSONL, CSV and TSV task files: shapes, rejections and fatal errors.

mod common;

use common::{read_ok, read_rows, rejections};
use gloss_formats::{detect, read_tasks, FormatError, InputFormat, Rejection, TaskRecord};
use serde_json::{json, Map, Value};

fn map(value: Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

fn strings(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), json!(value)))
        .collect()
}

fn rejection(row: u64, field: &str, reason: &str) -> Rejection {
    Rejection::new(row, field, reason)
}

#[test]
fn format_names_round_trip() {
    for format in InputFormat::ALL {
        assert_eq!(InputFormat::parse(format.name()), Some(format));
    }
    assert_eq!(
        InputFormat::parse("label-studio"),
        Some(InputFormat::LabelStudio)
    );
    assert_eq!(InputFormat::parse("xml"), None);
}

#[test]
fn json_array_mixes_label_studio_tasks_and_bare_data() {
    let input = br#"[
        {"data": {"text": "one"}, "annotations": [{"result": [
            {"from_name": "c", "to_name": "t", "type": "choices", "value": {"choices": ["A"]}}
        ]}], "id": 77, "inner_id": 3},
        {"text": "two", "n": 2}
    ]"#;
    let tasks = read_ok(InputFormat::Json, input);
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].data, map(json!({"text": "one"})));
    assert_eq!(tasks[0].annotations[0].result.len(), 1);
    assert_eq!(tasks[1].data, map(json!({"text": "two", "n": 2})));
    assert!(tasks[1].annotations.is_empty());
}

#[test]
fn single_task_object() {
    let tasks = read_ok(
        InputFormat::Json,
        br#"{"data": {"image": "a.png"}, "meta": {"k": 1}}"#,
    );
    assert_eq!(
        tasks,
        [TaskRecord {
            data: map(json!({"image": "a.png"})),
            meta: map(json!({"k": 1})),
            ..TaskRecord::default()
        }]
    );
    let bare = read_ok(InputFormat::Json, b"  {\"image\": \"b.png\"}\n");
    assert_eq!(bare[0].data, map(json!({"image": "b.png"})));
}

#[test]
fn empty_array_has_no_rows() {
    let (rows, outcome) = read_rows(InputFormat::Json, b"[]");
    assert!(rows.is_empty());
    assert_eq!(outcome.unwrap(), 0);
}

#[test]
fn utf8_bom_before_json_is_skipped() {
    let tasks = read_ok(InputFormat::Json, "\u{feff}[{\"text\": \"é\"}]".as_bytes());
    assert_eq!(tasks[0].data["text"], json!("é"));
}

#[test]
fn non_object_elements_are_rejected_by_position() {
    let input = br#"[{"a": 1}, 5, "text", {"a": 2}, null, [1]]"#;
    let (rows, outcome) = read_rows(InputFormat::Json, input);
    assert_eq!(outcome.unwrap(), 6);
    let rejected: Vec<u64> = rows
        .iter()
        .filter_map(|row| row.as_ref().err())
        .inspect(|rejection| {
            assert_eq!(rejection.field, "");
            assert_eq!(rejection.reason, "a task must be a JSON object");
        })
        .map(|rejection| rejection.row)
        .collect();
    assert_eq!(rejected, [2, 3, 5, 6]);
}

#[test]
fn label_studio_format_requires_data_objects() {
    let input = br#"[{"data": {"a": 1}}, {"a": 2}, {"data": "x"}]"#;
    assert_eq!(
        rejections(InputFormat::LabelStudio, input),
        [
            rejection(2, "data", "a Label Studio task needs a \"data\" object"),
            rejection(3, "data", "a Label Studio task needs a \"data\" object"),
        ]
    );
}

#[test]
fn wrong_typed_fields_name_row_and_field() {
    let input = br#"[
        {"data": {}},
        {"data": {}, "predictions": [{"result": [], "score": 0.4}, {"result": [], "score": "high"}]},
        {"data": {}, "annotations": [{"result": {"from_name": "c"}}]},
        {"data": {}, "annotations": [{"result": [
            {"from_name": "c", "to_name": "t", "type": "choices", "value": {"choices": []}},
            {"to_name": "t", "type": "choices", "value": {"choices": []}}
        ]}]},
        {"data": {}, "annotations": [{"result": [
            {"from_name": "b", "to_name": "i", "type": "rectanglelabels",
             "value": {"x": 1, "y": 2, "width": "wide", "height": 4, "rectanglelabels": ["A"]}}
        ]}]},
        {"data": {}, "predictions": [{"result": [
            {"from_name": "b", "to_name": "i", "type": "rectanglelabels", "value": {"x": 1}}
        ]}]}
    ]"#;
    assert_eq!(
        rejections(InputFormat::Json, input),
        [
            rejection(
                2,
                "predictions[1].score",
                "must be a number, found a string"
            ),
            rejection(
                3,
                "annotations[0].result",
                "must be an array of results, found an object"
            ),
            rejection(4, "annotations[0].result[1].from_name", "is missing"),
            rejection(
                5,
                "annotations[0].result[0].value.width",
                "must be a number, found a string"
            ),
            rejection(6, "predictions[0].result[0].value.y", "is missing"),
        ]
    );
}

#[test]
fn malformed_json_reports_line_and_column_after_earlier_rows() {
    let input = b"[\n  {\"a\": 1},\n  {\"a\": }\n]";
    let (rows, outcome) = read_rows(InputFormat::Json, input);
    assert_eq!(rows.len(), 1, "the row before the error is delivered");
    match outcome {
        Err(FormatError::Json {
            line,
            column,
            message,
        }) => {
            assert_eq!((line, column), (3, 9));
            assert_eq!(message, "expected value");
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }

    let cut = read_rows(InputFormat::Json, b"[{\"a\": 1}, {\"a\"").1;
    assert!(
        matches!(cut, Err(FormatError::Json { line: 1, .. })),
        "{cut:?}"
    );
    let trailing = read_rows(InputFormat::Json, b"[{\"a\": 1}] x").1;
    assert!(
        matches!(
            trailing,
            Err(FormatError::Json {
                line: 1,
                column: 12,
                ..
            })
        ),
        "{trailing:?}"
    );
    let empty = read_rows(InputFormat::Json, b"").1;
    assert!(matches!(empty, Err(FormatError::Json { .. })), "{empty:?}");
}

#[test]
fn error_message_names_the_place() {
    let error = read_rows(InputFormat::Json, b"[\n{\"a\" 1}]")
        .1
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid JSON at line 2, column 6: expected `:`"
    );
}

#[test]
fn top_level_scalar_is_not_tasks() {
    for (input, found) in [
        (&b"\"text\""[..], "a string"),
        (b"42", "a number"),
        (b"null", "null"),
    ] {
        match read_rows(InputFormat::Json, input).1 {
            Err(FormatError::NotTasks { found: got }) => assert_eq!(got, found),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn jsonl_rejects_a_bad_line_and_goes_on() {
    let input = "{\"text\": \"one\"}\r\n\n{\"text\": \"two\"\n[1, 2]\n{\"data\": {\"text\": \"four\"}, \"predictions\": [{\"result\": [], \"score\": \"x\"}]}\n  {\"text\": \"five\"}  ";
    let (rows, outcome) = read_rows(InputFormat::Jsonl, input.as_bytes());
    assert_eq!(outcome.unwrap(), 5, "blank lines are not rows");
    assert_eq!(rows[0].as_ref().unwrap().data["text"], json!("one"));
    let bad = rows[1].as_ref().unwrap_err();
    assert_eq!((bad.row, bad.field.as_str()), (3, ""));
    assert!(
        bad.reason
            .starts_with("not valid JSON: EOF while parsing an object"),
        "{}",
        bad.reason
    );
    assert_eq!(
        rows[2].as_ref().unwrap_err(),
        &rejection(4, "", "a task must be a JSON object")
    );
    assert_eq!(
        rows[3].as_ref().unwrap_err(),
        &rejection(
            5,
            "predictions[0].score",
            "must be a number, found a string"
        )
    );
    assert_eq!(rows[4].as_ref().unwrap().data["text"], json!("five"));
}

#[test]
fn jsonl_with_bom_and_invalid_utf8() {
    let mut input = "\u{feff}{\"a\": 1}\n".as_bytes().to_vec();
    input.extend_from_slice(b"{\"a\": \"\xff\"}\n");
    let (rows, outcome) = read_rows(InputFormat::Jsonl, &input);
    assert_eq!(outcome.unwrap(), 2);
    assert_eq!(rows[0].as_ref().unwrap().data["a"], json!(1));
    assert_eq!(rows[1].as_ref().unwrap_err().row, 2);
}

#[test]
fn csv_with_bom_quotes_and_multiline_fields() {
    let input = "\u{feff}image,caption\n/img/1.png,\"hello, world\"\n/img/2.png,\"two\nlines\"\n/img/3.png,\"say \"\"hi\"\"\"\n";
    let tasks = read_ok(InputFormat::Csv, input.as_bytes());
    assert_eq!(
        tasks
            .iter()
            .map(|task| task.data.clone())
            .collect::<Vec<_>>(),
        [
            strings(&[("image", "/img/1.png"), ("caption", "hello, world")]),
            strings(&[("image", "/img/2.png"), ("caption", "two\nlines")]),
            strings(&[("image", "/img/3.png"), ("caption", "say \"hi\"")]),
        ]
    );
}

#[test]
fn csv_ragged_rows_are_rejected_by_line() {
    // Line numbers count the header as line 1 and follow multi-line fields.
    let input = "a,b,c\n1,2,3\n\"x\ny\",2\n4,5,6,7\n8,9,10\n";
    let (rows, outcome) = read_rows(InputFormat::Csv, input.as_bytes());
    assert_eq!(outcome.unwrap(), 4);
    assert!(rows[0].is_ok());
    assert_eq!(
        rows[1].as_ref().unwrap_err(),
        &rejection(3, "c", "is missing: the row has 2 fields, the header has 3")
    );
    assert_eq!(
        rows[2].as_ref().unwrap_err(),
        &rejection(5, "", "the row has 4 fields, the header has 3")
    );
    assert_eq!(rows[3].as_ref().unwrap().data["c"], json!("10"));
}

#[test]
fn csv_invalid_utf8_rejects_its_row() {
    let input = b"name,text\nok,fine\nbad,\xff\xfe\nok2,fine\n";
    let (rows, outcome) = read_rows(InputFormat::Csv, input);
    assert_eq!(outcome.unwrap(), 3);
    assert_eq!(
        rows[1].as_ref().unwrap_err(),
        &rejection(3, "text", "is not valid UTF-8 text")
    );
    assert!(rows[2].is_ok());
}

#[test]
fn csv_bad_headers_fail_the_file() {
    let cases: [(&str, usize, &str); 4] = [
        ("a,b,a\n1,2,3\n", 3, "repeats an earlier column's name"),
        (
            "a,,c\n1,2,3\n",
            2,
            "is empty; every column needs a name to become a data field",
        ),
        (
            "a, \n1,2\n",
            2,
            "is empty; every column needs a name to become a data field",
        ),
        ("", 1, "the file has no header line"),
    ];
    for (input, expected_column, expected_reason) in cases {
        match read_rows(InputFormat::Csv, input.as_bytes()).1 {
            Err(FormatError::Header { column, reason, .. }) => {
                assert_eq!(
                    (column, reason.as_str()),
                    (expected_column, expected_reason)
                );
            }
            other => panic!("{input:?}: {other:?}"),
        }
    }
    let error = read_rows(InputFormat::Csv, b"id,text,id\n").1.unwrap_err();
    assert_eq!(
        error.to_string(),
        "header column 3 (\"id\"): repeats an earlier column's name"
    );
}

#[test]
fn tsv_reads_tabs_and_keeps_commas() {
    let input = "\u{feff}text\tlabel\nhello, world\tgreeting\n\"quoted\ttab\"\tx\n";
    let tasks = read_ok(InputFormat::Tsv, input.as_bytes());
    assert_eq!(
        tasks[0].data,
        strings(&[("text", "hello, world"), ("label", "greeting")])
    );
    assert_eq!(tasks[1].data["text"], json!("quoted\ttab"));
}

#[test]
fn header_only_csv_has_no_rows() {
    let (rows, outcome) = read_rows(InputFormat::Csv, b"a,b\n");
    assert!(rows.is_empty());
    assert_eq!(outcome.unwrap(), 0);
}

#[test]
fn coco_is_not_read_by_read_tasks() {
    let outcome = read_rows(InputFormat::Coco, b"{}").1;
    assert!(
        matches!(outcome, Err(FormatError::WrongReader { .. })),
        "{outcome:?}"
    );
}

#[test]
fn detect_by_name_and_content() {
    let coco = br#"{"info": {}, "images": [{"id": 1}], "annotations": [], "categories": []}"#;
    let cases: [(&str, &[u8], Option<InputFormat>); 12] = [
        ("tasks.jsonl", b"", Some(InputFormat::Jsonl)),
        ("tasks.NDJSON", b"", Some(InputFormat::Jsonl)),
        ("table.csv", b"", Some(InputFormat::Csv)),
        ("table.tsv", b"", Some(InputFormat::Tsv)),
        ("instances.json", coco, Some(InputFormat::Coco)),
        // A large COCO file: the head ends inside the image list.
        (
            "big.json",
            br#"{"info": {"year": 2017}, "images": [{"id": 1, "file_na"#,
            Some(InputFormat::Coco),
        ),
        (
            "export.json",
            br#"[{"id": 1, "data": {"image": "a.png", "caption": "cut he"#,
            Some(InputFormat::LabelStudio),
        ),
        (
            "export.json",
            "\u{feff}[{\"data\": {}}]".as_bytes(),
            Some(InputFormat::LabelStudio),
        ),
        (
            "bare.json",
            br#"[{"image": "a.png"}]"#,
            Some(InputFormat::Json),
        ),
        (
            "one.json",
            br#"{"data": {"text": "x"}, "images": 3}"#,
            Some(InputFormat::Json),
        ),
        ("broken.json", b"not json", Some(InputFormat::Json)),
        ("notes.txt", b"[]", None),
    ];
    for (name, head, expected) in cases {
        assert_eq!(
            detect(name, head),
            expected,
            "{name}: {}",
            String::from_utf8_lossy(head)
        );
    }
    assert_eq!(detect("no-extension", b"[]"), None);
}

#[test]
fn sink_stops_early() {
    let input = br#"[{"a": 1}, {"a": 2}, {"a": 3}, {"a": "#;
    let mut seen = 0;
    let outcome = read_tasks(InputFormat::Json, &input[..], &mut |_, _| {
        seen += 1;
        seen < 2
    });
    assert_eq!(outcome.unwrap(), 2);
    assert_eq!(seen, 2);

    let mut seen = 0;
    let outcome = read_tasks(InputFormat::Csv, &b"a\n1\n2\n3\n"[..], &mut |_, _| {
        seen += 1;
        false
    });
    assert_eq!((outcome.unwrap(), seen), (1, 1));

    let outcome = read_tasks(InputFormat::Jsonl, &b"{}\n{}\n{}\n"[..], &mut |_, _| false);
    assert_eq!(outcome.unwrap(), 1);
}

/// Hands out one byte per read, as a slow pipe may.
struct OneByteAtATime<'a>(&'a [u8]);

impl std::io::Read for OneByteAtATime<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some((&first, rest)) = self.0.split_first() else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        buf[0] = first;
        self.0 = rest;
        Ok(1)
    }
}

#[test]
fn bom_is_skipped_however_the_reader_splits_it() {
    let input = "\u{feff}[{\"a\": 1}]".as_bytes();
    let mut tasks = Vec::new();
    read_tasks(
        InputFormat::Json,
        OneByteAtATime(input),
        &mut |_line, row| {
            tasks.push(row.unwrap());
            true
        },
    )
    .unwrap();
    assert_eq!(tasks[0].data["a"], json!(1));

    // Files shorter than a BOM still read.
    assert_eq!(read_ok(InputFormat::Json, b"{}").len(), 1);
    assert_eq!(read_ok(InputFormat::Jsonl, b"{}").len(), 1);
    assert_eq!(read_ok(InputFormat::Csv, b"a").len(), 0);
}
