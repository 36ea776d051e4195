//! Helpers shared by the dataset format tests (YOLO, VOC, CVAT): tasks,
//! files, masks, and broken inputs.

#![allow(dead_code)] // Each test file uses a different part.

use gloss_formats::{
    AnnotationRecord, ExportAnnotation, ExportTask, ImageInfo, MemoryFiles, TaskRecord,
};
use gloss_types::result::{ResultItem, ResultValue};
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

pub fn item(value: Value) -> ResultItem {
    serde_json::from_value(value).expect("a result")
}

/// A task showing `file_name` (`width` × `height`) with these results in
/// one annotation.
pub fn task(id: i64, file_name: &str, width: u32, height: u32, results: Vec<Value>) -> ExportTask {
    ExportTask {
        id,
        image: Some(ImageInfo {
            file_name: file_name.to_owned(),
            width,
            height,
        }),
        annotations: vec![ExportAnnotation {
            id,
            record: AnnotationRecord {
                result: results.into_iter().map(item).collect(),
                ..AnnotationRecord::default()
            },
            stored_result: None,
        }],
        ..ExportTask::default()
    }
}

pub fn data_dir(name: &str) -> PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run through cargo test");
    PathBuf::from(crate_dir).join("tests/data").join(name)
}

/// Every file below `dir`, by `/`-separated relative path.
pub fn files_in(dir: &Path) -> MemoryFiles {
    fn walk(dir: &Path, prefix: &str, files: &mut MemoryFiles) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.expect("an entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            if path.is_dir() {
                walk(&path, &format!("{relative}/"), files);
            } else {
                files.0.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut files = MemoryFiles::default();
    walk(dir, "", &mut files);
    files
}

/// Writes the files below `dir`.
pub fn write_files(files: &MemoryFiles, dir: &Path) {
    for (path, bytes) in &files.0 {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
}

/// Compares `actual` with the golden file `tests/data/{name}`; with
/// `GLOSS_UPDATE_GOLDEN=1`, writes it instead.
pub fn golden(name: &str, actual: &[u8]) {
    let path = data_dir(name);
    if std::env::var_os("GLOSS_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e} (GLOSS_UPDATE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    assert_eq!(
        String::from_utf8_lossy(actual),
        String::from_utf8_lossy(&expected),
        "{name} differs from its golden file"
    );
}

/// Where the datasets for the datumaro judge are written: the folder
/// `GLOSS_DATUMARO_OUT` names (to keep them), else a temporary one.
pub fn datumaro_out() -> (PathBuf, Option<tempfile::TempDir>) {
    match std::env::var_os("GLOSS_DATUMARO_OUT") {
        Some(dir) => (PathBuf::from(dir), None),
        None => {
            let dir = tempfile::tempdir().unwrap();
            (dir.path().to_path_buf(), Some(dir))
        }
    }
}

/// Has datumaro import `dir` as `format` and compare it with
/// `dir/expected.json` (tests/python/datumaro_check.py), with the python
/// `GLOSS_TEST_PYTHON` names (scripts/python-env.sh installs datumaro);
/// without one the check is skipped with a note, except under `CI`.
pub fn judge_with_datumaro(format: &str, dir: &Path) {
    let python = match std::env::var("GLOSS_TEST_PYTHON") {
        Ok(python) if !python.trim().is_empty() => python,
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but GLOSS_TEST_PYTHON is not: run the tests through scripts/test-all.sh"
            );
            eprintln!("note: GLOSS_TEST_PYTHON is not set, so datumaro does not judge the {format} export");
            return;
        }
    };
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/datumaro_check.py");
    let output = std::process::Command::new(&python)
        .arg(script)
        .arg(format)
        .arg(dir)
        .arg(dir.join("expected.json"))
        .output()
        .unwrap_or_else(|err| panic!("starting {python}: {err}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "datumaro judged the {format} export wrong:\n{text}"
    );
    eprintln!(
        "datumaro, {format}: {}",
        text.lines().last().unwrap_or_default()
    );
}

/// Width, height and RGB pixels of an 8-bit RGB PNG without filters (as
/// Gloss writes masks).
pub fn png_pixels(png: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let mut at = 8;
    let (mut width, mut height, mut data) = (0, 0, Vec::new());
    while at < png.len() {
        let length = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let body = &png[at + 8..at + 8 + length];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(body[0..4].try_into().unwrap());
                height = u32::from_be_bytes(body[4..8].try_into().unwrap());
                assert_eq!(&body[8..], &[8, 2, 0, 0, 0], "8-bit RGB");
            }
            b"IDAT" => data.extend_from_slice(body),
            _ => {}
        }
        at += 12 + length;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&data[..])
        .read_to_end(&mut raw)
        .unwrap();
    let row = 1 + width as usize * 3;
    assert_eq!(raw.len(), row * height as usize);
    let pixels = raw
        .chunks_exact(row)
        .flat_map(|line| {
            assert_eq!(line[0], 0, "no filter");
            line[1..]
                .chunks_exact(3)
                .map(|p| [p[0], p[1], p[2]])
                .collect::<Vec<_>>()
        })
        .collect();
    (width, height, pixels)
}

/// Whether `(x, y)` is inside the rings (flat pixel outlines) by the
/// even-odd rule: a ray to the right crosses their edges an odd number of
/// times. Written apart from the scanline filling it checks.
pub fn inside(rings: &[Vec<f64>], x: f64, y: f64) -> bool {
    let mut odd = false;
    for ring in rings {
        let n = ring.len() / 2;
        for i in 0..n {
            let (x0, y0) = (ring[2 * i], ring[2 * i + 1]);
            let (x1, y1) = (ring[2 * ((i + 1) % n)], ring[2 * ((i + 1) % n) + 1]);
            if (y0 <= y) != (y1 <= y) && x < x0 + (y - y0) * (x1 - x0) / (y1 - y0) {
                odd = !odd;
            }
        }
    }
    odd
}

/// The 72-vertex outline Gloss draws an ellipse as (pixels).
pub fn ellipse_ring(cx: f64, cy: f64, rx: f64, ry: f64) -> Vec<f64> {
    (0..72)
        .flat_map(|i| {
            let angle = std::f64::consts::TAU * f64::from(i) / 72.0;
            [cx + rx * angle.cos(), cy + ry * angle.sin()]
        })
        .collect()
}

/// How many pixel centres of a `width` × `height` image are inside.
pub fn pixel_count(rings: &[Vec<f64>], width: u32, height: u32) -> usize {
    (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| inside(rings, f64::from(x) + 0.5, f64::from(y) + 0.5))
        .count()
}

pub fn close(actual: &[f64], expected: &[f64], tolerance: f64) -> bool {
    actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(a, e)| (a - e).abs() <= tolerance)
}

/// Every prefix of `text` that ends on a character boundary: files cut
/// short.
pub fn prefixes(text: &str) -> impl Iterator<Item = &str> {
    (0..text.len())
        .filter(|&end| text.is_char_boundary(end))
        .map(|end| &text[..end])
}

/// `count` copies of `bytes`, each with one byte replaced by a
/// pseudo-random one (the same ones every run).
pub fn garbled(bytes: &[u8], count: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut seed = 7u64;
    (0..count).map(move |_| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let mut copy = bytes.to_vec();
        let at = (seed >> 33) as usize % copy.len();
        copy[at] = (seed >> 20) as u8;
        copy
    })
}

/// A small valid RGB PNG of one colour, for datasets whose readers open
/// the images (datumaro's YOLO reader reads their size).
pub fn solid_png(width: u32, height: u32) -> Vec<u8> {
    use std::io::Write;
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut raw = Vec::new();
    for _ in 0..height {
        raw.push(0);
        raw.extend(std::iter::repeat_n([90u8, 140, 200], width as usize).flatten());
    }
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&raw).unwrap();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &encoder.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A mask drawn as rows of text: `#` is set, anything else is not.
pub fn drawn_mask(rows: &[&str]) -> gloss_masks::Mask {
    let width = rows.first().map_or(0, |row| row.len()) as u32;
    let mut mask = gloss_masks::Mask::new(width, rows.len() as u32).unwrap();
    for (y, row) in rows.iter().enumerate() {
        for (x, pixel) in row.bytes().enumerate() {
            mask.set(x as u32, y as u32, pixel == b'#');
        }
    }
    mask
}

/// The rows of a mask as text, `#` set and `.` not (see [`drawn_mask`]).
pub fn mask_rows(mask: &gloss_masks::Mask) -> Vec<String> {
    (0..mask.height())
        .map(|y| {
            (0..mask.width())
                .map(|x| if mask.get(x, y) { '#' } else { '.' })
                .collect()
        })
        .collect()
}

/// A `brushlabels` result (COCO RLE) of `mask`, drawn on its size.
pub fn brush(id: &str, label: &str, mask: &gloss_masks::Mask) -> Value {
    let counts = gloss_masks::CocoRle::from_mask(mask).to_compressed();
    serde_json::json!({"id": id, "from_name": "paint", "to_name": "image", "type": "brushlabels",
           "original_width": mask.width(), "original_height": mask.height(),
           "value": {"format": "coco_rle", "counts": counts, "brushlabels": [label]}})
}

/// The mask of a `brushlabels` result, decoded on its own size.
pub fn mask_of(result: &ResultItem) -> gloss_masks::Mask {
    let gloss_types::result::ResultValue::BrushLabels(brush) = &result.value else {
        panic!("not a brush mask: {result:?}");
    };
    let (width, height) = (
        result.original_width.unwrap(),
        result.original_height.unwrap(),
    );
    gloss_masks::brush_rle(&brush.shape, width, height)
        .expect("a mask")
        .to_mask()
}

pub fn numbers(result: &ResultItem) -> (&str, String, Vec<f64>) {
    let label = |labels: &[String]| labels.join("|");
    let flat = |points: &[[f64; 2]]| points.iter().flatten().copied().collect::<Vec<f64>>();
    let (label, numbers) = match &result.value {
        ResultValue::RectangleLabels(r) => (
            label(&r.rectanglelabels),
            vec![r.x, r.y, r.width, r.height, r.rotation.unwrap_or(0.0)],
        ),
        ResultValue::PolygonLabels(p) => (label(&p.polygonlabels), flat(&p.points)),
        ResultValue::PolyLineLabels(p) => (label(&p.labels), flat(&p.shape.points)),
        ResultValue::EllipseLabels(e) => (
            label(&e.labels),
            vec![
                e.shape.x,
                e.shape.y,
                e.shape.radius_x,
                e.shape.radius_y,
                e.shape.rotation.unwrap_or(0.0),
            ],
        ),
        ResultValue::KeyPointLabels(k) => (label(&k.labels), vec![k.shape.x, k.shape.y]),
        ResultValue::Choices(c) => (label(&c.choices), vec![]),
        ResultValue::TextArea(t) => (t.text.join("|"), vec![]),
        ResultValue::Number(n) => (String::new(), vec![n.number]),
        other => panic!("unexpected {other:?}"),
    };
    (result.value.type_name(), label, numbers)
}

pub fn results(task: &TaskRecord) -> &[ResultItem] {
    task.annotations.first().map_or(&[], |a| &a.result)
}

pub fn expected_json(name: &str) -> Value {
    let text = std::fs::read_to_string(data_dir(name).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The judge's form of a result: type, label and pixel numbers.
pub fn judged(result: &ResultItem, [width, height]: [f64; 2]) -> Value {
    let (kind, label, n) = numbers(result);
    let px = |values: &[f64]| -> Vec<f64> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| v * if i % 2 == 0 { width } else { height } / 100.0)
            .collect()
    };
    match kind {
        "rectanglelabels" if n[4] == 0.0 => {
            json!({"type": "bbox", "label": label, "bbox": px(&n[..4])})
        }
        "rectanglelabels" => {
            let [x, y, w, h] = [
                n[0] * width / 100.0,
                n[1] * height / 100.0,
                n[2] * width / 100.0,
                n[3] * height / 100.0,
            ];
            let (sin, cos) = n[4].to_radians().sin_cos();
            let (cx, cy) = (
                x + w / 2.0 * cos - h / 2.0 * sin,
                y + w / 2.0 * sin + h / 2.0 * cos,
            );
            json!({"type": "rotated_bbox", "label": label, "rbox": [cx, cy, w, h, n[4]]})
        }
        "polygonlabels" => json!({"type": "polygon", "label": label, "points": px(&n)}),
        "polylinelabels" => json!({"type": "polyline", "label": label, "points": px(&n)}),
        "keypointlabels" => json!({"type": "points", "label": label, "points": px(&n)}),
        "choices" => json!({"type": "label", "label": label}),
        other => panic!("{other}"),
    }
}

/// The largest difference between two judge shapes' numbers.
pub fn difference(a: &Value, b: &Value) -> f64 {
    assert_eq!((&a["type"], &a["label"]), (&b["type"], &b["label"]));
    let key = ["bbox", "rbox", "points"]
        .into_iter()
        .find(|k| a.get(k).is_some());
    let Some(key) = key else {
        return 0.0;
    };
    let (a, b): (Vec<f64>, Vec<f64>) = (
        serde_json::from_value(a[key].clone()).unwrap(),
        serde_json::from_value(b[key].clone()).unwrap(),
    );
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Compares the tasks read from a datumaro-made fixture with what it holds
/// (`expected`, in the form of its `expected.json`): each task's item (by
/// `item_of`) must have the same shapes, in order, within 0.01 px. Returns
/// the largest difference, in pixels.
pub fn compare_with_expected(
    name: &str,
    expected: &Value,
    tasks: &[TaskRecord],
    item_of: impl Fn(&TaskRecord) -> String,
) -> f64 {
    let items = expected["items"].as_object().unwrap();
    assert_eq!(tasks.len(), items.len(), "{name}: tasks");
    let mut worst = 0f64;
    for task in tasks {
        let item = item_of(task);
        let want = items[&item]["shapes"].as_array().unwrap();
        let size = [
            items[&item]["width"].as_f64().unwrap(),
            items[&item]["height"].as_f64().unwrap(),
        ];
        let actual = results(task);
        assert_eq!(actual.len(), want.len(), "{name}: {item}");
        for (result, want) in actual.iter().zip(want) {
            worst = worst.max(difference(&judged(result, size), want));
        }
    }
    assert!(worst <= 0.01, "{name}: largest difference {worst} px");
    worst
}

/// The python that runs the consumer checks of tests/python/ (named by
/// GLOSS_TEST_PYTHON), or `None` with a note that `judge` does not judge the
/// export; under CI its absence fails the test.
pub fn test_python(judge: &str) -> Option<String> {
    match std::env::var("GLOSS_TEST_PYTHON") {
        Ok(python) => Some(python),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but GLOSS_TEST_PYTHON is not"
            );
            eprintln!("note: GLOSS_TEST_PYTHON is not set, so {judge} does not judge the export");
            None
        }
    }
}

/// Runs `tests/python/<script>` with `args` (and environment `envs`) and
/// fails the test with what it printed unless it exits 0.
pub fn run_python_check(
    python: &str,
    script: &str,
    args: &[&std::ffi::OsStr],
    envs: &[(&str, &std::ffi::OsStr)],
) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/python")
        .join(script);
    let output = std::process::Command::new(python)
        .arg(path)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{script} {args:?} disagrees:\n{report}"
    );
    eprintln!("{report}");
}
