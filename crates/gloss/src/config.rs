//! Settings, from three places: `gloss.toml`, then `GLOSS_*` environment
//! variables, then command-line flags; a later place wins. Parsed once here
//! and handed down as plain values: no other crate reads the environment.

use anyhow::{bail, Context, Result};
use clap::Args;
use gloss_store::SqliteSync;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Every setting, commented, as `gloss config example` prints it.
pub const EXAMPLE: &str = include_str!("../../../gloss.example.toml");

/// Flags every command takes (each also as a `GLOSS_*` variable).
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Settings file [default: ./gloss.toml when it exists]
    #[arg(long, global = true, env = "GLOSS_SETTINGS", value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Folder for the embedded database, media and backups [default: ./gloss-data]
    #[arg(long, global = true, env = "GLOSS_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Database: sqlite://PATH or postgres://USER:PASSWORD@HOST/DB [default: SQLite in the data folder]
    #[arg(long, global = true, env = "GLOSS_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// Media storage: file://DIR [default: the data folder's media/]
    #[arg(long, global = true, env = "GLOSS_MEDIA", value_name = "URL")]
    pub media: Option<String>,
    /// SQLite durability: `full` (survives power loss) or `normal` (survives crashes) [default: full]
    #[arg(long, global = true, env = "GLOSS_SQLITE_SYNC", value_name = "MODE")]
    pub sqlite_sync: Option<String>,
    /// Log level: error, warn, info, debug or trace [default: info]
    #[arg(long, global = true, env = "GLOSS_LOG", value_name = "LEVEL")]
    pub log: Option<String>,
    /// Largest uploaded or imported media file, in bytes [default: 2 GiB]
    #[arg(
        long,
        global = true,
        env = "GLOSS_MAX_UPLOAD_BYTES",
        value_name = "BYTES"
    )]
    pub max_upload_bytes: Option<u64>,
    /// Images with more pixels (width × height) are refused before decoding [default: 178956970]
    #[arg(
        long,
        global = true,
        env = "GLOSS_MAX_IMAGE_PIXELS",
        value_name = "PIXELS"
    )]
    pub max_image_pixels: Option<u64>,
    /// Copy http(s) media URLs in imported task data into the media store [default: false]
    #[arg(long, global = true, env = "GLOSS_FETCH_URLS", value_name = "BOOL")]
    pub fetch_urls: Option<bool>,
    /// Comma-separated private networks that URL fetching and red-teaming model endpoints may reach, e.g. 10.1.0.0/16 or 127.0.0.1 [default: none]
    #[arg(long, global = true, env = "GLOSS_FETCH_ALLOW", value_name = "CIDRS")]
    pub fetch_allow: Option<String>,
}

/// `gloss.toml`: the same settings as the flags, by the same names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub database: Option<String>,
    pub media: Option<String>,
    pub sqlite_sync: Option<String>,
    pub log: Option<String>,
    pub bind: Option<String>,
    pub demo: Option<bool>,
    pub secure_cookies: Option<bool>,
    pub max_upload_bytes: Option<u64>,
    pub max_image_pixels: Option<u64>,
    pub max_import_bytes: Option<u64>,
    pub fetch_urls: Option<bool>,
    pub fetch_allow: Option<Vec<String>>,
}

/// The settings every command needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub media_url: String,
    pub sqlite_sync: SqliteSync,
    pub log_level: tracing::Level,
    pub upload_limits: gloss_media::UploadLimits,
    /// `None`: media URLs are never fetched.
    pub fetch: Option<gloss_media::FetchPolicy>,
    /// Non-public networks that URL fetching and model endpoints may reach.
    pub fetch_allow: Vec<gloss_media::IpNet>,
}

impl Settings {
    pub fn backup_dir(&self) -> PathBuf {
        self.data_dir.join("backups")
    }
}

/// Reads the settings file named by `--settings`, or `./gloss.toml` when present.
pub fn read_file_config(args: &GlobalArgs) -> Result<FileConfig> {
    let (path, required) = match &args.settings {
        Some(path) => (path.clone(), true),
        None => (PathBuf::from("gloss.toml"), false),
    };
    if !required && !path.exists() {
        return Ok(FileConfig::default());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the settings file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("in the settings file {}", path.display()))
}

pub fn resolve(args: &GlobalArgs, file: &FileConfig) -> Result<Settings> {
    let data_dir = args
        .data
        .clone()
        .or_else(|| file.data.clone())
        .unwrap_or_else(|| PathBuf::from("gloss-data"));
    let data_dir = absolute(&data_dir)?;
    let database_url = match args.database.clone().or_else(|| file.database.clone()) {
        Some(url) => url,
        None => format!("sqlite://{}", data_dir.join("gloss.db").display()),
    };
    let media_url = match args.media.clone().or_else(|| file.media.clone()) {
        Some(url) => url,
        None => format!("file://{}", data_dir.join("media").display()),
    };
    let sqlite_sync = match args.sqlite_sync.as_deref().or(file.sqlite_sync.as_deref()) {
        None => SqliteSync::Full,
        Some(text) => match SqliteSync::parse(text) {
            Some(sync) => sync,
            None => bail!("sqlite_sync: `{text}` is not `full` or `normal`"),
        },
    };
    let log_level = match args
        .log
        .as_deref()
        .or(file.log.as_deref())
        .unwrap_or("info")
    {
        "error" => tracing::Level::ERROR,
        "warn" => tracing::Level::WARN,
        "info" => tracing::Level::INFO,
        "debug" => tracing::Level::DEBUG,
        "trace" => tracing::Level::TRACE,
        other => bail!("log: `{other}` is not one of error, warn, info, debug, trace"),
    };
    let defaults = gloss_media::UploadLimits::default();
    let upload_limits = gloss_media::UploadLimits {
        max_bytes: args
            .max_upload_bytes
            .or(file.max_upload_bytes)
            .unwrap_or(defaults.max_bytes),
        max_image_pixels: args
            .max_image_pixels
            .or(file.max_image_pixels)
            .unwrap_or(defaults.max_image_pixels),
    };
    let allow: Vec<String> = match (&args.fetch_allow, &file.fetch_allow) {
        (Some(list), _) => list
            .split(',')
            .map(|entry| entry.trim().to_string())
            .filter(|entry| !entry.is_empty())
            .collect(),
        (None, Some(list)) => list.clone(),
        (None, None) => Vec::new(),
    };
    let allow = gloss_media::FetchPolicy::parse_allow(&allow)
        .map_err(|err| anyhow::anyhow!("fetch_allow: {err}"))?;
    let fetch = args
        .fetch_urls
        .or(file.fetch_urls)
        .unwrap_or(false)
        .then(|| gloss_media::FetchPolicy {
            allow: allow.clone(),
            max_bytes: upload_limits.max_bytes,
            ..gloss_media::FetchPolicy::default()
        });
    Ok(Settings {
        data_dir,
        database_url,
        media_url,
        sqlite_sync,
        log_level,
        upload_limits,
        fetch,
        fetch_allow: allow,
    })
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()
            .context("reading the current folder")?
            .join(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_args() -> GlobalArgs {
        GlobalArgs {
            settings: None,
            data: None,
            database: None,
            media: None,
            sqlite_sync: None,
            log: None,
            max_upload_bytes: None,
            max_image_pixels: None,
            fetch_urls: None,
            fetch_allow: None,
        }
    }

    #[test]
    fn flags_win_over_the_file_and_defaults_follow_the_data_folder() {
        let file: FileConfig =
            toml::from_str("data = \"/srv/gloss\"\nsqlite_sync = \"normal\"").unwrap();
        let settings = resolve(&no_args(), &file).unwrap();
        assert_eq!(settings.database_url, "sqlite:///srv/gloss/gloss.db");
        assert_eq!(settings.media_url, "file:///srv/gloss/media");
        assert_eq!(settings.sqlite_sync, SqliteSync::Normal);
        let args = GlobalArgs {
            data: Some(PathBuf::from("/elsewhere")),
            ..no_args()
        };
        assert_eq!(
            resolve(&args, &file).unwrap().data_dir,
            PathBuf::from("/elsewhere")
        );
    }

    #[test]
    fn unknown_settings_and_bad_values_are_named() {
        let err = toml::from_str::<FileConfig>("datta = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("datta"), "{err}");
        let file = FileConfig {
            sqlite_sync: Some("sometimes".to_string()),
            ..FileConfig::default()
        };
        let err = resolve(&no_args(), &file).unwrap_err().to_string();
        assert!(
            err.contains("sqlite_sync") && err.contains("sometimes"),
            "{err}"
        );
    }

    #[test]
    fn the_example_file_parses() {
        toml::from_str::<FileConfig>(EXAMPLE).unwrap();
    }
}
