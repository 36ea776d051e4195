//! The frame index of a video: every frame's presentation time, read from
//! the container's tables without decoding a picture, so the browser can
//! seek to frame `i` exactly however irregular the frame rate and however
//! the frames are reordered (B-frames).
//!
//! MP4 (and QuickTime): the first video track's sample tables: decode times
//! from `stts`, composition offsets from `ctts`, shifted by the edit list's
//! start (`elst`), in the track's timescale. WebM and Matroska: the block
//! timestamps of the first video track. Times are seconds from the first
//! frame shown, ascending.

use crate::{Error, MediaKind, Result};
use std::io::{BufReader, Read, Seek};
use std::path::Path;

/// The most frames an index holds: a 24-hour video at 60 frames a second.
pub const MAX_INDEXED_FRAMES: usize = 24 * 3600 * 60;

/// A video's frames and size.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoFrames {
    /// Each frame's presentation time in seconds, ascending; frame `i`
    /// (1-based, as results count) is `timestamps[i - 1]`.
    pub timestamps: Vec<f64>,
    /// The length in seconds: the last frame's time plus its duration.
    pub duration: f64,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
}

/// Reads the frame index of the video file at `path`, whose content is `kind`.
pub fn probe_video_file(path: &Path, kind: MediaKind) -> Result<VideoFrames> {
    let file = std::fs::File::open(path).map_err(|err| Error::Source(err.to_string()))?;
    let size = file
        .metadata()
        .map_err(|err| Error::Source(err.to_string()))?
        .len();
    let reader = BufReader::with_capacity(256 * 1024, file);
    match kind {
        MediaKind::Mp4 | MediaKind::QuickTime => mp4_frames(reader, size),
        MediaKind::WebM | MediaKind::Matroska => matroska_frames(reader),
        other => Err(Error::BadVideo(format!(
            "the content is {}, not MP4 or WebM",
            other.content_type()
        ))),
    }
}

fn bad(err: impl std::fmt::Display) -> Error {
    Error::BadVideo(err.to_string())
}

fn mp4_frames<R: Read + Seek>(reader: R, size: u64) -> Result<VideoFrames> {
    let mp4 = mp4::Mp4Reader::read_header(reader, size).map_err(bad)?;
    let track = mp4
        .tracks()
        .values()
        .filter(|track| matches!(track.track_type(), Ok(mp4::TrackType::Video)))
        .min_by_key(|track| track.track_id())
        .ok_or_else(|| bad("the file has no video track"))?;
    let timescale = f64::from(track.timescale());
    if timescale <= 0.0 {
        return Err(bad("the video track's timescale is 0"));
    }
    let stbl = &track.trak.mdia.minf.stbl;
    let mut decode_times = Vec::new();
    let mut time: i64 = 0;
    for entry in &stbl.stts.entries {
        for _ in 0..entry.sample_count {
            if decode_times.len() >= MAX_INDEXED_FRAMES {
                return Err(bad(format!("more than {MAX_INDEXED_FRAMES} frames")));
            }
            decode_times.push(time);
            time += i64::from(entry.sample_delta);
        }
    }
    let end_of_decoding = time;
    // Composition offsets (B-frames are decoded before they are shown).
    let mut offsets = Vec::with_capacity(decode_times.len());
    if let Some(ctts) = &stbl.ctts {
        for entry in &ctts.entries {
            for _ in 0..entry.sample_count {
                offsets.push(i64::from(entry.sample_offset));
            }
        }
    }
    offsets.resize(decode_times.len(), 0);
    // The edit list's start: the media time shown first.
    let shift = track
        .trak
        .edts
        .as_ref()
        .and_then(|edts| edts.elst.as_ref())
        .and_then(|elst| elst.entries.iter().find(|e| e.media_time as i64 >= 0))
        .map_or(0, |entry| entry.media_time as i64);
    let mut times: Vec<i64> = decode_times
        .iter()
        .zip(&offsets)
        .map(|(dts, cts)| dts + cts - shift)
        .collect();
    times.sort_unstable();
    let first = times.first().copied().unwrap_or(0);
    let last_duration = stbl
        .stts
        .entries
        .last()
        .map_or(0, |e| i64::from(e.sample_delta));
    let end = times.last().map_or(end_of_decoding, |t| t + last_duration);
    Ok(VideoFrames {
        timestamps: times
            .iter()
            .map(|t| (t - first) as f64 / timescale)
            .collect(),
        duration: (end - first) as f64 / timescale,
        width: u32::from(track.width()),
        height: u32::from(track.height()),
    })
}

fn matroska_frames<R: Read + Seek>(reader: R) -> Result<VideoFrames> {
    let mut mkv = matroska_demuxer::MatroskaFile::open(reader).map_err(bad)?;
    let scale = mkv.info().timestamp_scale().get() as f64 / 1e9;
    let (track, width, height) = mkv
        .tracks()
        .iter()
        .find(|t| t.track_type() == matroska_demuxer::TrackType::Video)
        .map(|t| {
            let video = t.video();
            (
                t.track_number().get(),
                video.map_or(0, |v| v.pixel_width().get() as u32),
                video.map_or(0, |v| v.pixel_height().get() as u32),
            )
        })
        .ok_or_else(|| bad("the file has no video track"))?;
    let mut frame = matroska_demuxer::Frame::default();
    let mut times: Vec<u64> = Vec::new();
    let mut last_duration = 0;
    while mkv.next_frame(&mut frame).map_err(bad)? {
        if frame.track != track {
            continue;
        }
        if times.len() >= MAX_INDEXED_FRAMES {
            return Err(bad(format!("more than {MAX_INDEXED_FRAMES} frames")));
        }
        times.push(frame.timestamp);
        last_duration = frame.duration.unwrap_or(0);
    }
    times.sort_unstable();
    let first = times.first().copied().unwrap_or(0);
    let last = times.last().copied().unwrap_or(0);
    // Without block durations, the last frame lasts as long as the one before.
    let last_duration = match (last_duration, times.len()) {
        (0, n) if n >= 2 => last - times[n - 2],
        (d, _) => d,
    };
    Ok(VideoFrames {
        timestamps: times.iter().map(|t| (t - first) as f64 * scale).collect(),
        duration: (last + last_duration - first) as f64 * scale,
        width,
        height,
    })
}
