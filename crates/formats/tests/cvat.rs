//! CVAT for images 1.1: the golden export, round trips, datumaro's own
//! files and the rejections of broken ones.

mod dataset_support;

use dataset_support::*;
use gloss_formats::{
    file_stem, read_cvat_images, ControlRef, CvatAttribute, CvatAttributeControl,
    CvatAttributeKind, CvatImageWriter, CvatImportOptions, CvatLabels, CvatSummary, ExportCategory,
    ExportTask, FormatError, KeypointCategory, KeypointControl, Rejection,
};
use gloss_types::result::ResultValue;
use serde_json::{json, Value};

fn labels() -> CvatLabels {
    let mut categories: Vec<ExportCategory> =
        ["car", "road", "lane"].map(ExportCategory::shapes).to_vec();
    categories.push(ExportCategory {
        name: "person".into(),
        keypoints: Some(KeypointCategory {
            control: "pose".into(),
            joints: ["nose", "left_eye", "right_eye"].map(String::from).to_vec(),
            edges: vec![
                ["nose".into(), "left_eye".into()],
                ["nose".into(), "right_eye".into()],
            ],
        }),
    });
    CvatLabels {
        categories,
        tags: vec!["outdoor".into(), "indoor".into()],
        attributes: vec![
            CvatAttribute {
                name: "quality".into(),
                kind: CvatAttributeKind::Choices,
                values: vec!["Blurry".into(), "Sharp".into()],
            },
            CvatAttribute {
                name: "note".into(),
                kind: CvatAttributeKind::Text,
                values: vec![],
            },
            CvatAttribute {
                name: "age".into(),
                kind: CvatAttributeKind::Number,
                values: vec![],
            },
        ],
    }
}

fn result(id: &str, from_name: &str, kind: &str, value: Value) -> Value {
    json!({"id": id, "from_name": from_name, "to_name": "image", "type": kind, "value": value})
}

fn point(id: &str, parent: Option<&str>, [x, y]: [f64; 2], joint: &str, occluded: bool) -> Value {
    let mut value = json!({"x": x, "y": y, "keypointlabels": [joint]});
    if occluded {
        value["visibility"] = json!("occluded");
    }
    let mut point = result(id, "pose", "keypointlabels", value);
    if let Some(parent) = parent {
        point["parentID"] = json!(parent);
    }
    point
}

/// Two images, and a task without an image.
fn sample() -> Vec<ExportTask> {
    let mut turned = result(
        "r",
        "label",
        "rectanglelabels",
        json!({"x": 50, "y": 10, "width": 20, "height": 20, "rotation": 30, "rectanglelabels": ["car"]}),
    );
    turned["cvat"] = json!({"occluded": 1});
    let a = task(
        1,
        "a.jpg",
        200,
        100,
        vec![
            result(
                "b",
                "label",
                "rectanglelabels",
                json!({"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0, "rectanglelabels": ["car"]}),
            ),
            // These describe box "b": its attributes (but "tags" is not
            // one), not tags.
            result(
                "b",
                "tags",
                "choices",
                json!({"x": 10, "y": 20, "width": 30, "height": 40, "choices": ["indoor"]}),
            ),
            result(
                "b",
                "quality",
                "choices",
                json!({"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0, "choices": ["Blurry"]}),
            ),
            result(
                "b",
                "note",
                "textarea",
                json!({"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0, "text": ["a <red> car"]}),
            ),
            turned,
            result(
                "p",
                "area",
                "polygonlabels",
                json!({"points": [[10, 60], [50, 60], [30, 95]], "polygonlabels": ["road"]}),
            ),
            result(
                "p",
                "age",
                "number",
                json!({"points": [[10, 60], [50, 60], [30, 95]], "closed": true, "number": 2.5}),
            ),
            result(
                "l",
                "lane",
                "polylinelabels",
                json!({"points": [[0, 0], [50, 50], [100, 0]], "polylinelabels": ["lane"]}),
            ),
            result(
                "e",
                "oval",
                "ellipselabels",
                json!({"x": 75, "y": 70, "radiusX": 10, "radiusY": 15, "rotation": 20, "ellipselabels": ["road"]}),
            ),
            point("k1", Some("s1"), [50.0, 50.0], "nose", false),
            point("k2", Some("s1"), [45.0, 40.0], "left_eye", true),
            result(
                "c",
                "tags",
                "choices",
                json!({"choices": ["outdoor", "sunny"]}),
            ),
            result(
                "t",
                "area",
                "polygonlabels",
                json!({"points": [[1, 1], [2, 1], [2, 2]], "polygonlabels": ["tree"]}),
            ),
        ],
    );
    let b = task(
        2,
        "b & c.png",
        64,
        48,
        vec![point("k3", None, [10.0, 10.0], "nose", false)],
    );
    let no_image = ExportTask {
        id: 3,
        ..ExportTask::default()
    };
    vec![a, b, no_image]
}

fn export(tasks: &[ExportTask]) -> (Vec<u8>, Vec<Option<String>>, CvatSummary) {
    let mut out = Vec::new();
    let mut writer = CvatImageWriter::new(&mut out, &labels()).unwrap();
    let images = tasks
        .iter()
        .map(|t| writer.write_task(t).unwrap())
        .collect();
    let summary = writer.finish().unwrap();
    (out, images, summary)
}

#[test]
fn export_matches_the_golden_file() {
    let (xml, images, summary) = export(&sample());
    assert_eq!(
        images,
        [
            Some("images/a.jpg".to_owned()),
            Some("images/b & c.png".to_owned()),
            None
        ]
    );
    assert_eq!(
        summary,
        CvatSummary {
            images: 2,
            shapes: 7,
            tags: 1,
            // "sunny", the "tags" choice of box "b", the tree polygon and
            // the task without an image.
            skipped: 4
        }
    );
    golden("cvat_export/annotations.xml", &xml);
}

fn control(name: &str) -> Option<ControlRef> {
    Some(ControlRef {
        from_name: name.into(),
        to_name: "image".into(),
    })
}

fn options() -> CvatImportOptions {
    CvatImportOptions {
        image_field: "image".into(),
        rectangles: control("label"),
        polygons: control("area"),
        polylines: control("lane"),
        ellipses: control("oval"),
        keypoints: vec![KeypointControl {
            control: control("pose").unwrap(),
            skeleton: Some("person".into()),
            joints: ["nose", "left_eye", "right_eye"].map(String::from).to_vec(),
        }],
        choices: control("tags"),
        brushes: None,
        attributes: [
            ("quality", CvatAttributeKind::Choices),
            ("note", CvatAttributeKind::Text),
            ("age", CvatAttributeKind::Number),
        ]
        .map(|(name, kind)| CvatAttributeControl {
            control: control(name).unwrap(),
            kind,
        })
        .to_vec(),
    }
}

/// A result's kind, label, from_name and numbers (percent; a box's
/// rotation last), for comparing.
#[test]
fn shapes_round_trip_within_a_billionth_of_a_percent() {
    let (xml, _, _) = export(&sample());
    let (tasks, rejections) = read_cvat_images(&xml[..], &options()).unwrap();
    assert_eq!(rejections, []);
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].data["image"], "images/a.jpg");
    assert_eq!(tasks[1].data["image"], "images/b & c.png");

    let expected: [(&str, &str, Vec<f64>); 11] = [
        ("rectanglelabels", "car", vec![10.0, 20.0, 30.0, 40.0, 0.0]),
        ("choices", "Blurry", vec![]),
        ("textarea", "a <red> car", vec![]),
        ("rectanglelabels", "car", vec![50.0, 10.0, 20.0, 20.0, 30.0]),
        (
            "polygonlabels",
            "road",
            vec![10.0, 60.0, 50.0, 60.0, 30.0, 95.0],
        ),
        ("number", "", vec![2.5]),
        (
            "polylinelabels",
            "lane",
            vec![0.0, 0.0, 50.0, 50.0, 100.0, 0.0],
        ),
        ("ellipselabels", "road", vec![75.0, 70.0, 10.0, 15.0, 20.0]),
        ("keypointlabels", "nose", vec![50.0, 50.0]),
        ("keypointlabels", "left_eye", vec![45.0, 40.0]),
        ("choices", "outdoor", vec![]),
    ];
    let a = results(&tasks[0]);
    assert_eq!(a.len(), expected.len());
    for (result, (kind, label, want)) in a.iter().zip(&expected) {
        let (actual_kind, actual_label, actual) = numbers(result);
        assert_eq!((actual_kind, actual_label.as_str()), (*kind, *label));
        assert!(close(&actual, want, 1e-9), "{kind} {actual:?} != {want:?}");
    }
    assert_eq!(a[3].extra["cvat"], json!({"occluded": 1}));
    assert_eq!(a[0].id.as_deref(), Some("cvat-1"));
    assert_eq!(a[0].original_width, Some(200));
    // Attributes are per-region results: the region's id and geometry.
    assert_eq!(
        (a[1].id.as_deref(), a[1].from_name.as_str()),
        (Some("cvat-1"), "quality")
    );
    assert_eq!(
        a[1].value.to_json(),
        json!({"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0, "choices": ["Blurry"]})
    );
    assert_eq!(
        (a[5].id.as_deref(), a[5].from_name.as_str()),
        (Some("cvat-3"), "age")
    );
    // The skeleton's joints share its id; the occluded one says so.
    assert_eq!(a[8].parent_id, a[9].parent_id);
    assert_eq!(a[8].parent_id.as_deref(), Some("cvat-6"));
    match &a[9].value {
        ResultValue::KeyPointLabels(k) => {
            assert_eq!(k.shape.visibility.as_deref(), Some("occluded"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(a[10].from_name, "tags");
    // A point without a parent went out as a skeleton of its own.
    let b = results(&tasks[1]);
    assert_eq!(b.len(), 1);
    assert!(close(&numbers(&b[0]).2, &[10.0, 10.0], 1e-9));
    assert_eq!(b[0].parent_id.as_deref(), Some("cvat-1"));
}

#[test]
fn datumaro_cvat_files_import_with_their_shapes() {
    let xml = std::fs::read(data_dir("datumaro_cvat").join("default.xml")).unwrap();
    let mut options = options();
    options.keypoints[0].skeleton = None;
    let (tasks, rejections) = read_cvat_images(&xml[..], &options).unwrap();
    assert_eq!(rejections, []);
    for task in &tasks {
        // The images datumaro saved are where the path says.
        let image = task.data["image"].as_str().unwrap();
        assert!(data_dir("datumaro_cvat").join(image).is_file(), "{image}");
    }
    let worst = compare_with_expected(
        "datumaro_cvat",
        &expected_json("datumaro_cvat"),
        &tasks,
        |task| {
            let image = task.data["image"].as_str().unwrap();
            file_stem(image.rsplit('/').next().unwrap()).to_owned()
        },
    );
    eprintln!("largest difference from datumaro: {worst} px");
}

fn rejections_of(xml: &str) -> Vec<Rejection> {
    let (tasks, rejections) = read_cvat_images(xml.as_bytes(), &options()).unwrap();
    assert!(tasks.is_empty(), "{tasks:?}");
    rejections
}

fn document(images: &str) -> String {
    format!("<annotations><version>1.1</version>{images}</annotations>")
}

#[test]
fn broken_images_are_rejected_with_the_place_and_reason() {
    let rejections = rejections_of(&document(
        "<image id='0' name='/etc/passwd' width='0'>\
           <box label='car' xtl='1' ytl='2' xbr='3'/>\
         </image>\
         <image id='1' name='a.jpg' width='10' height='10'>\
           <box label='car' xtl='5' ytl='2' xbr='3' ybr='x'/>\
           <box xtl='1' ytl='1' xbr='2' ybr='2' occluded='yes'/>\
           <polygon label='road' points='1,1;2,2'/>\
           <polyline label='lane' points='1,1;oops'/>\
           <cuboid label='car'/>\
           <points label='tail' points='1,1'/>\
           <skeleton label='person'><points label='nose' points='1,1' outside='2'/>\
             <points label='elbow' points='1,1'/></skeleton>\
           <ellipse label='road' cx='1' cy='1' rx='-1' ry='1'/>\
         </image>",
    ));
    let expected = [
        (
            1,
            "image[0].name",
            "must be a relative path to the image, found \"/etc/passwd\"",
        ),
        (
            1,
            "image[0].width",
            "must be a whole number of pixels above 0, found \"0\"",
        ),
        (
            1,
            "image[0].height",
            "is missing; CVAT images need a width and height in pixels",
        ),
        (2, "image[1].box[0].ybr", "must be a number, found \"x\""),
        (2, "image[1].box[1].label", "is missing"),
        (
            2,
            "image[1].polygon[0].points",
            "has 2 points; a polygon needs at least 3",
        ),
        (
            2,
            "image[1].polyline[0].points",
            "must be x,y pairs joined by ';', found \"1,1;oops\"",
        ),
        (
            2,
            "image[1].cuboid[0]",
            "<cuboid> is not a shape Gloss reads (boxes, polygons, polylines, ellipses, points, \
             skeletons, masks and tags are)",
        ),
        (
            2,
            "image[1].points[0].label",
            "\"tail\" is not a label of any KeyPointLabels control",
        ),
        (
            2,
            "image[1].skeleton[0].points[0].outside",
            "must be 0 or 1, found \"2\"",
        ),
        (2, "image[1].ellipse[0].rx", "is negative"),
    ];
    let expected: Vec<Rejection> = expected
        .into_iter()
        .map(|(row, field, reason)| Rejection::new(row, field, reason))
        .collect();
    assert_eq!(rejections, expected);

    let rejections = rejections_of(&document(
        "<image id='0' name='a.jpg' width='10' height='10'>\
           <box label='car' xtl='5' ytl='2' xbr='3' ybr='4'/>\
           <skeleton label='person'><points label='elbow' points='1,1'/></skeleton>\
         </image>",
    ));
    assert_eq!(
        rejections,
        [
            Rejection::new(
                1,
                "image[0].box[0].xbr",
                "is before xtl: the box is turned inside out"
            ),
            Rejection::new(
                1,
                "image[0].skeleton[0].points[0].label",
                "joint \"elbow\" is not a label of the KeyPointLabels control \"pose\""
            ),
        ]
    );

    let rejections = rejections_of(&document(
        "<image id='0' name='a.jpg' width='10' height='10'>\
           <polygon label='road' points='1,1;2,2;1,2'>\
             <attribute name='colour'>red</attribute><attribute name='age'>old</attribute>\
           </polygon>\
         </image>",
    ));
    assert_eq!(
        rejections,
        [Rejection::new(
            1,
            "image[0].polygon[0].attribute[1]",
            "(age) must be a number, found \"old\""
        )]
    );

    let mut no_controls = options();
    no_controls.choices = None;
    no_controls.ellipses = None;
    let xml = document(
        "<image id='0' name='a.jpg' width='10' height='10'>\
           <tag label='outdoor'/><ellipse label='road' cx='1' cy='1' rx='1' ry='1'/>\
         </image>",
    );
    let (_, rejections) = read_cvat_images(xml.as_bytes(), &no_controls).unwrap();
    assert_eq!(
        rejections,
        [
            Rejection::new(
                1,
                "image[0].tag[0]",
                "cannot be imported: the label config has no Choices control for tags"
            ),
            Rejection::new(
                1,
                "image[0].ellipse[0]",
                "cannot be imported: the label config has no EllipseLabels control for <ellipse> \
                 shapes"
            ),
        ]
    );
}

#[test]
fn masks_import_as_their_bounds_and_subsets_as_folders() {
    let xml = document(
        "<image id='0' name='a.jpg' subset='Train' width='100' height='50'>\
           <mask label='car' rle='1, 2' left='10' top='5' width='20' height='10' z_order='2'/>\
         </image>",
    );
    let (tasks, rejections) = read_cvat_images(xml.as_bytes(), &options()).unwrap();
    assert_eq!(rejections, []);
    assert_eq!(tasks[0].data["image"], "images/Train/a.jpg");
    let result = &results(&tasks[0])[0];
    assert_eq!(numbers(result).2, [10.0, 10.0, 20.0, 20.0, 0.0]);
    assert_eq!(result.extra["cvat"], json!({"z_order": 2}));
}

#[test]
fn files_that_are_not_cvat_for_images_are_refused() {
    let error = |xml: &str| {
        read_cvat_images(xml.as_bytes(), &options())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error("<annotations><image>"),
        "invalid XML at line 1, column 21: the root node was opened but never closed"
    );
    assert_eq!(
        error("<!DOCTYPE a [<!ENTITY x \"y\">]>\n<annotations>&x;</annotations>"),
        "invalid XML at line 1, column 1: holds a <!DOCTYPE>, which is refused: entities and \
         DTDs are never expanded"
    );
    assert_eq!(
        error("<annotation/>"),
        "CVAT annotation: is the root element; a CVAT for images file has <annotations>"
    );
    assert_eq!(
        error("<annotations><track id='0' label='car'/></annotations>"),
        "CVAT track: is CVAT for video, whose tracks are not read; export the task as CVAT \
         for images 1.1"
    );
    assert!(matches!(
        read_cvat_images(&b"<annotations>\xFF</annotations>"[..], &options()),
        Err(FormatError::Xml {
            line: 1,
            column: 14,
            ..
        })
    ));
}

#[test]
fn truncated_and_garbled_files_never_panic() {
    let (xml, _, _) = export(&sample());
    let text = String::from_utf8(xml).unwrap();
    // Most cuts leave elements unclosed: a format error, never a panic.
    assert!(prefixes(&text).count() > 1000);
    for cut in prefixes(&text) {
        let _ = read_cvat_images(cut.as_bytes(), &options());
    }
    for bytes in garbled(text.as_bytes(), 2000) {
        let _ = read_cvat_images(&bytes[..], &options());
    }
}

/// Writes the sample as CVAT (with empty placeholder images, which datumaro needs to find but not to read, as
/// the sizes are in the file) and the shapes datumaro must see, and has
/// datumaro judge it (`tests/python/datumaro_check.py`).
#[test]
fn sample_for_the_datumaro_judge() {
    let (out, _temporary) = datumaro_out();
    let dir = out.join("cvat");
    std::fs::create_dir_all(dir.join("images")).unwrap();
    let (xml, images, _) = export(&sample());
    std::fs::write(dir.join("annotations.xml"), xml).unwrap();
    for image in images.into_iter().flatten() {
        std::fs::write(dir.join(image), b"").unwrap();
    }
    let (sin, cos) = 30f64.to_radians().sin_cos();
    let points = |label: &str, p: [f64; 2]| json!({"type": "points", "label": label, "points": p});
    // Datumaro 1.13 reads neither ellipses nor skeletons: it sees each
    // joint of a skeleton as a points shape, those outside the image too.
    let expected = json!({
        "labels": ["car", "road", "lane", "person", "nose", "left_eye", "right_eye", "outdoor", "indoor"],
        "items": {
            "a": {"width": 200, "height": 100, "shapes": [
                {"type": "bbox", "label": "car", "bbox": [20, 20, 60, 40]},
                {"type": "rotated_bbox", "label": "car",
                 "rbox": [100.0 + 20.0 * cos - 10.0 * sin, 10.0 + 20.0 * sin + 10.0 * cos, 40, 20, 30]},
                {"type": "polygon", "label": "road", "points": [20, 60, 100, 60, 60, 95]},
                {"type": "polyline", "label": "lane", "points": [0, 0, 100, 50, 200, 0]},
                points("nose", [100.0, 50.0]),
                points("left_eye", [90.0, 40.0]),
                points("right_eye", [0.0, 0.0]),
                {"type": "label", "label": "outdoor"},
            ]},
            "b & c": {"width": 64, "height": 48, "shapes": [
                points("nose", [6.4, 4.8]),
                points("left_eye", [0.0, 0.0]),
                points("right_eye", [0.0, 0.0]),
            ]},
        }
    });
    let text = serde_json::to_string_pretty(&expected).unwrap();
    std::fs::write(dir.join("expected.json"), text).unwrap();
    judge_with_datumaro("cvat", &dir);
}

/// A 10×8 image with an L of car and a ring of road (a hole in the middle),
/// both brush masks.
fn brush_sample() -> (ExportTask, [gloss_masks::Mask; 2]) {
    let car = drawn_mask(&[
        "..........",
        ".##.......",
        ".##.......",
        ".#####....",
        "..........",
        "..........",
        "..........",
        "..........",
    ]);
    let road = drawn_mask(&[
        "..........",
        "..........",
        "..........",
        "..........",
        "......####",
        "......#..#",
        "......####",
        "..........",
    ]);
    let results = vec![brush("c", "car", &car), brush("r", "road", &road)];
    (task(7, "m.png", 10, 8, results), [car, road])
}

#[test]
fn brush_masks_are_written_as_cvat_masks_and_read_back_pixel_for_pixel() {
    let (sample, masks) = brush_sample();
    let (xml, _, summary) = export(std::slice::from_ref(&sample));
    assert_eq!((summary.shapes, summary.skipped), (2, 0));
    let xml = String::from_utf8(xml).unwrap();
    let elements: Vec<&str> = xml
        .lines()
        .filter(|l| l.contains("<mask"))
        .map(str::trim)
        .collect();
    assert_eq!(
        elements,
        [
            // Bounds x 1..6, y 1..4: rows "##...", "##...", "#####".
            "<mask label=\"car\" source=\"manual\" occluded=\"0\" rle=\"0, 2, 3, 2, 3, 5\" \
             left=\"1\" top=\"1\" width=\"5\" height=\"3\" z_order=\"0\">",
            "<mask label=\"road\" source=\"manual\" occluded=\"0\" rle=\"0, 5, 2, 5\" \
             left=\"6\" top=\"4\" width=\"4\" height=\"3\" z_order=\"0\">",
        ]
    );

    let mut options = options();
    options.brushes = control("paint");
    let (tasks, rejections) = read_cvat_images(xml.as_bytes(), &options).unwrap();
    assert_eq!(rejections, []);
    let read = results(&tasks[0]);
    assert_eq!(read.len(), 2);
    for (result, (mask, label)) in read.iter().zip(masks.iter().zip(["car", "road"])) {
        assert_eq!(result.from_name, "paint");
        assert_eq!(result.value.labels().unwrap(), &[label.to_owned()]);
        assert_eq!(mask_rows(&mask_of(result)), mask_rows(mask), "{label}");
    }
}

#[test]
fn datumaro_reads_brush_masks_with_the_same_pixels() {
    let (sample, [car, road]) = brush_sample();
    let (out, _temporary) = datumaro_out();
    let dir = out.join("cvat-brush");
    std::fs::create_dir_all(dir.join("images")).unwrap();
    let (xml, images, _) = export(&[sample]);
    std::fs::write(dir.join("annotations.xml"), xml).unwrap();
    for image in images.into_iter().flatten() {
        std::fs::write(dir.join(image), b"").unwrap();
    }
    let expected = json!({
        "labels": ["car", "road", "lane", "person", "nose", "left_eye", "right_eye", "outdoor", "indoor"],
        "items": {"m": {"width": 10, "height": 8, "shapes": [
            {"type": "mask", "label": "car", "pixels": 9, "rows": mask_rows(&car)},
            {"type": "mask", "label": "road", "pixels": 10, "rows": mask_rows(&road)},
        ]}}
    });
    let text = serde_json::to_string_pretty(&expected).unwrap();
    std::fs::write(dir.join("expected.json"), text).unwrap();
    judge_with_datumaro("cvat", &dir);
}

#[test]
fn broken_masks_are_rejected_with_the_place_and_reason() {
    let mut options = options();
    options.brushes = control("paint");
    let rejected = |mask: &str| {
        let xml = document(&format!(
            "<image id='0' name='a.jpg' width='10' height='8'>{mask}</image>"
        ));
        let (tasks, rejections) = read_cvat_images(xml.as_bytes(), &options).unwrap();
        assert_eq!(tasks, []);
        rejections
            .into_iter()
            .map(|r| format!("{}: {}", r.field, r.reason))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rejected("<mask label='car' rle='1, 2' left='1' top='1' width='2' height='2'/>"),
        ["image[0].mask[0].rle: runs add up to 3 pixels; the mask's width × height is 4"]
    );
    assert_eq!(
        rejected("<mask label='car' rle='1, x' left='1' top='1' width='2' height='2'/>"),
        ["image[0].mask[0].rle: must be whole numbers joined by ',', found \"1, x\""]
    );
    assert_eq!(
        rejected("<mask label='car' rle='4' left='1.5' top='1' width='2' height='2'/>"),
        ["image[0].mask[0].left: must be a whole number of pixels, found 1.5"]
    );
    assert_eq!(
        rejected("<mask label='car' rle='0, 16' left='8' top='0' width='4' height='4'/>"),
        ["image[0].mask[0]: reaches past the image (10×8): left 8 + width 4, top 0 + height 4"]
    );
    assert_eq!(
        rejected("<mask label='car' left='0' top='0' width='1' height='1'/>"),
        ["image[0].mask[0].rle: is missing"]
    );
    assert_eq!(
        rejected("<mask rle='0, 1' left='0' top='0' width='1' height='1'/>"),
        ["image[0].mask[0].label: is missing"]
    );
}
