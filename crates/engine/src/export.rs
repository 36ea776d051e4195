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
    AnnotationRecord, CocoCategory, CocoWriter, DraftRecord, ExportAnnotation, ExportPrediction,
    ExportTask, ImageInfo, KeypointCategory, LabelStudioWriter, PredictionRecord, Split,
    SplitRatios, StoredResult,
};
use gloss_schema::ControlKind;
use gloss_store::{AnnotationRow, DraftRow, PredictionRow, ProjectMediaRow, TaskBundlePage};
use gloss_types::result::ResultItem;
use gloss_types::{ProjectId, ProjectRole, TaskStatus};
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
    /// COCO instances: boxes and polygons, with the images.
    Coco,
}

impl ExportFormat {
    pub fn parse(text: &str) -> Option<ExportFormat> {
        match text {
            "json" => Some(ExportFormat::Json),
            "label-studio" | "label_studio" => Some(ExportFormat::LabelStudio),
            "coco" => Some(ExportFormat::Coco),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::LabelStudio => "label-studio",
            ExportFormat::Coco => "coco",
        }
    }
}

/// What to export and how.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: ExportFormat,
    /// Only tasks in these statuses; empty means all.
    pub statuses: Vec<TaskStatus>,
    /// Only this annotator's annotations, and only tasks they annotated.
    pub annotator: Option<String>,
    /// Only tasks with an exported annotation using this label or choice.
    pub label: Option<String>,
    /// Split the tasks, deterministically for a seed.
    pub split: Option<(SplitRatios, u64)>,
    /// COCO: include the image files (which makes the export a zip or folder).
    pub images: bool,
}

impl ExportOptions {
    pub fn new(format: ExportFormat) -> ExportOptions {
        ExportOptions {
            format,
            statuses: Vec::new(),
            annotator: None,
            label: None,
            split: None,
            images: format == ExportFormat::Coco,
        }
    }

    /// Whether the export is several files (a zip, or a folder).
    pub fn is_archive(&self) -> bool {
        self.split.is_some() || (self.format == ExportFormat::Coco && self.images)
    }

    /// A file name for the download.
    pub fn file_name(&self, project: ProjectId) -> String {
        let extension = if self.is_archive() { "zip" } else { "json" };
        format!("project-{}-{}.{extension}", project.0, self.format.name())
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
}

/// One page of tasks with the media facts the writers need.
struct ExportPage {
    bundle: TaskBundlePage,
    media: HashMap<String, ProjectMediaRow>,
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
        let categories = if options.format == ExportFormat::Coco {
            coco_categories(&config)?
        } else {
            Vec::new()
        };
        let image_field = config
            .objects
            .iter()
            .find(|object| object.kind == gloss_schema::ObjectKind::Image)
            .map(|object| object.value.clone());
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

        let (sender, receiver) = tokio::sync::mpsc::channel::<ExportPage>(2);
        let writer_options = WriterOptions {
            options: options.clone(),
            project_id: project.id.0,
            categories,
            image_field: image_field.clone(),
            annotator,
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
            let media = match (&image_field, options.format) {
                (Some(field), ExportFormat::Coco) => {
                    self.page_media(project.id, &bundle, field).await?
                }
                _ => HashMap::new(),
            };
            if sender.send(ExportPage { bundle, media }).await.is_err() {
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

    async fn page_media(
        &self,
        project: ProjectId,
        bundle: &TaskBundlePage,
        field: &str,
    ) -> Result<HashMap<String, ProjectMediaRow>> {
        let mut keys = Vec::new();
        for task in &bundle.tasks {
            // Only the image field is needed; parse just enough to find it.
            let data: Map<String, Value> = serde_json::from_str(&task.data).unwrap_or_default();
            if let Some(key) = data
                .get(field)
                .and_then(Value::as_str)
                .and_then(media_key_of)
            {
                keys.push(key.as_str().to_string());
            }
        }
        keys.sort();
        keys.dedup();
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
    project_id: i64,
    categories: Vec<CocoCategory>,
    image_field: Option<String>,
    annotator: Option<gloss_types::UserId>,
}

/// One document of the export.
enum Document {
    Native(NativeWriter<Box<dyn Write + Send>>),
    LabelStudio(LabelStudioWriter<Box<dyn Write + Send>>),
    Coco(CocoWriter<Box<dyn Write + Send>>),
}

impl Document {
    fn new(
        format: ExportFormat,
        out: Box<dyn Write + Send>,
        categories: &[CocoCategory],
    ) -> io::Result<Document> {
        Ok(match format {
            ExportFormat::Json => Document::Native(NativeWriter::new(out)?),
            ExportFormat::LabelStudio => Document::LabelStudio(LabelStudioWriter::new(out)?),
            ExportFormat::Coco => {
                Document::Coco(CocoWriter::new(out, tempfile::tempfile()?, categories)?)
            }
        })
    }

    fn write(&mut self, task: &ExportTask, native: &NativeTask) -> io::Result<()> {
        match self {
            Document::Native(writer) => writer.write_task(native),
            Document::LabelStudio(writer) => writer.write_task(task),
            Document::Coco(writer) => writer.write_task(task),
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Document::Native(writer) => writer.finish()?.flush(),
            Document::LabelStudio(writer) => writer.finish()?.flush(),
            Document::Coco(writer) => {
                writer.finish()?;
                Ok(())
            }
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
        (None, _) => format!("tasks.{extension}"),
        (Some(split), _) => format!("{}.{extension}", split.name()),
    };
    let splits: Vec<Option<Split>> = match options.split {
        None => vec![None],
        Some(_) => vec![
            Some(Split::Train),
            Some(Split::Validation),
            Some(Split::Test),
        ],
    };
    let archive = options.is_archive();
    let folder = match &target {
        ExportTarget::Folder(path) => {
            std::fs::create_dir_all(path)?;
            Some(path.clone())
        }
        ExportTarget::Writer(_) => None,
    };
    // Documents go straight to the target when it is one stream; otherwise to
    // files in the folder, or to spool files that are zipped at the end.
    let mut spools: Vec<(String, std::fs::File)> = Vec::new();
    let mut target_writer = match target {
        ExportTarget::Writer(writer) => Some(writer),
        ExportTarget::Folder(_) => None,
    };
    let mut documents: Vec<(Option<Split>, Document)> = Vec::new();
    for split in &splits {
        let name = document_name(*split);
        let out: Box<dyn Write + Send> = match (&folder, archive) {
            (Some(folder), _) => Box::new(BufWriter::with_capacity(
                256 * 1024,
                std::fs::File::create(folder.join(&name))?,
            )),
            (None, false) => Box::new(BufWriter::with_capacity(
                256 * 1024,
                target_writer.take().expect("one document for one stream"),
            )),
            (None, true) => {
                let spool = tempfile::tempfile()?;
                spools.push((name.clone(), spool.try_clone()?));
                Box::new(BufWriter::with_capacity(256 * 1024, spool))
            }
        };
        documents.push((
            *split,
            Document::new(options.format, out, &writer_options.categories)?,
        ));
    }

    // Images to copy, spooled as lines of "key name" so that memory stays flat.
    let mut image_list = if options.format == ExportFormat::Coco && options.images {
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
        document.finish()?;
    }
    summary.files = splits.iter().map(|split| document_name(*split)).collect();

    let images = match image_list {
        Some(list) => {
            let mut file = list.into_inner().map_err(|err| err.into_error())?;
            file.rewind()?;
            Some(file)
        }
        None => None,
    };
    if let Some(folder) = folder {
        if let Some(images) = images {
            std::fs::create_dir_all(folder.join("images"))?;
            for_each_image(images, |key, name| {
                let bytes = read_media(media, runtime, key)?;
                std::fs::write(folder.join("images").join(name), bytes)?;
                summary.files.push(format!("images/{name}"));
                Ok(())
            })?;
        }
    } else if archive {
        let out = target_writer.expect("an archive goes to the stream");
        write_zip(out, spools, images, media, runtime, &mut summary)?;
    }
    Ok(summary)
}

/// Writes converted pages to their documents (by split), noting the images
/// to copy and counting what was written.
fn write_pages(
    writer_options: &WriterOptions,
    pages: std::sync::mpsc::Receiver<Vec<(ExportTask, NativeTask)>>,
    documents: &mut [(Option<Split>, Document)],
    mut image_list: Option<&mut BufWriter<std::fs::File>>,
    summary: &mut ExportSummary,
) -> io::Result<()> {
    let options = &writer_options.options;
    // Each image is copied once, however many tasks show it.
    let mut listed = std::collections::HashSet::new();
    for page in pages {
        for (task, native) in page {
            let split = options
                .split
                .as_ref()
                .map(|(ratios, seed)| gloss_formats::split_of(*seed, task.id, ratios));
            if let (Some(list), Some(image)) = (image_list.as_mut(), &task.image) {
                if let Some(key) = native.media_key.as_deref() {
                    if listed.insert(key.to_string()) {
                        writeln!(list, "{key} {}", image.file_name)?;
                    }
                }
            }
            summary.tasks += 1;
            summary.annotations += native.annotations as u64;
            let document = documents
                .iter_mut()
                .find(|(s, _)| *s == split || s.is_none())
                .map(|(_, document)| document)
                .expect("a document for every split");
            document.write(&task, &native)?;
        }
    }
    Ok(())
}

fn write_zip(
    out: Box<dyn Write + Send>,
    spools: Vec<(String, std::fs::File)>,
    images: Option<std::fs::File>,
    media: &gloss_media::MediaStore,
    runtime: &tokio::runtime::Handle,
    summary: &mut ExportSummary,
) -> io::Result<()> {
    // The zip is built in a temporary file (zip needs to seek) and then copied out.
    let mut zip = zip::ZipWriter::new(tempfile::tempfile()?);
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
        for_each_image(images, |key, name| {
            let bytes = read_media(media, runtime, key)?;
            // Images are compressed already.
            zip.start_file(format!("images/{name}"), stored)
                .map_err(io::Error::other)?;
            zip.write_all(&bytes)?;
            summary.files.push(format!("images/{name}"));
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
    let ExportPage { bundle, media } = page;
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
        let parse_results = options.format != ExportFormat::LabelStudio || options.label.is_some();
        let annotation_records = task_annotations
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
        let draft_records = task_drafts
            .iter()
            .map(draft_record)
            .collect::<io::Result<Vec<_>>>()?;
        let prediction_records = task_predictions
            .into_iter()
            .map(prediction_record)
            .collect::<io::Result<Vec<_>>>()?;

        let media_key = writer_options
            .image_field
            .as_ref()
            .and_then(|field| data.get(field))
            .and_then(Value::as_str)
            .and_then(media_key_of)
            .map(|key| key.as_str().to_string());
        let image = if options.format == ExportFormat::Coco {
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
                        record.completed_by = Some(Value::from(user.0));
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

/// The COCO categories of a label config: each label of the box, polygon and
/// ellipse controls once, then one keypoint category per `KeyPointLabels`
/// control (named by its skeleton, else by the control).
///
/// Controls whose results COCO cannot hold are refused by name rather than
/// left out of the file unnoticed.
fn coco_categories(config: &gloss_schema::LabelConfig) -> Result<Vec<CocoCategory>> {
    let unsupported: Vec<String> = config
        .controls
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                ControlKind::PolyLineLabels
                    | ControlKind::PolyLine
                    | ControlKind::BrushLabels
                    | ControlKind::Brush
            )
        })
        .map(|c| format!("<{} name=\"{}\">", c.kind.tag(), c.name))
        .collect();
    if !unsupported.is_empty() {
        return Err(Error::invalid(
            "format",
            format!(
                "COCO cannot hold the results of {}: polylines and masks have no COCO form \
                 in this version; export as json or label-studio",
                unsupported.join(", ")
            ),
        ));
    }
    let mut categories: Vec<CocoCategory> = Vec::new();
    for control in &config.controls {
        if matches!(
            control.kind,
            ControlKind::RectangleLabels | ControlKind::PolygonLabels | ControlKind::EllipseLabels
        ) {
            for label in &control.labels {
                if !categories.iter().any(|c| c.name == label.value) {
                    categories.push(CocoCategory::shapes(label.value.clone()));
                }
            }
        }
    }
    for control in &config.controls {
        if control.kind == ControlKind::KeyPointLabels {
            let skeleton = control.skeleton.as_ref();
            categories.push(CocoCategory {
                name: skeleton.map_or_else(|| control.name.clone(), |s| s.value.clone()),
                keypoints: Some(KeypointCategory {
                    control: control.name.clone(),
                    joints: control.labels.iter().map(|l| l.value.clone()).collect(),
                    edges: skeleton.map(|s| s.edges.clone()).unwrap_or_default(),
                }),
            });
        }
    }
    Ok(categories)
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
