//! Backups: the database and the media of an instance in one `.tar.gz`.
//!
//! Layout: `db/<table>.jsonl` (one JSON array of column values per row, in the
//! column order the manifest gives), `media/<key>` (each media object), and
//! `manifest.json` last. The database part is read in one transaction and the
//! media after it; media objects are immutable and content-addressed, so
//! every object the database snapshot refers to is already there. A backup is
//! therefore consistent while the server keeps running.
//!
//! Restoring replaces the whole database in one transaction (nothing changes
//! when anything is wrong) and adds the media objects, which are inert until
//! referenced.

use crate::error::{Error, Result};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use futures::StreamExt;
use gloss_media::{MediaKey, MediaStore};
use gloss_store::{SnapshotTable, SnapshotWriter, Store, TableRows};
use gloss_types::{Code, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const FORMAT: &str = "gloss-backup";
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    format_version: u32,
    gloss_version: String,
    created_at: Timestamp,
    backend: String,
    schema_version: i64,
    tables: Vec<SnapshotTable>,
    media_objects: u64,
    media_bytes: u64,
}

/// What a backup holds.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupSummary {
    pub path: PathBuf,
    pub schema_version: i64,
    pub tables: Vec<(String, u64)>,
    pub media_objects: u64,
    pub media_bytes: u64,
}

/// What a restore put back.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreSummary {
    pub schema_version: i64,
    pub tables: Vec<(String, u64)>,
    pub media_objects: u64,
}

/// Writes a backup of `store` and `media` to `path`, atomically: the file
/// appears complete or not at all.
pub async fn write_backup(store: &Store, media: &MediaStore, path: &Path) -> Result<BackupSummary> {
    let parent = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|err| io_error("creating", parent, err))?;
    let scratch =
        tempfile::tempdir_in(parent).map_err(|err| io_error("writing in", parent, err))?;

    // The database first, one consistent read into one file per table.
    let mut tables_writer = TableFiles {
        dir: scratch.path().to_path_buf(),
        current: None,
    };
    let (schema_version, tables) = store.write_snapshot(&mut tables_writer).await?;

    let partial = scratch.path().join("backup.tar.gz");
    let file = File::create(&partial).map_err(|err| io_error("creating", &partial, err))?;
    let mut archive = tar::Builder::new(GzEncoder::new(
        BufWriter::new(file),
        flate2::Compression::fast(),
    ));
    for table in &tables {
        let table_file = scratch.path().join(format!("{}.jsonl", table.name));
        archive
            .append_path_with_name(&table_file, format!("db/{}.jsonl", table.name))
            .map_err(|err| io_error("archiving", &table_file, err))?;
    }

    // Then the media, streamed object by object.
    let objects = media.list().await?;
    let mut media_bytes = 0;
    for (key, size) in &objects {
        let mut header = entry_header(&format!("media/{key}"), *size)?;
        header.set_cksum();
        let out = archive.get_mut();
        out.write_all(header.as_bytes())
            .map_err(|err| io_error("writing", path, err))?;
        let mut written = 0u64;
        let mut chunks = media.stream(key).await?;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            written += chunk.len() as u64;
            out.write_all(&chunk)
                .map_err(|err| io_error("writing", path, err))?;
        }
        if written != *size {
            return Err(Error::internal(format!(
                "media object {key} changed size while being backed up"
            )));
        }
        let padding = (512 - (written % 512) as usize) % 512;
        out.write_all(&vec![0u8; padding])
            .map_err(|err| io_error("writing", path, err))?;
        media_bytes += written;
    }

    let manifest = Manifest {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        gloss_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: Timestamp::now(),
        backend: store.backend().as_str().to_string(),
        schema_version,
        tables: tables.clone(),
        media_objects: objects.len() as u64,
        media_bytes,
    };
    let manifest_json =
        serde_json::to_vec_pretty(&manifest).map_err(|err| Error::internal(err.to_string()))?;
    let mut header = entry_header("manifest.json", manifest_json.len() as u64)?;
    archive
        .append_data(&mut header, "manifest.json", manifest_json.as_slice())
        .map_err(|err| io_error("writing", path, err))?;
    let encoder = archive
        .into_inner()
        .map_err(|err| io_error("writing", path, err))?;
    let mut buffered = encoder
        .finish()
        .map_err(|err| io_error("writing", path, err))?;
    buffered
        .flush()
        .map_err(|err| io_error("writing", path, err))?;
    let file = buffered
        .into_inner()
        .map_err(|err| io_error("writing", path, err.into_error()))?;
    file.sync_all()
        .map_err(|err| io_error("writing", path, err))?;
    std::fs::rename(&partial, path).map_err(|err| io_error("writing", path, err))?;

    Ok(BackupSummary {
        path: path.to_path_buf(),
        schema_version,
        tables: tables
            .iter()
            .map(|table| (table.name.clone(), table.rows))
            .collect(),
        media_objects: objects.len() as u64,
        media_bytes,
    })
}

/// Restores a backup written by [`write_backup`], replacing the database.
pub async fn restore_backup(
    store: &Store,
    media: &MediaStore,
    path: &Path,
) -> Result<RestoreSummary> {
    let scratch = tempfile::tempdir()
        .map_err(|err| Error::internal(format!("creating a temporary folder: {err}")))?;
    let scratch_dir = scratch.path().to_path_buf();
    let archive_path = path.to_path_buf();
    let manifest = tokio::task::spawn_blocking(move || unpack(&archive_path, &scratch_dir))
        .await
        .map_err(|err| Error::internal(err.to_string()))??;

    let media_dir = scratch.path().join("media");
    let mut media_objects = 0;
    if media_dir.is_dir() {
        for entry in
            std::fs::read_dir(&media_dir).map_err(|err| io_error("reading", &media_dir, err))?
        {
            let entry = entry.map_err(|err| io_error("reading", &media_dir, err))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let key = MediaKey::parse(&name)
                .map_err(|_| bad_backup(format!("`media/{name}` is not a media key")))?;
            let bytes = std::fs::read(entry.path())
                .map_err(|err| io_error("reading", &entry.path(), err))?;
            media
                .put_verified(&key, bytes.into())
                .await
                .map_err(|err| bad_backup(err.to_string()))?;
            media_objects += 1;
        }
    }

    let mut tables = Vec::new();
    for table in &manifest.tables {
        let table_path = scratch
            .path()
            .join("db")
            .join(format!("{}.jsonl", table.name));
        let file = File::open(&table_path)
            .map_err(|_| bad_backup(format!("`db/{}.jsonl` is missing", table.name)))?;
        let rows = BufReader::new(file).lines().map(|line| {
            let line = line?;
            serde_json::from_str::<Vec<Value>>(&line)
                .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidData, err))
        });
        tables.push(TableRows {
            table: table.clone(),
            rows: Box::new(rows),
        });
    }
    store
        .restore_snapshot(manifest.schema_version, tables)
        .await?;
    Ok(RestoreSummary {
        schema_version: manifest.schema_version,
        tables: manifest
            .tables
            .iter()
            .map(|table| (table.name.clone(), table.rows))
            .collect(),
        media_objects,
    })
}

/// Unpacks only the entries a backup can hold, each by a name checked here,
/// so that an archive can never write outside the scratch folder.
fn unpack(archive_path: &Path, dir: &Path) -> Result<Manifest> {
    let file = File::open(archive_path).map_err(|err| io_error("opening", archive_path, err))?;
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    std::fs::create_dir_all(dir.join("db")).map_err(|err| io_error("creating", dir, err))?;
    std::fs::create_dir_all(dir.join("media")).map_err(|err| io_error("creating", dir, err))?;
    let mut manifest = None;
    let entries = archive
        .entries()
        .map_err(|err| bad_backup(format!("not a gloss backup archive: {err}")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|err| bad_backup(format!("the archive is damaged: {err}")))?;
        let name = entry
            .path()
            .map_err(|err| bad_backup(err.to_string()))?
            .to_string_lossy()
            .to_string();
        if !entry.header().entry_type().is_file() {
            return Err(bad_backup(format!(
                "unexpected entry `{name}` (not a file)"
            )));
        }
        let target = if name == "manifest.json" {
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|err| bad_backup(format!("manifest.json: {err}")))?;
            let parsed: Manifest = serde_json::from_str(&text)
                .map_err(|err| bad_backup(format!("manifest.json: {err}")))?;
            manifest = Some(parsed);
            continue;
        } else if let Some(table) = name
            .strip_prefix("db/")
            .and_then(|rest| rest.strip_suffix(".jsonl"))
        {
            if table.is_empty()
                || !table
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte == b'_')
            {
                return Err(bad_backup(format!("unexpected entry `{name}`")));
            }
            dir.join("db").join(format!("{table}.jsonl"))
        } else if let Some(key) = name.strip_prefix("media/") {
            let key = MediaKey::parse(key)
                .map_err(|_| bad_backup(format!("unexpected entry `{name}`")))?;
            dir.join("media").join(key.as_str())
        } else {
            return Err(bad_backup(format!("unexpected entry `{name}`")));
        };
        let mut out = File::create(&target).map_err(|err| io_error("writing", &target, err))?;
        std::io::copy(&mut entry, &mut out)
            .map_err(|err| bad_backup(format!("`{name}`: {err}")))?;
    }
    let manifest = manifest.ok_or_else(|| bad_backup("manifest.json is missing".to_string()))?;
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        return Err(bad_backup(format!(
            "format `{}` version {} is not `{FORMAT}` version {FORMAT_VERSION}",
            manifest.format, manifest.format_version
        )));
    }
    Ok(manifest)
}

/// Writes each snapshot table into its own JSON-lines file.
struct TableFiles {
    dir: PathBuf,
    current: Option<BufWriter<File>>,
}

impl SnapshotWriter for TableFiles {
    fn begin_table(&mut self, name: &str, _columns: &[String]) -> std::io::Result<()> {
        self.current = Some(BufWriter::new(File::create(
            self.dir.join(format!("{name}.jsonl")),
        )?));
        Ok(())
    }

    fn row(&mut self, values: &[Value]) -> std::io::Result<()> {
        let out = self
            .current
            .as_mut()
            .ok_or_else(|| std::io::Error::other("row outside a table"))?;
        serde_json::to_writer(&mut *out, values)?;
        out.write_all(b"\n")
    }

    fn end_table(&mut self) -> std::io::Result<()> {
        match self.current.take() {
            Some(mut out) => out.flush(),
            None => Ok(()),
        }
    }
}

fn entry_header(name: &str, size: u64) -> Result<tar::Header> {
    let mut header = tar::Header::new_gnu();
    header
        .set_path(name)
        .map_err(|err| Error::internal(format!("archive entry `{name}`: {err}")))?;
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(u64::try_from(Timestamp::now().millis() / 1000).unwrap_or(0));
    header.set_entry_type(tar::EntryType::Regular);
    Ok(header)
}

fn io_error(action: &str, path: &Path, err: std::io::Error) -> Error {
    Error::internal(format!("{action} {}: {err}", path.display()))
}

fn bad_backup(reason: String) -> Error {
    Error::new(Code::BadRequest, format!("invalid backup: {reason}"))
}
