//! How long CVAT for video and MOT take for a 10,000-frame video with 20
//! tracks (a keyframe every 50 frames, so every other frame interpolated),
//! written and read back (the reader keeps only the keyframes interpolation
//! needs). Run by bench/video-tracks.sh; prints two lines per format.

use gloss_formats::{
    read_video_dataset, AnnotationRecord, ControlRef, ExportAnnotation, ExportTask, MemoryFiles,
    TrackFormat, TrackWriter, VideoImportOptions, VideoInfo,
};
use gloss_types::result::ResultValue;
use serde_json::json;
use std::time::Instant;

const FRAMES: u64 = 10_000;
const TRACKS: usize = 20;

fn task() -> ExportTask {
    let tracks = (0..TRACKS)
        .map(|t| {
            let sequence: Vec<_> = (0..=FRAMES / 50)
                .map(|k| {
                    let frame = (k * 50).max(1);
                    let x = ((k as f64 * 7.0 + t as f64 * 3.0) % 80.0) + 1.0;
                    json!({"frame": frame, "enabled": true, "x": x, "y": 10 + t, "width": 10, "height": 12})
                })
                .collect();
            serde_json::from_value(json!({"id": format!("t{t}"), "from_name": "box", "to_name": "video",
                "type": "videorectangle", "value": {"framesCount": FRAMES, "sequence": sequence, "labels": ["car"]}}))
            .unwrap()
        })
        .collect();
    ExportTask {
        id: 1,
        video: Some(VideoInfo {
            file_name: "long.mp4".into(),
            width: 1920,
            height: 1080,
            frames: FRAMES,
            frame_rate: 25.0,
        }),
        annotations: vec![ExportAnnotation {
            id: 1,
            record: AnnotationRecord {
                result: tracks,
                ..AnnotationRecord::default()
            },
            stored_result: None,
        }],
        ..ExportTask::default()
    }
}

fn main() {
    let task = task();
    for (name, format) in [("cvat", TrackFormat::CvatVideo), ("mot", TrackFormat::Mot)] {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..5 {
            let started = Instant::now();
            let mut files = MemoryFiles::default();
            let mut writer = TrackWriter::new(format, vec!["car".into()]);
            writer.write_task(&task, &mut files).unwrap();
            let summary = writer.finish();
            times.push(started.elapsed().as_secs_f64());
            assert_eq!(summary.boxes, FRAMES * TRACKS as u64);
            bytes = files.0.values().map(Vec::len).sum::<usize>();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name}: {} frames x {TRACKS} tracks = {} boxes, {:.1} MB: median {:.0} ms (min {:.0} ms)",
            FRAMES,
            FRAMES * TRACKS as u64,
            bytes as f64 / 1e6,
            times[2] * 1000.0,
            times[0] * 1000.0
        );
        read_back(name, format, &task);
    }
}

/// Reads the export back as the import does, and checks it finds each
/// track's keyframes again.
fn read_back(name: &str, format: TrackFormat, task: &ExportTask) {
    let mut files = MemoryFiles::default();
    let mut writer = TrackWriter::new(format, vec!["car".into()]);
    writer.write_task(task, &mut files).unwrap();
    files.0.insert("long.mp4".into(), Vec::new());
    let options = VideoImportOptions {
        video_field: "video".into(),
        tracks: Some(ControlRef {
            from_name: "box".into(),
            to_name: "video".into(),
        }),
        ..VideoImportOptions::default()
    };
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let (tasks, rejections) = read_video_dataset(&files, &options, &|_| None).unwrap();
        times.push(started.elapsed().as_secs_f64());
        assert!(rejections.is_empty(), "{rejections:?}");
        let keyframes: usize = tasks[0].annotations[0]
            .result
            .iter()
            .map(|r| match &r.value {
                ResultValue::VideoRectangle(track) => track.sequence.len(),
                _ => 0,
            })
            .sum();
        // The keyframes set, give or take those interpolation gives back anyway.
        assert!(
            keyframes <= TRACKS * (FRAMES as usize / 50 + 1),
            "{keyframes}"
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{name} read back: median {:.0} ms (min {:.0} ms)",
        times[2] * 1000.0,
        times[0] * 1000.0
    );
}
