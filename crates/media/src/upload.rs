//! Streamed uploads: content of any size is written to a spool file while it
//! is hashed, so it never has to fit in memory, then checked (size, type,
//! image header) and moved into the store under its hash.

use crate::error::{error_chain, store_error};
use crate::probe::{can_probe, probe_image_file, ImageInfo, ImageLimits, DEFAULT_MAX_IMAGE_PIXELS};
use crate::sniff::{sniff, MediaKind, SNIFF_LEN};
use crate::{Error, MediaKey, MediaStore, Result};
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use object_store::WriteMultipart;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tempfile::TempPath;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Chunk size when reading a local file or a spool file.
const READ_CHUNK: usize = 256 * 1024;

/// Parts a multipart upload may have in flight at once; with the default part
/// size of 5 MiB this bounds the memory one upload takes.
const PARTS_IN_FLIGHT: usize = 4;

/// What an upload may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLimits {
    /// Bytes; the upload is refused as soon as it goes past this.
    pub max_bytes: u64,
    /// Width × height above which an image is refused.
    pub max_image_pixels: u64,
}

impl UploadLimits {
    pub fn image(&self) -> ImageLimits {
        ImageLimits {
            max_pixels: self.max_image_pixels,
        }
    }
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_bytes: 2 * 1024 * 1024 * 1024,
            max_image_pixels: DEFAULT_MAX_IMAGE_PIXELS,
        }
    }
}

/// A stored object and what its bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub key: MediaKey,
    pub size: u64,
    /// The sniffed type, `kind.content_type()`.
    pub content_type: String,
    pub kind: MediaKind,
    /// For images whose header could be read: as displayed (after EXIF rotation).
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The EXIF orientation (1 to 8) of an image.
    pub orientation: Option<u8>,
}

impl Stored {
    fn new(key: MediaKey, size: u64, kind: MediaKind, image: Option<ImageInfo>) -> Stored {
        Stored {
            key,
            size,
            content_type: kind.content_type().to_string(),
            kind,
            width: image.map(|image| image.width),
            height: image.map(|image| image.height),
            orientation: image.map(|image| image.orientation),
        }
    }
}

/// Content written to a spool file. Dropping it deletes the file, so an
/// upload that fails or is cancelled at any point leaves nothing behind.
struct Spooled {
    path: TempPath,
    key: MediaKey,
    size: u64,
    /// The first bytes, for sniffing.
    head: Vec<u8>,
}

impl MediaStore {
    /// Stores a stream of chunks (an HTTP body, a fetched URL) without holding
    /// it in memory, and says what it is.
    ///
    /// Refused with [`Error::TooLarge`] as soon as it passes
    /// `limits.max_bytes`; an image whose header declares more than
    /// `limits.max_image_pixels` with [`Error::TooManyPixels`]; content that
    /// starts like an image but whose header cannot be read with
    /// [`Error::BadImage`]. A refused upload leaves nothing in the store.
    /// An error from the stream itself becomes [`Error::Source`], unless it
    /// already is an [`Error`] of this crate.
    pub async fn put_stream<S, E>(&self, stream: S, limits: &UploadLimits) -> Result<Stored>
    where
        S: Stream<Item = std::result::Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let spooled = self.spool(stream, limits.max_bytes).await?;
        let kind = sniff(&spooled.head);
        let image = probe(kind, spooled.path.to_path_buf(), limits.image()).await?;
        let key = spooled.key.clone();
        let size = spooled.size;
        self.commit(spooled).await?;
        Ok(Stored::new(key, size, kind, image))
    }

    /// [`MediaStore::put_stream`] for a local file (command-line imports).
    pub async fn put_file(&self, path: &Path, limits: &UploadLimits) -> Result<Stored> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|err| Error::Source(format!("cannot open {}: {err}", path.display())))?;
        self.put_stream(file_chunks(file), limits).await
    }

    /// What a stored object is, found the same way as for an upload: for
    /// records made before their type and size were kept, or to check them.
    pub async fn describe(&self, key: &MediaKey, limits: &ImageLimits) -> Result<Stored> {
        let size = self.size(key).await?;
        let (kind, image) = match &self.local {
            // A local object is a file already; read it where it is.
            Some(local) => {
                let path = local.path_to_filesystem(&key.path()).map_err(store_error)?;
                let head = read_head(&path).await?;
                let kind = sniff(&head);
                (kind, probe(kind, path, limits.clone()).await?)
            }
            // Anything else is copied to a spool file first, because probing
            // needs to seek. The hash comes for free, so check it too.
            None => {
                let spooled = self.spool(self.stream(key).await?, u64::MAX).await?;
                if &spooled.key != key {
                    return Err(Error::Corrupt { key: key.clone() });
                }
                let kind = sniff(&spooled.head);
                (
                    kind,
                    probe(kind, spooled.path.to_path_buf(), limits.clone()).await?,
                )
            }
        };
        Ok(Stored::new(key.clone(), size, kind, image))
    }

    /// Writes the stream to a new spool file, hashing it and keeping its
    /// first bytes on the way.
    async fn spool<S, E>(&self, stream: S, max_bytes: u64) -> Result<Spooled>
    where
        S: Stream<Item = std::result::Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let spool_error = |err: std::io::Error| {
            Error::Store(format!(
                "cannot write the upload to {}: {err}",
                self.spool_dir.display()
            ))
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix("upload-");
        // Created like any other file (0666 less the umask) rather than
        // tempfile's private 0600, because this file becomes the object.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let (file, path) = builder
            .tempfile_in(&self.spool_dir)
            .map_err(spool_error)?
            .into_parts();
        let mut file = tokio::fs::File::from_std(file);

        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head = Vec::with_capacity(SNIFF_LEN);
        let mut stream = std::pin::pin!(stream);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(source_error)?;
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(Error::TooLarge { limit: max_bytes });
            }
            hasher.update(&chunk);
            let wanted = (SNIFF_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..wanted]);
            file.write_all(&chunk).await.map_err(spool_error)?;
        }
        // A tokio file finishes its last write in the background; wait for it
        // before anyone else reads the file.
        file.flush().await.map_err(spool_error)?;
        Ok(Spooled {
            path,
            key: MediaKey::from_digest(&hasher.finalize()),
            size,
            head,
        })
    }

    /// Moves a spool file into the store under its key, unless the same
    /// content is there already (the spool file is then just deleted).
    async fn commit(&self, spooled: Spooled) -> Result<()> {
        let key = spooled.key;
        if self.exists(&key).await? {
            return Ok(());
        }
        match &self.local {
            Some(local) => {
                let target = local.path_to_filesystem(&key.path()).map_err(store_error)?;
                // The spool folder is inside the store, so this is a rename,
                // which also means a reader never sees a half-written object.
                let moved = tokio::task::spawn_blocking(move || {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    spooled.path.persist(&target).map_err(|err| err.error)
                })
                .await;
                match moved {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(err)) => Err(Error::Store(format!(
                        "cannot move the upload into place as {key}: {err}"
                    ))),
                    Err(err) => Err(Error::Store(format!("moving the upload failed: {err}"))),
                }
            }
            None => self.upload_file(&key, &spooled.path).await,
        }
    }

    /// Copies a spool file into a non-local object store part by part, so
    /// that at most a few parts are in memory at once.
    async fn upload_file(&self, key: &MediaKey, path: &Path) -> Result<()> {
        let upload = self
            .objects
            .put_multipart(&key.path())
            .await
            .map_err(store_error)?;
        let mut writer = WriteMultipart::new(upload);
        let copied = async {
            let mut file = tokio::fs::File::open(path).await.map_err(read_error)?;
            let mut buffer = vec![0; READ_CHUNK];
            loop {
                let read = file.read(&mut buffer).await.map_err(read_error)?;
                if read == 0 {
                    return Ok(());
                }
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(store_error)?;
                writer.write(&buffer[..read]);
            }
        }
        .await;
        match copied {
            Ok(()) => writer.finish().await.map(|_| ()).map_err(store_error),
            Err(err) => {
                // Otherwise the parts already sent linger in the store.
                let _ = writer.abort().await;
                Err(err)
            }
        }
    }
}

/// Reads an image header when the kind is one that can be read, on a
/// blocking thread because it is file I/O.
async fn probe(kind: MediaKind, path: PathBuf, limits: ImageLimits) -> Result<Option<ImageInfo>> {
    if !can_probe(kind) {
        return Ok(None);
    }
    tokio::task::spawn_blocking(move || probe_image_file(&path, &limits))
        .await
        .map_err(|err| Error::Store(format!("reading the image header failed: {err}")))?
        .map(Some)
}

async fn read_head(path: &Path) -> Result<Vec<u8>> {
    let file = tokio::fs::File::open(path).await.map_err(read_error)?;
    let mut head = Vec::with_capacity(SNIFF_LEN);
    file.take(SNIFF_LEN as u64)
        .read_to_end(&mut head)
        .await
        .map_err(read_error)?;
    Ok(head)
}

/// A file as a stream of chunks.
fn file_chunks(file: tokio::fs::File) -> impl Stream<Item = std::io::Result<Bytes>> {
    futures::stream::try_unfold(file, |mut file| async move {
        let mut chunk = BytesMut::with_capacity(READ_CHUNK);
        let read = file.read_buf(&mut chunk).await?;
        Ok((read > 0).then(|| (chunk.freeze(), file)))
    })
}

/// Errors of this crate pass through (a fetched body that went over its
/// limit stays [`Error::TooLarge`]); anything else failed the source.
fn source_error<E: Into<Box<dyn std::error::Error + Send + Sync>>>(err: E) -> Error {
    match err.into().downcast::<Error>() {
        Ok(ours) => *ours,
        Err(other) => Error::Source(error_chain(&*other)),
    }
}

fn read_error(err: std::io::Error) -> Error {
    Error::Store(format!("cannot read a stored file: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use std::sync::Arc;

    /// Enough for several multipart parts (5 MiB each).
    const SIZE: usize = 12 * 1024 * 1024 + 17;

    fn content() -> impl Stream<Item = std::io::Result<Bytes>> {
        futures::stream::iter((0..SIZE).step_by(64 * 1024).map(|start| {
            let end = (start + 64 * 1024).min(SIZE);
            Ok(Bytes::from(
                (start..end).map(|at| (at % 251) as u8).collect::<Vec<u8>>(),
            ))
        }))
    }

    #[tokio::test]
    async fn streams_into_a_non_local_store_in_parts() {
        let media = MediaStore::over(Arc::new(InMemory::new()), "memory://");
        let stored = media
            .put_stream(content(), &UploadLimits::default())
            .await
            .unwrap();
        let expected: Vec<u8> = (0..SIZE).map(|at| (at % 251) as u8).collect();
        assert_eq!(stored.key, MediaKey::of(&expected));
        assert_eq!(stored.size, SIZE as u64);
        assert_eq!(media.get(&stored.key).await.unwrap().as_ref(), expected);
        assert_eq!(
            media
                .describe(&stored.key, &ImageLimits::default())
                .await
                .unwrap(),
            stored
        );
        // The same content again is the same object.
        let again = media
            .put_stream(content(), &UploadLimits::default())
            .await
            .unwrap();
        assert_eq!(again.key, stored.key);
        assert_eq!(media.list().await.unwrap().len(), 1);
    }
}
