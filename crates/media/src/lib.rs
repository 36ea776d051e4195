//! Media bytes (images, audio, video, uploaded files) in an object store: a
//! local folder by default, S3-compatible storage later, both through the
//! `object_store` crate.
//!
//! Objects are content-addressed: the key is the SHA-256 of the bytes, so a
//! file name from a user never becomes a path, the same file is stored once,
//! and an object never changes after it is written (which is what makes a
//! backup taken beside a running server consistent).
//!
//! This crate knows nothing about the database, projects or HTTP.

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid media url `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("media object `{0}` not found")]
    NotFound(MediaKey),
    #[error("`{0}` is not a media key")]
    BadKey(String),
    #[error("media object `{key}` does not match its content hash")]
    Corrupt { key: MediaKey },
    #[error("media store: {0}")]
    Store(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// The key of a media object: the lowercase hex SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MediaKey(String);

impl MediaKey {
    pub fn of(bytes: &[u8]) -> MediaKey {
        MediaKey(hex::encode(Sha256::digest(bytes)))
    }

    /// Accepts only what [`MediaKey::of`] produces: 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<MediaKey> {
        let is_hash = text.len() == 64
            && text
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
        if is_hash {
            Ok(MediaKey(text.to_string()))
        } else {
            Err(Error::BadKey(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Objects are spread over 256 folders so that no folder grows huge.
    fn path(&self) -> Path {
        Path::from(format!("{}/{}", &self.0[..2], self.0))
    }
}

impl fmt::Display for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where media bytes live.
#[derive(Clone)]
pub struct MediaStore {
    objects: Arc<dyn ObjectStore>,
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
            let local =
                LocalFileSystem::new_with_prefix(dir).map_err(|err| bad_url(err.to_string()))?;
            Ok(MediaStore {
                objects: Arc::new(local),
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

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stores bytes and returns their key; storing the same bytes twice is one object.
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

    pub async fn exists(&self, key: &MediaKey) -> Result<bool> {
        match self.objects.head(&key.path()).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(store_error(err)),
        }
    }

    /// Every key in the store, with the object's size in bytes. Anything that
    /// is not a media object (a stray file in the folder) is skipped.
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

fn store_error(err: object_store::Error) -> Error {
    Error::Store(err.to_string())
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
        assert_eq!(media.list().await.unwrap(), vec![(key.clone(), 5)]);
        let missing = MediaKey::of(b"absent");
        assert!(matches!(media.get(&missing).await, Err(Error::NotFound(_))));
        assert!(matches!(
            media.put_verified(&missing, Bytes::from_static(b"x")).await,
            Err(Error::Corrupt { .. })
        ));
    }

    #[test]
    fn keys_are_never_paths() {
        assert!(MediaKey::parse("../../etc/passwd").is_err());
        assert!(MediaKey::parse(&"A".repeat(64)).is_err());
    }
}
