//! `gloss agreement` and `gloss aggregate`: their JSON, their errors, and
//! their values judged against the reference implementations
//! (tests/python/quality_check.py: krippendorff, statsmodels, scikit-learn,
//! scipy, crowd-kit, irrCAC) to 1e-9; keypoint OKS and mask IoU judged by
//! pycocotools (tests/python/objects_check.py).

mod common;
use common::{BIN, GLOSS_VARIABLES};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `gloss ARGS` (standard input `input`) in `dir` with a clean
/// environment.
fn gloss(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for variable in GLOSS_VARIABLES {
        command.env_remove(variable);
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "gloss failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn error_of(output: &Output) -> String {
    assert!(!output.status.success(), "gloss succeeded on bad input");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!stderr.contains("panicked"), "gloss panicked: {stderr}");
    stderr
}

const CSV: &str = "item,annotator,label\n1,a,x\n1,b,x\n2,a,x\n2,b,y\n3,a,y\n3,b,y\n4,a,y\n4,b,y\n";

#[test]
fn agreement_and_aggregate_print_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ratings.csv"), CSV).unwrap();
    let cohen = json_of(&gloss(
        dir.path(),
        &["agreement", "--metric", "cohen", "ratings.csv"],
        "",
    ));
    assert_eq!(cohen["value"], 0.5);
    assert_eq!(cohen["items"], 4);
    assert_eq!(cohen["annotators"], 2);
    assert_eq!(cohen["labels"], 2);
    let percent = json_of(&gloss(
        dir.path(),
        &["agreement", "--metric", "percent", "ratings.csv"],
        "",
    ));
    assert_eq!(percent["value"], 0.75);

    // JSONL on standard input, numbers as labels.
    let jsonl = "{\"item\":1,\"annotator\":\"a\",\"label\":1}\n{\"item\":1,\"annotator\":\"b\",\"label\":2}\n\
                 {\"item\":2,\"annotator\":\"a\",\"label\":2}\n{\"item\":2,\"annotator\":\"b\",\"label\":3}\n\
                 {\"item\":3,\"annotator\":\"a\",\"label\":3}\n{\"item\":3,\"annotator\":\"b\",\"label\":3}\n";
    let spearman = json_of(&gloss(
        dir.path(),
        &["agreement", "--metric", "spearman", "-"],
        jsonl,
    ));
    assert!((spearman["value"].as_f64().unwrap() - 0.866_025_403_784_438_6).abs() < 1e-12);

    // Item 1 is a tie: the lowest label wins, as in crowd-kit.
    let tie = "item,annotator,label\n1,a,y\n1,b,x\n2,a,y\n2,b,y\n";
    std::fs::write(dir.path().join("tie.csv"), tie).unwrap();
    let majority = json_of(&gloss(
        dir.path(),
        &["aggregate", "--method", "majority", "tie.csv"],
        "",
    ));
    assert_eq!(majority["results"][0]["label"], "x");
    assert_eq!(majority["results"][0]["probabilities"]["y"], 0.5);
    let unresolved = json_of(&gloss(
        dir.path(),
        &[
            "aggregate",
            "--method",
            "majority",
            "--ties",
            "none",
            "tie.csv",
        ],
        "",
    ));
    assert_eq!(unresolved["results"][0]["label"], Value::Null);
    let ds = json_of(&gloss(
        dir.path(),
        &["aggregate", "--method", "dawid-skene", "ratings.csv"],
        "",
    ));
    assert_eq!(ds["results"].as_array().unwrap().len(), 4);
    assert!(ds["iterations"].as_u64().unwrap() >= 1);
    assert!(ds["annotator_stats"][0]["confusion"]["x"]["x"].is_f64());
}

#[test]
fn spatial_and_text_metrics_read_label_studio_results() {
    let dir = tempfile::tempdir().unwrap();
    let rect = |x: f64, label: &str| {
        format!(
            "{{\"type\":\"rectanglelabels\",\"value\":{{\"x\":{x},\"y\":0,\"width\":10,\"height\":10,\"rectanglelabels\":[\"{label}\"]}}}}"
        )
    };
    let span = |start: u32, end: u32| {
        format!("{{\"type\":\"labels\",\"value\":{{\"start\":{start},\"end\":{end},\"labels\":[\"PER\"]}}}}")
    };
    let rows = [
        format!(
            "{{\"item\":\"i1\",\"annotator\":\"a\",\"result\":[{},{},{}]}}",
            rect(0.0, "car"),
            rect(50.0, "car"),
            span(0, 4)
        ),
        format!(
            "{{\"item\":\"i1\",\"annotator\":\"b\",\"result\":[{},{},{}]}}",
            rect(1.0, "car"),
            rect(50.0, "bus"),
            span(0, 5)
        ),
    ]
    .join("\n");
    std::fs::write(dir.path().join("results.jsonl"), rows).unwrap();
    let iou = json_of(&gloss(
        dir.path(),
        &["agreement", "--metric", "iou-f1", "results.jsonl"],
        "",
    ));
    assert_eq!(iou["matched"], 1);
    assert_eq!(iou["value"], 0.5);
    assert!((iou["mean_iou"].as_f64().unwrap() - 90.0 / 110.0).abs() < 1e-12);
    let exact = json_of(&gloss(
        dir.path(),
        &["agreement", "--metric", "span-f1", "results.jsonl"],
        "",
    ));
    assert_eq!(exact["value"], 0.0);
    let overlap = json_of(&gloss(
        dir.path(),
        &[
            "agreement",
            "--metric",
            "span-f1",
            "--matching",
            "overlap",
            "results.jsonl",
        ],
        "",
    ));
    assert_eq!(overlap["value"], 1.0);
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["agreement", "--metric", "fleiss", "-"],
            "{\"item\":1,\"annotator\":\"a\"}\n",
            "line 1: no `label` field",
        ),
        (
            &["agreement", "--metric", "fleiss", "-"],
            "{\"item\":1,\n",
            "line 1: invalid JSON",
        ),
        (
            &["agreement", "--metric", "fleiss", "--format", "csv", "-"],
            "item,who,label\n",
            "no `annotator` column",
        ),
        (
            &[
                "agreement",
                "--metric",
                "krippendorff-interval",
                "--format",
                "csv",
                "-",
            ],
            CSV,
            "label \"x\" is not a number",
        ),
        (
            &["agreement", "--metric", "cohen", "--format", "csv", "-"],
            "item,annotator,label\n1,a,x\n1,b,x\n1,c,y\n",
            "choose two with --annotators",
        ),
        (
            &["agreement", "--metric", "fleiss", "--format", "csv", "-"],
            "item,annotator,label\n1,a,x\n1,b,x\n",
            "chance agreement is 1",
        ),
        (
            &["agreement", "--metric", "mask-iou", "-"],
            "{\"item\":1,\"annotator\":\"a\",\"result\":[{\"type\":\"brushlabels\",\"from_name\":\"m\",\"to_name\":\"i\",\"value\":{\"format\":\"coco_rle\",\"counts\":\"1\",\"brushlabels\":[\"x\"]}}]}\n",
            "line 1: result 0: a brushlabels result needs `original_width` and `original_height`",
        ),
        (
            &["agreement", "--metric", "mask-iou", "-"],
            "{\"item\":1,\"annotator\":\"a\",\"result\":[{\"type\":\"brushlabels\",\"from_name\":\"m\",\"to_name\":\"i\",\"original_width\":2,\"original_height\":2,\"value\":{\"format\":\"png\",\"brushlabels\":[\"x\"]}}]}\n",
            "mask format is \"png\"",
        ),
        (
            &["agreement", "--metric", "oks", "-"],
            "{\"item\":1,\"annotator\":\"a\",\"result\":[{\"type\":\"keypointlabels\",\"from_name\":\"p\",\"to_name\":\"i\",\"value\":{\"x\":\"left\",\"keypointlabels\":[\"nose\"]}}]}\n",
            "line 1: result 0: not a Label Studio keypointlabels result",
        ),
        (
            &["aggregate", "--method", "majority", "--format", "csv", "-"],
            "item,annotator,label\n1,a,x\n1,a,y\n",
            "labelled item \"1\" twice",
        ),
        (
            &["agreement", "--metric", "percent", "ratings.txt"],
            "",
            "ratings.txt",
        ),
    ];
    for (args, input, expected) in cases {
        let error = error_of(&gloss(dir.path(), args, input));
        assert!(error.contains(expected), "{args:?}: {error}");
    }
}

/// The python in environment variable `variable` (a venv of
/// `scripts/python-env.sh`), or `None` with a note saying what is not
/// judged; under CI its absence fails the test.
fn python_from(variable: &str, unjudged: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(python) if !python.trim().is_empty() => Some(python),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but {variable} is not: run the tests through scripts/test-all.sh"
            );
            eprintln!("note: {variable} is not set, so {unjudged}");
            None
        }
    }
}

/// Runs `tests/python/SCRIPT GLOSS_BINARY WORK_DIR` with `python` and fails
/// with its output unless it exits 0.
fn run_check(python: &str, script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/python")
        .join(script);
    let output = Command::new(python)
        .arg(path)
        .arg(BIN)
        .arg(dir.path())
        .output()
        .unwrap_or_else(|err| panic!("starting {python}: {err}"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{script} disagrees:\n{report}");
    eprintln!("{report}");
}

/// Every metric and aggregation equals the reference implementations, in
/// the quality references' venv (`scripts/python-env.sh quality`).
#[test]
fn metrics_equal_the_reference_implementations() {
    if let Some(python) = python_from(
        "GLOSS_QUALITY_PYTHON",
        "the reference implementations do not judge the quality metrics",
    ) {
        run_check(&python, "quality_check.py");
    }
}

/// `--metric oks` and `--metric mask-iou` equal pycocotools (COCOeval's
/// OKS, `mask.iou`) item by item, in the consumer checks' venv.
#[test]
fn keypoints_and_masks_equal_pycocotools() {
    if let Some(python) = python_from(
        "GLOSS_TEST_PYTHON",
        "pycocotools does not judge oks and mask-iou",
    ) {
        run_check(&python, "objects_check.py");
    }
}
