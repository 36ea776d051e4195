//! Serving stored media to the people allowed to see it.

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::import::media_url;
use crate::Engine;
use bytes::Bytes;
use futures::stream::BoxStream;
use gloss_media::{AudioPeaks, MediaKey, MediaKind, VideoFrames, VideoSamples};
use gloss_types::{Code, MediaRecord};
use std::sync::Arc;

/// A media object ready to be sent.
pub struct MediaDownload {
    pub record: MediaRecord,
    pub body: BoxStream<'static, gloss_media::Result<Bytes>>,
    /// Whether a browser should save it rather than show it: everything but
    /// images, audio and video, so that an uploaded HTML or SVG file can
    /// never run as a page of Gloss.
    pub attachment: bool,
    /// The bytes served, `start..end` of `record.size`, when a range was
    /// asked for and could be served; `None` for the whole object.
    pub range: Option<std::ops::Range<u64>>,
}

/// One HTTP byte range as asked (`bytes=a-b`, `bytes=a-`, `bytes=-n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// Bytes `a` to `b`, inclusive.
    FromTo(u64, u64),
    /// From byte `a` to the end.
    From(u64),
    /// The last `n` bytes.
    Last(u64),
}

impl ByteRange {
    /// The bytes `start..end` of an object of `size` bytes, or `None` when
    /// the range cannot be served (the whole object is sent instead, which
    /// HTTP allows).
    pub fn within(self, size: u64) -> Option<std::ops::Range<u64>> {
        let (start, end) = match self {
            ByteRange::FromTo(a, b) if a <= b => (a, b.saturating_add(1).min(size)),
            ByteRange::From(a) => (a, size),
            ByteRange::Last(n) if n > 0 => (size.saturating_sub(n), size),
            _ => return None,
        };
        (start < end).then_some(start..end)
    }
}

/// Tables read from stored videos (frame indexes, sample tables) by media
/// key: a video's table is read from its file once while it is worked on.
/// Small, and cleared when full, since a table is cheap to read again.
#[derive(Debug)]
pub(crate) struct VideoTables<T>(std::sync::Mutex<std::collections::HashMap<String, Arc<T>>>);

impl<T> Default for VideoTables<T> {
    fn default() -> Self {
        VideoTables(std::sync::Mutex::new(std::collections::HashMap::new()))
    }
}

/// Tables kept at most, of each kind.
const VIDEO_TABLES_KEPT: usize = 64;

impl<T: Send + Sync + 'static> VideoTables<T> {
    /// The table of the video stored at `key`, as `read` makes it from the
    /// file (`path`, on a local media folder) the first time; a video it
    /// cannot read is `UnsupportedMediaType`. `what` names the table.
    async fn get_or_read(
        &self,
        key: &MediaKey,
        path: Option<std::path::PathBuf>,
        kind: MediaKind,
        read: fn(&std::path::Path, MediaKind) -> gloss_media::Result<T>,
        what: &str,
    ) -> Result<Arc<T>> {
        if let Some(found) = self
            .0
            .lock()
            .ok()
            .and_then(|c| c.get(key.as_str()).cloned())
        {
            return Ok(found);
        }
        let path =
            path.ok_or_else(|| Error::internal(format!("{what} need a local media folder")))?;
        let table = tokio::task::spawn_blocking(move || read(&path, kind))
            .await
            .map_err(|err| Error::internal(format!("reading the video stopped: {err}")))?
            .map_err(|err| Error::new(Code::UnsupportedMediaType, err.to_string()))?;
        let table = Arc::new(table);
        if let Ok(mut cache) = self.0.lock() {
            if cache.len() >= VIDEO_TABLES_KEPT {
                cache.clear();
            }
            cache.insert(key.as_str().to_owned(), table.clone());
        }
        Ok(table)
    }
}

impl Engine {
    /// A media object, if the caller is a member of a project that uses it
    /// (admins: any project). Anything else is "not found", like a key that
    /// does not exist, so keys reveal nothing.
    pub async fn media_download(
        &self,
        actor: &Actor,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<MediaDownload> {
        let (key, row) = self.visible_media(actor, key).await?;
        let size = u64::try_from(row.media.size).unwrap_or(0);
        let range = range.and_then(|range| range.within(size));
        let body = match &range {
            Some(range) => self.media.stream_range(&key, range.clone()).await?,
            None => self.media.stream(&key).await?,
        };
        let content_type = row.media.content_type.clone();
        let attachment = !(content_type.starts_with("image/") && content_type != "image/svg+xml"
            || content_type.starts_with("audio/")
            || content_type.starts_with("video/"));
        Ok(MediaDownload {
            record: MediaRecord {
                url: media_url(&row.media.key),
                key: row.media.key,
                content_type,
                size: row.media.size,
                width: row.media.width,
                height: row.media.height,
                file_name: row.file_name,
            },
            body,
            attachment,
            range,
        })
    }

    /// The frame index of a video the caller may see: every frame's time,
    /// so players can seek to a frame exactly. Not a video (or one Gloss
    /// cannot index) is `UnsupportedMediaType`.
    pub async fn media_frames(&self, actor: &Actor, key: &str) -> Result<Arc<VideoFrames>> {
        let (key, row) = self.visible_media(actor, key).await?;
        self.video_frames(&key, &row.media.content_type).await
    }

    /// A stored video's frame index (the caller has checked access).
    pub(crate) async fn video_frames(
        &self,
        key: &MediaKey,
        content_type: &str,
    ) -> Result<Arc<VideoFrames>> {
        let kind = match content_type {
            "video/mp4" => MediaKind::Mp4,
            "video/quicktime" => MediaKind::QuickTime,
            "video/webm" => MediaKind::WebM,
            "video/x-matroska" => MediaKind::Matroska,
            other => {
                return Err(Error::new(
                    Code::UnsupportedMediaType,
                    format!("the media is {other}; frames are indexed for MP4 and WebM videos"),
                ))
            }
        };
        let path = self.media.local_path(key);
        let read = gloss_media::probe_video_file;
        (self.video_frames)
            .get_or_read(key, path, kind, read, "frame indexes")
            .await
    }

    /// The sample table of an H.264 video in MP4 the caller may see: where
    /// each sample's bytes are, its key flag and the frame it shows, so a
    /// browser can decode frames itself (WebCodecs). Anything else (WebM,
    /// another codec, not a video) is `UnsupportedMediaType`.
    pub async fn media_samples(&self, actor: &Actor, key: &str) -> Result<Arc<VideoSamples>> {
        let (key, row) = self.visible_media(actor, key).await?;
        let kind = match row.media.content_type.as_str() {
            "video/mp4" => MediaKind::Mp4,
            "video/quicktime" => MediaKind::QuickTime,
            other => {
                return Err(Error::new(
                    Code::UnsupportedMediaType,
                    format!("the media is {other}; sample tables are read for H.264 videos in MP4"),
                ))
            }
        };
        let path = self.media.local_path(&key);
        let read = gloss_media::probe_video_samples;
        (self.video_samples)
            .get_or_read(&key, path, kind, read, "sample tables")
            .await
    }

    /// The waveform peaks of a sound the caller may see (see
    /// [`gloss_media::audio_peaks_file`]). They are computed once and kept in
    /// the cache folder under the sound's content key, which never changes.
    /// Not a sound (or one Gloss cannot decode) is `UnsupportedMediaType`.
    pub async fn media_peaks(&self, actor: &Actor, key: &str) -> Result<AudioPeaks> {
        let (key, row) = self.visible_media(actor, key).await?;
        let kind = audio_kind(&row.media.content_type).ok_or_else(|| {
            Error::new(
                Code::UnsupportedMediaType,
                format!(
                    "the media is {}; waveforms are drawn for WAV, MP3, FLAC and Ogg sounds",
                    row.media.content_type
                ),
            )
        })?;
        peaks_cached(&self.media, &self.config.cache_dir, &key, kind).await
    }

    /// Computes a stored sound's waveform peaks in the background, one sound
    /// at a time, so that an imported recording opens with its waveform at
    /// once (an hour of MP3 takes seconds to decode). Not a sound: nothing.
    pub(crate) fn warm_peaks(&self, key: &MediaKey, content_type: &str) {
        let Some(kind) = audio_kind(content_type) else {
            return;
        };
        let (media, cache_dir, key) = (
            self.media.clone(),
            self.config.cache_dir.clone(),
            key.clone(),
        );
        let one_at_a_time = self.peak_warmer.clone();
        tokio::spawn(async move {
            let Ok(_turn) = one_at_a_time.acquire().await else {
                return;
            };
            if let Err(err) = peaks_cached(&media, &cache_dir, &key, kind).await {
                tracing::info!(
                    key = key.as_str(),
                    "no waveform for an imported sound: {err}"
                );
            }
        });
    }

    /// A media object's record, if the caller is a member of a project that
    /// uses it (admins: any); anything else is "not found".
    async fn visible_media(
        &self,
        actor: &Actor,
        key: &str,
    ) -> Result<(MediaKey, gloss_store::ProjectMediaRow)> {
        let key = MediaKey::parse(key).map_err(|_| Error::not_found("media"))?;
        let user = match actor {
            Actor::User(user) if !actor.is_admin() => Some(user.id),
            _ => None,
        };
        let row = self
            .store
            .visible_media(key.as_str(), user)
            .await?
            .ok_or_else(|| Error::not_found("media"))?;
        Ok((key, row))
    }
}

/// A sound's peaks from the cache folder, or decoded and then cached.
async fn peaks_cached(
    media: &gloss_media::MediaStore,
    cache_dir: &std::path::Path,
    key: &MediaKey,
    kind: MediaKind,
) -> Result<AudioPeaks> {
    let cached = cache_dir.join("peaks").join(key.as_str());
    if let Ok(bytes) = tokio::fs::read(&cached).await {
        if let Some(peaks) = AudioPeaks::from_bytes(&bytes) {
            return Ok(peaks);
        }
    }
    let path = media
        .local_path(key)
        .ok_or_else(|| Error::internal("waveforms need a local media folder"))?;
    let peaks = tokio::task::spawn_blocking(move || gloss_media::audio_peaks_file(&path, kind))
        .await
        .map_err(|err| Error::internal(format!("reading the sound stopped: {err}")))?
        .map_err(|err| Error::new(Code::UnsupportedMediaType, err.to_string()))?;
    // A cache that cannot be written only costs the next caller time.
    if let Err(err) = write_atomically(&cached, &peaks.to_bytes()).await {
        tracing::warn!(path = %cached.display(), "waveform peaks not cached: {err}");
    }
    Ok(peaks)
}

/// The sound kinds whose waveforms Gloss draws, by stored content type.
fn audio_kind(content_type: &str) -> Option<MediaKind> {
    Some(match content_type {
        "audio/wav" => MediaKind::Wav,
        "audio/mpeg" => MediaKind::Mp3,
        "audio/flac" => MediaKind::Flac,
        "audio/ogg" => MediaKind::Ogg,
        _ => return None,
    })
}

/// Writes `bytes` to `path` through a temporary file beside it, so that a
/// reader never sees half of it (two writers of the same peaks write the
/// same bytes, and the last rename wins).
async fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    tokio::fs::create_dir_all(dir).await?;
    // A name of its own for each write, so that two writers never share a file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let temporary = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("peaks"),
        std::process::id(),
        WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, path).await
}
