//! One module per command.

pub mod backup;
pub mod demo;
pub mod export;
pub mod import;
pub mod pay;
pub mod productivity;
pub mod project;
pub mod quality;
pub mod serve;
pub mod training;
pub mod user;

use crate::config::{Settings, EXAMPLE};
use anyhow::{Context, Result};
use clap::Subcommand;
use gloss_engine::{Engine, EngineConfig};
use gloss_media::MediaStore;
use gloss_store::{Store, StoreOptions};
use std::io::BufRead;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every setting with comments (a starting gloss.toml)
    Example,
    /// Print the settings in effect
    Show,
}

pub fn config_command(settings: &Settings, command: ConfigCommand) -> Result<()> {
    match command {
        ConfigCommand::Example => print!("{EXAMPLE}"),
        ConfigCommand::Show => {
            println!("data = {:?}", settings.data_dir.display().to_string());
            println!(
                "database = {:?}",
                gloss_store::redact_url(&settings.database_url)
            );
            println!("media = {:?}", settings.media_url);
            println!(
                "sqlite_sync = {:?}",
                format!("{:?}", settings.sqlite_sync).to_lowercase()
            );
            println!("max_upload_bytes = {}", settings.upload_limits.max_bytes);
            println!(
                "max_image_pixels = {}",
                settings.upload_limits.max_image_pixels
            );
            println!("fetch_urls = {}", settings.fetch.is_some());
            let allow: Vec<String> = settings
                .fetch_allow
                .iter()
                .map(|net| format!("{net:?}"))
                .collect();
            println!("fetch_allow = {allow:?}");
        }
    }
    Ok(())
}

/// Opens the database and media without migrating (backup and restore work
/// on any schema version).
pub async fn open_stores(settings: &Settings) -> Result<(Store, MediaStore)> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating the data folder {}", settings.data_dir.display()))?;
    let options = StoreOptions {
        sqlite_sync: settings.sqlite_sync,
        ..StoreOptions::default()
    };
    let store = Store::open(&settings.database_url, &options).await?;
    let media = MediaStore::open(&settings.media_url)?;
    Ok((store, media))
}

/// Opens the instance, migrating the database (after an automatic backup).
pub async fn open_engine(settings: &Settings) -> Result<Engine> {
    let (store, media) = open_stores(settings).await?;
    if let Some(path) = Engine::prepare_store(&store, &media, &settings.backup_dir()).await? {
        eprintln!(
            "The database schema was upgraded; a backup from before is at {}",
            path.display()
        );
    }
    let mut config = EngineConfig::new(settings.backup_dir());
    config.upload_dir = settings.data_dir.join("uploads");
    config.cache_dir = settings.data_dir.join("cache");
    config.upload_limits = settings.upload_limits.clone();
    config.fetch = settings.fetch.clone();
    config.fetch_allow = settings.fetch_allow.clone();
    Ok(Engine::new(store, media, config))
}

/// A secret from an environment variable or, failing that, the first line of
/// standard input, so that it never appears in the process list.
pub fn secret_from(variable: &str, what: &str) -> Result<String> {
    if let Ok(value) = std::env::var(variable) {
        return Ok(value);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("reading the {what} from standard input"))?;
    let secret = line.trim_end_matches(['\r', '\n']).to_string();
    if secret.is_empty() {
        anyhow::bail!("no {what}: set {variable} or write it on standard input");
    }
    Ok(secret)
}
