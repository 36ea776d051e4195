//! Pascal VOC datasets, in the layout datumaro's `voc` format reads and
//! writes:
//!
//! ```text
//! labelmap.txt                          labels and their mask colours
//! Annotations/{stem}.xml                one per image: its size and objects
//! ImageSets/Main/{subset}.txt           the stems of each subset
//! ImageSets/Segmentation/{subset}.txt   the stems that have masks
//! JPEGImages/{file name}                the images
//! SegmentationClass/{stem}.png          class masks, in label map colours
//! SegmentationObject/{stem}.png         instance masks, in the VOC palette
//! ```
//!
//! # Writing
//!
//! [`VocWriter`] writes, of the annotations that were not cancelled:
//! - `rectanglelabels`: an `<object>` with the box (a rotated box: its
//!   axis-aligned bounds);
//! - `polygonlabels` and `ellipselabels`: an `<object>` with their bounds,
//!   and the shape in both masks. Polygons sharing a region id are one
//!   object, as in the COCO export;
//! - `brushlabels`: an `<object>` with the bounds of the mask's pixels, and
//!   the mask pixel for pixel in both masks. A mask drawn on another size
//!   than the image's, or without a pixel set, is left out and counted as
//!   skipped.
//!
//! VOC has no place for other results (keypoints, polylines, unlabelled
//! brushes, choices, …); [`VOC_RESULT_TYPES`] lists the types written, so
//! that the engine can refuse label configs with others by name.
//!
//! Boxes are clamped to the image. `pose`, `truncated`, `difficult` and
//! `occluded` come from the result's `"voc"` key when it has one (where
//! [`read_voc`] keeps them), else `Unspecified` and 0. The subset is the
//! task's split (`train`, `val`, `test`), or `default` without splits.
//!
//! Masks are drawn for the images that have polygons, ellipses or brush
//! masks: a pixel belongs to an outline when its centre is inside it by the
//! even-odd rule, to a brush mask when it is set, objects are drawn in the
//! order of their results, later over earlier, and the background is black
//! (class and instance 0). `SegmentationClass` paints each label in its
//! `labelmap.txt` colour (label `i` gets colour `i` of the VOC palette, the
//! background colour 0); `SegmentationObject` paints instance `k` (the
//! `k`-th painted object, from 1) in colour `k` of the VOC palette. Both
//! are 8-bit RGB PNGs.
//!
//! A file name whose stem is already taken (`a.png` after `a.jpg`) gets the
//! task id added (`a-17.png`), so every image has its own annotation file;
//! `write_task` returns where each image goes.
//!
//! # Coordinates
//!
//! [`VocCoordinates::Exact`], the default, writes pixel edges as decimals,
//! `xmin = x` and `xmax = x + width`: what datumaro writes and reads by
//! default (its `dm-zero-based` mode), so boxes go through it unchanged.
//! [`VocCoordinates::OneBased`] is the VOC devkit's convention, which
//! datumaro reads and writes as `voc-one-based`: whole pixels counted from
//! 1, the first and last covered pixel, so `xmin = floor(x) + 1` and
//! `xmax = ceil(x + width)` (boxes grow outward to whole pixels) and reading
//! takes `x = xmin - 1`.
//!
//! # Reading
//!
//! [`read_voc`] makes one task per `Annotations/**/*.xml` file, with its
//! `<object>`s as `rectanglelabels` results, and one per image a subset list
//! names without an annotation file; see there.
//!
//! # Limits
//!
//! - An annotation file is read up to [`MAX_VOC_XML_BYTES`]; a larger one
//!   is rejected (the file source hands out whole files, so the engine's
//!   upload limit bounds what is read before the check).
//! - An image is read with up to [`MAX_OBJECTS_PER_IMAGE`] objects; one with
//!   more is rejected. Subset lists are read whole (a line per image).
//! - The masks hold up to [`MAX_MASK_INSTANCES`] objects per image (palette
//!   colour 255 is VOC's "void"); further shapes are written as boxes only
//!   and counted as skipped. Images over [`MAX_MASK_PIXELS`] get no masks.
//! - The writer keeps the stems it has written, for the subset lists that
//!   [`VocWriter::finish`] writes: memory grows with the number of images,
//!   not with their annotations. Masks are encoded a row at a time.

use crate::coco::ControlRef;
use crate::coco_writer::ExportCategory;
use crate::files::{file_stem, is_safe_relative_path, FileSink, FileSource};
use crate::model::{FormatError, Rejection, TaskRecord};
use crate::raster::{row_spans, voc_color, RgbPng};
use crate::shapes::{image_result, ordered_objects, percent, placed, Object};
use crate::split::Split;
use crate::write::ExportTask;
use crate::xml::{self, child, child_text, children, number};
use gloss_types::result::{RectangleLabelsValue, ResultItem, ResultValue};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io;

/// The result types a VOC export writes; a label config with other image
/// shapes loses them in VOC.
pub const VOC_RESULT_TYPES: &[&str] = &[
    "rectanglelabels",
    "polygonlabels",
    "ellipselabels",
    "brushlabels",
];

/// The largest annotation file [`read_voc`] reads: 4 MiB, thousands of
/// objects (a VOC file is usually under 2 KiB).
pub const MAX_VOC_XML_BYTES: usize = 4 << 20;

/// The most objects [`read_voc`] and the CVAT reader take from one image.
pub const MAX_OBJECTS_PER_IMAGE: usize = 10_000;

/// The most shapes a VOC instance mask holds: palette colours 1 to 254.
pub const MAX_MASK_INSTANCES: usize = 254;

/// The largest image (width × height) that gets masks: 2^28 pixels, say
/// 16384 × 16384.
pub const MAX_MASK_PIXELS: u64 = 1 << 28;

/// The label map's name for class 0, the background.
const BACKGROUND: &str = "background";

/// How `<bndbox>` numbers relate to pixels; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VocCoordinates {
    /// Pixel edges as decimals (datumaro's default, `dm-zero-based`).
    #[default]
    Exact,
    /// The VOC devkit's whole pixels from 1 (datumaro's `voc-one-based`).
    OneBased,
}

/// Counts of what a [`VocWriter`] wrote and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VocSummary {
    /// Annotation files written, one per task with an image.
    pub images: u64,
    /// Objects written.
    pub objects: u64,
    /// Images given segmentation masks.
    pub masks: u64,
    /// Tasks without an image or image size, results whose label is not a
    /// class (or that have no size to convert them with), and shapes left
    /// out of full masks.
    pub skipped: u64,
}

/// Writes a Pascal VOC dataset task by task into a [`FileSink`].
pub struct VocWriter {
    coordinates: VocCoordinates,
    /// Labels in class order: label `i` is class `i + 1`.
    labels: Vec<String>,
    /// Class number by label; the background is 0.
    class_of: HashMap<String, u32>,
    /// Stems written, so that no two images share one.
    stems: HashSet<String>,
    /// `ImageSets/Main` and `ImageSets/Segmentation` lists by subset.
    main_lists: BTreeMap<&'static str, String>,
    segmentation_lists: BTreeMap<&'static str, String>,
    summary: VocSummary,
}

impl VocWriter {
    /// A writer for the shape categories (keypoint categories are left
    /// out); an error says why they cannot make a VOC label map.
    pub fn new(
        categories: &[ExportCategory],
        coordinates: VocCoordinates,
    ) -> Result<VocWriter, String> {
        let mut writer = VocWriter {
            coordinates,
            labels: Vec::new(),
            class_of: HashMap::new(),
            stems: HashSet::new(),
            main_lists: BTreeMap::new(),
            segmentation_lists: BTreeMap::new(),
            summary: VocSummary::default(),
        };
        for category in categories.iter().filter(|c| c.keypoints.is_none()) {
            let name = &category.name;
            check_label_map_name(name)?;
            if writer.class_of.contains_key(name) {
                continue;
            }
            // A label named like the background is the background.
            let class = if name == BACKGROUND {
                0
            } else {
                writer.labels.push(name.clone());
                writer.labels.len() as u32
            };
            writer.class_of.insert(name.clone(), class);
        }
        if writer.class_of.is_empty() {
            return Err(
                "a Pascal VOC export needs labels of boxes, polygons, ellipses or masks, \
                        and the label config gives none"
                    .into(),
            );
        }
        Ok(writer)
    }

    /// Writes the task's annotation file (and masks); returns where its
    /// image goes in the dataset, or `None` when the task is left out (no
    /// image, or no image size).
    pub fn write_task(
        &mut self,
        task: &ExportTask,
        split: Option<Split>,
        sink: &mut dyn FileSink,
    ) -> io::Result<Option<String>> {
        let Some((image, (width, height), annotations)) = placed(task) else {
            self.summary.skipped += 1;
            return Ok(None);
        };

        let mut objects: Vec<(u32, Object)> = Vec::new();
        for annotation in annotations {
            let (drawn, left_out) = ordered_objects(&annotation.result, width, height);
            self.summary.skipped += left_out;
            for object in drawn {
                match self.class_of.get(object.label()) {
                    Some(&class) => objects.push((class, object)),
                    None => self.summary.skipped += 1,
                }
            }
        }

        let file_name = self.unique_name(&image.file_name, task.id);
        let stem = file_stem(&file_name).to_owned();
        let subset = split.map_or("default", Split::name);
        let mut outlines: Vec<(u32, &Object)> = objects
            .iter()
            .filter(|(_, object)| object.is_painted())
            .map(|(class, object)| (*class, object))
            .collect();
        let pixels = u64::from(width) * u64::from(height);
        if !outlines.is_empty() && pixels <= MAX_MASK_PIXELS {
            let left_out = outlines.len().saturating_sub(MAX_MASK_INSTANCES);
            self.summary.skipped += left_out as u64;
            outlines.truncate(MAX_MASK_INSTANCES);
            let (class_png, object_png) = masks(width, height, &outlines)?;
            sink.put(&format!("SegmentationClass/{stem}.png"), &class_png)?;
            sink.put(&format!("SegmentationObject/{stem}.png"), &object_png)?;
            push_line(&mut self.segmentation_lists, subset, &stem);
            self.summary.masks += 1;
        } else {
            self.summary.skipped += outlines.len() as u64;
            outlines.clear();
        }

        let segmented = !outlines.is_empty();
        let xml = self.annotation_xml(&file_name, [width, height], &objects, segmented);
        sink.put(&format!("Annotations/{stem}.xml"), xml.as_bytes())?;
        push_line(&mut self.main_lists, subset, &stem);
        self.summary.images += 1;
        self.summary.objects += objects.len() as u64;
        Ok(Some(format!("JPEGImages/{file_name}")))
    }

    /// The image's file name in the dataset: one path part, with a stem no
    /// other image has.
    fn unique_name(&mut self, wanted: &str, task_id: i64) -> String {
        let cleaned: String = wanted
            .chars()
            .map(|c| if matches!(c, '/' | '\\') { '_' } else { c })
            .collect();
        let name = match cleaned.as_str() {
            "" | "." | ".." => format!("image-{task_id}"),
            _ => cleaned,
        };
        let stem = file_stem(&name);
        let extension = &name[stem.len()..];
        let mut unique = stem.to_owned();
        let mut tries = 1;
        while self.stems.contains(&unique) {
            unique = match tries {
                1 => format!("{stem}-{task_id}"),
                n => format!("{stem}-{task_id}-{n}"),
            };
            tries += 1;
        }
        self.stems.insert(unique.clone());
        unique + extension
    }

    fn annotation_xml(
        &self,
        file_name: &str,
        [width, height]: [u32; 2],
        objects: &[(u32, Object)],
        segmented: bool,
    ) -> String {
        let mut xml = String::from("<annotation>\n  <filename>");
        xml::push_escaped(&mut xml, file_name);
        let _ = write!(
            xml,
            "</filename>\n  <size>\n    <width>{width}</width>\n    <height>{height}</height>\n    \
             <depth>3</depth>\n  </size>\n  <segmented>{}</segmented>\n",
            u8::from(segmented)
        );
        for (_, object) in objects {
            let flags = Flags::of(object.result());
            let [xmin, ymin, xmax, ymax] = self.bndbox(object.bbox(), [width, height]);
            xml.push_str("  <object>\n    <name>");
            xml::push_escaped(&mut xml, object.label());
            xml.push_str("</name>\n    <pose>");
            xml::push_escaped(&mut xml, &flags.pose);
            let _ = write!(
                xml,
                "</pose>\n    <truncated>{}</truncated>\n    <difficult>{}</difficult>\n    \
                 <occluded>{}</occluded>\n    <bndbox>\n      <xmin>{xmin}</xmin>\n      \
                 <ymin>{ymin}</ymin>\n      <xmax>{xmax}</xmax>\n      <ymax>{ymax}</ymax>\n    \
                 </bndbox>\n  </object>\n",
                u8::from(flags.truncated),
                u8::from(flags.difficult),
                u8::from(flags.occluded),
            );
        }
        xml.push_str("</annotation>\n");
        xml
    }

    /// `xmin, ymin, xmax, ymax` of pixel bounds `[x, y, w, h]`, clamped to
    /// the image.
    fn bndbox(&self, [x, y, w, h]: [f64; 4], [width, height]: [u32; 2]) -> [String; 4] {
        let (width, height) = (f64::from(width), f64::from(height));
        let left = x.clamp(0.0, width);
        let top = y.clamp(0.0, height);
        let right = (x + w).clamp(0.0, width);
        let bottom = (y + h).clamp(0.0, height);
        match self.coordinates {
            VocCoordinates::Exact => [left, top, right, bottom].map(number),
            VocCoordinates::OneBased => {
                // The first and last pixel the box touches, from 1; at
                // least one pixel, and never past the image.
                let xmin = (left.floor() + 1.0).min(width);
                let ymin = (top.floor() + 1.0).min(height);
                let xmax = right.ceil().max(xmin);
                let ymax = bottom.ceil().max(ymin);
                [xmin, ymin, xmax, ymax].map(number)
            }
        }
    }

    /// Writes `labelmap.txt` and the subset lists.
    pub fn finish(mut self, sink: &mut dyn FileSink) -> io::Result<VocSummary> {
        let mut label_map = String::from("# label:color_rgb:parts:actions\n");
        let _ = writeln!(label_map, "{BACKGROUND}:0,0,0::");
        for (index, label) in self.labels.iter().enumerate() {
            let [r, g, b] = voc_color(index as u32 + 1);
            let _ = writeln!(label_map, "{label}:{r},{g},{b}::");
        }
        sink.put("labelmap.txt", label_map.as_bytes())?;
        if self.main_lists.is_empty() {
            // An empty dataset is still one datumaro recognises.
            self.main_lists.insert("default", String::new());
        }
        for (subset, stems) in &self.main_lists {
            sink.put(&format!("ImageSets/Main/{subset}.txt"), stems.as_bytes())?;
        }
        for (subset, stems) in &self.segmentation_lists {
            sink.put(
                &format!("ImageSets/Segmentation/{subset}.txt"),
                stems.as_bytes(),
            )?;
        }
        Ok(self.summary)
    }
}

/// Whether `name` can be a line of datumaro's `labelmap.txt`
/// (`label:color:parts:actions`, lines trimmed, `#` starting a comment).
fn check_label_map_name(name: &str) -> Result<(), String> {
    let problem = if name.is_empty() {
        Some("is empty")
    } else if name.contains([':', '\n', '\r']) {
        Some("holds a ':' or a line break, which separate its fields and lines")
    } else if name.starts_with('#') {
        Some("starts with '#', which makes its line a comment")
    } else if name.trim() != name {
        Some("starts or ends with a space, which the file's readers trim")
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(format!(
            "label {name:?} cannot be written to a Pascal VOC labelmap.txt: it {problem}"
        )),
    }
}

fn push_line(lists: &mut BTreeMap<&'static str, String>, subset: &'static str, stem: &str) {
    let list = lists.entry(subset).or_default();
    list.push_str(stem);
    list.push('\n');
}

/// The VOC attributes of an object, kept in a result's `"voc"` key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Flags {
    pose: String,
    truncated: bool,
    difficult: bool,
    occluded: bool,
}

impl Flags {
    fn of(result: &ResultItem) -> Flags {
        let voc = result.extra.get("voc").and_then(Value::as_object);
        let flag = |key: &str| match voc.and_then(|v| v.get(key)) {
            Some(Value::Bool(set)) => *set,
            Some(Value::Number(n)) => n.as_f64() == Some(1.0),
            Some(Value::String(s)) => s == "1",
            _ => false,
        };
        let pose = voc
            .and_then(|v| v.get("pose"))
            .and_then(Value::as_str)
            .filter(|pose| !pose.is_empty())
            .unwrap_or("Unspecified");
        Flags {
            pose: pose.to_owned(),
            truncated: flag("truncated"),
            difficult: flag("difficult"),
            occluded: flag("occluded"),
        }
    }

    /// The `"voc"` value to keep: only what differs from the defaults.
    fn to_json(&self) -> Option<Value> {
        let mut map = Map::new();
        if self.pose != "Unspecified" && !self.pose.is_empty() {
            map.insert("pose".into(), self.pose.clone().into());
        }
        for (key, set) in [
            ("truncated", self.truncated),
            ("difficult", self.difficult),
            ("occluded", self.occluded),
        ] {
            if set {
                map.insert(key.into(), 1.into());
            }
        }
        (!map.is_empty()).then_some(Value::Object(map))
    }
}

/// The class and instance masks of painted objects `(class, object)`,
/// drawn in order, as PNG files.
fn masks(width: u32, height: u32, shapes: &[(u32, &Object)]) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut class_png = RgbPng::new(width, height);
    let mut object_png = RgbPng::new(width, height);
    let row_len = width as usize * 3;
    let (mut class_row, mut object_row) = (vec![0u8; row_len], vec![0u8; row_len]);
    // Rows each shape can touch, so that a row only looks at its shapes.
    let rows: Vec<[f64; 2]> = shapes
        .iter()
        .map(|(_, object)| {
            let [_, top, _, height] = object.bbox();
            [top, top + height]
        })
        .collect();
    let mut spans = Vec::new();
    for row in 0..height {
        class_row.fill(0);
        object_row.fill(0);
        let centre = f64::from(row) + 0.5;
        for (instance, ((class, object), [top, bottom])) in shapes.iter().zip(&rows).enumerate() {
            if centre < *top || centre > *bottom {
                continue;
            }
            let class_color = voc_color(*class);
            let object_color = voc_color(instance as u32 + 1);
            let mut paint = |x: usize| {
                class_row[x * 3..x * 3 + 3].copy_from_slice(&class_color);
                object_row[x * 3..x * 3 + 3].copy_from_slice(&object_color);
            };
            match object {
                Object::Shape(region) => {
                    row_spans(&region.shape.rings, row, width, &mut spans);
                    for &[start, end] in &spans {
                        (start as usize..end as usize).for_each(&mut paint);
                    }
                }
                Object::Brush(brush) => {
                    let columns = brush.bbox.x..brush.bbox.x + brush.bbox.width;
                    for x in columns.filter(|&x| brush.mask.get(x, row)) {
                        paint(x as usize);
                    }
                }
            }
        }
        class_png.push_row(&class_row)?;
        object_png.push_row(&object_row)?;
    }
    Ok((class_png.finish()?, object_png.finish()?))
}

/// Where VOC's boxes go in the project's tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocImportOptions {
    /// The data key that gets the image's path in the dataset, e.g.
    /// `"image"`.
    pub image_field: String,
    /// A RectangleLabels control, for the `<object>` boxes.
    pub rectangles: Option<ControlRef>,
    /// How `<bndbox>` numbers relate to pixels.
    pub coordinates: VocCoordinates,
}

/// Reads a Pascal VOC dataset.
///
/// Every `Annotations/**/*.xml` file is a task, and so is every image
/// listed in an `ImageSets/Main/{subset}.txt` without an annotation file
/// (datumaro writes none for images without objects); an annotation file
/// that no list names is read all the same. The dataset may sit in a
/// folder of the source (`VOC2012/Annotations/…`): the shallowest folder
/// with `Annotations` or `ImageSets/Main` is the one read, and files whose
/// name starts with `.` are passed over.
///
/// A task's `data[image_field]` is the path, in the source, of its image:
/// `JPEGImages/{filename}` when the source has it, else the first image in
/// `JPEGImages` with the annotation file's stem (or the `filename`'s) and
/// any extension. Each `<object>` becomes a `rectanglelabels` result in
/// percent of `<size>` (ids `voc-1`, `voc-2`, …); a `pose` other than
/// `Unspecified` and `truncated`, `difficult` or `occluded` set to 1 are
/// kept in the result's `"voc"` key, which [`VocWriter`] writes back.
/// `<part>`s and `<actions>` (VOC's person layout and action tasks) are not
/// read; masks are not read either (their objects have boxes).
///
/// An item with any problem is rejected as a whole, with one rejection per
/// problem. Its row is its position + 1 in the sorted order of annotation
/// file paths (a listed image without one counting where its file would
/// be); its field is the file's path in the dataset and the place in it, as
/// `Annotations/a.xml:object[0].bndbox.xmin` (`object[i]` counting from 0).
/// Problems: a file over [`MAX_VOC_XML_BYTES`] or with more than
/// [`MAX_OBJECTS_PER_IMAGE`] objects, text that is not UTF-8 XML (or has a
/// DTD), a root other than `<annotation>`, a missing or bad `<size>`, no
/// image, an object without a name or with a missing, non-numeric, reversed
/// or out-of-image box, flags other than 0 or 1, boxes when there is no
/// RectangleLabels control, and a listed image that is not in the dataset.
pub fn read_voc(
    source: &dyn FileSource,
    options: &VocImportOptions,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let paths = source.paths();
    let Some(root) = dataset_root(&paths) else {
        return Err(FormatError::Voc {
            field: "Annotations".into(),
            reason: "holds no .xml files, and there is no ImageSets/Main list: a Pascal VOC \
                     dataset has one annotation file per image in its Annotations folder"
                .into(),
        });
    };
    let images = ImageIndex::new(&paths, &root);

    // Items by the path of their annotation file, which sorts them.
    let mut items: BTreeMap<String, Item> = BTreeMap::new();
    for path in &paths {
        if let Some(stem) = annotation_stem(path, &root) {
            let name = path[root.len()..].to_owned();
            items.insert(name, Item::File { path, stem });
        }
    }
    for path in &paths {
        let Some(list) = main_list(path, &root) else {
            continue;
        };
        let bytes = source.read(path)?;
        for line in String::from_utf8_lossy(&bytes).lines() {
            let stem = line.trim();
            if stem.is_empty() || stem.starts_with('#') {
                continue;
            }
            items
                .entry(format!("Annotations/{stem}.xml"))
                .or_insert_with(|| Item::Listed {
                    stem: stem.to_owned(),
                    list: list.to_owned(),
                });
        }
    }

    let mut tasks = Vec::with_capacity(items.len());
    let mut rejections = Vec::new();
    for (position, (name, item)) in items.iter().enumerate() {
        let row = position as u64 + 1;
        let outcome = match item {
            Item::File { path, stem } => {
                let bytes = source.read(path)?;
                let file = VocFile {
                    row,
                    name,
                    stem,
                    images: &images,
                    options,
                };
                file.task(&bytes)
            }
            Item::Listed { stem, list } => match images.find(None, stem) {
                Some(image) => Ok(TaskRecord::for_image(
                    &options.image_field,
                    image.to_owned(),
                    Vec::new(),
                )),
                None => Err(vec![Rejection::new(
                    row,
                    list.clone(),
                    format!(
                        "lists {stem:?}, which has neither an annotation file nor an image \
                         in {}",
                        images.folder
                    ),
                )]),
            },
        };
        match outcome {
            Ok(task) => tasks.push(task),
            Err(problems) => rejections.extend(problems),
        }
    }
    Ok((tasks, rejections))
}

/// An item of a VOC dataset: an annotation file, or an image a subset list
/// names that has none.
enum Item<'a> {
    File { path: &'a str, stem: &'a str },
    Listed { stem: String, list: String },
}

/// The folder (`""` or ending in `/`) holding the shallowest `Annotations`
/// folder with an annotation file, or `ImageSets/Main` with a subset list.
fn dataset_root(paths: &[String]) -> Option<String> {
    paths
        .iter()
        .filter_map(|path| {
            ["Annotations/", "ImageSets/Main/"]
                .iter()
                .find_map(|folder| {
                    let at = if path.starts_with(folder) {
                        0
                    } else {
                        path.find(&format!("/{folder}"))? + 1
                    };
                    let root = &path[..at];
                    let found =
                        annotation_stem(path, root).is_some() || main_list(path, root).is_some();
                    found.then_some(root)
                })
        })
        .min_by_key(|root| root.matches('/').count())
        .map(str::to_owned)
}

/// `sub/a` for `{root}Annotations/sub/a.xml`; `None` for other paths and
/// hidden files.
fn annotation_stem<'p>(path: &'p str, root: &str) -> Option<&'p str> {
    let inside = path.strip_prefix(root)?.strip_prefix("Annotations/")?;
    let name = inside.rsplit('/').next().unwrap_or(inside);
    if name.starts_with('.') {
        return None;
    }
    let stem = inside.get(..inside.len().checked_sub(4)?)?;
    inside[stem.len()..]
        .eq_ignore_ascii_case(".xml")
        .then_some(stem)
}

/// `ImageSets/Main/train.txt` for `{root}ImageSets/Main/train.txt`: a
/// subset list. Lists with `_` in their name (`car_train.txt`) are VOC's
/// per-class lists, which datumaro passes over too.
fn main_list<'p>(path: &'p str, root: &str) -> Option<&'p str> {
    let inside = path.strip_prefix(root)?;
    let name = inside.strip_prefix("ImageSets/Main/")?;
    let is_list = !name.contains(['/', '_']) && !name.starts_with('.') && name.ends_with(".txt");
    is_list.then_some(inside)
}

/// The images under `{root}JPEGImages/`, by path and by stem.
struct ImageIndex<'a> {
    folder: String,
    paths: HashSet<&'a str>,
    /// First image path (in sorted order) by `JPEGImages`-relative stem.
    by_stem: HashMap<&'a str, &'a str>,
}

/// Extensions taken as images when looking one up by stem.
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp", "jfif",
];

impl<'a> ImageIndex<'a> {
    fn new(paths: &'a [String], root: &str) -> ImageIndex<'a> {
        let folder = format!("{root}JPEGImages/");
        let mut index = ImageIndex {
            folder,
            paths: HashSet::new(),
            by_stem: HashMap::new(),
        };
        for path in paths {
            let Some(inside) = path.strip_prefix(&index.folder) else {
                continue;
            };
            index.paths.insert(path);
            let stem = file_stem(inside);
            let extension = &inside[stem.len()..].trim_start_matches('.');
            if IMAGE_EXTENSIONS
                .iter()
                .any(|e| e.eq_ignore_ascii_case(extension))
            {
                index.by_stem.entry(stem).or_insert(path);
            }
        }
        index
    }

    /// The image for an annotation file: its `filename`, else by stem.
    fn find(&self, file_name: Option<&str>, stem: &str) -> Option<&'a str> {
        if let Some(name) = file_name {
            let path = format!("{}{name}", self.folder);
            if let Some(&found) = self.paths.get(path.as_str()) {
                return Some(found);
            }
        }
        let stems = [Some(stem), file_name.map(file_stem)];
        stems
            .into_iter()
            .flatten()
            .find_map(|stem| self.by_stem.get(stem).copied())
    }
}

/// One annotation file on its way to becoming a task.
struct VocFile<'a> {
    row: u64,
    /// Its path in the dataset: `Annotations/a.xml`.
    name: &'a str,
    /// `a`.
    stem: &'a str,
    images: &'a ImageIndex<'a>,
    options: &'a VocImportOptions,
}

impl VocFile<'_> {
    fn reject(&self, place: &str, reason: impl Into<String>) -> Rejection {
        let field = if place.is_empty() {
            self.name.to_owned()
        } else {
            format!("{}:{place}", self.name)
        };
        Rejection::new(self.row, field, reason)
    }

    fn task(&self, bytes: &[u8]) -> Result<TaskRecord, Vec<Rejection>> {
        if bytes.len() > MAX_VOC_XML_BYTES {
            return Err(vec![self.reject(
                "",
                format!(
                    "is {} bytes; a VOC annotation file may be at most {MAX_VOC_XML_BYTES}",
                    bytes.len()
                ),
            )]);
        }
        let problem = |p: xml::XmlProblem| {
            vec![self.reject(
                "",
                format!("line {}, column {}: {}", p.line, p.column, p.message),
            )]
        };
        let text = xml::utf8_text(bytes).map_err(problem)?;
        let document = xml::parse(text).map_err(problem)?;
        let root = document.root_element();
        if root.tag_name().name() != "annotation" {
            return Err(vec![self.reject(
                "",
                format!(
                    "has the root element <{}>; a VOC annotation file has <annotation>",
                    root.tag_name().name()
                ),
            )]);
        }

        let mut problems = Vec::new();
        let size = self.size(root, &mut problems);
        let file_name = child_text(root, "filename").map(str::trim);
        let image = match file_name {
            Some(name) if !name.is_empty() && !is_safe_relative_path(name) => {
                problems.push(self.reject(
                    "filename",
                    format!("must be a file name inside JPEGImages, found {name:?}"),
                ));
                None
            }
            name => {
                let name = name.filter(|n| !n.is_empty());
                let found = self.images.find(name, self.stem);
                if found.is_none() {
                    let reason = match name {
                        Some(name) => format!(
                            "names {:?}, which is not in the dataset, and no image in {} has \
                             the stem {:?}",
                            format!("{}{name}", self.images.folder),
                            self.images.folder,
                            self.stem
                        ),
                        None => format!(
                            "is missing, and no image in {} has the stem {:?}",
                            self.images.folder, self.stem
                        ),
                    };
                    problems.push(self.reject("filename", reason));
                }
                found
            }
        };

        let objects: Vec<_> = children(root, "object").collect();
        if objects.len() > MAX_OBJECTS_PER_IMAGE {
            problems.push(self.reject(
                "",
                format!(
                    "has {} objects; at most {MAX_OBJECTS_PER_IMAGE} are read per image",
                    objects.len()
                ),
            ));
            return Err(problems);
        }
        let mut results = Vec::with_capacity(objects.len());
        if let (Some(_), None) = (objects.first(), &self.options.rectangles) {
            problems.push(self.reject(
                "object[0]",
                "is a box, and the label config has no RectangleLabels control for it",
            ));
        }
        for (index, object) in objects.into_iter().enumerate() {
            match self.object(object, index, size) {
                Ok(Some(result)) => results.push(result),
                Ok(None) => {}
                Err(mut more) => problems.append(&mut more),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }

        Ok(TaskRecord::for_image(
            &self.options.image_field,
            image.unwrap_or_default().to_owned(),
            results,
        ))
    }

    /// `<size>`'s width and height; `None` (with problems) when unusable.
    fn size(&self, root: roxmltree::Node, problems: &mut Vec<Rejection>) -> Option<(u32, u32)> {
        let Some(size) = child(root, "size") else {
            problems.push(self.reject(
                "size",
                "is missing; VOC annotations need the image's width and height in pixels",
            ));
            return None;
        };
        let mut dimension = |key: &str| match child_text(size, key) {
            None => {
                problems.push(self.reject(&format!("size.{key}"), "is missing"));
                None
            }
            Some(text) => {
                let pixels = xml::parse_size(text);
                if pixels.is_none() {
                    problems.push(self.reject(
                        &format!("size.{key}"),
                        format!("must be a whole number of pixels above 0, found {text:?}"),
                    ));
                }
                pixels
            }
        };
        let width = dimension("width");
        let height = dimension("height");
        width.zip(height)
    }

    /// The result of `object[index]`; `None` when it cannot be placed
    /// (no size, or no control: already rejected).
    fn object(
        &self,
        object: roxmltree::Node,
        index: usize,
        size: Option<(u32, u32)>,
    ) -> Result<Option<ResultItem>, Vec<Rejection>> {
        let place = |key: &str| format!("object[{index}].{key}");
        let mut problems = Vec::new();
        let name = child_text(object, "name").map(str::trim).unwrap_or("");
        if name.is_empty() {
            problems.push(self.reject(&place("name"), "is missing; an object needs a label"));
        }
        let mut flag = |key: &str| match child_text(object, key).map(str::trim) {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                problems.push(self.reject(&place(key), format!("must be 0 or 1, found {other:?}")));
                false
            }
        };
        let flags = Flags {
            truncated: flag("truncated"),
            difficult: flag("difficult"),
            occluded: flag("occluded"),
            pose: child_text(object, "pose").unwrap_or("").trim().to_owned(),
        };
        let edges = match child(object, "bndbox") {
            None => {
                problems.push(self.reject(&place("bndbox"), "is missing"));
                None
            }
            Some(bndbox) => self.edges(bndbox, &place("bndbox"), size, &mut problems),
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let (Some([left, top, right, bottom]), Some((width, height)), Some(control)) =
            (edges, size, &self.options.rectangles)
        else {
            return Ok(None);
        };
        let (w, h) = (f64::from(width), f64::from(height));
        let value = RectangleLabelsValue {
            x: percent(left, w),
            y: percent(top, h),
            width: percent(right - left, w),
            height: percent(bottom - top, h),
            rotation: Some(0.0),
            rectanglelabels: vec![name.to_owned()],
            extra: Map::new(),
        };
        let id = format!("voc-{}", index + 1);
        let mut result = image_result(
            control,
            id,
            ResultValue::RectangleLabels(value),
            (width, height),
        );
        if let Some(voc) = flags.to_json() {
            result.extra.insert("voc".into(), voc);
        }
        Ok(Some(result))
    }

    /// A box's pixel edges `[left, top, right, bottom]`, checked against
    /// the image.
    fn edges(
        &self,
        bndbox: roxmltree::Node,
        place: &str,
        size: Option<(u32, u32)>,
        problems: &mut Vec<Rejection>,
    ) -> Option<[f64; 4]> {
        let before = problems.len();
        let mut coordinate = |key: &str| match child_text(bndbox, key) {
            None => {
                problems.push(self.reject(&format!("{place}.{key}"), "is missing"));
                0.0
            }
            Some(text) => xml::parse_number(text).unwrap_or_else(|| {
                problems.push(self.reject(
                    &format!("{place}.{key}"),
                    format!("must be a number of pixels, found {text:?}"),
                ));
                0.0
            }),
        };
        let [xmin, ymin, xmax, ymax] = ["xmin", "ymin", "xmax", "ymax"].map(&mut coordinate);
        if problems.len() > before {
            return None;
        }
        // One-based numbers name the first and last pixel covered; the
        // first pixel's left edge is one less.
        let first = match self.options.coordinates {
            VocCoordinates::Exact => 0.0,
            VocCoordinates::OneBased => 1.0,
        };
        let (left, top) = (xmin - first, ymin - first);
        for (key, low, high, low_key) in [("xmax", left, xmax, "xmin"), ("ymax", top, ymax, "ymin")]
        {
            if high < low {
                problems.push(self.reject(
                    &format!("{place}.{key}"),
                    format!(
                        "is {}, before the box's start ({low_key} {})",
                        number(high),
                        number(low + first)
                    ),
                ));
            }
        }
        if let Some((width, height)) = size {
            let checks = [
                (
                    "xmin",
                    left < 0.0,
                    format!("is {}, left of the image", number(xmin)),
                ),
                (
                    "ymin",
                    top < 0.0,
                    format!("is {}, above the image", number(ymin)),
                ),
                (
                    "xmax",
                    xmax > f64::from(width),
                    format!("is {}, right of the image (width {width})", number(xmax)),
                ),
                (
                    "ymax",
                    ymax > f64::from(height),
                    format!("is {}, below the image (height {height})", number(ymax)),
                ),
            ];
            for (key, outside, reason) in checks {
                if outside {
                    problems.push(self.reject(&format!("{place}.{key}"), reason));
                }
            }
        }
        (problems.len() == before).then_some([left, top, xmax, ymax])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_map_names_are_checked() {
        assert!(check_label_map_name("traffic light, red").is_ok());
        for bad in ["", "a:b", "a\nb", "#tag", " a", "a "] {
            assert!(check_label_map_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn annotation_files_and_their_root() {
        let paths: Vec<String> = [
            "VOC/Annotations/a.xml",
            "VOC/Annotations/sub/b.XML",
            "VOC/Annotations/.c.xml",
            "VOC/JPEGImages/a.jpg",
            "__MACOSX/VOC/Annotations/._a.xml",
            "deep/er/Annotations/x.xml",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(dataset_root(&paths).as_deref(), Some("VOC/"));
        assert_eq!(annotation_stem(&paths[0], "VOC/"), Some("a"));
        assert_eq!(annotation_stem(&paths[1], "VOC/"), Some("sub/b"));
        assert_eq!(annotation_stem(&paths[2], "VOC/"), None);
        assert_eq!(annotation_stem(&paths[3], "VOC/"), None);
        assert_eq!(dataset_root(&paths[3..4]), None);
        let lists: Vec<String> = [
            "x/ImageSets/Main/train.txt",
            "x/ImageSets/Main/car_train.txt",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(dataset_root(&lists).as_deref(), Some("x/"));
        assert_eq!(main_list(&lists[0], "x/"), Some("ImageSets/Main/train.txt"));
        assert_eq!(main_list(&lists[1], "x/"), None);
    }
}
