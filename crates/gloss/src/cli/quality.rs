//! `gloss agreement` and `gloss aggregate`: the quality metrics of
//! gloss-quality on a file of `item, annotator, label` rows (CSV with a
//! header, or JSONL objects), or of Label Studio results for spatial and
//! text metrics. They print JSON.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use gloss_quality::aggregate::{self, DawidSkeneOptions, TiePolicy, Vote};
use gloss_quality::categorical::{self, CohenWeights, Level};
use gloss_quality::gold::{score_against_gold, Answer};
use gloss_quality::objects::{LabeledMask, Pose};
use gloss_quality::spatial::{self, BBox, LabeledShape, Shape};
use gloss_quality::text::{self, Scores, Span, SpanMatching};
use gloss_quality::{rank, RatingsTable};
use gloss_types::result::{ResultItem, ResultValue};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Metric {
    Percent,
    Cohen,
    Fleiss,
    KrippendorffNominal,
    KrippendorffOrdinal,
    KrippendorffInterval,
    KrippendorffRatio,
    GwetAc1,
    Kendall,
    Spearman,
    /// Boxes and polygons of Label Studio results, matched by IoU
    IouF1,
    /// Text spans of Label Studio results
    SpanF1,
    /// Keypoint objects (`keypointlabels`) of Label Studio results, by OKS
    Oks,
    /// Pixel masks (`brushlabels`) of Label Studio results, IoU per label
    MaskIou,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Weights {
    None,
    Linear,
    Quadratic,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// A CSV file with item, annotator and label columns, or JSONL of
    /// {"item", "annotator", "label"} objects (by extension); `-` reads
    /// standard input
    file: PathBuf,
    /// The file's format, when its extension does not tell [default for `-`: jsonl]
    #[arg(long, value_enum)]
    format: Option<Format>,
}

#[derive(Debug, Args)]
pub struct AgreementArgs {
    /// percent, cohen, fleiss, krippendorff-nominal, krippendorff-ordinal,
    /// krippendorff-interval, krippendorff-ratio, gwet-ac1, kendall, spearman;
    /// iou-f1, span-f1, oks and mask-iou read JSONL rows {"item", "annotator", "result": [Label Studio results]}
    #[arg(long, value_enum)]
    metric: Metric,
    /// Cohen's kappa weights
    #[arg(long, value_enum, default_value = "none")]
    weights: Weights,
    /// The two annotators compared by cohen, kendall, spearman, iou-f1,
    /// span-f1, oks and mask-iou (the first is the reference), e.g.
    /// `--annotators alice,bob`
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    annotators: Option<Vec<String>>,
    /// iou-f1: the IoU at which two shapes match
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// span-f1: spans match when exactly equal, or when they overlap
    #[arg(long, value_enum, default_value = "exact")]
    matching: Matching,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Matching {
    Exact,
    Overlap,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Method {
    Majority,
    /// Majority vote weighted by each annotator's accuracy against a first majority vote (Wawa)
    Weighted,
    DawidSkene,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Ties {
    /// The tie's first label in sorted order (as crowd-kit)
    Lowest,
    /// No label
    None,
    /// A tied label drawn with --seed
    Random,
}

#[derive(Debug, Args)]
pub struct AggregateArgs {
    #[arg(long, value_enum)]
    method: Method,
    /// Majority and weighted votes: what a tie gives
    #[arg(long, value_enum, default_value = "lowest")]
    ties: Ties,
    /// Seed of `--ties random`
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Dawid–Skene: the most EM iterations
    #[arg(long, default_value_t = 100)]
    max_iterations: usize,
    /// Dawid–Skene: stop when the evidence lower bound grows by less
    #[arg(long, default_value_t = 1e-5)]
    tolerance: f64,
    #[command(flatten)]
    input: InputArgs,
}

pub fn agreement(args: AgreementArgs) -> Result<()> {
    let output = match args.metric {
        // Label Studio results are always JSONL.
        Metric::IouF1 | Metric::SpanF1 | Metric::Oks | Metric::MaskIou => {
            let rows = read_results(&read_input(&args.input.file)?)?;
            result_agreement(&args, &rows)?
        }
        metric => {
            let format = input_format(&args.input)?;
            let table = read_table(&read_input(&args.input.file)?, format)?;
            table_agreement(&args, metric, &table)?
        }
    };
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

/// An option value's name on the command line (`krippendorff-nominal`).
fn value_name(value: impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

fn table_agreement(args: &AgreementArgs, metric: Metric, table: &RatingsTable) -> Result<Value> {
    let mut output = json!({
        "metric": value_name(metric),
        "items": table.items().len(),
        "annotators": table.annotators().len(),
        "labels": table.labels().len(),
    });
    let value = match metric {
        Metric::Percent => categorical::percent_agreement(table)?,
        Metric::Fleiss => categorical::fleiss_kappa(table)?,
        Metric::GwetAc1 => categorical::gwet_ac1(table)?,
        Metric::KrippendorffNominal => categorical::krippendorff_alpha(table, Level::Nominal)?,
        Metric::KrippendorffOrdinal => categorical::krippendorff_alpha(table, Level::Ordinal)?,
        Metric::KrippendorffInterval => categorical::krippendorff_alpha(table, Level::Interval)?,
        Metric::KrippendorffRatio => categorical::krippendorff_alpha(table, Level::Ratio)?,
        Metric::Cohen | Metric::Kendall | Metric::Spearman => {
            let names = pair_names(args.annotators.as_deref(), table.annotators())?;
            let (a, b) = (
                table.annotator_index(&names[0])?,
                table.annotator_index(&names[1])?,
            );
            output["pair"] = json!(names);
            match metric {
                Metric::Cohen => {
                    output["weights"] = json!(value_name(args.weights));
                    let weights = match args.weights {
                        Weights::None => CohenWeights::None,
                        Weights::Linear => CohenWeights::Linear,
                        Weights::Quadratic => CohenWeights::Quadratic,
                    };
                    categorical::cohen_kappa(table, a, b, weights)?
                }
                Metric::Kendall => {
                    let (x, y) = rank::paired_values(table, a, b)?;
                    output["paired_items"] = json!(x.len());
                    rank::kendall_tau_b(&x, &y)?
                }
                _ => {
                    let (x, y) = rank::paired_values(table, a, b)?;
                    output["paired_items"] = json!(x.len());
                    rank::spearman_rho(&x, &y)?
                }
            }
        }
        Metric::IouF1 | Metric::SpanF1 | Metric::Oks | Metric::MaskIou => {
            bail!(
                "{} reads Label Studio results, not label rows",
                value_name(metric)
            )
        }
    };
    output["value"] = json!(value);
    Ok(output)
}

/// The two annotators a pairwise metric compares: `--annotators`, or the
/// data's only two.
fn pair_names(chosen: Option<&[String]>, all: &[String]) -> Result<Vec<String>> {
    match chosen {
        Some(names) if names.len() == 2 => Ok(names.to_vec()),
        Some(names) => bail!(
            "--annotators needs two names, got {}: {names:?}",
            names.len()
        ),
        None if all.len() == 2 => Ok(all.to_vec()),
        None => bail!(
            "this metric compares two annotators and the file has {} ({}): choose two with --annotators A,B",
            all.len(),
            all.join(", ")
        ),
    }
}

pub fn aggregate(args: AggregateArgs) -> Result<()> {
    let text = read_input(&args.input.file)?;
    let table = read_table(&text, input_format(&args.input)?)?;
    let ties = match args.ties {
        Ties::Lowest => TiePolicy::LowestLabel,
        Ties::None => TiePolicy::Unresolved,
        Ties::Random => TiePolicy::Random { seed: args.seed },
    };
    let labels = table.labels();
    let label_map = |row: &[f64]| -> Map<String, Value> {
        labels
            .iter()
            .zip(row)
            .map(|(l, p)| (l.clone(), json!(p)))
            .collect()
    };
    let k = labels.len();
    let items = |consensus: &[Option<u32>], probabilities: &[f64]| -> Vec<Value> {
        table
            .items()
            .iter()
            .enumerate()
            .map(|(i, item)| {
                json!({
                    "item": item,
                    "label": consensus[i].map(|c| labels[c as usize].clone()),
                    "probabilities": label_map(&probabilities[i * k..(i + 1) * k]),
                })
            })
            .collect()
    };
    let mut ratings = vec![0usize; table.annotators().len()];
    for rating in table.ratings() {
        ratings[rating.annotator as usize] += 1;
    }
    let mut output = json!({
        "method": value_name(args.method),
        "items": table.items().len(),
        "annotators": table.annotators().len(),
        "labels": labels,
    });
    let vote_output = |vote: Vote, output: &mut Value| {
        output["results"] = json!(items(&vote.labels, &vote.probabilities));
        output["annotator_stats"] = json!(table
            .annotators()
            .iter()
            .enumerate()
            .map(|(a, name)| json!({
                "annotator": name,
                "ratings": ratings[a],
                "accuracy": vote.accuracy[a],
            }))
            .collect::<Vec<_>>());
    };
    match args.method {
        Method::Majority => vote_output(aggregate::majority_vote(&table, ties)?, &mut output),
        Method::Weighted => vote_output(aggregate::wawa(&table, ties)?, &mut output),
        Method::DawidSkene => {
            let options = DawidSkeneOptions {
                max_iterations: args.max_iterations,
                tolerance: args.tolerance,
            };
            let ds = aggregate::dawid_skene(&table, options)?;
            output["iterations"] = json!(ds.iterations);
            output["priors"] = json!(label_map(&ds.priors));
            output["results"] = json!(items(&ds.labels, &ds.posteriors));
            let accuracy = aggregate::accuracy_against(&table, &ds.labels);
            output["annotator_stats"] = json!(table
                .annotators()
                .iter()
                .enumerate()
                .map(|(a, name)| {
                    let confusion: Map<String, Value> = labels
                        .iter()
                        .zip(&ds.confusion[a])
                        .map(|(truth, row)| (truth.clone(), json!(label_map(row))))
                        .collect();
                    json!({
                        "annotator": name,
                        "ratings": ratings[a],
                        "accuracy": accuracy[a],
                        "confusion": confusion,
                    })
                })
                .collect::<Vec<_>>());
        }
    }
    println!("{}", serde_json::to_string(&output)?);
    Ok(())
}

fn read_input(file: &PathBuf) -> Result<String> {
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
    } else {
        text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    }
    Ok(text)
}

fn input_format(input: &InputArgs) -> Result<Format> {
    if let Some(format) = input.format {
        return Ok(format);
    }
    if input.file.as_os_str() == "-" {
        return Ok(Format::Jsonl);
    }
    match input.file.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("csv") => Ok(Format::Csv),
        Some(e) if e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson") => {
            Ok(Format::Jsonl)
        }
        _ => bail!(
            "{}: cannot tell the format from the extension (.csv or .jsonl); use --format",
            input.file.display()
        ),
    }
}

/// The ratings table of a CSV (header with item, annotator and label
/// columns) or JSONL (`{"item", "annotator", "label"}` objects; numbers are
/// read as their text; a null or empty label is a missing rating).
fn read_table(text: &str, format: Format) -> Result<RatingsTable> {
    let rows = match format {
        Format::Csv => read_csv_rows(text)?,
        Format::Jsonl => read_jsonl_rows(text)?,
    };
    Ok(RatingsTable::from_rows(
        rows.iter()
            .map(|(i, a, l)| (i.as_str(), a.as_str(), l.as_str())),
    )?)
}

fn read_csv_rows(text: &str) -> Result<Vec<(String, String, String)>> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader.headers().context("reading the CSV header")?.clone();
    let column = |name: &str| {
        header.iter().position(|h| h.trim() == name).ok_or_else(|| {
            anyhow!(
                "the CSV header has no `{name}` column (it has: {})",
                header.iter().collect::<Vec<_>>().join(", ")
            )
        })
    };
    let (item, annotator, label) = (column("item")?, column("annotator")?, column("label")?);
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.with_context(|| format!("CSV line {line}"))?;
        let field = |at: usize, name: &str| {
            record
                .get(at)
                .map(str::to_string)
                .ok_or_else(|| anyhow!("CSV line {line}: no `{name}` field"))
        };
        rows.push((
            field(item, "item")?,
            field(annotator, "annotator")?,
            field(label, "label")?,
        ));
    }
    Ok(rows)
}

/// A JSON string or number as text (`None` for null).
fn scalar_text(value: &Value, line: usize, field: &str) -> Result<Option<String>> {
    match value {
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Null => Ok(None),
        other => bail!("line {line}: `{field}` must be a string or a number, not {other}"),
    }
}

/// Each non-blank line's JSON object, with its line number.
fn jsonl_objects(text: &str) -> impl Iterator<Item = Result<(usize, Map<String, Value>)>> + '_ {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(object)) => Ok((n + 1, object)),
            Ok(_) => bail!("line {}: not a JSON object", n + 1),
            Err(err) => bail!("line {}: invalid JSON: {err}", n + 1),
        })
}

/// A field that must be there and be a string or number.
fn required_text(object: &Map<String, Value>, line: usize, field: &str) -> Result<String> {
    let value = object
        .get(field)
        .ok_or_else(|| anyhow!("line {line}: no `{field}` field"))?;
    scalar_text(value, line, field)?.ok_or_else(|| anyhow!("line {line}: `{field}` is null"))
}

fn read_jsonl_rows(text: &str) -> Result<Vec<(String, String, String)>> {
    jsonl_objects(text)
        .map(|object| {
            let (line, object) = object?;
            let label = match object.get("label") {
                None => bail!("line {line}: no `label` field"),
                Some(value) => scalar_text(value, line, "label")?.unwrap_or_default(),
            };
            Ok((
                required_text(&object, line, "item")?,
                required_text(&object, line, "annotator")?,
                label,
            ))
        })
        .collect()
}

/// One row of Label Studio results: an annotator's results on an item.
struct ResultRow {
    item: String,
    annotator: String,
    shapes: Vec<LabeledShape>,
    spans: Vec<Span>,
    poses: Vec<Pose>,
    masks: Vec<LabeledMask>,
}

fn read_results(text: &str) -> Result<Vec<ResultRow>> {
    jsonl_objects(text)
        .map(|object| {
            let (line, object) = object?;
            let results = match object.get("result") {
                Some(Value::Array(results)) => results,
                _ => bail!("line {line}: `result` must be an array of Label Studio results"),
            };
            let mut row = ResultRow {
                item: required_text(&object, line, "item")?,
                annotator: required_text(&object, line, "annotator")?,
                shapes: Vec::new(),
                spans: Vec::new(),
                poses: Vec::new(),
                masks: Vec::new(),
            };
            let mut objects = Vec::new();
            for (n, result) in results.iter().enumerate() {
                read_result(result, &mut row, &mut objects)
                    .with_context(|| format!("line {line}: result {n}"))?;
            }
            row.poses = gloss_engine::poses_of(&objects);
            row.masks = gloss_engine::masks_of(&objects);
            Ok(row)
        })
        .collect()
}

/// Adds a Label Studio result (rectangle, polygon or text span) to the row,
/// and keypoints and masks to `objects`; other result types are ignored.
fn read_result(result: &Value, row: &mut ResultRow, objects: &mut Vec<ResultItem>) -> Result<()> {
    let kind = result["type"].as_str().unwrap_or_default();
    let value = &result["value"];
    let number = |field: &str| {
        value[field]
            .as_f64()
            .ok_or_else(|| anyhow!("`value.{field}` must be a number"))
    };
    let label = || -> Result<String> {
        value[kind]
            .as_array()
            .or_else(|| value["labels"].as_array())
            .and_then(|labels| labels.first())
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| anyhow!("`value.{kind}` has no label"))
    };
    match kind {
        "rectanglelabels" | "rectangle" => {
            if value["rotation"].as_f64().unwrap_or(0.0) != 0.0 {
                bail!("rotated rectangles are not supported");
            }
            let bbox = BBox::from_xywh(
                number("x")?,
                number("y")?,
                number("width")?,
                number("height")?,
            );
            row.shapes.push(LabeledShape {
                label: label()?,
                shape: Shape::Box(bbox),
            });
        }
        "polygonlabels" | "polygon" => {
            let points = value["points"]
                .as_array()
                .ok_or_else(|| anyhow!("`value.points` must be an array"))?
                .iter()
                .map(|p| match (p[0].as_f64(), p[1].as_f64()) {
                    (Some(x), Some(y)) => Ok((x, y)),
                    _ => bail!("a polygon point must be [x, y]"),
                })
                .collect::<Result<Vec<_>>>()?;
            row.shapes.push(LabeledShape {
                label: label()?,
                shape: Shape::Polygon(points),
            });
        }
        "labels" => {
            let start = number("start")?;
            let end = number("end")?;
            if start < 0.0 || end < start || start.fract() != 0.0 || end.fract() != 0.0 {
                bail!("span {start}..{end} is not a range of character offsets");
            }
            row.spans.push(Span {
                start: start as usize,
                end: end as usize,
                label: label()?,
            });
        }
        "keypointlabels" | "brushlabels" => {
            let item: ResultItem = serde_json::from_value(result.clone())
                .map_err(|err| anyhow!("not a Label Studio {kind} result: {err}"))?;
            match &item.value {
                ResultValue::KeyPointLabels(_) => {}
                ResultValue::BrushLabels(brush) => {
                    let (Some(width), Some(height)) = (item.original_width, item.original_height)
                    else {
                        bail!("a brushlabels result needs `original_width` and `original_height`");
                    };
                    gloss_masks::brush_rle(&brush.shape, width, height)
                        .map_err(|err| anyhow!("`value`: {err}"))?;
                }
                _ => bail!(
                    "not a Label Studio {kind} result: `value` needs {}",
                    if kind == "brushlabels" {
                        "`format`, its `rle` or `counts`, and `brushlabels`"
                    } else {
                        "numbers `x` and `y` and a list `keypointlabels`"
                    }
                ),
            }
            objects.push(item);
        }
        _ => {}
    }
    Ok(())
}

/// iou-f1 and span-f1 between two annotators, micro-averaged over the items
/// both annotated.
fn result_agreement(args: &AgreementArgs, rows: &[ResultRow]) -> Result<Value> {
    let mut names: Vec<String> = Vec::new();
    for row in rows {
        if !names.contains(&row.annotator) {
            names.push(row.annotator.clone());
        }
    }
    let pair = pair_names(args.annotators.as_deref(), &names)?;
    for name in &pair {
        if !names.contains(name) {
            bail!("unknown annotator {name:?}");
        }
    }
    let mut by_item: BTreeMap<&str, [Option<&ResultRow>; 2]> = BTreeMap::new();
    for row in rows {
        if let Some(side) = pair.iter().position(|p| *p == row.annotator) {
            let slot = &mut by_item.entry(&row.item).or_default()[side];
            if slot.is_some() {
                bail!(
                    "annotator {:?} has two rows for item {:?}",
                    row.annotator,
                    row.item
                );
            }
            *slot = Some(row);
        }
    }
    let both: Vec<(&ResultRow, &ResultRow)> = by_item
        .values()
        .filter_map(|[a, b]| Some(((*a)?, (*b)?)))
        .collect();
    let mut output = json!({
        "metric": value_name(args.metric),
        "pair": pair,
        "items": both.len(),
        "annotators": names.len(),
    });
    let mut per_item = Vec::new();
    if args.metric == Metric::IouF1 {
        let (mut iou_sum, mut iou_count) = (0.0, 0usize);
        for (a, b) in &both {
            let matching = spatial::match_shapes(&a.shapes, &b.shapes, args.threshold)?;
            iou_sum += matching.pairs.iter().map(|p| p.2).sum::<f64>();
            iou_count += matching.pairs.len();
            per_item.push(Scores::from_counts(
                matching.pairs.len(),
                a.shapes.len(),
                b.shapes.len(),
            ));
        }
        output["threshold"] = json!(args.threshold);
        output["mean_iou"] = json!((iou_count > 0).then(|| iou_sum / iou_count as f64));
    } else if matches!(args.metric, Metric::Oks | Metric::MaskIou) {
        return object_agreement(args.metric, output, &both);
    } else {
        let matching = match args.matching {
            Matching::Exact => SpanMatching::Exact,
            Matching::Overlap => SpanMatching::Overlap,
        };
        output["matching"] = json!(value_name(args.matching));
        for (a, b) in &both {
            per_item.push(text::span_scores(&a.spans, &b.spans, matching)?);
        }
    }
    let total = Scores::sum(&per_item);
    output["matched"] = json!(total.matched);
    output["reference_count"] = json!(total.references);
    output["candidate_count"] = json!(total.candidates);
    output["precision"] = json!(total.precision);
    output["recall"] = json!(total.recall);
    output["value"] = json!(total.f1);
    Ok(output)
}

/// oks and mask-iou between two annotators: each item's score against the
/// first annotator's answer (`gloss_quality::gold::score_against_gold`), and
/// their mean over the items both annotated.
fn object_agreement(
    metric: Metric,
    mut output: Value,
    both: &[(&ResultRow, &ResultRow)],
) -> Result<Value> {
    let mut per_item = Vec::with_capacity(both.len());
    let mut sum = 0.0;
    for (a, b) in both {
        let score = if metric == Metric::Oks {
            score_against_gold(
                &Answer::Poses(a.poses.clone()),
                &Answer::Poses(b.poses.clone()),
            )?
        } else {
            score_against_gold(
                &Answer::Masks(a.masks.clone()),
                &Answer::Masks(b.masks.clone()),
            )?
        };
        sum += score;
        per_item.push(json!({"item": a.item, "value": score}));
    }
    output["value"] = json!((!both.is_empty()).then(|| sum / both.len() as f64));
    output["per_item"] = Value::Array(per_item);
    Ok(output)
}
