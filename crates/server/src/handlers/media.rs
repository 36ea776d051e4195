//! `/api/v1/media/{key}`: stored media, to members of a project that uses it.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, Caller};
use crate::App;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::TryStreamExt;
use gloss_engine::ByteRange;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(get_media))
        .routes(routes!(get_video_frames))
        .routes(routes!(get_video_samples))
        .routes(routes!(get_audio_peaks))
}

/// A video's frame index.
#[derive(Serialize, ToSchema)]
struct VideoFramesBody {
    /// How many frames the video has.
    frames: usize,
    /// Each frame's presentation time in seconds from the first, ascending:
    /// frame `i` (1-based, as results count frames) is `timestamps[i - 1]`.
    timestamps: Vec<f64>,
    /// The video's length in seconds.
    duration: f64,
    /// Pixels.
    width: u32,
    /// Pixels.
    height: u32,
}

/// The frame index of a stored video (MP4 or WebM): every frame's time,
/// read from the container, exact for variable frame rates and B-frames, so
/// a player can show frame `i` exactly. `415` for media that is not such a video.
#[utoipa::path(get, path = "/api/v1/media/{key}/frames", tag = "tasks",
    params(("key" = String, Path, description = "The SHA-256 of the content, as task data refers to it")),
    responses((status = 200, body = VideoFramesBody), (status = 404, body = ErrorBody),
        (status = 415, body = ErrorBody)))]
async fn get_video_frames(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<VideoFramesBody>> {
    let frames = app.engine.media_frames(&actor, &key).await?;
    Ok(Json(VideoFramesBody {
        frames: frames.timestamps.len(),
        timestamps: frames.timestamps.clone(),
        duration: frames.duration,
        width: frames.width,
        height: frames.height,
    }))
}

/// An H.264 video's samples in decoding order, as parallel arrays.
#[derive(Serialize, ToSchema)]
struct VideoSamplesBody {
    /// The codec string for WebCodecs' `VideoDecoder`: `avc1.PPCCLL`.
    codec: String,
    /// Base64 of the decoder configuration (the `avcC` box's payload),
    /// WebCodecs' `description`.
    description: String,
    /// Coded size, pixels.
    width: u32,
    /// Pixels.
    height: u32,
    /// How many samples (frames) the video has.
    count: usize,
    /// Each sample's first byte in the file (fetch it with `Range`).
    offsets: Vec<u64>,
    /// Each sample's length in bytes.
    sizes: Vec<u32>,
    /// The positions in these arrays (0-based) of the key frames, ascending:
    /// decoding may start at any of them.
    keys: Vec<u32>,
    /// The frame each sample shows, 0-based in presentation order: the
    /// position of its time in the frames route's `timestamps`.
    frames: Vec<u32>,
}

/// The sample table of a stored H.264 video in MP4: where each sample's
/// bytes lie in the file, which are key frames and which frame each shows,
/// so a browser can fetch and decode frames itself (WebCodecs). `415` for
/// WebM, another codec, or media that is not a video.
#[utoipa::path(get, path = "/api/v1/media/{key}/samples", tag = "tasks",
    params(("key" = String, Path, description = "The SHA-256 of the content, as task data refers to it")),
    responses((status = 200, body = VideoSamplesBody), (status = 404, body = ErrorBody),
        (status = 415, body = ErrorBody)))]
async fn get_video_samples(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<VideoSamplesBody>> {
    use base64::Engine as _;
    let samples = app.engine.media_samples(&actor, &key).await?;
    Ok(Json(VideoSamplesBody {
        codec: samples.codec.clone(),
        description: base64::engine::general_purpose::STANDARD.encode(&samples.description),
        width: samples.width,
        height: samples.height,
        count: samples.offsets.len(),
        offsets: samples.offsets.clone(),
        sizes: samples.sizes.clone(),
        keys: samples.keys.clone(),
        frames: samples.frames.clone(),
    }))
}

/// A sound's waveform.
#[derive(Serialize, ToSchema)]
struct AudioPeaksBody {
    /// The sound's length in seconds.
    duration: f64,
    /// Samples per second of the file.
    sample_rate: u32,
    /// Channels of the file; the peaks mix them all.
    channels: u16,
    /// Peaks per second of sound (100: one every 10 ms).
    peaks_per_second: u32,
    /// How many peaks `peaks` holds.
    count: usize,
    /// Base64 of the peaks as little-endian `i16` pairs: the lowest and the
    /// highest sample of each peak, as 16-bit samples (-32767 to 32767).
    peaks: String,
}

/// The waveform of a stored sound (WAV, MP3, FLAC, Ogg Vorbis): the lowest and
/// highest sample of every 10 ms, decoded on the server and cached, so that
/// a browser draws an hour of sound without decoding it. `415` for media
/// that is not such a sound.
#[utoipa::path(get, path = "/api/v1/media/{key}/peaks", tag = "tasks",
    params(("key" = String, Path, description = "The SHA-256 of the content, as task data refers to it")),
    responses((status = 200, body = AudioPeaksBody), (status = 404, body = ErrorBody),
        (status = 415, body = ErrorBody)))]
async fn get_audio_peaks(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<AudioPeaksBody>> {
    use base64::Engine as _;
    let peaks = app.engine.media_peaks(&actor, &key).await?;
    let mut bytes = Vec::with_capacity(peaks.peaks.len() * 2);
    for value in &peaks.peaks {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    Ok(Json(AudioPeaksBody {
        duration: peaks.duration,
        sample_rate: peaks.sample_rate,
        channels: peaks.channels,
        peaks_per_second: peaks.peaks_per_second,
        count: peaks.peaks.len() / 2,
        peaks: base64::engine::general_purpose::STANDARD.encode(bytes),
    }))
}

/// One range of `Range: bytes=…`; several ranges, or anything else, is
/// `None` and gets the whole object (which HTTP allows).
fn byte_range(headers: &HeaderMap) -> Option<ByteRange> {
    let spec = headers
        .get(header::RANGE)?
        .to_str()
        .ok()?
        .strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.trim().split_once('-')?;
    match (start.parse::<u64>().ok(), end.parse::<u64>().ok()) {
        (Some(a), Some(b)) => Some(ByteRange::FromTo(a, b)),
        (Some(a), None) if end.is_empty() => Some(ByteRange::From(a)),
        (None, Some(n)) if start.is_empty() => Some(ByteRange::Last(n)),
        _ => None,
    }
}

/// A media object, with the type sniffed from its content. Images, audio and
/// video are shown inline; anything else downloads as an attachment. One
/// byte range (`Range: bytes=a-b`) is served as `206`, so players can seek.
#[utoipa::path(get, path = "/api/v1/media/{key}", tag = "tasks",
    params(("key" = String, Path, description = "The SHA-256 of the content, as task data refers to it")),
    responses((status = 200, description = "The bytes"), (status = 206, description = "The range asked for"),
        (status = 404, body = ErrorBody)))]
async fn get_media(
    State(app): State<App>,
    Caller(actor): Caller,
    ApiPath(key): ApiPath<String>,
    request_headers: HeaderMap,
) -> ApiResult<Response> {
    let range = byte_range(&request_headers);
    let download = app.engine.media_download(&actor, &key, range).await?;
    let record = download.record;
    let body = Body::from_stream(download.body.map_err(std::io::Error::other));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&record.content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    match &download.range {
        Some(range) => {
            headers.insert(
                header::CONTENT_LENGTH,
                HeaderValue::from(range.end - range.start),
            );
            let content_range = format!("bytes {}-{}/{}", range.start, range.end - 1, record.size);
            if let Ok(value) = HeaderValue::from_str(&content_range) {
                headers.insert(header::CONTENT_RANGE, value);
            }
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        }
        None => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(record.size));
        }
    }
    let headers = response.headers_mut();
    // The key is the content's hash: the bytes behind a URL never change.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    // Even if a browser were tricked into rendering it, it runs nothing.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if download.attachment {
        let safe_name: String = record
            .file_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe_name}\"")) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}
