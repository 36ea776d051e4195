//! COCO instances JSON from exported tasks, in one pass.

use crate::shapes::{regions, size_or, skeletons, Shape};
use crate::write::{ExportTask, JsNumber};
use gloss_types::result::{ResultItem, ResultValue};
use serde::Serialize;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

/// A category of a dataset export (COCO, YOLO, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportCategory {
    /// The category's name: a label, or a skeleton's `value`.
    pub name: String,
    /// Set for a keypoint category: which points its annotations hold.
    pub keypoints: Option<KeypointCategory>,
}

impl ExportCategory {
    /// A category of boxes, polygons, ellipses and masks with this label.
    pub fn shapes(name: impl Into<String>) -> ExportCategory {
        ExportCategory {
            name: name.into(),
            keypoints: None,
        }
    }
}

/// The keypoints of a COCO keypoint category, from a `KeyPointLabels`
/// control: its labels are the joints, its `<Skeleton>` the edges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeypointCategory {
    /// The control whose `keypointlabels` results are this category's.
    pub control: String,
    /// Joint names (labels) in order: COCO's `keypoints`.
    pub joints: Vec<String>,
    /// Edges by joint name: COCO's `skeleton`, with 1-based joint numbers.
    pub edges: Vec<[String; 2]>,
}

/// Counts of what a [`CocoWriter`] wrote and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CocoSummary {
    /// Images written, one per task with image info.
    pub images: u64,
    /// COCO annotations written.
    pub annotations: u64,
    /// Tasks without image info, plus box and polygon labels that are not
    /// one of the categories (or whose image size is unknown).
    pub skipped: u64,
}

/// COCO instances JSON, written in one pass with constant memory.
///
/// COCO lists all images before all annotations, but tasks arrive with
/// their annotations. So images are written to `out` as tasks arrive while
/// their annotations go to `spool` (a temporary file the caller provides,
/// which is emptied first), and [`CocoWriter::finish`] appends the spool.
///
/// The `rectanglelabels`, `polygonlabels` and `ellipselabels` (as a
/// polygon) results of annotations that were not cancelled are written, and
/// the `keypointlabels` results of keypoint categories: the points sharing a
/// `parentID` make one annotation (a point without one is an annotation of
/// its own). Predictions and drafts are not written.
pub struct CocoWriter<W: Write> {
    out: BufWriter<W>,
    spool: BufWriter<File>,
    /// Shape categories by label.
    category_ids: HashMap<String, u64>,
    /// Keypoint categories by control name, with their joints.
    keypoint_categories: HashMap<String, (u64, Vec<String>)>,
    summary: CocoSummary,
}

impl<W: Write> CocoWriter<W> {
    /// Starts the file; categories get ids 1..=n in the given order.
    pub fn new(out: W, mut spool: File, categories: &[ExportCategory]) -> io::Result<Self> {
        spool.set_len(0)?;
        spool.seek(SeekFrom::Start(0))?;
        let mut out = BufWriter::with_capacity(64 * 1024, out);
        out.write_all(b"{\n\"info\": ")?;
        serde_json::to_writer(
            &mut out,
            &Info {
                description: "Exported from Gloss",
            },
        )?;
        out.write_all(b",\n\"licenses\": [],\n\"categories\": [")?;
        let mut category_ids = HashMap::with_capacity(categories.len());
        let mut keypoint_categories = HashMap::new();
        for (index, category) in categories.iter().enumerate() {
            let id = index as u64 + 1;
            let (keypoints, skeleton) = match &category.keypoints {
                Some(keypoints) => {
                    keypoint_categories
                        .entry(keypoints.control.clone())
                        .or_insert_with(|| (id, keypoints.joints.clone()));
                    (
                        Some(&keypoints.joints[..]),
                        Some(skeleton_numbers(keypoints)),
                    )
                }
                None => {
                    // A repeated name keeps its first id, so labels map to one category.
                    category_ids.entry(category.name.clone()).or_insert(id);
                    (None, None)
                }
            };
            out.write_all(if index == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(
                &mut out,
                &Category {
                    id,
                    name: &category.name,
                    supercategory: "",
                    keypoints,
                    skeleton,
                },
            )?;
        }
        out.write_all(b"\n],\n\"images\": [")?;
        Ok(CocoWriter {
            out,
            spool: BufWriter::with_capacity(64 * 1024, spool),
            category_ids,
            keypoint_categories,
            summary: CocoSummary::default(),
        })
    }

    pub fn write_task(&mut self, task: &ExportTask) -> io::Result<()> {
        let Some(image) = &task.image else {
            self.summary.skipped += 1;
            return Ok(());
        };
        self.out.write_all(if self.summary.images == 0 {
            b"\n"
        } else {
            b",\n"
        })?;
        serde_json::to_writer(
            &mut self.out,
            &Image {
                id: task.id,
                file_name: &image.file_name,
                width: image.width,
                height: image.height,
            },
        )?;
        self.summary.images += 1;

        for annotation in task.annotations.iter().filter(|a| !a.record.was_cancelled) {
            let (regions, unlabelled) =
                regions(&annotation.record.result, image.width, image.height);
            self.summary.skipped += unlabelled;
            for region in regions {
                let Some(&category_id) = self.category_ids.get(region.label) else {
                    self.summary.skipped += 1;
                    continue;
                };
                self.write_annotation(task.id, category_id, &region.shape, None)?;
            }
            self.write_keypoints(task.id, &annotation.record.result, image)?;
            self.write_masks(task.id, &annotation.record.result, image)?;
        }
        Ok(())
    }

    /// Writes one annotation per skeleton instance (points sharing a
    /// `parentID`) of the keypoint categories.
    fn write_keypoints(
        &mut self,
        image_id: i64,
        results: &[ResultItem],
        image: &crate::write::ImageInfo,
    ) -> io::Result<()> {
        if self.keypoint_categories.is_empty() {
            return Ok(());
        }
        let joints_of = |control: &str| {
            self.keypoint_categories
                .get(control)
                .map(|(_, joints)| &joints[..])
        };
        let (instances, skipped) = skeletons(results, joints_of, image.width, image.height);
        self.summary.skipped += skipped;
        for instance in instances {
            let category_id = self.keypoint_categories[instance.control].0;
            let bbox = instance.bbox();
            let shape = Shape {
                bbox,
                rings: Vec::new(),
                area: bbox[2] * bbox[3],
            };
            self.write_annotation(image_id, category_id, &shape, Some(&instance.keypoints))?;
        }
        Ok(())
    }

    /// Writes each labelled mask as an annotation with an RLE segmentation.
    /// A mask whose grid is not the image's size, or that does not decode,
    /// is skipped: COCO masks are the image's size.
    fn write_masks(
        &mut self,
        image_id: i64,
        results: &[ResultItem],
        image: &crate::write::ImageInfo,
    ) -> io::Result<()> {
        for result in results {
            let ResultValue::BrushLabels(brush) = &result.value else {
                continue;
            };
            let width = size_or(image.width, result.original_width);
            let height = size_or(image.height, result.original_height);
            let same_grid = result.original_width.is_none_or(|w| w == width)
                && result.original_height.is_none_or(|h| h == height);
            let rle = gloss_masks::brush_rle(&brush.shape, width, height);
            for label in &brush.labels {
                let category_id = self.category_ids.get(label).copied();
                let (Some(category_id), true, Ok(rle)) = (category_id, same_grid, &rle) else {
                    self.summary.skipped += 1;
                    continue;
                };
                let bbox = rle
                    .bbox()
                    .map_or([0.0; 4], |b| [b.x, b.y, b.width, b.height].map(f64::from));
                self.push_annotation(&Annotation {
                    id: 0,
                    image_id,
                    category_id,
                    bbox: bbox.map(pixel),
                    area: pixel(rle.area() as f64),
                    segmentation: Segmentation::Rle(rle.to_json()),
                    iscrowd: 0,
                    num_keypoints: None,
                    keypoints: None,
                })?;
            }
        }
        Ok(())
    }

    /// Spools an annotation, numbering it.
    fn push_annotation(&mut self, annotation: &Annotation) -> io::Result<()> {
        self.spool.write_all(if self.summary.annotations == 0 {
            b"\n"
        } else {
            b",\n"
        })?;
        self.summary.annotations += 1;
        let numbered = Annotation {
            id: self.summary.annotations,
            ..annotation.clone()
        };
        serde_json::to_writer(&mut self.spool, &numbered)?;
        Ok(())
    }

    fn write_annotation(
        &mut self,
        image_id: i64,
        category_id: u64,
        shape: &Shape,
        keypoints: Option<&[f64]>,
    ) -> io::Result<()> {
        let [x, y, width, height] = shape.bbox.map(pixel);
        self.push_annotation(&Annotation {
            id: 0,
            image_id,
            category_id,
            bbox: [x, y, width, height],
            area: pixel(shape.area),
            segmentation: Segmentation::Polygons(
                shape
                    .rings
                    .iter()
                    .map(|ring| ring.iter().copied().map(pixel).collect())
                    .collect(),
            ),
            iscrowd: 0,
            num_keypoints: keypoints
                .map(|k| k.chunks_exact(3).filter(|joint| joint[2] > 0.0).count()),
            keypoints: keypoints.map(|k| k.iter().copied().map(pixel).collect()),
        })
    }

    /// Appends the spooled annotations, closes the JSON and flushes `out`.
    pub fn finish(mut self) -> io::Result<CocoSummary> {
        self.out.write_all(b"\n],\n\"annotations\": [")?;
        let mut spool = self
            .spool
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        spool.seek(SeekFrom::Start(0))?;
        io::copy(&mut spool, &mut self.out)?;
        self.out.write_all(b"\n]\n}\n")?;
        self.out.flush()?;
        Ok(self.summary)
    }
}

#[derive(Serialize)]
struct Info {
    description: &'static str,
}

#[derive(Serialize)]
struct Category<'a> {
    id: u64,
    name: &'a str,
    supercategory: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    keypoints: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skeleton: Option<Vec<[usize; 2]>>,
}

/// An annotation's outline: polygon rings, or a mask as RLE.
#[derive(Serialize, Clone)]
#[serde(untagged)]
enum Segmentation {
    Polygons(Vec<Vec<JsNumber>>),
    Rle(gloss_masks::CocoRleJson),
}

/// COCO's `skeleton`: edges as pairs of 1-based joint numbers. Edges naming
/// an unknown joint are left out (the label config reports them).
fn skeleton_numbers(keypoints: &KeypointCategory) -> Vec<[usize; 2]> {
    let number = |name: &String| {
        keypoints
            .joints
            .iter()
            .position(|j| j == name)
            .map(|i| i + 1)
    };
    keypoints
        .edges
        .iter()
        .filter_map(|[from, to]| Some([number(from)?, number(to)?]))
        .collect()
}

#[derive(Serialize)]
struct Image<'a> {
    id: i64,
    file_name: &'a str,
    width: u32,
    height: u32,
}

#[derive(Serialize, Clone)]
struct Annotation {
    id: u64,
    image_id: i64,
    category_id: u64,
    bbox: [JsNumber; 4],
    area: JsNumber,
    segmentation: Segmentation,
    iscrowd: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_keypoints: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keypoints: Option<Vec<JsNumber>>,
}

/// A pixel value rounded to a millionth of a pixel: converting percent back
/// to pixels leaves float noise such as `175.99999999999997`, and a
/// millionth is far below any annotation's precision.
fn pixel(value: f64) -> JsNumber {
    JsNumber((value * 1e6).round() / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_lose_float_noise() {
        let text = serde_json::to_string(&[pixel(175.99999999999997), pixel(0.1 + 0.2)]).unwrap();
        assert_eq!(text, "[176,0.3]");
    }
}
