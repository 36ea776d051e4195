//! Box tracks of a video out as MOT and CVAT for video, judged by datumaro,
//! and read back in (with datumaro's own MOT export).

mod dataset_support;

use gloss_formats::{
    read_video_dataset, AnnotationRecord, ControlRef, ExportAnnotation, ExportTask, MemoryFiles,
    TaskRecord, TrackFormat, TrackWriter, VideoImportOptions, VideoInfo,
};
use gloss_types::result::ResultValue;
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

fn import_options() -> VideoImportOptions {
    VideoImportOptions {
        video_field: "video".into(),
        tracks: Some(ControlRef {
            from_name: "box".into(),
            to_name: "video".into(),
        }),
        ..VideoImportOptions::default()
    }
}

/// Each track of the task's annotation: its id, label and keyframes as
/// `(frame, enabled, x, occluded)`.
type Keyframes = Vec<(u64, bool, f64, bool)>;
fn tracks_of(task: &TaskRecord) -> Vec<(String, String, Keyframes)> {
    task.annotations[0]
        .result
        .iter()
        .map(|result| {
            let ResultValue::VideoRectangle(track) = &result.value else {
                panic!("not a track: {result:?}");
            };
            let keys = track
                .sequence
                .iter()
                .map(|k| {
                    let x = (k.x * 1e6).round() / 1e6;
                    (k.frame, k.enabled, x, k.occluded == Some(true))
                })
                .collect();
            (result.id.clone().unwrap(), track.labels[0].clone(), keys)
        })
        .collect()
}

/// What the export of [`video_task`] reads back as: the keyframes set,
/// none of the frames interpolated between them.
fn expected_tracks(first: &str, second: &str) -> Vec<(String, String, Keyframes)> {
    vec![
        (
            first.into(),
            "car".into(),
            vec![
                (1, true, 0.0, false),
                (5, true, 40.0, false),
                (8, false, 40.0, false),
            ],
        ),
        (second.into(), "person".into(), vec![(3, true, 80.0, true)]),
    ]
}

#[test]
fn mot_and_cvat_video_exports_read_back_as_the_keyframes_set() {
    for (format, ids) in [
        (TrackFormat::Mot, ["mot-1", "mot-2"]),
        (TrackFormat::CvatVideo, ["cvat-0", "cvat-1"]),
    ] {
        let mut files = export(format);
        // The export holds no frames: the video goes beside its folder.
        files.0.insert("street.mp4".into(), Vec::new());
        let no_size = |_: &str| -> Option<(u32, u32)> { None };
        let (tasks, rejections) = read_video_dataset(&files, &import_options(), &no_size).unwrap();
        assert!(rejections.is_empty(), "{format:?}: {rejections:?}");
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].data["video"], "street.mp4");
        assert_eq!(
            tracks_of(&tasks[0]),
            expected_tracks(ids[0], ids[1]),
            "{format:?}"
        );
        let ResultValue::VideoRectangle(track) = &tasks[0].annotations[0].result[0].value else {
            unreachable!()
        };
        assert_eq!(track.frames_count, Some(10));
        assert_eq!(
            (
                track.sequence[0].y,
                track.sequence[0].width,
                track.sequence[0].height
            ),
            (10.0, 10.0, 20.0)
        );
    }
}

#[test]
fn datumaros_mot_sequence_imports_as_an_image_sequence_with_its_tracks() {
    let files = dataset_support::files_in(&dataset_support::data_dir("datumaro_mot"));
    let size = |path: &str| (path == "img1/000001.jpg").then_some((32, 24));
    let (tasks, rejections) = read_video_dataset(&files, &import_options(), &size).unwrap();
    assert!(rejections.is_empty(), "{rejections:?}");
    assert_eq!(tasks.len(), 1);
    let frames: Vec<String> = (1..=6).map(|f| format!("img1/{f:06}.jpg")).collect();
    assert_eq!(tasks[0].data["video"], json!(frames));
    // The car moves 2 px a frame on frames 1-4, is gone on 5 and back at
    // x = 10 on 6; the person stands, occluded, on frames 2-6. 32 px wide.
    let pct = |px: f64| (px * 100.0 / 32.0 * 1e6).round() / 1e6;
    assert_eq!(
        tracks_of(&tasks[0]),
        vec![
            (
                "mot-1".into(),
                "car".into(),
                vec![
                    (1, true, 0.0, false),
                    (4, true, pct(6.0), false),
                    (5, false, pct(6.0), false),
                    (6, true, pct(10.0), false)
                ]
            ),
            (
                "mot-2".into(),
                "person".into(),
                vec![(2, true, pct(20.0), true)]
            ),
        ]
    );
}

#[test]
fn image_folders_without_annotations_are_sequences_and_bad_rows_are_named() {
    let mut files = MemoryFiles::default();
    for name in [
        "cam/f10.png",
        "cam/f2.png",
        "cam/f1.png",
        "walk.webm",
        "notes.txt",
    ] {
        files.0.insert(name.into(), Vec::new());
    }
    let no_size = |_: &str| -> Option<(u32, u32)> { None };
    let (tasks, rejections) = read_video_dataset(&files, &import_options(), &no_size).unwrap();
    assert!(rejections.is_empty(), "{rejections:?}");
    let videos: Vec<&serde_json::Value> = tasks.iter().map(|t| &t.data["video"]).collect();
    assert_eq!(
        videos,
        [
            &json!("walk.webm"),
            &json!(["cam/f1.png", "cam/f2.png", "cam/f10.png"])
        ]
    );

    let mut bad = MemoryFiles::default();
    bad.0.insert(
        "s/seqinfo.ini".into(),
        b"[Sequence]\nimWidth=100\nimHeight=50\nseqLength=5\n".to_vec(),
    );
    bad.0.insert("s/img1/000001.jpg".into(), Vec::new());
    bad.0.insert(
        "s/gt/gt.txt".into(),
        b"1,1,0,0,10,10,1,1,1\nx,1,0,0,10,10,1,1,1\n2,1,0,0,-3,10,1,1,1\n3,1,0,0,10,10,1,9,1\n7,1,0,0,10,10,1,1,1\n".to_vec(),
    );
    let (tasks, rejections) = read_video_dataset(&bad, &import_options(), &no_size).unwrap();
    assert!(tasks.is_empty());
    let fields: Vec<(&str, &str)> = rejections
        .iter()
        .map(|r| (r.field.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(fields.len(), 4, "{fields:#?}");
    assert!(
        fields[0].0 == "s/gt/gt.txt:line 2" && fields[0].1.contains("frame"),
        "{fields:?}"
    );
    assert!(
        fields[1].0 == "s/gt/gt.txt:line 3" && fields[1].1.contains("width and height"),
        "{fields:?}"
    );
    assert!(
        fields[2].0 == "s/gt/gt.txt:line 4" && fields[2].1.contains("class"),
        "{fields:?}"
    );
    assert!(
        fields[3].1.contains("frame 7; the video has 5 frames"),
        "{fields:?}"
    );
}

/// A 200×100 video of 10 frames with a polygon track (a triangle moving
/// 40 px right from frame 1 to 5, outside from frame 8) and a polyline
/// track that changes its number of points on frame 6.
fn shape_task(with_skeleton: bool) -> ExportTask {
    let item = |value: Value| serde_json::from_value(value).unwrap();
    let mut result = vec![
        item(
            json!({"id": "p", "from_name": "outline", "to_name": "video", "type": "videopolygon",
            "value": {"framesCount": 10, "labels": ["car"], "sequence": [
                {"frame": 1, "points": [[0, 0], [10, 0], [10, 20]]},
                {"frame": 5, "points": [[20, 0], [30, 0], [30, 20]], "occluded": true},
                {"frame": 8, "enabled": false}]}}),
        ),
        item(
            json!({"id": "l", "from_name": "lane", "to_name": "video", "type": "videopolyline",
            "value": {"framesCount": 10, "labels": ["person"], "sequence": [
                {"frame": 3, "points": [[50, 50], [60, 60]]},
                {"frame": 6, "points": [[50, 50], [60, 60], [70, 50]]}]}}),
        ),
    ];
    if with_skeleton {
        result.push(item(json!({"id": "s", "from_name": "pose", "to_name": "video", "type": "videokeypointlabels",
            "value": {"framesCount": 10, "labels": ["person"], "sequence": [
                {"frame": 2, "joints": [{"label": "head", "x": 10, "y": 10}, {"label": "hand", "x": 20, "y": 20, "visibility": "occluded"}]},
                {"frame": 4, "joints": [{"label": "head", "x": 30, "y": 10}]},
                {"frame": 6, "enabled": false}]}})));
    }
    ExportTask {
        id: 2,
        video: Some(VideoInfo {
            file_name: "road.mp4".into(),
            width: 200,
            height: 100,
            frames: 10,
            frame_rate: 25.0,
        }),
        annotations: vec![ExportAnnotation {
            id: 2,
            record: AnnotationRecord {
                result,
                ..AnnotationRecord::default()
            },
            stored_result: None,
        }],
        ..ExportTask::default()
    }
}

#[test]
fn cvat_video_holds_polygon_polyline_and_skeleton_tracks_and_datumaro_reads_them() {
    let mut files = MemoryFiles::default();
    let mut writer = TrackWriter::new(TrackFormat::CvatVideo, vec!["car".into(), "person".into()])
        .with_skeleton(
            vec!["head".into(), "hand".into()],
            vec![["head".into(), "hand".into()]],
        );
    writer.write_task(&shape_task(true), &mut files).unwrap();
    let summary = writer.finish();
    // Polygon frames 1-7, polyline 3-10, skeleton 2-5.
    assert_eq!((summary.tracks, summary.boxes), (3, 7 + 8 + 4));
    let xml = files.text("road/annotations.xml").unwrap();
    for expected in [
        r#"<polygon frame="0" keyframe="1" outside="0" occluded="0" points="0,0;20,0;20,20" z_order="0">"#,
        // Halfway to the occluded keyframe on frame 5 (0-based 4).
        r#"<polygon frame="2" keyframe="0" outside="0" occluded="0" points="20,0;40,0;40,20" z_order="0">"#,
        r#"<polygon frame="4" keyframe="1" outside="0" occluded="1" points="40,0;60,0;60,20""#,
        r#"<polygon frame="7" keyframe="1" outside="1" occluded="1" points="40,0;60,0;60,20""#,
        // Point counts differ: held until frame 6 (0-based 5).
        r#"<polyline frame="4" keyframe="0" outside="0" occluded="0" points="100,50;120,60" z_order="0">"#,
        r#"<polyline frame="5" keyframe="1" outside="0" occluded="0" points="100,50;120,60;140,50""#,
        r#"<skeleton frame="2" keyframe="0" outside="0" occluded="0" z_order="0">"#,
        r#"<points label="head" keyframe="0" outside="0" occluded="0" points="40,10">"#,
        r#"<points label="hand" keyframe="0" outside="0" occluded="1" points="40,20">"#,
        r#"<points label="hand" keyframe="1" outside="1" occluded="0" points="0,0">"#,
        "<type>skeleton</type>",
        "<parent>person</parent>",
    ] {
        assert!(xml.contains(expected), "{expected} in\n{xml}");
    }
    assert_eq!(
        xml.matches("<polygon ").count(),
        8,
        "7 frames and the outside one"
    );

    // datumaro reads the polygons and polylines of every frame (its CVAT
    // reader does not read skeleton tracks).
    let mut files = MemoryFiles::default();
    let mut writer = TrackWriter::new(TrackFormat::CvatVideo, vec!["car".into(), "person".into()]);
    writer.write_task(&shape_task(false), &mut files).unwrap();
    let (out, _temporary) = dataset_support::datumaro_out();
    let dir = out.join("cvat-video-shapes");
    dataset_support::write_files(&files, &dir);
    let mut items = serde_json::Map::new();
    for frame in 1..=10u64 {
        let mut shapes = Vec::new();
        if frame <= 7 {
            let x = 10.0 * (frame.min(5) - 1) as f64;
            shapes.push(json!({"type": "polygon", "label": "car", "points": [x, 0, x + 20.0, 0, x + 20.0, 20]}));
        }
        if frame == 8 {
            // datumaro reads the outside polygon as a shape too.
            shapes
                .push(json!({"type": "polygon", "label": "car", "points": [40, 0, 60, 0, 60, 20]}));
        }
        if (3..=5).contains(&frame) {
            shapes
                .push(json!({"type": "polyline", "label": "person", "points": [100, 50, 120, 60]}));
        } else if frame >= 6 {
            shapes.push(json!({"type": "polyline", "label": "person", "points": [100, 50, 120, 60, 140, 50]}));
        }
        items.insert(format!("frame_{:06}", frame - 1), json!({"shapes": shapes}));
    }
    let expected = json!({"labels": ["car", "person"], "items": items});
    let sequence = dir.join("road");
    std::fs::write(
        sequence.join("expected.json"),
        serde_json::to_string_pretty(&expected).unwrap(),
    )
    .unwrap();
    dataset_support::judge_with_datumaro("cvat", &sequence);
}

#[test]
fn cvat_video_shape_tracks_read_back_as_their_keyframes() {
    let mut files = MemoryFiles::default();
    let mut writer = TrackWriter::new(TrackFormat::CvatVideo, vec!["car".into(), "person".into()])
        .with_skeleton(
            vec!["head".into(), "hand".into()],
            vec![["head".into(), "hand".into()]],
        );
    writer.write_task(&shape_task(true), &mut files).unwrap();
    files.0.insert("road/road.mp4".into(), Vec::new());
    let control = |name: &str| {
        Some(ControlRef {
            from_name: name.into(),
            to_name: "video".into(),
        })
    };
    let options = VideoImportOptions {
        polygons: control("outline"),
        polylines: control("lane"),
        skeletons: control("pose"),
        ..import_options()
    };
    let no_size = |_: &str| -> Option<(u32, u32)> { None };
    let (tasks, rejections) = read_video_dataset(&files, &options, &no_size).unwrap();
    assert!(rejections.is_empty(), "{rejections:?}");
    let exported = shape_task(true);
    let original = &exported.annotations[0].record.result;
    let read = &tasks[0].annotations[0].result;
    assert_eq!(read.len(), 3);
    for (read, original) in read.iter().zip(original) {
        assert_eq!(read.from_name, original.from_name);
        assert_eq!(read.value.type_name(), original.value.type_name());
        let (ResultValue::VideoPolygon(a)
        | ResultValue::VideoPolyLine(a)
        | ResultValue::VideoKeyPointLabels(a)) = &read.value
        else {
            panic!("{read:?}")
        };
        let (ResultValue::VideoPolygon(b)
        | ResultValue::VideoPolyLine(b)
        | ResultValue::VideoKeyPointLabels(b)) = &original.value
        else {
            unreachable!()
        };
        let frames = |t: &gloss_types::result::ShapeTrackValue| {
            t.sequence
                .iter()
                .map(|k| (k.frame, k.enabled, k.occluded == Some(true)))
                .collect::<Vec<_>>()
        };
        assert_eq!(frames(a), frames(b), "{}", read.from_name);
        for (ka, kb) in a
            .sequence
            .iter()
            .zip(&b.sequence)
            .filter(|(k, _)| k.enabled)
        {
            assert_eq!(
                ka.points, kb.points,
                "{} frame {}",
                read.from_name, ka.frame
            );
            assert_eq!(
                ka.joints, kb.joints,
                "{} frame {}",
                read.from_name, ka.frame
            );
        }
    }

    // A track of points, and one mixing shapes, are refused by name.
    let mut bad = MemoryFiles::default();
    bad.0.insert("v.mp4".into(), Vec::new());
    bad.0.insert(
        "annotations.xml".into(),
        br#"<annotations><meta><task><size>5</size><original_size><width>10</width><height>10</height></original_size></task></meta>
<track id="0" label="car"><points frame="0" keyframe="1" points="1,2"/></track>
<track id="1" label="car"><box frame="0" keyframe="1" xtl="0" ytl="0" xbr="1" ybr="1"/><polygon frame="1" keyframe="1" points="0,0;1,0;1,1"/></track>
</annotations>"#
            .to_vec(),
    );
    let (_, rejections) = read_video_dataset(&bad, &options, &no_size).unwrap();
    let fields: Vec<&str> = rejections.iter().map(|r| r.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "annotations.xml:track[0].points",
            "annotations.xml:track[1].polygon"
        ],
        "{rejections:?}"
    );
}

#[test]
fn cvat_video_holds_mask_tracks_and_reads_them_back() {
    // A 6×4 video of 6 frames: an L-shaped mask from frame 1, a bar from
    // frame 4 (held between), outside from frame 6.
    let rows_l = ["#.....", "#.....", "##....", "......"];
    let rows_bar = ["......", ".####.", "......", "......"];
    let counts = |rows: &[&str]| {
        let pixels: Vec<u8> = rows
            .iter()
            .flat_map(|r| r.bytes().map(|b| u8::from(b == b'#')))
            .collect();
        let mask = gloss_masks::Mask::from_row_major(6, 4, &pixels).unwrap();
        gloss_masks::CocoRle::from_mask(&mask).to_compressed()
    };
    let track: gloss_types::result::ResultItem = serde_json::from_value(json!({
        "id": "m", "from_name": "paint", "to_name": "video", "type": "videobrush",
        "original_width": 6, "original_height": 4,
        "value": {"framesCount": 6, "labels": ["car"], "sequence": [
            {"frame": 1, "format": "coco_rle", "counts": counts(&rows_l)},
            {"frame": 4, "format": "coco_rle", "counts": counts(&rows_bar), "occluded": true},
            {"frame": 6, "enabled": false}]}
    }))
    .unwrap();
    let task = ExportTask {
        id: 3,
        video: Some(VideoInfo {
            file_name: "paint.mp4".into(),
            width: 6,
            height: 4,
            frames: 6,
            frame_rate: 25.0,
        }),
        annotations: vec![ExportAnnotation {
            id: 3,
            record: AnnotationRecord {
                result: vec![track],
                ..AnnotationRecord::default()
            },
            stored_result: None,
        }],
        ..ExportTask::default()
    };
    let mut files = MemoryFiles::default();
    let mut writer = TrackWriter::new(TrackFormat::CvatVideo, vec!["car".into()]);
    writer.write_task(&task, &mut files).unwrap();
    assert_eq!(writer.finish().boxes, 5, "frames 1 to 5");
    let xml = files.text("paint/annotations.xml").unwrap();
    assert!(
        xml.contains(r#"<mask frame="1" keyframe="0" outside="0" occluded="0" rle="0, 1, 1, 1, 1, 2" left="0" top="0" width="2" height="3" z_order="0">"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<mask frame="3" keyframe="1" outside="0" occluded="1" rle="0, 4" left="1" top="1" width="4" height="1""#), "{xml}");
    assert!(
        xml.contains(r#"<mask frame="5" keyframe="1" outside="1""#),
        "{xml}"
    );

    // datumaro 1.13's CVAT reader has no masks in tracks; Gloss reads them back.
    files.0.insert("paint/paint.mp4".into(), Vec::new());
    let options = VideoImportOptions {
        masks: Some(ControlRef {
            from_name: "paint".into(),
            to_name: "video".into(),
        }),
        ..import_options()
    };
    let no_size = |_: &str| -> Option<(u32, u32)> { None };
    let (tasks, rejections) = read_video_dataset(&files, &options, &no_size).unwrap();
    assert!(rejections.is_empty(), "{rejections:?}");
    let read = &tasks[0].annotations[0].result[0];
    assert_eq!(
        (read.original_width, read.original_height),
        (Some(6), Some(4))
    );
    let ResultValue::VideoBrush(read) = &read.value else {
        panic!("{read:?}")
    };
    let ResultValue::VideoBrush(original) = &task.annotations[0].record.result[0].value else {
        unreachable!()
    };
    let keys = |t: &gloss_types::result::ShapeTrackValue| {
        t.sequence
            .iter()
            .map(|k| {
                (
                    k.frame,
                    k.enabled,
                    k.occluded == Some(true),
                    // An outside keyframe may keep the mask it hides.
                    k.counts.clone().filter(|_| k.enabled),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(read), keys(original));
}
