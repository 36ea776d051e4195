//! Tracks of videos out as MOTChallenge sequences and CVAT for video 1.1.
//!
//! Both list a track's box on every frame where the object is there, the
//! frames between keyframes interpolated as the labeling screen shows them
//! ([`VideoRectangleValue::box_at`]). CVAT for video also holds the tracks
//! of polygons, polylines and skeletons (`videopolygon`, `videopolyline`,
//! `videokeypointlabels`, interpolated by [`ShapeTrackValue::shape_at`]) as
//! `<polygon>`, `<polyline>` and `<skeleton>` elements of their `<track>`;
//! MOT holds boxes only (the engine refuses other tracks for it by name).
//! One sequence per video task, in a folder named after the video (made
//! unique):
//!
//! ```text
//! MOT:   {video}/gt/gt.txt       frame,track,left,top,width,height,1,class,visibility
//!        {video}/gt/labels.txt   class names, class 1 first
//!        {video}/seqinfo.ini     name, frame rate, length, size (imDir img1, imExt .jpg)
//! CVAT:  {video}/annotations.xml <track id label><box frame keyframe outside occluded …/>
//! ```
//!
//! Pixel coordinates; a rotated box is written as its axis-aligned bounds in
//! MOT (which has no rotation) and with its `rotation` about the centre in
//! CVAT. MOT's visibility is 1, or 0 for an occluded box. The frames
//! themselves are the video's: no images are extracted (MOT's `img1` folder
//! stays empty, and `seqinfo.ini` says where it would be).

use crate::cvat::skeleton_svg;
use crate::files::{file_stem, safe_path_part, FileSink};
use crate::write::{ExportTask, VideoInfo};
use crate::xml::escaped;
use gloss_types::result::{
    ResultValue, ShapeTrackValue, TrackBox, TrackShape, VideoRectangleValue,
};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io;

/// Counts of what a video track writer wrote and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrackSummary {
    /// Videos written.
    pub videos: u64,
    /// Tracks written.
    pub tracks: u64,
    /// Shapes written (every frame of every track).
    pub boxes: u64,
    /// Tasks without a video, and tracks without a known label.
    pub skipped: u64,
}

/// Which of the two layouts to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackFormat {
    /// MOTChallenge: `gt/gt.txt`, `gt/labels.txt`, `seqinfo.ini`.
    Mot,
    /// CVAT for video 1.1: `annotations.xml` with `<track>`s.
    CvatVideo,
}

/// Writes the tracks of video tasks, one sequence per task.
pub struct TrackWriter {
    format: TrackFormat,
    /// Label names; MOT class numbers are positions + 1.
    labels: Vec<String>,
    /// The joints (in order) and edges of skeleton tracks, if the video has them.
    skeleton: Option<(Vec<String>, Vec<[String; 2]>)>,
    class_of: HashMap<String, usize>,
    /// Sequence folder names used, to keep them unique.
    taken: HashSet<String>,
    summary: TrackSummary,
}

/// One track's boxes, by frame.
struct TrackBoxes<'a> {
    label: &'a str,
    boxes: Vec<(u64, TrackBox)>,
    /// Frames where a disabled keyframe sends the object outside (CVAT
    /// writes an `outside` box there).
    outside: Vec<u64>,
}

/// The shapes a shape track follows, with CVAT's element name for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrackedShape {
    Polygon,
    PolyLine,
    Skeleton,
    Mask,
}

impl TrackedShape {
    fn element(self) -> &'static str {
        match self {
            TrackedShape::Polygon => "polygon",
            TrackedShape::PolyLine => "polyline",
            TrackedShape::Skeleton => "skeleton",
            TrackedShape::Mask => "mask",
        }
    }
}

/// What a track result follows: boxes, or another shape.
#[derive(Clone, Copy)]
enum Followed<'v> {
    Boxes(&'v VideoRectangleValue),
    Shapes(&'v ShapeTrackValue, TrackedShape),
}

/// One shape track's shapes, by frame.
struct TrackShapes<'a> {
    kind: TrackedShape,
    label: &'a str,
    shapes: Vec<(u64, TrackShape)>,
    outside: Vec<u64>,
}

impl TrackWriter {
    /// A writer whose classes are `labels` (the video's Labels control).
    pub fn new(format: TrackFormat, labels: Vec<String>) -> TrackWriter {
        let class_of = labels
            .iter()
            .enumerate()
            .map(|(index, label)| (label.clone(), index))
            .collect();
        TrackWriter {
            format,
            labels,
            skeleton: None,
            class_of,
            taken: HashSet::new(),
            summary: TrackSummary::default(),
        }
    }

    /// The joints, in order, and edges of the video's skeleton tracks
    /// (its `VideoKeyPointLabels` control), which CVAT declares.
    pub fn with_skeleton(mut self, joints: Vec<String>, edges: Vec<[String; 2]>) -> TrackWriter {
        self.skeleton = Some((joints, edges));
        self
    }

    /// Writes the tracks of the task's annotations (not cancelled) as one
    /// sequence; a task without a video is skipped, and so are tracks
    /// without a known label (and, in MOT, tracks of shapes but boxes).
    pub fn write_task(&mut self, task: &ExportTask, sink: &mut dyn FileSink) -> io::Result<()> {
        let Some(video) = &task.video else {
            self.summary.skipped += 1;
            return Ok(());
        };
        let mut tracks = Vec::new();
        let mut shape_tracks = Vec::new();
        for result in task
            .annotations
            .iter()
            .filter(|a| !a.record.was_cancelled)
            .flat_map(|a| &a.record.result)
        {
            let followed = match &result.value {
                ResultValue::VideoRectangle(track) => Followed::Boxes(track),
                ResultValue::VideoPolygon(track) => Followed::Shapes(track, TrackedShape::Polygon),
                ResultValue::VideoPolyLine(track) => {
                    Followed::Shapes(track, TrackedShape::PolyLine)
                }
                ResultValue::VideoKeyPointLabels(track) => {
                    Followed::Shapes(track, TrackedShape::Skeleton)
                }
                // Masks are drawn on a grid of the video's size.
                ResultValue::VideoBrush(track)
                    if result.original_width == Some(video.width)
                        && result.original_height == Some(video.height) =>
                {
                    Followed::Shapes(track, TrackedShape::Mask)
                }
                ResultValue::VideoBrush(_) => {
                    self.summary.skipped += 1;
                    continue;
                }
                _ => continue,
            };
            let labels = match followed {
                Followed::Boxes(track) => &track.labels,
                Followed::Shapes(track, _) => &track.labels,
            };
            let Some(label) = labels.first().filter(|l| self.class_of.contains_key(*l)) else {
                self.summary.skipped += 1;
                continue;
            };
            match followed {
                Followed::Boxes(track) => tracks.push(track_boxes(track, label, video.frames)),
                Followed::Shapes(..) if self.format == TrackFormat::Mot => {
                    self.summary.skipped += 1
                }
                Followed::Shapes(track, kind) => {
                    shape_tracks.push(track_shapes(track, kind, label, video.frames))
                }
            }
        }
        let folder = self.folder_for(&video.file_name);
        match self.format {
            TrackFormat::Mot => self.write_mot(&folder, video, &tracks, sink)?,
            TrackFormat::CvatVideo => {
                self.write_cvat(&folder, video, &tracks, &shape_tracks, sink)?
            }
        }
        self.summary.videos += 1;
        self.summary.tracks += (tracks.len() + shape_tracks.len()) as u64;
        self.summary.boxes += tracks.iter().map(|t| t.boxes.len() as u64).sum::<u64>();
        self.summary.boxes += shape_tracks
            .iter()
            .map(|t| t.shapes.len() as u64)
            .sum::<u64>();
        Ok(())
    }

    /// What was written.
    pub fn finish(self) -> TrackSummary {
        self.summary
    }

    fn folder_for(&mut self, file_name: &str) -> String {
        let stem = safe_path_part(file_stem(file_name));
        let mut name = stem.clone();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{stem}-{n}");
            n += 1;
        }
        name
    }

    fn write_mot(
        &self,
        folder: &str,
        video: &VideoInfo,
        tracks: &[TrackBoxes],
        sink: &mut dyn FileSink,
    ) -> io::Result<()> {
        let (width, height) = (f64::from(video.width), f64::from(video.height));
        let mut rows = Vec::new();
        for (index, track) in tracks.iter().enumerate() {
            let class = self.class_of[track.label] + 1;
            for (frame, b) in &track.boxes {
                let [left, top, w, h] = bounds_in_pixels(b, width, height);
                let visibility = if b.occluded { 0 } else { 1 };
                rows.push((*frame, index + 1, left, top, w, h, class, visibility));
            }
        }
        // MOT files list rows by frame, then track.
        rows.sort_by_key(|row| (row.0, row.1));
        let mut text = String::new();
        for (frame, id, left, top, w, h, class, visibility) in rows {
            let _ = writeln!(
                text,
                "{frame},{id},{},{},{},{},1,{class},{visibility}",
                decimal(left),
                decimal(top),
                decimal(w),
                decimal(h)
            );
        }
        sink.put(&format!("{folder}/gt/gt.txt"), text.as_bytes())?;
        let mut labels = self.labels.join("\n");
        labels.push('\n');
        sink.put(&format!("{folder}/gt/labels.txt"), labels.as_bytes())?;
        let info = format!(
            "[Sequence]\nname={folder}\nimDir=img1\nframeRate={}\nseqLength={}\nimWidth={}\nimHeight={}\nimExt=.jpg\n",
            video.frame_rate.round().max(1.0),
            video.frames,
            video.width,
            video.height
        );
        sink.put(&format!("{folder}/seqinfo.ini"), info.as_bytes())
    }

    fn write_cvat(
        &self,
        folder: &str,
        video: &VideoInfo,
        tracks: &[TrackBoxes],
        shape_tracks: &[TrackShapes],
        sink: &mut dyn FileSink,
    ) -> io::Result<()> {
        let (width, height) = (f64::from(video.width), f64::from(video.height));
        let mut xml =
            String::with_capacity(1024 + tracks.iter().map(|t| t.boxes.len() * 160).sum::<usize>());
        xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n    <task>\n");
        let _ = writeln!(xml, "      <name>{}</name>", escaped(folder));
        let _ = writeln!(
            xml,
            "      <size>{}</size>\n      <mode>interpolation</mode>",
            video.frames
        );
        let _ = writeln!(
            xml,
            "      <start_frame>0</start_frame>\n      <stop_frame>{}</stop_frame>",
            video.frames.saturating_sub(1)
        );
        xml.push_str("      <labels>\n");
        for label in &self.labels {
            // A label of skeleton tracks is a skeleton, its joints labels inside it.
            let skeleton = self.skeleton.as_ref().filter(|_| {
                shape_tracks
                    .iter()
                    .any(|t| t.kind == TrackedShape::Skeleton && t.label == label)
            });
            let kind = match skeleton {
                Some(_) => "skeleton",
                None if tracks.iter().any(|t| t.label == label) => "rectangle",
                None => "any",
            };
            let _ = write!(
                xml,
                "        <label>\n          <name>{}</name>\n          <type>{kind}</type>\n          <attributes>\n          </attributes>\n",
                escaped(label)
            );
            if let Some((joints, edges)) = skeleton {
                let _ = writeln!(
                    xml,
                    "          <svg>{}</svg>",
                    escaped(&skeleton_svg(joints, edges))
                );
            }
            xml.push_str("        </label>\n");
            for joint in skeleton
                .map(|(joints, _)| joints.as_slice())
                .unwrap_or_default()
            {
                let _ = writeln!(
                    xml,
                    "        <label>\n          <name>{}</name>\n          <type>points</type>\n          <attributes>\n          </attributes>\n          <parent>{}</parent>\n        </label>",
                    escaped(joint),
                    escaped(label)
                );
            }
        }
        xml.push_str("      </labels>\n");
        let _ = writeln!(
            xml,
            "      <original_size>\n        <width>{}</width>\n        <height>{}</height>\n      </original_size>",
            video.width, video.height
        );
        xml.push_str("    </task>\n  </meta>\n");
        for (index, track) in tracks.iter().enumerate() {
            let _ = writeln!(
                xml,
                "  <track id=\"{index}\" label=\"{}\" source=\"manual\">",
                escaped(track.label)
            );
            // CVAT numbers frames from 0; results from 1.
            let mut lines: Vec<(u64, String)> = track
                .boxes
                .iter()
                .map(|(frame, b)| (*frame, cvat_box(*frame - 1, b, width, height, false)))
                .collect();
            for frame in &track.outside {
                if let Some((_, last)) = track.boxes.iter().rev().find(|(f, _)| f < frame) {
                    lines.push((*frame, cvat_box(*frame - 1, last, width, height, true)));
                }
            }
            lines.sort_by_key(|(frame, _)| *frame);
            for (_, line) in lines {
                xml.push_str(&line);
            }
            xml.push_str("  </track>\n");
        }
        for (index, track) in shape_tracks.iter().enumerate() {
            let _ = writeln!(
                xml,
                "  <track id=\"{}\" label=\"{}\" source=\"manual\">",
                tracks.len() + index,
                escaped(track.label)
            );
            // A mask holds over many frames: each is encoded once.
            let mut masks = HashMap::new();
            let mut lines: Vec<(u64, String)> = Vec::with_capacity(track.shapes.len());
            for (frame, shape) in &track.shapes {
                let line = self.cvat_shape(
                    track.kind,
                    *frame - 1,
                    shape,
                    (width, height),
                    false,
                    &mut masks,
                );
                lines.extend(line.map(|line| (*frame, line)));
            }
            for frame in &track.outside {
                if let Some((_, last)) = track.shapes.iter().rev().find(|(f, _)| f < frame) {
                    let line = self.cvat_shape(
                        track.kind,
                        *frame - 1,
                        last,
                        (width, height),
                        true,
                        &mut masks,
                    );
                    lines.extend(line.map(|line| (*frame, line)));
                }
            }
            lines.sort_by_key(|(frame, _)| *frame);
            for (_, line) in lines {
                xml.push_str(&line);
            }
            xml.push_str("  </track>\n");
        }
        xml.push_str("</annotations>\n");
        sink.put(&format!("{folder}/annotations.xml"), xml.as_bytes())
    }
}

impl TrackWriter {
    /// One shape of a track on a 0-based frame: a `<polygon>` or
    /// `<polyline>` with its points, a `<skeleton>` with a `<points>` per
    /// joint (those not on the frame `outside`, at 0,0 as CVAT writes them),
    /// or a `<mask>` in CVAT's run lengths over its bounds (`masks` keeps
    /// those made, by counts). `None` for an empty or undecodable mask.
    fn cvat_shape(
        &self,
        kind: TrackedShape,
        frame: u64,
        shape: &TrackShape,
        (width, height): (f64, f64),
        outside: bool,
        masks: &mut HashMap<String, Option<String>>,
    ) -> Option<String> {
        let element = kind.element();
        let pixel = |x: f64, y: f64| {
            format!(
                "{},{}",
                decimal(x * width / 100.0),
                decimal(y * height / 100.0)
            )
        };
        let mut line = format!(
            "    <{element} frame=\"{frame}\" keyframe=\"{}\" outside=\"{}\" occluded=\"{}\"",
            u8::from(shape.keyframe || outside),
            u8::from(outside),
            u8::from(shape.occluded),
        );
        if kind == TrackedShape::Mask {
            let counts = shape.counts.as_deref()?;
            let geometry = masks
                .entry(counts.to_owned())
                .or_insert_with(|| mask_geometry(counts, width as u32, height as u32))
                .as_deref()?;
            let _ = writeln!(line, " {geometry} z_order=\"0\">\n    </{element}>");
            return Some(line);
        }
        if kind != TrackedShape::Skeleton {
            let points: Vec<String> = shape.points.iter().map(|[x, y]| pixel(*x, *y)).collect();
            let _ = writeln!(
                line,
                " points=\"{}\" z_order=\"0\">\n    </{element}>",
                points.join(";")
            );
            return Some(line);
        }
        line.push_str(" z_order=\"0\">\n");
        let joints = self
            .skeleton
            .as_ref()
            .map(|(joints, _)| joints.as_slice())
            .unwrap_or_default();
        for name in joints {
            let joint = shape.joints.iter().find(|j| &j.label == name);
            let occluded = joint.is_some_and(|j| j.visibility.as_deref() == Some("occluded"));
            let place = joint.map_or_else(|| "0,0".to_owned(), |j| pixel(j.x, j.y));
            let _ = writeln!(
                line,
                "      <points label=\"{}\" keyframe=\"{}\" outside=\"{}\" occluded=\"{}\" points=\"{place}\">\n      </points>",
                escaped(name),
                u8::from(shape.keyframe || outside),
                u8::from(outside || joint.is_none()),
                u8::from(occluded),
            );
        }
        let _ = writeln!(line, "    </{element}>");
        Some(line)
    }
}

/// A mask's CVAT attributes (`rle`, `left`, `top`, `width`, `height`) from
/// its COCO counts on a `width` × `height` grid; `None` when it is empty or
/// does not decode.
fn mask_geometry(counts: &str, width: u32, height: u32) -> Option<String> {
    let rle = gloss_masks::CocoRle::from_compressed(width, height, counts).ok()?;
    let bbox = rle.bbox()?;
    let mask = rle.to_mask();
    Some(format!(
        "rle=\"{}\" left=\"{}\" top=\"{}\" width=\"{}\" height=\"{}\"",
        crate::cvat::cvat_rle(&mask, bbox),
        bbox.x,
        bbox.y,
        bbox.width,
        bbox.height
    ))
}

fn track_shapes<'a>(
    track: &ShapeTrackValue,
    kind: TrackedShape,
    label: &'a str,
    frames: u64,
) -> TrackShapes<'a> {
    let last = track.frames_count.unwrap_or(frames).min(frames.max(1));
    let keys = track.sequence.iter().map(|k| (k.frame, k.enabled));
    TrackShapes {
        kind,
        label,
        shapes: track.shapes(last).collect(),
        outside: outside_frames(keys, last),
    }
}

fn track_boxes<'a>(track: &VideoRectangleValue, label: &'a str, frames: u64) -> TrackBoxes<'a> {
    let last = track.frames_count.unwrap_or(frames).min(frames.max(1));
    let keys = track.sequence.iter().map(|k| (k.frame, k.enabled));
    TrackBoxes {
        label,
        boxes: track.boxes(last).collect(),
        outside: outside_frames(keys, last),
    }
}

/// The frames up to `last` where a disabled keyframe sends the object
/// outside, in order, from a track's `(frame, enabled)` keyframes.
fn outside_frames(keys: impl Iterator<Item = (u64, bool)>, last: u64) -> Vec<u64> {
    let mut outside: Vec<u64> = keys
        .filter(|&(frame, enabled)| !enabled && frame <= last)
        .map(|(frame, _)| frame)
        .collect();
    outside.sort_unstable();
    outside
}

/// `[left, top, width, height]` in pixels of a box (its bounds when rotated).
fn bounds_in_pixels(b: &TrackBox, width: f64, height: f64) -> [f64; 4] {
    let shape = crate::shapes::rectangle_shape(
        b.x * width / 100.0,
        b.y * height / 100.0,
        b.width * width / 100.0,
        b.height * height / 100.0,
        b.rotation,
    );
    shape.bbox
}

/// One CVAT `<box>`: corners of the unrotated box, which CVAT turns by
/// `rotation` about its centre; Label Studio turns about the top-left
/// corner, so the box is moved to keep the same place.
fn cvat_box(frame: u64, b: &TrackBox, width: f64, height: f64, outside: bool) -> String {
    let (x, y) = (b.x * width / 100.0, b.y * height / 100.0);
    let (w, h) = (b.width * width / 100.0, b.height * height / 100.0);
    let (sin, cos) = b.rotation.to_radians().sin_cos();
    // The centre of the box turned about its top-left corner.
    let cx = x + (w / 2.0) * cos - (h / 2.0) * sin;
    let cy = y + (w / 2.0) * sin + (h / 2.0) * cos;
    let mut line = format!(
        "    <box frame=\"{frame}\" keyframe=\"{}\" outside=\"{}\" occluded=\"{}\" xtl=\"{}\" ytl=\"{}\" xbr=\"{}\" ybr=\"{}\" z_order=\"0\"",
        u8::from(b.keyframe || outside),
        u8::from(outside),
        u8::from(b.occluded),
        decimal(cx - w / 2.0),
        decimal(cy - h / 2.0),
        decimal(cx + w / 2.0),
        decimal(cy + h / 2.0),
    );
    if b.rotation != 0.0 {
        let _ = write!(
            line,
            " rotation=\"{}\"",
            decimal(b.rotation.rem_euclid(360.0))
        );
    }
    line.push_str(">\n    </box>\n");
    line
}

/// A number to a thousandth (of a pixel or a degree), without float noise
/// or a trailing `.0`.
fn decimal(value: f64) -> String {
    let rounded = (value * 1000.0).round() / 1000.0;
    let text = format!("{rounded:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_short_and_exact() {
        assert_eq!(decimal(12.0), "12");
        assert_eq!(decimal(0.1 + 0.2), "0.3");
        assert_eq!(decimal(-0.0001), "0");
        assert_eq!(decimal(1.23456), "1.235");
    }

    #[test]
    fn a_box_turned_about_its_corner_keeps_its_place_turned_about_its_centre() {
        let b = TrackBox {
            x: 50.0,
            y: 50.0,
            width: 20.0,
            height: 10.0,
            rotation: 90.0,
            keyframe: true,
            occluded: false,
        };
        // 100×100 frame: a 20×10 box at (50, 50) turned 90° about (50, 50)
        // covers x 40..50, y 50..70: centre (45, 60).
        let line = cvat_box(0, &b, 100.0, 100.0, false);
        assert!(
            line.contains("xtl=\"35\" ytl=\"55\" xbr=\"55\" ybr=\"65\""),
            "{line}"
        );
        assert!(line.contains("rotation=\"90\""), "{line}");
    }
}
