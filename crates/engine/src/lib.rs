//! The use-cases of Gloss: signing in, accounts and tokens, projects and their
//! members, backups. Every decision about who may do what is made here, so
//! the HTTP server and the command line ask the same questions and get the
//! same answers.
//!
//! The engine knows nothing about HTTP, cookies, command-line flags or SQL: it
//! talks to `gloss-store` and `gloss-media` and returns typed results or an
//! [`Error`] with a stable [`gloss_types::Code`].

mod access;
mod auth;
pub mod backup;
mod chat;
mod comments;
mod compare;
mod consensus;
mod datamanager;
mod dataset;
mod error;
mod export;
mod gold;
mod guidelines;
mod import;
mod invites;
mod label_changes;
mod markdown;
mod media;
mod objects;
mod pay;
mod people;
mod productivity;
mod projects;
mod qualification;
mod quality;
mod queue;
mod review;
mod tasks;
mod training;
mod users;
mod work;

pub use access::Actor;
pub use auth::{LoginLimits, NewSession, NewToken, SessionCaller};
pub use backup::{BackupSummary, RestoreSummary};
pub use chat::{
    chat_url, ChatReply, ChatStatus, ChatTurn, KeyChange, ModelEndpointUpdate, ModelEndpointView,
};
pub use comments::{CommentInput, Notifications, MAX_COMMENT_BYTES};
pub use compare::{ComparedAnnotation, TaskComparison};
pub use consensus::TaskConsensus;
pub use datamanager::{
    BulkActionName, BulkDone, BulkRequest, DataFilter, DataFilterOp, TableRequest, TaskFilter,
    TaskTablePage, TaskTableRow, View, ViewInput, ViewPatch,
};
pub use dataset::{MAX_DATASET_FILES, MAX_UNPACKED_BYTES};
pub use error::{Error, Result};
pub use export::{ExportAnnotations, ExportFormat, ExportOptions, ExportSummary, ExportTarget};
pub use gloss_store::QualificationPatch;
pub use guidelines::{GuidelineVersion, Guidelines, MAX_GUIDELINES_BYTES};
pub use import::{media_url, ImportFile, ImportOptions, MEDIA_URL_PREFIX};
pub use invites::{InvitePreset, NewInviteLink, MAX_INVITE_DAYS};
pub use label_changes::{ControlUse, LabelChange, LabelConfigImpact, LabelUse};
pub use markdown::{render_markdown, sanitize_html, MAX_MARKDOWN_BYTES, MAX_MARKDOWN_TEXTS};
pub use media::{ByteRange, MediaDownload};
pub use objects::{masks_of, poses_of};
pub use pay::{
    hours, pay_period_of, payroll_csv, DateRange, Money, PayEntry, PayRate, PayRateInput, Payroll,
    PayrollRow, TimeRow, Timesheet, TimesheetPeriod, PAYROLL_CSV_HEADER,
};
pub use people::{ProfileUpdate, MAX_TAGS, MAX_TAG_CHARS};
pub use productivity::{
    AnnotatorProductivity, DayWork, FraudFlag, Leaderboard, ProductivityReport,
};
pub use projects::{label_config_check, LabelConfigCheck, ProjectInput, ProjectUpdate};
pub use qualification::{AttemptSummary, AttemptTask, AttemptView, QualificationStatus, TestLink};
pub use quality::{
    saved_answers_dir, AnnotatorQuality, Confusion, ControlQuality, DayQuality, GoldDay,
    LabelAgreement, PairAgreement, QualityReport, QualityWindow, TaskAgreement,
};
pub use queue::{NextTask, SubmittedAnnotation, WorkInput, MAX_RESULT_ITEMS};
pub use review::{ReviewInput, ReviewItem, ReviewProgress, Rework, MAX_REVIEW_COMMENT_BYTES};
pub use tasks::{TaskCounts, TaskDetail};
pub use training::{ControlFeedback, TrainingFeedback};
pub use work::WorkItem;

use gloss_media::MediaStore;
use gloss_store::Store;
use std::path::{Path, PathBuf};

/// Settings the engine needs, handed down from the configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where automatic backups are written before migrations.
    pub backup_dir: PathBuf,
    /// How long a browser session lasts without signing in again.
    pub session_ttl_seconds: i64,
    pub login_limits: LoginLimits,
    /// Where uploads wait while they are imported (on the same disk as the
    /// media, so that moving them into the store is cheap).
    pub upload_dir: PathBuf,
    /// Where what is derived from media and costly to compute again is
    /// kept (waveform peaks of sounds); safe to delete at any time.
    pub cache_dir: PathBuf,
    /// What an uploaded or imported file may be.
    pub upload_limits: gloss_media::UploadLimits,
    /// Fetching media from URLs in task data; `None` (the default) fetches nothing.
    pub fetch: Option<gloss_media::FetchPolicy>,
    /// Networks that are not public but that model endpoints for chats may
    /// reach (the same allow-list as URL imports, `fetch_allow`).
    pub fetch_allow: Vec<gloss_media::IpNet>,
    /// How long a model endpoint has to answer one chat message.
    pub model_timeout: std::time::Duration,
}

impl EngineConfig {
    pub fn new(backup_dir: PathBuf) -> EngineConfig {
        let data_dir = backup_dir
            .parent()
            .map_or_else(std::env::temp_dir, Path::to_path_buf);
        EngineConfig {
            backup_dir,
            upload_dir: data_dir.join("uploads"),
            cache_dir: data_dir.join("cache"),
            session_ttl_seconds: 14 * 24 * 3600,
            login_limits: LoginLimits::default(),
            upload_limits: gloss_media::UploadLimits::default(),
            fetch: None,
            fetch_allow: Vec::new(),
            model_timeout: std::time::Duration::from_secs(120),
        }
    }
}

/// One Gloss instance: its database, its media, and the rules.
#[derive(Debug)]
pub struct Engine {
    store: Store,
    media: MediaStore,
    config: EngineConfig,
    login_limiter: auth::LoginLimiter,
    fetcher: Option<gloss_media::Fetcher>,
    /// Rows read by the imports running in this process.
    import_progress: std::sync::Mutex<std::collections::HashMap<gloss_types::ImportId, i64>>,
    /// Frame indexes of videos read lately, by media key (see `media.rs`).
    video_frames: media::VideoTables<gloss_media::VideoFrames>,
    /// Sample tables of H.264 videos read lately, by media key (see `media.rs`).
    video_samples: media::VideoTables<gloss_media::VideoSamples>,
    /// One permit: imported sounds' waveforms are computed one at a time.
    peak_warmer: std::sync::Arc<tokio::sync::Semaphore>,
    /// Projects' answers kept between quality reports (see `quality.rs`).
    quality_cache: quality::AnswerCache,
    /// Chats waiting for a model endpoint, per user (see `chat.rs`).
    chats_in_flight: chat::InFlight,
}

impl Engine {
    /// Opens an instance whose database is already migrated (see [`Engine::prepare_store`]).
    pub fn new(store: Store, media: MediaStore, config: EngineConfig) -> Engine {
        let login_limiter = auth::LoginLimiter::new(config.login_limits);
        let fetcher = config.fetch.clone().map(gloss_media::Fetcher::new);
        Engine {
            store,
            media,
            config,
            login_limiter,
            fetcher,
            import_progress: Default::default(),
            video_frames: Default::default(),
            video_samples: Default::default(),
            peak_warmer: std::sync::Arc::new(tokio::sync::Semaphore::new(1)),
            chats_in_flight: Default::default(),
            quality_cache: Default::default(),
        }
    }

    /// Brings the database to the current schema. When an existing database
    /// needs migrations, a backup of it and the media is written first, and
    /// its path returned.
    pub async fn prepare_store(
        store: &Store,
        media: &MediaStore,
        backup_dir: &std::path::Path,
    ) -> Result<Option<PathBuf>> {
        let pending = store.pending_migrations().await?;
        let Some(last) = pending.last() else {
            return Ok(None);
        };
        let current = store.schema_version().await?;
        let mut backup_path = None;
        if current > 0 {
            let stamp = gloss_types::Timestamp::now().millis();
            let path = backup_dir.join(format!(
                "before-migration-v{current}-to-v{}-{stamp}.tar.gz",
                last.version
            ));
            backup::write_backup(store, media, &path).await?;
            tracing::info!(path = %path.display(), "backed up before migrating");
            backup_path = Some(path);
        }
        store.migrate().await?;
        Ok(backup_path)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn media(&self) -> &MediaStore {
        &self.media
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// A new temporary file for an upload, in the upload folder.
    pub fn upload_file(&self) -> Result<tempfile::NamedTempFile> {
        std::fs::create_dir_all(&self.config.upload_dir)
            .and_then(|()| tempfile::NamedTempFile::new_in(&self.config.upload_dir))
            .map_err(|err| Error::internal(format!("cannot create an upload file: {err}")))
    }
}
