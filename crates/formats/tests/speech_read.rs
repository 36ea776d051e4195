//! Speech datasets in: what the speech exports write reads back as the same
//! segments, speakers and transcripts; broken lines are refused by file and line.

mod dataset_support;

use gloss_formats::{
    read_speech_dataset, AudioExportOptions, AudioFormat, AudioWriter, ControlRef, ExportTask,
    FormatError, MemoryFiles, SpeechImportOptions,
};
use gloss_types::result::ResultValue;
use serde_json::json;

fn control(name: &str) -> ControlRef {
    ControlRef {
        from_name: name.into(),
        to_name: "audio".into(),
    }
}

fn options() -> SpeechImportOptions {
    SpeechImportOptions {
        audio_field: "audio".into(),
        labels: Some((control("speaker"), vec!["Alice".into(), "Bob".into()])),
        transcript: Some(control("transcription")),
        file_transcript: Some(control("summary")),
    }
}

/// (start, end, speaker, transcript) of each segment of a task's annotation.
fn segments(task: &gloss_formats::TaskRecord) -> Vec<(f64, f64, Option<String>, Option<String>)> {
    let result = &task.annotations[0].result;
    result
        .iter()
        .filter_map(|r| {
            let (start, end, labels) = r.value.audio_segment()?;
            let text = result.iter().find_map(|t| match &t.value {
                ResultValue::TextArea(v) if t.id == r.id && t.from_name == "transcription" => {
                    Some(v.text.join("\n"))
                }
                _ => None,
            });
            Some((start, end, labels.first().cloned(), text))
        })
        .collect()
}

fn files(entries: &[(&str, &str)]) -> MemoryFiles {
    let mut files = MemoryFiles::default();
    for (path, text) in entries {
        files.0.insert((*path).to_owned(), text.as_bytes().to_vec());
    }
    files
}

#[test]
fn exported_rttm_and_webvtt_read_back_as_the_same_segments() {
    let results = [
        json!({"id": "a", "from_name": "speaker", "to_name": "audio", "type": "labels", "value": {"start": 0.5, "end": 2.25, "channel": 0, "labels": ["Alice"]}}),
        json!({"id": "a", "from_name": "transcription", "to_name": "audio", "type": "textarea", "value": {"start": 0.5, "end": 2.25, "channel": 0, "text": ["Hello <Bob> & you."]}}),
        json!({"id": "b", "from_name": "speaker", "to_name": "audio", "type": "labels", "value": {"start": 2.0, "end": 3.5, "channel": 0, "labels": ["Bob"]}}),
        json!({"id": "b", "from_name": "transcription", "to_name": "audio", "type": "textarea", "value": {"start": 2.0, "end": 3.5, "channel": 0, "text": ["Hi!"]}}),
        json!({"id": "c", "from_name": "speaker", "to_name": "audio", "type": "labels", "value": {"start": 4.0, "end": 5.0, "channel": 0, "labels": ["Alice"]}}),
    ];
    let mut data = serde_json::Map::new();
    data.insert("audio".into(), json!("calls/call one.wav"));
    let task = ExportTask {
        id: 1,
        data,
        annotations: vec![gloss_formats::ExportAnnotation {
            id: 1,
            record: gloss_formats::AnnotationRecord {
                result: results.into_iter().map(dataset_support::item).collect(),
                ..Default::default()
            },
            stored_result: None,
        }],
        ..ExportTask::default()
    };
    let export = AudioExportOptions {
        audio_field: "audio".into(),
        audio_object: "audio".into(),
        labels_control: Some("speaker".into()),
        transcript_control: Some("transcription".into()),
        file_transcript_control: None,
    };
    let mut dataset = MemoryFiles::default();
    for (format, name) in [
        (AudioFormat::Rttm, "calls/all.rttm"),
        (AudioFormat::WebVtt, ""),
    ] {
        let mut writer = AudioWriter::new(Vec::new(), format, export.clone());
        writer
            .write_task(&task, Some("calls"), &mut dataset)
            .unwrap();
        let (out, _) = writer.finish().unwrap();
        if !name.is_empty() {
            dataset.0.insert(name.into(), out);
        }
    }
    dataset
        .0
        .insert("calls/call one.wav".into(), b"RIFF".to_vec());
    assert!(
        dataset.0.contains_key("calls/call_one.vtt"),
        "{:?}",
        dataset.0.keys()
    );

    let (tasks, rejections) = read_speech_dataset(&dataset, &options()).unwrap();
    assert!(rejections.is_empty());
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].data["audio"], json!("calls/call one.wav"));
    assert_eq!(
        segments(&tasks[0]),
        [
            (
                0.5,
                2.25,
                Some("Alice".into()),
                Some("Hello <Bob> & you.".into())
            ),
            (2.0, 3.5, Some("Bob".into()), Some("Hi!".into())),
            (4.0, 5.0, Some("Alice".into()), None),
        ]
    );
}

#[test]
fn srt_and_nemo_give_transcripts_and_whole_file_text() {
    let dataset = files(&[
        ("a.wav", "RIFF"),
        ("a.srt", "1\n00:00:01,000 --> 00:00:02,500\nBob: Good morning.\n\n2\n00:00:03,000 --> 00:00:04,000\nNarrator: not a label\n"),
        ("b.flac", "fLaC"),
        ("manifest.json", "{\"audio_filepath\": \"b.flac\", \"offset\": 1.5, \"duration\": 2, \"text\": \"one\"}\n{\"audio_filepath\": \"./b.flac\", \"duration\": 9.0, \"text\": \"one two\"}\n"),
        ("notes.json", "{\"title\": \"not a manifest\"}"),
    ]);
    let (tasks, _) = read_speech_dataset(&dataset, &options()).unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        segments(&tasks[0]),
        [
            (1.0, 2.5, Some("Bob".into()), Some("Good morning.".into())),
            (3.0, 4.0, None, Some("Narrator: not a label".into())),
        ]
    );
    assert_eq!(segments(&tasks[1]), [(1.5, 3.5, None, Some("one".into()))]);
    let whole = tasks[1].annotations[0]
        .result
        .iter()
        .find(|r| r.from_name == "summary")
        .expect("the whole-file transcript");
    assert!(matches!(&whole.value, ResultValue::TextArea(v) if v.text == ["one two"]));
}

#[test]
fn broken_files_are_refused_by_file_and_line() {
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("x.wav", ""),
                ("x.rttm", "SPEAKER x 1 0.0 1.0 <NA> <NA> Carol <NA> <NA>\n"),
            ],
            "x.rttm: line 1: speaker `Carol` is not a label",
        ),
        (
            &[
                ("x.wav", ""),
                ("x.rttm", "\nSPEAKER y 1 0.0 1.0 <NA> <NA> Bob <NA> <NA>\n"),
            ],
            "x.rttm: line 2: file id `y` is no sound",
        ),
        (
            &[
                ("x.wav", ""),
                ("x.vtt", "WEBVTT\n\n00:01.000 --> later\nhi\n"),
            ],
            "x.vtt: line 3: `00:01.000 --> later` is not a cue's timing",
        ),
        (
            &[
                ("x.wav", ""),
                ("y.srt", "1\n00:00:01,000 --> 00:00:02,000\nhi\n"),
            ],
            "y.srt: has no sound file of the same name",
        ),
        (&[("notes.txt", "")], "holds no sound files"),
    ];
    for (entries, want) in cases {
        let err = read_speech_dataset(&files(entries), &options()).expect_err(want);
        assert!(matches!(err, FormatError::Dataset { .. }), "{err}");
        assert!(err.to_string().contains(want), "{err} (wanted {want})");
    }
}
