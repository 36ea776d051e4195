//! Importing tasks: image files, task files (JSON, JSONL, CSV, TSV, Label
//! Studio exports) and COCO files, all-or-nothing per import.
//!
//! One import is one database transaction. Files are parsed on a blocking
//! thread and handed over in chunks, so parsing and inserting overlap and
//! memory stays flat however large the file. Every row is checked (data keys
//! the label config reads, results against the config, media references);
//! after the first rejected row nothing more is inserted, the rest of the
//! files are still read so that the report lists every problem, and the
//! transaction is rolled back.

use crate::access::Actor;
use crate::dataset::{DatasetKind, FolderSource};
use crate::error::{Error, Result};
use crate::Engine;
use gloss_formats::{
    read_video_dataset, AnnotationRecord, CocoImportOptions, ConllImportOptions, ControlRef,
    DraftRecord, InputFormat, KeypointControl, PredictionRecord, Rejection, SpeechImportOptions,
    TaskRecord, VideoImportOptions, YoloImportOptions, YoloTask, MAX_SEQUENCE_FRAMES,
};
use gloss_media::MediaKey;
use gloss_schema::{ControlKind, LabelConfig, ObjectKind};
use gloss_store::{NewAnnotation, NewDraft, NewMedia, NewPrediction, NewTask, TaskImport};
use gloss_types::result::ResultItem;
use gloss_types::{
    Code, Import, ImportId, ImportState, ProjectId, ProjectRole, RejectedRow, Timestamp, UserId,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Rows handed from the parsing thread to the inserter at a time.
const CHUNK_ROWS: usize = 2000;
/// Rejected rows listed in a report; more are counted, not listed.
const MAX_LISTED_REJECTIONS: usize = 1000;
/// The path under which the API serves a media object; task data refers to it.
pub const MEDIA_URL_PREFIX: &str = "/api/v1/media/";

/// The URL that task data uses for a stored media object.
pub fn media_url(key: &str) -> String {
    format!("{MEDIA_URL_PREFIX}{key}")
}

/// One file to import.
#[derive(Debug, Clone)]
pub struct ImportFile {
    /// The name shown in reports (the uploaded or given file name).
    pub name: String,
    pub path: PathBuf,
}

/// How to read the files.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `None` guesses each file's format from its name and content.
    pub format: Option<InputFormat>,
    /// A folder where file names in task data (and COCO `file_name`s) are
    /// looked up and copied into the media store. Only the command line sets
    /// it: API callers cannot make the server read its own disk.
    pub images_dir: Option<PathBuf>,
    /// What a YOLO dataset's labels are for; guessed when `None` (see
    /// `gloss_formats::read_yolo`).
    pub yolo_task: Option<YoloTask>,
}

impl Engine {
    /// Imports `files` into a project and waits for the end. Used by the
    /// command line and by the JSON task route.
    pub async fn import_files(
        &self,
        actor: &Actor,
        project: ProjectId,
        files: Vec<ImportFile>,
        options: ImportOptions,
    ) -> Result<Import> {
        let (job, context) = self.prepare_import(actor, project).await?;
        Ok(self.run_import(job.id, context, files, options).await)
    }

    /// Starts an import in the background and returns the running job, whose
    /// progress [`Engine::import_job`] reports. The files are removed when it ends.
    pub async fn start_import(
        self: &Arc<Self>,
        actor: &Actor,
        project: ProjectId,
        files: Vec<ImportFile>,
        options: ImportOptions,
    ) -> Result<Import> {
        let (job, context) = self.prepare_import(actor, project).await?;
        let engine = Arc::clone(self);
        let id = job.id;
        tokio::spawn(async move {
            let paths: Vec<PathBuf> = files.iter().map(|file| file.path.clone()).collect();
            engine.run_import(id, context, files, options).await;
            for path in paths {
                let _ = tokio::fs::remove_file(path).await;
            }
            // The project's quality report reads what was imported now, not
            // when it is first asked for; and its table's first sort by a
            // data field finds the index made; and the imported
            // annotations join the table by annotator (SQLite) at once.
            engine.warm_project_answers(project).await;
            engine.prepare_data_indexes(project).await;
            engine.catch_up_person_indexes().await;
        });
        Ok(job)
    }

    /// Cleans up after a stop in the middle of imports: their transactions
    /// never committed, so they wrote nothing; their jobs are marked failed
    /// and their uploaded files removed. Only on SQLite, where this process
    /// is the only one serving the database: on PostgreSQL another instance
    /// may be running imports of its own.
    pub async fn recover_interrupted_imports(&self) -> Result<u64> {
        if self.store.backend() != gloss_store::Backend::Sqlite {
            return Ok(0);
        }
        let failed = self.store.fail_interrupted_imports().await?;
        if let Ok(entries) = std::fs::read_dir(&self.config.upload_dir) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(failed)
    }

    /// Refuses callers who may not import into the project, before they send files.
    pub async fn check_import(&self, actor: &Actor, project: ProjectId) -> Result<()> {
        self.project_with_role(actor, project, ProjectRole::Manager, "import tasks")
            .await
            .map(|_| ())
    }

    /// An import job, with live progress while it runs.
    pub async fn import_job(&self, actor: &Actor, id: ImportId) -> Result<Import> {
        let mut job = self.store.import(id).await.map_err(|err| match err {
            gloss_store::Error::NotFound => Error::not_found("import"),
            other => other.into(),
        })?;
        // Seeing an import needs the same power as starting one.
        self.project_with_role(actor, job.project_id, ProjectRole::Manager, "see imports")
            .await
            .map_err(|err| match err.code {
                Code::Forbidden => Error::not_found("import"),
                _ => err,
            })?;
        if job.state == ImportState::Running {
            if let Some(rows) = self.import_progress.lock().unwrap().get(&id) {
                job.rows_read = *rows;
            }
        }
        Ok(job)
    }

    async fn prepare_import(
        &self,
        actor: &Actor,
        id: ProjectId,
    ) -> Result<(Import, ImportContext)> {
        let project = self
            .project_with_role(actor, id, ProjectRole::Manager, "import tasks")
            .await?;
        let (config, _) = gloss_schema::parse(&project.label_config);
        let job = self
            .store
            .create_import(project.id, actor.user().map(|user| user.id))
            .await?;
        let context = ImportContext::new(project.id, config);
        Ok((job, context))
    }

    async fn run_import(
        &self,
        id: ImportId,
        mut context: ImportContext,
        files: Vec<ImportFile>,
        options: ImportOptions,
    ) -> Import {
        self.import_progress.lock().unwrap().insert(id, 0);
        let outcome = self.import_into(id, &mut context, &files, &options).await;
        self.import_progress.lock().unwrap().remove(&id);
        let mut rejected = std::mem::take(&mut context.rejected);
        let error = match outcome {
            Ok(counts) if rejected.is_empty() => {
                let outcome = gloss_store::ImportOutcome {
                    tasks: counts.tasks,
                    annotations: counts.annotations,
                    predictions: counts.predictions,
                    error: None,
                    rejected: Vec::new(),
                };
                return self.finish(id, context.rows_read, &outcome).await;
            }
            Ok(_) => None,
            Err(err) => Some(err.to_string()),
        };
        let error = match (error, context.rejected_total) {
            (Some(error), _) => Some(error),
            (None, total) if total > rejected.len() as u64 => Some(format!(
                "{total} rows were rejected; the first {} are listed; nothing was imported",
                rejected.len()
            )),
            (None, total) => Some(format!(
                "{total} {} rejected; nothing was imported",
                if total == 1 { "row was" } else { "rows were" }
            )),
        };
        rejected.truncate(MAX_LISTED_REJECTIONS);
        let outcome = gloss_store::ImportOutcome {
            error,
            rejected,
            ..Default::default()
        };
        self.finish(id, context.rows_read, &outcome).await
    }

    async fn finish(
        &self,
        id: ImportId,
        rows_read: u64,
        outcome: &gloss_store::ImportOutcome,
    ) -> Import {
        match self
            .store
            .finish_import(id, rows_read as i64, outcome)
            .await
        {
            Ok(job) => job,
            Err(err) => {
                tracing::error!(import = id.0, "cannot record the end of an import: {err}");
                // The job row is unreachable; answer with what is known.
                Import {
                    id,
                    project_id: ProjectId(0),
                    state: ImportState::Failed,
                    rows_read: rows_read as i64,
                    tasks_created: 0,
                    annotations_created: 0,
                    predictions_created: 0,
                    error: Some(err.to_string()),
                    rejected: outcome.rejected.clone(),
                    created_by: None,
                    created_at: Timestamp::now(),
                    finished_at: Some(Timestamp::now()),
                }
            }
        }
    }

    async fn import_into(
        &self,
        id: ImportId,
        context: &mut ImportContext,
        files: &[ImportFile],
        options: &ImportOptions,
    ) -> Result<gloss_store::ImportCounts> {
        let import = self
            .store
            .begin_task_import(context.project, Some(id.0))
            .await?;
        let mut import = Inserter::start(import);
        for file in files {
            context.file = file.name.clone();
            // A folder or a zip is a dataset of many files.
            if file.path.is_dir() {
                self.import_dataset(&mut import, context, &file.path, options)
                    .await?;
                continue;
            }
            if options.format.is_none() && is_zip(&file.path).await {
                let unpacked = std::fs::create_dir_all(&self.config.upload_dir)
                    .and_then(|()| tempfile::TempDir::new_in(&self.config.upload_dir))
                    .map_err(|err| Error::internal(format!("cannot unpack the zip: {err}")))?;
                let (zip, into) = (file.path.clone(), unpacked.path().to_path_buf());
                tokio::task::spawn_blocking(move || crate::dataset::unpack_zip(&zip, &into))
                    .await
                    .map_err(|err| Error::internal(format!("unpacking stopped: {err}")))??;
                self.import_dataset(&mut import, context, unpacked.path(), options)
                    .await?;
                continue;
            }
            let format = match options.format {
                Some(format) => Some(format),
                None => guess_format(file).await?,
            };
            match format {
                None => self.import_media_file(&mut import, context, file).await?,
                Some(InputFormat::Coco) => {
                    self.import_coco(&mut import, context, file, options)
                        .await?
                }
                Some(InputFormat::Conll2003) => {
                    self.import_conll(&mut import, context, file, options)
                        .await?
                }
                Some(InputFormat::Spacy) => {
                    self.import_spacy(&mut import, context, file, options)
                        .await?
                }
                Some(
                    format @ (InputFormat::PreferenceJsonl
                    | InputFormat::RankingJsonl
                    | InputFormat::ChatJsonl),
                ) => {
                    self.import_llm(&mut import, context, file, format, options)
                        .await?
                }
                Some(format) => {
                    self.import_task_file(id, &mut import, context, file, format, options)
                        .await?
                }
            }
        }
        let import = import.finish().await?;
        if !context.rejected.is_empty() {
            // Dropping the transaction rolls everything back.
            return Ok(gloss_store::ImportCounts::default());
        }
        Ok(import.commit().await?)
    }

    /// A file that is not a task file: one task showing it.
    async fn import_media_file(
        &self,
        import: &mut Inserter,
        context: &mut ImportContext,
        file: &ImportFile,
    ) -> Result<()> {
        context.rows_read += 1;
        // A media file is one row of its own.
        let row = 1;
        let Some(field) = context.media_field.clone() else {
            context.reject(row, "", "the label config has no <Image> to show an image file in; import a task file instead");
            return Ok(());
        };
        match self.store_media_file(import, &file.path, &file.name).await {
            Ok(url) => {
                let mut data = Map::new();
                data.insert(field, Value::String(url));
                let task = NewTask {
                    data: Value::Object(data).to_string(),
                    ..Default::default()
                };
                if context.rejected.is_empty() {
                    import.send(vec![task]).await?;
                }
            }
            Err(err) => context.reject(row, "", &err.message),
        }
        Ok(())
    }

    async fn import_task_file(
        &self,
        id: ImportId,
        import: &mut Inserter,
        context: &mut ImportContext,
        file: &ImportFile,
        format: InputFormat,
        options: &ImportOptions,
    ) -> Result<()> {
        let reader = std::fs::File::open(&file.path)
            .map_err(|err| Error::invalid("files", format!("cannot open {}: {err}", file.name)))?;
        let (sender, mut receiver) =
            tokio::sync::mpsc::channel::<Vec<(u64, std::result::Result<TaskRecord, Rejection>)>>(4);
        let parser = tokio::task::spawn_blocking(move || {
            let mut chunk = Vec::with_capacity(CHUNK_ROWS);
            let read = gloss_formats::read_tasks(
                format,
                std::io::BufReader::with_capacity(256 * 1024, reader),
                &mut |row, task| {
                    chunk.push((row, task));
                    if chunk.len() == CHUNK_ROWS {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
                        return sender.blocking_send(full).is_ok();
                    }
                    true
                },
            );
            if !chunk.is_empty() {
                let _ = sender.blocking_send(chunk);
            }
            read
        });
        let mut tasks = Vec::with_capacity(CHUNK_ROWS);
        while let Some(chunk) = receiver.recv().await {
            for (row, task) in chunk {
                context.rows_read += 1;
                let record = match task {
                    Ok(record) => record,
                    Err(rejection) => {
                        context.reject(rejection.row, &rejection.field, &rejection.reason);
                        continue;
                    }
                };
                if let Some(task) = self
                    .task_from_record(import, context, row, record, options)
                    .await?
                {
                    if context.rejected.is_empty() {
                        tasks.push(task);
                    }
                }
            }
            if context.rejected.is_empty() {
                import.send(std::mem::take(&mut tasks)).await?;
            }
            tasks.clear();
            self.import_progress
                .lock()
                .unwrap()
                .insert(id, context.rows_read as i64);
        }
        match parser.await {
            Ok(Ok(_rows)) => Ok(()),
            Ok(Err(err)) => Err(Error::invalid(
                "files",
                format!("{} is not a valid {} file: {err}", file.name, format.name()),
            )),
            Err(err) => Err(Error::internal(format!("the parser stopped: {err}"))),
        }
    }

    async fn import_coco(
        &self,
        import: &mut Inserter,
        context: &mut ImportContext,
        file: &ImportFile,
        options: &ImportOptions,
    ) -> Result<()> {
        let Some(image_field) = context.media_field.clone() else {
            return Err(Error::invalid(
                "files",
                "a COCO file needs a label config with an <Image> tag",
            ));
        };
        let control = |kind: ControlKind| control_ref(&context.config, kind);
        let keypoints = keypoint_controls(&context.config);
        let coco_options = CocoImportOptions {
            image_field,
            rectangles: control(ControlKind::RectangleLabels),
            polygons: control(ControlKind::PolygonLabels),
            masks: control(ControlKind::BrushLabels),
            keypoints,
        };
        let records = self
            .read_records(context, file, "COCO", move |reader| {
                gloss_formats::read_coco(reader, &coco_options)
            })
            .await?;
        // COCO file names are relative to the images folder, by default the
        // folder the COCO file is in.
        let mut options = options.clone();
        if options.images_dir.is_none() {
            // A bare file name's parent is "": the current folder.
            let folder = match file.path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            };
            options.images_dir = Some(folder);
        }
        self.import_records(import, context, records, &options)
            .await
    }

    /// A CoNLL-2003 file: one task per document, its entities into the
    /// `Labels` control on the config's `<Text>`.
    async fn import_conll(
        &self,
        import: &mut Inserter,
        context: &mut ImportContext,
        file: &ImportFile,
        options: &ImportOptions,
    ) -> Result<()> {
        let config = &context.config;
        let Some(text) = config.objects.iter().find(|o| o.kind == ObjectKind::Text) else {
            return Err(Error::invalid(
                "files",
                "a CoNLL file needs a label config with a <Text> tag",
            ));
        };
        let labels = config
            .controls
            .iter()
            .find(|c| c.kind == ControlKind::Labels && c.to_names.contains(&text.name))
            .map(|c| ControlRef {
                from_name: c.name.clone(),
                to_name: text.name.clone(),
            });
        let conll_options = ConllImportOptions {
            text_field: text.value.clone(),
            labels,
        };
        let records = self
            .read_records(context, file, "CoNLL", move |reader| {
                gloss_formats::read_conll(reader, &conll_options)
            })
            .await?;
        self.import_records(import, context, records, options).await
    }

    /// A spaCy `DocBin` (`.spacy`): one task per document, its entities into
    /// the `Labels` control on the config's `<Text>`, its classes into the
    /// `Choices` controls on it.
    async fn import_spacy(
        &self,
        import: &mut Inserter,
        context: &mut ImportContext,
        file: &ImportFile,
        options: &ImportOptions,
    ) -> Result<()> {
        let config = &context.config;
        let Some(text) = config.objects.iter().find(|o| o.kind == ObjectKind::Text) else {
            return Err(Error::invalid(
                "files",
                format!(
                    "{}: a spaCy file needs a label config with a <Text> tag",
                    file.name
                ),
            ));
        };
        let labels = config
            .controls
            .iter()
            .find(|c| c.kind == ControlKind::Labels && c.to_names.contains(&text.name))
            .map(|c| ControlRef {
                from_name: c.name.clone(),
                to_name: text.name.clone(),
            });
        let choices = config
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
        let spacy_options = gloss_formats::SpacyImportOptions {
            text_field: text.value.clone(),
            labels,
            choices,
        };
        let records = self
            .read_records(context, file, "spaCy", move |reader| {
                gloss_formats::read_spacy(reader, &spacy_options)
            })
            .await?;
        self.import_records(import, context, records, options).await
    }

    /// LLM feedback (`preference-jsonl`, `ranking-jsonl`) or red-teaming
    /// chats (`chat-jsonl`): tasks with the lines as annotations, into the
    /// controls the label config has for them (see `gloss_formats::read_preference`).
    async fn import_llm(
        &self,
        import: &mut Inserter,
        context: &mut ImportContext,
        file: &ImportFile,
        format: InputFormat,
        options: &ImportOptions,
    ) -> Result<()> {
        let config = &context.config;
        let controls = |on: &dyn Fn(&str) -> bool| -> Vec<gloss_formats::ImportControl> {
            config
                .controls
                .iter()
                .filter_map(|c| {
                    let to_name = c.to_names.first()?;
                    on(to_name).then(|| gloss_formats::ImportControl {
                        name: c.name.clone(),
                        result_type: c.kind.result_type().to_owned(),
                        to_name: to_name.clone(),
                        per_item: c.per_region || c.per_item(),
                    })
                })
                .collect()
        };
        let records = if format == InputFormat::ChatJsonl {
            let chat = crate::export::chat_options(config)?;
            let chat_options = gloss_formats::ChatImportOptions {
                controls: controls(&|to| to == chat.chat),
                chat: chat.chat,
                messages_field: chat.messages_field,
            };
            self.read_records(context, file, format.name(), move |reader| {
                gloss_formats::read_chats(reader, &chat_options)
            })
            .await?
        } else {
            let llm = crate::export::llm_options(config, format.name())?;
            let prompt_is_chat = config
                .objects
                .iter()
                .any(|o| o.kind == ObjectKind::Chat && Some(&o.value) == llm.prompt.as_ref());
            let llm_options = gloss_formats::LlmImportOptions {
                llm,
                prompt_is_chat,
                controls: controls(&|_| true),
            };
            self.read_records(context, file, format.name(), move |reader| {
                if format == InputFormat::PreferenceJsonl {
                    gloss_formats::read_preference(reader, &llm_options)
                } else {
                    gloss_formats::read_ranking(reader, &llm_options)
                }
            })
            .await?
        };
        self.import_records(import, context, records, options).await
    }

    /// Reads a whole file with `read`, off the async threads: its
    /// rejections go to the import, and an unreadable file is an error
    /// naming it as not a valid `format` file.
    async fn read_records<F>(
        &self,
        context: &mut ImportContext,
        file: &ImportFile,
        format: &str,
        read: F,
    ) -> Result<Vec<TaskRecord>>
    where
        F: FnOnce(
                std::io::BufReader<std::fs::File>,
            ) -> std::result::Result<
                (Vec<TaskRecord>, Vec<Rejection>),
                gloss_formats::FormatError,
            > + Send
            + 'static,
    {
        let path = file.path.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let reader = std::io::BufReader::new(std::fs::File::open(path)?);
            read(reader).map_err(|err| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, err.to_string())
            })
        })
        .await
        .map_err(|err| Error::internal(format!("the {format} reader stopped: {err}")))?;
        let (records, rejections) = outcome.map_err(|err| {
            Error::invalid(
                "files",
                format!("{} is not a valid {format} file: {err}", file.name),
            )
        })?;
        for rejection in rejections {
            context.reject(rejection.row, &rejection.field, &rejection.reason);
        }
        Ok(records)
    }

    /// Checks the records a dataset reader gave, row `n` being the `n`th
    /// record (as the readers number their rejections), and inserts them
    /// unless something was rejected.
    async fn import_records(
        &self,
        import: &mut Inserter,
        context: &mut ImportContext,
        records: Vec<TaskRecord>,
        options: &ImportOptions,
    ) -> Result<()> {
        let mut tasks = Vec::new();
        for (index, record) in records.into_iter().enumerate() {
            context.rows_read += 1;
            let row = index as u64 + 1;
            if let Some(task) = self
                .task_from_record(import, context, row, record, options)
                .await?
            {
                tasks.push(task);
            }
        }
        if context.rejected.is_empty() {
            import.send(tasks).await?;
        }
        Ok(())
    }

    /// A dataset of many files in `root` (a folder given, or a zip unpacked):
    /// its tasks, with their images copied from it into the media store.
    async fn import_dataset(
        &self,
        import: &mut Inserter,
        context: &mut ImportContext,
        root: &Path,
        options: &ImportOptions,
    ) -> Result<()> {
        let root = root.to_path_buf();
        let scanned = {
            let root = root.clone();
            tokio::task::spawn_blocking(move || FolderSource::scan(&root))
                .await
                .map_err(|err| Error::internal(format!("listing the dataset stopped: {err}")))??
        };
        let shows_video = context.object_keys.iter().any(|(key, kind)| {
            *kind == ObjectKind::Video && context.media_field.as_ref() == Some(key)
        });
        let shows_audio = context.object_keys.iter().any(|(key, kind)| {
            *kind == ObjectKind::Audio && context.media_field.as_ref() == Some(key)
        });
        let kind = match (options.yolo_task, DatasetKind::of(&scanned)) {
            // A video project reads videos: MOT, CVAT for video, image sequences.
            _ if shows_video => DatasetKind::Video,
            // A sound project reads sounds with RTTM, WebVTT, SRT and NeMo files.
            _ if shows_audio => DatasetKind::Speech,
            (Some(_), _) => DatasetKind::Yolo,
            (None, Some(kind)) => kind,
            (None, None) => {
                return Err(Error::invalid(
                    "files",
                    format!(
                        "{} is not a dataset Gloss reads: YOLO has a data.yaml, Pascal VOC an \
                         Annotations folder, CVAT an annotations .xml at the top, mask-png a \
                         dataset_meta.json beside a masks folder (a YOLO classification folder \
                         is imported with the yolo format's classify task)",
                        context.file
                    ),
                ))
            }
        };
        let Some(image_field) = context.media_field.clone() else {
            return Err(Error::invalid(
                "files",
                "a dataset of images needs a label config with an <Image> tag",
            ));
        };
        let config = &context.config;
        let control = |kind: ControlKind| control_ref(config, kind);
        let limits = self.config.upload_limits.image();
        let read = match kind {
            DatasetKind::Yolo => {
                let yolo_options = YoloImportOptions {
                    image_field,
                    task: options.yolo_task,
                    rectangles: control(ControlKind::RectangleLabels),
                    polygons: control(ControlKind::PolygonLabels),
                    keypoints: keypoint_controls(config).into_iter().next(),
                    choices: control(ControlKind::Choices),
                };
                tokio::task::spawn_blocking(move || {
                    let image_size = |path: &str| {
                        let file = scanned.path_of(path)?;
                        let info = gloss_media::probe_image_file(&file, &limits).ok()?;
                        Some((info.width, info.height))
                    };
                    gloss_formats::read_yolo(&scanned, &yolo_options, &image_size)
                })
                .await
            }
            DatasetKind::Voc => {
                let voc_options = gloss_formats::VocImportOptions {
                    image_field,
                    rectangles: control(ControlKind::RectangleLabels),
                    coordinates: gloss_formats::VocCoordinates::Exact,
                };
                tokio::task::spawn_blocking(move || gloss_formats::read_voc(&scanned, &voc_options))
                    .await
            }
            DatasetKind::MaskPng => {
                let mask_options = gloss_formats::MaskPngImportOptions {
                    image_field,
                    brushes: control(ControlKind::BrushLabels),
                };
                tokio::task::spawn_blocking(move || {
                    let image_size = |path: &str| {
                        let file = scanned.path_of(path)?;
                        let info = gloss_media::probe_image_file(&file, &limits).ok()?;
                        Some((info.width, info.height))
                    };
                    gloss_formats::read_mask_png(&scanned, &mask_options, &image_size)
                })
                .await
            }
            DatasetKind::Cvat => {
                let cvat_options = cvat_import_options(config, image_field);
                tokio::task::spawn_blocking(move || read_cvat_files(&scanned, &cvat_options)).await
            }
            DatasetKind::Video => {
                let video_options = VideoImportOptions {
                    video_field: image_field,
                    tracks: control(ControlKind::VideoRectangle),
                    polygons: control(ControlKind::VideoPolygon),
                    polylines: control(ControlKind::VideoPolyLine),
                    skeletons: control(ControlKind::VideoKeyPointLabels),
                    masks: control(ControlKind::VideoBrush),
                };
                tokio::task::spawn_blocking(move || {
                    let media_size = |path: &str| {
                        let file = scanned.path_of(path)?;
                        media_size(&file, &limits)
                    };
                    read_video_dataset(&scanned, &video_options, &media_size)
                })
                .await
            }
            DatasetKind::Speech => {
                let speech_options = speech_import_options(config, image_field);
                tokio::task::spawn_blocking(move || {
                    gloss_formats::read_speech_dataset(&scanned, &speech_options)
                })
                .await
            }
        }
        .map_err(|err| Error::internal(format!("the dataset reader stopped: {err}")))?;
        let (records, rejections) = read.map_err(|err| {
            Error::invalid(
                "files",
                format!("{} is not a valid dataset: {err}", context.file),
            )
        })?;
        for rejection in rejections {
            context.reject(rejection.row, &rejection.field, &rejection.reason);
        }
        let options = ImportOptions {
            images_dir: Some(root),
            ..options.clone()
        };
        self.import_records(import, context, records, &options)
            .await
    }

    /// Checks one record and turns it into rows; `None` when it was rejected.
    async fn task_from_record(
        &self,
        import: &mut Inserter,
        context: &mut ImportContext,
        row: u64,
        mut record: TaskRecord,
        options: &ImportOptions,
    ) -> Result<Option<NewTask>> {
        let before = context.rejected_total;
        for index in 0..context.object_keys.len() {
            let (key, kind) = &context.object_keys[index];
            let (key, kind) = (key.as_str(), *kind);
            match record.data.get_mut(key) {
                // A chat without first messages starts empty.
                None if kind == ObjectKind::Chat => {}
                Some(value) if kind == ObjectKind::Chat => {
                    if let Some((at, reason)) = gloss_schema::check_chat_seed(value) {
                        context.reject(row, &format!("data.{key}{at}"), &reason);
                    }
                }
                None => context.reject(
                    row,
                    &format!("data.{key}"),
                    &format!("missing: the label config shows ${key}"),
                ),
                // A video's frames, one image each: an image sequence.
                Some(Value::Array(frames)) if kind == ObjectKind::Video => {
                    let field = format!("data.{key}");
                    if frames.is_empty() || frames.len() > MAX_SEQUENCE_FRAMES {
                        let reason = format!(
                            "an image sequence needs 1 to {MAX_SEQUENCE_FRAMES} frames, found {}",
                            frames.len()
                        );
                        context.reject(row, &field, &reason);
                        continue;
                    }
                    for (index, frame) in frames.iter_mut().enumerate() {
                        if let Err(err) = self.resolve_media(import, frame, options).await {
                            context.reject(row, &format!("{field}[{index}]"), &err.message);
                            break;
                        }
                    }
                }
                Some(value) if kind == ObjectKind::Paragraphs => {
                    let text_key = context
                        .config
                        .objects
                        .iter()
                        .find(|o| o.kind == kind && o.value == key)
                        .and_then(|o| o.attributes.get("textKey"))
                        .map_or("text", String::as_str);
                    if let Some((field, reason)) = paragraphs_problem(value, text_key) {
                        context.reject(row, &format!("data.{key}{field}"), &reason);
                    }
                }
                Some(value) if kind.is_media() => {
                    // Only references that may need copying cost anything here.
                    if let Err(err) = self.resolve_media(import, value, options).await {
                        let field = format!("data.{key}");
                        context.reject(row, &field, &err.message);
                    }
                }
                Some(_) => {}
            }
        }
        let annotations = self
            .check_annotations(context, row, record.annotations)
            .await;
        let predictions: Vec<NewPrediction> = record
            .predictions
            .into_iter()
            .enumerate()
            .map(|(index, prediction)| {
                let field = format!("predictions[{index}]");
                context.check_results(row, &field, &prediction.result);
                new_prediction(prediction)
            })
            .collect();
        let mut drafts = Vec::with_capacity(record.drafts.len());
        for (index, draft) in record.drafts.into_iter().enumerate() {
            context.check_results(row, &format!("drafts[{index}]"), &draft.result);
            let user = self.user_for(context, draft.user.as_ref()).await?;
            drafts.push(new_draft(draft, user));
        }
        if context.rejected_total > before {
            return Ok(None);
        }
        Ok(Some(NewTask {
            data: Value::Object(record.data).to_string(),
            meta: (!record.meta.is_empty()).then(|| Value::Object(record.meta).to_string()),
            annotations,
            predictions,
            drafts,
        }))
    }

    async fn check_annotations(
        &self,
        context: &mut ImportContext,
        row: u64,
        records: Vec<AnnotationRecord>,
    ) -> Vec<NewAnnotation> {
        let mut annotations = Vec::with_capacity(records.len());
        for (index, mut annotation) in records.into_iter().enumerate() {
            context.check_results(row, &format!("annotations[{index}]"), &annotation.result);
            let user = match self
                .user_for(context, annotation.completed_by.as_ref())
                .await
            {
                Ok(user) => user,
                Err(err) => {
                    context.reject(
                        row,
                        &format!("annotations[{index}].completed_by"),
                        &err.message,
                    );
                    None
                }
            };
            if user.is_none() {
                // Someone unknown here: keep who it was for exports.
                if let Some(raw) = annotation.completed_by.take() {
                    annotation.extra.insert("completed_by".to_string(), raw);
                }
            }
            annotations.push(new_annotation(annotation, user));
        }
        annotations
    }

    /// A Gloss user named in imported work: by username (Gloss's own export
    /// writes `{"id", "username"}`), or by an email that is a username. Label
    /// Studio's numeric ids mean nothing here and map to no one.
    async fn user_for(
        &self,
        context: &mut ImportContext,
        who: Option<&Value>,
    ) -> Result<Option<UserId>> {
        let name = match who {
            Some(Value::String(name)) => name.as_str(),
            Some(Value::Object(object)) => match object
                .get("username")
                .or_else(|| object.get("email"))
                .and_then(Value::as_str)
            {
                Some(name) => name,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        if let Some(known) = context.users.get(name) {
            return Ok(*known);
        }
        let user = match self.store.user_by_username(name).await {
            Ok(user) => Some(user.id),
            Err(gloss_store::Error::NotFound) => None,
            Err(err) => return Err(err.into()),
        };
        context.users.insert(name.to_string(), user);
        Ok(user)
    }

    /// Turns a reference to an image into one the API serves: files from the
    /// images folder and (when fetching is enabled) http(s) URLs are copied
    /// into the media store. Other values are kept as they are.
    async fn resolve_media(
        &self,
        import: &mut Inserter,
        value: &mut Value,
        options: &ImportOptions,
    ) -> Result<()> {
        let Value::String(reference) = value else {
            return Err(Error::invalid(
                "data",
                "an image reference must be a string",
            ));
        };
        if reference.starts_with("http://") || reference.starts_with("https://") {
            if let Some(fetcher) = &self.fetcher {
                let stored = fetcher
                    .fetch_into(&self.media, reference, &self.config.upload_limits)
                    .await
                    .map_err(|err| Error::invalid("data", err.to_string()))?;
                let name = reference
                    .rsplit('/')
                    .next()
                    .filter(|name| !name.is_empty())
                    .unwrap_or("download")
                    .to_string();
                let url = self.link_stored(import, &stored, &name).await?;
                *value = Value::String(url);
            }
            return Ok(());
        }
        let Some(dir) = &options.images_dir else {
            return Ok(());
        };
        if reference.starts_with(MEDIA_URL_PREFIX) || reference.starts_with("data:") {
            return Ok(());
        }
        let path = safe_join(dir, reference).ok_or_else(|| {
            Error::invalid(
                "data",
                format!("`{reference}` is not a plain relative file name inside the images folder"),
            )
        })?;
        if !path.is_file() {
            return Err(Error::invalid(
                "data",
                format!("no file `{reference}` in the images folder"),
            ));
        }
        let name = reference.clone();
        *value = Value::String(self.store_media_file(import, &path, &name).await?);
        Ok(())
    }

    /// Copies a local file into the media store and links it to the project.
    async fn store_media_file(
        &self,
        import: &mut Inserter,
        path: &Path,
        name: &str,
    ) -> Result<String> {
        let stored = self
            .media
            .put_file(path, &self.config.upload_limits)
            .await
            .map_err(|err| Error::invalid("files", format!("{name}: {err}")))?;
        self.link_stored(import, &stored, name).await
    }

    async fn link_stored(
        &self,
        import: &mut Inserter,
        stored: &gloss_media::Stored,
        name: &str,
    ) -> Result<String> {
        let media = new_media(stored);
        let url = media_url(&media.key);
        import.link(media, name.to_string());
        self.warm_peaks(&stored.key, &stored.content_type);
        Ok(url)
    }
}

/// Writes the rows of an import on a task of its own, so that checking the
/// next rows overlaps with inserting the previous ones (on SQLite the insert
/// runs on the driver's thread, and the two halves take about as long).
struct Inserter {
    sender: Option<tokio::sync::mpsc::Sender<Batch>>,
    task: Option<tokio::task::JoinHandle<Result<TaskImport>>>,
    /// Media links waiting for the next batch.
    media: Vec<(NewMedia, String)>,
}

struct Batch {
    media: Vec<(NewMedia, String)>,
    tasks: Vec<NewTask>,
}

impl Inserter {
    fn start(mut import: TaskImport) -> Inserter {
        let (sender, mut batches) = tokio::sync::mpsc::channel::<Batch>(2);
        let task = tokio::spawn(async move {
            while let Some(batch) = batches.recv().await {
                for (media, name) in &batch.media {
                    import.link_media(media, name).await?;
                }
                import.insert(&batch.tasks).await?;
            }
            Ok(import)
        });
        Inserter {
            sender: Some(sender),
            task: Some(task),
            media: Vec::new(),
        }
    }

    /// Records, with the next batch, that the project uses a media object.
    fn link(&mut self, media: NewMedia, name: String) {
        self.media.push((media, name));
    }

    async fn send(&mut self, tasks: Vec<NewTask>) -> Result<()> {
        let batch = Batch {
            media: std::mem::take(&mut self.media),
            tasks,
        };
        let sent = match &self.sender {
            Some(sender) => sender.send(batch).await.is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The inserter stopped: its own error says why.
        self.sender = None;
        match self.task.take() {
            Some(task) => Err(joined(task.await)
                .err()
                .unwrap_or_else(|| Error::internal("the import's writer stopped early"))),
            None => Err(Error::internal("the import's writer stopped early")),
        }
    }

    /// Waits for every batch to be written and hands the transaction back.
    async fn finish(mut self) -> Result<TaskImport> {
        if !self.media.is_empty() {
            self.send(Vec::new()).await?;
        }
        self.sender = None;
        match self.task.take() {
            Some(task) => joined(task.await),
            None => Err(Error::internal("the import's writer stopped early")),
        }
    }
}

fn joined(
    outcome: std::result::Result<Result<TaskImport>, tokio::task::JoinError>,
) -> Result<TaskImport> {
    outcome.map_err(|err| Error::internal(format!("the import's writer stopped: {err}")))?
}

pub(crate) fn new_media(stored: &gloss_media::Stored) -> NewMedia {
    NewMedia {
        key: stored.key.as_str().to_string(),
        content_type: stored.content_type.clone(),
        size: stored.size as i64,
        width: stored.width.map(i64::from),
        height: stored.height.map(i64::from),
    }
}

/// The width and height of an image or video file of a dataset, when it
/// can be read.
fn media_size(file: &Path, limits: &gloss_media::ImageLimits) -> Option<(u32, u32)> {
    let mut head = Vec::with_capacity(gloss_media::SNIFF_LEN);
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            std::fs::File::open(file).ok()?,
            gloss_media::SNIFF_LEN as u64,
        ),
        &mut head,
    )
    .ok()?;
    let kind = gloss_media::sniff(&head);
    if kind.is_video() {
        let frames = gloss_media::probe_video_file(file, kind).ok()?;
        return Some((frames.width, frames.height));
    }
    let info = gloss_media::probe_image_file(file, limits).ok()?;
    Some((info.width, info.height))
}

/// The media key in a task data value that points at the media store.
pub(crate) fn media_key_of(value: &str) -> Option<MediaKey> {
    MediaKey::parse(value.strip_prefix(MEDIA_URL_PREFIX)?).ok()
}

/// What one import knows while it runs.
pub(crate) struct ImportContext {
    project: ProjectId,
    config: LabelConfig,
    /// The data keys the config's object tags show, with their kind.
    object_keys: Vec<(String, ObjectKind)>,
    /// The data key an image file is put under.
    media_field: Option<String>,
    file: String,
    rows_read: u64,
    rejected: Vec<RejectedRow>,
    rejected_total: u64,
    users: HashMap<String, Option<UserId>>,
}

impl ImportContext {
    fn new(project: ProjectId, config: LabelConfig) -> ImportContext {
        let mut object_keys: Vec<(String, ObjectKind)> = Vec::new();
        for object in &config.objects {
            if !object.value.is_empty() && !object_keys.iter().any(|(key, _)| *key == object.value)
            {
                object_keys.push((object.value.clone(), object.kind));
            }
        }
        let media_field = object_keys
            .iter()
            .find(|(_, kind)| kind.is_media())
            .map(|(key, _)| key.clone());
        ImportContext {
            project,
            config,
            object_keys,
            media_field,
            file: String::new(),
            rows_read: 0,
            rejected: Vec::new(),
            rejected_total: 0,
            users: HashMap::new(),
        }
    }

    fn reject(&mut self, row: u64, field: &str, reason: &str) {
        self.rejected_total += 1;
        if self.rejected.len() < MAX_LISTED_REJECTIONS {
            self.rejected.push(RejectedRow {
                file: self.file.clone(),
                row,
                field: field.to_string(),
                reason: reason.to_string(),
            });
        }
    }

    fn check_results(&mut self, row: u64, owner: &str, results: &[ResultItem]) {
        for (index, problem) in gloss_schema::check_results(&self.config, results) {
            let field = format!("{owner}.result[{index}].{}", problem.field);
            self.reject(row, &field, &problem.message);
        }
    }
}

fn new_annotation(record: AnnotationRecord, user: Option<UserId>) -> NewAnnotation {
    let now = Timestamp::now().millis();
    let created_at = record.created_at.unwrap_or(now);
    NewAnnotation {
        completed_by: user,
        result: results_json(&record.result),
        lead_time: record.lead_time,
        was_cancelled: record.was_cancelled,
        ground_truth: record.ground_truth,
        extra: extra_json(record.extra),
        created_at,
        updated_at: record.updated_at.unwrap_or(created_at),
    }
}

fn new_prediction(record: PredictionRecord) -> NewPrediction {
    NewPrediction {
        model_version: record.model_version.unwrap_or_default(),
        score: record.score,
        result: results_json(&record.result),
        extra: extra_json(record.extra),
        created_at: Timestamp::now().millis(),
    }
}

fn new_draft(record: DraftRecord, user: Option<UserId>) -> NewDraft {
    let now = Timestamp::now().millis();
    let mut extra = record.extra;
    if user.is_none() {
        if let Some(raw) = record.user {
            extra.insert("user".to_string(), raw);
        }
    }
    let created_at = record.created_at.unwrap_or(now);
    NewDraft {
        user_id: user,
        result: results_json(&record.result),
        lead_time: record.lead_time,
        extra: extra_json(extra),
        created_at,
        updated_at: record.updated_at.unwrap_or(created_at),
    }
}

pub(crate) fn results_json(results: &[ResultItem]) -> String {
    // Results hold only strings, finite numbers and maps: this cannot fail.
    serde_json::to_string(results).unwrap_or_else(|_| "[]".to_string())
}

fn extra_json(extra: Map<String, Value>) -> Option<String> {
    (!extra.is_empty()).then(|| Value::Object(extra).to_string())
}

/// `dir/name` when `name` is a plain relative path that stays inside `dir`
/// (no absolute path, no `..`, no symlink leading out).
fn safe_join(dir: &Path, name: &str) -> Option<PathBuf> {
    let relative = Path::new(name);
    if !relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
    {
        return None;
    }
    let joined = dir.join(relative);
    let real_dir = dir.canonicalize().ok()?;
    match joined.canonicalize() {
        Ok(real) if real.starts_with(&real_dir) => Some(real),
        Ok(_) => None,
        // A missing file is reported as missing, not as unsafe.
        Err(_) => Some(joined),
    }
}

/// The task-file format of a file, or `None` for a media file.
/// The first control of `kind`, as results name it.
fn control_ref(config: &LabelConfig, kind: ControlKind) -> Option<ControlRef> {
    config
        .controls
        .iter()
        .find(|control| control.kind == kind)
        .and_then(|control| {
            Some(ControlRef {
                from_name: control.name.clone(),
                to_name: control.to_names.first()?.clone(),
            })
        })
}

/// Where a speech dataset goes: the `Labels` control on the `<Audio>` (with
/// its labels, the speakers), and its per-region and whole-file `TextArea`s.
fn speech_import_options(config: &LabelConfig, audio_field: String) -> SpeechImportOptions {
    let audio = config
        .objects
        .iter()
        .find(|o| o.kind == ObjectKind::Audio && o.value == audio_field);
    let on_audio = |kind: ControlKind, per_region: Option<bool>| {
        let audio = audio?;
        config
            .controls
            .iter()
            .find(|c| {
                c.kind == kind
                    && c.to_names.contains(&audio.name)
                    && per_region.is_none_or(|p| c.per_region == p)
            })
            .map(|c| {
                (
                    ControlRef {
                        from_name: c.name.clone(),
                        to_name: audio.name.clone(),
                    },
                    c.labels.iter().map(|l| l.value.clone()).collect::<Vec<_>>(),
                )
            })
    };
    SpeechImportOptions {
        audio_field,
        labels: on_audio(ControlKind::Labels, None),
        transcript: on_audio(ControlKind::TextArea, Some(true)).map(|(c, _)| c),
        file_transcript: on_audio(ControlKind::TextArea, Some(false)).map(|(c, _)| c),
    }
}

/// What is wrong with a `<Paragraphs>`' data, if anything: it is a list of
/// objects whose `text_key` is a string (the field, after the data key, and
/// the reason).
fn paragraphs_problem(value: &Value, text_key: &str) -> Option<(String, String)> {
    let Value::Array(paragraphs) = value else {
        return Some((
            String::new(),
            format!(
                "paragraphs are a list of objects with a \"{text_key}\", not {}",
                gloss_formats::json_kind(value)
            ),
        ));
    };
    paragraphs
        .iter()
        .enumerate()
        .find_map(|(index, paragraph)| {
            let text = paragraph.get(text_key);
            (!matches!(text, Some(Value::String(_)))).then(|| {
                (
                    format!("[{index}].{text_key}"),
                    "each paragraph needs its text as a string".to_owned(),
                )
            })
        })
}

/// The KeyPointLabels controls, with their skeletons and joints.
fn keypoint_controls(config: &LabelConfig) -> Vec<KeypointControl> {
    config
        .controls
        .iter()
        .filter(|control| control.kind == ControlKind::KeyPointLabels)
        .filter_map(|control| {
            Some(KeypointControl {
                control: ControlRef {
                    from_name: control.name.clone(),
                    to_name: control.to_names.first()?.clone(),
                },
                skeleton: control.skeleton.as_ref().map(|s| s.value.clone()),
                joints: control.labels.iter().map(|l| l.value.clone()).collect(),
            })
        })
        .collect()
}

/// The CVAT attribute a per-region control is: choices, text or a number.
pub(crate) fn cvat_attribute_kind(kind: ControlKind) -> Option<gloss_formats::CvatAttributeKind> {
    use gloss_formats::CvatAttributeKind;
    match kind {
        ControlKind::Choices => Some(CvatAttributeKind::Choices),
        ControlKind::TextArea => Some(CvatAttributeKind::Text),
        ControlKind::Number => Some(CvatAttributeKind::Number),
        _ => None,
    }
}

/// How a CVAT file's shapes go into the project's controls.
fn cvat_import_options(
    config: &LabelConfig,
    image_field: String,
) -> gloss_formats::CvatImportOptions {
    use gloss_formats::CvatAttributeControl;
    let control = |kind: ControlKind| control_ref(config, kind);
    let attributes = config
        .controls
        .iter()
        .filter(|c| c.per_region)
        .filter_map(|c| {
            let kind = cvat_attribute_kind(c.kind)?;
            Some(CvatAttributeControl {
                control: ControlRef {
                    from_name: c.name.clone(),
                    to_name: c.to_names.first()?.clone(),
                },
                kind,
            })
        })
        .collect();
    gloss_formats::CvatImportOptions {
        image_field,
        rectangles: control(ControlKind::RectangleLabels),
        brushes: control(ControlKind::BrushLabels),
        polygons: control(ControlKind::PolygonLabels),
        polylines: control(ControlKind::PolyLineLabels),
        ellipses: control(ControlKind::EllipseLabels),
        keypoints: keypoint_controls(config),
        choices: config
            .controls
            .iter()
            .find(|c| c.kind == ControlKind::Choices && !c.per_region)
            .and_then(|c| {
                Some(ControlRef {
                    from_name: c.name.clone(),
                    to_name: c.to_names.first()?.clone(),
                })
            }),
        attributes,
    }
}

/// Reads every annotation file at the top of a CVAT dataset, numbering the
/// images on from one file to the next.
fn read_cvat_files(
    source: &FolderSource,
    options: &gloss_formats::CvatImportOptions,
) -> std::result::Result<(Vec<TaskRecord>, Vec<Rejection>), gloss_formats::FormatError> {
    let mut records = Vec::new();
    let mut rejections = Vec::new();
    for file in source.top_level_xml() {
        let bytes = gloss_formats::FileSource::read(source, file)?;
        let (read, mut rejected) = gloss_formats::read_cvat_images(&bytes[..], options)?;
        let offset = records.len() as u64;
        for rejection in &mut rejected {
            rejection.row += offset;
            rejection.field = format!("{file}:{}", rejection.field);
        }
        records.extend(read);
        rejections.extend(rejected);
    }
    Ok((records, rejections))
}

/// Whether the file starts like a zip archive.
async fn is_zip(path: &Path) -> bool {
    use tokio::io::AsyncReadExt;
    let mut head = [0u8; 4];
    match tokio::fs::File::open(path).await {
        Ok(mut file) => file.read_exact(&mut head).await.is_ok() && head == *b"PK\x03\x04",
        Err(_) => false,
    }
}

async fn guess_format(file: &ImportFile) -> Result<Option<InputFormat>> {
    use tokio::io::AsyncReadExt;
    let mut head = vec![0; 64 * 1024];
    let mut opened = tokio::fs::File::open(&file.path)
        .await
        .map_err(|err| Error::invalid("files", format!("cannot open {}: {err}", file.name)))?;
    let mut filled = 0;
    while filled < head.len() {
        let n = opened
            .read(&mut head[filled..])
            .await
            .map_err(|err| Error::invalid("files", format!("cannot read {}: {err}", file.name)))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    head.truncate(filled);
    if let Some(format) = gloss_formats::detect(&file.name, &head) {
        return Ok(Some(format));
    }
    let kind = gloss_media::sniff(&head);
    if kind.is_image() || kind.is_audio() || kind.is_video() {
        return Ok(None);
    }
    Err(Error::invalid(
        "files",
        format!(
            "{}: not a task file (JSON, JSONL, CSV, TSV, COCO, Label Studio) nor an image, audio or video file; its content is {}",
            file.name,
            kind.content_type()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_names_join() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.png"), b"x").unwrap();
        assert!(safe_join(dir.path(), "a.png").is_some());
        assert!(safe_join(dir.path(), "missing.png").is_some());
        assert!(safe_join(dir.path(), "../a.png").is_none());
        assert!(safe_join(dir.path(), "/etc/passwd").is_none());
        assert!(safe_join(dir.path(), "sub/../../a.png").is_none());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", dir.path().join("out")).unwrap();
            assert!(safe_join(dir.path(), "out/hostname").is_none());
        }
    }

    #[test]
    fn media_urls_round_trip() {
        let key = "ab".repeat(32);
        assert_eq!(media_key_of(&media_url(&key)).unwrap().as_str(), key);
        assert!(media_key_of("/api/v1/media/../x").is_none());
    }
}
