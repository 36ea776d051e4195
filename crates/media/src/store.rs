//! The content-addressed store itself: open, put small content, read, list.
//! Streamed uploads are in `upload.rs`.

use crate::error::store_error;
use crate::{Error, MediaKey, Result};
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The folder, inside a local store, where uploads are written while they are
/// hashed and checked. Being inside the store puts it on the same file
/// system, so a finished upload is moved into place by a rename; its files
/// are never media keys, so listing skips them.
const SPOOL_DIR: &str = ".tmp";

/// Spool files older than this were left by a process that died mid-upload.
const STALE_SPOOL_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Where media bytes live.
#[derive(Clone)]
pub struct MediaStore {
    pub(crate) objects: Arc<dyn ObjectStore>,
    /// The same store when it is a local folder, so that an upload can be
    /// renamed into place instead of copied.
    pub(crate) local: Option<Arc<LocalFileSystem>>,
    /// Where uploads are written before they are moved into the store.
    pub(crate) spool_dir: PathBuf,
    url: String,
}

impl fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaStore")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl MediaStore {
    /// Opens `file://DIR` (created when missing).
    pub fn open(url: &str) -> Result<MediaStore> {
        let bad_url = |reason: String| Error::BadUrl {
            url: url.to_string(),
            reason,
        };
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                return Err(bad_url("the folder is missing".to_string()));
            }
            std::fs::create_dir_all(dir)
                .map_err(|err| bad_url(format!("cannot create the folder: {err}")))?;
            let local = Arc::new(
                LocalFileSystem::new_with_prefix(dir).map_err(|err| bad_url(err.to_string()))?,
            );
            let spool_dir = local
                .path_to_filesystem(&Path::from(SPOOL_DIR))
                .map_err(|err| bad_url(err.to_string()))?;
            std::fs::create_dir_all(&spool_dir).map_err(|err| {
                bad_url(format!(
                    "cannot create the folder for uploads in progress: {err}"
                ))
            })?;
            remove_stale_spool_files(&spool_dir);
            Ok(MediaStore {
                objects: local.clone(),
                local: Some(local),
                spool_dir,
                url: url.to_string(),
            })
        } else if url.starts_with("s3://") {
            Err(bad_url(
                "S3 storage is not built into this version of gloss yet".to_string(),
            ))
        } else {
            Err(bad_url("the scheme must be file://".to_string()))
        }
    }

    /// A store over any object store, spooling uploads in the system's
    /// temporary folder: how a remote store will be opened, and how tests
    /// exercise the streamed (multipart) path.
    #[cfg(test)]
    pub(crate) fn over(objects: Arc<dyn ObjectStore>, url: &str) -> MediaStore {
        MediaStore {
            objects,
            local: None,
            spool_dir: std::env::temp_dir(),
            url: url.to_string(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stores bytes and returns their key; storing the same bytes twice is one
    /// object. For content already in memory; use [`MediaStore::put_stream`]
    /// for uploads.
    pub async fn put(&self, bytes: Bytes) -> Result<MediaKey> {
        let key = MediaKey::of(&bytes);
        if !self.exists(&key).await? {
            self.objects
                .put(&key.path(), PutPayload::from(bytes))
                .await
                .map_err(store_error)?;
        }
        Ok(key)
    }

    /// Stores bytes under a key given by someone else (a backup), refusing
    /// bytes that do not hash to it.
    pub async fn put_verified(&self, key: &MediaKey, bytes: Bytes) -> Result<()> {
        if &MediaKey::of(&bytes) != key {
            return Err(Error::Corrupt { key: key.clone() });
        }
        self.put(bytes).await.map(|_| ())
    }

    pub async fn get(&self, key: &MediaKey) -> Result<Bytes> {
        match self.objects.get(&key.path()).await {
            Ok(found) => found.bytes().await.map_err(store_error),
            Err(object_store::Error::NotFound { .. }) => Err(Error::NotFound(key.clone())),
            Err(err) => Err(store_error(err)),
        }
    }

    /// The object's bytes in chunks, for copying large objects in constant memory.
    pub async fn stream(
        &self,
        key: &MediaKey,
    ) -> Result<futures::stream::BoxStream<'static, Result<Bytes>>> {
        match self.objects.get(&key.path()).await {
            Ok(found) => Ok(Box::pin(found.into_stream().map_err(store_error))),
            Err(object_store::Error::NotFound { .. }) => Err(Error::NotFound(key.clone())),
            Err(err) => Err(store_error(err)),
        }
    }

    /// Bytes `start..end` of the object (end exclusive), in chunks: what an
    /// HTTP range request asks for, e.g. a video player seeking.
    pub async fn stream_range(
        &self,
        key: &MediaKey,
        range: std::ops::Range<u64>,
    ) -> Result<futures::stream::BoxStream<'static, Result<Bytes>>> {
        let options = object_store::GetOptions {
            range: Some(object_store::GetRange::Bounded(range)),
            ..Default::default()
        };
        match self.objects.get_opts(&key.path(), options).await {
            Ok(found) => Ok(Box::pin(found.into_stream().map_err(store_error))),
            Err(object_store::Error::NotFound { .. }) => Err(Error::NotFound(key.clone())),
            Err(err) => Err(store_error(err)),
        }
    }

    /// The object's file, when the store is a local folder (readers that
    /// seek, such as a video's frame index, read it in place).
    pub fn local_path(&self, key: &MediaKey) -> Option<PathBuf> {
        self.local.as_ref()?.path_to_filesystem(&key.path()).ok()
    }

    pub async fn exists(&self, key: &MediaKey) -> Result<bool> {
        match self.objects.head(&key.path()).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(store_error(err)),
        }
    }

    /// The object's size in bytes.
    pub async fn size(&self, key: &MediaKey) -> Result<u64> {
        match self.objects.head(&key.path()).await {
            Ok(meta) => Ok(meta.size),
            Err(object_store::Error::NotFound { .. }) => Err(Error::NotFound(key.clone())),
            Err(err) => Err(store_error(err)),
        }
    }

    /// Every key in the store, with the object's size in bytes. Anything that
    /// is not a media object (a stray file, an upload in progress) is skipped.
    pub async fn list(&self) -> Result<Vec<(MediaKey, u64)>> {
        let objects: Vec<_> = self
            .objects
            .list(None)
            .try_collect()
            .await
            .map_err(store_error)?;
        let mut keys: Vec<(MediaKey, u64)> = objects
            .into_iter()
            .filter_map(|meta| {
                let name = meta.location.filename()?;
                let key = MediaKey::parse(name).ok()?;
                (key.path() == meta.location).then_some((key, meta.size))
            })
            .collect();
        keys.sort();
        Ok(keys)
    }
}

/// Best effort: a file that cannot be removed now will be tried at the next
/// start, and an upload in progress in another process is far younger.
fn remove_stale_spool_files(spool_dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(spool_dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let modified = entry.metadata().and_then(|meta| meta.modified());
        let is_stale = modified
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > STALE_SPOOL_AGE);
        if is_stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn content_addressed_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let media = MediaStore::open(&format!("file://{}", dir.path().display())).unwrap();
        let key = media.put(Bytes::from_static(b"hello")).await.unwrap();
        assert_eq!(
            key.as_str(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(media.put(Bytes::from_static(b"hello")).await.unwrap(), key);
        assert_eq!(media.get(&key).await.unwrap(), Bytes::from_static(b"hello"));
        assert_eq!(media.size(&key).await.unwrap(), 5);
        assert_eq!(media.list().await.unwrap(), vec![(key.clone(), 5)]);
        let missing = MediaKey::of(b"absent");
        assert!(matches!(media.get(&missing).await, Err(Error::NotFound(_))));
        assert!(matches!(
            media.put_verified(&missing, Bytes::from_static(b"x")).await,
            Err(Error::Corrupt { .. })
        ));
    }

    #[tokio::test]
    async fn listing_skips_uploads_in_progress() {
        let dir = tempfile::tempdir().unwrap();
        let media = MediaStore::open(&format!("file://{}", dir.path().display())).unwrap();
        let key = media.put(Bytes::from_static(b"hello")).await.unwrap();
        std::fs::write(media.spool_dir.join("upload-abc"), b"partial").unwrap();
        assert_eq!(media.list().await.unwrap(), vec![(key, 5)]);
    }
}
