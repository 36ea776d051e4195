//! Videos and their box tracks in: MOTChallenge sequences, CVAT for video
//! 1.1, and plain image sequences; what [`TrackWriter`](crate::TrackWriter)
//! and datumaro's `mot_seq_gt` and `cvat` exporters write.
//!
//! # Sequences
//!
//! A dataset may hold several sequences, each one video task:
//! - a MOT sequence is a folder with `gt/gt.txt` (and maybe
//!   `gt/labels.txt`, `seqinfo.ini`, `img1/`);
//! - a CVAT for video sequence is an XML file with `<track>`s (CVAT names it
//!   `annotations.xml`), in the folder of its video or frames;
//! - without either, every folder with images directly in it is an image
//!   sequence without annotations, and every video file a task of its own.
//!
//! A sequence's video is, in this order: its frames (the images of the
//! folder `seqinfo.ini`'s `imDir` names, `img1/` by default, for MOT;
//! `images/` for CVAT; the images directly in the folder), as an image
//! sequence in natural name order (`2.png` before `10.png`); the one video
//! file in its folder (`.mp4`, `.m4v`, `.mov`, `.webm`, `.mkv`), or the
//! one named after the sequence where there are several; or a video named
//! after the sequence in the dataset's top folder (a Gloss MOT or CVAT
//! export holds no frames: put the video beside its folder, or in it).
//!
//! The task's `data[video_field]` is the video's path in the dataset, or
//! the list of frame paths for an image sequence.
//!
//! # Tracks
//!
//! Each track becomes one result (region id `mot-{id}` or `cvat-{id}`; a
//! box track is a `videorectangle`) with the track's label in `labels`, its
//! keyframes in percent of the frame size, and `framesCount` where the
//! length is known:
//! - MOT: every row of `gt.txt` (`frame,id,left,top,width,height,conf,
//!   class,visibility`, frames from 1) is a box; a track's class names its
//!   label, class `i` being line `i` of `gt/labels.txt`, or without one
//!   datumaro's MOT labels (`pedestrian`, `person on vehicle`, `car`, …).
//!   A visibility of 0 or less marks the box occluded, as datumaro reads
//!   it; a missing class or visibility counts as 1. Where a track skips
//!   frames, a disabled keyframe on the first missing frame sends it
//!   outside until it is back.
//! - CVAT: the `keyframe="1"` boxes of each `<track>` (frames from 0, so
//!   frame `f` is frame `f + 1` here), an `outside="1"` one as a disabled
//!   keyframe; boxes between keyframes are CVAT's interpolation and are
//!   not read. A `rotation` about the box's centre becomes Label Studio's
//!   turn about the top-left corner. Tracks of `<polygon>`s and
//!   `<polyline>`s become `videopolygon` and `videopolyline` results, of
//!   `<skeleton>`s `videokeypointlabels` (each keyframe's joints that are
//!   not `outside`), of `<mask>`s `videobrush` (COCO counts on the frame's
//!   grid, which `<original_size>` must give); tracks of other shapes
//!   (points) are refused, and so is a track that mixes shapes. Each kind
//!   needs its control.
//!
//! Keyframes that linear interpolation between their neighbours puts within
//! [`KEYFRAME_TOLERANCE_PX`] of where they are are left out, so a MOT file
//! (which lists every frame) comes back with the keyframes an annotator
//! would have set, and the boxes of every frame are unchanged.
//!
//! # Sizes and limits
//!
//! Percentages need the frame size: MOT's `seqinfo.ini` `imWidth` and
//! `imHeight`, CVAT's `<original_size>`, or else the size the caller reads
//! from the first frame or the video. A sequence holds up to
//! [`MAX_SEQUENCE_FRAMES`] frames, a `gt.txt` up to [`MAX_MOT_ROWS`] rows,
//! a CVAT file up to [`MAX_CVAT_XML_BYTES`](crate::MAX_CVAT_XML_BYTES).
//!
//! A sequence with any problem is rejected as a whole, with one rejection
//! per problem: row = the sequence's position + 1 (sorted by path), field =
//! the file and place, as `seq/gt/gt.txt:line 12` or
//! `seq/annotations.xml:track[0].box[3].xtl`.

use crate::coco::ControlRef;
use crate::files::{file_stem, FileSource};
use crate::model::{AnnotationRecord, FormatError, Rejection, TaskRecord};
use crate::xml::{self, child, child_text, children, parse_number, parse_size};
use gloss_types::result::{
    ResultItem, ResultValue, ShapeKeyframe, ShapeTrackValue, TrackJoint, VideoKeyframe,
    VideoRectangleValue,
};
use roxmltree::Node;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The most frames one image sequence may have.
pub const MAX_SEQUENCE_FRAMES: usize = 100_000;
/// The most rows one MOT `gt.txt` may have.
pub const MAX_MOT_ROWS: usize = 5_000_000;
/// How far, in pixels, an interpolated box may be from a listed one for the
/// listed one to be left out as a keyframe.
pub const KEYFRAME_TOLERANCE_PX: f64 = 0.01;

/// File name extensions of the videos a sequence may use.
const VIDEO_EXTENSIONS: [&str; 5] = ["mp4", "m4v", "mov", "webm", "mkv"];
/// File name extensions of frames.
const IMAGE_EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "bmp", "gif", "webp", "tif", "tiff"];

/// Datumaro's MOT labels, for sequences without `gt/labels.txt`.
const MOT_LABELS: [&str; 12] = [
    "pedestrian",
    "person on vehicle",
    "car",
    "bicycle",
    "motorbike",
    "non motorized vehicle",
    "static person",
    "distractor",
    "occluder",
    "occluder on the ground",
    "occluder full",
    "reflection",
];

/// Where videos and tracks go in the project's tasks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VideoImportOptions {
    /// The data key of the `<Video>`, e.g. `"video"`.
    pub video_field: String,
    /// The VideoRectangle control that gets the box tracks; sequences with
    /// box tracks are refused without one (and so on for the others).
    pub tracks: Option<ControlRef>,
    /// The VideoPolygon control, for CVAT's polygon tracks.
    pub polygons: Option<ControlRef>,
    /// The VideoPolyLine control, for CVAT's polyline tracks.
    pub polylines: Option<ControlRef>,
    /// The VideoKeyPointLabels control, for CVAT's skeleton tracks.
    pub skeletons: Option<ControlRef>,
    /// The VideoBrush control, for CVAT's mask tracks.
    pub masks: Option<ControlRef>,
}

impl VideoImportOptions {
    fn control(&self, kind: TrackKind) -> Option<&ControlRef> {
        match kind {
            TrackKind::Box => self.tracks.as_ref(),
            TrackKind::Polygon => self.polygons.as_ref(),
            TrackKind::PolyLine => self.polylines.as_ref(),
            TrackKind::Skeleton => self.skeletons.as_ref(),
            TrackKind::Mask => self.masks.as_ref(),
        }
    }
}

/// Whether `path` names a video file Gloss reads, by its extension.
pub fn is_video_path(path: &str) -> bool {
    has_extension(path, &VIDEO_EXTENSIONS)
}

/// Whether `path` names an image, by its extension.
fn is_image_path(path: &str) -> bool {
    has_extension(path, &IMAGE_EXTENSIONS)
}

fn has_extension(path: &str, extensions: &[&str]) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| extensions.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

/// Compares names as people count: runs of digits by their value, so
/// `frame_2.png` comes before `frame_10.png`.
pub fn natural_order(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (digits(a), digits(b));
                let trim = |s: &[u8]| {
                    let zeros = s.iter().take_while(|&&c| c == b'0').count();
                    s[zeros.min(s.len().saturating_sub(1))..].to_vec()
                };
                let (na, nb) = (trim(&a[..da]), trim(&b[..db]));
                let order = na.len().cmp(&nb.len()).then_with(|| na.cmp(&nb));
                if order != Ordering::Equal {
                    return order;
                }
                // Equal values: fewer leading zeros first, then go on.
                match da.cmp(&db) {
                    Ordering::Equal => {}
                    other => return other,
                }
                (a, b) = (&a[da..], &b[db..]);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

/// What marks a sequence, and where.
enum Marker {
    /// `{dir}gt/gt.txt`.
    Mot,
    /// A CVAT for video XML file at this path.
    Cvat(String),
    /// Images or a video without annotations.
    Plain(Media),
}

/// One sequence found in the dataset.
struct Sequence {
    /// Its folder, with a trailing `/` (`""` for the top).
    dir: String,
    marker: Marker,
}

/// A sequence's video: a file, or frames.
#[derive(Debug, Clone, PartialEq)]
enum Media {
    File(String),
    Frames(Vec<String>),
}

impl Media {
    fn data_value(&self) -> Value {
        match self {
            Media::File(path) => Value::String(path.clone()),
            Media::Frames(frames) => {
                Value::Array(frames.iter().cloned().map(Value::from).collect())
            }
        }
    }

    /// The file the frame size is read from.
    fn first_file(&self) -> Option<&str> {
        match self {
            Media::File(path) => Some(path),
            Media::Frames(frames) => frames.first().map(String::as_str),
        }
    }

    fn frames(&self) -> Option<u64> {
        match self {
            Media::File(_) => None,
            Media::Frames(frames) => Some(frames.len() as u64),
        }
    }
}

/// The folder of a path, with a trailing `/` (`""` at the top).
fn folder_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..=i])
}

/// Reads the video sequences of a dataset; see the [module](self).
///
/// `media_size` gives the width and height of a file of the source (the
/// first frame, or a video), for sequences that do not say their size.
pub fn read_video_dataset(
    source: &dyn FileSource,
    options: &VideoImportOptions,
    media_size: &dyn Fn(&str) -> Option<(u32, u32)>,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let paths = source.paths();
    let sequences = find_sequences(source, &paths)?;
    if sequences.is_empty() {
        return Err(FormatError::Dataset {
            file: String::new(),
            reason: "holds no video: no MOT gt/gt.txt, no CVAT for video XML, no images and no \
                     video files"
                .into(),
        });
    }
    let mut tasks = Vec::with_capacity(sequences.len());
    let mut rejections = Vec::new();
    for (position, sequence) in sequences.into_iter().enumerate() {
        let reader = SequenceReader {
            row: position as u64 + 1,
            source,
            paths: &paths,
            options,
            media_size,
            problems: Vec::new(),
        };
        match reader.task(sequence)? {
            Ok(task) => tasks.push(task),
            Err(problems) => rejections.extend(problems),
        }
    }
    Ok((tasks, rejections))
}

/// The sequences of the dataset, by path.
fn find_sequences(source: &dyn FileSource, paths: &[String]) -> Result<Vec<Sequence>, FormatError> {
    let mut found: Vec<Sequence> = Vec::new();
    for path in paths {
        if let Some(dir) = path.strip_suffix("gt/gt.txt") {
            if dir.is_empty() || dir.ends_with('/') {
                found.push(Sequence {
                    dir: dir.to_owned(),
                    marker: Marker::Mot,
                });
            }
        }
    }
    for path in paths
        .iter()
        .filter(|p| p.to_ascii_lowercase().ends_with(".xml"))
    {
        let dir = folder_of(path);
        if found
            .iter()
            .any(|s| path.starts_with(&s.dir) && matches!(s.marker, Marker::Mot))
        {
            continue;
        }
        let bytes = source.read(path)?;
        // A cheap look first: only files with tracks are parsed here.
        if String::from_utf8_lossy(&bytes).contains("<track") {
            found.push(Sequence {
                dir: dir.to_owned(),
                marker: Marker::Cvat(path.clone()),
            });
        }
    }
    if found.is_empty() {
        let mut frames: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for path in paths {
            if is_image_path(path) {
                frames
                    .entry(folder_of(path))
                    .or_default()
                    .push(path.clone());
            } else if is_video_path(path) {
                found.push(Sequence {
                    dir: folder_of(path).to_owned(),
                    marker: Marker::Plain(Media::File(path.clone())),
                });
            }
        }
        for (dir, mut images) in frames {
            images.sort_by(|a, b| natural_order(a, b));
            found.push(Sequence {
                dir: dir.to_owned(),
                marker: Marker::Plain(Media::Frames(images)),
            });
        }
    }
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(found)
}

/// Facts about a sequence read from its files.
#[derive(Debug, Default)]
struct SequenceInfo {
    name: Option<String>,
    image_dir: Option<String>,
    image_ext: Option<String>,
    frame_rate: Option<f64>,
    frames: Option<u64>,
    size: Option<(u32, u32)>,
}

/// One shape of a track as the file lists it, in pixels: a box's
/// `bounds` and `rotation`, a polygon's or polyline's `points`, or a
/// skeleton's `joints` (the other fields empty).
#[derive(Debug, Clone, PartialEq)]
struct Listed {
    /// 1-based.
    frame: u64,
    /// `[x, y, width, height]` of the top-left corner Label Studio turns about.
    bounds: [f64; 4],
    rotation: f64,
    points: Vec<[f64; 2]>,
    joints: Vec<ListedJoint>,
    /// A mask's COCO compressed counts on the frame's grid.
    counts: Option<String>,
    occluded: bool,
    /// The object leaves the frame here.
    outside: bool,
}

impl Listed {
    /// A box at `frame`, not occluded.
    fn new(frame: u64) -> Listed {
        Listed {
            frame,
            bounds: [0.0; 4],
            rotation: 0.0,
            points: Vec::new(),
            joints: Vec::new(),
            counts: None,
            occluded: false,
            outside: false,
        }
    }
}

/// A skeleton joint on a frame, in pixels.
#[derive(Debug, Clone, PartialEq)]
struct ListedJoint {
    label: String,
    x: f64,
    y: f64,
    occluded: bool,
}

/// What a track follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrackKind {
    Box,
    Polygon,
    PolyLine,
    Skeleton,
    Mask,
}

impl TrackKind {
    /// The CVAT element of the kind's shapes.
    fn from_element(name: &str) -> Option<TrackKind> {
        match name {
            "box" => Some(TrackKind::Box),
            "polygon" => Some(TrackKind::Polygon),
            "polyline" => Some(TrackKind::PolyLine),
            "skeleton" => Some(TrackKind::Skeleton),
            "mask" => Some(TrackKind::Mask),
            _ => None,
        }
    }

    /// The control tag whose results the kind's tracks are.
    fn control_tag(self) -> &'static str {
        match self {
            TrackKind::Box => "VideoRectangle",
            TrackKind::Polygon => "VideoPolygon",
            TrackKind::PolyLine => "VideoPolyLine",
            TrackKind::Skeleton => "VideoKeyPointLabels",
            TrackKind::Mask => "VideoBrush",
        }
    }
}

/// A track as read: its id, label, kind and listed shapes.
struct ListedTrack {
    id: String,
    label: String,
    kind: TrackKind,
    boxes: Vec<Listed>,
}

struct SequenceReader<'a> {
    row: u64,
    source: &'a dyn FileSource,
    paths: &'a [String],
    options: &'a VideoImportOptions,
    media_size: &'a dyn Fn(&str) -> Option<(u32, u32)>,
    problems: Vec<Rejection>,
}

/// A sequence's outcome: an I/O failure stops the whole read, a bad
/// sequence is rejected.
type SequenceOutcome = Result<Result<TaskRecord, Vec<Rejection>>, FormatError>;

impl SequenceReader<'_> {
    fn reject(&mut self, field: String, reason: impl Into<String>) {
        self.problems.push(Rejection::new(self.row, field, reason));
    }

    fn task(mut self, sequence: Sequence) -> SequenceOutcome {
        let dir = sequence.dir.clone();
        let (mut info, tracks, media) = match &sequence.marker {
            Marker::Plain(media) => (SequenceInfo::default(), Vec::new(), Some(media.clone())),
            Marker::Mot => {
                let info = self.seqinfo(&dir)?;
                let tracks = self.mot_tracks(&dir)?;
                let frames_dir = format!("{dir}{}/", info.image_dir.as_deref().unwrap_or("img1"));
                let media = self.find_media(
                    &dir,
                    &frames_dir,
                    info.image_ext.as_deref(),
                    info.name.as_deref(),
                );
                (info, tracks, media)
            }
            Marker::Cvat(path) => {
                let (info, tracks) = self.cvat_tracks(path)?;
                let media =
                    self.find_media(&dir, &format!("{dir}images/"), None, info.name.as_deref());
                (info, tracks, media)
            }
        };
        let Some(media) = media else {
            let name = sequence_name(&dir, info.name.as_deref());
            self.reject(
                dir.trim_end_matches('/').to_owned(),
                format!(
                    "has no video: no frames, and no video file in the folder or named {name}.mp4 \
                     (or .webm, .mkv, .mov) at the top of the dataset"
                ),
            );
            return Ok(Err(self.problems));
        };
        if let Media::Frames(frames) = &media {
            if frames.len() > MAX_SEQUENCE_FRAMES {
                self.reject(
                    dir.trim_end_matches('/').to_owned(),
                    format!(
                        "has {} frames; an image sequence may have up to {MAX_SEQUENCE_FRAMES}",
                        frames.len()
                    ),
                );
            }
            info.frames = info.frames.or(media.frames());
        }
        let size = info
            .size
            .or_else(|| media.first_file().and_then(|file| (self.media_size)(file)));
        let mut data = Map::new();
        data.insert(self.options.video_field.clone(), media.data_value());
        let mut record = TaskRecord {
            data,
            ..TaskRecord::default()
        };
        if tracks.is_empty() {
            return Ok(if self.problems.is_empty() {
                Ok(record)
            } else {
                Err(self.problems)
            });
        }
        let Some((width, height)) = size else {
            self.reject(
                media.first_file().unwrap_or_default().to_owned(),
                "the frame size is unknown: the sequence does not say it and the file cannot be read",
            );
            return Ok(Err(self.problems));
        };
        for kind in [
            TrackKind::Box,
            TrackKind::Polygon,
            TrackKind::PolyLine,
            TrackKind::Skeleton,
            TrackKind::Mask,
        ] {
            if tracks.iter().any(|t| t.kind == kind) && self.options.control(kind).is_none() {
                let tag = kind.control_tag();
                self.reject(
                    dir.trim_end_matches('/').to_owned(),
                    format!("has {tag} tracks, and the label config has no {tag} control for them"),
                );
            }
        }
        let mut tracks = tracks;
        if let Some(frames) = info.frames {
            for track in &mut tracks {
                track.boxes.retain(|b| !(b.outside && b.frame > frames));
            }
            for track in &tracks {
                if let Some(late) = track.boxes.iter().find(|b| b.frame > frames && !b.outside) {
                    let (frame, id) = (late.frame, &track.id);
                    self.reject(
                        dir.trim_end_matches('/').to_owned(),
                        format!(
                            "track {id} has a box on frame {frame}; the video has {frames} frames"
                        ),
                    );
                }
            }
        }
        if !self.problems.is_empty() {
            return Ok(Err(self.problems));
        }
        let result = tracks
            .into_iter()
            .filter_map(|track| {
                let control = self.options.control(track.kind)?;
                Some(track_result(control, track, (width, height), &info))
            })
            .collect();
        record.annotations.push(AnnotationRecord {
            result,
            ..AnnotationRecord::default()
        });
        Ok(Ok(record))
    }

    /// The frames in `frames_dir`, else a video for the sequence.
    fn find_media(
        &self,
        dir: &str,
        frames_dir: &str,
        image_ext: Option<&str>,
        name: Option<&str>,
    ) -> Option<Media> {
        let mut frames: Vec<String> = self
            .paths
            .iter()
            .filter(|p| p.starts_with(frames_dir) && !p[frames_dir.len()..].contains('/'))
            .filter(|p| match image_ext {
                Some(ext) => p.to_ascii_lowercase().ends_with(&ext.to_ascii_lowercase()),
                None => is_image_path(p),
            })
            .cloned()
            .collect();
        if frames.is_empty() {
            frames = self
                .paths
                .iter()
                .filter(|p| folder_of(p) == dir && is_image_path(p))
                .cloned()
                .collect();
        }
        if !frames.is_empty() {
            frames.sort_by(|a, b| natural_order(a, b));
            return Some(Media::Frames(frames));
        }
        let name = sequence_name(dir, name);
        let videos: Vec<&String> = self
            .paths
            .iter()
            .filter(|p| folder_of(p) == dir && is_video_path(p))
            .collect();
        let named = |p: &&String| file_stem(p.rsplit('/').next().unwrap_or(p)) == name;
        let chosen = match videos.as_slice() {
            [only] => Some(*only),
            several => several.iter().copied().find(named),
        }
        .or_else(|| {
            self.paths
                .iter()
                .filter(|p| !p.contains('/') && is_video_path(p))
                .find(named)
        });
        chosen.map(|path| Media::File(path.clone()))
    }

    /// `seqinfo.ini`'s facts, where the sequence has one.
    fn seqinfo(&mut self, dir: &str) -> Result<SequenceInfo, FormatError> {
        let path = format!("{dir}seqinfo.ini");
        let mut info = SequenceInfo::default();
        if !self.paths.contains(&path) {
            return Ok(info);
        }
        let text = String::from_utf8_lossy(&self.source.read(&path)?).into_owned();
        let mut width = None;
        let mut height = None;
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            let field = format!("{path}:{}", key);
            match key.as_str() {
                "name" if !value.is_empty() => info.name = Some(value.to_owned()),
                "imdir" if !value.is_empty() => {
                    if value.contains("..") || value.starts_with('/') {
                        self.reject(
                            field,
                            format!("must be a folder in the sequence, found {value:?}"),
                        );
                    } else {
                        info.image_dir = Some(value.trim_end_matches('/').to_owned());
                    }
                }
                "imext" if !value.is_empty() => info.image_ext = Some(value.to_owned()),
                "framerate" => match parse_number(value).filter(|r| *r > 0.0) {
                    Some(rate) => info.frame_rate = Some(rate),
                    None => {
                        self.reject(field, format!("must be a positive number, found {value:?}"))
                    }
                },
                "seqlength" => match value.parse::<u64>() {
                    Ok(n) if n > 0 => info.frames = Some(n),
                    _ => self.reject(
                        field,
                        format!("must be a whole number of frames, found {value:?}"),
                    ),
                },
                "imwidth" | "imheight" => match parse_size(value) {
                    Some(n) if key == "imwidth" => width = Some(n),
                    Some(n) => height = Some(n),
                    None => self.reject(
                        field,
                        format!("must be a whole number of pixels, found {value:?}"),
                    ),
                },
                _ => {}
            }
        }
        info.size = width.zip(height);
        Ok(info)
    }

    /// The tracks of `{dir}gt/gt.txt`, labelled by `gt/labels.txt`.
    fn mot_tracks(&mut self, dir: &str) -> Result<Vec<ListedTrack>, FormatError> {
        let labels_path = format!("{dir}gt/labels.txt");
        let labels: Vec<String> = if self.paths.contains(&labels_path) {
            String::from_utf8_lossy(&self.source.read(&labels_path)?)
                .lines()
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .collect()
        } else {
            MOT_LABELS.iter().map(|l| (*l).to_owned()).collect()
        };
        let path = format!("{dir}gt/gt.txt");
        let text = String::from_utf8_lossy(&self.source.read(&path)?).into_owned();
        let mut by_id: BTreeMap<i64, (usize, Vec<Listed>)> = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let field = format!("{path}:line {}", index + 1);
            if index >= MAX_MOT_ROWS {
                self.reject(
                    field,
                    format!("a gt.txt may have up to {MAX_MOT_ROWS} rows"),
                );
                break;
            }
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            if cells.len() < 6 {
                self.reject(
                    field,
                    "needs at least frame,id,left,top,width,height".to_string(),
                );
                continue;
            }
            let frame = cells[0]
                .parse::<f64>()
                .ok()
                .filter(|f| f.fract() == 0.0 && *f >= 1.0);
            let id = cells[1].parse::<f64>().ok().filter(|f| f.fract() == 0.0);
            let numbers: Vec<Option<f64>> = cells[2..6].iter().map(|c| parse_number(c)).collect();
            let class = match cells.get(7).map(|c| c.parse::<f64>()) {
                None => Some(1),
                Some(Ok(-1.0)) => Some(1),
                Some(Ok(c)) if c.fract() == 0.0 && c >= 1.0 && c <= labels.len() as f64 => {
                    Some(c as usize)
                }
                Some(_) => None,
            };
            let visibility = cells.get(8).map_or(Some(1.0), |c| parse_number(c));
            let (Some(frame), Some(id), Some(class), Some(visibility)) =
                (frame, id, class, visibility)
            else {
                let reason = if frame.is_none() {
                    format!("frame must be a whole number from 1, found {:?}", cells[0])
                } else if id.is_none() {
                    format!("id must be a whole number, found {:?}", cells[1])
                } else if class.is_none() {
                    format!(
                        "class must be a line of labels.txt, 1 to {}, found {:?}",
                        labels.len(),
                        cells.get(7).unwrap_or(&"")
                    )
                } else {
                    format!(
                        "visibility must be a number, found {:?}",
                        cells.get(8).unwrap_or(&"")
                    )
                };
                self.reject(field, reason);
                continue;
            };
            let [Some(left), Some(top), Some(width), Some(height)] = numbers[..] else {
                self.reject(field, "left, top, width and height must be numbers");
                continue;
            };
            if width <= 0.0 || height <= 0.0 {
                self.reject(field, "width and height must be more than 0");
                continue;
            }
            // Id -1 is a box of no track (datumaro writes it for boxes
            // without a track id): a track of its own.
            let key = if id < 0.0 {
                i64::MIN + index as i64
            } else {
                id as i64
            };
            let entry = by_id.entry(key).or_insert((class, Vec::new()));
            if entry.0 != class {
                let first = &labels[entry.0 - 1];
                self.reject(
                    field,
                    format!("track {} changes class here; it was {first:?}", key),
                );
                continue;
            }
            entry.1.push(Listed {
                bounds: [left, top, width, height],
                occluded: visibility <= 0.0,
                ..Listed::new(frame as u64)
            });
        }
        let mut tracks = Vec::with_capacity(by_id.len());
        for (id, (class, mut boxes)) in by_id {
            boxes.sort_by_key(|b| b.frame);
            if let Some(pair) = boxes.windows(2).find(|w| w[0].frame == w[1].frame) {
                let frame = pair[0].frame;
                self.reject(
                    path.clone(),
                    format!("track {id} has two boxes on frame {frame}"),
                );
                continue;
            }
            // A gap in the frames: outside from the first missing one.
            let mut with_gaps = Vec::with_capacity(boxes.len() + 1);
            for (i, b) in boxes.iter().enumerate() {
                with_gaps.push(b.clone());
                let next = boxes.get(i + 1).map(|n| n.frame);
                if next.is_some_and(|n| n > b.frame + 1) {
                    with_gaps.push(Listed {
                        frame: b.frame + 1,
                        outside: true,
                        occluded: false,
                        ..b.clone()
                    });
                }
            }
            // Not listed after its last box: gone from the next frame.
            if let Some(last) = boxes.last() {
                with_gaps.push(Listed {
                    frame: last.frame + 1,
                    outside: true,
                    occluded: false,
                    ..last.clone()
                });
            }
            let id = if id < 0 {
                format!("row-{}", id - i64::MIN + 1)
            } else {
                id.to_string()
            };
            tracks.push(ListedTrack {
                id: format!("mot-{id}"),
                label: labels[class - 1].clone(),
                kind: TrackKind::Box,
                boxes: with_gaps,
            });
        }
        Ok(tracks)
    }

    /// The facts and box tracks of a CVAT for video file.
    fn cvat_tracks(&mut self, path: &str) -> Result<(SequenceInfo, Vec<ListedTrack>), FormatError> {
        let bytes = self.source.read(path)?;
        let mut info = SequenceInfo::default();
        if bytes.len() as u64 > crate::MAX_CVAT_XML_BYTES {
            self.reject(
                path.to_owned(),
                format!(
                    "is over {} bytes, which is as much as is read",
                    crate::MAX_CVAT_XML_BYTES
                ),
            );
            return Ok((info, Vec::new()));
        }
        let parsed = xml::utf8_text(&bytes).and_then(xml::parse);
        let document = match parsed {
            Ok(document) => document,
            Err(problem) => {
                let at = format!("line {}, column {}", problem.line, problem.column);
                self.reject(
                    path.to_owned(),
                    format!("is not XML Gloss reads ({at}): {}", problem.message),
                );
                return Ok((info, Vec::new()));
            }
        };
        let root = document.root_element();
        if root.tag_name().name() != "annotations" {
            self.reject(
                path.to_owned(),
                "must have <annotations> as its root, as CVAT writes",
            );
            return Ok((info, Vec::new()));
        }
        if let Some(meta) = child(root, "meta") {
            let task = child(meta, "task").or_else(|| child(meta, "job"));
            if let Some(task) = task {
                info.name = child_text(task, "name")
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned);
                info.frames = child_text(task, "size")
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .filter(|n| *n > 0);
                info.size = child(task, "original_size").and_then(|size| {
                    let dimension = |name| child_text(size, name).and_then(parse_size);
                    dimension("width").zip(dimension("height"))
                });
            }
        }
        let mut tracks = Vec::new();
        for (index, track) in children(root, "track").enumerate() {
            let place = format!("{path}:track[{index}]");
            let elements: Vec<Node> = track
                .children()
                .filter(|c| c.is_element() && c.tag_name().name() != "attribute")
                .collect();
            let first = elements.first().map_or("box", |e| e.tag_name().name());
            let Some(kind) = TrackKind::from_element(first) else {
                self.reject(
                    format!("{place}.{first}"),
                    format!(
                        "is a track of {}; Gloss reads tracks of boxes, polygons, polylines, skeletons and masks",
                        plural(first)
                    ),
                );
                continue;
            };
            if let Some(other) = elements.iter().find(|e| e.tag_name().name() != first) {
                let other = other.tag_name().name();
                self.reject(
                    format!("{place}.{other}"),
                    format!(
                        "a track of {} cannot also hold {}",
                        plural(first),
                        plural(other)
                    ),
                );
                continue;
            }
            let Some(label) = track
                .attribute("label")
                .map(str::trim)
                .filter(|l| !l.is_empty())
            else {
                self.reject(format!("{place}.label"), "is missing");
                continue;
            };
            let id = track
                .attribute("id")
                .map_or_else(|| index.to_string(), |id| id.trim().to_owned());
            let mut boxes = Vec::new();
            for (at, node) in elements.into_iter().enumerate() {
                let at_place = format!("{place}.{first}[{at}]");
                if let Some(listed) = self.cvat_shape(node, kind, &at_place, info.size) {
                    boxes.extend(listed);
                }
            }
            boxes.sort_by_key(|b| b.frame);
            tracks.push(ListedTrack {
                id: format!("cvat-{id}"),
                label: label.to_owned(),
                kind,
                boxes,
            });
        }
        Ok((info, tracks))
    }

    /// One shape of a track: `None` when it is bad (and rejected), an
    /// empty list when it is an interpolated one (not a keyframe).
    fn cvat_shape(
        &mut self,
        node: Node,
        kind: TrackKind,
        place: &str,
        size: Option<(u32, u32)>,
    ) -> Option<Vec<Listed>> {
        let flag = |name: &str| node.attribute(name).map(str::trim);
        let mut flags = [false; 3];
        for (slot, name) in flags.iter_mut().zip(["keyframe", "outside", "occluded"]) {
            match flag(name) {
                None => *slot = name == "keyframe",
                Some("0") => {}
                Some("1") => *slot = true,
                Some(other) => {
                    self.reject(
                        format!("{place}.{name}"),
                        format!("must be 0 or 1, found {other:?}"),
                    );
                    return None;
                }
            }
        }
        let [keyframe, outside, occluded] = flags;
        if !keyframe {
            return Some(Vec::new());
        }
        let frame = match flag("frame").map(str::parse::<u64>) {
            Some(Ok(frame)) => frame + 1,
            _ => {
                self.reject(format!("{place}.frame"), "must be a whole number from 0");
                return None;
            }
        };
        let listed = Listed {
            // Outside, the object is not there to be hidden.
            occluded: occluded && !outside,
            outside,
            ..Listed::new(frame)
        };
        match kind {
            TrackKind::Box => {}
            TrackKind::Mask => {
                let Some(size) = size else {
                    self.reject(
                        place.to_owned(),
                        "a mask track needs the frame size: the file's <meta> has no <original_size>",
                    );
                    return None;
                };
                let mut bounds = [0u32; 4];
                for (slot, name) in bounds.iter_mut().zip(["left", "top", "width", "height"]) {
                    match flag(name).map(str::parse::<u32>) {
                        Some(Ok(value)) => *slot = value,
                        _ => {
                            self.reject(
                                format!("{place}.{name}"),
                                "must be a whole number of pixels",
                            );
                            return None;
                        }
                    }
                }
                let runs = flag("rle").unwrap_or_default();
                return match crate::cvat::mask_from_runs(runs, bounds, size) {
                    Ok(mask) => Some(vec![Listed {
                        counts: Some(gloss_masks::CocoRle::from_mask(&mask).to_compressed()),
                        ..listed
                    }]),
                    Err(reason) => {
                        self.reject(format!("{place}.rle"), reason);
                        None
                    }
                };
            }
            TrackKind::Polygon | TrackKind::PolyLine => {
                let points = self.cvat_points(node, place)?;
                let least = if kind == TrackKind::Polygon { 3 } else { 2 };
                if points.len() < least && !outside {
                    self.reject(
                        format!("{place}.points"),
                        format!("needs at least {least} points"),
                    );
                    return None;
                }
                return Some(vec![Listed { points, ..listed }]);
            }
            TrackKind::Skeleton => {
                let mut joints = Vec::new();
                for (at, joint) in children(node, "points").enumerate() {
                    let joint_place = format!("{place}.points[{at}]");
                    let Some(label) = joint
                        .attribute("label")
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                    else {
                        self.reject(format!("{joint_place}.label"), "is missing");
                        return None;
                    };
                    if joint.attribute("outside").map(str::trim) == Some("1") {
                        continue;
                    }
                    let [x, y] = *self.cvat_points(joint, &joint_place)?.first()?;
                    joints.push(ListedJoint {
                        label: label.to_owned(),
                        x,
                        y,
                        occluded: joint.attribute("occluded").map(str::trim) == Some("1"),
                    });
                }
                return Some(vec![Listed { joints, ..listed }]);
            }
        }
        let mut numbers = [0.0; 5];
        for (slot, name) in numbers
            .iter_mut()
            .zip(["xtl", "ytl", "xbr", "ybr", "rotation"])
        {
            match (flag(name), name) {
                (None, "rotation") => {}
                (Some(text), _) if parse_number(text).is_some() => {
                    *slot = parse_number(text).unwrap_or_default();
                }
                (found, _) => {
                    let reason = match found {
                        None => "is missing".to_owned(),
                        Some(text) => format!("must be a number, found {text:?}"),
                    };
                    self.reject(format!("{place}.{name}"), reason);
                    return None;
                }
            }
        }
        let [xtl, ytl, xbr, ybr, degrees] = numbers;
        if xbr < xtl || ybr < ytl {
            self.reject(
                place.to_owned(),
                "has its bottom-right corner before its top-left one",
            );
            return None;
        }
        Some(vec![Listed {
            bounds: crate::cvat::corner_box([xtl, ytl, xbr, ybr], degrees),
            rotation: degrees,
            ..listed
        }])
    }

    /// The `points` attribute, `x,y;x,y;…` in pixels.
    fn cvat_points(&mut self, node: Node, place: &str) -> Option<Vec<[f64; 2]>> {
        let Some(text) = node.attribute("points") else {
            self.reject(format!("{place}.points"), "is missing");
            return None;
        };
        let points = crate::cvat::parse_points(text);
        if points.is_none() {
            self.reject(
                format!("{place}.points"),
                format!("must be x,y pairs separated by ;, found {text:?}"),
            );
        }
        points
    }
}

/// A CVAT element's name in the plural.
fn plural(element: &str) -> String {
    match element {
        "box" => "boxes".to_owned(),
        "points" => "points".to_owned(),
        other => format!("{other}s"),
    }
}

/// The name a sequence's video may have: its stated name, else its folder's.
fn sequence_name<'a>(dir: &'a str, stated: Option<&'a str>) -> &'a str {
    stated.unwrap_or_else(|| dir.trim_end_matches('/').rsplit('/').next().unwrap_or(""))
}

/// A track's `videorectangle` result: its keyframes, those that
/// interpolation gives back left out.
fn track_result(
    control: &ControlRef,
    track: ListedTrack,
    (width, height): (u32, u32),
    info: &SequenceInfo,
) -> ResultItem {
    let (w, h) = (f64::from(width), f64::from(height));
    let track_kind = track.kind;
    let kept = keyframes_needed(&track.boxes);
    let time = |frame: u64| info.frame_rate.map(|rate| (frame - 1) as f64 / rate);
    let duration = info
        .frames
        .zip(info.frame_rate)
        .map(|(frames, rate)| frames as f64 / rate);
    let value = if track.kind == TrackKind::Box {
        let sequence = kept
            .into_iter()
            .map(|b| VideoKeyframe {
                frame: b.frame,
                enabled: !b.outside,
                x: b.bounds[0] * 100.0 / w,
                y: b.bounds[1] * 100.0 / h,
                width: b.bounds[2] * 100.0 / w,
                height: b.bounds[3] * 100.0 / h,
                rotation: (b.rotation != 0.0).then_some(b.rotation),
                time: time(b.frame),
                occluded: b.occluded.then_some(true),
                extra: Map::new(),
            })
            .collect();
        ResultValue::VideoRectangle(VideoRectangleValue {
            frames_count: info.frames,
            duration,
            sequence,
            labels: vec![track.label],
            extra: Map::new(),
        })
    } else {
        let sequence = kept
            .into_iter()
            .map(|b| ShapeKeyframe {
                frame: b.frame,
                enabled: !b.outside,
                points: b
                    .points
                    .iter()
                    .map(|[x, y]| [x * 100.0 / w, y * 100.0 / h])
                    .collect(),
                joints: b
                    .joints
                    .iter()
                    .map(|j| TrackJoint {
                        label: j.label.clone(),
                        x: j.x * 100.0 / w,
                        y: j.y * 100.0 / h,
                        visibility: j.occluded.then(|| "occluded".to_owned()),
                    })
                    .collect(),
                format: b.counts.is_some().then(|| "coco_rle".to_owned()),
                counts: b.counts.clone(),
                time: time(b.frame),
                occluded: b.occluded.then_some(true),
                extra: Map::new(),
            })
            .collect();
        let value = ShapeTrackValue {
            frames_count: info.frames,
            duration,
            sequence,
            labels: vec![track.label],
            extra: Map::new(),
        };
        match track.kind {
            TrackKind::Polygon => ResultValue::VideoPolygon(value),
            TrackKind::PolyLine => ResultValue::VideoPolyLine(value),
            TrackKind::Mask => ResultValue::VideoBrush(value),
            _ => ResultValue::VideoKeyPointLabels(value),
        }
    };
    // A mask track's grid is the frame.
    let grid = (track_kind == TrackKind::Mask).then_some((width, height));
    ResultItem {
        id: Some(track.id),
        from_name: control.from_name.clone(),
        to_name: control.to_name.clone(),
        value,
        original_width: grid.map(|g| g.0),
        original_height: grid.map(|g| g.1),
        image_rotation: None,
        parent_id: None,
        extra: Map::new(),
    }
}

/// The longest stretch one kept keyframe may span when left-out ones are
/// checked (bounds the work on long straight tracks).
const MAX_SPAN: usize = 1000;

/// The listed boxes that must stay keyframes: outside marks (the first of
/// a run), the first and last box of each visible stretch, where the
/// occluded flag changes, and every box interpolation does not give back.
fn keyframes_needed(boxes: &[Listed]) -> Vec<Listed> {
    let mut kept: Vec<Listed> = Vec::with_capacity(boxes.len());
    let mut i = 0;
    while i < boxes.len() {
        if boxes[i].outside {
            if !kept.last().is_some_and(|k| k.outside) {
                kept.push(boxes[i].clone());
            }
            i += 1;
            continue;
        }
        // A visible stretch: boxes[i..end].
        let end = boxes[i..]
            .iter()
            .position(|b| b.outside)
            .map_or(boxes.len(), |n| i + n);
        let stretch = &boxes[i..end];
        let mut from = 0;
        kept.push(stretch[0].clone());
        while from + 1 < stretch.len() {
            // The farthest `to` whose interpolation gives back every box between.
            let mut to = from + 1;
            while to + 1 < stretch.len()
                && to + 1 - from <= MAX_SPAN
                && (from + 1..=to).all(|k| fits(&stretch[from], &stretch[to + 1], &stretch[k]))
            {
                to += 1;
            }
            kept.push(stretch[to].clone());
            from = to;
        }
        // A box the same as the keyframe before it: the track holds still
        // after a keyframe anyway.
        if let [.., before, last] = kept.as_slice() {
            if stretch.len() > 1 && !before.outside && same_place(before, last) {
                kept.pop();
            }
        }
        i = end;
    }
    kept
}

/// Whether `b` is where interpolation between `a` and `c` puts it, with
/// `a`'s occluded flag (which interpolated frames take).
fn fits(a: &Listed, c: &Listed, b: &Listed) -> bool {
    let t = (b.frame - a.frame) as f64 / (c.frame - a.frame) as f64;
    b.occluded == a.occluded && between(a, c, b, t)
}

/// Whether two shapes are in the same place with the same occluded flag.
fn same_place(a: &Listed, b: &Listed) -> bool {
    a.occluded == b.occluded && between(a, a, b, 0.0)
}

/// Whether `b` is, within the tolerance, a fraction `t` of the way from
/// `a` to `c`: box fields, points (all three with as many) and joints (all
/// three with the same ones, in the same order).
fn between(a: &Listed, c: &Listed, b: &Listed, t: f64) -> bool {
    let close = |x: f64, y: f64, z: f64| (x + (z - x) * t - y).abs() <= KEYFRAME_TOLERANCE_PX;
    let same_count = |n: usize, m: usize, k: usize| n == m && m == k;
    (0..4).all(|n| close(a.bounds[n], b.bounds[n], c.bounds[n]))
        && close(a.rotation, b.rotation, c.rotation)
        && same_count(a.points.len(), b.points.len(), c.points.len())
        && (0..a.points.len()).all(|n| {
            (0..2).all(|axis| close(a.points[n][axis], b.points[n][axis], c.points[n][axis]))
        })
        && a.counts == b.counts
        && same_count(a.joints.len(), b.joints.len(), c.joints.len())
        && (0..a.joints.len()).all(|n| {
            let (p, q, r) = (&a.joints[n], &b.joints[n], &c.joints[n]);
            p.label == q.label
                && q.label == r.label
                && p.occluded == q.occluded
                && close(p.x, q.x, r.x)
                && close(p.y, q.y, r.y)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_counts_digits_by_value() {
        let mut names = vec!["f10.png", "f2.png", "f1.png", "f01.png", "g.png", "f.png"];
        names.sort_by(|a, b| natural_order(a, b));
        assert_eq!(
            names,
            ["f.png", "f1.png", "f01.png", "f2.png", "f10.png", "g.png"]
        );
        assert_eq!(natural_order("000010.jpg", "000009.jpg"), Ordering::Greater);
    }

    fn listed(frame: u64, x: f64) -> Listed {
        Listed {
            bounds: [x, 0.0, 10.0, 10.0],
            ..Listed::new(frame)
        }
    }

    #[test]
    fn straight_stretches_keep_their_ends_only() {
        // 0 → 40 over frames 1..5, then still to frame 8, then outside.
        let mut boxes: Vec<Listed> = (1..=5).map(|f| listed(f, 10.0 * (f - 1) as f64)).collect();
        boxes.extend((6..=8).map(|f| listed(f, 40.0)));
        boxes.push(Listed {
            outside: true,
            ..listed(9, 40.0)
        });
        let kept: Vec<u64> = keyframes_needed(&boxes).iter().map(|b| b.frame).collect();
        assert_eq!(kept, [1, 5, 9]);
        // An occluded box in the middle is a keyframe, and so is the one after it.
        boxes[2].occluded = true;
        let kept: Vec<u64> = keyframes_needed(&boxes).iter().map(|b| b.frame).collect();
        assert_eq!(kept, [1, 3, 4, 5, 9]);
    }
}
