//! Pascal VOC: golden exports, masks, round trips, datumaro's own files and
//! the rejections of broken ones.

mod dataset_support;

use dataset_support::*;
use gloss_formats::{
    read_voc, ControlRef, ExportCategory, ExportTask, FileSink, FormatError, MemoryFiles,
    Rejection, Split, TaskRecord, VocCoordinates, VocImportOptions, VocSummary, VocWriter,
};
use gloss_types::result::ResultValue;
use serde_json::{json, Value};

fn categories() -> Vec<ExportCategory> {
    ["car", "road", "person"]
        .map(ExportCategory::shapes)
        .to_vec()
}

fn boxed(id: &str, label: &str, [x, y, w, h]: [f64; 4], rotation: f64) -> Value {
    json!({"id": id, "from_name": "box", "to_name": "image", "type": "rectanglelabels",
           "value": {"x": x, "y": y, "width": w, "height": h, "rotation": rotation,
                     "rectanglelabels": [label]}})
}

fn polygon(id: &str, label: &str, points: Value) -> Value {
    json!({"id": id, "from_name": "area", "to_name": "image", "type": "polygonlabels",
           "value": {"points": points, "polygonlabels": [label]}})
}

fn ellipse(id: &str, label: &str, [x, y, rx, ry]: [f64; 4]) -> Value {
    json!({"id": id, "from_name": "oval", "to_name": "image", "type": "ellipselabels",
           "value": {"x": x, "y": y, "radiusX": rx, "radiusY": ry, "rotation": 0,
                     "ellipselabels": [label]}})
}

/// Three images (one without shapes, whose stem repeats the first's) and a
/// task without an image.
fn sample() -> Vec<(ExportTask, Option<Split>)> {
    let mut flagged = boxed("r", "car", [50.0, 10.0, 20.0, 20.0], 90.0);
    flagged["voc"] = json!({"difficult": 1, "pose": "Left"});
    let a = task(
        1,
        "a.jpg",
        200,
        100,
        vec![
            boxed("b", "car", [10.0, 20.0, 30.0, 40.0], 0.0),
            flagged,
            polygon("p", "road", json!([[10, 60], [50, 60], [30, 95]])),
            ellipse("e", "road", [75.0, 70.0, 10.0, 15.0]),
            boxed("t", "tree", [1.0, 1.0, 2.0, 2.0], 0.0),
            json!({"id": "k", "from_name": "pose", "to_name": "image", "type": "keypointlabels",
                   "value": {"x": 5, "y": 5, "keypointlabels": ["nose"]}}),
        ],
    );
    let b = task(
        2,
        "b.png",
        64,
        48,
        vec![
            boxed("b", "person", [0.0, 0.0, 50.0, 50.0], 0.0),
            polygon("two", "person", json!([[5, 5], [20, 5], [20, 20], [5, 20]])),
            polygon("two", "person", json!([[40, 40], [60, 40], [60, 60]])),
        ],
    );
    let again = task(3, "a.png", 32, 24, vec![]);
    let no_image = ExportTask {
        id: 4,
        ..ExportTask::default()
    };
    vec![
        (a, Some(Split::Train)),
        (b, Some(Split::Validation)),
        (again, Some(Split::Train)),
        (no_image, Some(Split::Train)),
    ]
}

fn export(
    tasks: &[(ExportTask, Option<Split>)],
    coordinates: VocCoordinates,
) -> (MemoryFiles, Vec<Option<String>>, VocSummary) {
    let mut files = MemoryFiles::default();
    let mut writer = VocWriter::new(&categories(), coordinates).expect("a writer");
    let images = tasks
        .iter()
        .map(|(task, split)| writer.write_task(task, *split, &mut files).unwrap())
        .collect();
    let summary = writer.finish(&mut files).unwrap();
    (files, images, summary)
}

#[test]
fn export_matches_the_golden_files() {
    let (files, images, summary) = export(&sample(), VocCoordinates::Exact);
    assert_eq!(
        images,
        [
            Some("JPEGImages/a.jpg".to_owned()),
            Some("JPEGImages/b.png".to_owned()),
            Some("JPEGImages/a-3.png".to_owned()),
            None
        ]
    );
    // Skipped: the tree box and the task without an image (the keypoint is
    // no VOC shape, so it is not counted).
    assert_eq!(
        summary,
        VocSummary {
            images: 3,
            objects: 6,
            masks: 2,
            skipped: 2
        }
    );
    let paths: Vec<&str> = files.0.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "Annotations/a-3.xml",
            "Annotations/a.xml",
            "Annotations/b.xml",
            "ImageSets/Main/train.txt",
            "ImageSets/Main/val.txt",
            "ImageSets/Segmentation/train.txt",
            "ImageSets/Segmentation/val.txt",
            "SegmentationClass/a.png",
            "SegmentationClass/b.png",
            "SegmentationObject/a.png",
            "SegmentationObject/b.png",
            "labelmap.txt",
        ]
    );
    for (path, bytes) in &files.0 {
        if !path.ends_with(".png") {
            golden(&format!("voc_export/{path}"), bytes);
        }
    }
}

const CAR: [u8; 3] = [128, 0, 0];
const ROAD: [u8; 3] = [0, 128, 0];
const PERSON: [u8; 3] = [128, 128, 0];
/// VOC palette colours 1 and 2: the first and second instance.
const FIRST: [u8; 3] = [128, 0, 0];
const SECOND: [u8; 3] = [0, 128, 0];

/// Checks the class and object masks of `stem` against shapes drawn in
/// order, pixel by pixel: `(class colour, rings)`.
fn assert_masks(
    files: &MemoryFiles,
    stem: &str,
    size: [u32; 2],
    shapes: &[([u8; 3], Vec<Vec<f64>>)],
) {
    let (width, height, classes) = png_pixels(&files.0[&format!("SegmentationClass/{stem}.png")]);
    let (_, _, objects) = png_pixels(&files.0[&format!("SegmentationObject/{stem}.png")]);
    assert_eq!([width, height], size);
    let instance_colors = [FIRST, SECOND];
    for y in 0..height {
        for x in 0..width {
            let centre = (f64::from(x) + 0.5, f64::from(y) + 0.5);
            let mut want = ([0; 3], [0; 3]);
            for (index, (color, rings)) in shapes.iter().enumerate() {
                if inside(rings, centre.0, centre.1) {
                    want = (*color, instance_colors[index]);
                }
            }
            let at = (y * width + x) as usize;
            assert_eq!((classes[at], objects[at]), want, "{stem} pixel {x},{y}");
        }
    }
}

#[test]
fn masks_fill_the_pixels_whose_centres_are_inside() {
    let (files, _, _) = export(&sample(), VocCoordinates::Exact);
    assert_masks(
        &files,
        "a",
        [200, 100],
        &[
            (ROAD, vec![vec![20.0, 60.0, 100.0, 60.0, 60.0, 95.0]]),
            (ROAD, vec![ellipse_ring(150.0, 70.0, 20.0, 15.0)]),
        ],
    );
    // One region of two rings: one instance.
    assert_masks(
        &files,
        "b",
        [64, 48],
        &[(
            PERSON,
            vec![
                vec![3.2, 2.4, 12.8, 2.4, 12.8, 9.6, 3.2, 9.6],
                vec![25.6, 19.2, 38.4, 19.2, 38.4, 28.8],
            ],
        )],
    );
    let _ = CAR;
}

fn options(coordinates: VocCoordinates) -> VocImportOptions {
    VocImportOptions {
        image_field: "image".into(),
        rectangles: Some(ControlRef {
            from_name: "label".into(),
            to_name: "image".into(),
        }),
        coordinates,
    }
}

/// `(label, [x, y, w, h] in percent, "voc" key)` of each box of a task.
fn boxes(task: &TaskRecord) -> Vec<(String, [f64; 4], Option<Value>)> {
    task.annotations
        .iter()
        .flat_map(|a| &a.result)
        .map(|result| match &result.value {
            ResultValue::RectangleLabels(r) => (
                r.rectanglelabels[0].clone(),
                [r.x, r.y, r.width, r.height],
                result.extra.get("voc").cloned(),
            ),
            other => panic!("not a box: {other:?}"),
        })
        .collect()
}

#[test]
fn boxes_round_trip_within_a_billionth_of_a_percent() {
    let (files, _, _) = export(&sample(), VocCoordinates::Exact);
    let (tasks, rejections) = read_voc(&files, &options(VocCoordinates::Exact)).unwrap();
    // The images are not in the export (the engine adds them): all rejected.
    assert_eq!(tasks.len(), 0);
    assert_eq!(rejections.len(), 3);
    assert_eq!(
        rejections[0],
        Rejection::new(
            1,
            "Annotations/a-3.xml:filename",
            "names \"JPEGImages/a-3.png\", which is not in the dataset, and no image in \
             JPEGImages/ has the stem \"a-3\""
        )
    );

    let mut files = files;
    for name in ["a.jpg", "b.png", "a-3.png"] {
        files.put(&format!("JPEGImages/{name}"), b"image").unwrap();
    }
    let (tasks, rejections) = read_voc(&files, &options(VocCoordinates::Exact)).unwrap();
    assert_eq!(rejections, []);
    let images: Vec<&Value> = tasks.iter().map(|t| &t.data["image"]).collect();
    assert_eq!(
        images,
        ["JPEGImages/a-3.png", "JPEGImages/a.jpg", "JPEGImages/b.png"]
    );
    assert!(tasks[0].annotations.is_empty());
    let expected_a = [
        ("car", [10.0, 20.0, 30.0, 40.0], None),
        // Turned 90° about its top-left corner: 20 px wide, 40 px high.
        (
            "car",
            [40.0, 10.0, 10.0, 40.0],
            Some(json!({"difficult": 1, "pose": "Left"})),
        ),
        // The bounds of the triangle and of the ellipse.
        ("road", [10.0, 60.0, 40.0, 35.0], None),
        ("road", [65.0, 55.0, 20.0, 30.0], None),
    ];
    let expected_b = [
        ("person", [0.0, 0.0, 50.0, 50.0], None),
        ("person", [5.0, 5.0, 55.0, 55.0], None),
    ];
    for (task, expected) in [(&tasks[1], &expected_a[..]), (&tasks[2], &expected_b[..])] {
        let actual = boxes(task);
        assert_eq!(actual.len(), expected.len());
        for ((label, bbox, voc), (want_label, want_box, want_voc)) in actual.iter().zip(expected) {
            assert_eq!(label, want_label);
            assert!(close(bbox, want_box, 1e-9), "{bbox:?} != {want_box:?}");
            assert_eq!(voc, want_voc);
        }
    }
    let result = &tasks[1].annotations[0].result[0];
    assert_eq!(
        (result.original_width, result.original_height),
        (Some(200), Some(100))
    );
    assert_eq!(result.id.as_deref(), Some("voc-1"));
}

#[test]
fn one_based_boxes_cover_whole_pixels() {
    let tasks = [(
        task(
            1,
            "a.jpg",
            64,
            48,
            vec![
                polygon("two", "person", json!([[5, 5], [20, 5], [20, 20], [5, 20]])),
                polygon("two", "person", json!([[40, 40], [60, 40], [60, 60]])),
                boxed("b", "car", [0.0, 0.0, 100.0, 100.0], 0.0),
            ],
        ),
        None,
    )];
    let (mut files, _, _) = export(&tasks, VocCoordinates::OneBased);
    let xml = files.text("Annotations/a.xml").unwrap();
    // 3.2 .. 38.4 across and 2.4 .. 28.8 down: pixels 4 to 39 and 3 to 29.
    assert!(
        xml.contains(
            "<xmin>4</xmin>\n      <ymin>3</ymin>\n      <xmax>39</xmax>\n      <ymax>29</ymax>"
        ),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<xmin>1</xmin>\n      <ymin>1</ymin>\n      <xmax>64</xmax>\n      <ymax>48</ymax>"
        ),
        "{xml}"
    );
    assert_eq!(files.text("ImageSets/Main/default.txt").unwrap(), "a\n");
    files.put("JPEGImages/a.jpg", b"image").unwrap();
    let (read, rejections) = read_voc(&files, &options(VocCoordinates::OneBased)).unwrap();
    assert_eq!(rejections, []);
    let expected = [
        [
            100.0 * 3.0 / 64.0,
            100.0 * 2.0 / 48.0,
            100.0 * 36.0 / 64.0,
            100.0 * 27.0 / 48.0,
        ],
        [0.0, 0.0, 100.0, 100.0],
    ];
    for ((_, bbox, _), want) in boxes(&read[0]).iter().zip(expected) {
        assert!(close(bbox, &want, 1e-9), "{bbox:?} != {want:?}");
    }
}

#[test]
fn labels_the_label_map_cannot_hold_are_refused() {
    let error = VocWriter::new(&[ExportCategory::shapes("a:b")], VocCoordinates::Exact)
        .err()
        .unwrap();
    assert_eq!(
        error,
        "label \"a:b\" cannot be written to a Pascal VOC labelmap.txt: it holds a ':' or a \
         line break, which separate its fields and lines"
    );
    assert!(VocWriter::new(&[], VocCoordinates::Exact).is_err());
}

/// `expected.json` of a dataset, in the datumaro judge's form.
fn expected_json(name: &str) -> Value {
    let text = std::fs::read_to_string(data_dir(name).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A task's boxes in pixels, as the judge's expected shapes.
fn pixel_boxes(task: &TaskRecord) -> Vec<(String, [f64; 4])> {
    let result = task.annotations.iter().flat_map(|a| &a.result).next();
    let (width, height) = result.map_or((1.0, 1.0), |r| {
        (
            f64::from(r.original_width.unwrap()),
            f64::from(r.original_height.unwrap()),
        )
    });
    boxes(task)
        .into_iter()
        .map(|(label, [x, y, w, h], _)| {
            (
                label,
                [
                    x * width / 100.0,
                    y * height / 100.0,
                    w * width / 100.0,
                    h * height / 100.0,
                ],
            )
        })
        .collect()
}

#[test]
fn datumaro_voc_datasets_import_with_their_boxes() {
    let files = files_in(&data_dir("datumaro_voc"));
    let (tasks, rejections) = read_voc(&files, &options(VocCoordinates::Exact)).unwrap();
    assert_eq!(rejections, []);
    let expected = expected_json("datumaro_voc");
    let items = expected["items"].as_object().unwrap();
    // img3 has no annotation file (datumaro writes none for an image
    // without objects), only its line in ImageSets/Main/train.txt.
    assert_eq!(tasks.len(), items.len());
    let mut worst = 0f64;
    for task in &tasks {
        let image = task.data["image"].as_str().unwrap();
        let stem = image
            .strip_prefix("JPEGImages/")
            .and_then(|n| n.strip_suffix(".jpg"))
            .unwrap();
        let want = items[stem]["shapes"].as_array().unwrap();
        let actual = pixel_boxes(task);
        assert_eq!(actual.len(), want.len(), "{stem}");
        for ((label, bbox), shape) in actual.iter().zip(want) {
            assert_eq!(label, shape["label"].as_str().unwrap());
            let want: Vec<f64> = serde_json::from_value(shape["bbox"].clone()).unwrap();
            for (a, b) in bbox.iter().zip(&want) {
                worst = worst.max((a - b).abs());
            }
        }
    }
    eprintln!("largest difference from datumaro: {worst} px");
    assert!(worst <= 0.01, "largest difference {worst} px");
    // The flags datumaro wrote are kept with the boxes.
    let img1 = &tasks[0].annotations[0].result;
    assert_eq!(img1[0].extra["voc"], json!({"difficult": 1}));
    assert_eq!(img1[1].extra["voc"], json!({"truncated": 1, "occluded": 1}));
}

/// One annotation file (and an image for it) in an otherwise empty dataset.
fn one_file(xml: &str) -> MemoryFiles {
    let mut files = MemoryFiles::default();
    files.put("Annotations/a.xml", xml.as_bytes()).unwrap();
    files.put("JPEGImages/a.jpg", b"image").unwrap();
    files
}

fn rejections_of(xml: &str) -> Vec<(String, String)> {
    let (tasks, rejections) = read_voc(&one_file(xml), &options(VocCoordinates::Exact)).unwrap();
    assert!(tasks.is_empty() || rejections.is_empty());
    rejections
        .into_iter()
        .map(|r| {
            assert_eq!(r.row, 1);
            (r.field, r.reason)
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(field, reason)| (field.to_string(), reason.to_string()))
        .collect()
}

const GOOD: &str = "<annotation><filename>a.jpg</filename>\
    <size><width>100</width><height>50</height><depth>3</depth></size>\
    <object><name>car</name><bndbox><xmin>10</xmin><ymin>5</ymin><xmax>20.5</xmax><ymax>50</ymax></bndbox></object>\
    </annotation>";

#[test]
fn broken_files_are_rejected_with_the_place_and_reason() {
    assert_eq!(rejections_of(GOOD), []);
    assert_eq!(
        rejections_of("<annotation><size><width>1</width>"),
        pairs(&[(
            "Annotations/a.xml",
            "line 1, column 35: the root node was opened but never closed"
        )])
    );
    assert_eq!(
        rejections_of("<!DOCTYPE a [<!ENTITY x \"y\">]><annotation/>"),
        pairs(&[(
            "Annotations/a.xml",
            "line 1, column 1: holds a <!DOCTYPE>, which is refused: entities and DTDs are never expanded"
        )])
    );
    assert_eq!(
        rejections_of("<annotations/>"),
        pairs(&[(
            "Annotations/a.xml",
            "has the root element <annotations>; a VOC annotation file has <annotation>"
        )])
    );
    assert_eq!(
        rejections_of(
            "<annotation><filename>../a.jpg</filename><size><width>0</width></size></annotation>"
        ),
        pairs(&[
            (
                "Annotations/a.xml:size.width",
                "must be a whole number of pixels above 0, found \"0\""
            ),
            ("Annotations/a.xml:size.height", "is missing"),
            (
                "Annotations/a.xml:filename",
                "must be a file name inside JPEGImages, found \"../a.jpg\""
            ),
        ])
    );
    let objects = "<annotation><size><width>100</width><height>50</height></size>\
        <object><bndbox><xmin>x</xmin><ymin>5</ymin><xmax>20</xmax></bndbox><difficult>yes</difficult></object>\
        <object><name>car</name><bndbox><xmin>30</xmin><ymin>-1</ymin><xmax>20</xmax><ymax>51</ymax></bndbox></object>\
        <object><name>car</name><truncated>1</truncated></object>\
        </annotation>";
    assert_eq!(
        rejections_of(objects),
        pairs(&[
            (
                "Annotations/a.xml:object[0].name",
                "is missing; an object needs a label"
            ),
            (
                "Annotations/a.xml:object[0].difficult",
                "must be 0 or 1, found \"yes\""
            ),
            (
                "Annotations/a.xml:object[0].bndbox.xmin",
                "must be a number of pixels, found \"x\""
            ),
            ("Annotations/a.xml:object[0].bndbox.ymax", "is missing"),
            (
                "Annotations/a.xml:object[1].bndbox.xmax",
                "is 20, before the box's start (xmin 30)"
            ),
            (
                "Annotations/a.xml:object[1].bndbox.ymin",
                "is -1, above the image"
            ),
            (
                "Annotations/a.xml:object[1].bndbox.ymax",
                "is 51, below the image (height 50)"
            ),
            ("Annotations/a.xml:object[2].bndbox", "is missing"),
        ])
    );
    assert_eq!(
        rejections_of("<annotation><size><width>1</width><height>1</height></size></annotation>")
            .len(),
        0,
        "found by its stem"
    );
    let mut files = one_file(GOOD);
    files.0.remove("JPEGImages/a.jpg");
    files.put("JPEGImages/b.jpg", b"image").unwrap();
    files.put("ImageSets/Main/train.txt", b"a\nc\n").unwrap();
    let (_, rejections) = read_voc(&files, &options(VocCoordinates::Exact)).unwrap();
    assert_eq!(
        rejections,
        [
            Rejection::new(
                1,
                "Annotations/a.xml:filename",
                "names \"JPEGImages/a.jpg\", which is not in the dataset, and no image in \
                 JPEGImages/ has the stem \"a\""
            ),
            Rejection::new(
                2,
                "ImageSets/Main/train.txt",
                "lists \"c\", which has neither an annotation file nor an image in JPEGImages/"
            ),
        ]
    );
}

#[test]
fn boxes_need_a_rectangle_control_and_files_have_limits() {
    let no_control = VocImportOptions {
        rectangles: None,
        ..options(VocCoordinates::Exact)
    };
    let (_, rejections) = read_voc(&one_file(GOOD), &no_control).unwrap();
    assert_eq!(
        rejections,
        [Rejection::new(
            1,
            "Annotations/a.xml:object[0]",
            "is a box, and the label config has no RectangleLabels control for it"
        )]
    );
    let big = format!("<annotation>{}</annotation>", " ".repeat(4 << 20));
    assert_eq!(
        rejections_of(&big),
        pairs(&[(
            "Annotations/a.xml",
            "is 4194329 bytes; a VOC annotation file may be at most 4194304"
        )])
    );
    let many = format!(
        "<annotation><size><width>9</width><height>9</height></size>{}</annotation>",
        "<object/>".repeat(10_001)
    );
    assert_eq!(
        rejections_of(&many),
        pairs(&[(
            "Annotations/a.xml",
            "has 10001 objects; at most 10000 are read per image"
        )])
    );
    let error = read_voc(&MemoryFiles::default(), &options(VocCoordinates::Exact)).unwrap_err();
    assert!(
        matches!(error, FormatError::Voc { ref field, .. } if field == "Annotations"),
        "{error}"
    );
}

#[test]
fn truncated_and_garbled_files_never_panic() {
    let (files, _, _) = export(&sample(), VocCoordinates::Exact);
    let xml = files.text("Annotations/a.xml").unwrap();
    let mut cuts = 0;
    for cut in prefixes(&xml) {
        let outcome = read_voc(&one_file(cut), &options(VocCoordinates::Exact)).unwrap();
        // One task, or the file's rejections.
        assert_eq!(outcome.0.len() + outcome.1.len().min(1), 1, "{cut}");
        cuts += 1;
    }
    assert!(cuts > 1000);
    for bytes in garbled(xml.as_bytes(), 2000) {
        let mut files = one_file("");
        files.put("Annotations/a.xml", &bytes).unwrap();
        read_voc(&files, &options(VocCoordinates::Exact)).unwrap();
    }
}

/// Writes the sample as VOC (exact and one-based) with the shapes datumaro
/// must see, and has datumaro judge it (`tests/python/datumaro_check.py`).
#[test]
fn sample_for_the_datumaro_judge() {
    let (out, _temporary) = datumaro_out();
    let road_triangle = vec![vec![20.0, 60.0, 100.0, 60.0, 60.0, 95.0]];
    let road_ellipse = vec![ellipse_ring(150.0, 70.0, 20.0, 15.0)];
    let person_rings = vec![
        vec![3.2, 2.4, 12.8, 2.4, 12.8, 9.6, 3.2, 9.6],
        vec![25.6, 19.2, 38.4, 19.2, 38.4, 28.8],
    ];
    let mask = |label: &str, rings: &[Vec<f64>], [w, h]: [u32; 2]| json!({"type": "mask", "label": label, "pixels": pixel_count(rings, w, h)});
    let bbox = |label: &str, b: [f64; 4]| json!({"type": "bbox", "label": label, "bbox": b});
    for (folder, coordinates, options, person_box) in [
        (
            "voc",
            VocCoordinates::Exact,
            json!({}),
            [3.2, 2.4, 35.2, 26.4],
        ),
        (
            "voc-one-based",
            VocCoordinates::OneBased,
            json!({"coordinate_mode": "voc-one-based"}),
            [3.0, 2.0, 36.0, 27.0],
        ),
    ] {
        let (files, _, _) = export(&sample(), coordinates);
        let dir = out.join(folder);
        write_files(&files, &dir);
        let expected = json!({
            "labels": ["background", "car", "road", "person"],
            "import_options": options,
            "items": {
                "a": {"subset": "train", "width": 200, "height": 100, "shapes": [
                    bbox("car", [20.0, 20.0, 60.0, 40.0]),
                    bbox("car", [80.0, 10.0, 20.0, 40.0]),
                    bbox("road", [20.0, 60.0, 80.0, 35.0]),
                    bbox("road", [130.0, 55.0, 40.0, 30.0]),
                    mask("road", &road_triangle, [200, 100]),
                    mask("road", &road_ellipse, [200, 100]),
                ]},
                "b": {"subset": "val", "width": 64, "height": 48, "shapes": [
                    bbox("person", [0.0, 0.0, 32.0, 24.0]),
                    bbox("person", person_box),
                    mask("person", &person_rings, [64, 48]),
                ]},
                "a-3": {"subset": "train", "width": 32, "height": 24, "shapes": []},
            }
        });
        let text = serde_json::to_string_pretty(&expected).unwrap();
        std::fs::write(dir.join("expected.json"), text).unwrap();
        judge_with_datumaro("voc", &dir);
    }
}

/// A 10×10 image: a road square (0,0)–(5,5), then an L of car painted over
/// its corner, then one road pixel; a mask drawn on another size is left
/// out.
fn brush_sample() -> ExportTask {
    let car = drawn_mask(&[
        "..........",
        "..........",
        "..........",
        "...###....",
        "...###....",
        "...#......",
        "...#......",
        "..........",
        "..........",
        "..........",
    ]);
    let mut dot = gloss_masks::Mask::new(10, 10).unwrap();
    dot.set(9, 9, true);
    let mut elsewhere = brush("x", "car", &gloss_masks::Mask::new(20, 10).unwrap());
    elsewhere["original_width"] = json!(20);
    task(
        5,
        "m.png",
        10,
        10,
        vec![
            polygon("p", "road", json!([[0, 0], [50, 0], [50, 50], [0, 50]])),
            brush("c", "car", &car),
            brush("d", "road", &dot),
            elsewhere,
        ],
    )
}

#[test]
fn brush_masks_are_objects_painted_pixel_for_pixel_in_result_order() {
    let (files, _, summary) = export(&[(brush_sample(), None)], VocCoordinates::Exact);
    assert_eq!((summary.objects, summary.masks, summary.skipped), (3, 1, 1));
    let xml = String::from_utf8(files.0["Annotations/m.xml"].clone()).unwrap();
    let boxes: Vec<&str> = xml
        .lines()
        .filter(|line| line.contains("<name>") || line.contains("max>"))
        .map(str::trim)
        .collect();
    assert_eq!(
        boxes,
        [
            "<name>road</name>",
            "<xmax>5</xmax>",
            "<ymax>5</ymax>",
            "<name>car</name>",
            "<xmax>6</xmax>",
            "<ymax>7</ymax>",
            "<name>road</name>",
            "<xmax>10</xmax>",
            "<ymax>10</ymax>",
        ]
    );
    assert!(xml.contains("<segmented>1</segmented>"));
    let (_, _, classes) = png_pixels(&files.0["SegmentationClass/m.png"]);
    let (_, _, objects) = png_pixels(&files.0["SegmentationObject/m.png"]);
    let third = [128, 128, 0];
    let picture = |pixels: &[[u8; 3]], colors: [([u8; 3], char); 3]| -> Vec<String> {
        pixels
            .chunks(10)
            .map(|row| {
                row.iter()
                    .map(|p| colors.iter().find(|(c, _)| c == p).map_or('.', |(_, s)| *s))
                    .collect()
            })
            .collect()
    };
    let painted = [
        "rrrrr.....",
        "rrrrr.....",
        "rrrrr.....",
        "rrrccc....",
        "rrrccc....",
        "...c......",
        "...c......",
        "..........",
        "..........",
        ".........d",
    ];
    let by_class = picture(&classes, [(ROAD, 'r'), (CAR, 'c'), ([1, 1, 1], 'd')]);
    assert_eq!(by_class, painted.map(|row| row.replace('d', "r")));
    let by_object = picture(&objects, [(FIRST, 'r'), (SECOND, 'c'), (third, 'd')]);
    assert_eq!(by_object, painted);

    let (out, _temporary) = datumaro_out();
    let dir = out.join("voc-brush");
    write_files(&files, &dir);
    let bbox = |label: &str, b: [f64; 4]| json!({"type": "bbox", "label": label, "bbox": b});
    // Each instance's pixels, as `painted` shows them.
    let mask = |label: &str, pixels: usize, letter: char| {
        let rows: Vec<String> = painted
            .iter()
            .map(|row| {
                row.chars()
                    .map(|c| if c == letter { '#' } else { '.' })
                    .collect()
            })
            .collect();
        json!({"type": "mask", "label": label, "pixels": pixels, "rows": rows})
    };
    let expected = json!({
        "labels": ["background", "car", "road", "person"],
        "items": {"m": {"subset": "default", "width": 10, "height": 10, "shapes": [
            bbox("road", [0.0, 0.0, 5.0, 5.0]),
            bbox("car", [3.0, 3.0, 3.0, 4.0]),
            bbox("road", [9.0, 9.0, 1.0, 1.0]),
            mask("road", 21, 'r'),
            mask("car", 8, 'c'),
            mask("road", 1, 'd'),
        ]}}
    });
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_vec_pretty(&expected).unwrap(),
    )
    .unwrap();
    judge_with_datumaro("voc", &dir);
}
