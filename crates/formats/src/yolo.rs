//! YOLO datasets in the Ultralytics layout: one label file per image and a
//! `data.yaml` naming the classes.
//!
//! ```text
//! data.yaml                       classes (and kpt_shape for pose)
//! images/{split}/{name}.png       the images (split folders only when split)
//! labels/{split}/{name}.txt       one line per object, coordinates 0..1
//! ```
//!
//! One line per object, by task:
//! - `detect`: `class cx cy w h` — boxes, and the bounds of polygons,
//!   ellipses and brush masks;
//! - `segment`: `class x1 y1 x2 y2 …` — polygons (one line per ring), boxes
//!   as their four corners, ellipses as 72-point polygons, brush masks as
//!   the outlines of their parts (below);
//! - `obb`: `class x1 y1 … x4 y4` — the corners of boxes (rotated or not)
//!   and of the rotated bounds of ellipses;
//! - `pose`: `class cx cy w h x1 y1 v1 … xK yK vK` — skeleton instances,
//!   `v` 0 (no point), 1 (occluded) or 2 (visible);
//! - `classify`: no label files; each image goes to `{split}/{class}/`, the
//!   class being the first choice of the project's `Choices` control.
//!
//! A brush mask (`brushlabels`) becomes one polygon per part, a part being
//! pixels that share sides (4-connected): the outer boundary of the part
//! along pixel edges, its vertices pixel corners where the boundary turns,
//! so that filling the polygon by pixel centres gives back the part's
//! pixels. YOLO segment has no holes: a hole in a part is inside its
//! polygon (unless it touches the outside at a corner). Parts of fewer than
//! [`MIN_SEGMENT_PIXELS`] pixels are specks of a brush stroke, too small to
//! learn from, and are dropped and counted as skipped; so are masks drawn on
//! another size than the image's.
//!
//! Coordinates are clamped to the image (0..1), as Ultralytics does when it
//! loads labels. Images without objects get an empty label file (a
//! background image); an image without a class is left out of a
//! `classify` export and counted as skipped.

use crate::coco_writer::ExportCategory;
use crate::contour::outer_outlines;
use crate::files::{file_stem, safe_path_part as safe_part, FileSink};
use crate::shapes::{brush_regions, rectangle_shape, shape_of, size_or, skeletons, Shape};
use crate::split::Split;
use crate::write::{ExportTask, ImageInfo};
use gloss_types::result::{ResultItem, ResultValue};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io;

/// The fewest pixels a part of a brush mask needs to become a polygon of a
/// YOLO segment export: 4, a 2×2 square.
pub const MIN_SEGMENT_PIXELS: u64 = 4;

/// What a YOLO dataset is for; Ultralytics' task names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YoloTask {
    /// Axis-aligned boxes.
    Detect,
    /// Polygons (instance segmentation).
    Segment,
    /// Skeletons (keypoints).
    Pose,
    /// Oriented (rotated) boxes.
    Obb,
    /// One class per image.
    Classify,
}

impl YoloTask {
    /// Reads `detect`, `segment`, `pose`, `obb` or `classify`.
    pub fn parse(text: &str) -> Option<YoloTask> {
        Some(match text {
            "detect" => YoloTask::Detect,
            "segment" => YoloTask::Segment,
            "pose" => YoloTask::Pose,
            "obb" => YoloTask::Obb,
            "classify" => YoloTask::Classify,
            _ => return None,
        })
    }

    /// The task's name, as [`YoloTask::parse`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            YoloTask::Detect => "detect",
            YoloTask::Segment => "segment",
            YoloTask::Pose => "pose",
            YoloTask::Obb => "obb",
            YoloTask::Classify => "classify",
        }
    }
}

/// The classes of a YOLO export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YoloClasses {
    /// Shape or keypoint categories (detect, segment, obb, pose).
    Categories(Vec<ExportCategory>),
    /// The `Choices` control whose choices are the classes (classify).
    Choices {
        /// The control's name.
        control: String,
        /// Its choices, in order.
        choices: Vec<String>,
    },
}

/// Counts of what a [`YoloWriter`] wrote and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct YoloSummary {
    /// Images placed (label files written, or class folders for classify).
    pub images: u64,
    /// Object lines written.
    pub objects: u64,
    /// Tasks without an image, images without a class (classify), results
    /// whose label is not a class, and brush masks (or, for segment, parts
    /// of them) left out.
    pub skipped: u64,
}

/// Writes a YOLO dataset task by task into a [`FileSink`].
pub struct YoloWriter {
    task: YoloTask,
    /// Class names by class number.
    names: Vec<String>,
    /// Class number by label (shape tasks) or choice (classify).
    class_of: HashMap<String, usize>,
    /// Pose: class number and joints by KeyPointLabels control.
    keypoint_classes: HashMap<String, (usize, Vec<String>)>,
    /// Pose: joints per instance, the same for every class.
    joints: usize,
    /// Pose: Ultralytics' `flip_idx`, when every joint has a left/right twin or none.
    flip_index: Vec<usize>,
    /// Classify: the Choices control.
    choices_control: Option<String>,
    /// Split folders used, for data.yaml.
    splits: BTreeSet<Option<Split>>,
    summary: YoloSummary,
}

impl YoloWriter {
    /// A writer for `task` with these classes; an error says why they do
    /// not fit the task (no keypoint category for pose, skeletons of
    /// different sizes, no choices for classify, …).
    pub fn new(task: YoloTask, classes: YoloClasses) -> Result<YoloWriter, String> {
        let mut writer = YoloWriter {
            task,
            names: Vec::new(),
            class_of: HashMap::new(),
            keypoint_classes: HashMap::new(),
            joints: 0,
            flip_index: Vec::new(),
            choices_control: None,
            splits: BTreeSet::new(),
            summary: YoloSummary::default(),
        };
        match (task, classes) {
            (YoloTask::Classify, YoloClasses::Choices { control, choices }) => {
                for choice in choices {
                    writer.add_class(choice);
                }
                writer.choices_control = Some(control);
            }
            (YoloTask::Classify, YoloClasses::Categories(_)) => {
                return Err("a YOLO classify export needs a <Choices> control: \
                            its choices are the classes"
                    .into())
            }
            (YoloTask::Pose, YoloClasses::Categories(categories)) => {
                writer.add_keypoint_classes(categories)?
            }
            (_, YoloClasses::Categories(categories)) => {
                for category in categories.into_iter().filter(|c| c.keypoints.is_none()) {
                    writer.add_class(category.name);
                }
            }
            (_, YoloClasses::Choices { .. }) => {
                return Err(format!(
                    "a YOLO {} export takes its classes from shape labels, not choices",
                    task.name()
                ))
            }
        }
        if writer.names.is_empty() {
            return Err(format!(
                "a YOLO {} export needs at least one class, and the label config gives none",
                task.name()
            ));
        }
        Ok(writer)
    }

    fn add_class(&mut self, name: String) -> usize {
        if let Some(&class) = self.class_of.get(&name) {
            return class;
        }
        self.names.push(name.clone());
        self.class_of.insert(name, self.names.len() - 1);
        self.names.len() - 1
    }

    fn add_keypoint_classes(&mut self, categories: Vec<ExportCategory>) -> Result<(), String> {
        for category in categories {
            let Some(keypoints) = category.keypoints else {
                continue;
            };
            if self.names.is_empty() {
                self.joints = keypoints.joints.len();
                self.flip_index = flip_index(&keypoints.joints);
            } else if keypoints.joints.len() != self.joints {
                return Err(format!(
                    "a YOLO pose dataset has one kpt_shape, but skeleton \"{}\" has {} joints \
                     and the first one {}",
                    category.name,
                    keypoints.joints.len(),
                    self.joints
                ));
            }
            let class = self.add_class(category.name);
            self.keypoint_classes
                .insert(keypoints.control, (class, keypoints.joints));
        }
        if self.keypoint_classes.is_empty() {
            return Err("a YOLO pose export needs a <KeyPointLabels> control".into());
        }
        Ok(())
    }

    /// Writes the task's label file; returns where its image goes in the
    /// dataset, or `None` when it is left out (no image, or no class).
    pub fn write_task(
        &mut self,
        task: &ExportTask,
        split: Option<Split>,
        sink: &mut dyn FileSink,
    ) -> io::Result<Option<String>> {
        let Some(image) = &task.image else {
            self.summary.skipped += 1;
            return Ok(None);
        };
        let results = task
            .annotations
            .iter()
            .filter(|a| !a.record.was_cancelled)
            .flat_map(|a| &a.record.result);
        let folder = |root: &str| match split {
            Some(split) => format!("{root}/{}", split.name()),
            None => root.to_owned(),
        };
        if self.task == YoloTask::Classify {
            let control = self.choices_control.as_deref().unwrap_or_default();
            let class = results
                .filter(|r| r.from_name == control)
                .find_map(|r| match &r.value {
                    ResultValue::Choices(v) => v.choices.first(),
                    _ => None,
                })
                .filter(|choice| self.class_of.contains_key(*choice));
            let Some(class) = class else {
                self.summary.skipped += 1;
                return Ok(None);
            };
            self.summary.images += 1;
            let root = split.map_or("train", Split::name);
            return Ok(Some(format!(
                "{root}/{}/{}",
                safe_part(class),
                image.file_name
            )));
        }
        let results: Vec<&ResultItem> = results.collect();
        let mut lines = String::new();
        if self.task == YoloTask::Pose {
            self.pose_lines(&results, image, &mut lines);
        } else {
            for result in &results {
                self.shape_lines(result, image, &mut lines);
            }
        }
        let stem = file_stem(&image.file_name);
        sink.put(
            &format!("{}/{stem}.txt", folder("labels")),
            lines.as_bytes(),
        )?;
        self.splits.insert(split);
        self.summary.images += 1;
        Ok(Some(format!("{}/{}", folder("images"), image.file_name)))
    }

    fn shape_lines(&mut self, result: &ResultItem, image: &ImageInfo, lines: &mut String) {
        if let ResultValue::BrushLabels(_) = result.value {
            return self.brush_lines(result, image, lines);
        }
        let Some((shape, labels)) = shape_of(result, image.width, image.height) else {
            return;
        };
        let width = f64::from(size_or(image.width, result.original_width));
        let height = f64::from(size_or(image.height, result.original_height));
        let class = labels.first().and_then(|l| self.class_of.get(l)).copied();
        let Some(class) = class.filter(|_| width > 0.0 && height > 0.0) else {
            self.summary.skipped += 1;
            return;
        };
        let size = [width, height];
        match self.task {
            YoloTask::Detect => {
                push_line(lines, class, &box_numbers(shape.bbox, size));
                self.summary.objects += 1;
            }
            YoloTask::Segment => {
                for ring in &shape.rings {
                    push_line(lines, class, &normalized(ring, size));
                    self.summary.objects += 1;
                }
            }
            YoloTask::Obb => match oriented_corners(result, &shape, size) {
                Some(corners) => {
                    push_line(lines, class, &normalized(&corners, size));
                    self.summary.objects += 1;
                }
                None => self.summary.skipped += 1,
            },
            YoloTask::Pose | YoloTask::Classify => {}
        }
    }

    /// A brush mask's bounds (detect) or the outlines of its parts
    /// (segment); other tasks hold no masks.
    fn brush_lines(&mut self, result: &ResultItem, image: &ImageInfo, lines: &mut String) {
        let width = size_or(image.width, result.original_width);
        let height = size_or(image.height, result.original_height);
        let (brushes, left_out) = brush_regions([result], width, height);
        self.summary.skipped += left_out;
        // One region per label, all of the same mask: the first label is
        // the class, as for shapes.
        let Some(brush) = brushes.first() else {
            return;
        };
        let Some(&class) = self.class_of.get(brush.label) else {
            self.summary.skipped += 1;
            return;
        };
        let size = [f64::from(width), f64::from(height)];
        match self.task {
            YoloTask::Detect => {
                push_line(lines, class, &box_numbers(brush.pixel_bbox(), size));
                self.summary.objects += 1;
            }
            YoloTask::Segment => {
                let (outlines, dropped) = outer_outlines(&brush.mask, MIN_SEGMENT_PIXELS);
                self.summary.skipped += dropped;
                for outline in outlines {
                    let ring: Vec<f64> = outline
                        .iter()
                        .flat_map(|corner| corner.map(f64::from))
                        .collect();
                    push_line(lines, class, &normalized(&ring, size));
                    self.summary.objects += 1;
                }
            }
            YoloTask::Obb | YoloTask::Pose | YoloTask::Classify => self.summary.skipped += 1,
        }
    }

    fn pose_lines(&mut self, results: &[&ResultItem], image: &ImageInfo, lines: &mut String) {
        let joints_of = |control: &str| {
            self.keypoint_classes
                .get(control)
                .map(|(_, joints)| &joints[..])
        };
        let (instances, skipped) = skeletons(
            results.iter().copied(),
            joints_of,
            image.width,
            image.height,
        );
        self.summary.skipped += skipped;
        let size = [f64::from(image.width), f64::from(image.height)];
        if size[0] <= 0.0 || size[1] <= 0.0 {
            self.summary.skipped += instances.len() as u64;
            return;
        }
        for instance in instances {
            let class = self.keypoint_classes[instance.control].0;
            let mut numbers = box_numbers(instance.bbox(), size).to_vec();
            for joint in instance.keypoints.chunks_exact(3) {
                if joint[2] > 0.0 {
                    numbers.push(clamp01(joint[0] / size[0]));
                    numbers.push(clamp01(joint[1] / size[1]));
                } else {
                    numbers.extend([0.0, 0.0]);
                }
                numbers.push(joint[2]);
            }
            push_line(lines, class, &numbers);
            self.summary.objects += 1;
        }
    }

    /// Writes `data.yaml` (not for classify, whose folders are the dataset).
    pub fn finish(self, sink: &mut dyn FileSink) -> io::Result<YoloSummary> {
        if self.task == YoloTask::Classify {
            return Ok(self.summary);
        }
        let mut yaml = String::from(
            "# YOLO dataset exported from Gloss, in the Ultralytics layout.\n\
             # Paths are relative to the folder of this file.\n",
        );
        let has_splits = self.splits.iter().any(Option::is_some);
        if has_splits {
            for split in [Split::Train, Split::Validation, Split::Test] {
                // Ultralytics needs train and val; test only when present.
                if split != Split::Test || self.splits.contains(&Some(split)) {
                    let _ = writeln!(yaml, "{}: images/{}", split.name(), split.name());
                }
            }
        } else {
            yaml.push_str("train: images\nval: images\n");
        }
        yaml.push_str("names:\n");
        for (class, name) in self.names.iter().enumerate() {
            // A JSON string is a valid YAML double-quoted scalar.
            let quoted = serde_json::to_string(name).unwrap_or_default();
            let _ = writeln!(yaml, "  {class}: {quoted}");
        }
        if self.task == YoloTask::Pose {
            let _ = writeln!(yaml, "kpt_shape: [{}, 3]", self.joints);
            let flip: Vec<String> = self.flip_index.iter().map(usize::to_string).collect();
            let _ = writeln!(yaml, "flip_idx: [{}]", flip.join(", "));
        }
        sink.put("data.yaml", yaml.as_bytes())?;
        Ok(self.summary)
    }
}

/// Ultralytics' `flip_idx`: each joint's mirror image under a horizontal
/// flip, found by swapping `left` and `right` in its name; a joint with no
/// twin maps to itself.
fn flip_index(joints: &[String]) -> Vec<usize> {
    let mirrored = |name: &str| {
        let lower = name.to_lowercase();
        if lower.contains("left") {
            Some(lower.replace("left", "right"))
        } else if lower.contains("right") {
            Some(lower.replace("right", "left"))
        } else {
            None
        }
    };
    (0..joints.len())
        .map(|index| {
            mirrored(&joints[index])
                .and_then(|twin| joints.iter().position(|j| j.to_lowercase() == twin))
                .unwrap_or(index)
        })
        .collect()
}

fn clamp01(v: f64) -> f64 {
    v.clamp(0.0, 1.0)
}

/// `cx cy w h` in 0..1 of pixel bounds `[x, y, w, h]`, clamped to the image.
fn box_numbers(bbox: [f64; 4], [width, height]: [f64; 2]) -> [f64; 4] {
    let left = clamp01(bbox[0] / width);
    let top = clamp01(bbox[1] / height);
    let right = clamp01((bbox[0] + bbox[2]) / width);
    let bottom = clamp01((bbox[1] + bbox[3]) / height);
    [
        (left + right) / 2.0,
        (top + bottom) / 2.0,
        right - left,
        bottom - top,
    ]
}

/// Flat pixel `[x1, y1, x2, y2, …]` as 0..1.
fn normalized(ring: &[f64], [width, height]: [f64; 2]) -> Vec<f64> {
    ring.chunks_exact(2)
        .flat_map(|xy| [clamp01(xy[0] / width), clamp01(xy[1] / height)])
        .collect()
}

/// The four corners, in pixels, of a box (its own, rotated or not) or of
/// an ellipse's rotated bounds; `None` for shapes that are not boxes.
fn oriented_corners(
    result: &ResultItem,
    shape: &Shape,
    [width, height]: [f64; 2],
) -> Option<Vec<f64>> {
    match &result.value {
        ResultValue::RectangleLabels(_) => shape.rings.first().cloned(),
        ResultValue::EllipseLabels(ellipse) => {
            let e = &ellipse.shape;
            let (rx, ry) = (e.radius_x * width / 100.0, e.radius_y * height / 100.0);
            let degrees = e.rotation.unwrap_or(0.0);
            // The unrotated bounds' top-left corner, turned about the centre.
            let (sin, cos) = degrees.to_radians().sin_cos();
            let (cx, cy) = (e.x * width / 100.0, e.y * height / 100.0);
            let x = cx - rx * cos + ry * sin;
            let y = cy - rx * sin - ry * cos;
            rectangle_shape(x, y, 2.0 * rx, 2.0 * ry, degrees)
                .rings
                .into_iter()
                .next()
        }
        _ => None,
    }
}

/// Appends `class n1 n2 …` with numbers in plain decimals (no exponent,
/// which some readers refuse), to 1e-10 of the image: a hundredth of a
/// pixel needs 1e-6 on a 10,000-pixel side, and the rest keeps round trips
/// through percent exact to far below that.
fn push_line(lines: &mut String, class: usize, numbers: &[f64]) {
    let _ = write!(lines, "{class}");
    for n in numbers {
        lines.push(' ');
        lines.push_str(&crate::xml::number(*n));
    }
    lines.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flip_index_swaps_left_and_right_twins() {
        let joints: Vec<String> = [
            "nose",
            "left_eye",
            "right_eye",
            "Left Hip",
            "Right Hip",
            "tail",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(flip_index(&joints), [0, 2, 1, 4, 3, 5]);
    }

    #[test]
    fn numbers_are_plain_decimals() {
        let mut line = String::new();
        push_line(&mut line, 3, &[0.5, 1.0, 0.0, 1e-9, 0.123456789]);
        assert_eq!(line, "3 0.5 1 0 0.000000001 0.123456789\n");
    }

    #[test]
    fn boxes_are_clamped_to_the_image() {
        let numbers = box_numbers([-10.0, 50.0, 60.0, 100.0], [100.0, 100.0]);
        assert_eq!(numbers, [0.25, 0.75, 0.5, 0.5]);
    }

    #[test]
    fn class_names_become_safe_folder_names() {
        assert_eq!(safe_part("cat/dog"), "cat_dog");
        assert_eq!(safe_part(".."), "_");
    }
}
