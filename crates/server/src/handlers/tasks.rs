//! Tasks: importing them (JSON bodies and multipart uploads), import jobs,
//! reading them, and exporting a project.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller, PageQuery, Paging};
use crate::App;
use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use gloss_engine::{
    ExportAnnotations, ExportFormat, ExportOptions, ExportTarget, ImportFile, ImportOptions,
    TaskCounts, TaskDetail,
};
use gloss_formats::{InputFormat, SplitRatios};
use gloss_types::{Code, Import, ImportId, ImportState, Page, ProjectId, Task, TaskId, TaskStatus};
use serde::{Deserialize, Serialize};
use std::io::Write;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    // Imports carry files far larger than JSON requests; each file is limited
    // while it streams to disk instead (the upload size limit).
    let uploads = OpenApiRouter::new()
        .routes(routes!(import_tasks, list_tasks))
        .routes(routes!(upload_import))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(get_import))
        .routes(routes!(get_task, patch_task))
        .routes(routes!(task_counts))
        .routes(routes!(export_project))
}

/// What a finished import wrote.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImportCreated {
    /// Tasks created.
    created: i64,
    annotations: i64,
    predictions: i64,
    /// The import job, for its report.
    import_id: ImportId,
}

/// Import tasks from the body: a JSON array (or one object) of Label
/// Studio-style tasks (`{"data": {...}, "annotations": [...], "predictions":
/// [...]}`) or bare data objects; JSONL with `Content-Type:
/// application/x-ndjson`; CSV with `text/csv`. All or nothing: any rejected
/// row fails the import with a 422 listing every rejected row (row, field,
/// reason) in `details.problems`.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/tasks", tag = "tasks",
    params(("project_id" = i64, Path)),
    request_body(content = Vec<Object>, content_type = "application/json"),
    responses((status = 201, body = ImportCreated), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_tasks(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    request: Request,
) -> ApiResult<(StatusCode, Json<ImportCreated>)> {
    let project = ProjectId(project_id);
    app.engine.check_import(&actor, project).await?;
    let format = body_format(request.headers())?;
    let limit = app.config.max_import_bytes;
    let upload = app.engine.upload_file()?;
    let path = upload.path().to_path_buf();
    let file = upload.reopen().map_err(|err| {
        ApiError::new(
            Code::Internal,
            format!("cannot open the upload file: {err}"),
        )
    })?;
    save_body(request.into_body().into_data_stream(), file, limit).await?;
    let files = vec![ImportFile {
        name: "request body".to_string(),
        path,
    }];
    let options = ImportOptions {
        format: Some(format),
        images_dir: None,
        ..ImportOptions::default()
    };
    // The import runs to its end even if the client goes away, so that its
    // job is always finished (completed or failed), never left running.
    let engine = app.engine.clone();
    let job = tokio::spawn(async move {
        let job = engine.import_files(&actor, project, files, options).await;
        drop(upload);
        job
    })
    .await
    .map_err(|err| ApiError::new(Code::Internal, format!("the import stopped: {err}")))??;
    if job.state != ImportState::Completed {
        return Err(import_failed(job));
    }
    Ok((
        StatusCode::CREATED,
        Json(ImportCreated {
            created: job.tasks_created,
            annotations: job.annotations_created,
            predictions: job.predictions_created,
            import_id: job.id,
        }),
    ))
}

fn import_failed(job: Import) -> ApiError {
    let message = job
        .error
        .clone()
        .unwrap_or_else(|| "the import failed; nothing was imported".to_string());
    let mut err = gloss_engine::Error::new(Code::InvalidField, message);
    err.problems = serde_json::to_value(&job.rejected).ok();
    if let Some(first) = job.rejected.first() {
        err.field = Some(format!("[{}].{}", first.row, first.field));
    }
    ApiError(err)
}

fn body_format(headers: &HeaderMap) -> ApiResult<InputFormat> {
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => Ok(InputFormat::Json),
        "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines" => {
            Ok(InputFormat::Jsonl)
        }
        "text/csv" => Ok(InputFormat::Csv),
        "text/tab-separated-values" => Ok(InputFormat::Tsv),
        _ => Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send tasks as application/json, application/x-ndjson, text/csv or \
             text/tab-separated-values; upload files with multipart/form-data to /imports",
        )),
    }
}

/// Streams a body to `file`, refusing it as soon as it passes `limit` bytes.
async fn save_body<S, E>(mut body: S, file: std::fs::File, limit: u64) -> ApiResult<()>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::File::from_std(file);
    let mut written: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|err| {
            ApiError::new(Code::BadRequest, format!("reading the body failed: {err}"))
        })?;
        written += chunk.len() as u64;
        if written > limit {
            return Err(ApiError::new(
                Code::PayloadTooLarge,
                format!("the upload is larger than the limit of {limit} bytes"),
            ));
        }
        tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
            .await
            .map_err(|err| {
                ApiError::new(Code::Internal, format!("cannot save the upload: {err}"))
            })?;
    }
    tokio::io::AsyncWriteExt::flush(&mut file)
        .await
        .map_err(|err| ApiError::new(Code::Internal, format!("cannot save the upload: {err}")))?;
    Ok(())
}

/// Upload files to import, as `multipart/form-data`: any number of `file`
/// parts (images, or JSON/JSONL/CSV/TSV/COCO/Label Studio/CoNLL-2003/spaCy task files) and an
/// optional `format` part (`auto` by default). Answers at once with the
/// running import; follow it at `/api/v1/imports/{id}`.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/imports", tag = "tasks",
    params(("project_id" = i64, Path)),
    request_body(content_type = "multipart/form-data", content = Object),
    responses((status = 202, body = Import), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_import(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<Import>)> {
    let project = ProjectId(project_id);
    // Refuse before a single byte of a file is stored.
    app.engine.check_import(&actor, project).await?;
    let mut multipart = multipart.map_err(|rejection| {
        ApiError::new(
            Code::UnsupportedMediaType,
            format!(
                "send the files as multipart/form-data: {}",
                rejection.body_text()
            ),
        )
    })?;
    let limit = app.engine.config().upload_limits.max_bytes;
    let mut uploads = Vec::new();
    let mut format = None;
    while let Some(field) = multipart.next_field().await.map_err(|err| {
        ApiError::new(Code::BadRequest, format!("malformed multipart body: {err}"))
    })? {
        match field.name() {
            Some("format") => {
                let text = field.text().await.map_err(|err| {
                    ApiError::new(Code::BadRequest, format!("malformed multipart body: {err}"))
                })?;
                format = parse_format(&text)?;
            }
            Some("file") | Some("files") | Some("files[]") => {
                // The name is for reports and format guessing only; it never
                // becomes a path.
                let name = field
                    .file_name()
                    .map(|name| name.rsplit(['/', '\\']).next().unwrap_or(name).to_string())
                    .filter(|name| !name.is_empty())
                    .unwrap_or_else(|| format!("file {}", uploads.len() + 1));
                let upload = app.engine.upload_file()?;
                let file = upload.reopen().map_err(|err| {
                    ApiError::new(
                        Code::Internal,
                        format!("cannot open the upload file: {err}"),
                    )
                })?;
                save_body(field, file, limit).await.map_err(|err| {
                    let mut err = err.0;
                    err.message = format!("{name}: {}", err.message);
                    ApiError(err)
                })?;
                uploads.push((name, upload));
            }
            Some(other) => {
                return Err(ApiError::invalid(
                    other,
                    "unknown part; send `file` parts and an optional `format`",
                ))
            }
            None => return Err(ApiError::invalid("", "every part needs a name")),
        }
    }
    if uploads.is_empty() {
        return Err(ApiError::invalid("file", "send at least one file part"));
    }
    let mut files = Vec::new();
    for (name, upload) in uploads {
        // The import job removes its files when it ends.
        let (_, path) = upload.keep().map_err(|err| {
            ApiError::new(Code::Internal, format!("cannot keep the upload: {err}"))
        })?;
        files.push(ImportFile { name, path });
    }
    let options = ImportOptions {
        format,
        images_dir: None,
        ..ImportOptions::default()
    };
    let paths: Vec<_> = files.iter().map(|file| file.path.clone()).collect();
    match app
        .engine
        .start_import(&actor, project, files, options)
        .await
    {
        Ok(job) => Ok((StatusCode::ACCEPTED, Json(job))),
        Err(err) => {
            for path in paths {
                let _ = std::fs::remove_file(path);
            }
            Err(err.into())
        }
    }
}

fn parse_format(text: &str) -> ApiResult<Option<InputFormat>> {
    match text.trim() {
        "" | "auto" => Ok(None),
        name => InputFormat::parse(name).map(Some).ok_or_else(|| {
            ApiError::invalid(
                "format",
                "must be auto, json, jsonl, csv, tsv, coco, label-studio, conll2003, spacy, preference-jsonl, ranking-jsonl or chat-jsonl",
            )
        }),
    }
}

/// An import job: its state, progress while it runs, and the report of every
/// rejected row when it failed.
#[utoipa::path(get, path = "/api/v1/imports/{import_id}", tag = "tasks",
    params(("import_id" = i64, Path)),
    responses((status = 200, body = Import), (status = 404, body = ErrorBody)))]
async fn get_import(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(import_id): ApiPath<i64>,
) -> ApiResult<Json<Import>> {
    Ok(Json(
        app.engine.import_job(&actor, ImportId(import_id)).await?,
    ))
}

/// A project's tasks in id order (reviewers and managers).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/tasks", tag = "tasks",
    params(("project_id" = i64, Path), PageQuery),
    responses((status = 200, body = Page<Task>), (status = 404, body = ErrorBody)))]
async fn list_tasks(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    Paging(page): Paging,
) -> ApiResult<Json<Page<Task>>> {
    Ok(Json(
        app.engine
            .list_tasks(&actor, ProjectId(project_id), page)
            .await?,
    ))
}

/// How many tasks a project has, per status (any member).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/task-counts", tag = "tasks",
    params(("project_id" = i64, Path)),
    responses((status = 200, body = TaskCounts), (status = 404, body = ErrorBody)))]
async fn task_counts(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
) -> ApiResult<Json<TaskCounts>> {
    Ok(Json(
        app.engine
            .task_counts(&actor, ProjectId(project_id))
            .await?,
    ))
}

/// One task with its annotations and predictions (reviewers and managers).
#[utoipa::path(get, path = "/api/v1/tasks/{task_id}", tag = "tasks",
    params(("task_id" = i64, Path)),
    responses((status = 200, body = TaskDetail), (status = 404, body = ErrorBody)))]
async fn get_task(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
) -> ApiResult<Json<TaskDetail>> {
    Ok(Json(app.engine.task_detail(&actor, TaskId(task_id)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskPatchRequest {
    /// Higher goes first in projects whose queue is ordered by priority.
    priority: i64,
}

/// Change a task's priority (the project's managers).
#[utoipa::path(patch, path = "/api/v1/tasks/{task_id}", tag = "tasks",
    params(("task_id" = i64, Path)), request_body = TaskPatchRequest,
    responses((status = 200, body = Task), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn patch_task(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(task_id): ApiPath<i64>,
    ApiJson(patch): ApiJson<TaskPatchRequest>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        app.engine
            .set_task_priority(&actor, TaskId(task_id), patch.priority)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    /// `json` (Gloss's lossless format), `label-studio`, `coco` or `yolo`.
    format: String,
    /// YOLO only: `detect` (default), `segment`, `pose`, `obb` or `classify`.
    task: Option<String>,
    /// Comma-separated task statuses: `new`, `in_progress`, `completed`.
    status: Option<String>,
    /// Only this annotator's annotations (a username).
    annotator: Option<String>,
    /// `all` (default); `reviewed`: only annotations every review layer
    /// accepted, and only tasks with one; `consensus`: one annotation per
    /// task, its annotators' consensus.
    annotations: Option<String>,
    /// Only tasks with an annotation using this label or choice.
    label: Option<String>,
    /// Train/validation/test proportions, e.g. `0.8,0.1,0.1`; makes the export a zip.
    split: Option<String>,
    /// Seed of the split (default 0): the same seed gives the same split.
    seed: Option<u64>,
    /// COCO and YOLO: include the images (default true; false gives the annotations alone).
    images: Option<bool>,
}

/// Export a project (reviewers and managers), streamed. One JSON document,
/// or a zip when the export has several files (a split, COCO with images, YOLO).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/export", tag = "tasks",
    params(("project_id" = i64, Path), ExportQuery),
    responses((status = 200, description = "The export: application/json, application/x-ndjson (jsonl, nemo-asr, preference-jsonl, ranking-jsonl, chat-jsonl), text/plain (conll2003, rttm), application/zip, or application/octet-stream (spacy: a spaCy v3 DocBin)"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export_project(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(project_id): ApiPath<i64>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) =
        query.map_err(|rejection| ApiError::new(Code::BadRequest, rejection.body_text()))?;
    let options = export_options(&query)?;
    let project = ProjectId(project_id);
    let file_name = options.file_name(project);
    let content_type = options.content_type();
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Bytes>(8);
    let engine = app.engine.clone();
    let export = tokio::spawn(async move {
        let target = ExportTarget::Writer(Box::new(ChannelWriter { sender }));
        engine.export(&actor, project, options, target).await
    });
    // Refusals (access, a bad annotator name) come before the first byte:
    // the writer is dropped unused, and they are answered as errors.
    let first = receiver.recv().await;
    let export = match first {
        Some(_) => Some(export),
        None => match export.await {
            Ok(Err(err)) => return Err(err.into()),
            Err(err) => {
                return Err(ApiError::new(
                    Code::Internal,
                    format!("the export stopped: {err}"),
                ))
            }
            Ok(Ok(_)) => None,
        },
    };
    // A failure half-way ends the body with an error, so that the client sees
    // a broken download instead of a silently shortened file.
    let rest = futures::stream::unfold((receiver, export), |(mut receiver, export)| async move {
        if let Some(chunk) = receiver.recv().await {
            return Some((Ok(chunk), (receiver, export)));
        }
        let failure = match export?.await {
            Ok(Ok(_)) => return None,
            Ok(Err(err)) => err.to_string(),
            Err(err) => err.to_string(),
        };
        tracing::error!("export failed while streaming: {failure}");
        Some((Err(std::io::Error::other(failure)), (receiver, None)))
    });
    let body = futures::stream::iter(first.map(Ok::<Bytes, std::io::Error>)).chain(rest);
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

fn export_options(query: &ExportQuery) -> ApiResult<ExportOptions> {
    let format = ExportFormat::parse(&query.format, query.task.as_deref())
        .map_err(|(field, reason)| ApiError::invalid(field, reason))?;
    let mut options = ExportOptions::new(format);
    if let Some(statuses) = &query.status {
        for name in statuses.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            options
                .statuses
                .push(TaskStatus::parse(name).ok_or_else(|| {
                    ApiError::invalid(
                        "status",
                        format!("`{name}` is not new, in_progress or completed"),
                    )
                })?);
        }
    }
    options.annotator = query.annotator.clone();
    options.label = query.label.clone();
    if let Some(choice) = &query.annotations {
        options.annotations = ExportAnnotations::parse(choice).ok_or_else(|| {
            ApiError::invalid("annotations", "must be all, reviewed or consensus")
        })?;
    }
    if let Some(split) = &query.split {
        let ratios =
            SplitRatios::parse(split).map_err(|reason| ApiError::invalid("split", reason))?;
        options.split = Some((ratios, query.seed.unwrap_or(0)));
    } else if query.seed.is_some() {
        return Err(ApiError::invalid(
            "seed",
            "only means something with `split`",
        ));
    }
    if let Some(images) = query.images {
        if !format.has_images() {
            return Err(ApiError::invalid(
                "images",
                "only COCO and YOLO exports include images",
            ));
        }
        options.images = images;
    }
    Ok(options)
}

/// Hands what the export writer writes (on a blocking thread) to the response body.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<Bytes>,
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.sender
            .blocking_send(Bytes::copy_from_slice(bytes))
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
            })?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
