//! Box tracks of a video out as MOT and CVAT for video, judged by datumaro.

mod dataset_support;

use gloss_formats::{
    AnnotationRecord, ExportAnnotation, ExportTask, MemoryFiles, TrackFormat, TrackWriter,
    VideoInfo,
};
use serde_json::{json, Value};

/// A 200×100 video of 10 frames with one track: keyframes on frames 1 and
/// 5, outside from frame 8; and a second, occluded, track on frames 3 to 10.
fn video_task() -> ExportTask {
    let key = |frame: u64, x: f64, enabled: bool, occluded: bool| json!({"frame": frame, "enabled": enabled, "x": x, "y": 10, "width": 10, "height": 20, "occluded": occluded});
    let track = |id: &str, label: &str, sequence: Value| {
        serde_json::from_value(
            json!({"id": id, "from_name": "box", "to_name": "video", "type": "videorectangle",
            "value": {"framesCount": 10, "sequence": sequence, "labels": [label]}}),
        )
        .unwrap()
    };
    ExportTask {
        id: 1,
        video: Some(VideoInfo {
            file_name: "street.mp4".into(),
            width: 200,
            height: 100,
            frames: 10,
            frame_rate: 25.0,
        }),
        annotations: vec![ExportAnnotation {
            id: 1,
            record: AnnotationRecord {
                result: vec![
                    track(
                        "t1",
                        "car",
                        json!([
                            key(1, 0.0, true, false),
                            key(5, 40.0, true, false),
                            key(8, 40.0, false, false)
                        ]),
                    ),
                    track("t2", "person", json!([key(3, 80.0, true, true)])),
                ],
                ..AnnotationRecord::default()
            },
            stored_result: None,
        }],
        ..ExportTask::default()
    }
}

fn export(format: TrackFormat) -> MemoryFiles {
    let mut files = MemoryFiles::default();
    let mut writer = TrackWriter::new(format, vec!["car".into(), "person".into()]);
    writer.write_task(&video_task(), &mut files).unwrap();
    let summary = writer.finish();
    assert_eq!(
        (summary.videos, summary.tracks, summary.boxes),
        (1, 2, 7 + 8)
    );
    files
}

/// The boxes datumaro must see on each frame, in pixels, by the item id
/// `id` gives the 1-based frame.
fn expected_frames(id: impl Fn(u64) -> String) -> Value {
    let mut items = serde_json::Map::new();
    for frame in 1..=10u64 {
        let mut shapes = Vec::new();
        if frame <= 7 {
            // 0 → 80 px from frame 1 to 5, then still.
            let x = 20.0 * (frame.min(5) - 1) as f64;
            shapes.push(json!({"type": "bbox", "label": "car", "bbox": [x, 10, 20, 20]}));
        }
        if frame >= 3 {
            shapes.push(json!({"type": "bbox", "label": "person", "bbox": [160, 10, 20, 20]}));
        }
        items.insert(id(frame), json!({"shapes": shapes}));
    }
    Value::Object(items)
}

#[test]
fn mot_lists_every_frame_and_datumaro_reads_it() {
    let files = export(TrackFormat::Mot);
    let gt = files.text("street/gt/gt.txt").unwrap();
    let rows: Vec<&str> = gt.lines().collect();
    assert_eq!(rows.len(), 15);
    assert_eq!(rows[0], "1,1,0,10,20,20,1,1,1");
    assert_eq!(rows[2], "3,1,40,10,20,20,1,1,1");
    assert_eq!(rows[3], "3,2,160,10,20,20,1,2,0", "occluded: visibility 0");
    assert_eq!(files.text("street/gt/labels.txt").unwrap(), "car\nperson\n");
    assert!(files
        .text("street/seqinfo.ini")
        .unwrap()
        .contains("seqLength=10\nimWidth=200\nimHeight=100"));

    let (out, _temporary) = dataset_support::datumaro_out();
    let dir = out.join("mot");
    dataset_support::write_files(&files, &dir);
    // datumaro's mot_seq reads one sequence folder.
    let expected =
        json!({"labels": ["car", "person"], "items": expected_frames(|frame| frame.to_string())});
    let sequence = dir.join("street");
    std::fs::write(
        sequence.join("expected.json"),
        serde_json::to_string_pretty(&expected).unwrap(),
    )
    .unwrap();
    dataset_support::judge_with_datumaro("mot_seq", &sequence);
}

#[test]
fn cvat_video_lists_every_frame_and_datumaro_reads_it() {
    let files = export(TrackFormat::CvatVideo);
    let xml = files.text("street/annotations.xml").unwrap();
    assert_eq!(xml.matches("<track ").count(), 2);
    assert!(
        xml.contains(r#"<box frame="7" keyframe="1" outside="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<box frame="2" keyframe="1" outside="0" occluded="1" xtl="160""#),
        "{xml}"
    );

    let (out, _temporary) = dataset_support::datumaro_out();
    let dir = out.join("cvat-video");
    dataset_support::write_files(&files, &dir);
    let sequence = dir.join("street");
    // CVAT numbers frames from 0; datumaro names items after them
    // (`frame_000000`) and also reads the `outside` box as a shape.
    let mut items = expected_frames(|frame| format!("frame_{:06}", frame - 1));
    items["frame_000007"]["shapes"]
        .as_array_mut()
        .unwrap()
        .insert(
            0,
            json!({"type": "bbox", "label": "car", "bbox": [80, 10, 20, 20]}),
        );
    let expected = json!({"labels": ["car", "person"], "items": items});
    std::fs::write(
        sequence.join("expected.json"),
        serde_json::to_string_pretty(&expected).unwrap(),
    )
    .unwrap();
    dataset_support::judge_with_datumaro("cvat", &sequence);
}
