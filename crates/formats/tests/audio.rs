//! Speech exports (RTTM, WebVTT, SRT, NeMo ASR manifests): golden files, and
//! pyannote reading the RTTM back with a diarization error rate of 0.

mod dataset_support;

use dataset_support::golden;

use gloss_formats::{
    AnnotationRecord, AudioExportOptions, AudioFormat, AudioSummary, AudioWriter, ExportAnnotation,
    ExportTask, MemoryFiles,
};
use serde_json::{json, Value};

fn options() -> AudioExportOptions {
    AudioExportOptions {
        audio_field: "audio".into(),
        audio_object: "audio".into(),
        labels_control: Some("speaker".into()),
        transcript_control: Some("transcription".into()),
        file_transcript_control: Some("summary".into()),
    }
}

/// A segment and, when given, its transcript (a per-region TextArea sharing its id).
fn segment(
    id: &str,
    start: f64,
    end: f64,
    speaker: Option<&str>,
    text: Option<&str>,
) -> Vec<Value> {
    let labels: Vec<&str> = speaker.into_iter().collect();
    let mut items = vec![
        json!({"id": id, "from_name": "speaker", "to_name": "audio", "type": "labels",
        "value": {"start": start, "end": end, "channel": 0, "labels": labels}}),
    ];
    if let Some(text) = text {
        items.push(
            json!({"id": id, "from_name": "transcription", "to_name": "audio", "type": "textarea",
            "value": {"start": start, "end": end, "channel": 0, "text": [text]}}),
        );
    }
    items
}

fn task(id: i64, audio: &str, results: Vec<Value>) -> ExportTask {
    let mut data = serde_json::Map::new();
    data.insert("audio".into(), json!(audio));
    ExportTask {
        id,
        data,
        annotations: vec![ExportAnnotation {
            id,
            record: AnnotationRecord {
                result: results.into_iter().map(dataset_support::item).collect(),
                ..AnnotationRecord::default()
            },
            stored_result: None,
        }],
        ..ExportTask::default()
    }
}

/// Two calls: one with overlapping speakers, whole-second and fractional
/// times, a segment without a transcript and one without a label; one
/// stored by Gloss (its URL ends in a content hash) with a whole-file text.
fn tasks() -> Vec<ExportTask> {
    let first = [
        segment("a", 0.0, 2.5, Some("Alice"), Some("Hello, how are you?")),
        segment(
            "b",
            2.0,
            4.25,
            Some("Bob"),
            Some("Fine --> thanks.\n\nAnd <you>?"),
        ),
        segment("c", 5.0, 6.0, Some("Alice"), None),
        segment("d", 6.5, 7.125, None, Some("(laughs)")),
    ]
    .concat();
    let mut second = [segment(
        "e",
        1.0,
        3.0,
        Some("Speaker 1"),
        Some("Welcome & hello."),
    )]
    .concat();
    second.push(
        json!({"id": "f", "from_name": "summary", "to_name": "audio", "type": "textarea",
        "value": {"text": ["Welcome and hello."]}}),
    );
    vec![
        task(1, "https://example.com/calls/call one.wav", first),
        ExportTask {
            audio_name: Some("interview.mp3".into()),
            ..task(
                2,
                "/api/v1/media/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                second,
            )
        },
        // No annotation: skipped.
        task(3, "/x.wav", vec![]).without_annotations(),
    ]
}

trait WithoutAnnotations {
    fn without_annotations(self) -> Self;
}

impl WithoutAnnotations for ExportTask {
    fn without_annotations(mut self) -> Self {
        self.annotations.clear();
        self
    }
}

fn export(format: AudioFormat) -> (String, MemoryFiles, AudioSummary) {
    let mut writer = AudioWriter::new(Vec::new(), format, options());
    let mut files = MemoryFiles::default();
    for task in tasks() {
        writer.write_task(&task, None, &mut files).unwrap();
    }
    let (out, summary) = writer.finish().unwrap();
    (String::from_utf8(out).unwrap(), files, summary)
}

#[test]
fn rttm_lists_who_spoke_when_and_pyannote_reads_it_back() {
    let (text, files, summary) = export(AudioFormat::Rttm);
    dataset_support::golden("audio_export.rttm", text.as_bytes());
    assert!(files.0.is_empty());
    assert_eq!(
        summary,
        AudioSummary {
            files: 2,
            segments: 4,
            skipped_tasks: 1,
            left_out: 1
        }
    );
    judge_with_pyannote(
        &text,
        &json!({
            "call_one": [[0.0, 2.5, "Alice"], [2.0, 4.25, "Bob"], [5.0, 6.0, "Alice"]],
            "interview": [[1.0, 3.0, "Speaker_1"]],
        }),
    );
}

#[test]
fn subtitles_have_a_file_per_sound_with_cues_in_time_order() {
    let (text, files, summary) = export(AudioFormat::WebVtt);
    assert!(text.is_empty());
    assert_eq!(
        files.0.keys().collect::<Vec<_>>(),
        ["call_one.vtt", "interview.vtt"]
    );
    golden("audio_export.vtt", &files.0["call_one.vtt"]);
    assert_eq!(summary.segments, 4);
    assert_eq!(summary.left_out, 1, "the segment without a transcript");

    let (_, files, _) = export(AudioFormat::Srt);
    assert_eq!(
        files.0.keys().collect::<Vec<_>>(),
        ["call_one.srt", "interview.srt"]
    );
    golden("audio_export.srt", &files.0["call_one.srt"]);
}

#[test]
fn nemo_manifests_have_a_line_per_transcribed_segment() {
    let (text, _, summary) = export(AudioFormat::NemoAsr);
    dataset_support::golden("audio_export.nemo.jsonl", text.as_bytes());
    for line in text.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        assert!(
            row["audio_filepath"].is_string()
                && row["text"].is_string()
                && row["duration"].is_number(),
            "{row}"
        );
    }
    assert_eq!(summary.segments, 4);
}

/// Runs tests/python/pyannote_check.py on the RTTM when GLOSS_TEST_PYTHON names a python.
fn judge_with_pyannote(text: &str, expected: &Value) {
    let Some(python) = dataset_support::test_python("pyannote") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.rttm");
    std::fs::write(&file, text).unwrap();
    let want = dir.path().join("expected.json");
    std::fs::write(&want, expected.to_string()).unwrap();
    dataset_support::run_python_check(
        &python,
        "pyannote_check.py",
        &[file.as_os_str(), want.as_os_str()],
        &[],
    );
}
