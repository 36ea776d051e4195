//! YOLO exports in the Ultralytics layout, one test per task.

mod dataset_support;

use gloss_formats::{
    ExportCategory, ExportTask, KeypointCategory, MemoryFiles, Split, YoloClasses, YoloTask,
    YoloWriter,
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
