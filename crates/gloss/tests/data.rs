//! End-to-end tests of getting data in and out of Gloss with the `gloss`
//! binary: `gloss import` of COCO, image folders, JSON, JSONL, CSV and Label
//! Studio files, `gloss export` as COCO and Label Studio, and the demo that
//! `gloss serve --demo` seeds. Each test runs on SQLite and, when
//! `GLOSS_TEST_POSTGRES_URL` is set (see scripts/with-postgres.sh), on
//! PostgreSQL too, and is bounded in time.
//!
//! The COCO export is also judged by a consumer: pycocotools' COCOeval, run
//! by tests/python/coco_eval.py with the python that `GLOSS_TEST_PYTHON`
//! names (scripts/test-all.sh sets it up with scripts/python-env.sh).

mod common;
use common::*;

use gloss_test_support::TestDb;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::Command;

/// The longest the pycocotools check may take (importing numpy included).
const PYTHON_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest one test may take, over both backends.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);

const ADMIN_PASSWORD: &str = "admin password 123";
/// The pycocotools judge. Found at run time from the folder cargo runs the
/// tests in: a path fixed at compile time would point into another clone
/// when CI reuses a target folder.
fn coco_eval_script() -> PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run through cargo test");
    PathBuf::from(crate_dir).join("../../tests/python/coco_eval.py")
}

/// Boxes and polygons of the COCO categories, listed in another order than
/// the COCO file's ids so that Gloss's renumbering shows.
const COCO_CONFIG: &str = r#"<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="bird"/><Label value="cat"/><Label value="dog"/>
  </RectangleLabels>
  <PolygonLabels name="outline" toName="image">
    <Label value="bird"/><Label value="cat"/><Label value="dog"/>
  </PolygonLabels>
</View>
"#;

const SCENE_CONFIG: &str = r#"<View>
  <Image name="image" value="$image"/>
  <Choices name="scene" toName="image"><Choice value="Urban"/><Choice value="Rural"/></Choices>
</View>
"#;

const LABEL_STUDIO_CONFIG: &str = r#"<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car"/><Label value="Person"/>
  </RectangleLabels>
  <PolygonLabels name="outline" toName="image">
    <Label value="Road"/><Label value="Sidewalk"/>
  </PolygonLabels>
  <Choices name="weather" toName="image" choice="single">
    <Choice value="Sunny"/><Choice value="Rainy"/>
  </Choices>
</View>
"#;

// ---------------------------------------------------------------- helpers

/// Runs a test body, failing it when it runs past [`TEST_TIMEOUT`]; dropping
/// it kills any process it started.
async fn within(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test ran out of time");
}

/// One Gloss instance: a working folder (the commands' current folder), a
/// data folder inside it, and a fresh database.
struct Instance {
    label: &'static str,
    home: TempDir,
    db: TestDb,
}

impl Instance {
    fn on(db: TestDb) -> Instance {
        Instance {
            label: db.label,
            home: tempfile::tempdir().expect("temporary folder"),
            db,
        }
    }

    /// A fresh SQLite instance, and a fresh PostgreSQL one when configured.
    async fn all() -> Vec<Instance> {
        let mut instances = vec![Instance::on(gloss_test_support::sqlite_db())];
        instances.extend(gloss_test_support::postgres_db().await.map(Instance::on));
        instances
    }

    fn data(&self) -> PathBuf {
        self.home.path().join("data")
    }

    /// A path inside the working folder.
    fn path(&self, relative: &str) -> PathBuf {
        self.home.path().join(relative)
    }

    /// Writes a file inside the working folder, creating its folders.
    fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    /// `gloss --data DATA --database URL ARGS…`
    fn gloss(&self, args: &[&str]) -> Gloss {
        let data = self.data();
        Gloss::new(self.home.path())
            .args(&["--data", data.to_str().expect("UTF-8 path")])
            .args(&["--database", &self.db.url])
            .args(args)
    }

    /// `gloss import --project PROJECT PATH`; returns what it printed.
    async fn import_file(&self, project: &str, path: &Path) -> String {
        self.gloss(&["import", "--project", project, path.to_str().unwrap()])
            .ok()
            .await
    }

    /// `gloss export --project PROJECT --format FORMAT --out PATH`.
    async fn export_to(&self, project: &str, format: &str, path: &Path) {
        self.gloss(&["export", "--project", project, "--format", format])
            .args(&["--out", path.to_str().unwrap()])
            .ok()
            .await;
    }

    /// `gloss project create` with `config`; returns the new project's id.
    async fn create_project(&self, name: &str, config: &str) -> String {
        let file = self.write(&format!("{name}.xml"), config);
        let id = self
            .gloss(&["project", "create", "--name", name])
            .args(&["--config", file.to_str().unwrap()])
            .ok()
            .await;
        let id = id.trim().to_string();
        id.parse::<i64>()
            .unwrap_or_else(|_| panic!("project create printed {id:?}, not an id"));
        id
    }

    /// `gloss export --project ID --format json` to standard output, parsed.
    async fn export_json(&self, project: &str) -> Vec<Value> {
        let out = self
            .gloss(&["export", "--project", project, "--format", "json"])
            .ok()
            .await;
        match serde_json::from_str(&out) {
            Ok(Value::Array(tasks)) => tasks,
            _ => panic!(
                "{}: the JSON export is not a JSON array:\n{out}",
                self.label
            ),
        }
    }

    /// `gloss serve --bind 127.0.0.1:0` with a known admin password.
    async fn serve(&self, extra: &[&str]) -> Server {
        self.gloss(&["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .env("GLOSS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .serve()
            .await
    }
}

impl Server {
    /// A GET with a bearer token; the status and the body as JSON (or as a
    /// JSON string when it is not JSON).
    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let (status, _, body) = self.get_bytes(path, token).await;
        let json = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        (status, json)
    }

    /// A GET with a bearer token; the status, the content type and the bytes.
    async fn get_bytes(&self, path: &str, token: &str) -> (u16, String, Vec<u8>) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|err| panic!("GET {path}: {err}"));
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = response
            .bytes()
            .await
            .unwrap_or_else(|err| panic!("GET {path}: reading the body: {err}"));
        (status, content_type, body.to_vec())
    }

    /// Signs in with a password; returns the new API token.
    async fn sign_in(&self, username: &str, password: &str) -> String {
        let response = self
            .client
            .post(format!("{}/api/v1/auth/token", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("signing in");
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 201, "signing in as {username}: {body}");
        body["token"].as_str().expect("a token").to_string()
    }

    /// A GET of a JSON document that must answer 200.
    async fn get_ok(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.get(path, token).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The URL under which Gloss serves (and task data names) these bytes.
fn media_url(bytes: &[u8]) -> String {
    format!("/api/v1/media/{}", sha256_hex(bytes))
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(
        bytes.len() >= 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR",
        "not a PNG: {:?}",
        &bytes[..bytes.len().min(24)]
    );
    let number = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (number(16), number(20))
}

/// The lines of `gloss import`'s standard error that report rejected rows of `file`.
fn rejected_lines<'a>(stderr: &'a str, file: &str) -> Vec<&'a str> {
    let prefix = format!("{file} row ");
    stderr
        .lines()
        .filter(|line| line.starts_with(&prefix))
        .collect()
}

/// Checks `gloss import`'s summary line: tasks, annotations, predictions, rows.
fn assert_imported(stdout: &str, counts: (u64, u64, u64, u64), label: &str) {
    let (tasks, annotations, predictions, rows) = counts;
    let expected = format!(
        "Imported {tasks} tasks, {annotations} annotations and {predictions} predictions from {rows} rows in "
    );
    assert!(
        stdout
            .trim_end()
            .lines()
            .any(|line| line.starts_with(&expected)
                && line.contains(" s (import ")
                && line.ends_with(')')),
        "{label}: expected `{expected}…`, got:\n{stdout}"
    );
}

/// Every file below `dir`.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_below(&path));
        } else {
            found.push(path);
        }
    }
    found
}

// ---------------------------------------------------------------- COCO files

/// A COCO instances file and its images, as a tool would write them.
struct CocoSource {
    json: Value,
    /// File name → PNG bytes.
    images: Vec<(String, Vec<u8>)>,
}

impl CocoSource {
    /// Writes the images and `instances.json` into `folder`; returns the
    /// path of the JSON file.
    fn write_into(&self, folder: &Path) -> PathBuf {
        std::fs::create_dir_all(folder).unwrap();
        for (name, bytes) in &self.images {
            std::fs::write(folder.join(name), bytes).unwrap();
        }
        let path = folder.join("instances.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&self.json).unwrap()).unwrap();
        path
    }

    /// How many images have at least one annotation (Gloss makes one
    /// annotation per image that has shapes).
    fn annotated_images(&self) -> usize {
        let mut ids: Vec<i64> = self.json["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["image_id"].as_i64().unwrap())
            .collect();
        ids.sort();
        ids.dedup();
        ids.len()
    }
}

/// Twice the signed area of a flat `[x1, y1, x2, y2, …]` ring, halved and made positive.
fn shoelace(ring: &[f64]) -> f64 {
    let points: Vec<(f64, f64)> = ring.chunks_exact(2).map(|xy| (xy[0], xy[1])).collect();
    let twice: f64 = points
        .iter()
        .zip(points.iter().cycle().skip(1))
        .map(|((x1, y1), (x2, y2))| x1 * y2 - x2 * y1)
        .sum();
    twice.abs() / 2.0
}

/// `[x, y, width, height]` around all rings.
fn bounds(rings: &[Vec<f64>]) -> [f64; 4] {
    let xs = rings.iter().flat_map(|ring| ring.iter().step_by(2));
    let ys = rings.iter().flat_map(|ring| ring.iter().skip(1).step_by(2));
    let (min_x, max_x) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
        (lo.min(x), hi.max(x))
    });
    let (min_y, max_y) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &y| {
        (lo.min(y), hi.max(y))
    });
    [min_x, min_y, max_x - min_x, max_y - min_y]
}

/// A COCO annotation outlined by polygon rings: bbox around all of them,
/// area the sum of theirs.
fn polygon_annotation(id: i64, image_id: i64, category_id: i64, rings: &[&[f64]]) -> Value {
    let rings: Vec<Vec<f64>> = rings.iter().map(|ring| ring.to_vec()).collect();
    json!({
        "id": id,
        "image_id": image_id,
        "category_id": category_id,
        "segmentation": rings,
        "bbox": bounds(&rings),
        "area": rings.iter().map(|ring| shoelace(ring)).sum::<f64>(),
        "iscrowd": 0,
    })
}

/// A COCO annotation that is a box alone: `segmentation` is `[]`, or
/// missing when `segmentation` is `None`.
fn box_annotation(
    id: i64,
    image_id: i64,
    category_id: i64,
    bbox: [f64; 4],
    segmentation: Option<Value>,
) -> Value {
    let mut annotation = json!({
        "id": id,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": bbox,
        "area": bbox[2] * bbox[3],
        "iscrowd": 0,
    });
    if let Some(segmentation) = segmentation {
        annotation["segmentation"] = segmentation;
    }
    annotation
}

/// A COCO file with `images` (id, file name, width, height) and `annotations`.
/// Category ids are 7, 3 and 12, not 1..n, to prove the remapping.
fn coco_source(images: &[(i64, &str, u32, u32)], annotations: Vec<Value>) -> CocoSource {
    let files = images
        .iter()
        .enumerate()
        .map(|(seed, &(_, name, width, height))| {
            (
                name.to_string(),
                gloss_test_support::png(width, height, 40 * seed as u8 + 1),
            )
        })
        .collect();
    let json = json!({
        "info": {"description": "written by the Gloss data tests", "year": 2024},
        "licenses": [],
        "images": images
            .iter()
            .map(|&(id, name, width, height)| json!({
                "id": id, "file_name": name, "width": width, "height": height, "license": 0,
            }))
            .collect::<Vec<_>>(),
        "categories": [
            {"id": 7, "name": "cat", "supercategory": "animal"},
            {"id": 3, "name": "dog", "supercategory": "animal"},
            {"id": 12, "name": "bird", "supercategory": "animal"},
        ],
        "annotations": annotations,
    });
    CocoSource {
        json,
        images: files,
    }
}

/// Six images of different sizes (one without annotations), single-ring
/// polygons (convex, concave, with fractional coordinates) and boxes alone
/// (with `segmentation: []` and without the key). Image and annotation ids
/// are not 1..n.
///
/// The boxes stay boxes without a polygon, as detection data sets have
/// them: Gloss imports them as rectanglelabels and exports them with their
/// four corners as `segmentation`, while polygons go through polygonlabels,
/// so both paths are judged. For the `segm` score coco_eval.py gives a
/// source box the same four-corner polygon (a box's mask is the box).
fn single_ring_coco() -> CocoSource {
    let images = [
        (1001, "street.png", 160, 120),
        (42, "park.png", 200, 100),
        (7, "yard.png", 90, 140),
        (900, "beach.png", 128, 128),
        (13, "empty.png", 64, 48),
        (555, "roof.png", 150, 75),
    ];
    let annotations = vec![
        polygon_annotation(5001, 1001, 7, &[&[10.0, 10.0, 70.0, 15.0, 30.0, 80.0]]),
        box_annotation(5002, 1001, 3, [90.5, 20.25, 50.0, 60.0], Some(json!([]))),
        polygon_annotation(
            5003,
            42,
            12,
            &[&[
                120.0, 10.0, 150.0, 30.0, 140.0, 70.0, 100.0, 70.0, 90.0, 30.0,
            ]],
        ),
        polygon_annotation(
            5004,
            42,
            7,
            &[&[5.5, 5.25, 60.75, 8.0, 55.0, 90.5, 12.0, 80.0]],
        ),
        box_annotation(5005, 7, 12, [10.0, 20.0, 30.0, 40.0], None),
        // Concave: an L.
        polygon_annotation(
            5006,
            900,
            3,
            &[&[
                10.0, 10.0, 60.0, 10.0, 60.0, 30.0, 30.0, 30.0, 30.0, 90.0, 10.0, 90.0,
            ]],
        ),
        box_annotation(5007, 900, 7, [70.0, 70.0, 40.0, 50.0], Some(json!([]))),
        polygon_annotation(
            5008,
            555,
            12,
            &[&[
                20.0, 10.0, 60.0, 10.0, 80.0, 37.5, 60.0, 65.0, 20.0, 65.0, 0.0, 37.5,
            ]],
        ),
    ];
    coco_source(&images, annotations)
}

/// One image whose cat is two separate parts (one annotation, two rings),
/// next to a plain one.
fn multi_ring_coco() -> CocoSource {
    let images = [(77, "island.png", 120, 100), (78, "shore.png", 80, 60)];
    let annotations = vec![
        polygon_annotation(
            6001,
            77,
            7,
            &[
                &[10.0, 10.0, 40.0, 10.0, 40.0, 30.0, 10.0, 30.0],
                &[60.0, 50.0, 100.0, 50.0, 100.0, 90.0, 60.0, 90.0],
            ],
        ),
        polygon_annotation(6002, 78, 3, &[&[5.0, 5.0, 50.0, 5.0, 25.0, 40.0]]),
    ];
    coco_source(&images, annotations)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|n| n.as_f64().unwrap_or_else(|| panic!("not a number: {n}")))
        .collect()
}

/// Checks a Gloss COCO export against its source in Rust, whatever python
/// has to say: same images (by file name, with sizes), same categories (by
/// name), and for every source annotation exactly one exported annotation
/// with its image, category, bbox, area and outline (a box's outline is its
/// four corners).
fn assert_coco_matches(source: &Value, export: &Value, label: &str) {
    let category_names = |coco: &Value| -> HashMap<i64, String> {
        coco["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_i64().unwrap(),
                    c["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let image_names = |coco: &Value| -> HashMap<i64, (String, u64, u64)> {
        coco["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["id"].as_i64().unwrap(),
                    (
                        i["file_name"].as_str().unwrap().to_string(),
                        i["width"].as_u64().unwrap(),
                        i["height"].as_u64().unwrap(),
                    ),
                )
            })
            .collect()
    };
    let (source_categories, export_categories) = (category_names(source), category_names(export));
    let (source_images, export_images) = (image_names(source), image_names(export));
    let mut wanted: Vec<_> = source_images.values().cloned().collect();
    let mut found: Vec<_> = export_images.values().cloned().collect();
    wanted.sort();
    found.sort();
    assert_eq!(
        found, wanted,
        "{label}: exported images (file name, width, height)"
    );
    let mut wanted: Vec<_> = source_categories.values().cloned().collect();
    let mut found: Vec<_> = export_categories.values().cloned().collect();
    wanted.sort();
    found.sort();
    assert_eq!(found, wanted, "{label}: exported categories");

    let exported = export["annotations"].as_array().unwrap();
    let source_annotations = source["annotations"].as_array().unwrap();
    assert_eq!(
        exported.len(),
        source_annotations.len(),
        "{label}: exported annotations:\n{}",
        serde_json::to_string_pretty(exported).unwrap()
    );
    let mut used = vec![false; exported.len()];
    for original in source_annotations {
        let image = &source_images[&original["image_id"].as_i64().unwrap()].0;
        let category = &source_categories[&original["category_id"].as_i64().unwrap()];
        let bbox = numbers(&original["bbox"]);
        let outline: Vec<Vec<f64>> = match original.get("segmentation").and_then(Value::as_array) {
            Some(rings) if !rings.is_empty() => rings.iter().map(numbers).collect(),
            _ => {
                let [x, y, w, h] = bbox[..] else {
                    unreachable!()
                };
                vec![vec![x, y, x + w, y, x + w, y + h, x, y + h]]
            }
        };
        let position = exported.iter().enumerate().position(|(index, candidate)| {
            !used[index]
                && export_images[&candidate["image_id"].as_i64().unwrap()].0 == *image
                && export_categories[&candidate["category_id"].as_i64().unwrap()] == *category
                && numbers(&candidate["bbox"])
                    .iter()
                    .zip(&bbox)
                    .all(|(a, b)| close(*a, *b))
        });
        let Some(position) = position else {
            panic!(
                "{label}: no exported annotation of {image} / {category} with bbox {bbox:?} for {original}; exported:\n{}",
                serde_json::to_string_pretty(exported).unwrap()
            );
        };
        used[position] = true;
        let candidate = &exported[position];
        let area = candidate["area"].as_f64().unwrap();
        assert!(
            close(area, original["area"].as_f64().unwrap()),
            "{label}: area of {candidate} for {original}"
        );
        let rings: Vec<Vec<f64>> = candidate["segmentation"]
            .as_array()
            .unwrap_or_else(|| panic!("{label}: no polygon segmentation in {candidate}"))
            .iter()
            .map(numbers)
            .collect();
        let same_outline = rings.len() == outline.len()
            && rings
                .iter()
                .zip(&outline)
                .all(|(a, b)| a.len() == b.len() && a.iter().zip(b).all(|(a, b)| close(*a, *b)));
        assert!(
            same_outline,
            "{label}: outline of {candidate} for {original}"
        );
        assert_eq!(candidate["iscrowd"], json!(0), "{label}: {candidate}");
    }
}

/// The python that runs the consumer checks: `GLOSS_TEST_PYTHON`. Without
/// it the python part is skipped with a note, except under `CI`, where that
/// would hide a broken setup.
fn consumer_python() -> Option<String> {
    match std::env::var("GLOSS_TEST_PYTHON") {
        Ok(python) if !python.trim().is_empty() => Some(python),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but GLOSS_TEST_PYTHON is not: run the tests through scripts/test-all.sh, \
                 which sets it to the python of scripts/python-env.sh"
            );
            eprintln!(
                "note: GLOSS_TEST_PYTHON is not set, so pycocotools does not judge the COCO export; \
                 run `GLOSS_TEST_PYTHON=$(scripts/python-env.sh) cargo test -p gloss --test data` \
                 or scripts/test-all.sh"
            );
            None
        }
    }
}

/// Runs tests/python/coco_eval.py on a source and an export when a python
/// is configured; fails the test with its output unless it passes. Returns
/// its output.
async fn judge_with_pycocotools(source: &Path, export: &Path, label: &str) -> Option<String> {
    let python = consumer_python()?;
    let mut command = Command::new(&python);
    command
        .arg(coco_eval_script())
        .arg(source)
        .arg(export)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command
        .spawn()
        .unwrap_or_else(|err| panic!("starting {python} (GLOSS_TEST_PYTHON): {err}"));
    let output = tokio::time::timeout(PYTHON_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("coco_eval.py ran past {PYTHON_TIMEOUT:?}"))
        .expect("waiting for coco_eval.py");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{label}: pycocotools judged the COCO export wrong ({}):\n{text}",
        output.status
    );
    Some(text)
}

/// Has datumaro read a COCO export (as `coco_instances`: the file becomes
/// `annotations/instances_default.json`, beside empty stand-ins for the
/// images in `images/default/`) and find in it what Gloss wrote:
/// each image with its size, and per annotation its polygons, its RLE mask
/// (by pixel count) and its box, within 0.01 px (tests/python/datumaro_check.py).
async fn judge_coco_with_datumaro(export: &Value, label: &str) {
    let Some(python) = consumer_python() else {
        return;
    };
    // Not a hidden folder (`.tmp…`): datumaro skips those.
    let dir = tempfile::Builder::new().prefix("coco-").tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("annotations")).unwrap();
    std::fs::write(
        dir.path().join("annotations/instances_default.json"),
        serde_json::to_vec(export).unwrap(),
    )
    .unwrap();
    let names: HashMap<i64, String> = export["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_i64().unwrap(),
                c["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut items = serde_json::Map::new();
    // Datumaro wants the images folder; the sizes it takes from the file.
    std::fs::create_dir_all(dir.path().join("images/default")).unwrap();
    for image in export["images"].as_array().unwrap() {
        let file_name = image["file_name"].as_str().unwrap();
        std::fs::write(dir.path().join("images/default").join(file_name), b"").unwrap();
        let stem = file_name.rsplit_once('.').unwrap().0.to_owned();
        let mut shapes = Vec::new();
        for annotation in export["annotations"].as_array().unwrap() {
            if annotation["image_id"] != image["id"] {
                continue;
            }
            let name = &names[&annotation["category_id"].as_i64().unwrap()];
            match &annotation["segmentation"] {
                Value::Array(rings) => shapes.extend(
                    rings
                        .iter()
                        .map(|ring| json!({"type": "polygon", "label": name, "points": ring})),
                ),
                Value::Object(_) => shapes
                    .push(json!({"type": "mask", "label": name, "pixels": annotation["area"]})),
                _ => {}
            }
            shapes.push(json!({"type": "bbox", "label": name, "bbox": annotation["bbox"]}));
        }
        items.insert(
            stem,
            json!({"width": image["width"], "height": image["height"], "shapes": shapes}),
        );
    }
    let expected = json!({"labels": names.values().collect::<Vec<_>>(), "items": items});
    std::fs::write(
        dir.path().join("expected.json"),
        serde_json::to_vec(&expected).unwrap(),
    )
    .unwrap();
    let script = coco_eval_script().with_file_name("datumaro_check.py");
    let output = Command::new(&python)
        .arg(script)
        .args(["coco_instances"])
        .arg(dir.path())
        .arg(dir.path().join("expected.json"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PYTHON_TIMEOUT, output)
        .await
        .unwrap_or_else(|_| panic!("datumaro_check.py ran past {PYTHON_TIMEOUT:?}"))
        .expect("running datumaro_check.py");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{label}: datumaro read the COCO export differently:\n{text}"
    );
    eprintln!(
        "{label}: datumaro: {}",
        text.lines().last().unwrap_or_default()
    );
}

/// The AP lines coco_eval.py prints last, for the log.
fn ap_summary(output: &str) -> String {
    output
        .lines()
        .filter(|line| line.contains(": AP="))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads a file from a zip.
fn zip_entry(archive: &mut zip::ZipArchive<std::fs::File>, name: &str) -> Vec<u8> {
    let mut entry = archive
        .by_name(name)
        .unwrap_or_else(|err| panic!("{name} in the zip: {err}"));
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coco_file_round_trips_through_import_and_export_as_pycocotools_judges_it() {
    within(async {
        let coco = single_ring_coco();
        for gloss in Instance::all().await {
            let label = gloss.label;
            let source = coco.write_into(&gloss.path("coco"));
            let project = gloss.create_project("animals", COCO_CONFIG).await;
            let out = gloss.import_file(&project, &source).await;
            // One task per image; one annotation per image with shapes.
            assert_imported(&out, (6, coco.annotated_images() as u64, 0, 6), label);

            // Into a folder: annotations.json and images/, byte for byte.
            let folder = gloss.path("exported");
            let out_arg = format!("{}/", folder.display());
            gloss
                .gloss(&["export", "--project", &project, "--format", "coco"])
                .args(&["--out", &out_arg])
                .ok()
                .await;
            let mut exported_images: Vec<String> = std::fs::read_dir(folder.join("images"))
                .expect("an images folder")
                .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                .collect();
            exported_images.sort();
            let mut source_images: Vec<String> =
                coco.images.iter().map(|(name, _)| name.clone()).collect();
            source_images.sort();
            assert_eq!(exported_images, source_images, "{label}");
            for (name, bytes) in &coco.images {
                let copied = std::fs::read(folder.join("images").join(name)).unwrap();
                assert!(
                    copied == *bytes,
                    "{label}: images/{name} differs from the imported file"
                );
            }
            let annotations_file = folder.join("annotations.json");
            let annotations_bytes = std::fs::read(&annotations_file).expect("annotations.json");
            let export: Value = serde_json::from_slice(&annotations_bytes).unwrap();
            assert_coco_matches(&coco.json, &export, label);

            if let Some(output) = judge_with_pycocotools(&source, &annotations_file, label).await {
                eprintln!("{label}: pycocotools: {}", ap_summary(&output));
            }
            judge_coco_with_datumaro(&export, label).await;

            // Into a zip: the same annotations.json and images.
            let zip_path = gloss.path("exported.zip");
            gloss.export_to(&project, "coco", &zip_path).await;
            let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap())
                .unwrap_or_else(|err| panic!("{label}: the COCO export is not a zip: {err}"));
            let mut names: Vec<String> = archive
                .file_names()
                .map(|name| name.unwrap().into_owned())
                .collect();
            names.sort();
            let mut expected: Vec<String> = source_images
                .iter()
                .map(|name| format!("images/{name}"))
                .collect();
            expected.push("annotations.json".to_string());
            expected.sort();
            assert_eq!(names, expected, "{label}: files in the zip");
            let zipped: Value =
                serde_json::from_slice(&zip_entry(&mut archive, "annotations.json")).unwrap();
            assert_eq!(zipped, export, "{label}: annotations.json in the zip");
            for (name, bytes) in &coco.images {
                let zipped = zip_entry(&mut archive, &format!("images/{name}"));
                assert!(
                    zipped == *bytes,
                    "{label}: images/{name} in the zip differs"
                );
            }

            // --no-images: the JSON document alone.
            let alone = gloss.path("alone.json");
            gloss
                .gloss(&[
                    "export",
                    "--project",
                    &project,
                    "--format",
                    "coco",
                    "--no-images",
                ])
                .args(&["--out", alone.to_str().unwrap()])
                .ok()
                .await;
            let alone: Value = serde_json::from_slice(&std::fs::read(&alone).unwrap())
                .expect("--no-images writes JSON");
            assert_eq!(alone, export, "{label}: --no-images");
        }
    })
    .await;
}

/// A COCO annotation whose polygon has two rings (an object in two visible
/// parts) is one object: exported back, it must still be one annotation
/// with the bbox around both rings and the sum of their areas.
///
/// Ignored: the importer turns each ring into its own polygonlabels result
/// (crates/formats/src/coco.rs, `Shapes::results`) and the COCO writer
/// writes each result as its own annotation (crates/formats/src/coco_writer.rs,
/// `CocoWriter::write_task`), so the export has two annotations, each with
/// the bbox of one ring, and pycocotools scores it bbox AP 0.5, segm AP 0.625. Run with
/// `cargo test -p gloss --test data -- --ignored` once that is fixed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coco_polygon_with_two_rings_exports_as_one_annotation() {
    within(async {
        let coco = multi_ring_coco();
        for gloss in Instance::all().await {
            let label = gloss.label;
            let source = coco.write_into(&gloss.path("coco"));
            let project = gloss.create_project("islands", COCO_CONFIG).await;
            let out = gloss.import_file(&project, &source).await;
            assert_imported(&out, (2, 2, 0, 2), label);
            let export = coco_export(&gloss, &project, "exported.json").await;
            judge_with_pycocotools(&source, &gloss.path("exported.json"), label).await;
            assert_coco_matches(&coco.json, &export, label);
        }
    })
    .await;
}

/// Person skeletons next to cat outlines, as COCO's person-keypoints files
/// have them: joints visible (v 2), occluded (v 1) and absent (v 0).
const POSE_CONFIG: &str = r#"<View>
  <Image name="image" value="$image"/>
  <PolygonLabels name="outline" toName="image"><Label value="cat"/></PolygonLabels>
  <KeyPointLabels name="pose" toName="image">
    <Label value="nose"/><Label value="left_eye"/><Label value="right_eye"/>
    <Label value="left_hip"/><Label value="right_hip"/>
    <Skeleton value="person">
      <Edge from="nose" to="left_eye"/><Edge from="nose" to="right_eye"/>
      <Edge from="left_hip" to="right_hip"/>
    </Skeleton>
  </KeyPointLabels>
</View>
"#;

fn keypoints_coco() -> CocoSource {
    let images = [(21, "crowd.png", 160, 120), (22, "alone.png", 100, 80)];
    let person = |id: i64, image_id: i64, keypoints: [f64; 15], bbox: [f64; 4]| {
        let placed = keypoints.chunks(3).filter(|joint| joint[2] > 0.0).count();
        json!({
            "id": id, "image_id": image_id, "category_id": 30, "iscrowd": 0,
            "segmentation": [], "bbox": bbox, "area": bbox[2] * bbox[3],
            "num_keypoints": placed, "keypoints": keypoints,
        })
    };
    let annotations = vec![
        person(
            7001,
            21,
            [
                30.0, 20.0, 2.0, 25.5, 15.0, 2.0, 35.0, 15.25, 1.0, 20.0, 60.0, 2.0, 40.0, 61.0,
                2.0,
            ],
            [15.0, 10.0, 30.0, 60.0],
        ),
        person(
            7002,
            21,
            [
                110.0, 30.0, 2.0, 0.0, 0.0, 0.0, 115.0, 25.0, 2.0, 100.0, 80.0, 1.0, 0.0, 0.0, 0.0,
            ],
            [95.0, 20.0, 30.0, 70.0],
        ),
        person(
            7003,
            22,
            [
                50.0, 10.0, 2.0, 45.0, 6.0, 2.0, 55.0, 6.0, 2.0, 42.0, 50.0, 2.0, 58.0, 50.0, 2.0,
            ],
            [35.0, 2.0, 30.0, 60.0],
        ),
        polygon_annotation(7004, 22, 7, &[&[70.0, 60.0, 95.0, 62.0, 80.0, 78.0]]),
    ];
    let mut source = coco_source(&images, annotations);
    source.json["categories"] = json!([
        {"id": 7, "name": "cat", "supercategory": "animal"},
        {"id": 30, "name": "person", "supercategory": "person",
         "keypoints": ["nose", "left_eye", "right_eye", "left_hip", "right_hip"],
         "skeleton": [[1, 2], [1, 3], [4, 5]]},
    ]);
    source
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coco_keypoints_round_trip_with_an_oks_of_one() {
    within(async {
        let coco = keypoints_coco();
        for gloss in Instance::all().await {
            let label = gloss.label;
            let source = coco.write_into(&gloss.path("coco"));
            let project = gloss.create_project("poses", POSE_CONFIG).await;
            let out = gloss.import_file(&project, &source).await;
            assert_imported(&out, (2, 2, 0, 2), label);
            let exported = gloss.path("exported.json");
            gloss
                .gloss(&["export", "--project", &project, "--format", "coco"])
                .args(&["--no-images", "--out", exported.to_str().unwrap()])
                .ok()
                .await;
            let export: Value = serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
            let person = export["categories"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "person")
                .unwrap_or_else(|| panic!("{label}: no person category in {export}"));
            assert_eq!(
                person["skeleton"],
                json!([[1, 2], [1, 3], [4, 5]]),
                "{label}"
            );
            let skeletons: Vec<&Value> = export["annotations"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["category_id"] == person["id"])
                .collect();
            assert_eq!(skeletons.len(), 3, "{label}");
            let source_keypoints = numbers(&coco.json["annotations"][1]["keypoints"]);
            assert!(
                skeletons
                    .iter()
                    .any(|a| numbers(&a["keypoints"]) == source_keypoints),
                "{label}: the second person's keypoints came back changed: {skeletons:?}"
            );
            if let Some(output) = judge_with_pycocotools(&source, &exported, label).await {
                eprintln!("{label}: pycocotools: {}", ap_summary(&output));
            }
        }
    })
    .await;
}

const MASK_CONFIG: &str = r#"<View>
  <Image name="image" value="$image"/>
  <PolygonLabels name="outline" toName="image"><Label value="cat"/></PolygonLabels>
  <BrushLabels name="paint" toName="image"><Label value="cat"/><Label value="dog"/></BrushLabels>
</View>
"#;

/// A filled ellipse, with a hole, as an RLE object: compressed counts, or
/// the uncompressed list when `compressed` is false.
fn ellipse_rle(
    width: u32,
    height: u32,
    centre: (f64, f64),
    radii: (f64, f64),
    compressed: bool,
) -> Value {
    let mut mask = gloss_masks::Mask::new(width, height).unwrap();
    for y in 0..height {
        for x in 0..width {
            let dx = (f64::from(x) - centre.0) / radii.0;
            let dy = (f64::from(y) - centre.1) / radii.1;
            let d = dx * dx + dy * dy;
            mask.set(x, y, d <= 1.0 && d > 0.1);
        }
    }
    let rle = gloss_masks::CocoRle::from_mask(&mask);
    let json = if compressed {
        rle.to_json()
    } else {
        rle.to_json_uncompressed()
    };
    serde_json::to_value(json).unwrap()
}

fn mask_coco() -> CocoSource {
    let images = [(31, "garden.png", 64, 48), (32, "porch.png", 50, 70)];
    let mask_annotation = |id: i64, image_id: i64, category_id: i64, rle: Value, crowd: u8| {
        let decoded: gloss_masks::CocoRleJson = serde_json::from_value(rle.clone()).unwrap();
        let rle_checked = gloss_masks::CocoRle::try_from(decoded).unwrap();
        let b = rle_checked.bbox().unwrap();
        json!({"id": id, "image_id": image_id, "category_id": category_id, "iscrowd": crowd,
               "segmentation": rle, "bbox": [b.x, b.y, b.width, b.height], "area": rle_checked.area()})
    };
    let annotations = vec![
        mask_annotation(
            8001,
            31,
            7,
            ellipse_rle(64, 48, (20.0, 20.0), (12.0, 9.0), true),
            0,
        ),
        mask_annotation(
            8002,
            31,
            3,
            ellipse_rle(64, 48, (45.0, 30.0), (10.0, 14.0), false),
            1,
        ),
        polygon_annotation(8003, 31, 7, &[&[2.0, 40.0, 20.0, 40.0, 10.0, 47.0]]),
        mask_annotation(
            8004,
            32,
            7,
            ellipse_rle(50, 70, (25.0, 35.0), (20.0, 30.0), true),
            0,
        ),
    ];
    coco_source(&images, annotations)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coco_rle_masks_round_trip_pixel_for_pixel() {
    within(async {
        let coco = mask_coco();
        for gloss in Instance::all().await {
            let label = gloss.label;
            let source = coco.write_into(&gloss.path("coco"));
            let project = gloss.create_project("masks", MASK_CONFIG).await;
            let out = gloss.import_file(&project, &source).await;
            assert_imported(&out, (2, 2, 0, 2), label);
            let exported = gloss.path("exported.json");
            gloss
                .gloss(&["export", "--project", &project, "--format", "coco"])
                .args(&["--no-images", "--out", exported.to_str().unwrap()])
                .ok()
                .await;
            let export: Value = serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
            let masks = export["annotations"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["segmentation"].is_object())
                .count();
            assert_eq!(masks, 3, "{label}: {export}");
            if let Some(output) = judge_with_pycocotools(&source, &exported, label).await {
                assert!(
                    output.contains("masks compared pixel by pixel: 3"),
                    "{output}"
                );
                eprintln!("{label}: pycocotools: {}", ap_summary(&output));
            }
            judge_coco_with_datumaro(&export, label).await;

            // Label Studio gets its own RLE, which imports back to the same pixels.
            let studio = gloss.path("studio.json");
            gloss.export_to(&project, "label-studio", &studio).await;
            let tasks: Value = serde_json::from_slice(&std::fs::read(&studio).unwrap()).unwrap();
            let brushes: Vec<&Value> = tasks
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|t| t["annotations"][0]["result"].as_array().unwrap())
                .filter(|r| r["type"] == "brushlabels")
                .collect();
            assert_eq!(brushes.len(), 3, "{label}");
            assert!(brushes
                .iter()
                .all(|b| b["value"]["format"] == "rle" && b["value"].get("counts").is_none()));
            let again = gloss.create_project("masks again", MASK_CONFIG).await;
            gloss.import_file(&again, &studio).await;
            let exported_again = gloss.path("exported-again.json");
            gloss
                .gloss(&["export", "--project", &again, "--format", "coco"])
                .args(&["--no-images", "--out", exported_again.to_str().unwrap()])
                .ok()
                .await;
            let first: Value = serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
            let second: Value =
                serde_json::from_slice(&std::fs::read(&exported_again).unwrap()).unwrap();
            let segmentations = |export: &Value| -> Vec<Value> {
                export["annotations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["segmentation"].clone())
                    .collect()
            };
            assert_eq!(segmentations(&first), segmentations(&second), "{label}");
        }
    })
    .await;
}

/// The RLE segmentations of a COCO document (its masks), sorted.
fn mask_segmentations(coco: &Value) -> Vec<String> {
    let mut masks: Vec<String> = coco["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["segmentation"].is_object())
        .map(|a| a["segmentation"].to_string())
        .collect();
    masks.sort();
    masks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masks_go_through_cvat_and_mask_png_pixel_for_pixel() {
    within(async {
        let coco = mask_coco();
        for gloss in Instance::all().await {
            let label = gloss.label;
            let source = coco.write_into(&gloss.path("coco"));
            let project = gloss.create_project("masks", MASK_CONFIG).await;
            gloss.import_file(&project, &source).await;
            let first = coco_export(&gloss, &project, "masks.json").await;
            assert_eq!(mask_segmentations(&first).len(), 3, "{label}");

            // CVAT for images: <mask>s, read back into the BrushLabels control.
            let zip = gloss.path("cvat.zip");
            gloss.export_to(&project, "cvat", &zip).await;
            let from_cvat = gloss.create_project("from cvat", MASK_CONFIG).await;
            let out = gloss.import_file(&from_cvat, &zip).await;
            assert_imported(&out, (2, 2, 0, 2), label);
            let second = coco_export(&gloss, &from_cvat, "from-cvat.json").await;
            assert_eq!(
                mask_segmentations(&first),
                mask_segmentations(&second),
                "{label}"
            );

            // mask-png: one mask per class comes back, and paints the same
            // PNGs again.
            let folder = gloss.path("masks");
            gloss
                .gloss(&["export", "--project", &project, "--format", "mask-png"])
                .args(&["--out", &format!("{}/", folder.display())])
                .ok()
                .await;
            let from_png = gloss.create_project("from mask-png", MASK_CONFIG).await;
            let out = gloss.import_file(&from_png, &folder).await;
            assert_imported(&out, (2, 2, 0, 2), label);
            let again = gloss.path("masks-again");
            gloss
                .gloss(&["export", "--project", &from_png, "--format", "mask-png"])
                .args(&["--out", &format!("{}/", again.display())])
                .ok()
                .await;
            for mask in ["masks/garden.png", "masks/porch.png"] {
                assert_eq!(
                    std::fs::read(folder.join(mask)).unwrap(),
                    std::fs::read(again.join(mask)).unwrap(),
                    "{label}: {mask}"
                );
            }
        }
    })
    .await;
}

/// The `bbox`es of a COCO document by image file name and category name, sorted.
fn boxes_by_image(coco: &Value) -> Vec<(String, String, Vec<f64>)> {
    let name_of = |list: &str, key: &str, id: &Value| -> String {
        coco[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| &item["id"] == id)
            .map(|item| item[key].as_str().unwrap().to_owned())
            .unwrap()
    };
    let mut boxes: Vec<(String, String, Vec<f64>)> = coco["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                name_of("images", "file_name", &a["image_id"]),
                name_of("categories", "name", &a["category_id"]),
                numbers(&a["bbox"]),
            )
        })
        .collect();
    boxes.sort_by(|a, b| a.partial_cmp(b).unwrap());
    boxes
}

/// The project's COCO export without images, read.
async fn coco_export(gloss: &Instance, project: &str, file_name: &str) -> Value {
    let exported = gloss.path(file_name);
    gloss
        .gloss(&[
            "export",
            "--project",
            project,
            "--format",
            "coco",
            "--no-images",
        ])
        .args(&["--out", exported.to_str().unwrap()])
        .ok()
        .await;
    serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap()
}

/// Both COCO documents have the same boxes on the same images with the
/// same categories, within a millionth of a pixel.
fn assert_same_boxes(want: &Value, got: &Value, label: &str) {
    let (want, got) = (boxes_by_image(want), boxes_by_image(got));
    assert_eq!(want.len(), got.len(), "{label}: {got:?}");
    for (want, got) in want.iter().zip(&got) {
        assert_eq!((&want.0, &want.1), (&got.0, &got.1), "{label}");
        assert!(
            want.2.iter().zip(&got.2).all(|(a, b)| close(*a, *b)),
            "{label}: {want:?} vs {got:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yolo_exports_import_back_to_the_same_shapes() {
    within(async {
        let coco = single_ring_coco();
        for gloss in Instance::all().await {
            let label = gloss.label;
            let source = coco.write_into(&gloss.path("coco"));
            let project = gloss.create_project("animals", COCO_CONFIG).await;
            gloss.import_file(&project, &source).await;

            // segment, into a folder: polygons stay polygons, boxes become 4-corner ones.
            let folder = gloss.path("yolo-segment");
            let folder_arg = format!("{}/", folder.display());
            gloss
                .gloss(&[
                    "export",
                    "--project",
                    &project,
                    "--format",
                    "yolo",
                    "--task",
                    "segment",
                ])
                .args(&["--out", &folder_arg])
                .ok()
                .await;
            let yaml = std::fs::read_to_string(folder.join("data.yaml")).unwrap();
            assert!(
                yaml.contains("names:\n  0: \"bird\"\n  1: \"cat\"\n  2: \"dog\"\n"),
                "{label}: {yaml}"
            );
            assert!(folder.join("images/street.png").is_file(), "{label}");
            assert_eq!(
                std::fs::read_to_string(folder.join("labels/empty.txt")).unwrap(),
                ""
            );
            let again = gloss.create_project("segments", COCO_CONFIG).await;
            let out = gloss.import_file(&again, &folder).await;
            assert_imported(&out, (6, 5, 0, 6), label);
            let export = coco_export(&gloss, &again, "segments.json").await;
            assert_coco_matches(&coco.json, &export, label);

            // detect, as a zip with a split: the same boxes come back.
            let zip = gloss.path("yolo-detect.zip");
            gloss
                .gloss(&[
                    "export",
                    "--project",
                    &project,
                    "--format",
                    "yolo",
                    "--split",
                    "0.5,0.5,0",
                ])
                .args(&["--out", zip.to_str().unwrap()])
                .ok()
                .await;
            let boxes_only = gloss.create_project("boxes", COCO_CONFIG).await;
            gloss.import_file(&boxes_only, &zip).await;
            let export = coco_export(&gloss, &boxes_only, "boxes.json").await;
            assert_same_boxes(&coco.json, &export, label);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voc_and_cvat_exports_import_back_to_the_same_shapes() {
    within(async {
        let coco = single_ring_coco();
        for gloss in Instance::all().await {
            let label = gloss.label;
            let source = coco.write_into(&gloss.path("coco"));
            let project = gloss.create_project("animals", COCO_CONFIG).await;
            gloss.import_file(&project, &source).await;

            // CVAT for images, as a zip: boxes and polygons come back as they were.
            let zip = gloss.path("cvat.zip");
            gloss.export_to(&project, "cvat", &zip).await;
            let again = gloss.create_project("from cvat", COCO_CONFIG).await;
            let out = gloss.import_file(&again, &zip).await;
            assert_imported(&out, (6, 5, 0, 6), label);
            let export = coco_export(&gloss, &again, "from-cvat.json").await;
            assert_coco_matches(&coco.json, &export, label);

            // mask-png: a class-colour PNG per image, the images, the colour map.
            let folder = gloss.path("masks");
            let folder_arg = format!("{}/", folder.display());
            gloss
                .gloss(&["export", "--project", &project, "--format", "mask-png"])
                .args(&["--out", &folder_arg])
                .ok()
                .await;
            for file in [
                "masks/street.png",
                "masks/empty.png",
                "images/street.png",
                "dataset_meta.json",
            ] {
                assert!(folder.join(file).is_file(), "{label}: {file}");
            }
            let meta: Value =
                serde_json::from_slice(&std::fs::read(folder.join("dataset_meta.json")).unwrap())
                    .unwrap();
            assert_eq!(
                meta["labels"],
                json!(["background", "bird", "cat", "dog"]),
                "{label}"
            );

            // Pascal VOC, into a folder: the boxes (and polygons' bounds) come back.
            let folder = gloss.path("voc");
            let folder_arg = format!("{}/", folder.display());
            gloss
                .gloss(&["export", "--project", &project, "--format", "voc"])
                .args(&["--out", &folder_arg])
                .ok()
                .await;
            assert!(folder.join("JPEGImages/street.png").is_file(), "{label}");
            let boxes_only = gloss.create_project("from voc", COCO_CONFIG).await;
            gloss.import_file(&boxes_only, &folder).await;
            let export = coco_export(&gloss, &boxes_only, "from-voc.json").await;
            assert_same_boxes(&coco.json, &export, label);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zip_reaching_outside_its_folder_imports_nothing() {
    within(async {
        for gloss in Instance::all().await {
            let project = gloss.create_project("animals", COCO_CONFIG).await;
            let zip_path = gloss.path("evil.zip");
            let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
            for (name, bytes) in [
                ("data.yaml", &b"names: [cat]\n"[..]),
                ("../escaped.txt", b"x"),
            ] {
                zip.start_file(name, zip::write::SimpleFileOptions::default())
                    .unwrap();
                std::io::Write::write_all(&mut zip, bytes).unwrap();
            }
            zip.finish().unwrap();
            let out = gloss
                .gloss(&["import", "--project", &project, zip_path.to_str().unwrap()])
                .fails()
                .await;
            assert!(
                out.contains("points outside the zip"),
                "{}: {out}",
                gloss.label
            );
            assert!(!gloss.path("escaped.txt").exists());
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coco_export_refuses_what_coco_cannot_hold_by_name() {
    within(async {
        let config = r#"<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="car"/></RectangleLabels>
  <PolyLineLabels name="lane" toName="image"><Label value="lane"/></PolyLineLabels>
</View>"#;
        for gloss in Instance::all().await {
            let project = gloss.create_project("lanes", config).await;
            let out = gloss
                .gloss(&["export", "--project", &project, "--format", "coco"])
                .args(&[
                    "--no-images",
                    "--out",
                    gloss.path("x.json").to_str().unwrap(),
                ])
                .fails()
                .await;
            assert!(
                out.contains("<PolyLineLabels name=\"lane\">") && out.contains("COCO cannot hold"),
                "{}: {out}",
                gloss.label
            );
        }
    })
    .await;
}

/// `gloss import --project ID instances.json`, run in the folder that holds
/// the COCO file and its images, finds the images there.
///
/// Ignored: with a bare file name the default images folder is
/// `Path::new("instances.json").parent()`, which is `""`, and
/// `safe_join("", name)` fails to canonicalize `""`, so every image is
/// refused as "not a plain relative file name inside the images folder"
/// (crates/engine/src/import.rs, `import_coco`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coco_file_in_the_current_folder_finds_its_images() {
    within(async {
        let coco = single_ring_coco();
        for gloss in Instance::all().await {
            let label = gloss.label;
            coco.write_into(gloss.home.path());
            let project = gloss.create_project("animals", COCO_CONFIG).await;
            let out = gloss
                .gloss(&["import", "--project", &project, "instances.json"])
                .ok()
                .await;
            assert_imported(&out, (6, coco.annotated_images() as u64, 0, 6), label);
        }
    })
    .await;
}

// ---------------------------------------------------------------- image folders

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_images_imports_one_task_per_image_and_a_stray_file_stops_it() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let project = gloss.create_project("photos", SCENE_CONFIG).await;
            // Written out of name order; the hidden file is skipped.
            let images: Vec<(&str, Vec<u8>)> = vec![
                ("c.png", gloss_test_support::png(30, 20, 3)),
                ("a.png", gloss_test_support::png(10, 40, 1)),
                ("b.png", gloss_test_support::png(25, 25, 2)),
            ];
            for (name, bytes) in &images {
                gloss.write(&format!("photos/{name}"), bytes);
            }
            gloss.write("photos/.DS_Store", b"\0\0\0\x01Bud1\0\0junk");
            let out = gloss
                .gloss(&["import", "--project", &project, "photos/"])
                .ok()
                .await;
            assert_imported(&out, (3, 0, 0, 3), label);
            let tasks = gloss.export_json(&project).await;
            let urls: Vec<&str> = tasks
                .iter()
                .map(|task| task["data"]["image"].as_str().expect("an image URL"))
                .collect();
            let by_name =
                |name: &str| media_url(&images.iter().find(|(n, _)| *n == name).unwrap().1);
            assert_eq!(
                urls,
                [by_name("a.png"), by_name("b.png"), by_name("c.png")],
                "{label}: one task per image, in name order"
            );

            // A file that is neither a task file nor an image stops the whole import.
            gloss.write("more/d.png", gloss_test_support::png(12, 12, 4));
            gloss.write("more/notes.txt", "Remember to label the bicycles.\n");
            let err = gloss
                .gloss(&["import", "--project", &project, "more"])
                .fails()
                .await;
            assert!(
                err.contains("more/notes.txt") && err.contains("not a task file"),
                "{label}: {err}"
            );
            let after = gloss.export_json(&project).await;
            assert_eq!(after.len(), 3, "{label}: the failed import wrote tasks");
        }
    })
    .await;
}

// ---------------------------------------------------------------- task files

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_files_name_images_in_the_images_folder_and_only_there() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let project = gloss.create_project("cities", SCENE_CONFIG).await;
            let x = gloss_test_support::png(16, 9, 10);
            let y = gloss_test_support::png(9, 16, 11);
            let secret = gloss_test_support::png(7, 7, 12);
            gloss.write("imgs/x.png", &x);
            gloss.write("imgs/sub/y.png", &y);
            gloss.write("secret.png", &secret);
            gloss.write("tasks.csv", "image,city\nx.png,Paris\nsub/y.png,Oslo\n");
            gloss.write("tasks.json", r#"[{"image": "x.png", "city": "Rome"}]"#);
            gloss.write(
                "tasks.jsonl",
                "{\"data\": {\"image\": \"sub/y.png\", \"city\": \"Lima\"}}\n\n",
            );
            let out = gloss
                .gloss(&["import", "--project", &project, "--images", "imgs"])
                .args(&["tasks.csv", "tasks.json", "tasks.jsonl"])
                .ok()
                .await;
            assert_imported(&out, (4, 0, 0, 4), label);
            let tasks = gloss.export_json(&project).await;
            let data: Vec<&Value> = tasks.iter().map(|task| &task["data"]).collect();
            assert_eq!(
                data,
                [
                    &json!({"image": media_url(&x), "city": "Paris"}),
                    &json!({"image": media_url(&y), "city": "Oslo"}),
                    &json!({"image": media_url(&x), "city": "Rome"}),
                    &json!({"image": media_url(&y), "city": "Lima"}),
                ],
                "{label}"
            );

            // The stored media are the files' bytes.
            let server = gloss.serve(&[]).await;
            let token = server.sign_in("admin", ADMIN_PASSWORD).await;
            for bytes in [&x, &y] {
                let (status, content_type, body) =
                    server.get_bytes(&media_url(bytes), &token).await;
                assert_eq!(status, 200, "{label}");
                assert_eq!(content_type, "image/png", "{label}");
                assert!(body == *bytes, "{label}: the stored image differs");
            }
            server.stop().await;

            // References that leave the images folder are refused, and
            // nothing of the import is written.
            #[cfg(unix)]
            std::os::unix::fs::symlink(gloss.path("secret.png"), gloss.path("imgs/link.png"))
                .unwrap();
            let mut bad = String::from("image,city\nx.png,Paris\n");
            let mut outside = vec!["../secret.png", "/etc/passwd", "sub/../../secret.png"];
            if cfg!(unix) {
                outside.push("link.png");
            }
            for reference in &outside {
                bad.push_str(&format!("{reference},Nowhere\n"));
            }
            bad.push_str("missing.png,Atlantis\n");
            gloss.write("bad.csv", &bad);
            let err = gloss
                .gloss(&[
                    "import",
                    "--project",
                    &project,
                    "--images",
                    "imgs",
                    "bad.csv",
                ])
                .fails()
                .await;
            let lines = rejected_lines(&err, "bad.csv");
            assert_eq!(lines.len(), outside.len() + 1, "{label}: {err}");
            for reference in &outside {
                assert!(
                    lines.iter().any(|line| line.contains(": data.image: ")
                        && line.contains(&format!("`{reference}`"))
                        && line
                            .contains("not a plain relative file name inside the images folder")),
                    "{label}: {reference} is not refused as outside the images folder:\n{err}"
                );
            }
            assert!(
                lines.iter().any(|line| line.contains(": data.image: ")
                    && line.contains("no file `missing.png` in the images folder")),
                "{label}: {err}"
            );
            assert!(
                err.contains(&format!(
                    "{} rows were rejected; nothing was imported",
                    outside.len() + 1
                )),
                "{label}: {err}"
            );
            assert_eq!(gloss.export_json(&project).await.len(), 4, "{label}");
            let secret_key = sha256_hex(&secret);
            let leaked: Vec<PathBuf> = files_below(&gloss.data())
                .into_iter()
                .filter(|path| path.to_string_lossy().contains(&secret_key))
                .collect();
            assert!(
                leaked.is_empty(),
                "{label}: the file outside was copied: {leaked:?}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_rows_are_all_listed_and_nothing_is_written() {
    within(async {
        const ROWS: usize = 1000;
        let row = |n: usize| json!({"image": format!("img-{n}.png"), "place": format!("p{n}")});
        let mut good: Vec<Value> = (1..=ROWS).map(row).collect();
        // A row without the image the config shows, a row that is not an
        // object, and an annotation with a choice the config does not have.
        let mut bad = good.clone();
        bad[16] = json!({"place": "nowhere"});
        bad[499] = json!("just a string");
        bad[998] = json!({
            "data": {"image": "img-999.png"},
            "annotations": [{"result": [{
                "id": "c1", "from_name": "scene", "to_name": "image", "type": "choices",
                "value": {"choices": ["Desert"]},
            }]}],
        });
        good[998] = json!({
            "data": {"image": "img-999.png"},
            "annotations": [{"result": [{
                "id": "c1", "from_name": "scene", "to_name": "image", "type": "choices",
                "value": {"choices": ["Rural"]},
            }]}],
        });
        for gloss in Instance::all().await {
            let label = gloss.label;
            let project = gloss.create_project("places", SCENE_CONFIG).await;
            gloss.write("tasks.json", serde_json::to_vec(&bad).unwrap());
            let err = gloss
                .gloss(&["import", "--project", &project, "tasks.json"])
                .fails()
                .await;
            let lines = rejected_lines(&err, "tasks.json");
            assert_eq!(lines.len(), 3, "{label}: {err}");
            assert!(
                lines[0].starts_with("tasks.json row 17: data.image: missing"),
                "{label}: {err}"
            );
            assert_eq!(
                lines[1], "tasks.json row 500: a task must be a JSON object",
                "{label}: {err}"
            );
            assert!(
                lines[2].starts_with("tasks.json row 999: annotations[0].result[0].")
                    && lines[2].contains("Desert"),
                "{label}: {err}"
            );
            assert!(
                err.contains("3 rows were rejected; nothing was imported"),
                "{label}: {err}"
            );
            assert!(gloss.export_json(&project).await.is_empty(), "{label}");

            // The same file without the bad rows imports whole.
            gloss.write("tasks.json", serde_json::to_vec(&good).unwrap());
            let out = gloss
                .gloss(&["import", "--project", &project, "tasks.json"])
                .ok()
                .await;
            assert_imported(&out, (ROWS as u64, 1, 0, ROWS as u64), label);
            assert_eq!(gloss.export_json(&project).await.len(), ROWS, "{label}");
        }
    })
    .await;
}

/// A rejected row is named by its place in its own file: the array element
/// of a JSON file, the line of a CSV file (the header is line 1), as
/// `RejectedRow::row` documents.
///
/// Ignored: rows rejected after parsing (a missing image, a bad result) are
/// numbered by `context.rows_read`, a count of rows over all the files of
/// the import, in crates/engine/src/import.rs (`import_task_file` and
/// `import_coco`), while rows rejected by the parser carry their own file's
/// element or line number. So `bad.csv`'s line 3 is reported as row 2 when
/// imported alone, and as row 4 after a 2-row file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_rows_are_numbered_within_their_own_file() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let project = gloss.create_project("numbers", SCENE_CONFIG).await;
            gloss.write("imgs/x.png", gloss_test_support::png(4, 4, 1));
            gloss.write("first.csv", "image\nx.png\nx.png\n");
            gloss.write("bad.csv", "image,city\nx.png,Paris\n../x.png,Oslo\nx.png\n");
            gloss.write("bad.json", r#"[{"image": "x.png"}, {"city": "no image"}]"#);
            let err = gloss
                .gloss(&["import", "--project", &project, "--images", "imgs"])
                .args(&["first.csv", "bad.csv", "bad.json"])
                .fails()
                .await;
            let csv = rejected_lines(&err, "bad.csv");
            assert!(
                csv.iter()
                    .any(|line| line.starts_with("bad.csv row 3: data.image: ")),
                "{label}: ../x.png is on line 3 of bad.csv:\n{err}"
            );
            assert!(
                csv.iter()
                    .any(|line| line.starts_with("bad.csv row 4: city: ")),
                "{label}: the short row is line 4 of bad.csv:\n{err}"
            );
            let json = rejected_lines(&err, "bad.json");
            assert!(
                json.iter()
                    .any(|line| line.starts_with("bad.json row 2: data.image: ")),
                "{label}: the task without an image is element 2 of bad.json:\n{err}"
            );
        }
    })
    .await;
}

// ---------------------------------------------------------------- Label Studio files

/// A Label Studio export as Label Studio writes it: boxes (one rotated),
/// polygons, choices, a cancelled annotation, a ground truth, and
/// predictions with model versions and scores.
fn label_studio_export() -> Value {
    let rectangle = |id: &str, x: f64, y: f64, w: f64, h: f64, rotation: f64, label: &str| {
        json!({
            "id": id, "type": "rectanglelabels", "from_name": "box", "to_name": "image",
            "original_width": 1280, "original_height": 720, "image_rotation": 0,
            "origin": "manual",
            "value": {"x": x, "y": y, "width": w, "height": h, "rotation": rotation,
                      "rectanglelabels": [label]},
        })
    };
    let polygon = |id: &str, points: Value, label: &str| {
        json!({
            "id": id, "type": "polygonlabels", "from_name": "outline", "to_name": "image",
            "original_width": 1280, "original_height": 720, "image_rotation": 0,
            "origin": "manual",
            "value": {"points": points, "closed": true, "polygonlabels": [label]},
        })
    };
    let choice = |id: &str, choice: &str| {
        json!({
            "id": id, "type": "choices", "from_name": "weather", "to_name": "image",
            "origin": "manual", "value": {"choices": [choice]},
        })
    };
    let mut scored = rectangle("p2", 11.0, 19.5, 29.75, 15.0, 0.0, "Car");
    scored["score"] = json!(0.91);
    json!([
        {
            "id": 101,
            "data": {"image": "/data/upload/3/1a2b3c4d-street.jpg", "city": "Lyon"},
            "annotations": [{
                "id": 11, "completed_by": 1,
                "result": [
                    rectangle("r1", 10.5, 20.25, 30.0, 15.125, 0.0, "Car"),
                    polygon("g1", json!([[1.5, 2.5], [50.0, 60.25], [20.0, 80.0]]), "Road"),
                    choice("w1", "Sunny"),
                ],
                "was_cancelled": false, "ground_truth": false,
                "created_at": "2024-05-01T10:00:00.000000Z",
                "updated_at": "2024-05-01T10:02:03.000000Z",
                "lead_time": 123.456, "task": 101, "project": 3,
                "prediction": {}, "result_count": 0, "unique_id": "aa11", "import_id": null,
                "last_action": null, "updated_by": 1, "parent_prediction": null,
                "parent_annotation": null, "last_created_by": null,
            }],
            "predictions": [{
                "id": 5, "model_version": "yolo-v8-2024-05", "score": 0.87,
                "result": [scored, choice("pw", "Sunny")],
                "created_at": "2024-04-30T08:00:00.000000Z",
                "task": 101, "project": 3,
            }],
            "drafts": [], "meta": {}, "inner_id": 1, "total_annotations": 1,
            "cancelled_annotations": 0, "total_predictions": 1, "comment_count": 0,
            "created_at": "2024-04-30T07:00:00.000000Z", "updated_at": "2024-05-01T10:02:03.000000Z",
            "project": 3, "updated_by": 1, "file_upload": "1a2b3c4d-street.jpg",
        },
        {
            "id": 102,
            "data": {"image": "/data/upload/3/5e6f7a8b-crossing.jpg", "city": "Turin"},
            "annotations": [
                {
                    "id": 12, "completed_by": 2,
                    "result": [
                        rectangle("r2", 40.0, 35.5, 12.0, 30.0, 30.0, "Person"),
                        polygon("g2", json!([[0, 100], [0, 60], [45.5, 55], [100, 100]]), "Sidewalk"),
                        choice("w2", "Rainy"),
                    ],
                    "was_cancelled": false, "ground_truth": true,
                    "created_at": "2024-05-02T09:00:00.000000Z",
                    "updated_at": "2024-05-02T09:00:00.000000Z",
                    "lead_time": 40.5, "task": 102, "project": 3,
                },
                {
                    "id": 13, "completed_by": 1, "result": [],
                    "was_cancelled": true, "ground_truth": false,
                    "created_at": "2024-05-02T09:05:00.000000Z",
                    "updated_at": "2024-05-02T09:05:00.000000Z",
                    "lead_time": 3, "task": 102, "project": 3,
                },
            ],
            "predictions": [{
                "id": 6, "model_version": "segformer-b2", "score": 0.5,
                "result": [polygon("pg", json!([[0, 100], [0, 61], [45, 56], [100, 100]]), "Sidewalk")],
                "created_at": "2024-04-30T08:00:01.000000Z", "task": 102, "project": 3,
            }],
            "meta": {"source": "camera 4"},
        },
        {
            "id": 103,
            "data": {"image": "/data/upload/3/9c0d1e2f-bridge.jpg", "city": "Porto"},
            "annotations": [],
            "predictions": [
                {
                    "id": 7, "model_version": "yolo-v8-2024-05", "score": 0.33,
                    "result": [rectangle("p3", 70.0, 10.0, 20.0, 25.0, 0.0, "Car")],
                    "created_at": "2024-04-30T08:00:02.000000Z", "task": 103, "project": 3,
                },
                {
                    "id": 8, "model_version": "yolo-v9-2024-06", "score": 0.71,
                    "result": [rectangle("p4", 69.5, 10.25, 20.5, 24.75, 0.0, "Car")],
                    "created_at": "2024-06-30T08:00:02.000000Z", "task": 103, "project": 3,
                },
            ],
        },
    ])
}

/// `value` with every number as an f64: JSON's `30` and `30.0` are one
/// number, which serde_json's `Value` tells apart.
fn same_numbers(value: &Value) -> Value {
    match value {
        Value::Number(number) => json!(number.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.iter().map(same_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), same_numbers(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_studio_export_file_round_trips_through_the_command_line() {
    within(async {
        let original = label_studio_export();
        for gloss in Instance::all().await {
            let label = gloss.label;
            let project = gloss.create_project("streets", LABEL_STUDIO_CONFIG).await;
            let file = gloss.write(
                "ls-export.json",
                serde_json::to_vec_pretty(&original).unwrap(),
            );
            let out = gloss
                .gloss(&["import", "--project", &project, "--format", "label-studio"])
                .args(&[file.to_str().unwrap()])
                .ok()
                .await;
            assert_imported(&out, (3, 3, 4, 3), label);
            let exported_file = gloss.path("again.json");
            gloss
                .export_to(&project, "label-studio", &exported_file)
                .await;
            let exported: Value =
                serde_json::from_slice(&std::fs::read(&exported_file).unwrap()).unwrap();
            let (original, exported) = (
                original.as_array().unwrap(),
                exported.as_array().expect("a JSON array"),
            );
            assert_eq!(exported.len(), original.len(), "{label}");
            for (before, after) in original.iter().zip(exported) {
                let task = &before["id"];
                assert_eq!(after["data"], before["data"], "{label}, task {task}");
                assert_eq!(
                    after["meta"],
                    before.get("meta").cloned().unwrap_or(json!({})),
                    "{label}, task {task}"
                );
                let pairs = |key: &str| {
                    let (b, a) = (
                        before[key].as_array().unwrap(),
                        after[key].as_array().unwrap(),
                    );
                    assert_eq!(a.len(), b.len(), "{label}, task {task}: {key}: {after}");
                    b.iter().cloned().zip(a.iter().cloned()).collect::<Vec<_>>()
                };
                for (b, a) in pairs("annotations") {
                    for key in [
                        "result",
                        "was_cancelled",
                        "ground_truth",
                        "lead_time",
                        "completed_by",
                    ] {
                        assert_eq!(
                            same_numbers(&a[key]),
                            same_numbers(&b[key]),
                            "{label}, task {task}, annotation {}: {key}",
                            b["id"]
                        );
                    }
                }
                for (b, a) in pairs("predictions") {
                    for key in ["result", "model_version", "score"] {
                        assert_eq!(
                            same_numbers(&a[key]),
                            same_numbers(&b[key]),
                            "{label}, task {task}, prediction {}: {key}",
                            b["id"]
                        );
                    }
                }
            }
        }
    })
    .await;
}

// ---------------------------------------------------------------- the demo

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_project_has_six_predicted_street_scenes_and_is_seeded_once() {
    within(async {
        for gloss in Instance::all().await {
            let label = gloss.label;
            let server = gloss.serve(&["--demo"]).await;
            assert!(
                server
                    .banner
                    .iter()
                    .any(|line| line.starts_with("Created the demo project `Demo: vehicles`")),
                "{label}: {:?}",
                server.banner
            );
            let token = server.sign_in("admin", ADMIN_PASSWORD).await;
            let projects = server.get_ok("/api/v1/projects?limit=1000", &token).await;
            let projects = projects["items"].as_array().unwrap();
            assert_eq!(projects.len(), 1, "{label}: {projects:?}");
            assert_eq!(projects[0]["name"], "Demo: vehicles", "{label}");
            let project = projects[0]["id"].as_i64().unwrap();

            let tasks = server
                .get_ok(
                    &format!("/api/v1/projects/{project}/tasks?limit=1000"),
                    &token,
                )
                .await;
            let tasks = tasks["items"].as_array().unwrap().clone();
            assert_eq!(tasks.len(), 6, "{label}");
            let mut sizes = HashMap::new();
            for task in &tasks {
                let id = task["id"].as_i64().unwrap();
                let detail = server.get_ok(&format!("/api/v1/tasks/{id}"), &token).await;
                let predictions = detail["predictions"].as_array().unwrap();
                assert_eq!(predictions.len(), 1, "{label}, task {id}: {detail}");
                let prediction = &predictions[0];
                assert_eq!(
                    prediction["model_version"], "demo-detector-1",
                    "{label}, task {id}"
                );
                let results = prediction["result"].as_array().unwrap();
                let of_type = |kind: &str| results.iter().filter(|r| r["type"] == kind).count();
                assert!(
                    of_type("rectanglelabels") >= 2,
                    "{label}, task {id}: {results:?}"
                );
                assert_eq!(of_type("polygonlabels"), 1, "{label}, task {id}");
                assert_eq!(of_type("choices"), 1, "{label}, task {id}");
                assert!(
                    detail["annotations"].as_array().unwrap().is_empty(),
                    "{label}"
                );

                // The image: a PNG of the size the results were drawn on.
                let url = detail["data"]["image"].as_str().expect("an image URL");
                assert!(url.starts_with("/api/v1/media/"), "{label}: {url}");
                let (status, content_type, bytes) = server.get_bytes(url, &token).await;
                assert_eq!(status, 200, "{label}: {url}");
                assert_eq!(content_type, "image/png", "{label}: {url}");
                assert_eq!(
                    media_url(&bytes),
                    url,
                    "{label}: the bytes are not what the key names"
                );
                let (width, height) = png_size(&bytes);
                for result in results.iter().filter(|r| r["type"] != "choices") {
                    assert_eq!(
                        (
                            result["original_width"].as_u64(),
                            result["original_height"].as_u64()
                        ),
                        (Some(u64::from(width)), Some(u64::from(height))),
                        "{label}, task {id}: {result}"
                    );
                }
                sizes.insert(url.to_string(), (width, height));
            }
            let distinct: std::collections::HashSet<_> = sizes.keys().collect();
            assert_eq!(
                distinct.len(),
                6,
                "{label}: the six scenes are not six images"
            );

            // COCO records the same sizes (predictions are not exported).
            let coco = server
                .get_ok(
                    &format!("/api/v1/projects/{project}/export?format=coco&images=false"),
                    &token,
                )
                .await;
            let images = coco["images"].as_array().unwrap();
            assert_eq!(images.len(), 6, "{label}: {coco}");
            for image in images {
                let (width, height) = (image["width"].as_u64(), image["height"].as_u64());
                assert!(
                    sizes
                        .values()
                        .any(|&(w, h)| Some(u64::from(w)) == width && Some(u64::from(h)) == height),
                    "{label}: {image}"
                );
            }
            let counts = server
                .get_ok(&format!("/api/v1/projects/{project}/task-counts"), &token)
                .await;
            assert_eq!(counts["total"], 6, "{label}: {counts}");
            server.stop().await;

            // A second start with --demo seeds nothing more.
            let server = gloss.serve(&["--demo"]).await;
            assert!(
                !server
                    .banner
                    .iter()
                    .any(|line| line.contains("demo project")),
                "{label}: {:?}",
                server.banner
            );
            let token = server.sign_in("admin", ADMIN_PASSWORD).await;
            let projects = server.get_ok("/api/v1/projects?limit=1000", &token).await;
            assert_eq!(projects["items"].as_array().unwrap().len(), 1, "{label}");
            let counts = server
                .get_ok(&format!("/api/v1/projects/{project}/task-counts"), &token)
                .await;
            assert_eq!(counts["total"], 6, "{label}: {counts}");
            server.stop().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_spacy_export_notes_what_it_could_not_hold_and_imports_back_with_format_spacy() {
    const NER: &str = r#"<View><Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Choices name="topic" toName="text"><Choice value="news"/><Choice value="sport"/></Choices></View>"#;
    within(async {
        for instance in Instance::all().await {
            let project = instance.create_project("ner", NER).await;
            // "Peter Blackburn" nests "Blackburn" (left out); "E" of "EU" is widened to the token.
            let tasks = serde_json::json!([{"data": {"text": "Peter Blackburn of EU\nsaid 😀 no."}, "annotations": [{"result": [
                {"id": "a", "from_name": "ner", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 15, "labels": ["PER"]}},
                {"id": "b", "from_name": "ner", "to_name": "text", "type": "labels", "value": {"start": 6, "end": 15, "labels": ["PER"]}},
                {"id": "c", "from_name": "ner", "to_name": "text", "type": "labels", "value": {"start": 19, "end": 20, "labels": ["ORG"]}},
                {"id": "d", "from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": ["news"]}}
            ]}]}]);
            let source = instance.write("ner.json", tasks.to_string());
            instance.import_file(&project, &source).await;
            let file = instance.path("out/ner.bin");
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            let out = instance
                .gloss(&["export", "--project", &project, "--format", "spacy"])
                .args(&["--out", file.to_str().unwrap()])
                .run()
                .await;
            assert!(out.status.success(), "{}", out.stderr);
            assert!(
                out.stderr.contains("Note: spaCy: 1 spans overlapped a span written before them and were left out (doc.ents cannot overlap); 1 spans started or ended inside a token and were widened to whole tokens"),
                "{}: {}",
                instance.label,
                out.stderr
            );
            // Read back, named without .spacy, with --format spacy.
            let again = instance.create_project("again", NER).await;
            instance
                .gloss(&["import", "--project", &again, "--format", "spacy"])
                .args(&[file.to_str().unwrap()])
                .ok()
                .await;
            let json = instance.path("out/again.json");
            instance.export_to(&again, "json", &json).await;
            let tasks: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
            assert_eq!(tasks[0]["data"]["text"], "Peter Blackburn of EU\nsaid 😀 no.");
            let results: Vec<serde_json::Value> = tasks[0]["annotations"][0]["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["value"].clone())
                .collect();
            assert_eq!(
                results,
                [
                    serde_json::json!({"start": 0, "end": 15, "labels": ["PER"], "text": "Peter Blackburn"}),
                    serde_json::json!({"start": 19, "end": 21, "labels": ["ORG"], "text": "EU"}),
                    serde_json::json!({"choices": ["news"]}),
                ],
                "{}",
                instance.label
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_conll_export_says_which_spans_it_could_not_hold() {
    const NER: &str = r#"<View><Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels></View>"#;
    within(async {
    for instance in Instance::all().await {
            let project = instance.create_project("ner", NER).await;
            // "Peter Blackburn" nests "Blackburn" (left out); "E" of "EU" is widened to the token.
            let tasks = serde_json::json!([{"data": {"text": "Peter Blackburn of EU"}, "annotations": [{"result": [
                {"id": "a", "from_name": "ner", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 15, "labels": ["PER"]}},
                {"id": "b", "from_name": "ner", "to_name": "text", "type": "labels", "value": {"start": 6, "end": 15, "labels": ["PER"]}},
                {"id": "c", "from_name": "ner", "to_name": "text", "type": "labels", "value": {"start": 19, "end": 20, "labels": ["ORG"]}}
            ]}]}]);
            let source = instance.write("ner.json", tasks.to_string());
            instance.import_file(&project, &source).await;
            let out = instance
                .gloss(&["export", "--project", &project, "--format", "conll2003"])
                .run()
                .await;
            assert!(out.status.success(), "{}", out.stderr);
            assert!(
                out.stdout
                    .contains("Peter -X- _ B-PER\nBlackburn -X- _ I-PER\nof -X- _ O\nEU -X- _ B-ORG\n"),
                "{}",
                out.stdout
            );
            assert!(
                out.stderr.contains("Note: CoNLL-2003: 1 spans overlapped a span written before them and were left out (IOB2 cannot nest spans); 1 spans started or ended inside a token and were widened to whole tokens"),
                "{}: {}",
                instance.label,
                out.stderr
            );
        }
    })
    .await;
}
