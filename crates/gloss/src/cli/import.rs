//! `gloss import`

use super::open_engine;
use crate::config::Settings;
use anyhow::{bail, Context, Result};
use clap::Args;
use gloss_engine::{Actor, ImportFile, ImportOptions};
use gloss_formats::{InputFormat, YoloTask};
use gloss_types::{ImportState, ProjectId};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The project to import into
    #[arg(long, value_name = "ID")]
    project: i64,
    /// auto, json, jsonl, csv, tsv, coco, label-studio, conll2003, yolo, voc, cvat, mask-png, mot,
    /// sequence, rttm, webvtt, srt, nemo-asr, spacy, preference-jsonl, ranking-jsonl or chat-jsonl
    /// [default: auto, per file; a zip, or a folder with a
    /// data.yaml (YOLO), Annotations (VOC), an annotations .xml (CVAT), dataset_meta.json and
    /// masks/ (mask-png), gt/gt.txt (MOT) or .rttm/.vtt/.srt files, is a dataset]. A project
    /// with a <Video> reads datasets as videos: MOT sequences, CVAT for video, and
    /// folders of frames (`sequence`: each folder of images is one video); a project with an
    /// <Audio> reads them as sounds with their RTTM, WebVTT, SRT or NeMo manifest files
    #[arg(long, default_value = "auto")]
    format: String,
    /// YOLO: what the labels are for: detect, segment, pose, obb or classify
    /// [default: guessed; obb and classify are never guessed]
    #[arg(long)]
    task: Option<String>,
    /// Folder where image file names in task data (and COCO file_names) are
    /// found [default for COCO: the COCO file's folder]
    #[arg(long, value_name = "DIR")]
    images: Option<PathBuf>,
    /// Files, folders of images (one task per image, in name order), or
    /// datasets (a zip, or a folder of YOLO, Pascal VOC, CVAT, mask-png or MOT)
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub async fn run(settings: &Settings, args: ImportArgs) -> Result<()> {
    let yolo = args.format == "yolo";
    const DATASETS: [&str; 10] = [
        "yolo", "voc", "cvat", "mask-png", "mot", "sequence", "rttm", "webvtt", "srt", "nemo-asr",
    ];
    let dataset_format = DATASETS.contains(&args.format.as_str());
    let format = match args.format.as_str() {
        _ if dataset_format || args.format == "auto" => None,
        name => match InputFormat::parse(name) {
            Some(format) => Some(format),
            None => bail!(
                "--format: `{name}` is not auto, json, jsonl, csv, tsv, coco, label-studio, conll2003, yolo, voc, cvat, mask-png, mot, sequence, rttm, webvtt, srt, nemo-asr, spacy, preference-jsonl, ranking-jsonl or chat-jsonl"
            ),
        },
    };
    let yolo_task = match args.task.as_deref() {
        None => None,
        Some(_) if !yolo && args.format != "auto" => {
            bail!("--task: only means something with --format yolo")
        }
        Some(name) => match YoloTask::parse(name) {
            Some(task) => Some(task),
            None => bail!("--task: `{name}` is not detect, segment, pose, obb or classify"),
        },
    };
    let mut files = Vec::new();
    for path in &args.paths {
        // A dataset folder is imported whole, not file by file.
        let dataset =
            path.is_dir() && (dataset_format || yolo_task.is_some() || is_dataset_folder(path));
        if dataset {
            files.push(ImportFile {
                name: path.display().to_string(),
                path: path.clone(),
            });
        } else {
            collect_files(path, &mut files)?;
        }
    }
    if files.is_empty() {
        bail!("no files to import in {}", display_paths(&args.paths));
    }
    if let Some(dir) = &args.images {
        if !dir.is_dir() {
            bail!("--images: {} is not a folder", dir.display());
        }
    }
    let engine = open_engine(settings).await?;
    let options = ImportOptions {
        format,
        images_dir: args.images.clone(),
        yolo_task,
    };
    let started = std::time::Instant::now();
    let job = engine
        .import_files(&Actor::Operator, ProjectId(args.project), files, options)
        .await;
    engine.store().close().await;
    let job = job?;
    let seconds = started.elapsed().as_secs_f64();
    if job.state == ImportState::Completed {
        println!(
            "Imported {} tasks, {} annotations and {} predictions from {} rows in {:.2} s (import {})",
            job.tasks_created,
            job.annotations_created,
            job.predictions_created,
            job.rows_read,
            seconds,
            job.id
        );
        return Ok(());
    }
    for rejected in &job.rejected {
        let field = if rejected.field.is_empty() {
            String::new()
        } else {
            format!(" {}:", rejected.field)
        };
        eprintln!(
            "{} row {}:{field} {}",
            rejected.file, rejected.row, rejected.reason
        );
    }
    bail!(
        "{}",
        job.error
            .unwrap_or_else(|| "the import failed; nothing was imported".to_string())
    )
}

/// A file as given, or a folder's files in name order (hidden files skipped).
fn collect_files(path: &Path, files: &mut Vec<ImportFile>) -> Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.is_file() {
        files.push(ImportFile {
            name: path.display().to_string(),
            path: path.to_path_buf(),
        });
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading the folder {}", path.display()))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading the folder {}", path.display()))?;
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with('.'));
        if !hidden {
            collect_files(&entry, files)?;
        }
    }
    Ok(())
}

/// Whether a folder is a dataset (YOLO's data.yaml, VOC's Annotations or
/// ImageSets, mask-png's dataset_meta.json and masks, CVAT's annotation XML
/// at the top) rather than images.
fn is_dataset_folder(path: &Path) -> bool {
    if path.join("data.yaml").is_file()
        || (path.join("dataset_meta.json").is_file() && path.join("masks").is_dir())
        || path.join("gt").join("gt.txt").is_file()
        || path.join("Annotations").is_dir()
        || path.join("ImageSets").is_dir()
    {
        return true;
    }
    std::fs::read_dir(path).is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
            // CVAT's XML; speech annotations beside their sounds.
            [".xml", ".rttm", ".vtt", ".srt"]
                .iter()
                .any(|extension| name.ends_with(extension))
                && entry.path().is_file()
        })
    })
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
