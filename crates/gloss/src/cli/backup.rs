//! `gloss backup` and `gloss restore`

use super::open_stores;
use crate::config::Settings;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to write (.tar.gz)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup written by `gloss backup`
    file: PathBuf,
}

pub async fn backup(settings: &Settings, args: BackupArgs) -> Result<()> {
    let (store, media) = open_stores(settings).await?;
    let summary = gloss_engine::backup::write_backup(&store, &media, &args.out).await?;
    let rows: u64 = summary.tables.iter().map(|(_, rows)| rows).sum();
    eprintln!(
        "Backed up schema v{}: {} rows in {} tables and {} media files ({} bytes) to {}",
        summary.schema_version,
        rows,
        summary.tables.len(),
        summary.media_objects,
        summary.media_bytes,
        summary.path.display()
    );
    store.close().await;
    Ok(())
}

pub async fn restore(settings: &Settings, args: RestoreArgs) -> Result<()> {
    let (store, media) = open_stores(settings).await?;
    let summary = gloss_engine::backup::restore_backup(&store, &media, &args.file).await?;
    // The quality report's saved answers describe the database just replaced.
    let cache_dir = gloss_engine::EngineConfig::new(settings.backup_dir()).cache_dir;
    let _ = std::fs::remove_dir_all(gloss_engine::saved_answers_dir(&cache_dir));
    let rows: u64 = summary.tables.iter().map(|(_, rows)| rows).sum();
    eprintln!(
        "Restored {} rows in {} tables (schema v{}, now current) and {} media files",
        rows,
        summary.tables.len(),
        summary.schema_version,
        summary.media_objects
    );
    store.close().await;
    Ok(())
}
