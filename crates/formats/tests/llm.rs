//! LLM feedback exports: preference pairs (TRL's layout) and rankings,
//! against golden files; the preference file loaded by Hugging Face's
//! `datasets` (`tests/python/datasets_check.py`); both read back as tasks.

mod dataset_support;

use gloss_formats::{
    read_preference, read_ranking, AnnotationRecord, ExportAnnotation, ExportTask, ImportControl,
    LlmFormat, LlmImportOptions, LlmOptions, LlmSummary, LlmWriter, Responses, RewriteTarget,
    TaskRecord,
};
use serde_json::{json, Value};
use std::path::PathBuf;

fn annotation(id: i64, annotator: &str, results: Vec<Value>) -> ExportAnnotation {
    ExportAnnotation {
        id,
        record: AnnotationRecord {
            result: results.into_iter().map(dataset_support::item).collect(),
            completed_by: Some(json!(annotator)),
            ..AnnotationRecord::default()
        },
        stored_result: None,
    }
}

fn task(id: i64, data: Value, annotations: Vec<ExportAnnotation>) -> ExportTask {
    ExportTask {
        id,
        data: data.as_object().cloned().unwrap(),
        annotations,
        ..ExportTask::default()
    }
}

fn export(format: LlmFormat, options: &LlmOptions, tasks: &[ExportTask]) -> (String, LlmSummary) {
    let mut writer = LlmWriter::new(Vec::new(), format, options.clone());
    for task in tasks {
        writer.write_task(task).unwrap();
    }
    let (bytes, summary) = writer.finish().unwrap();
    (String::from_utf8(bytes).unwrap(), summary)
}

fn golden(name: &str, text: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/llm")
        .join(name);
    if std::env::var_os("GLOSS_BLESS").is_some() {
        std::fs::write(&path, text).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        text, want,
        "{name} differs from its golden file (GLOSS_BLESS=1 rewrites it)"
    );
}

/// A chat prompt, three responses in a List: ranked, rated per item and
/// one rewritten (plus a rationale), by two annotators, one cancelled.
fn ranking_project() -> (LlmOptions, Vec<ExportTask>) {
    let options = LlmOptions {
        prompt: Some("messages".into()),
        responses: Some(Responses::List {
            object: "answers".into(),
            key: "responses".into(),
        }),
        rankers: vec![("rank".into(), vec![])],
        rewrites: vec![("rewrite".into(), RewriteTarget::ListItems)],
    };
    let data = json!({
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "What is the capital of **France**?"}
        ],
        "responses": [
            {"id": "r1", "title": "Model A", "body": "Paris."},
            {"id": "r2", "title": "Model B", "body": "It is *Paris*, on the Seine."},
            {"id": "r3", "title": "Model C", "body": "Lyon."}
        ]
    });
    let ranked = annotation(
        10,
        "ann",
        vec![
            json!({"id": "k", "from_name": "rank", "to_name": "answers", "type": "ranker",
                   "value": {"ranker": {"rank": ["r2", "r1", "r3"]}}}),
            json!({"id": "h1", "from_name": "helpfulness", "to_name": "answers", "type": "rating",
                   "value": {"rating": 5}, "item_index": 1}),
            json!({"id": "h0", "from_name": "helpfulness", "to_name": "answers", "type": "rating",
                   "value": {"rating": 4}, "item_index": 0}),
            json!({"id": "t2", "from_name": "truthfulness", "to_name": "answers", "type": "rating",
                   "value": {"rating": 1}, "item_index": 2}),
            json!({"id": "w", "from_name": "rewrite", "to_name": "answers", "type": "textarea",
                   "value": {"text": ["Paris, the capital of France since 987."]}, "item_index": 0}),
            json!({"id": "s", "from_name": "rewrite", "to_name": "answers", "type": "textarea",
                   "value": {"text": ["Lyon."]}, "item_index": 2}),
            json!({"id": "y", "from_name": "why", "to_name": "chat", "type": "textarea",
                   "value": {"text": ["C is wrong."]}}),
        ],
    );
    let mut cancelled = annotation(11, "bob", vec![]);
    cancelled.record.was_cancelled = true;
    let second = annotation(
        12,
        "bob",
        vec![
            json!({"id": "k", "from_name": "rank", "to_name": "answers", "type": "ranker",
                    "value": {"ranker": {"rank": ["r1", "r2"]}}}),
        ],
    );
    (
        options,
        vec![task(1, data, vec![ranked, cancelled, second])],
    )
}

/// A string prompt, two responses compared: a left win with strength 2, a
/// tie, a right win, and a bucketed ranking is not here (see below).
fn pairwise_project() -> (LlmOptions, Vec<ExportTask>) {
    let options = LlmOptions {
        prompt: Some("prompt".into()),
        responses: Some(Responses::Pair {
            control: "pick".into(),
            left: ("a".into(), "answer_a".into()),
            right: ("b".into(), "answer_b".into()),
        }),
        rankers: vec![],
        rewrites: vec![("better_b".into(), RewriteTarget::Object("b".into()))],
    };
    let pick = |selected: &str, strength: Option<u32>| {
        let mut value = json!({"selected": selected});
        if let Some(s) = strength {
            value["strength"] = json!(s);
        }
        json!({"id": "p", "from_name": "pick", "to_name": "a", "type": "pairwise", "value": value})
    };
    let tasks = vec![
        task(
            2,
            json!({"prompt": "Say hi.", "answer_a": "Hello!", "answer_b": "Go away."}),
            vec![
                annotation(
                    20,
                    "ann",
                    vec![
                        pick("left", Some(2)),
                        json!({"id": "r", "from_name": "better_b", "to_name": "b", "type": "textarea",
                           "value": {"text": ["Hi there!"]}}),
                        json!({"id": "q", "from_name": "quality", "to_name": "a", "type": "rating",
                           "value": {"rating": 5}}),
                    ],
                ),
                annotation(21, "bob", vec![pick("tie", None)]),
            ],
        ),
        task(
            3,
            json!({"prompt": "2+2?", "answer_a": "5", "answer_b": "4"}),
            vec![annotation(30, "ann", vec![pick("right", Some(3))])],
        ),
    ];
    (options, tasks)
}

#[test]
fn rankings_expand_to_every_ordered_pair_in_trl_conversational_form() {
    let (options, tasks) = ranking_project();
    let (text, summary) = export(LlmFormat::Preference, &options, &tasks);
    golden("ranking_preference.jsonl", &text);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 3 ranked: 3 pairs; 2 ranked: 1; one rewrite changed (one unchanged).
    assert_eq!(summary.ranking_pairs, 4);
    assert_eq!(summary.rewrite_pairs, 1);
    assert_eq!(summary.unchanged_rewrites, 1);
    assert_eq!(lines.len(), 5);
    let pair = |l: &Value| {
        (
            l["chosen"][0]["content"].as_str().unwrap().to_owned(),
            l["rejected"][0]["content"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        pair(&lines[0]),
        ("It is *Paris*, on the Seine.".into(), "Paris.".into())
    );
    assert_eq!(pair(&lines[2]), ("Paris.".into(), "Lyon.".into()));
    assert_eq!(
        lines[0]["prompt"][1],
        json!({"role": "user", "content": "What is the capital of **France**?"})
    );
    assert_eq!(lines[0]["chosen"][0]["role"], "assistant");
    assert_eq!(lines[3]["source"], "rewrite");
    assert_eq!(lines[4]["annotator"], "bob");
    assert!(
        summary.note(true).contains("4 from rankings"),
        "{}",
        summary.note(true)
    );
    judge_with_datasets(&text, 5, true);
}

#[test]
fn pairwise_gives_one_pair_ties_none_and_rewrites_beat_the_original() {
    let (options, tasks) = pairwise_project();
    let (text, summary) = export(LlmFormat::Preference, &options, &tasks);
    golden("pairwise_preference.jsonl", &text);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        (summary.pairwise_pairs, summary.ties, summary.rewrite_pairs),
        (2, 1, 1)
    );
    assert_eq!(
        lines[0],
        json!({"prompt": "Say hi.", "chosen": "Hello!", "rejected": "Go away.", "task_id": 2,
               "annotator": "ann", "source": "pairwise", "strength": 2})
    );
    assert_eq!(
        (lines[1]["chosen"].as_str(), lines[1]["rejected"].as_str()),
        (Some("Hi there!"), Some("Go away."))
    );
    assert_eq!(
        (lines[2]["chosen"].as_str(), lines[2]["strength"].as_i64()),
        (Some("4"), Some(3))
    );
    assert!(
        summary.note(true).contains("1 ties gave no pair"),
        "{}",
        summary.note(true)
    );
    judge_with_datasets(&text, 3, false);
}

#[test]
fn bucketed_rankings_prefer_earlier_buckets_and_skip_the_unsorted() {
    let options = LlmOptions {
        prompt: Some("q".into()),
        responses: Some(Responses::List {
            object: "l".into(),
            key: "items".into(),
        }),
        rankers: vec![(
            "sort".into(),
            vec!["good".into(), "ok".into(), "bad".into()],
        )],
        rewrites: vec![],
    };
    let tasks = vec![task(
        4,
        json!({"q": "?", "items": ["w", "x", "y", "z", "u"]}),
        vec![annotation(
            40,
            "ann",
            vec![
                json!({"id": "k", "from_name": "sort", "to_name": "l", "type": "ranker",
            "value": {"ranker": {"good": ["0", "1"], "ok": [], "bad": ["2"], "_": ["3", "4"]}}}),
            ],
        )],
    )];
    let (text, summary) = export(LlmFormat::Preference, &options, &tasks);
    let pairs: Vec<(String, String)> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|l| {
            (
                l["chosen"].as_str().unwrap().into(),
                l["rejected"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(pairs, [("w".into(), "y".into()), ("x".into(), "y".into())]);
    assert_eq!(summary.ranking_pairs, 2);
}

#[test]
fn ranking_jsonl_has_one_line_per_annotation_with_ratings_by_response() {
    let (options, tasks) = ranking_project();
    let (text, summary) = export(LlmFormat::Ranking, &options, &tasks);
    golden("ranking.jsonl", &text);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(summary.lines, 2);
    let first = &lines[0];
    assert_eq!(first["ranking"], json!(["r2", "r1", "r3"]));
    assert_eq!(
        first["ratings"],
        json!({"helpfulness": {"r1": 4, "r2": 5}, "truthfulness": {"r3": 1}})
    );
    assert_eq!(first["rationale"], json!({"why": "C is wrong."}));
    assert_eq!(
        first["rewrites"],
        json!({"r1": "Paris, the capital of France since 987.", "r3": "Lyon."})
    );
    assert_eq!(
        first["responses"][1],
        json!({"id": "r2", "text": "It is *Paris*, on the Seine."})
    );
    assert_eq!(
        (first["annotation_id"].as_i64(), first["annotator"].as_str()),
        (Some(10), Some("ann"))
    );

    let (options, tasks) = pairwise_project();
    let (text, _) = export(LlmFormat::Ranking, &options, &tasks);
    golden("pairwise_ranking.jsonl", &text);
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["pairwise"],
        json!({"pick": {"selected": "left", "strength": 2}})
    );
    assert_eq!(first["ratings"], json!({"quality": {"a": 5}}));
    assert_eq!(first["rewrites"], json!({"b": "Hi there!"}));
}

/// Loads the preference file with `datasets.load_dataset("json", ...)` when
/// GLOSS_TEST_PYTHON names a python (tests/python/datasets_check.py).
fn judge_with_datasets(text: &str, rows: usize, conversational: bool) {
    let Some(python) = dataset_support::test_python("datasets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("preference.jsonl");
    std::fs::write(&file, text).unwrap();
    let expected: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want = dir.path().join("expected.json");
    std::fs::write(
        &want,
        json!({"rows": rows, "conversational": conversational, "lines": expected}).to_string(),
    )
    .unwrap();
    let cache = dir.path().join("cache");
    dataset_support::run_python_check(
        &python,
        "datasets_check.py",
        &[file.as_os_str(), want.as_os_str()],
        &[
            ("HF_DATASETS_OFFLINE", "1".as_ref()),
            ("HF_HUB_OFFLINE", "1".as_ref()),
            ("HF_DATASETS_CACHE", cache.as_os_str()),
        ],
    );
}

// ---- Imports: the exports read back -------------------------------------------------

/// The controls of `ranking_project`'s label config, as the engine gives them.
fn ranking_controls() -> Vec<ImportControl> {
    vec![
        control("rank", "ranker", "answers", false),
        control("helpfulness", "rating", "answers", true),
        control("truthfulness", "rating", "answers", true),
        control("rewrite", "textarea", "answers", true),
        control("why", "textarea", "chat", false),
    ]
}

/// The controls of `pairwise_project`'s label config.
fn pairwise_controls() -> Vec<ImportControl> {
    vec![
        control("pick", "pairwise", "a", false),
        control("better_b", "textarea", "b", false),
        control("quality", "rating", "a", false),
    ]
}

fn control(name: &str, result_type: &str, to_name: &str, per_item: bool) -> ImportControl {
    ImportControl {
        name: name.into(),
        result_type: result_type.into(),
        to_name: to_name.into(),
        per_item,
    }
}

fn import_options(llm: LlmOptions, controls: Vec<ImportControl>) -> LlmImportOptions {
    LlmImportOptions {
        prompt_is_chat: llm.prompt.as_deref() == Some("messages"),
        llm,
        controls,
    }
}

/// Imported tasks as the exports see them, with ids counted from 1.
fn as_exported(records: Vec<TaskRecord>) -> Vec<ExportTask> {
    let mut annotation_id = 0;
    records
        .into_iter()
        .enumerate()
        .map(|(index, record)| ExportTask {
            id: index as i64 + 1,
            data: record.data,
            annotations: record
                .annotations
                .into_iter()
                .map(|record| {
                    annotation_id += 1;
                    ExportAnnotation {
                        id: annotation_id,
                        record,
                        stored_result: None,
                    }
                })
                .collect(),
            ..ExportTask::default()
        })
        .collect()
}

/// The lines of a JSONL text without the keys that name stored rows.
fn without_ids(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| {
            let mut value: Value = serde_json::from_str(line).unwrap();
            let map = value.as_object_mut().unwrap();
            map.remove("task_id");
            map.remove("annotation_id");
            value
        })
        .collect()
}

fn sorted(mut lines: Vec<Value>) -> Vec<String> {
    let mut texts: Vec<String> = lines.drain(..).map(|l| l.to_string()).collect();
    texts.sort();
    texts
}

#[test]
fn ranking_jsonl_reads_back_into_the_same_rankings_ratings_and_rewrites() {
    for (project, controls) in [
        (ranking_project(), ranking_controls()),
        (pairwise_project(), pairwise_controls()),
    ] {
        let (llm, tasks) = project;
        let (text, _) = export(LlmFormat::Ranking, &llm, &tasks);
        let options = import_options(llm.clone(), controls);
        let (records, rejections) = read_ranking(text.as_bytes(), &options).unwrap();
        assert_eq!(rejections, []);
        // Lines of one task are one task again, each an annotation.
        assert_eq!(records.len(), tasks.len());
        let (again, _) = export(LlmFormat::Ranking, &llm, &as_exported(records));
        assert_eq!(without_ids(&again), without_ids(&text));
    }
}

#[test]
fn ranking_jsonl_puts_each_result_where_its_control_is() {
    let (llm, tasks) = ranking_project();
    let (text, _) = export(LlmFormat::Ranking, &llm, &tasks);
    let options = import_options(llm, ranking_controls());
    let (records, _) = read_ranking(text.as_bytes(), &options).unwrap();
    let task = &records[0];
    assert_eq!(
        task.data["responses"][1],
        json!({"id": "r2", "body": "It is *Paris*, on the Seine."})
    );
    assert_eq!(task.data["messages"][0]["role"], "system");
    let first = &task.annotations[0];
    assert_eq!(first.completed_by, Some(json!("ann")));
    let results: Vec<Value> = first
        .result
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    let rating = results
        .iter()
        .find(|r| r["from_name"] == "truthfulness")
        .unwrap();
    assert_eq!(
        (
            rating["to_name"].as_str(),
            rating["item_index"].as_u64(),
            &rating["value"]
        ),
        (Some("answers"), Some(2), &json!({"rating": 1}))
    );
    let why = results.iter().find(|r| r["from_name"] == "why").unwrap();
    assert_eq!(
        (why["to_name"].as_str(), why.get("item_index")),
        (Some("chat"), None)
    );
    assert_eq!(task.annotations[1].completed_by, Some(json!("bob")));
}

#[test]
fn preference_pairs_read_back_as_the_same_pairs_with_sides_alternating() {
    let (llm, tasks) = pairwise_project();
    let (text, _) = export(LlmFormat::Preference, &llm, &tasks);
    let options = import_options(llm.clone(), pairwise_controls());
    let (records, rejections) = read_preference(text.as_bytes(), &options).unwrap();
    assert_eq!(rejections, []);
    // Three different pairs: three tasks.
    assert_eq!(records.len(), 3);
    // The first task shows its winner on the left, the second on the right.
    assert_eq!(records[0].data["answer_a"], "Hello!");
    assert_eq!(records[1].data["answer_b"], "Hi there!");
    let selected = |task: &TaskRecord| {
        serde_json::to_value(&task.annotations[0].result[0]).unwrap()["value"].clone()
    };
    assert_eq!(
        selected(&records[0]),
        json!({"selected": "left", "strength": 2})
    );
    assert_eq!(selected(&records[1]), json!({"selected": "right"}));
    assert_eq!(records[0].data["prompt"], "Say hi.");
    let (again, _) = export(LlmFormat::Preference, &llm, &as_exported(records));
    let pairs = |text: &str| {
        sorted(
            without_ids(text)
                .into_iter()
                .map(|mut l| {
                    l.as_object_mut().unwrap().remove("source");
                    l
                })
                .collect(),
        )
    };
    assert_eq!(pairs(&again), pairs(&text));
}

#[test]
fn preference_pairs_of_one_prompt_and_pair_are_one_task_ranked_in_a_list() {
    let (llm, tasks) = ranking_project();
    let (text, _) = export(LlmFormat::Preference, &llm, &tasks);
    let options = import_options(llm.clone(), ranking_controls());
    let (records, rejections) = read_preference(text.as_bytes(), &options).unwrap();
    assert_eq!(rejections, []);
    // ann's Paris-vs-Seine pair and bob's opposite one share a task.
    assert_eq!(records.len(), 4);
    assert_eq!(records[0].annotations.len(), 2);
    assert_eq!(records[0].data["responses"].as_array().unwrap().len(), 2);
    // The chat prompt stays a list of messages for the <Chat>.
    assert_eq!(records[0].data["messages"][1]["role"], "user");
    let (again, _) = export(LlmFormat::Preference, &llm, &as_exported(records));
    let pairs = |text: &str| {
        sorted(
            without_ids(text)
                .into_iter()
                .map(|mut l| {
                    l.as_object_mut().unwrap().remove("source");
                    l
                })
                .collect(),
        )
    };
    assert_eq!(pairs(&again), pairs(&text));
}

#[test]
fn trl_implicit_prompts_and_text_prompts_are_read() {
    let (llm, _) = pairwise_project();
    let options = import_options(llm, pairwise_controls());
    let input = concat!(
        r#"{"chosen": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}], "#,
        r#""rejected": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": [{"type": "text", "text": "Go."}]}]}"#,
        "\n\n",
        r#"{"prompt": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hey"}], "chosen": "Hi!", "rejected": "No.", "annotator": "ann"}"#,
        "\n"
    );
    let (records, rejections) = read_preference(input.as_bytes(), &options).unwrap();
    assert_eq!(rejections, []);
    // The shared messages are the prompt, written as text for a <Text>.
    assert_eq!(records[0].data["prompt"], "user: Hi?");
    assert_eq!(
        (
            records[0].data["answer_a"].as_str(),
            records[0].data["answer_b"].as_str()
        ),
        (Some("Hello."), Some("Go."))
    );
    assert_eq!(records[1].data["prompt"], "system: Be kind.\n\nuser: Hey");
    assert_eq!(records[1].data["answer_b"], "Hi!");
    assert_eq!(records[0].annotations[0].completed_by, None);
}

#[test]
fn bad_llm_lines_are_rejected_with_their_line_and_field() {
    let (llm, _) = pairwise_project();
    let options = import_options(llm, pairwise_controls());
    let input = concat!(
        "{\"prompt\": \"x\", \"chosen\": \"a\"}\n",
        "[1, 2]\n",
        "{not json\n",
        "{\"prompt\": \"x\", \"chosen\": \"a\", \"rejected\": 5}\n",
        "{\"prompt\": \"x\", \"chosen\": \"a\", \"rejected\": \"b\", \"strength\": \"big\"}\n",
    );
    let (records, rejections) = read_preference(input.as_bytes(), &options).unwrap();
    assert!(records.is_empty());
    let found: Vec<(u64, &str)> = rejections
        .iter()
        .map(|r| (r.row, r.field.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (1, "rejected"),
            (2, ""),
            (3, ""),
            (4, "rejected"),
            (5, "strength")
        ]
    );
    assert!(
        rejections[1].reason.contains("JSON object"),
        "{}",
        rejections[1].reason
    );

    let input = concat!(
        r#"{"prompt": "x", "responses": [{"id": "a", "text": "1"}, {"id": "b", "text": "2"}], "ratings": {"fun": {"a": 1}}}"#,
        "\n",
        r#"{"prompt": "x", "responses": [{"id": "a", "text": "1"}, {"id": "b", "text": "2"}], "ratings": {"quality": {"c": 1}}}"#,
        "\n",
        r#"{"prompt": "x", "responses": [{"id": "a", "text": "1"}], "ratings": {}}"#,
        "\n",
        r#"{"prompt": "x", "responses": [{"id": "a", "text": "1"}, {"id": "b", "text": "2"}], "ranking": ["a", "b"]}"#,
        "\n",
        r#"{"prompt": "x", "responses": [{"id": "a", "text": "1"}, {"id": "b", "text": "2"}], "ratings": {"quality": {"a": "five"}}}"#,
        "\n",
    );
    let (_, rejections) = read_ranking(input.as_bytes(), &options).unwrap();
    let found: Vec<(u64, &str)> = rejections
        .iter()
        .map(|r| (r.row, r.field.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (1, "ratings.fun"),
            (2, "ratings.quality.c"),
            (3, "responses"),
            (4, "ranking"),
            (5, "ratings.quality.a")
        ]
    );
    assert!(
        rejections[0].reason.contains("no control \"fun\""),
        "{}",
        rejections[0].reason
    );
    assert!(
        rejections[1].reason.contains("response \"c\""),
        "{}",
        rejections[1].reason
    );
}
