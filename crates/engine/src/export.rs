//! Exporting a project's tasks: Gloss's own lossless JSON, Label Studio's
//! export JSON, and COCO, with filters and train/validation/test splits.
//!
//! Memory stays flat at any size: tasks are read from one database snapshot
//! a page at a time, converted and written on a blocking thread while the
//! next page is read, and documents of a multi-file export (splits, COCO
//! with its images) are spooled to temporary files before they are packed
//! into a zip or a folder.

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::import::media_key_of;
use crate::Engine;
use gloss_formats::{
    AnnotationRecord, CocoWriter, DraftRecord, ExportAnnotation, ExportCategory, ExportPrediction,
    ExportTask, FileSink, ImageInfo, KeypointCategory, LabelStudioWriter, PredictionRecord, Split,
    SplitRatios, StoredResult, TrackFormat, TrackWriter, VideoInfo, YoloClasses, YoloTask,
    YoloWriter,
};
use gloss_schema::ControlKind;
use gloss_store::{AnnotationRow, DraftRow, PredictionRow, ProjectMediaRow, TaskBundlePage};
use gloss_types::result::{ResultItem, ResultValue};
use gloss_types::{ProjectId, ProjectRole, ReviewState, TaskId, TaskStatus};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{self, BufWriter, Seek, Write};
use std::path::PathBuf;

/// Tasks read from the database at a time.
const PAGE_TASKS: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Gloss's own format: every task with every annotation, prediction and
    /// draft, annotators by id and username, versions and times. Importing it
    /// again gives the same project.
    Json,
    /// Label Studio's export JSON, which Label Studio and its tools read.
    LabelStudio,
    /// The same tasks as JSON Lines, one task per line.
    Jsonl,
    /// COCO instances: boxes, polygons, ellipses and keypoints, with the images.
    Coco,
    /// A YOLO dataset in the Ultralytics layout, for one task, with the images.
    Yolo(YoloTask),
    /// MOTChallenge sequences of the videos' box tracks.
    Mot,
    /// CVAT XML 1.1: for a project with a `<Video>`, the videos' box tracks
    /// (CVAT for video); otherwise it becomes [`ExportFormat::CvatImages`].
    Cvat,
    /// CVAT for images 1.1: `annotations.xml` and the images.
    CvatImages,
    /// Pascal VOC: an XML file per image, segmentation masks, the images.
    Voc,
    /// Semantic segmentation PNGs with a colour map, and the images.
    MaskPng,
    /// CoNLL-2003 NER with IOB2 tags: the spans of a `Labels` control on a `<Text>`.
    Conll2003,
    /// RTTM: who spoke when, from the segments of a `Labels` control on an `<Audio>`.
    Rttm,
    /// WebVTT subtitles: a file per sound, its segments' transcripts.
    WebVtt,
    /// SRT subtitles: a file per sound, its segments' transcripts.
    Srt,
    /// NeMo ASR manifest: a JSON line per transcribed segment.
    NemoAsr,
    /// Preference pairs as JSON Lines (TRL's `prompt`, `chosen`, `rejected`),
    /// from pairwise choices, rankings and rewrites.
    PreferenceJsonl,
    /// LLM feedback as JSON Lines, one annotation per line: ranking, ratings
    /// per criterion, rationale and rewrites.
    RankingJsonl,
    /// spaCy v3 `DocBin` (`.spacy`): the entities of a `Labels` control on
    /// a `<Text>` and the classes of its `Choices`.
    Spacy,
    /// Red-teaming conversations of a `<Chat>`: a JSON line per annotation,
    /// its `messages` with their labels.
    ChatJsonl,
}

/// The format names `ExportFormat::parse` reads, for error messages.
pub const EXPORT_FORMAT_NAMES: &str =
    "json, label-studio, jsonl, coco, yolo, voc, cvat, mot, mask-png, conll2003, rttm, webvtt, srt, nemo-asr, preference-jsonl, ranking-jsonl, spacy or chat-jsonl";

impl ExportFormat {
    /// Reads a format name and, for `yolo`, its task (`detect` when not
    /// given); an error names the field (`format` or `task`) and the reason.
    pub fn parse(
        text: &str,
        task: Option<&str>,
    ) -> std::result::Result<ExportFormat, (&'static str, String)> {
        let format = match text {
            "json" => ExportFormat::Json,
            "label-studio" | "label_studio" => ExportFormat::LabelStudio,
            "jsonl" => ExportFormat::Jsonl,
            "coco" => ExportFormat::Coco,
            "mot" => ExportFormat::Mot,
            "cvat" => ExportFormat::Cvat,
            "voc" => ExportFormat::Voc,
            "mask-png" => ExportFormat::MaskPng,
            "conll2003" => ExportFormat::Conll2003,
            "rttm" => ExportFormat::Rttm,
            "webvtt" => ExportFormat::WebVtt,
            "srt" => ExportFormat::Srt,
            "nemo-asr" => ExportFormat::NemoAsr,
            "preference-jsonl" => ExportFormat::PreferenceJsonl,
            "ranking-jsonl" => ExportFormat::RankingJsonl,
            "spacy" => ExportFormat::Spacy,
            "chat-jsonl" => ExportFormat::ChatJsonl,
            "yolo" => {
                let task = task.unwrap_or("detect");
                return YoloTask::parse(task)
                    .map(ExportFormat::Yolo)
                    .ok_or_else(|| {
                        (
                            "task",
                            format!("`{task}` is not detect, segment, pose, obb or classify"),
                        )
                    });
            }
            other => return Err(("format", format!("`{other}` is not {EXPORT_FORMAT_NAMES}"))),
        };
        match task {
            Some(_) => Err(("task", "only means something with the yolo format".into())),
            None => Ok(format),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::LabelStudio => "label-studio",
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Coco => "coco",
            ExportFormat::Yolo(_) => "yolo",
            ExportFormat::Mot => "mot",
            ExportFormat::Cvat | ExportFormat::CvatImages => "cvat",
            ExportFormat::Voc => "voc",
            ExportFormat::MaskPng => "mask-png",
            ExportFormat::Conll2003 => "conll2003",
            ExportFormat::Rttm => "rttm",
            ExportFormat::WebVtt => "webvtt",
            ExportFormat::Srt => "srt",
            ExportFormat::NemoAsr => "nemo-asr",
            ExportFormat::PreferenceJsonl => "preference-jsonl",
            ExportFormat::RankingJsonl => "ranking-jsonl",
            ExportFormat::Spacy => "spacy",
            ExportFormat::ChatJsonl => "chat-jsonl",
        }
    }

    /// The speech formats, written from the segments of an `<Audio>`.
    fn audio_format(self) -> Option<gloss_formats::AudioFormat> {
        Some(match self {
            ExportFormat::Rttm => gloss_formats::AudioFormat::Rttm,
            ExportFormat::WebVtt => gloss_formats::AudioFormat::WebVtt,
            ExportFormat::Srt => gloss_formats::AudioFormat::Srt,
            ExportFormat::NemoAsr => gloss_formats::AudioFormat::NemoAsr,
            _ => return None,
        })
    }

    /// Whether the format is made of files per task (written to a folder
    /// or zip as tasks come) rather than one document per split.
    fn is_dataset(self) -> bool {
        matches!(
            self,
            ExportFormat::Yolo(_)
                | ExportFormat::Mot
                | ExportFormat::Cvat
                | ExportFormat::Voc
                | ExportFormat::MaskPng
                | ExportFormat::WebVtt
                | ExportFormat::Srt
        )
    }

    /// Whether the format writes image files next to its annotations
    /// (`cvat` counts: for an image project it becomes CVAT for images; the
    /// video flavour has no image files to write).
    pub fn has_images(self) -> bool {
        matches!(
            self,
            ExportFormat::Coco
                | ExportFormat::Yolo(_)
                | ExportFormat::Voc
                | ExportFormat::MaskPng
                | ExportFormat::Cvat
                | ExportFormat::CvatImages
        )
    }
}

/// What to export and how.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: ExportFormat,
    /// Which annotations of each task go out.
    pub annotations: ExportAnnotations,
    /// Only tasks in these statuses; empty means all.
    pub statuses: Vec<TaskStatus>,
    /// Only this annotator's annotations, and only tasks they annotated.
    pub annotator: Option<String>,
    /// Only tasks with an exported annotation using this label or choice.
    pub label: Option<String>,
    /// Split the tasks, deterministically for a seed.
    pub split: Option<(SplitRatios, u64)>,
    /// COCO and YOLO: include the image files (which makes the export a zip
    /// or folder).
    pub images: bool,
}

/// Which annotations of each task an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportAnnotations {
    /// Every annotator's.
    #[default]
    All,
    /// Only annotations that passed every review layer; tasks without one
    /// are left out.
    Reviewed,
    /// One annotation per task: the consensus of its annotators (see
    /// `consensus.rs`); tasks without annotations are left out.
    Consensus,
}

impl ExportAnnotations {
    pub const ALL: [ExportAnnotations; 3] = [
        ExportAnnotations::All,
        ExportAnnotations::Reviewed,
        ExportAnnotations::Consensus,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportAnnotations::All => "all",
            ExportAnnotations::Reviewed => "reviewed",
            ExportAnnotations::Consensus => "consensus",
        }
    }

    pub fn parse(text: &str) -> Option<ExportAnnotations> {
        ExportAnnotations::ALL
            .into_iter()
            .find(|a| a.as_str() == text)
    }
}

impl ExportOptions {
    pub fn new(format: ExportFormat) -> ExportOptions {
        ExportOptions {
            format,
            annotations: ExportAnnotations::All,
            statuses: Vec::new(),
            annotator: None,
            label: None,
            split: None,
            images: format.has_images(),
        }
    }

    /// Whether the export is several files (a zip, or a folder).
    pub fn is_archive(&self) -> bool {
        // CVAT exports are always zips: annotations.xml with the images, or
        // a folder of sequences.
        self.split.is_some()
            || self.format.is_dataset()
            || self.format == ExportFormat::CvatImages
            || (self.format == ExportFormat::Coco && self.images)
    }

    /// The download's media type.
    pub fn content_type(&self) -> &'static str {
        match self.format {
            _ if self.is_archive() => "application/zip",
            ExportFormat::Conll2003 | ExportFormat::Rttm => "text/plain; charset=utf-8",
            ExportFormat::Jsonl
            | ExportFormat::NemoAsr
            | ExportFormat::PreferenceJsonl
            | ExportFormat::RankingJsonl
            | ExportFormat::ChatJsonl => "application/x-ndjson",
            ExportFormat::Spacy => "application/octet-stream",
            _ => "application/json",
        }
    }

    /// A file name for the download.
    pub fn file_name(&self, project: ProjectId) -> String {
        let extension = match self.format {
            _ if self.is_archive() => "zip",
            ExportFormat::Conll2003 => "conll",
            ExportFormat::Rttm => "rttm",
            ExportFormat::Jsonl
            | ExportFormat::NemoAsr
            | ExportFormat::PreferenceJsonl
            | ExportFormat::RankingJsonl
            | ExportFormat::ChatJsonl => "jsonl",
            ExportFormat::Spacy => "spacy",
            _ => "json",
        };
        let format = match self.format {
            ExportFormat::Yolo(task) => format!("yolo-{}", task.name()),
            other => other.name().to_owned(),
        };
        format!("project-{}-{format}.{extension}", project.0)
    }
}

/// Where an export goes.
pub enum ExportTarget {
    /// One stream: the JSON document, or a zip for a multi-file export.
    Writer(Box<dyn Write + Send>),
    /// A folder (created if missing): the files of the export, unzipped.
    Folder(PathBuf),
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub tasks: u64,
    pub annotations: u64,
    /// Files written, for multi-file exports.
    pub files: Vec<String>,
    /// What the format could not hold as it was, one sentence each (the
    /// CoNLL export's widened and overlapping spans; the LLM exports' pairs
    /// by source, ties and unchanged rewrites left out).
    pub notes: Vec<String>,
}

/// One page of tasks with the media facts the writers need.
struct ExportPage {
    bundle: TaskBundlePage,
    media: HashMap<String, ProjectMediaRow>,
    /// The videos of the page's tasks by media key (for MOT and CVAT video).
    videos: HashMap<String, VideoInfo>,
}

impl Engine {
    /// Exports a project. Reviewers and managers may export; annotators may not.
    pub async fn export(
        &self,
        actor: &Actor,
        project: ProjectId,
        options: ExportOptions,
        target: ExportTarget,
    ) -> Result<ExportSummary> {
        let project = self
            .project_with_role(actor, project, ProjectRole::Reviewer, "export")
            .await?;
        let (config, _) = gloss_schema::parse(&project.label_config);
        let has_video = config
            .objects
            .iter()
            .any(|o| o.kind == gloss_schema::ObjectKind::Video);
        let mut options = options;
        if options.format == ExportFormat::Cvat && !has_video {
            options.format = ExportFormat::CvatImages;
        }
        let categories = match options.format {
            ExportFormat::Coco => coco_categories(&config)?,
            ExportFormat::Yolo(task) => {
                refuse_for_yolo(&config, task)?;
                coco_categories(&config)?
            }
            ExportFormat::Voc => {
                refuse_unheld(&config, "Pascal VOC", gloss_formats::VOC_RESULT_TYPES)?;
                export_categories(
                    &config,
                    &[
                        ControlKind::RectangleLabels,
                        ControlKind::PolygonLabels,
                        ControlKind::EllipseLabels,
                        ControlKind::BrushLabels,
                    ],
                )
            }
            ExportFormat::MaskPng => {
                refuse_unheld(
                    &config,
                    "mask-png",
                    &[
                        "rectanglelabels",
                        "polygonlabels",
                        "ellipselabels",
                        "brushlabels",
                    ],
                )?;
                coco_categories(&config)?
            }
            ExportFormat::CvatImages => {
                refuse_unheld(&config, "CVAT for images", gloss_formats::CVAT_RESULT_TYPES)?;
                export_categories(
                    &config,
                    &[
                        ControlKind::RectangleLabels,
                        ControlKind::PolygonLabels,
                        ControlKind::PolyLineLabels,
                        ControlKind::EllipseLabels,
                        ControlKind::BrushLabels,
                    ],
                )
            }
            ExportFormat::Json
            | ExportFormat::LabelStudio
            | ExportFormat::Jsonl
            | ExportFormat::Mot
            | ExportFormat::Cvat
            | ExportFormat::Conll2003
            | ExportFormat::Rttm
            | ExportFormat::WebVtt
            | ExportFormat::Srt
            | ExportFormat::NemoAsr
            | ExportFormat::PreferenceJsonl
            | ExportFormat::RankingJsonl
            | ExportFormat::Spacy
            | ExportFormat::ChatJsonl => Vec::new(),
        };
        let audio = match options.format.audio_format() {
            Some(format) => Some(audio_options(&config, options.format.name(), format)?),
            None => None,
        };
        let llm = match options.format {
            ExportFormat::PreferenceJsonl | ExportFormat::RankingJsonl => {
                Some(llm_options(&config, options.format.name())?)
            }
            _ => None,
        };
        let conll = match options.format {
            ExportFormat::Conll2003 => Some(conll_options(&config)?),
            _ => None,
        };
        let spacy = match options.format {
            ExportFormat::Spacy => Some(spacy_options(&config)?),
            _ => None,
        };
        let chat = match options.format {
            ExportFormat::ChatJsonl => Some(chat_options(&config)?),
            _ => None,
        };
        let voc = match options.format {
            ExportFormat::Voc => Some(
                gloss_formats::VocWriter::new(&categories, gloss_formats::VocCoordinates::Exact)
                    .map_err(|reason| Error::invalid("format", reason))?,
            ),
            _ => None,
        };
        let mask_png = match options.format {
            ExportFormat::MaskPng => Some(
                gloss_formats::MaskPngWriter::new(&categories)
                    .map_err(|reason| Error::invalid("format", reason))?,
            ),
            _ => None,
        };
        let cvat_labels = gloss_formats::CvatLabels {
            categories: categories.clone(),
            tags: config
                .controls
                .iter()
                .filter(|c| c.kind == ControlKind::Choices && !c.per_region)
                .flat_map(|c| c.labels.iter().map(|l| l.value.clone()))
                .collect(),
            attributes: cvat_attributes(&config),
        };
        let tracks = match options.format {
            ExportFormat::Mot => Some(track_writer(&config, TrackFormat::Mot)?),
            ExportFormat::Cvat => Some(track_writer(&config, TrackFormat::CvatVideo)?),
            _ => None,
        };
        let yolo_classes = match options.format {
            ExportFormat::Yolo(YoloTask::Classify) => {
                let choices = config
                    .controls
                    .iter()
                    .find(|c| c.kind == ControlKind::Choices);
                match choices {
                    Some(control) => YoloClasses::Choices {
                        control: control.name.clone(),
                        choices: control.labels.iter().map(|l| l.value.clone()).collect(),
                    },
                    None => YoloClasses::Categories(Vec::new()),
                }
            }
            _ => YoloClasses::Categories(categories.clone()),
        };
        let yolo = match options.format {
            ExportFormat::Yolo(task) => Some(
                YoloWriter::new(task, yolo_classes)
                    .map_err(|reason| Error::invalid("task", reason))?,
            ),
            _ => None,
        };
        let image_field = config
            .objects
            .iter()
            .find(|object| object.kind == gloss_schema::ObjectKind::Image)
            .map(|object| object.value.clone());
        let video = config
            .objects
            .iter()
            .find(|object| object.kind == gloss_schema::ObjectKind::Video);
        let video_field = video.map(|object| object.value.clone());
        // Image sequences play at the video's frameRate, as in the labeling screen.
        let sequence_rate = video
            .and_then(|object| object.attributes.get("frameRate"))
            .and_then(|rate| rate.trim().parse::<f64>().ok())
            .filter(|rate| rate.is_finite() && *rate > 0.0)
            .unwrap_or(DEFAULT_FRAME_RATE);
        let annotator = match &options.annotator {
            Some(name) => Some(
                self.store
                    .user_by_username(name)
                    .await
                    .map_err(|_| Error::invalid("annotator", format!("no user is named `{name}`")))?
                    .id,
            ),
            None => None,
        };

        let consensus = if options.annotations == ExportAnnotations::Consensus {
            self.consensus_model(&project).await?
        } else {
            crate::quality::ConsensusModel::default()
        };
        let (sender, receiver) = tokio::sync::mpsc::channel::<ExportPage>(2);
        let writer_options = WriterOptions {
            options: options.clone(),
            config: config.clone(),
            consensus,
            project_id: project.id.0,
            categories,
            image_field: image_field.clone(),
            video_field: video_field.clone(),
            annotator,
            has_masks: config
                .controls
                .iter()
                .any(|c| matches!(c.kind, ControlKind::Brush | ControlKind::BrushLabels)),
            yolo: std::sync::Mutex::new(yolo),
            tracks: std::sync::Mutex::new(tracks),
            voc: std::sync::Mutex::new(voc),
            mask_png: std::sync::Mutex::new(mask_png),
            cvat_labels,
            conll,
            audio: audio.clone(),
            llm,
            spacy,
            chat,
        };
        let media = self.media.clone();
        let runtime = tokio::runtime::Handle::current();
        let writer = tokio::task::spawn_blocking(move || {
            write_export(writer_options, receiver, target, &media, &runtime)
        });

        let mut reader = self.store.begin_task_read().await?;
        let mut after = 0;
        loop {
            let bundle = reader
                .page(project.id, after, PAGE_TASKS, &options.statuses)
                .await?;
            let Some(last) = bundle.tasks.last() else {
                break;
            };
            after = last.id.0;
            let media = match (&image_field, &audio) {
                (Some(field), _) if options.format.has_images() => {
                    self.page_media(project.id, &bundle, field).await?
                }
                // The speech formats name files by the sounds' file names.
                (_, Some(audio)) => {
                    self.page_media(project.id, &bundle, &audio.audio_field)
                        .await?
                }
                _ => HashMap::new(),
            };
            let videos = match &video_field {
                Some(field) if matches!(options.format, ExportFormat::Mot | ExportFormat::Cvat) => {
                    self.page_videos(project.id, &bundle, field, sequence_rate)
                        .await?
                }
                _ => HashMap::new(),
            };
            if sender
                .send(ExportPage {
                    bundle,
                    media,
                    videos,
                })
                .await
                .is_err()
            {
                // The writer stopped early; its error is reported below.
                break;
            }
        }
        reader.finish().await?;
        drop(sender);
        writer
            .await
            .map_err(|err| Error::internal(format!("the export writer stopped: {err}")))?
            .map_err(|err| Error::internal(format!("cannot write the export: {err}")))
    }

    /// The frame facts of the videos a page of tasks shows, by
    /// [`video_key`]: video files read from their frame index, image
    /// sequences from their first frame, at the config's `frameRate`.
    async fn page_videos(
        &self,
        project: ProjectId,
        bundle: &TaskBundlePage,
        field: &str,
        sequence_rate: f64,
    ) -> Result<HashMap<String, VideoInfo>> {
        let values = field_values(bundle, field);
        let rows = self.media_rows(project, media_keys(&values)).await?;
        let mut videos = HashMap::with_capacity(rows.len());
        for (task, value) in &values {
            let Some(Value::Array(frames)) = value else {
                continue;
            };
            let (Some(key), Some(row)) = (
                value.as_ref().and_then(video_key),
                first_frame_key(frames.as_slice()).and_then(|first| rows.get(first.as_str())),
            ) else {
                continue;
            };
            videos.insert(
                key,
                VideoInfo {
                    file_name: sequence_name(&row.file_name, task.0),
                    width: row
                        .media
                        .width
                        .and_then(|w| u32::try_from(w).ok())
                        .unwrap_or(0),
                    height: row
                        .media
                        .height
                        .and_then(|h| u32::try_from(h).ok())
                        .unwrap_or(0),
                    frames: frames.len() as u64,
                    frame_rate: sequence_rate,
                },
            );
        }
        for (key, row) in rows {
            let Ok(media_key) = gloss_media::MediaKey::parse(&key) else {
                continue;
            };
            if !row.media.content_type.starts_with("video/") {
                continue;
            }
            let frames = self
                .video_frames(&media_key, &row.media.content_type)
                .await?;
            let count = frames.timestamps.len() as u64;
            videos.insert(
                key,
                VideoInfo {
                    file_name: row.file_name.clone(),
                    width: frames.width,
                    height: frames.height,
                    frames: count,
                    frame_rate: if frames.duration > 0.0 {
                        count as f64 / frames.duration
                    } else {
                        25.0
                    },
                },
            );
        }
        Ok(videos)
    }

    async fn page_media(
        &self,
        project: ProjectId,
        bundle: &TaskBundlePage,
        field: &str,
    ) -> Result<HashMap<String, ProjectMediaRow>> {
        let values = field_values(bundle, field);
        self.media_rows(project, media_keys(&values)).await
    }

    /// The project's media rows of `keys`, by key.
    async fn media_rows(
        &self,
        project: ProjectId,
        keys: Vec<String>,
    ) -> Result<HashMap<String, ProjectMediaRow>> {
        let mut found = HashMap::new();
        for chunk in keys.chunks(500) {
            for row in self.store.project_media(project, chunk).await? {
                found.insert(row.media.key.clone(), row);
            }
        }
        Ok(found)
    }
}

struct WriterOptions {
    options: ExportOptions,
    /// The project's label config (consensus exports read it).
    config: gloss_schema::LabelConfig,
    /// How a consensus export weighs the annotators.
    consensus: crate::quality::ConsensusModel,
    project_id: i64,
    categories: Vec<ExportCategory>,
    image_field: Option<String>,
    video_field: Option<String>,
    annotator: Option<gloss_types::UserId>,
    /// Whether the label config draws masks (Label Studio exports rewrite them).
    has_masks: bool,
    /// The YOLO writer, taken by the one document of a YOLO export.
    yolo: std::sync::Mutex<Option<YoloWriter>>,
    /// The MOT or CVAT video writer, taken likewise.
    tracks: std::sync::Mutex<Option<TrackWriter>>,
    /// The Pascal VOC writer, taken likewise.
    voc: std::sync::Mutex<Option<gloss_formats::VocWriter>>,
    /// The mask-png writer, taken likewise.
    mask_png: std::sync::Mutex<Option<gloss_formats::MaskPngWriter>>,
    /// The labels a CVAT for images export declares.
    cvat_labels: gloss_formats::CvatLabels,
    /// The CoNLL writer's text field and Labels control.
    conll: Option<gloss_formats::ConllOptions>,
    /// The speech writers' sound and controls.
    audio: Option<gloss_formats::AudioExportOptions>,
    /// The LLM writers' prompt, responses and controls.
    llm: Option<gloss_formats::LlmOptions>,
    /// The spaCy writer's text field and controls.
    spacy: Option<gloss_formats::SpacyOptions>,
    /// The chat writer's `<Chat>`.
    chat: Option<gloss_formats::ChatOptions>,
}

/// One document of the export.
enum Document {
    Native(NativeWriter<Box<dyn Write + Send>>),
    LabelStudio(LabelStudioWriter<Box<dyn Write + Send>>),
    Coco(CocoWriter<Box<dyn Write + Send>>),
    /// A YOLO dataset: label files for every split, written to the export's
    /// files as tasks come.
    Yolo(YoloWriter),
    /// MOT or CVAT video: one sequence per video task, written likewise.
    Tracks(TrackWriter),
    /// Pascal VOC: files per image, written likewise.
    Voc(gloss_formats::VocWriter),
    /// mask-png: a PNG per image, written likewise.
    MaskPng(gloss_formats::MaskPngWriter),
    /// CVAT for images: one XML document.
    CvatImages(gloss_formats::CvatImageWriter<Box<dyn Write + Send>>),
    /// CoNLL-2003: one text document.
    Conll(gloss_formats::ConllWriter<Box<dyn Write + Send>>),
    /// RTTM and NeMo: one document; WebVTT and SRT: a file per sound.
    Audio(gloss_formats::AudioWriter<Box<dyn Write + Send>>),
    /// preference-jsonl or ranking-jsonl: one JSON Lines document.
    Llm(gloss_formats::LlmWriter<Box<dyn Write + Send>>),
    /// spaCy: one DocBin, written at the end.
    Spacy(gloss_formats::SpacyWriter<Box<dyn Write + Send>, std::fs::File>),
    /// chat-jsonl: one JSON Lines document.
    Chat(gloss_formats::ChatWriter<Box<dyn Write + Send>>),
}

impl Document {
    fn new(writer_options: &WriterOptions, out: Box<dyn Write + Send>) -> io::Result<Document> {
        let categories = &writer_options.categories;
        Ok(match writer_options.options.format {
            ExportFormat::Json => Document::Native(NativeWriter::new(out)?),
            ExportFormat::LabelStudio => Document::LabelStudio(LabelStudioWriter::new(out)?),
            ExportFormat::Jsonl => Document::LabelStudio(LabelStudioWriter::lines(out)),
            ExportFormat::Coco => {
                Document::Coco(CocoWriter::new(out, tempfile::tempfile()?, categories)?)
            }
            ExportFormat::Yolo(_) => Document::Yolo(take_writer(&writer_options.yolo)?),
            ExportFormat::Mot | ExportFormat::Cvat => {
                Document::Tracks(take_writer(&writer_options.tracks)?)
            }
            ExportFormat::Voc => Document::Voc(take_writer(&writer_options.voc)?),
            ExportFormat::MaskPng => Document::MaskPng(take_writer(&writer_options.mask_png)?),
            ExportFormat::CvatImages => Document::CvatImages(gloss_formats::CvatImageWriter::new(
                out,
                &writer_options.cvat_labels,
            )?),
            ExportFormat::Conll2003 => {
                let options = writer_options.conll.clone().ok_or_else(|| {
                    io::Error::other("a CoNLL export needs the text and its Labels control")
                })?;
                Document::Conll(gloss_formats::ConllWriter::new(out, options))
            }
            ExportFormat::Rttm
            | ExportFormat::WebVtt
            | ExportFormat::Srt
            | ExportFormat::NemoAsr => {
                let (Some(format), Some(options)) = (
                    writer_options.options.format.audio_format(),
                    writer_options.audio.clone(),
                ) else {
                    return Err(io::Error::other(
                        "a speech export needs the sound and its controls",
                    ));
                };
                Document::Audio(gloss_formats::AudioWriter::new(out, format, options))
            }
            format @ (ExportFormat::PreferenceJsonl | ExportFormat::RankingJsonl) => {
                let options = writer_options.llm.clone().ok_or_else(|| {
                    io::Error::other("an LLM export needs its prompt and responses")
                })?;
                let layout = if format == ExportFormat::PreferenceJsonl {
                    gloss_formats::LlmFormat::Preference
                } else {
                    gloss_formats::LlmFormat::Ranking
                };
                Document::Llm(gloss_formats::LlmWriter::new(out, layout, options))
            }
            ExportFormat::Spacy => {
                let options = writer_options.spacy.clone().ok_or_else(|| {
                    io::Error::other("a spaCy export needs the text and its controls")
                })?;
                Document::Spacy(gloss_formats::SpacyWriter::new(
                    out,
                    tempfile::tempfile()?,
                    options,
                ))
            }
            ExportFormat::ChatJsonl => {
                let options = writer_options.chat.clone().ok_or_else(|| {
                    io::Error::other("a chat export needs the label config's <Chat>")
                })?;
                Document::Chat(gloss_formats::ChatWriter::new(out, options))
            }
        })
    }

    /// Writes one task; returns where its image goes in the export, if the
    /// format includes images.
    fn write(
        &mut self,
        task: &ExportTask,
        native: &NativeTask,
        split: Option<Split>,
        files: &mut ExportFiles,
    ) -> io::Result<Option<String>> {
        match self {
            Document::Native(writer) => writer.write_task(native).map(|_| None),
            Document::LabelStudio(writer) => writer.write_task(task).map(|_| None),
            Document::Coco(writer) => {
                writer.write_task(task)?;
                Ok(task
                    .image
                    .as_ref()
                    .map(|i| format!("images/{}", i.file_name)))
            }
            Document::Yolo(writer) => writer.write_task(task, split, files),
            Document::Tracks(writer) => writer.write_task(task, files).map(|_| None),
            Document::Voc(writer) => writer.write_task(task, split, files),
            Document::MaskPng(writer) => writer.write_task(task, split, files),
            Document::CvatImages(writer) => writer.write_task(task),
            Document::Conll(writer) => writer.write_task(task).map(|_| None),
            Document::Audio(writer) => {
                let folder = split.map(|s| s.name());
                writer.write_task(task, folder, files).map(|_| None)
            }
            Document::Llm(writer) => writer.write_task(task).map(|_| None),
            Document::Spacy(writer) => writer.write_task(task).map(|_| None),
            Document::Chat(writer) => writer.write_task(task).map(|_| None),
        }
    }

    /// Ends the document; returns a note on what it could not hold, if anything.
    fn finish(self, files: &mut ExportFiles) -> io::Result<Option<String>> {
        let done = match self {
            Document::Native(writer) => writer.finish()?.flush(),
            Document::LabelStudio(writer) => writer.finish()?.flush(),
            Document::Coco(writer) => {
                writer.finish()?;
                Ok(())
            }
            Document::Yolo(writer) => {
                writer.finish(files)?;
                Ok(())
            }
            Document::Tracks(writer) => {
                writer.finish();
                Ok(())
            }
            Document::Voc(writer) => {
                writer.finish(files)?;
                Ok(())
            }
            Document::MaskPng(writer) => {
                writer.finish(files)?;
                Ok(())
            }
            Document::CvatImages(writer) => {
                writer.finish()?;
                Ok(())
            }
            Document::Conll(writer) => {
                let (mut out, summary) = writer.finish()?;
                out.flush()?;
                return Ok(conll_note(&summary));
            }
            Document::Audio(writer) => {
                let (mut out, summary) = writer.finish()?;
                out.flush()?;
                return Ok(audio_note(&summary));
            }
            Document::Llm(writer) => {
                let preference = writer.format() == gloss_formats::LlmFormat::Preference;
                let (mut out, summary) = writer.finish()?;
                out.flush()?;
                return Ok(Some(summary.note(preference)));
            }
            Document::Spacy(writer) => {
                let (mut out, summary) = writer.finish()?;
                out.flush()?;
                return Ok(spacy_note(&summary));
            }
            Document::Chat(writer) => {
                let (mut out, _) = writer.finish()?;
                out.flush()
            }
        };
        done.map(|()| None)
    }

    /// Whether the document is a file of its own (JSON), rather than files
    /// written straight to the export (YOLO).
    fn is_single_file(format: ExportFormat) -> bool {
        !format.is_dataset()
    }
}

/// Where a multi-file export's files go as they are written: its folder,
/// or the zip being built (in a temporary file, as a zip needs to seek).
enum ExportFiles {
    Folder(PathBuf),
    // Boxed: a zip writer keeps an 8 KiB buffer inline.
    Zip(Box<zip::ZipWriter<std::fs::File>>),
    /// A single-document export: nothing is written here.
    None,
}

impl FileSink for ExportFiles {
    fn put(&mut self, path: &str, bytes: &[u8]) -> io::Result<()> {
        if !gloss_formats::is_safe_relative_path(path) {
            return Err(io::Error::other(format!(
                "refusing to write `{path}` outside the export"
            )));
        }
        match self {
            ExportFiles::Folder(folder) => {
                let target = folder.join(path);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(target, bytes)
            }
            ExportFiles::Zip(zip) => {
                let deflated = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .large_file(true);
                zip.start_file(path, deflated).map_err(io::Error::other)?;
                zip.write_all(bytes)
            }
            ExportFiles::None => Err(io::Error::other(
                "this export is one document and has no other files",
            )),
        }
    }
}

/// The blocking half of an export: converts pages and writes documents.
fn write_export(
    writer_options: WriterOptions,
    mut pages: tokio::sync::mpsc::Receiver<ExportPage>,
    target: ExportTarget,
    media: &gloss_media::MediaStore,
    runtime: &tokio::runtime::Handle,
) -> io::Result<ExportSummary> {
    let options = &writer_options.options;
    let extension = "json";
    let document_name = |split: Option<Split>| match (split, options.format) {
        (None, ExportFormat::Coco) => format!("annotations.{extension}"),
        (None, ExportFormat::CvatImages) => "annotations.xml".to_owned(),
        (Some(split), ExportFormat::CvatImages) => format!("{}.xml", split.name()),
        (None, ExportFormat::Conll2003) => "annotations.conll".to_owned(),
        (Some(split), ExportFormat::Conll2003) => format!("{}.conll", split.name()),
        (None, ExportFormat::Jsonl) => "tasks.jsonl".to_owned(),
        (Some(split), ExportFormat::Jsonl) => format!("{}.jsonl", split.name()),
        (None, ExportFormat::Rttm) => "annotations.rttm".to_owned(),
        (Some(split), ExportFormat::Rttm) => format!("{}.rttm", split.name()),
        (None, ExportFormat::NemoAsr) => "manifest.jsonl".to_owned(),
        (Some(split), ExportFormat::NemoAsr) => format!("{}.jsonl", split.name()),
        (None, ExportFormat::PreferenceJsonl) => "preference.jsonl".to_owned(),
        (None, ExportFormat::RankingJsonl) => "ranking.jsonl".to_owned(),
        (Some(split), ExportFormat::PreferenceJsonl | ExportFormat::RankingJsonl) => {
            format!("{}.jsonl", split.name())
        }
        (None, ExportFormat::Spacy) => "annotations.spacy".to_owned(),
        (Some(split), ExportFormat::Spacy) => format!("{}.spacy", split.name()),
        (None, ExportFormat::ChatJsonl) => "conversations.jsonl".to_owned(),
        (Some(split), ExportFormat::ChatJsonl) => format!("{}.jsonl", split.name()),
        (None, _) => format!("tasks.{extension}"),
        (Some(split), _) => format!("{}.{extension}", split.name()),
    };
    let single_file = Document::is_single_file(options.format);
    // A YOLO export is one document over every split; the others have one
    // document per split.
    let splits: Vec<Option<Split>> = match options.split {
        Some(_) if single_file => vec![
            Some(Split::Train),
            Some(Split::Validation),
            Some(Split::Test),
        ],
        _ => vec![None],
    };
    let archive = options.is_archive();
    let mut target_writer = None;
    let mut files = match target {
        ExportTarget::Folder(path) => {
            std::fs::create_dir_all(&path)?;
            ExportFiles::Folder(path)
        }
        ExportTarget::Writer(writer) => {
            target_writer = Some(writer);
            if archive {
                ExportFiles::Zip(Box::new(zip::ZipWriter::new(tempfile::tempfile()?)))
            } else {
                ExportFiles::None
            }
        }
    };
    // Documents go straight to the target when it is one stream; otherwise to
    // files in the folder, or to spool files that are zipped at the end.
    let mut spools: Vec<(String, std::fs::File)> = Vec::new();
    let mut documents: Vec<(Option<Split>, Document)> = Vec::new();
    for split in &splits {
        let name = document_name(*split);
        let out: Box<dyn Write + Send> = match &files {
            _ if !single_file => Box::new(io::sink()),
            ExportFiles::Folder(folder) => Box::new(BufWriter::with_capacity(
                256 * 1024,
                std::fs::File::create(folder.join(&name))?,
            )),
            ExportFiles::None => Box::new(BufWriter::with_capacity(
                256 * 1024,
                target_writer.take().expect("one document for one stream"),
            )),
            ExportFiles::Zip(_) => {
                let spool = tempfile::tempfile()?;
                spools.push((name.clone(), spool.try_clone()?));
                Box::new(BufWriter::with_capacity(256 * 1024, spool))
            }
        };
        documents.push((*split, Document::new(&writer_options, out)?));
    }

    // Images to copy, spooled as lines of "key path" so that memory stays flat.
    let mut image_list = if options.format.has_images() && options.images {
        Some(BufWriter::new(tempfile::tempfile()?))
    } else {
        None
    };
    let mut summary = ExportSummary::default();
    // Pages are converted (stored JSON parsed into records) on a thread of
    // their own while the previous page is written here, so that an export
    // keeps both of a small machine's cores busy.
    let (converted_pages, converted) = std::sync::mpsc::sync_channel(2);
    let converter_options = &writer_options;
    let written = std::thread::scope(|scope| -> io::Result<()> {
        let converter = scope.spawn(move || -> io::Result<()> {
            let mut image_names = ImageNames::default();
            while let Some(page) = pages.blocking_recv() {
                let page = convert_page(converter_options, page, &mut image_names)?;
                if converted_pages.send(page).is_err() {
                    // The writer stopped; its error is reported.
                    break;
                }
            }
            Ok(())
        });
        let written = write_pages(
            &writer_options,
            converted,
            &mut documents,
            &mut files,
            image_list.as_mut(),
            &mut summary,
        );
        let converted = converter
            .join()
            .map_err(|_| io::Error::other("the export converter stopped"))?;
        written.and(converted)
    });
    written?;
    for (_, document) in documents {
        summary.notes.extend(document.finish(&mut files)?);
    }
    if single_file {
        summary.files = splits.iter().map(|split| document_name(*split)).collect();
    }

    let images = match image_list {
        Some(list) => {
            let mut file = list.into_inner().map_err(|err| err.into_error())?;
            file.rewind()?;
            Some(file)
        }
        None => None,
    };
    match files {
        ExportFiles::Folder(folder) => {
            if let Some(images) = images {
                for_each_image(images, |key, path| {
                    let bytes = read_media(media, runtime, key)?;
                    let target = folder.join(path);
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(target, bytes)?;
                    summary.files.push(path.to_owned());
                    Ok(())
                })?;
            }
        }
        ExportFiles::Zip(zip) => {
            let out = target_writer.expect("an archive goes to the stream");
            write_zip(*zip, out, spools, images, media, runtime, &mut summary)?;
        }
        ExportFiles::None => {}
    }
    Ok(summary)
}

/// Writes converted pages to their documents (by split), noting the images
/// to copy and counting what was written.
fn write_pages(
    writer_options: &WriterOptions,
    pages: std::sync::mpsc::Receiver<Vec<(ExportTask, NativeTask)>>,
    documents: &mut [(Option<Split>, Document)],
    files: &mut ExportFiles,
    mut image_list: Option<&mut BufWriter<std::fs::File>>,
    summary: &mut ExportSummary,
) -> io::Result<()> {
    let options = &writer_options.options;
    // Each image is copied once per place, however many tasks show it.
    let mut listed = std::collections::HashSet::new();
    for page in pages {
        for (task, native) in page {
            let split = options
                .split
                .as_ref()
                .map(|(ratios, seed)| gloss_formats::split_of(*seed, task.id, ratios));
            summary.tasks += 1;
            summary.annotations += native.annotations as u64;
            let document = documents
                .iter_mut()
                .find(|(s, _)| *s == split || s.is_none())
                .map(|(_, document)| document)
                .expect("a document for every split");
            let image_path = document.write(&task, &native, split, files)?;
            if let (Some(list), Some(path), Some(key)) =
                (image_list.as_mut(), image_path, native.media_key.as_deref())
            {
                if listed.insert((key.to_string(), path.clone())) {
                    writeln!(list, "{key} {path}")?;
                }
            }
        }
    }
    Ok(())
}

fn write_zip(
    mut zip: zip::ZipWriter<std::fs::File>,
    out: Box<dyn Write + Send>,
    spools: Vec<(String, std::fs::File)>,
    images: Option<std::fs::File>,
    media: &gloss_media::MediaStore,
    runtime: &tokio::runtime::Handle,
    summary: &mut ExportSummary,
) -> io::Result<()> {
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (name, mut spool) in spools {
        spool.rewind()?;
        zip.start_file(name, deflated).map_err(io::Error::other)?;
        io::copy(&mut spool, &mut zip)?;
    }
    if let Some(images) = images {
        for_each_image(images, |key, path| {
            let bytes = read_media(media, runtime, key)?;
            // Images are compressed already.
            zip.start_file(path, stored).map_err(io::Error::other)?;
            zip.write_all(&bytes)?;
            summary.files.push(path.to_owned());
            Ok(())
        })?;
    }
    let mut file = zip.finish().map_err(io::Error::other)?;
    file.rewind()?;
    let mut out = out;
    io::copy(&mut file, &mut out)?;
    out.flush()
}

fn for_each_image(
    list: std::fs::File,
    mut each: impl FnMut(&str, &str) -> io::Result<()>,
) -> io::Result<()> {
    use std::io::BufRead;
    for line in io::BufReader::new(list).lines() {
        let line = line?;
        if let Some((key, name)) = line.split_once(' ') {
            each(key, name)?;
        }
    }
    Ok(())
}

fn read_media(
    media: &gloss_media::MediaStore,
    runtime: &tokio::runtime::Handle,
    key: &str,
) -> io::Result<bytes::Bytes> {
    let key = gloss_media::MediaKey::parse(key).map_err(io::Error::other)?;
    runtime.block_on(media.get(&key)).map_err(io::Error::other)
}

/// File names of exported images: the name each had when imported, made
/// unique when two different images share one.
#[derive(Default)]
struct ImageNames {
    /// Media key → chosen name.
    by_key: HashMap<String, String>,
    /// Chosen names.
    taken: std::collections::HashSet<String>,
}

impl ImageNames {
    fn name_for(&mut self, key: &str, wanted: &str) -> String {
        if let Some(name) = self.by_key.get(key) {
            return name.clone();
        }
        // Only the last path segment: a name never becomes a path.
        let wanted = wanted.rsplit(['/', '\\']).next().unwrap_or(wanted);
        let wanted = if wanted.is_empty() || wanted == "." || wanted == ".." {
            key
        } else {
            wanted
        };
        let name = if self.taken.contains(wanted) {
            match wanted.rsplit_once('.') {
                Some((stem, extension)) => format!("{stem}-{}.{extension}", &key[..12]),
                None => format!("{wanted}-{}", &key[..12]),
            }
        } else {
            wanted.to_string()
        };
        self.taken.insert(name.clone());
        self.by_key.insert(key.to_string(), name.clone());
        name
    }
}

/// What the native writer and the summary need beyond the formats crate's task.
struct NativeTask {
    /// The task in Gloss's own format, serialized (empty for other formats).
    json: Vec<u8>,
    media_key: Option<String>,
    /// Annotations written for the task.
    annotations: usize,
}

fn convert_page(
    writer_options: &WriterOptions,
    page: ExportPage,
    image_names: &mut ImageNames,
) -> io::Result<Vec<(ExportTask, NativeTask)>> {
    let options = &writer_options.options;
    let ExportPage {
        bundle,
        media,
        videos,
    } = page;
    let mut annotations = group(bundle.annotations, |row| row.task_id.0);
    let mut predictions = group(bundle.predictions, |row| row.task_id.0);
    let mut drafts = group(bundle.drafts, |row| row.task_id.0);
    let mut converted = Vec::with_capacity(bundle.tasks.len());
    for row in bundle.tasks {
        let data: Map<String, Value> = parse_json(&row.data, "tasks.data")?;
        let meta: Map<String, Value> = match &row.meta {
            Some(meta) => parse_json(meta, "tasks.meta")?,
            None => Map::new(),
        };
        let mut task_annotations = annotations.remove(&row.id.0).unwrap_or_default();
        if let Some(annotator) = writer_options.annotator {
            task_annotations.retain(|a| a.completed_by == Some(annotator));
            if task_annotations.is_empty() {
                continue;
            }
        }
        if options.annotations == ExportAnnotations::Reviewed {
            task_annotations.retain(|a| a.review_state == ReviewState::Accepted.as_str());
            if task_annotations.is_empty() {
                continue;
            }
        }
        if options.annotations == ExportAnnotations::Consensus {
            match consensus_row(
                &writer_options.config,
                &writer_options.consensus,
                &row,
                &data,
                &task_annotations,
            )? {
                Some(consensus) => task_annotations = vec![consensus],
                None => continue,
            }
        }
        if options.format == ExportFormat::Json {
            // Gloss's own format copies the stored JSON documents as they
            // are; results are parsed only when a label filter needs them.
            if let Some(label) = &options.label {
                let mut uses_label = false;
                for annotation in task_annotations.iter().filter(|a| !a.was_cancelled) {
                    let result: Vec<ResultItem> =
                        parse_json(&annotation.result, "annotations.result")?;
                    uses_label |= result.iter().any(|item| item_has_label(item, label));
                }
                if !uses_label {
                    continue;
                }
            }
            let task_predictions = predictions.remove(&row.id.0).unwrap_or_default();
            let task_drafts = drafts.remove(&row.id.0).unwrap_or_default();
            let json = native_task(&row, &task_annotations, &task_predictions, &task_drafts)?;
            let task = ExportTask {
                id: row.id.0,
                ..ExportTask::default()
            };
            converted.push((
                task,
                NativeTask {
                    json,
                    media_key: None,
                    annotations: task_annotations.len(),
                },
            ));
            continue;
        }
        // Label Studio's format writes results as stored (see
        // `StoredResult`); COCO and the label filter need them parsed.
        let label_studio = matches!(
            options.format,
            ExportFormat::LabelStudio | ExportFormat::Jsonl
        );
        let rewrite_masks = label_studio && writer_options.has_masks;
        let parse_results = !label_studio || options.label.is_some() || rewrite_masks;
        let mut annotation_records = task_annotations
            .iter()
            .map(|row| annotation_record(row, parse_results))
            .collect::<io::Result<Vec<_>>>()?;
        if let Some(label) = &options.label {
            let uses_label = annotation_records
                .iter()
                .filter(|a| !a.was_cancelled)
                .any(|a| a.result.iter().any(|item| item_has_label(item, label)));
            if !uses_label {
                continue;
            }
        }
        let task_predictions = predictions.remove(&row.id.0).unwrap_or_default();
        let task_drafts = drafts.remove(&row.id.0).unwrap_or_default();
        let mut draft_records = task_drafts
            .iter()
            .map(draft_record)
            .collect::<io::Result<Vec<_>>>()?;
        let mut prediction_records = task_predictions
            .into_iter()
            .map(prediction_record)
            .collect::<io::Result<Vec<_>>>()?;
        if rewrite_masks {
            for record in &mut annotation_records {
                masks_for_label_studio(&mut record.result);
            }
            for draft in &mut draft_records {
                masks_for_label_studio(&mut draft.result);
            }
            for prediction in &mut prediction_records {
                if let Some(StoredResult(text)) = prediction.stored_result.take() {
                    prediction.record.result = parse_json(&text, "predictions.result")?;
                }
                masks_for_label_studio(&mut prediction.record.result);
            }
        }

        let media_key = writer_options
            .image_field
            .as_ref()
            .and_then(|field| data.get(field))
            .and_then(Value::as_str)
            .and_then(media_key_of)
            .map(|key| key.as_str().to_string());
        let video = writer_options
            .video_field
            .as_ref()
            .and_then(|field| data.get(field))
            .and_then(video_key)
            .and_then(|key| videos.get(&key))
            .cloned();
        // The speech formats' page media are the sounds (see `export`).
        let audio_name = writer_options.audio.as_ref().and_then(|audio| {
            let key = data
                .get(&audio.audio_field)?
                .as_str()
                .and_then(media_key_of)?;
            Some(media.get(key.as_str())?.file_name.clone())
        });
        let image = if options.format.has_images() {
            image_info(
                writer_options,
                &data,
                media_key.as_deref(),
                &media,
                &annotation_records,
                image_names,
            )
        } else {
            None
        };

        let task = ExportTask {
            id: row.id.0,
            project_id: writer_options.project_id,
            data,
            meta,
            created_at: row.created_at,
            updated_at: row.updated_at,
            annotations: task_annotations
                .into_iter()
                .zip(annotation_records)
                .map(|(row, mut record)| {
                    if let Some(user) = row.completed_by {
                        record.completed_by = Some(match options.format {
                            // Conversations name their annotator.
                            ExportFormat::ChatJsonl => person(Some(user), &row.username, None),
                            _ => Value::from(user.0),
                        });
                    }
                    // The LLM exports name the annotator.
                    if writer_options.llm.is_some() {
                        if let Some(name) = &row.username {
                            record.completed_by = Some(Value::String(name.clone()));
                        }
                    }
                    ExportAnnotation {
                        id: row.id.0,
                        record,
                        stored_result: (!parse_results).then_some(StoredResult(row.result)),
                    }
                })
                .collect(),
            predictions: prediction_records,
            drafts: draft_records,
            image,
            video,
            audio_name,
        };
        let annotations = task.annotations.len();
        converted.push((
            task,
            NativeTask {
                json: Vec::new(),
                media_key,
                annotations,
            },
        ));
    }
    Ok(converted)
}

fn image_info(
    writer_options: &WriterOptions,
    data: &Map<String, Value>,
    media_key: Option<&str>,
    media: &HashMap<String, ProjectMediaRow>,
    annotations: &[AnnotationRecord],
    image_names: &mut ImageNames,
) -> Option<ImageInfo> {
    if let Some(row) = media_key.and_then(|key| media.get(key)) {
        if let (Some(width), Some(height)) = (row.media.width, row.media.height) {
            return Some(ImageInfo {
                file_name: image_names.name_for(&row.media.key, &row.file_name),
                width: width as u32,
                height: height as u32,
            });
        }
    }
    // An image Gloss did not store (a URL): its size as the results recorded it.
    let reference = data.get(writer_options.image_field.as_deref()?)?.as_str()?;
    let (width, height) = annotations
        .iter()
        .flat_map(|a| &a.result)
        .find_map(|item| Some((item.original_width?, item.original_height?)))?;
    let file_name = reference
        .split(['?', '#'])
        .next()
        .unwrap_or(reference)
        .rsplit('/')
        .next()
        .unwrap_or(reference)
        .to_string();
    Some(ImageInfo {
        file_name,
        width,
        height,
    })
}

/// The one writer of a dataset export, taken by its one document.
fn take_writer<T>(slot: &std::sync::Mutex<Option<T>>) -> io::Result<T> {
    slot.lock()
        .map_err(|_| io::Error::other("the export writer was poisoned"))?
        .take()
        .ok_or_else(|| io::Error::other("a dataset export has one document"))
}

/// The MOT or CVAT video writer of a config with a `<Video>`: its classes
/// are the labels of the video's `<Labels>` control.
fn track_writer(config: &gloss_schema::LabelConfig, format: TrackFormat) -> Result<TrackWriter> {
    let name = match format {
        TrackFormat::Mot => "MOT",
        TrackFormat::CvatVideo => "CVAT",
    };
    let Some(video) = config
        .objects
        .iter()
        .find(|o| o.kind == gloss_schema::ObjectKind::Video)
    else {
        return Err(Error::invalid(
            "format",
            format!(
                "{name} here holds the box tracks of videos, and the label config has no <Video>; \
                 export images as coco, yolo or label-studio"
            ),
        ));
    };
    let labels = config
        .controls
        .iter()
        .find(|c| c.kind == ControlKind::Labels && c.to_names.contains(&video.name))
        .map(|c| c.labels.iter().map(|l| l.value.clone()).collect::<Vec<_>>())
        .unwrap_or_default();
    if labels.is_empty() {
        return Err(Error::invalid(
            "format",
            format!("{name} needs the track labels: a <Labels> control on the video"),
        ));
    }
    if format == TrackFormat::Mot {
        let refused = refused_controls(config, |kind| {
            matches!(
                kind,
                ControlKind::VideoPolygon
                    | ControlKind::VideoPolyLine
                    | ControlKind::VideoKeyPointLabels
                    | ControlKind::VideoBrush
            )
        });
        if !refused.is_empty() {
            return Err(Error::invalid(
                "format",
                format!(
                    "MOT holds box tracks only, so it cannot hold the tracks of {}; export as cvat (CVAT for video holds them), json or label-studio",
                    refused.join(", ")
                ),
            ));
        }
    }
    let writer = TrackWriter::new(format, labels);
    // CVAT declares the joints of the video's skeleton tracks.
    let skeleton = config
        .controls
        .iter()
        .find(|c| c.kind == ControlKind::VideoKeyPointLabels);
    Ok(match skeleton {
        Some(control) => writer.with_skeleton(
            control.labels.iter().map(|l| l.value.clone()).collect(),
            control
                .skeleton
                .as_ref()
                .map(|s| s.edges.clone())
                .unwrap_or_default(),
        ),
        None => writer,
    })
}

/// What the LLM exports read: the prompt (the first `<Chat>`, else the
/// first `<Text>` no `Pairwise` compares), the responses (the pair of the
/// first `Pairwise`, else the `<List>` of the first `Ranker`, else the first
/// `<List>`), the `Ranker`s on that list, and the rewrites: `TextArea`s
/// prefilled from the response they annotate (`value="$key"` naming the
/// data key of their `<Text>`, or of their `<List>` with `perItem`).
/// What the LLM formats (`name`, for errors) read and write, from the
/// label config: the prompt, the responses (a `Pairwise`'s two objects or a
/// `List`), its rankers and the rewrite `TextArea`s.
pub(crate) fn llm_options(
    config: &gloss_schema::LabelConfig,
    name: &str,
) -> Result<gloss_formats::LlmOptions> {
    use gloss_formats::{Responses, RewriteTarget};
    use gloss_schema::ObjectKind;
    let pairwise = config
        .controls
        .iter()
        .find(|c| c.kind == ControlKind::Pairwise && c.to_names.len() == 2);
    let pair_objects: Vec<&gloss_schema::ObjectTag> = pairwise
        .map(|c| c.to_names.iter().filter_map(|n| config.object(n)).collect())
        .unwrap_or_default();
    let list = config
        .controls
        .iter()
        .find(|c| c.kind == ControlKind::Ranker)
        .and_then(|c| c.to_names.first())
        .and_then(|n| config.object(n))
        .filter(|o| o.kind == ObjectKind::List)
        .or_else(|| config.objects.iter().find(|o| o.kind == ObjectKind::List));
    let responses = match (pairwise, pair_objects.as_slice(), list) {
        (Some(control), [left, right], _) => Some(Responses::Pair {
            control: control.name.clone(),
            left: (left.name.clone(), left.value.clone()),
            right: (right.name.clone(), right.value.clone()),
        }),
        (_, _, Some(list)) => Some(Responses::List {
            object: list.name.clone(),
            key: list.value.clone(),
        }),
        _ => None,
    };
    let Some(responses) = responses else {
        return Err(Error::invalid(
            "format",
            format!(
                "{name} holds LLM responses: the label config needs a <Pairwise> comparing two objects or a <List> of responses"
            ),
        ));
    };
    let response_names: Vec<&str> = match &responses {
        Responses::Pair { left, right, .. } => vec![left.0.as_str(), right.0.as_str()],
        Responses::List { object, .. } => vec![object.as_str()],
    };
    let prompt = config
        .objects
        .iter()
        .find(|o| o.kind == ObjectKind::Chat)
        .or_else(|| {
            config
                .objects
                .iter()
                .find(|o| o.kind == ObjectKind::Text && !response_names.contains(&o.name.as_str()))
        })
        .map(|o| o.value.clone());
    let rankers = match &responses {
        Responses::List { object, .. } => config
            .controls
            .iter()
            .filter(|c| c.kind == ControlKind::Ranker && c.to_names.contains(object))
            .map(|c| {
                (
                    c.name.clone(),
                    c.buckets.iter().map(|b| b.name.clone()).collect(),
                )
            })
            .collect(),
        Responses::Pair { .. } => Vec::new(),
    };
    let rewrites = config
        .controls
        .iter()
        .filter(|c| c.kind == ControlKind::TextArea)
        .filter_map(|c| {
            let prefill = c.attributes.get("value")?.strip_prefix('$')?;
            let object = config.object(c.to_names.first()?)?;
            if object.value != prefill || !response_names.contains(&object.name.as_str()) {
                return None;
            }
            let target = if object.kind == ObjectKind::List {
                c.per_item().then_some(RewriteTarget::ListItems)?
            } else {
                RewriteTarget::Object(object.name.clone())
            };
            Some((c.name.clone(), target))
        })
        .collect();
    Ok(gloss_formats::LlmOptions {
        prompt,
        responses: Some(responses),
        rankers,
        rewrites,
    })
}

/// What a token-based export (CoNLL, spaCy) did to spans: how many it
/// left out for overlapping (`why` they cannot) and how many it widened.
fn span_notes(overlapping: u64, widened: u64, why: &str) -> Vec<String> {
    let mut parts = Vec::new();
    if overlapping > 0 {
        parts.push(format!(
            "{overlapping} spans overlapped a span written before them and were left out ({why})"
        ));
    }
    if widened > 0 {
        parts.push(format!(
            "{widened} spans started or ended inside a token and were widened to whole tokens"
        ));
    }
    parts
}

/// The CoNLL export's note on spans it widened or left out, if any.
fn conll_note(summary: &gloss_formats::ConllSummary) -> Option<String> {
    let parts = span_notes(
        summary.overlapping,
        summary.widened,
        "IOB2 cannot nest spans",
    );
    (!parts.is_empty()).then(|| format!("CoNLL-2003: {}", parts.join("; ")))
}

/// The spaCy export's note on spans it widened or left out, if any.
fn spacy_note(summary: &gloss_formats::SpacySummary) -> Option<String> {
    let mut parts = span_notes(
        summary.overlapping,
        summary.widened,
        "doc.ents cannot overlap",
    );
    if summary.skipped > 0 {
        parts.push(format!(
            "{} tasks without text were left out",
            summary.skipped
        ));
    }
    (!parts.is_empty()).then(|| format!("spaCy: {}", parts.join("; ")))
}

/// What a chat export reads: the first `<Chat>`.
pub(crate) fn chat_options(
    config: &gloss_schema::LabelConfig,
) -> Result<gloss_formats::ChatOptions> {
    let chat = config
        .objects
        .iter()
        .find(|o| o.kind == gloss_schema::ObjectKind::Chat)
        .ok_or_else(|| {
            Error::invalid(
                "format",
                "chat-jsonl holds chats, and the label config has no <Chat>",
            )
        })?;
    Ok(gloss_formats::ChatOptions {
        chat: chat.name.clone(),
        messages_field: chat.value.clone(),
    })
}

/// What a speech export left out, for the export's notes.
fn audio_note(summary: &gloss_formats::AudioSummary) -> Option<String> {
    (summary.left_out > 0).then(|| {
        format!(
            "{} segments were left out: RTTM needs a label (a speaker), subtitles and NeMo a transcript",
            summary.left_out
        )
    })
}

/// What a speech export writes: the first `<Audio>`, the `Labels` control on
/// it (RTTM needs one) and its transcripts: a per-region `TextArea` on it
/// (WebVTT, SRT and NeMo need one; NeMo also takes a whole-file one).
fn audio_options(
    config: &gloss_schema::LabelConfig,
    name: &str,
    format: gloss_formats::AudioFormat,
) -> Result<gloss_formats::AudioExportOptions> {
    use gloss_formats::AudioFormat;
    let Some(audio) = config
        .objects
        .iter()
        .find(|o| o.kind == gloss_schema::ObjectKind::Audio)
    else {
        return Err(Error::invalid(
            "format",
            format!("{name} holds segments of sound, and the label config has no <Audio>"),
        ));
    };
    let on_audio = |kind: ControlKind, per_region: bool| {
        config
            .controls
            .iter()
            .find(|c| {
                c.kind == kind && c.to_names.contains(&audio.name) && c.per_region == per_region
            })
            .map(|c| c.name.clone())
    };
    let labels_control = config
        .controls
        .iter()
        .find(|c| c.kind == ControlKind::Labels && c.to_names.contains(&audio.name))
        .map(|c| c.name.clone());
    let transcript_control = on_audio(ControlKind::TextArea, true);
    let file_transcript_control = on_audio(ControlKind::TextArea, false);
    if format == AudioFormat::Rttm && labels_control.is_none() {
        return Err(Error::invalid(
            "format",
            format!(
                "rttm holds speakers: the segments of a <Labels> control on <Audio name=\"{}\">, and the label config has none",
                audio.name
            ),
        ));
    }
    let transcribed = transcript_control.is_some()
        || (format == AudioFormat::NemoAsr && file_transcript_control.is_some());
    if format != AudioFormat::Rttm && !transcribed {
        return Err(Error::invalid(
            "format",
            format!(
                "{name} holds transcripts: a <TextArea perRegion=\"true\"> on <Audio name=\"{}\">, and the label config has none",
                audio.name
            ),
        ));
    }
    Ok(gloss_formats::AudioExportOptions {
        audio_field: audio.value.clone(),
        audio_object: audio.name.clone(),
        labels_control,
        transcript_control,
        file_transcript_control,
    })
}

/// What a CoNLL-2003 export writes: the first `<Text>` and the `Labels`
/// control on it. A config without them, or with other region controls on
/// the text whose results CoNLL cannot hold, is refused by name.
fn conll_options(config: &gloss_schema::LabelConfig) -> Result<gloss_formats::ConllOptions> {
    let Some(text) = config
        .objects
        .iter()
        .find(|o| o.kind == gloss_schema::ObjectKind::Text)
    else {
        return Err(Error::invalid(
            "format",
            "conll2003 holds named entities in text, and the label config has no <Text>",
        ));
    };
    let Some(labels) = config
        .controls
        .iter()
        .find(|c| c.kind == ControlKind::Labels && c.to_names.contains(&text.name))
    else {
        return Err(Error::invalid(
            "format",
            format!(
                "conll2003 holds the spans of a <Labels> control on <Text name=\"{}\">, and the label config has none",
                text.name
            ),
        ));
    };
    Ok(gloss_formats::ConllOptions {
        text_field: text.value.clone(),
        labels_control: labels.name.clone(),
    })
}

/// What a spaCy export writes: the first `<Text>`, the `Labels` control on
/// it (the entities) and its document-level `Choices` controls (the cats).
/// A config without a `<Text>`, or with neither control on it, is refused.
fn spacy_options(config: &gloss_schema::LabelConfig) -> Result<gloss_formats::SpacyOptions> {
    let Some(text) = config
        .objects
        .iter()
        .find(|o| o.kind == gloss_schema::ObjectKind::Text)
    else {
        return Err(Error::invalid(
            "format",
            "spacy holds entities and classes of text, and the label config has no <Text>",
        ));
    };
    let labels_control = config
        .controls
        .iter()
        .find(|c| c.kind == ControlKind::Labels && c.to_names.contains(&text.name))
        .map(|c| c.name.clone());
    let choices: Vec<gloss_formats::SpacyChoices> = config
        .controls
        .iter()
        .filter(|c| {
            c.kind == ControlKind::Choices && !c.per_region && c.to_names.contains(&text.name)
        })
        .map(|c| gloss_formats::SpacyChoices {
            from_name: c.name.clone(),
            to_name: text.name.clone(),
            choices: c.labels.iter().map(|l| l.value.clone()).collect(),
        })
        .collect();
    if labels_control.is_none() && choices.is_empty() {
        return Err(Error::invalid(
            "format",
            format!(
                "spacy holds the spans of a <Labels> control and the classes of a <Choices> control on <Text name=\"{}\">, and the label config has neither",
                text.name
            ),
        ));
    }
    Ok(gloss_formats::SpacyOptions {
        text_field: text.value.clone(),
        labels_control,
        choices,
    })
}

/// Refuses a YOLO export of a config with region controls the task cannot
/// hold, naming them, rather than leaving their results out unnoticed.
fn refuse_for_yolo(config: &gloss_schema::LabelConfig, task: YoloTask) -> Result<()> {
    use ControlKind::*;
    let held: &[ControlKind] = match task {
        YoloTask::Detect | YoloTask::Segment => {
            &[RectangleLabels, PolygonLabels, EllipseLabels, BrushLabels]
        }
        YoloTask::Obb => &[RectangleLabels, EllipseLabels],
        YoloTask::Pose => &[KeyPointLabels],
        YoloTask::Classify => &[],
    };
    // The image region controls: every region control but the video ones.
    let refused = refused_controls(config, |kind| {
        REGION_CONTROLS.contains(&kind)
            && !matches!(
                kind,
                VideoRectangle
                    | VideoPolygon
                    | VideoPolyLine
                    | VideoKeyPointLabels
                    | VideoBrush
                    | TimelineLabels
            )
            && !held.contains(&kind)
    });
    if refused.is_empty() {
        return Ok(());
    }
    let holds = match task {
        YoloTask::Detect | YoloTask::Segment => "labelled boxes, polygons, ellipses and masks",
        YoloTask::Obb => "labelled boxes and ellipses",
        YoloTask::Pose => "skeletons (KeyPointLabels)",
        YoloTask::Classify => "one class per image, from a Choices control",
    };
    Err(Error::invalid(
        "task",
        format!(
            "YOLO {} holds {holds}, so it cannot hold the results of {}; \
             pick another task or format",
            task.name(),
            refused.join(", ")
        ),
    ))
}

/// The COCO categories of a label config: each label of the box, polygon,
/// ellipse and mask controls once, then one keypoint category per `KeyPointLabels`
/// control (named by its skeleton, else by the control).
///
/// Controls whose results COCO cannot hold are refused by name rather than
/// left out of the file unnoticed.
fn coco_categories(config: &gloss_schema::LabelConfig) -> Result<Vec<ExportCategory>> {
    let unsupported = refused_controls(config, |kind| {
        matches!(
            kind,
            ControlKind::PolyLineLabels | ControlKind::PolyLine | ControlKind::Brush
        )
    });
    if !unsupported.is_empty() {
        return Err(Error::invalid(
            "format",
            format!(
                "COCO cannot hold the results of {}: polylines have no COCO form, and \
                 unlabelled masks no category; export as json or label-studio",
                unsupported.join(", ")
            ),
        ));
    }
    Ok(export_categories(
        config,
        &[
            ControlKind::RectangleLabels,
            ControlKind::PolygonLabels,
            ControlKind::EllipseLabels,
            ControlKind::BrushLabels,
        ],
    ))
}

/// Each label of the controls of `kinds` once, then one keypoint category
/// per `KeyPointLabels` control (named by its skeleton, else by the control).
fn export_categories(
    config: &gloss_schema::LabelConfig,
    kinds: &[ControlKind],
) -> Vec<ExportCategory> {
    let mut categories: Vec<ExportCategory> = Vec::new();
    for control in config.controls.iter().filter(|c| kinds.contains(&c.kind)) {
        for label in &control.labels {
            if !categories.iter().any(|c| c.name == label.value) {
                categories.push(ExportCategory::shapes(label.value.clone()));
            }
        }
    }
    for control in &config.controls {
        if control.kind == ControlKind::KeyPointLabels {
            let skeleton = control.skeleton.as_ref();
            categories.push(ExportCategory {
                name: skeleton.map_or_else(|| control.name.clone(), |s| s.value.clone()),
                keypoints: Some(KeypointCategory {
                    control: control.name.clone(),
                    joints: control.labels.iter().map(|l| l.value.clone()).collect(),
                    edges: skeleton.map(|s| s.edges.clone()).unwrap_or_default(),
                }),
            });
        }
    }
    categories
}

/// The region-drawing controls, whose results a dataset format holds or not.
const REGION_CONTROLS: [ControlKind; 18] = [
    ControlKind::RectangleLabels,
    ControlKind::PolygonLabels,
    ControlKind::EllipseLabels,
    ControlKind::KeyPointLabels,
    ControlKind::PolyLineLabels,
    ControlKind::BrushLabels,
    ControlKind::Rectangle,
    ControlKind::Polygon,
    ControlKind::Ellipse,
    ControlKind::KeyPoint,
    ControlKind::PolyLine,
    ControlKind::Brush,
    ControlKind::VideoRectangle,
    ControlKind::VideoPolygon,
    ControlKind::VideoPolyLine,
    ControlKind::VideoKeyPointLabels,
    ControlKind::VideoBrush,
    ControlKind::TimelineLabels,
];

/// The controls of `config` that `refused` picks, each as `<Tag name="…">`,
/// for the errors of exports that cannot hold their results.
fn refused_controls(
    config: &gloss_schema::LabelConfig,
    refused: impl Fn(ControlKind) -> bool,
) -> Vec<String> {
    config
        .controls
        .iter()
        .filter(|c| refused(c.kind))
        .map(|c| format!("<{} name=\"{}\">", c.kind.tag(), c.name))
        .collect()
}

/// Refuses, naming them, region controls whose result types `held` lacks.
fn refuse_unheld(config: &gloss_schema::LabelConfig, format: &str, held: &[&str]) -> Result<()> {
    let refused = refused_controls(config, |kind| {
        REGION_CONTROLS.contains(&kind) && !held.contains(&kind.result_type())
    });
    if refused.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        "format",
        format!(
            "{format} cannot hold the results of {}; pick another format (json and label-studio hold everything)",
            refused.join(", ")
        ),
    ))
}

/// The per-region controls, as CVAT attributes every shape label gets.
fn cvat_attributes(config: &gloss_schema::LabelConfig) -> Vec<gloss_formats::CvatAttribute> {
    config
        .controls
        .iter()
        .filter(|c| c.per_region)
        .filter_map(|c| {
            let kind = crate::import::cvat_attribute_kind(c.kind)?;
            Some(gloss_formats::CvatAttribute {
                name: c.name.clone(),
                kind,
                values: c.labels.iter().map(|l| l.value.clone()).collect(),
            })
        })
        .collect()
}

/// Label Studio reads masks only in its own RLE, so brush results in
/// Gloss's compact COCO form are rewritten in it for a Label Studio export.
/// A mask that does not decode (the checks at submit make that rare) is
/// left as it is.
fn masks_for_label_studio(results: &mut [ResultItem]) {
    for item in results {
        let brush = match &mut item.value {
            ResultValue::Brush(brush) => brush,
            ResultValue::BrushLabels(labeled) => &mut labeled.shape,
            _ => continue,
        };
        let (Some(width), Some(height)) = (item.original_width, item.original_height) else {
            continue;
        };
        if brush.format != "coco_rle" {
            continue;
        }
        if let Ok(rle) = gloss_masks::brush_rle(brush, width, height) {
            brush.format = "rle".to_owned();
            brush.rle = Some(gloss_masks::label_studio::encode_rle(&rle.to_mask()));
            brush.counts = None;
        }
    }
}

/// A task's consensus as one annotation (no id, no annotator: `extra`
/// says it is a consensus and of which annotations), or `None` when no
/// annotation can vote.
fn consensus_row(
    config: &gloss_schema::LabelConfig,
    model: &crate::quality::ConsensusModel,
    task: &gloss_store::TaskRow,
    data: &Map<String, Value>,
    annotations: &[AnnotationRow],
) -> io::Result<Option<AnnotationRow>> {
    let voters: Vec<&AnnotationRow> = annotations
        .iter()
        .filter(|a| !a.was_cancelled && !a.ground_truth)
        .collect();
    if voters.is_empty() {
        return Ok(None);
    }
    let mut results = Vec::with_capacity(voters.len());
    for voter in &voters {
        results.push(parse_json::<Vec<ResultItem>>(
            &voter.result,
            "annotations.result",
        )?);
    }
    let names: Vec<Option<&str>> = voters.iter().map(|a| a.username.as_deref()).collect();
    let votes = crate::consensus::Votes {
        weights: model.weights_of(&names),
        decided: model.decided(task.id.0),
    };
    let result = crate::consensus::consensus(config, data, &results, &votes);
    let ids: Vec<i64> = voters.iter().map(|a| a.id.0).collect();
    let last = voters.iter().map(|a| a.updated_at).max().unwrap_or(0);
    Ok(Some(AnnotationRow {
        id: gloss_types::AnnotationId(0),
        task_id: task.id,
        completed_by: None,
        username: None,
        result: serde_json::to_string(&result).map_err(io::Error::other)?,
        lead_time: None,
        was_cancelled: false,
        ground_truth: false,
        version: 1,
        review_state: ReviewState::Pending.as_str().to_owned(),
        reviews_passed: 0,
        extra: Some(json!({"consensus_of": ids}).to_string()),
        created_at: last,
        updated_at: last,
        active_ms: None,
    }))
}

fn item_has_label(item: &ResultItem, label: &str) -> bool {
    item.value
        .labels()
        .is_some_and(|labels| labels.iter().any(|l| l == label))
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> i64) -> HashMap<i64, Vec<T>> {
    let mut grouped: HashMap<i64, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(key(&row)).or_default().push(row);
    }
    grouped
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> io::Result<T> {
    serde_json::from_str(text).map_err(|err| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("stored {what} is not valid: {err}"),
        )
    })
}

fn extra_map(extra: &Option<String>, what: &str) -> io::Result<Map<String, Value>> {
    match extra {
        Some(text) => parse_json(text, what),
        None => Ok(Map::new()),
    }
}

/// The annotation's record; its result stays empty unless `parse_result`.
fn annotation_record(row: &AnnotationRow, parse_result: bool) -> io::Result<AnnotationRecord> {
    let mut extra = extra_map(&row.extra, "annotations.extra")?;
    // Imported work by someone unknown here keeps who it was.
    let completed_by = extra.remove("completed_by");
    Ok(AnnotationRecord {
        result: if parse_result {
            parse_json(&row.result, "annotations.result")?
        } else {
            Vec::new()
        },
        completed_by,
        lead_time: row.lead_time,
        was_cancelled: row.was_cancelled,
        ground_truth: row.ground_truth,
        created_at: Some(row.created_at),
        updated_at: Some(row.updated_at),
        extra,
    })
}

/// The prediction as exported. Its result is handed on as stored: Label
/// Studio's format writes it as it is, and COCO and the label filter leave
/// predictions out.
fn prediction_record(row: PredictionRow) -> io::Result<ExportPrediction> {
    Ok(ExportPrediction {
        id: row.id.0,
        record: PredictionRecord {
            result: Vec::new(),
            model_version: Some(row.model_version),
            score: row.score,
            extra: extra_map(&row.extra, "predictions.extra")?,
        },
        created_at: row.created_at,
        stored_result: Some(StoredResult(row.result)),
    })
}

fn draft_record(row: &DraftRow) -> io::Result<DraftRecord> {
    let mut extra = extra_map(&row.extra, "drafts.extra")?;
    let user = match &row.username {
        Some(name) => Some(Value::String(name.clone())),
        None => extra.remove("user"),
    };
    Ok(DraftRecord {
        result: parse_json(&row.result, "drafts.result")?,
        user,
        lead_time: row.lead_time,
        created_at: Some(row.created_at),
        updated_at: Some(row.updated_at),
        extra,
    })
}

fn person(
    id: Option<gloss_types::UserId>,
    username: &Option<String>,
    raw: Option<&Value>,
) -> Value {
    match (id, username) {
        (Some(id), Some(name)) => json!({"id": id.0, "username": name}),
        _ => raw.cloned().unwrap_or(Value::Null),
    }
}

/// A task in Gloss's own export format: Label Studio's task shape (so the
/// importer reads it back) plus everything Gloss knows. Stored JSON documents
/// (data, results) are copied as they are, without being parsed.
fn native_task(
    row: &gloss_store::TaskRow,
    annotations: &[AnnotationRow],
    predictions: &[PredictionRow],
    drafts: &[DraftRow],
) -> io::Result<Vec<u8>> {
    let task = NativeTaskJson {
        id: row.id.0,
        data: raw(&row.data, "tasks.data")?,
        meta: raw(row.meta.as_deref().unwrap_or("{}"), "tasks.meta")?,
        status: row.status.as_str(),
        annotations: annotations
            .iter()
            .map(|row| {
                let mut extra = extra_map(&row.extra, "annotations.extra")?;
                // Imported work by someone unknown here keeps who it was.
                let unknown = extra.remove("completed_by");
                drop_written_keys(&mut extra, NATIVE_ANNOTATION_KEYS);
                Ok(NativeAnnotationJson {
                    id: row.id.0,
                    completed_by: person(row.completed_by, &row.username, unknown.as_ref()),
                    result: raw(&row.result, "annotations.result")?,
                    lead_time: row.lead_time,
                    was_cancelled: row.was_cancelled,
                    ground_truth: row.ground_truth,
                    version: row.version,
                    created_at: NativeTime(row.created_at),
                    updated_at: NativeTime(row.updated_at),
                    extra,
                })
            })
            .collect::<io::Result<_>>()?,
        predictions: predictions
            .iter()
            .map(|row| {
                Ok(NativePredictionJson {
                    id: row.id.0,
                    model_version: &row.model_version,
                    score: row.score,
                    result: raw(&row.result, "predictions.result")?,
                    created_at: NativeTime(row.created_at),
                    extra: {
                        let mut extra = extra_map(&row.extra, "predictions.extra")?;
                        drop_written_keys(&mut extra, NATIVE_PREDICTION_KEYS);
                        extra
                    },
                })
            })
            .collect::<io::Result<_>>()?,
        drafts: drafts
            .iter()
            .map(|row| {
                let mut extra = extra_map(&row.extra, "drafts.extra")?;
                let unknown = extra.remove("user");
                drop_written_keys(&mut extra, NATIVE_DRAFT_KEYS);
                Ok(NativeDraftJson {
                    id: row.id,
                    user: person(row.user_id, &row.username, unknown.as_ref()),
                    result: raw(&row.result, "drafts.result")?,
                    lead_time: row.lead_time,
                    created_at: NativeTime(row.created_at),
                    updated_at: NativeTime(row.updated_at),
                    extra,
                })
            })
            .collect::<io::Result<_>>()?,
        created_at: NativeTime(row.created_at),
        updated_at: NativeTime(row.updated_at),
    };
    serde_json::to_vec(&task).map_err(io::Error::other)
}

/// Keys the native format writes itself, and Label Studio's `task` and
/// `project` ids, which mean nothing here: an imported annotation's copies
/// of them (kept in `extra`) are not written again.
const NATIVE_ANNOTATION_KEYS: &[&str] = &[
    "id",
    "completed_by",
    "result",
    "lead_time",
    "was_cancelled",
    "ground_truth",
    "version",
    "created_at",
    "updated_at",
    "task",
    "project",
];
const NATIVE_PREDICTION_KEYS: &[&str] = &[
    "id",
    "model_version",
    "score",
    "result",
    "created_at",
    "task",
    "project",
];
const NATIVE_DRAFT_KEYS: &[&str] = &[
    "id",
    "user",
    "result",
    "lead_time",
    "created_at",
    "updated_at",
    "task",
    "annotation",
];

fn drop_written_keys(extra: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        extra.remove(*key);
    }
}

/// A stored JSON document, checked to be JSON but not parsed into values.
fn raw<'a>(text: &'a str, what: &str) -> io::Result<&'a RawValue> {
    serde_json::from_str(text).map_err(|err| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("stored {what} is not valid: {err}"),
        )
    })
}

#[derive(Serialize)]
struct NativeTaskJson<'a> {
    id: i64,
    data: &'a RawValue,
    meta: &'a RawValue,
    status: &'static str,
    annotations: Vec<NativeAnnotationJson<'a>>,
    predictions: Vec<NativePredictionJson<'a>>,
    drafts: Vec<NativeDraftJson<'a>>,
    created_at: NativeTime,
    updated_at: NativeTime,
}

/// Keys Gloss does not model (kept from an import) sit beside the known
/// ones, as in Label Studio's format, so that an import reads them back.
#[derive(Serialize)]
struct NativeAnnotationJson<'a> {
    id: i64,
    completed_by: Value,
    result: &'a RawValue,
    lead_time: Option<f64>,
    was_cancelled: bool,
    ground_truth: bool,
    version: i64,
    created_at: NativeTime,
    updated_at: NativeTime,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Serialize)]
struct NativePredictionJson<'a> {
    id: i64,
    model_version: &'a str,
    score: Option<f64>,
    result: &'a RawValue,
    created_at: NativeTime,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Serialize)]
struct NativeDraftJson<'a> {
    id: i64,
    user: Value,
    result: &'a RawValue,
    lead_time: Option<f64>,
    created_at: NativeTime,
    updated_at: NativeTime,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// A date-time written as [`gloss_types::Timestamp`] displays it, without
/// allocating.
struct NativeTime(i64);

impl Serialize for NativeTime {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(gloss_formats::timestamp_text(self.0).as_str())
    }
}

/// Writes Gloss's export: a JSON array, one task at a time.
struct NativeWriter<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> NativeWriter<W> {
    fn new(mut out: W) -> io::Result<NativeWriter<W>> {
        out.write_all(b"[")?;
        Ok(NativeWriter { out, first: true })
    }

    fn write_task(&mut self, task: &NativeTask) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        self.out.write_all(b"\n")?;
        self.out.write_all(&task.json)?;
        Ok(())
    }

    fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"\n]\n")?;
        Ok(self.out)
    }
}

/// Frames per second of an image sequence whose `<Video>` has no `frameRate`
/// (the labeling screen's default too).
const DEFAULT_FRAME_RATE: f64 = 25.0;

/// Each task of the page with the value of its data's `field`, parsed once.
fn field_values(bundle: &TaskBundlePage, field: &str) -> Vec<(TaskId, Option<Value>)> {
    bundle
        .tasks
        .iter()
        .map(|task| {
            let mut data: Map<String, Value> = serde_json::from_str(&task.data).unwrap_or_default();
            (task.id, data.remove(field))
        })
        .collect()
}

/// The media keys the values point at, once each: an image's or video's,
/// an image sequence's first frame (for its size).
fn media_keys(values: &[(TaskId, Option<Value>)]) -> Vec<String> {
    let mut keys: Vec<String> = values
        .iter()
        .filter_map(|(_, value)| match value {
            Some(Value::Array(frames)) => first_frame_key(frames),
            value => value
                .as_ref()
                .and_then(Value::as_str)
                .and_then(media_key_of),
        })
        .map(|key| key.as_str().to_string())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The media key of an image sequence's first frame.
fn first_frame_key(frames: &[Value]) -> Option<gloss_media::MediaKey> {
    frames
        .first()
        .and_then(Value::as_str)
        .and_then(media_key_of)
}

/// What a task's video is known by on an export page: a video file's media
/// key, or an image sequence's first frame key and length.
fn video_key(value: &Value) -> Option<String> {
    match value {
        Value::String(url) => media_key_of(url).map(|key| key.as_str().to_string()),
        Value::Array(frames) => {
            first_frame_key(frames).map(|key| format!("{}+{}", key.as_str(), frames.len()))
        }
        _ => None,
    }
}

/// The name an image sequence is exported under: the folder its frames
/// came from (`MOT17-02` for `MOT17-02/img1/000001.jpg`, passing over
/// `img1` and `images` folders), else `sequence-{task id}`.
fn sequence_name(first_frame: &str, task: i64) -> String {
    let mut folders: Vec<&str> = first_frame.split('/').collect();
    folders.pop();
    while folders
        .last()
        .is_some_and(|f| matches!(*f, "img1" | "images" | "frames" | ""))
    {
        folders.pop();
    }
    match folders.last() {
        Some(folder) => (*folder).to_string(),
        None => format!("sequence-{task}"),
    }
}
