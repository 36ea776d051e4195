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
//!
//! For MP4 H.264 videos, [`probe_video_samples`] also gives the table a
//! browser needs to decode frames itself (WebCodecs): every sample's bytes
//! in the file, in decoding order, its sync flag and the frame it shows.

use crate::{Error, MediaKind, Result};
use std::io::{BufReader, Read, Seek, SeekFrom};
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

/// The first video track of an MP4 (the lowest track id).
fn first_video_track<R: Read + Seek>(mp4: &mp4::Mp4Reader<R>) -> Result<&mp4::Mp4Track> {
    mp4.tracks()
        .values()
        .filter(|track| matches!(track.track_type(), Ok(mp4::TrackType::Video)))
        .min_by_key(|track| track.track_id())
        .ok_or_else(|| bad("the file has no video track"))
}

fn mp4_frames<R: Read + Seek>(reader: R, size: u64) -> Result<VideoFrames> {
    let mp4 = mp4::Mp4Reader::read_header(reader, size).map_err(bad)?;
    let track = first_video_track(&mp4)?;
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

/// The samples of an MP4 H.264 video in decoding order, for a decoder in
/// the browser (WebCodecs): where each one's bytes are and which frame it
/// shows.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSamples {
    /// The codec string for WebCodecs: `avc1.PPCCLL` (profile,
    /// compatibility flags, level from the `avcC` box), or `avc3.…`.
    pub codec: String,
    /// The decoder configuration: the `avcC` box's payload (without its
    /// 8-byte header), as WebCodecs' `description` takes it.
    pub description: Vec<u8>,
    /// Coded size, pixels (the sample entry's).
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Each sample's first byte in the file.
    pub offsets: Vec<u64>,
    /// Each sample's length in bytes.
    pub sizes: Vec<u32>,
    /// The positions (0-based, decoding order) of the sync samples (key
    /// frames), ascending.
    pub keys: Vec<u32>,
    /// Each sample's frame in presentation order (0-based): the rank of its
    /// composition time, the numbering of [`VideoFrames::timestamps`].
    pub frames: Vec<u32>,
}

/// Reads the sample table of the MP4 or QuickTime H.264 video at `path`;
/// anything else (WebM, another codec) is [`Error::BadVideo`], saying why.
pub fn probe_video_samples(path: &Path, kind: MediaKind) -> Result<VideoSamples> {
    if !matches!(kind, MediaKind::Mp4 | MediaKind::QuickTime) {
        return Err(bad(format!(
            "the content is {}: sample tables are read from MP4 videos",
            kind.content_type()
        )));
    }
    let file = std::fs::File::open(path).map_err(|err| Error::Source(err.to_string()))?;
    let size = file
        .metadata()
        .map_err(|err| Error::Source(err.to_string()))?
        .len();
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mp4 = mp4::Mp4Reader::read_header(&mut reader, size).map_err(bad)?;
    let track = first_video_track(&mp4)?;
    let track_id = track.track_id();
    let stbl = &track.trak.mdia.minf.stbl;
    let count = stbl.stsz.sample_count as usize;
    if count > MAX_INDEXED_FRAMES {
        return Err(bad(format!("more than {MAX_INDEXED_FRAMES} frames")));
    }
    // Sizes.
    let sizes: Vec<u32> = if stbl.stsz.sample_size != 0 {
        vec![stbl.stsz.sample_size; count]
    } else if stbl.stsz.sample_sizes.len() == count {
        stbl.stsz.sample_sizes.clone()
    } else {
        return Err(bad("the sample size table is cut short"));
    };
    // Offsets: chunks from stco or co64, samples per chunk from stsc.
    let chunks: Vec<u64> = match (&stbl.stco, &stbl.co64) {
        (Some(stco), _) => stco.entries.iter().map(|&o| u64::from(o)).collect(),
        (None, Some(co64)) => co64.entries.clone(),
        (None, None) => return Err(bad("the video track has no chunk offsets")),
    };
    let mut offsets = Vec::with_capacity(count);
    let entries = &stbl.stsc.entries;
    'chunks: for (e, entry) in entries.iter().enumerate() {
        let first = entry.first_chunk.max(1) as usize;
        let end = entries
            .get(e + 1)
            .map_or(chunks.len(), |next| {
                (next.first_chunk as usize).saturating_sub(1)
            })
            .min(chunks.len());
        for &chunk in chunks.get(first - 1..end).unwrap_or(&[]) {
            let mut at = chunk;
            for _ in 0..entry.samples_per_chunk {
                if offsets.len() == count {
                    break 'chunks;
                }
                offsets.push(at);
                at += u64::from(sizes[offsets.len() - 1]);
            }
        }
    }
    if offsets.len() != count {
        return Err(bad("the chunk tables place fewer samples than there are"));
    }
    if offsets
        .iter()
        .zip(&sizes)
        .any(|(&o, &s)| o.saturating_add(u64::from(s)) > size)
    {
        return Err(bad("a sample lies past the end of the file"));
    }
    let keys: Vec<u32> = match &stbl.stss {
        Some(stss) => {
            let mut keys: Vec<u32> = stss
                .entries
                .iter()
                .filter(|&&n| n >= 1 && n as usize <= count)
                .map(|n| n - 1)
                .collect();
            keys.sort_unstable();
            keys.dedup();
            keys
        }
        None => (0..count as u32).collect(),
    };
    // Presentation order: the rank of each sample's composition time.
    let mut times = Vec::with_capacity(count);
    let mut time: i64 = 0;
    for entry in &stbl.stts.entries {
        for _ in 0..entry.sample_count {
            if times.len() == count {
                break;
            }
            times.push(time);
            time += i64::from(entry.sample_delta);
        }
    }
    if times.len() != count {
        return Err(bad("the time table has fewer samples than the size table"));
    }
    if let Some(ctts) = &stbl.ctts {
        let mut n = 0;
        for entry in &ctts.entries {
            for _ in 0..entry.sample_count {
                if n < count {
                    times[n] += i64::from(entry.sample_offset);
                    n += 1;
                }
            }
        }
    }
    let mut order: Vec<u32> = (0..count as u32).collect();
    order.sort_by_key(|&n| (times[n as usize], n));
    let mut frames = vec![0; count];
    for (rank, &n) in order.iter().enumerate() {
        frames[n as usize] = rank as u32;
    }
    let entry = sample_entry(&mut reader, size, track_id)?;
    Ok(VideoSamples {
        codec: entry.codec,
        description: entry.description,
        width: entry.width,
        height: entry.height,
        offsets,
        sizes,
        keys,
        frames,
    })
}

/// What the first sample description of an H.264 track says.
struct SampleEntry {
    codec: String,
    description: Vec<u8>,
    width: u32,
    height: u32,
}

/// A box header read at the reader's position: its type, where its payload
/// starts and where it ends.
fn box_header<R: Read + Seek>(reader: &mut R, end: u64) -> Result<Option<([u8; 4], u64, u64)>> {
    let start = reader.stream_position().map_err(bad)?;
    if start + 8 > end {
        return Ok(None);
    }
    let mut header = [0u8; 8];
    reader.read_exact(&mut header).map_err(bad)?;
    let mut size = u64::from(u32::from_be_bytes([
        header[0], header[1], header[2], header[3],
    ]));
    let kind = [header[4], header[5], header[6], header[7]];
    let mut payload = start + 8;
    if size == 1 {
        let mut large = [0u8; 8];
        reader.read_exact(&mut large).map_err(bad)?;
        size = u64::from_be_bytes(large);
        payload += 8;
    } else if size == 0 {
        size = end - start;
    }
    let box_end = start
        .checked_add(size)
        .filter(|&e| e <= end && e >= payload);
    let box_end = box_end.ok_or_else(|| bad("a box runs past its parent"))?;
    Ok(Some((kind, payload, box_end)))
}

/// The payload bounds of the first child box of type `kind` within `start..end`.
fn find_box<R: Read + Seek>(
    reader: &mut R,
    start: u64,
    end: u64,
    kind: &[u8; 4],
) -> Result<Option<(u64, u64)>> {
    reader.seek(SeekFrom::Start(start)).map_err(bad)?;
    while let Some((found, payload, box_end)) = box_header(reader, end)? {
        if &found == kind {
            return Ok(Some((payload, box_end)));
        }
        reader.seek(SeekFrom::Start(box_end)).map_err(bad)?;
    }
    Ok(None)
}

fn read_bytes<R: Read + Seek>(reader: &mut R, at: u64, len: usize) -> Result<Vec<u8>> {
    reader.seek(SeekFrom::Start(at)).map_err(bad)?;
    let mut bytes = vec![0u8; len];
    reader.read_exact(&mut bytes).map_err(bad)?;
    Ok(bytes)
}

/// The sample entry of track `track_id`, walking moov/trak/mdia/minf/stbl/stsd
/// (the `mp4` crate knows neither `avc3` nor the `avcC` bytes it does not parse).
fn sample_entry<R: Read + Seek>(reader: &mut R, size: u64, track_id: u32) -> Result<SampleEntry> {
    let (moov, moov_end) = find_box(reader, 0, size, b"moov")?.ok_or_else(|| bad("no moov box"))?;
    let mut at = moov;
    loop {
        reader.seek(SeekFrom::Start(at)).map_err(bad)?;
        let Some((kind, trak, trak_end)) = box_header(reader, moov_end)? else {
            return Err(bad("the video track's sample description is missing"));
        };
        at = trak_end;
        if &kind != b"trak" {
            continue;
        }
        let Some((tkhd, tkhd_end)) = find_box(reader, trak, trak_end, b"tkhd")? else {
            continue;
        };
        let version = read_bytes(reader, tkhd, 1)?[0];
        let id_at = tkhd + if version == 1 { 20 } else { 12 };
        if id_at + 4 > tkhd_end {
            continue;
        }
        let id = read_bytes(reader, id_at, 4)?;
        if u32::from_be_bytes([id[0], id[1], id[2], id[3]]) != track_id {
            continue;
        }
        let mut bounds = (trak, trak_end);
        for kind in [b"mdia", b"minf", b"stbl", b"stsd"] {
            bounds = find_box(reader, bounds.0, bounds.1, kind)?
                .ok_or_else(|| bad("the video track's sample description is missing"))?;
        }
        // stsd: version and flags, entry count, then the entries.
        let (entry_kind, entry, entry_end) = {
            reader.seek(SeekFrom::Start(bounds.0 + 8)).map_err(bad)?;
            box_header(reader, bounds.1)?.ok_or_else(|| bad("the sample description is empty"))?
        };
        let name = String::from_utf8_lossy(&entry_kind).into_owned();
        if &entry_kind != b"avc1" && &entry_kind != b"avc3" {
            return Err(bad(format!(
                "the video is {name}, not H.264 (avc1 or avc3)"
            )));
        }
        // A visual sample entry: 78 bytes of fields, then boxes.
        if entry + 78 > entry_end {
            return Err(bad("the sample description is cut short"));
        }
        let dims = read_bytes(reader, entry + 24, 4)?;
        let (avcc, avcc_end) = find_box(reader, entry + 78, entry_end, b"avcC")?
            .ok_or_else(|| bad("the H.264 sample description has no avcC box"))?;
        let description = read_bytes(reader, avcc, (avcc_end - avcc) as usize)?;
        if description.len() < 7 || description[0] != 1 {
            return Err(bad("the avcC box is not an AVC configuration"));
        }
        return Ok(SampleEntry {
            codec: format!(
                "{name}.{:02x}{:02x}{:02x}",
                description[1], description[2], description[3]
            ),
            description,
            width: u32::from(u16::from_be_bytes([dims[0], dims[1]])),
            height: u32::from(u16::from_be_bytes([dims[2], dims[3]])),
        });
    }
}
