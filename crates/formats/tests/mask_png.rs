//! Semantic segmentation PNGs with a colour map, read back pixel by pixel
//! and judged by datumaro (`common_semantic_segmentation`).

mod dataset_support;

use dataset_support::{png_pixels, task};
use gloss_formats::{ExportCategory, MaskPngWriter, MemoryFiles};
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
