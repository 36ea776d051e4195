//! `gloss export`

use super::open_engine;
use crate::config::Settings;
use anyhow::{bail, Context, Result};
use clap::Args;
use gloss_engine::{Actor, ExportAnnotations, ExportFormat, ExportOptions, ExportTarget};
use gloss_formats::SplitRatios;
use gloss_types::{ProjectId, TaskStatus};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The project to export
    #[arg(long, value_name = "ID")]
    project: i64,
    /// json (Gloss's lossless format), label-studio, jsonl, coco, yolo, voc, cvat, mot,
    /// mask-png, conll2003, rttm, webvtt, srt, nemo-asr, preference-jsonl, ranking-jsonl, spacy (a
    /// spaCy v3 DocBin) or chat-jsonl (red-teaming chats)
    #[arg(long)]
    format: String,
    /// YOLO: detect (default), segment, pose, obb or classify
    #[arg(long)]
    task: Option<String>,
    /// Where to write: a file (a zip for multi-file exports), a folder when it
    /// ends with `/`, or `-` for standard output [default: -]
    #[arg(long, value_name = "PATH", default_value = "-")]
    out: String,
    /// Only tasks in these statuses (comma-separated: new, in_progress, completed)
    #[arg(long, value_name = "STATUSES")]
    status: Option<String>,
    /// Only this annotator's annotations (a username)
    #[arg(long, value_name = "USERNAME")]
    annotator: Option<String>,
    /// Only tasks with an annotation using this label or choice
    #[arg(long)]
    label: Option<String>,
    /// all; reviewed: only annotations every review layer accepted; consensus:
    /// one annotation per task, its annotators' consensus
    #[arg(long, default_value = "all")]
    annotations: String,
    /// Train/validation/test proportions, e.g. 0.8,0.1,0.1 (writes train.json, val.json, test.json)
    #[arg(long, value_name = "RATIOS")]
    split: Option<String>,
    /// Seed of the split: the same seed gives the same split
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// COCO and YOLO: write the annotations alone, without the images
    #[arg(long)]
    no_images: bool,
}

pub async fn run(settings: &Settings, args: ExportArgs) -> Result<()> {
    let format = ExportFormat::parse(&args.format, args.task.as_deref())
        .map_err(|(field, reason)| anyhow::anyhow!("--{field}: {reason}"))?;
    let mut options = ExportOptions::new(format);
    if let Some(statuses) = &args.status {
        for name in statuses.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match TaskStatus::parse(name) {
                Some(status) => options.statuses.push(status),
                None => bail!("--status: `{name}` is not new, in_progress or completed"),
            }
        }
    }
    options.annotator = args.annotator.clone();
    options.label = args.label.clone();
    options.annotations = ExportAnnotations::parse(&args.annotations)
        .ok_or_else(|| anyhow::anyhow!("--annotations: must be all, reviewed or consensus"))?;
    if let Some(split) = &args.split {
        let ratios =
            SplitRatios::parse(split).map_err(|reason| anyhow::anyhow!("--split: {reason}"))?;
        options.split = Some((ratios, args.seed));
    }
    if args.no_images {
        if !format.has_images() {
            bail!("--no-images: only COCO and YOLO exports include images");
        }
        options.images = false;
    }
    let target = if args.out.ends_with('/') {
        ExportTarget::Folder(PathBuf::from(&args.out))
    } else if args.out == "-" {
        if options.is_archive() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            bail!("this export is a zip; give --out FILE.zip or --out FOLDER/");
        }
        ExportTarget::Writer(Box::new(std::io::stdout()))
    } else {
        let file =
            std::fs::File::create(&args.out).with_context(|| format!("creating {}", args.out))?;
        ExportTarget::Writer(Box::new(file))
    };
    let engine = open_engine(settings).await?;
    let started = std::time::Instant::now();
    let summary = engine
        .export(&Actor::Operator, ProjectId(args.project), options, target)
        .await;
    engine.store().close().await;
    let summary = summary?;
    std::io::stdout().flush().ok();
    eprintln!(
        "Exported {} tasks and {} annotations in {:.2} s",
        summary.tasks,
        summary.annotations,
        started.elapsed().as_secs_f64()
    );
    for note in &summary.notes {
        eprintln!("Note: {note}");
    }
    Ok(())
}
