//! spaCy v3 `.spacy` files: the export of NER spans and classes (golden
//! file, spaCy's `DocBin` as the judge), read back, files made by spaCy
//! read, Unicode offsets through both, and broken files refused by reason.

mod dataset_support;

use gloss_formats::{
    read_spacy, AnnotationRecord, ControlRef, ExportAnnotation, ExportTask, FormatError,
    SpacyChoices, SpacyImportOptions, SpacyOptions, SpacySummary, SpacyWriter, TaskRecord,
};
use gloss_types::result::ResultValue;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::PathBuf;

fn span(start: u64, end: u64, label: &str) -> Value {
    json!({"from_name": "ner", "to_name": "text", "type": "labels",
           "value": {"start": start, "end": end, "labels": [label]}})
}

fn choice(name: &str) -> Value {
    json!({"from_name": "sentiment", "to_name": "text", "type": "choices",
           "value": {"choices": [name]}})
}

fn task(id: i64, text: &str, results: Option<Vec<Value>>) -> ExportTask {
    let mut data = serde_json::Map::new();
    data.insert("text".into(), json!(text));
    ExportTask {
        id,
        data,
        annotations: results
            .into_iter()
            .map(|results| ExportAnnotation {
                id,
                record: AnnotationRecord {
                    result: results.into_iter().map(dataset_support::item).collect(),
                    ..AnnotationRecord::default()
                },
                stored_result: None,
            })
            .collect(),
        ..ExportTask::default()
    }
}

fn choices() -> Vec<SpacyChoices> {
    vec![SpacyChoices {
        from_name: "sentiment".into(),
        to_name: "text".into(),
        choices: vec!["positive".into(), "negative".into()],
    }]
}

fn export(tasks: &[ExportTask]) -> (Vec<u8>, SpacySummary) {
    let options = SpacyOptions {
        text_field: "text".into(),
        labels_control: Some("ner".into()),
        choices: choices(),
    };
    let mut writer = SpacyWriter::new(Vec::new(), std::io::Cursor::new(Vec::new()), options);
    for task in tasks {
        writer.write_task(task).unwrap();
    }
    writer.finish().unwrap()
}

fn import_options() -> SpacyImportOptions {
    SpacyImportOptions {
        text_field: "text".into(),
        labels: Some(ControlRef {
            from_name: "ner".into(),
            to_name: "text".into(),
        }),
        choices: choices(),
    }
}

const FIRST: &str = "Peter Blackburn met Angela Merkel in New York.\nEU rejects German call.";
const SECOND: &str = "Café 😀 in القاهرة met José\u{301}.";
const FOURTH: &str = "Nothing  to\tsee here.";

/// Five tasks: entities with labels that are spaCy symbols (PERSON, LOC) and
/// one that is not (MISC), a span off the token edges and an overlapping
/// one, a choice; Unicode; a task without an annotation; one annotated with
/// nothing, with runs of whitespace; one without text.
fn sample() -> Vec<ExportTask> {
    let mut no_text = task(5, "", Some(vec![]));
    no_text.data.clear();
    no_text.data.insert("image".into(), json!("a.png"));
    vec![
        task(
            1,
            FIRST,
            Some(vec![
                span(0, 15, "PERSON"),
                span(20, 33, "PERSON"),
                span(37, 45, "LOC"),
                // "erman": inside a token, widened to "German".
                span(59, 64, "MISC"),
                // Overlaps "German": left out.
                span(62, 70, "MISC"),
                choice("positive"),
            ]),
        ),
        task(
            2,
            SECOND,
            Some(vec![
                span(10, 17, "LOC"),
                span(22, 27, "PERSON"),
                choice("negative"),
            ]),
        ),
        task(3, "Not annotated yet.", None),
        task(4, FOURTH, Some(vec![])),
        no_text,
    ]
}

/// What the documents must hold, in `spacy_check.py`'s shape.
fn expected() -> Value {
    json!([
        {"text": FIRST,
         "ents": [[0, 15, "PERSON"], [20, 33, "PERSON"], [37, 45, "LOC"], [58, 64, "MISC"]],
         "cats": {"positive": 1.0, "negative": 0.0}},
        {"text": SECOND,
         "ents": [[10, 17, "LOC"], [22, 27, "PERSON"]],
         "cats": {"positive": 0.0, "negative": 1.0}},
        {"text": "Not annotated yet.", "ents": null, "cats": {}},
        {"text": FOURTH, "ents": [], "cats": {"positive": 0.0, "negative": 0.0}},
    ])
}

fn unpack(file: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    flate2::read::ZlibDecoder::new(file)
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

fn hex_lines(bytes: &[u8]) -> String {
    bytes
        .chunks(32)
        .map(|line| {
            let mut hex: String = line.iter().map(|b| format!("{b:02x}")).collect();
            hex.push('\n');
            hex
        })
        .collect()
}

/// An entity read: start, end, label and text.
type Entity = (u64, u64, String, String);

/// Entities and choices of a read task.
fn results(task: &TaskRecord) -> (Vec<Entity>, Vec<String>) {
    let mut spans = Vec::new();
    let mut chosen = Vec::new();
    for annotation in &task.annotations {
        for result in &annotation.result {
            match &result.value {
                ResultValue::Labels(v) => {
                    spans.push((v.start, v.end, v.labels[0].clone(), v.text.clone().unwrap()))
                }
                ResultValue::Choices(v) => chosen.extend(v.choices.iter().cloned()),
                other => panic!("{other:?}"),
            }
        }
    }
    (spans, chosen)
}

/// A read task in `spacy_check.py`'s shape (cats as 1.0 for the choices).
fn as_expected(task: &TaskRecord, all_choices: &[&str]) -> Value {
    let (spans, chosen) = results(task);
    let annotated = !task.annotations.is_empty();
    json!({
        "text": task.data["text"],
        "ents": if annotated {
            json!(spans.iter().map(|(s, e, l, _)| json!([s, e, l])).collect::<Vec<_>>())
        } else {
            Value::Null
        },
        "cats": if annotated {
            all_choices
                .iter()
                .map(|c| (c.to_string(), json!(if chosen.iter().any(|x| x == c) { 1.0 } else { 0.0 })))
                .collect::<serde_json::Map<_, _>>()
        } else {
            serde_json::Map::new()
        },
    })
}

#[test]
fn spans_and_choices_export_as_a_docbin_that_spacy_reads() {
    let (file, summary) = export(&sample());
    dataset_support::golden(
        "spacy_export.msgpack.hex",
        hex_lines(&unpack(&file)).as_bytes(),
    );
    assert_eq!(
        (
            summary.documents,
            summary.entities,
            summary.widened,
            summary.overlapping,
            summary.skipped
        ),
        (4, 6, 1, 1, 1)
    );
    judge_with_spacy(&file, &expected());
}

#[test]
fn exports_read_back_with_the_same_texts_spans_and_choices() {
    let (file, _) = export(&sample());
    let (tasks, rejections) = read_spacy(&file[..], &import_options()).unwrap();
    assert!(rejections.is_empty(), "{rejections:?}");
    let got: Vec<Value> = tasks
        .iter()
        .map(|t| as_expected(t, &["positive", "negative"]))
        .collect();
    assert_eq!(Value::Array(got), expected());
    // Offsets count code points: the emoji is one, José's accent one more.
    assert_eq!(
        results(&tasks[1]).0,
        [
            (10, 17, "LOC".into(), "القاهرة".into()),
            (22, 27, "PERSON".into(), "José\u{301}".into())
        ]
    );
    // Read again and written again, the file is the same.
    let again: Vec<ExportTask> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| ExportTask {
            id: i as i64 + 1,
            data: t.data.clone(),
            annotations: t
                .annotations
                .iter()
                .map(|a| ExportAnnotation {
                    id: 1,
                    record: a.clone(),
                    stored_result: None,
                })
                .collect(),
            ..ExportTask::default()
        })
        .collect();
    assert_eq!(unpack(&export(&again).0), unpack(&file));
}

#[test]
fn files_made_by_spacy_read_with_their_texts_entities_and_cats() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    check_made_by_spacy(
        &std::fs::read(data.join("spacy_made_by_spacy.spacy")).unwrap(),
        &std::fs::read_to_string(data.join("spacy_made_by_spacy.json")).unwrap(),
    );
    // And one spaCy makes now, when a python with spaCy is at hand.
    if let Some(python) = python() {
        let dir = tempfile::tempdir().unwrap();
        let (file, want) = (dir.path().join("made.spacy"), dir.path().join("made.json"));
        run_script(&python, &["make"], &file, &want);
        check_made_by_spacy(
            &std::fs::read(&file).unwrap(),
            &std::fs::read_to_string(&want).unwrap(),
        );
    }
}

/// Reads a file spaCy made (its default attrs, `spacy.blank("en")`'s
/// tokens) and compares with what spaCy found in it.
fn check_made_by_spacy(file: &[u8], want: &str) {
    let want: Value = serde_json::from_str(want).unwrap();
    let options = SpacyImportOptions {
        choices: vec![SpacyChoices {
            from_name: "sentiment".into(),
            to_name: "text".into(),
            choices: vec!["positive".into(), "negative".into()],
        }],
        ..import_options()
    };
    let (tasks, rejections) = read_spacy(file, &options).unwrap();
    assert!(rejections.is_empty(), "{rejections:?}");
    let want = want.as_array().unwrap();
    assert_eq!(tasks.len(), want.len());
    for (task, want) in tasks.iter().zip(want) {
        assert_eq!(task.data["text"], want["text"]);
        let (spans, chosen) = results(task);
        let spans: Vec<Value> = spans.iter().map(|(s, e, l, _)| json!([s, e, l])).collect();
        match &want["ents"] {
            Value::Null => assert!(task.annotations.is_empty(), "{task:?}"),
            ents => assert_eq!(&Value::Array(spans), ents, "{}", want["text"]),
        }
        let above_half: Vec<String> = want["cats"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v.as_f64().unwrap() > 0.5)
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(chosen, above_half);
    }
}

/// A file of the DocBin map with `fields` changed (`Value::Null` removes one).
fn docbin_with(fields: &[(&str, Option<Vec<u8>>)]) -> Vec<u8> {
    // The map of a valid export, re-packed field by field.
    let (file, _) = export(&sample()[1..2]);
    let unpacked = unpack(&file);
    // Walk the top-level map: keys are short strings; values are copied as
    // raw MessagePack by re-reading lengths (only what the export writes).
    let entries = top_level_entries(&unpacked);
    let mut out = Vec::new();
    let kept: Vec<(String, Vec<u8>)> = entries
        .into_iter()
        .filter_map(|(key, raw)| match fields.iter().find(|(k, _)| *k == key) {
            Some((_, Some(replacement))) => Some((key, replacement.clone())),
            Some((_, None)) => None,
            None => Some((key, raw)),
        })
        .collect();
    out.push(0x80 | kept.len() as u8);
    for (key, raw) in kept {
        out.push(0xa0 | key.len() as u8);
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(&raw);
    }
    zlib(&out)
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

/// The top-level entries of the export's map, values as raw MessagePack.
fn top_level_entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let count = (bytes[0] & 0x0f) as usize;
    let mut at = 1;
    let mut entries = Vec::new();
    for _ in 0..count {
        let len = (bytes[at] & 0x1f) as usize;
        let key = String::from_utf8(bytes[at + 1..at + 1 + len].to_vec()).unwrap();
        at += 1 + len;
        let end = skip(bytes, at);
        entries.push((key, bytes[at..end].to_vec()));
        at = end;
    }
    entries
}

/// Where the value at `at` ends (the forms the export writes).
fn skip(bytes: &[u8], at: usize) -> usize {
    let be = |from: usize, n: usize| {
        bytes[from..from + n]
            .iter()
            .fold(0usize, |v, &b| (v << 8) | b as usize)
    };
    match bytes[at] {
        0x00..=0x7f | 0xc2 | 0xc3 => at + 1,
        m @ 0x80..=0x8f => (0..(m & 0x0f) * 2).fold(at + 1, |at, _| skip(bytes, at)),
        m @ 0x90..=0x9f => (0..m & 0x0f).fold(at + 1, |at, _| skip(bytes, at)),
        m @ 0xa0..=0xbf => at + 1 + (m & 0x1f) as usize,
        0xc4 => at + 2 + be(at + 1, 1),
        0xc5 => at + 3 + be(at + 1, 2),
        0xc6 => at + 5 + be(at + 1, 4),
        0xcb => at + 9,
        0xcc => at + 2,
        0xcd => at + 3,
        0xce => at + 5,
        0xcf => at + 9,
        0xd9 => at + 2 + be(at + 1, 1),
        0xdc => (0..be(at + 1, 2)).fold(at + 3, |at, _| skip(bytes, at)),
        m => panic!("unexpected byte {m:#x}"),
    }
}

#[test]
fn spacy_files_are_known_by_name_and_format() {
    assert_eq!(
        gloss_formats::detect("corpus/train.spacy", b"x\x9c"),
        Some(gloss_formats::InputFormat::Spacy)
    );
    assert_eq!(
        gloss_formats::InputFormat::parse("spacy"),
        Some(gloss_formats::InputFormat::Spacy)
    );
    // It needs the label config's controls: read_tasks points at read_spacy.
    let error =
        gloss_formats::read_tasks(gloss_formats::InputFormat::Spacy, &b""[..], &mut |_, _| {
            true
        })
        .unwrap_err();
    assert!(error.to_string().contains("read_spacy"), "{error}");
}

fn refusal(file: &[u8]) -> String {
    match read_spacy(file, &import_options()) {
        Err(error @ FormatError::Spacy { .. }) => error.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn broken_files_are_refused_with_the_reason() {
    assert!(refusal(b"not zlib at all").contains("not zlib-compressed"));
    assert!(refusal(&zlib(&[0xc1])).contains("not MessagePack"));
    assert!(refusal(&zlib(&[0x92, 1, 2])).contains("holds an array, not the map"));
    assert!(refusal(&docbin_with(&[("tokens", None)])).contains("it has no `tokens`"));
    assert!(refusal(&docbin_with(&[("strings", Some(vec![0x01]))]))
        .contains("`strings` is an integer, not an array of strings"));
    assert!(refusal(&docbin_with(&[("attrs", Some(vec![0x91, 77]))])).contains("lacks ORTH (65)"));
    // One token too few for the lengths.
    let (file, _) = export(&sample()[1..2]);
    let map = top_level_entries(&unpack(&file));
    let tokens = &map.iter().find(|(k, _)| k == "tokens").unwrap().1;
    let rows = match tokens[0] {
        0xc4 => &tokens[2..],
        0xc5 => &tokens[3..],
        other => panic!("tokens start with {other:#x}"),
    };
    let mut short = vec![0xc4, (rows.len() - 24) as u8];
    short.extend_from_slice(&rows[..rows.len() - 24]);
    let message = refusal(&docbin_with(&[("tokens", Some(short))]));
    assert!(
        message.contains("`tokens` is") && message.contains("take"),
        "{message}"
    );
    assert!(
        refusal(&docbin_with(&[("lengths", Some(vec![0xc4, 3, 1, 0, 0]))]))
            .contains("not a whole number of int32s")
    );
    assert!(refusal(&docbin_with(&[(
        "lengths",
        Some(vec![0xc4, 4, 0xff, 0xff, 0xff, 0xff])
    )]))
    .contains("has -1 tokens"));
    // Strings that do not hold the tokens' texts.
    let message = refusal(&docbin_with(&[("strings", Some(vec![0x91, 0xa0]))]));
    assert!(
        message.contains("document 1, token 1: its ORTH")
            && message.contains("none of the file's strings"),
        "{message}"
    );
    assert!(refusal(&docbin_with(&[("cats", Some(vec![0x90]))]))
        .contains("`cats` has 0 entries for 1 documents"));

    // Cut short or with a byte changed anywhere, a file is refused or
    // read, never a panic.
    for cut in 0..file.len() {
        let _ = read_spacy(&file[..cut], &import_options());
    }
    let unpacked = unpack(&file);
    for at in 0..unpacked.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut changed = unpacked.clone();
            changed[at] ^= flip;
            let _ = read_spacy(&zlib(&changed)[..], &import_options());
        }
    }
}

#[test]
fn documents_the_config_cannot_hold_are_rejected_by_position() {
    // Entities without a Labels control, a class no Choices control has.
    let options = SpacyImportOptions {
        labels: None,
        choices: Vec::new(),
        ..import_options()
    };
    let (file, _) = export(&sample());
    let (tasks, rejections) = read_spacy(&file[..], &options).unwrap();
    let found: Vec<(u64, &str, &str)> = rejections
        .iter()
        .map(|r| (r.row, r.field.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                1,
                "ents",
                "has entities, and the label config has no Labels control on the text for them"
            ),
            (
                1,
                "cats.positive",
                "is 1, and no Choices control on the text has the choice \"positive\""
            ),
            (
                2,
                "ents",
                "has entities, and the label config has no Labels control on the text for them"
            ),
            (
                2,
                "cats.negative",
                "is 1, and no Choices control on the text has the choice \"negative\""
            ),
        ]
    );
    // The others are read, without annotations to hold.
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t.annotations.is_empty()));

    // An I token without a B before it.
    let (file, _) = export(&[task(1, "New York", Some(vec![span(0, 8, "LOC")]))]);
    let mut unpacked = unpack(&file);
    // The first token's ENT_IOB (its second u64 in the token rows) is 3 (B).
    let at = unpacked
        .windows(8)
        .position(|w| w == 3u64.to_le_bytes())
        .unwrap();
    unpacked[at] = 1;
    let (tasks, rejections) = read_spacy(&zlib(&unpacked)[..], &import_options()).unwrap();
    assert!(tasks.is_empty());
    assert_eq!(
        (rejections[0].field.as_str(), rejections[0].reason.as_str()),
        (
            "token 1",
            "is inside an entity (ENT_IOB I) that no B token starts"
        )
    );
}

fn python() -> Option<String> {
    dataset_support::test_python("spaCy")
}

fn run_script(python: &str, mode: &[&str], file: &std::path::Path, json: &std::path::Path) {
    let mut args: Vec<&std::ffi::OsStr> = mode.iter().map(std::ffi::OsStr::new).collect();
    args.extend([file.as_os_str(), json.as_os_str()]);
    dataset_support::run_python_check(python, "spacy_check.py", &args, &[]);
}

/// Runs tests/python/spacy_check.py on the export when GLOSS_TEST_PYTHON names a python.
fn judge_with_spacy(file: &[u8], expected: &Value) {
    let Some(python) = python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.spacy");
    std::fs::write(&path, file).unwrap();
    let want = dir.path().join("expected.json");
    std::fs::write(&want, expected.to_string()).unwrap();
    run_script(&python, &["check"], &path, &want);
}

/// Export and import speed, measured on request:
///
/// `cargo test -p gloss-formats --test spacy -- --ignored --nocapture`
#[test]
#[ignore = "a measurement"]
fn documents_per_second() {
    const TASKS: i64 = 50_000;
    let text = "Peter Blackburn met Angela Merkel in New York on Monday, and they talked about \
                the weather, the markets and the football results for a while before lunch.";
    let tasks: Vec<ExportTask> = (0..TASKS)
        .map(|id| {
            task(
                id,
                &format!("{text} ({id})"),
                Some(vec![
                    span(0, 15, "PERSON"),
                    span(37, 45, "LOC"),
                    choice("positive"),
                ]),
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let (file, summary) = export(&tasks);
    let written = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let (read, _) = read_spacy(&file[..], &import_options()).unwrap();
    let took = started.elapsed().as_secs_f64();
    assert_eq!(read.len(), TASKS as usize);
    println!(
        "{TASKS} documents, {} tokens, {} bytes: written in {written:.2} s ({:.0} tokens/s), read in {took:.2} s ({:.0} tokens/s)",
        summary.tokens,
        file.len(),
        summary.tokens as f64 / written,
        summary.tokens as f64 / took
    );
}
