//! YOLO exports in the Ultralytics layout, one test per task.

mod dataset_support;

use gloss_formats::{
    read_yolo, ControlRef, ExportCategory, ExportTask, KeypointCategory, KeypointControl,
    MemoryFiles, Split, YoloClasses, YoloImportOptions, YoloTask, YoloWriter,
};
use serde_json::json;

/// The exported files as text, by path.
struct Files(std::collections::BTreeMap<String, String>);

/// A 200×100 image task with these results in one annotation.
fn task(id: i64, file_name: &str, results: Vec<serde_json::Value>) -> ExportTask {
    dataset_support::task(id, file_name, 200, 100, results)
}

fn shapes() -> YoloClasses {
    YoloClasses::Categories(vec![
        ExportCategory::shapes("car"),
        ExportCategory::shapes("road"),
    ])
}

fn boxed(label: &str, x: f64, y: f64, w: f64, h: f64, rotation: f64) -> serde_json::Value {
    json!({"id": "b", "from_name": "box", "to_name": "image", "type": "rectanglelabels",
           "value": {"x": x, "y": y, "width": w, "height": h, "rotation": rotation, "rectanglelabels": [label]}})
}

fn polygon() -> serde_json::Value {
    json!({"id": "p", "from_name": "area", "to_name": "image", "type": "polygonlabels",
           "value": {"points": [[10, 10], [50, 10], [30, 90]], "polygonlabels": ["road"]}})
}

fn export(
    task_kind: YoloTask,
    classes: YoloClasses,
    tasks: &[(ExportTask, Option<Split>)],
) -> (Files, Vec<Option<String>>) {
    let mut files = MemoryFiles::default();
    let mut writer = YoloWriter::new(task_kind, classes).expect("a writer");
    let images = tasks
        .iter()
        .map(|(task, split)| writer.write_task(task, *split, &mut files).unwrap())
        .collect();
    writer.finish(&mut files).unwrap();
    let text = files
        .0
        .keys()
        .map(|path| (path.clone(), files.text(path).unwrap()))
        .collect();
    (Files(text), images)
}

#[test]
fn detect_writes_boxes_and_the_bounds_of_polygons() {
    let tasks = [
        (
            task(
                1,
                "a.png",
                vec![boxed("car", 10.0, 20.0, 30.0, 40.0, 0.0), polygon()],
            ),
            None,
        ),
        (task(2, "b.jpg", vec![]), None),
    ];
    let (files, images) = export(YoloTask::Detect, shapes(), &tasks);
    assert_eq!(
        images,
        [
            Some("images/a.png".to_owned()),
            Some("images/b.jpg".to_owned())
        ]
    );
    assert_eq!(
        files.0["labels/a.txt"],
        "0 0.25 0.4 0.3 0.4\n1 0.3 0.5 0.4 0.8\n"
    );
    // An image without objects is a background image: an empty label file.
    assert_eq!(files.0["labels/b.txt"], "");
    assert_eq!(
        files.0["data.yaml"],
        "# YOLO dataset exported from Gloss, in the Ultralytics layout.\n\
         # Paths are relative to the folder of this file.\n\
         train: images\nval: images\nnames:\n  0: \"car\"\n  1: \"road\"\n"
    );
}

#[test]
fn segment_writes_polygons_and_box_corners_by_split() {
    let tasks = [
        (task(1, "a.png", vec![polygon()]), Some(Split::Train)),
        (
            task(2, "b.png", vec![boxed("car", 50.0, 50.0, 10.0, 20.0, 0.0)]),
            Some(Split::Validation),
        ),
    ];
    let (files, images) = export(YoloTask::Segment, shapes(), &tasks);
    assert_eq!(images[1].as_deref(), Some("images/val/b.png"));
    assert_eq!(files.0["labels/train/a.txt"], "1 0.1 0.1 0.5 0.1 0.3 0.9\n");
    assert_eq!(
        files.0["labels/val/b.txt"],
        "0 0.5 0.5 0.6 0.5 0.6 0.7 0.5 0.7\n"
    );
    let yaml = &files.0["data.yaml"];
    assert!(
        yaml.contains("train: images/train\nval: images/val\nnames:"),
        "{yaml}"
    );
    assert!(!yaml.contains("test:"), "no test split was written: {yaml}");
}

#[test]
fn obb_writes_rotated_corners_in_pixels_turned_to_fractions() {
    // A 40×20 px box at (100, 40) turned 90° clockwise about its top-left.
    let tasks = [(
        task(1, "a.png", vec![boxed("car", 50.0, 40.0, 20.0, 20.0, 90.0)]),
        None,
    )];
    let (files, _) = export(YoloTask::Obb, shapes(), &tasks);
    assert_eq!(
        files.0["labels/a.txt"],
        "0 0.5 0.4 0.5 0.8 0.4 0.8 0.4 0.4\n"
    );
}

#[test]
fn pose_writes_skeletons_with_visibility_and_flip_index() {
    let pose = ExportCategory {
        name: "person".to_owned(),
        keypoints: Some(KeypointCategory {
            control: "pose".to_owned(),
            joints: vec!["nose".into(), "left_eye".into(), "right_eye".into()],
            edges: vec![],
        }),
    };
    let point = |id: &str, label: &str, x: f64, y: f64, occluded: bool| {
        let mut value = json!({"x": x, "y": y, "keypointlabels": [label]});
        if occluded {
            value["visibility"] = json!("occluded");
        }
        json!({"id": id, "parentID": "p1", "from_name": "pose", "to_name": "image",
               "type": "keypointlabels", "value": value})
    };
    let tasks = [(
        task(
            1,
            "a.png",
            vec![
                point("k1", "nose", 50.0, 50.0, false),
                point("k3", "right_eye", 60.0, 30.0, true),
            ],
        ),
        None,
    )];
    let (files, _) = export(YoloTask::Pose, YoloClasses::Categories(vec![pose]), &tasks);
    assert_eq!(
        files.0["labels/a.txt"],
        "0 0.55 0.4 0.1 0.2 0.5 0.5 2 0 0 0 0.6 0.3 1\n"
    );
    let yaml = &files.0["data.yaml"];
    assert!(
        yaml.ends_with("kpt_shape: [3, 3]\nflip_idx: [0, 2, 1]\n"),
        "{yaml}"
    );
}

#[test]
fn classify_puts_images_in_class_folders() {
    let choice = |value: &str| {
        json!({"id": "c", "from_name": "kind", "to_name": "image", "type": "choices",
               "value": {"choices": [value]}})
    };
    let tasks = [
        (task(1, "a.png", vec![choice("cat")]), Some(Split::Test)),
        (task(2, "b.png", vec![choice("dog")]), None),
        (task(3, "c.png", vec![]), None),
    ];
    let classes = YoloClasses::Choices {
        control: "kind".to_owned(),
        choices: vec!["cat".into(), "dog".into()],
    };
    let (files, images) = export(YoloTask::Classify, classes, &tasks);
    assert_eq!(
        images,
        [
            Some("test/cat/a.png".to_owned()),
            Some("train/dog/b.png".to_owned()),
            None
        ]
    );
    assert!(
        files.0.is_empty(),
        "classify has no label files: {:?}",
        files.0
    );
}

#[test]
fn classes_that_do_not_fit_the_task_are_refused() {
    let no_pose = YoloWriter::new(YoloTask::Pose, shapes()).err().unwrap();
    assert!(no_pose.contains("KeyPointLabels"), "{no_pose}");
    let no_choices = YoloWriter::new(YoloTask::Classify, shapes()).err().unwrap();
    assert!(no_choices.contains("Choices"), "{no_choices}");
    let none = YoloWriter::new(YoloTask::Detect, YoloClasses::Categories(vec![]))
        .err()
        .unwrap();
    assert!(none.contains("at least one class"), "{none}");
}

/// Writes tasks as a YOLO dataset (with placeholder image files) and reads
/// it back.
fn round_trip(
    kind: YoloTask,
    classes: YoloClasses,
    tasks: &[(ExportTask, Option<Split>)],
    options: &YoloImportOptions,
) -> (
    Vec<gloss_formats::TaskRecord>,
    Vec<gloss_formats::Rejection>,
) {
    let mut files = MemoryFiles::default();
    let mut writer = YoloWriter::new(kind, classes).unwrap();
    for (task, split) in tasks {
        if let Some(image) = writer.write_task(task, *split, &mut files).unwrap() {
            files.0.insert(image, b"not read".to_vec());
        }
    }
    writer.finish(&mut files).unwrap();
    let options = YoloImportOptions {
        task: Some(kind),
        ..options.clone()
    };
    read_yolo(&files, &options, &|_| Some((200, 100))).unwrap()
}

fn import_options() -> YoloImportOptions {
    let control = |name: &str| {
        Some(ControlRef {
            from_name: name.to_owned(),
            to_name: "image".to_owned(),
        })
    };
    YoloImportOptions {
        image_field: "image".to_owned(),
        task: None,
        rectangles: control("box"),
        polygons: control("area"),
        keypoints: Some(KeypointControl {
            control: control("pose").unwrap(),
            skeleton: None,
            joints: vec!["nose".into(), "left_eye".into(), "right_eye".into()],
        }),
        choices: control("kind"),
    }
}

fn values(tasks: &[gloss_formats::TaskRecord]) -> Vec<serde_json::Value> {
    tasks
        .iter()
        .flat_map(|t| t.annotations.iter().flat_map(|a| &a.result))
        .map(|r| serde_json::to_value(&r.value).unwrap())
        .collect()
}

fn assert_numbers_close(got: &serde_json::Value, want: &serde_json::Value) {
    match (got, want) {
        (serde_json::Value::Number(g), serde_json::Value::Number(w)) => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            assert!((g - w).abs() < 1e-5, "{g} vs {w}");
        }
        (serde_json::Value::Array(g), serde_json::Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{got} vs {want}");
            g.iter()
                .zip(w)
                .for_each(|(g, w)| assert_numbers_close(g, w));
        }
        (serde_json::Value::Object(g), serde_json::Value::Object(w)) => {
            assert_eq!(
                g.keys().collect::<Vec<_>>(),
                w.keys().collect::<Vec<_>>(),
                "{got} vs {want}"
            );
            g.iter().for_each(|(k, g)| assert_numbers_close(g, &w[k]));
        }
        _ => assert_eq!(got, want),
    }
}

#[test]
fn detect_segment_and_obb_read_back_what_was_written() {
    let rotated = boxed("car", 50.0, 40.0, 20.0, 20.0, 30.0);
    let cases = [
        (YoloTask::Detect, boxed("car", 10.0, 20.0, 30.0, 40.0, 0.0)),
        (YoloTask::Segment, polygon()),
        (YoloTask::Obb, rotated),
    ];
    for (kind, result) in cases {
        let tasks = [(task(1, "a.png", vec![result.clone()]), Some(Split::Train))];
        let (read, rejections) = round_trip(kind, shapes(), &tasks, &import_options());
        assert!(rejections.is_empty(), "{kind:?}: {rejections:?}");
        assert_eq!(read[0].data["image"], json!("images/train/a.png"));
        let mut want = result["value"].clone();
        if want.get("closed").is_none() && want.get("points").is_some() {
            want["closed"] = json!(true);
        }
        assert_numbers_close(
            &values(&read)[0],
            &json!({"type": result["type"], "value": want}),
        );
    }
}

#[test]
fn pose_and_classify_read_back_what_was_written() {
    let pose = ExportCategory {
        name: "person".to_owned(),
        keypoints: Some(KeypointCategory {
            control: "pose".to_owned(),
            joints: vec!["nose".into(), "left_eye".into(), "right_eye".into()],
            edges: vec![],
        }),
    };
    let point = json!({"id": "k", "parentID": "p", "from_name": "pose", "to_name": "image",
        "type": "keypointlabels", "value": {"x": 60, "y": 30, "visibility": "occluded", "keypointlabels": ["right_eye"]}});
    let tasks = [(task(1, "a.png", vec![point]), None)];
    let options = YoloImportOptions {
        rectangles: None,
        ..import_options()
    };
    let (read, rejections) = round_trip(
        YoloTask::Pose,
        YoloClasses::Categories(vec![pose]),
        &tasks,
        &options,
    );
    assert!(rejections.is_empty(), "{rejections:?}");
    let result = &read[0].annotations[0].result[0];
    assert_eq!(result.parent_id.as_deref(), Some("yolo-1-1"));
    assert_numbers_close(
        &values(&read)[0],
        &json!({"type": "keypointlabels", "value": {"x": 60, "y": 30, "visibility": "occluded", "keypointlabels": ["right_eye"]}}),
    );

    let choice = json!({"id": "c", "from_name": "kind", "to_name": "image", "type": "choices", "value": {"choices": ["dog"]}});
    let classes = YoloClasses::Choices {
        control: "kind".to_owned(),
        choices: vec!["cat".into(), "dog".into()],
    };
    let tasks = [(task(1, "a.png", vec![choice]), Some(Split::Validation))];
    let (read, _) = round_trip(YoloTask::Classify, classes, &tasks, &import_options());
    assert_eq!(read[0].data["image"], json!("val/dog/a.png"));
    assert_eq!(
        values(&read)[0],
        json!({"type": "choices", "value": {"choices": ["dog"]}})
    );
}

#[test]
fn bad_label_lines_reject_their_image_with_file_and_line() {
    let mut files = MemoryFiles::default();
    files
        .0
        .insert("data.yaml".into(), b"names: [car]\n".to_vec());
    files.0.insert("images/a.png".into(), vec![]);
    files.0.insert("images/b.png".into(), vec![]);
    files.0.insert(
        "labels/a.txt".into(),
        b"0 0.5 0.5 0.2 0.2\n3 0.5 0.5 0.2 0.2\n0 0.5 x 0.2 0.2\n".to_vec(),
    );
    files
        .0
        .insert("labels/orphan.txt".into(), b"0 0.5 0.5 0.2 0.2\n".to_vec());
    let (tasks, rejections) = read_yolo(&files, &import_options(), &|_| Some((10, 10))).unwrap();
    assert_eq!(tasks.len(), 1, "b.png, a background image, is kept");
    let found: Vec<(u64, &str, &str)> = rejections
        .iter()
        .map(|r| (r.row, r.field.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                1,
                "labels/a.txt:2",
                "class `3` is not one of the 1 classes in data.yaml"
            ),
            (
                1,
                "labels/a.txt:3",
                "every value after the class must be a number"
            ),
            (
                0,
                "labels/orphan.txt",
                "has no image: no file with its name under the matching images folder"
            ),
        ]
    );
    files.0.remove("data.yaml");
    files
        .0
        .insert("data.yaml".into(), b"train: images\n".to_vec());
    let error = read_yolo(&files, &import_options(), &|_| None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "data.yaml: has no `names`: the class names are needed"
    );
}

#[test]
fn datumaro_reads_the_detect_export() {
    let tasks = [
        (
            task(
                1,
                "a.png",
                vec![boxed("car", 10.0, 20.0, 30.0, 40.0, 0.0), polygon()],
            ),
            None,
        ),
        (
            task(2, "b.png", vec![boxed("road", 50.0, 50.0, 25.0, 50.0, 0.0)]),
            None,
        ),
    ];
    let mut files = MemoryFiles::default();
    let mut writer = YoloWriter::new(YoloTask::Detect, shapes()).unwrap();
    for (task, split) in &tasks {
        let image = writer
            .write_task(task, *split, &mut files)
            .unwrap()
            .unwrap();
        files.0.insert(image, dataset_support::solid_png(200, 100));
    }
    writer.finish(&mut files).unwrap();
    let (out, _temporary) = dataset_support::datumaro_out();
    let dir = out.join("yolo");
    dataset_support::write_files(&files, &dir);
    let bbox = |label: &str, b: [f64; 4]| json!({"type": "bbox", "label": label, "bbox": b});
    let expected = json!({
        "labels": ["car", "road"],
        "items": {
            "a": {"width": 200, "height": 100, "shapes": [
                bbox("car", [20.0, 20.0, 60.0, 40.0]),
                bbox("road", [20.0, 10.0, 80.0, 80.0]),
            ]},
            "b": {"width": 200, "height": 100, "shapes": [bbox("road", [100.0, 50.0, 50.0, 50.0])]},
        }
    });
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_string_pretty(&expected).unwrap(),
    )
    .unwrap();
    dataset_support::judge_with_datumaro("yolo", &dir);
}

/// The pixels inside the polygons of a segment label file (fractions of a
/// `width` × `height` image), as rows of `#` and `.`.
fn filled_rows(label_file: &str, width: u32, height: u32) -> Vec<String> {
    let rings: Vec<Vec<f64>> = label_file
        .lines()
        .map(|line| {
            let numbers: Vec<f64> = line
                .split(' ')
                .skip(1)
                .map(|n| n.parse().unwrap())
                .collect();
            numbers
                .chunks(2)
                .flat_map(|xy| [xy[0] * f64::from(width), xy[1] * f64::from(height)])
                .collect()
        })
        .collect();
    (0..height)
        .map(|y| {
            (0..width)
                .map(|x| {
                    let centre = (f64::from(x) + 0.5, f64::from(y) + 0.5);
                    if dataset_support::inside(&rings, centre.0, centre.1) {
                        '#'
                    } else {
                        '.'
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn segment_outlines_brush_masks_and_their_polygons_fill_the_same_pixels() {
    let rectangle = [
        "..........",
        "..####....",
        "..####....",
        "..####....",
        "..........",
        "..........",
    ];
    let l_shape = [
        "..........",
        ".#........",
        ".#........",
        ".#........",
        ".#######..",
        "..........",
    ];
    // Two parts (sharing only a corner) and a speck, which is dropped.
    let parts = [
        "##........",
        "##........",
        "..##......",
        "..##......",
        ".........#",
        "..........",
    ];
    for (rows, lines, skipped) in [(rectangle, 1, 0), (l_shape, 1, 0), (parts, 2, 1)] {
        let mask = dataset_support::drawn_mask(&rows);
        let brush = dataset_support::brush("m", "road", &mask);
        let task = dataset_support::task(1, "m.png", 10, 6, vec![brush]);
        let mut files = MemoryFiles::default();
        let mut writer = YoloWriter::new(YoloTask::Segment, shapes()).unwrap();
        writer.write_task(&task, None, &mut files).unwrap();
        let summary = writer.finish(&mut files).unwrap();
        assert_eq!((summary.objects, summary.skipped), (lines, skipped));
        let labels = files.text("labels/m.txt").unwrap();
        assert!(
            labels.lines().all(|line| line.starts_with("1 ")),
            "{labels}"
        );
        let mut want = rows.map(String::from);
        if skipped == 1 {
            want[4] = "..........".into();
        }
        assert_eq!(filled_rows(&labels, 10, 6), want, "{labels}");
    }
    // The rectangle is its four corners, clockwise from the top right.
    let mask = dataset_support::drawn_mask(&rectangle);
    let brush = dataset_support::brush("m", "road", &mask);
    let tasks = [(dataset_support::task(1, "m.png", 10, 6, vec![brush]), None)];
    let (files, _) = export(YoloTask::Segment, shapes(), &tasks);
    assert_eq!(
        files.0["labels/m.txt"],
        "1 0.6 0.1666666667 0.6 0.6666666667 0.2 0.6666666667 0.2 0.1666666667\n"
    );
    let (files, _) = export(YoloTask::Detect, shapes(), &tasks);
    assert_eq!(files.0["labels/m.txt"], "1 0.4 0.4166666667 0.4 0.5\n");
}

#[test]
fn datumaros_ultralytics_export_imports_with_its_boxes() {
    let files = dataset_support::files_in(&dataset_support::data_dir("datumaro_yolo"));
    let expected = dataset_support::expected_json("datumaro_yolo");
    let size = |path: &str| {
        let item = &expected["items"][gloss_formats::file_stem(path.rsplit('/').next()?)];
        Some((
            item["width"].as_u64()? as u32,
            item["height"].as_u64()? as u32,
        ))
    };
    let (tasks, rejections) = read_yolo(&files, &import_options(), &size).unwrap();
    assert_eq!(rejections, []);
    // datumaro's YOLO export holds boxes only: img2's polygon is not in it.
    let mut expected = dataset_support::expected_json("datumaro_yolo");
    expected["items"]["img2"]["shapes"] = json!([]);
    let worst =
        dataset_support::compare_with_expected("datumaro_yolo", &expected, &tasks, |task| {
            let image = task.data["image"].as_str().unwrap();
            gloss_formats::file_stem(image.rsplit('/').next().unwrap()).to_owned()
        });
    eprintln!("largest difference from datumaro: {worst} px (it writes six decimals)");
}
