//! Semantic segmentation PNGs with a colour map, read back pixel by pixel
//! and judged by datumaro (`common_semantic_segmentation`).

mod dataset_support;

use dataset_support::*;
use gloss_formats::{
    read_mask_png, ControlRef, ExportCategory, MaskPngImportOptions, MaskPngWriter, MemoryFiles,
    TaskRecord,
};
use serde_json::json;

#[test]
fn boxes_polygons_and_masks_paint_their_class_colours() {
    // A 40×20 image: a box over x 0..10, y 0..10 (car); a triangle (road);
    // a brush mask of road over the 2×2 pixels at x 30..32, y 10..12.
    let mut mask = gloss_masks::Mask::new(40, 20).unwrap();
    for (x, y) in [(30, 10), (31, 10), (30, 11), (31, 11)] {
        mask.set(x, y, true);
    }
    let counts = gloss_masks::CocoRle::from_mask(&mask).to_compressed();
    let results = vec![
        json!({"id": "b", "from_name": "box", "to_name": "image", "type": "rectanglelabels",
               "value": {"x": 0, "y": 0, "width": 25, "height": 50, "rectanglelabels": ["car"]}}),
        json!({"id": "p", "from_name": "area", "to_name": "image", "type": "polygonlabels",
               "value": {"points": [[50, 0], [75, 0], [75, 50]], "polygonlabels": ["road"]}}),
        json!({"id": "m", "from_name": "paint", "to_name": "image", "type": "brushlabels",
               "original_width": 40, "original_height": 20,
               "value": {"format": "coco_rle", "counts": counts, "brushlabels": ["road"]}}),
    ];
    let categories = [
        ExportCategory::shapes("car"),
        ExportCategory::shapes("road"),
    ];
    let mut writer = MaskPngWriter::new(&categories).unwrap();
    let mut files = MemoryFiles::default();
    let image = writer
        .write_task(&task(1, "yard.png", 40, 20, results), None, &mut files)
        .unwrap();
    assert_eq!(image.as_deref(), Some("images/yard.png"));
    let summary = writer.finish(&mut files).unwrap();
    assert_eq!(
        (summary.images, summary.regions, summary.skipped),
        (1, 3, 0)
    );

    let (width, height, pixels) = png_pixels(&files.0["masks/yard.png"]);
    assert_eq!((width, height), (40, 20));
    let count = |rgb: [u8; 3]| pixels.iter().filter(|p| **p == rgb).count();
    // Classes 1 and 2 of the VOC palette.
    let (car, road) = ([128, 0, 0], [0, 128, 0]);
    assert_eq!(count(car), 100);
    // The triangle (20, 0), (30, 0), (30, 10): on row r the pixel centres
    // from x = 20 + r + 0.5 to 30, so 10 - r pixels; and the 4 mask pixels.
    let triangle: usize = (0..10).map(|row| 10 - row).sum();
    assert_eq!(count(road), triangle + 4, "triangle {triangle}");
    let meta: serde_json::Value = serde_json::from_slice(&files.0["dataset_meta.json"]).unwrap();
    assert_eq!(
        meta["label_map"],
        json!({"0": "background", "1": "car", "2": "road"})
    );

    let (out, _temporary) = dataset_support::datumaro_out();
    let dir = out.join("mask-png");
    files
        .0
        .insert("images/yard.png".into(), dataset_support::solid_png(40, 20));
    dataset_support::write_files(&files, &dir);
    let mask =
        |label: &str, pixels: usize| json!({"type": "mask", "label": label, "pixels": pixels});
    let expected = json!({
        "labels": ["background", "car", "road"],
        "items": {"yard": {"shapes": [
            mask("background", 800 - 100 - triangle - 4),
            mask("car", 100),
            mask("road", triangle + 4),
        ]}}
    });
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_vec_pretty(&expected).unwrap(),
    )
    .unwrap();
    dataset_support::judge_with_datumaro("common_semantic_segmentation", &dir);
}

fn import_options() -> MaskPngImportOptions {
    MaskPngImportOptions {
        image_field: "image".into(),
        brushes: Some(ControlRef {
            from_name: "paint".into(),
            to_name: "image".into(),
        }),
    }
}

/// Each result's label and pixels, as rows of `#` and `.`.
fn masks_of(task: &TaskRecord) -> Vec<(String, Vec<String>)> {
    task.annotations[0]
        .result
        .iter()
        .map(|result| {
            assert_eq!(result.from_name, "paint");
            let label = result.value.labels().unwrap()[0].clone();
            (label, mask_rows(&mask_of(result)))
        })
        .collect()
}

fn rows(picture: &[&str], letter: char) -> Vec<String> {
    picture
        .iter()
        .map(|row| {
            row.chars()
                .map(|c| if c == letter { '#' } else { '.' })
                .collect()
        })
        .collect()
}

#[test]
fn masks_read_back_as_one_brush_mask_per_class() {
    // Road painted first, a car over it; a second image with nothing.
    let road = drawn_mask(&["........", "........", "########", "########", "........"]);
    let car = drawn_mask(&["........", ".###....", ".###....", "..#.....", "........"]);
    let painted = ["........", ".ccc....", "rcccrrrr", "rrcrrrrr", "........"];
    let results = vec![brush("r", "road", &road), brush("c", "car", &car)];
    let categories = [
        ExportCategory::shapes("car"),
        ExportCategory::shapes("road"),
    ];
    let mut writer = MaskPngWriter::new(&categories).unwrap();
    let mut files = MemoryFiles::default();
    writer
        .write_task(&task(1, "street.jpg", 8, 5, results), None, &mut files)
        .unwrap();
    writer
        .write_task(&task(2, "empty.png", 8, 5, vec![]), None, &mut files)
        .unwrap();
    writer.finish(&mut files).unwrap();
    files.0.insert("images/street.jpg".into(), Vec::new());
    files.0.insert("images/empty.png".into(), Vec::new());

    let (tasks, rejections) = read_mask_png(&files, &import_options(), &|_| Some((8, 5))).unwrap();
    assert_eq!(rejections, []);
    // In path order: masks/empty.png, masks/street.png.
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].data["image"], "images/empty.png");
    assert_eq!(tasks[0].annotations, []);
    assert_eq!(tasks[1].data["image"], "images/street.jpg");
    assert_eq!(
        masks_of(&tasks[1]),
        [
            ("car".to_owned(), rows(&painted, 'c')),
            ("road".to_owned(), rows(&painted, 'r')),
        ]
    );
}

#[test]
fn datumaro_segmentation_datasets_import_with_their_pixels() {
    let dir = data_dir("datumaro_segmentation");
    let files = files_in(&dir);
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let (tasks, rejections) = read_mask_png(&files, &import_options(), &|_| Some((12, 8))).unwrap();
    assert_eq!(rejections, []);
    let items = expected["items"].as_object().unwrap();
    assert_eq!(tasks.len(), items.len());
    for task in &tasks {
        let image = task.data["image"].as_str().unwrap();
        let id = image.trim_start_matches("images/").trim_end_matches(".png");
        let want: Vec<(String, Vec<String>)> = items[id]["shapes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|shape| shape["label"] != "background")
            .map(|shape| {
                let rows = serde_json::from_value(shape["rows"].clone()).unwrap();
                (shape["label"].as_str().unwrap().to_owned(), rows)
            })
            .collect();
        assert_eq!(masks_of(task), want, "{id}");
    }
}

#[test]
fn broken_masks_are_rejected_with_the_file_and_reason() {
    let dir = data_dir("datumaro_segmentation");
    let mut files = files_in(&dir);
    let first = files.0["masks/first.png"].clone();
    // A colour the meta file does not have; a mask without an image; a
    // file that is not a PNG.
    let mut stray = solid_png(12, 8);
    files.0.insert("masks/stray.png".into(), stray.clone());
    files.0.insert("images/stray.png".into(), Vec::new());
    files.0.insert("masks/lonely.png".into(), first.clone());
    stray.truncate(20);
    files.0.insert("masks/cut.png".into(), stray);
    files.0.insert("images/cut.png".into(), Vec::new());
    let size = |path: &str| {
        Some(if path == "images/second.png" {
            (12, 9)
        } else {
            (12, 8)
        })
    };
    let (tasks, rejections) = read_mask_png(&files, &import_options(), &size).unwrap();
    assert_eq!(tasks.len(), 1, "only first.png is good");
    let reasons: Vec<String> = rejections
        .iter()
        .map(|r| format!("{} {}: {}", r.row, r.field, r.reason))
        .collect();
    assert_eq!(
        reasons
            .iter()
            .map(|r| r.split(": ").next().unwrap())
            .collect::<Vec<_>>(),
        [
            "1 masks/cut.png",
            "3 masks/lonely.png",
            "4 masks/second.png",
            "5 masks/stray.png"
        ],
        "{reasons:#?}"
    );
    assert!(
        reasons[0].contains("is not a PNG image Gloss can read"),
        "{}",
        reasons[0]
    );
    assert!(
        reasons[1].ends_with("has no image: no file images/lonely.* in the dataset"),
        "{}",
        reasons[1]
    );
    assert!(
        reasons[2].ends_with("is 12×8 pixels, and its image images/second.png is 12×9"),
        "{}",
        reasons[2]
    );
    assert!(
        reasons[3].ends_with(
            "pixel (0, 0) has colour (90, 140, 200), which dataset_meta.json gives no label"
        ),
        "{}",
        reasons[3]
    );

    // Classes, and nowhere to put them.
    let no_control = MaskPngImportOptions {
        brushes: None,
        ..import_options()
    };
    let (_, rejections) = read_mask_png(&files_in(&dir), &no_control, &|_| None).unwrap();
    assert_eq!(
        rejections[0].reason,
        "paints car, road, and the label config has no BrushLabels control for masks"
    );

    // A meta file that is not one; no dataset at all.
    let mut files = files_in(&dir);
    files
        .0
        .insert("dataset_meta.json".into(), b"{\"labels\": [1]}".to_vec());
    let error = read_mask_png(&files, &import_options(), &|_| None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "dataset_meta.json: `labels` must hold label names, found 1"
    );
    let error = read_mask_png(&MemoryFiles::default(), &import_options(), &|_| None).unwrap_err();
    assert!(
        error.to_string().contains("not a mask-png dataset"),
        "{error}"
    );
}

#[test]
fn grayscale_masks_hold_class_numbers() {
    let mut gray = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut gray, 3, 2);
        encoder.set_color(png::ColorType::Grayscale);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[0, 1, 2, 2, 2, 0]).unwrap();
    }
    let mut files = files_in(&data_dir("datumaro_segmentation"));
    files.0.retain(|path, _| path == "dataset_meta.json");
    files.0.insert("masks/g.png".into(), gray);
    files.0.insert("images/g.jpg".into(), Vec::new());
    let (tasks, rejections) = read_mask_png(&files, &import_options(), &|_| None).unwrap();
    assert_eq!(rejections, []);
    assert_eq!(
        masks_of(&tasks[0]),
        [
            ("car".to_owned(), vec![".#.".to_owned(), "...".to_owned()]),
            ("road".to_owned(), vec!["..#".to_owned(), "##.".to_owned()]),
        ]
    );
}

#[test]
fn later_results_paint_over_earlier_ones_whatever_their_kind() {
    // A car mask over the whole 4×2 image, then a road polygon over its
    // left half, then a car mask over the top left pixel.
    let everything = drawn_mask(&["####", "####"]);
    let corner = drawn_mask(&["#...", "...."]);
    let results = vec![
        brush("a", "car", &everything),
        json!({"id": "p", "from_name": "area", "to_name": "image", "type": "polygonlabels",
               "value": {"points": [[0, 0], [50, 0], [50, 100], [0, 100]], "polygonlabels": ["road"]}}),
        brush("b", "car", &corner),
    ];
    let categories = [
        ExportCategory::shapes("car"),
        ExportCategory::shapes("road"),
    ];
    let mut writer = MaskPngWriter::new(&categories).unwrap();
    let mut files = MemoryFiles::default();
    writer
        .write_task(&task(1, "x.png", 4, 2, results), None, &mut files)
        .unwrap();
    let (_, _, pixels) = png_pixels(&files.0["masks/x.png"]);
    let (car, road) = ([128, 0, 0], [0, 128, 0]);
    assert_eq!(pixels, [car, road, car, car, road, road, car, car]);
}
