//! COCO instances JSON from exported tasks, in one pass.

use crate::write::{ExportTask, JsNumber};
use gloss_types::result::{ResultItem, ResultValue};
use serde::Serialize;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

/// A category of a COCO export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CocoCategory {
    /// The category's name: a label, or a skeleton's `value`.
    pub name: String,
    /// Set for a keypoint category: which points its annotations hold.
    pub keypoints: Option<KeypointCategory>,
}

impl CocoCategory {
    /// A category of boxes, polygons, ellipses and masks with this label.
    pub fn shapes(name: impl Into<String>) -> CocoCategory {
        CocoCategory {
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
    pub fn new(out: W, mut spool: File, categories: &[CocoCategory]) -> io::Result<Self> {
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
            // (region id, label, shape), polygons of one region joined.
            let mut regions: Vec<(Option<&str>, &str, Shape)> = Vec::new();
            for result in &annotation.record.result {
                let Some((shape, labels)) = shape_of(result, image.width, image.height) else {
                    continue;
                };
                if labels.is_empty() {
                    self.summary.skipped += 1;
                }
                let is_polygon = matches!(result.value, ResultValue::PolygonLabels(_));
                let id = result.id.as_deref().filter(|_| is_polygon);
                for label in labels {
                    let joined = regions.iter_mut().find(|(region, region_label, _)| {
                        id.is_some() && *region == id && region_label == label
                    });
                    match joined {
                        Some((_, _, region)) => region.join(&shape),
                        None => regions.push((id, label, shape.clone())),
                    }
                }
            }
            for (_, label, shape) in regions {
                let Some(&category_id) = self.category_ids.get(label) else {
                    self.summary.skipped += 1;
                    continue;
                };
                self.write_annotation(task.id, category_id, &shape, None)?;
            }
            self.write_keypoints(task.id, &annotation.record.result, image)?;
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
        // (control, instance) → COCO keypoints [x, y, v, ...], in first-seen order.
        let mut instances: Vec<((&str, &str), Vec<f64>)> = Vec::new();
        for result in results {
            let (point, labels) = match &result.value {
                ResultValue::KeyPointLabels(v) => (&v.shape, &v.labels[..]),
                _ => continue,
            };
            let Some((_, joints)) = self.keypoint_categories.get(&result.from_name) else {
                continue;
            };
            let joint = labels
                .first()
                .and_then(|label| joints.iter().position(|j| j == label));
            let width = f64::from(size_or(image.width, result.original_width));
            let height = f64::from(size_or(image.height, result.original_height));
            let (Some(joint), true) = (joint, width > 0.0 && height > 0.0) else {
                self.summary.skipped += 1;
                continue;
            };
            // A point without a parent is an instance of its own.
            let instance = result
                .parent_id
                .as_deref()
                .or(result.id.as_deref())
                .unwrap_or("");
            let key = (result.from_name.as_str(), instance);
            let position = match instances.iter().position(|(k, _)| *k == key) {
                Some(position) if !instance.is_empty() => position,
                _ => {
                    instances.push((key, vec![0.0; joints.len() * 3]));
                    instances.len() - 1
                }
            };
            let visibility = if point.visibility.as_deref() == Some("occluded") {
                1.0
            } else {
                2.0
            };
            instances[position].1[joint * 3..joint * 3 + 3].copy_from_slice(&[
                point.x * width / 100.0,
                point.y * height / 100.0,
                visibility,
            ]);
        }
        for ((control, _), keypoints) in instances {
            let category_id = self.keypoint_categories[control].0;
            let placed: Vec<[f64; 2]> = keypoints
                .chunks_exact(3)
                .filter(|joint| joint[2] > 0.0)
                .map(|joint| [joint[0], joint[1]])
                .collect();
            let bbox = bounds(&placed);
            let shape = Shape {
                bbox,
                rings: Vec::new(),
                area: bbox[2] * bbox[3],
            };
            self.write_annotation(image_id, category_id, &shape, Some(&keypoints))?;
        }
        Ok(())
    }

    fn write_annotation(
        &mut self,
        image_id: i64,
        category_id: u64,
        shape: &Shape,
        keypoints: Option<&[f64]>,
    ) -> io::Result<()> {
        self.spool.write_all(if self.summary.annotations == 0 {
            b"\n"
        } else {
            b",\n"
        })?;
        self.summary.annotations += 1;
        let [x, y, width, height] = shape.bbox.map(pixel);
        serde_json::to_writer(
            &mut self.spool,
            &Annotation {
                id: self.summary.annotations,
                image_id,
                category_id,
                bbox: [x, y, width, height],
                area: pixel(shape.area),
                segmentation: shape
                    .rings
                    .iter()
                    .map(|ring| ring.iter().copied().map(pixel).collect())
                    .collect(),
                iscrowd: 0,
                num_keypoints: keypoints
                    .map(|k| k.chunks_exact(3).filter(|joint| joint[2] > 0.0).count()),
                keypoints: keypoints.map(|k| k.iter().copied().map(pixel).collect()),
            },
        )?;
        Ok(())
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

#[derive(Serialize)]
struct Annotation {
    id: u64,
    image_id: i64,
    category_id: u64,
    bbox: [JsNumber; 4],
    area: JsNumber,
    segmentation: Vec<Vec<JsNumber>>,
    iscrowd: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_keypoints: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keypoints: Option<Vec<JsNumber>>,
}

/// A region in pixels.
#[derive(Debug, Clone, PartialEq)]
struct Shape {
    /// `[x, y, width, height]` of the bounds.
    bbox: [f64; 4],
    /// Outlines, each flat `[x1, y1, x2, y2, ...]`: one, or several for a
    /// region made of several polygons.
    rings: Vec<Vec<f64>>,
    area: f64,
}

impl Shape {
    /// Adds another part of the same region: its rings, area and bounds.
    fn join(&mut self, other: &Shape) {
        let [x, y, width, height] = self.bbox;
        let [ox, oy, other_width, other_height] = other.bbox;
        let (left, top) = (x.min(ox), y.min(oy));
        let right = (x + width).max(ox + other_width);
        let bottom = (y + height).max(oy + other_height);
        self.bbox = [left, top, right - left, bottom - top];
        self.rings.extend(other.rings.iter().cloned());
        self.area += other.area;
    }
}

/// The pixel shape and labels of a box or polygon result; `None` for other
/// results. An image size of 0 falls back to the size the result was drawn
/// on; the labels come back empty when neither is known.
fn shape_of(
    result: &ResultItem,
    image_width: u32,
    image_height: u32,
) -> Option<(Shape, &[String])> {
    let width = f64::from(size_or(image_width, result.original_width));
    let height = f64::from(size_or(image_height, result.original_height));
    let (shape, labels) = match &result.value {
        ResultValue::RectangleLabels(rect) => (
            rectangle_shape(
                rect.x * width / 100.0,
                rect.y * height / 100.0,
                rect.width * width / 100.0,
                rect.height * height / 100.0,
                rect.rotation.unwrap_or(0.0),
            ),
            rect.rectanglelabels.as_slice(),
        ),
        ResultValue::PolygonLabels(polygon) => (
            polygon_shape(
                polygon
                    .points
                    .iter()
                    .map(|[x, y]| [x * width / 100.0, y * height / 100.0]),
            ),
            polygon.polygonlabels.as_slice(),
        ),
        ResultValue::EllipseLabels(ellipse) => (
            ellipse_shape(
                ellipse.shape.x * width / 100.0,
                ellipse.shape.y * height / 100.0,
                ellipse.shape.radius_x * width / 100.0,
                ellipse.shape.radius_y * height / 100.0,
                ellipse.shape.rotation.unwrap_or(0.0),
            ),
            ellipse.labels.as_slice(),
        ),
        _ => return None,
    };
    if width == 0.0 || height == 0.0 {
        return Some((shape, &[]));
    }
    Some((shape, labels))
}

/// The image's size in pixels, or when unknown (0) the size the result was
/// drawn on.
fn size_or(image: u32, original: Option<u32>) -> u32 {
    match image {
        0 => original.unwrap_or(0),
        known => known,
    }
}

/// Vertices of the polygon an ellipse is exported as: one every 5 degrees
/// keeps it within 0.1% of the radius of the true outline.
const ELLIPSE_VERTICES: usize = 72;

/// An ellipse centred on `cx`, `cy`, rotated by `degrees` about its centre
/// (clockwise on screen, as Label Studio draws it), as a polygon. The area
/// is the true ellipse's, the bounds are the rotated ellipse's exact ones.
fn ellipse_shape(cx: f64, cy: f64, rx: f64, ry: f64, degrees: f64) -> Shape {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let ring: Vec<[f64; 2]> = (0..ELLIPSE_VERTICES)
        .map(|i| {
            let angle = std::f64::consts::TAU * i as f64 / ELLIPSE_VERTICES as f64;
            let (ex, ey) = (rx * angle.cos(), ry * angle.sin());
            [cx + ex * cos - ey * sin, cy + ex * sin + ey * cos]
        })
        .collect();
    let half_width = ((rx * cos).powi(2) + (ry * sin).powi(2)).sqrt();
    let half_height = ((rx * sin).powi(2) + (ry * cos).powi(2)).sqrt();
    Shape {
        bbox: [
            cx - half_width,
            cy - half_height,
            2.0 * half_width,
            2.0 * half_height,
        ],
        rings: vec![ring.concat()],
        area: std::f64::consts::PI * rx * ry,
    }
}

/// A box rotated by `degrees` about its top-left corner, clockwise on
/// screen (y grows downwards), as Label Studio draws it.
fn rectangle_shape(x: f64, y: f64, width: f64, height: f64, degrees: f64) -> Shape {
    if degrees == 0.0 {
        return Shape {
            bbox: [x, y, width, height],
            rings: vec![vec![
                x,
                y,
                x + width,
                y,
                x + width,
                y + height,
                x,
                y + height,
            ]],
            area: width * height,
        };
    }
    let (sin, cos) = degrees.to_radians().sin_cos();
    // Corners in drawing order: top-left, top-right, bottom-right, bottom-left.
    let corners = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
        .map(|(dx, dy)| [x + dx * cos - dy * sin, y + dx * sin + dy * cos]);
    Shape {
        bbox: bounds(&corners),
        rings: vec![corners.concat()],
        area: width * height,
    }
}

fn polygon_shape(points: impl Iterator<Item = [f64; 2]>) -> Shape {
    let points: Vec<[f64; 2]> = points.collect();
    // Shoelace formula: half the absolute sum of cross products of
    // consecutive vertices, closing the ring back to the first.
    let twice_area: f64 = points
        .iter()
        .zip(points.iter().cycle().skip(1))
        .map(|([x1, y1], [x2, y2])| x1 * y2 - x2 * y1)
        .sum();
    Shape {
        bbox: bounds(&points),
        rings: vec![points.concat()],
        area: twice_area.abs() / 2.0,
    }
}

fn bounds(points: &[[f64; 2]]) -> [f64; 4] {
    if points.is_empty() {
        return [0.0; 4];
    }
    let (mut min_x, mut min_y) = (f64::INFINITY, f64::INFINITY);
    let (mut max_x, mut max_y) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &[x, y] in points {
        min_x = min_x.min(x);
        min_y = min_y.min(y);
        max_x = max_x.max(x);
        max_y = max_y.max(y);
    }
    [min_x, min_y, max_x - min_x, max_y - min_y]
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

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-9)
    }

    #[test]
    fn unrotated_box() {
        let shape = rectangle_shape(10.0, 20.0, 30.0, 40.0, 0.0);
        assert_eq!(shape.bbox, [10.0, 20.0, 30.0, 40.0]);
        assert_eq!(
            shape.rings[0],
            [10.0, 20.0, 40.0, 20.0, 40.0, 60.0, 10.0, 60.0]
        );
        assert_eq!(shape.area, 1200.0);
    }

    #[test]
    fn box_rotated_90_degrees_turns_clockwise_about_its_top_left() {
        // Clockwise on screen: the top edge now points down.
        let shape = rectangle_shape(100.0, 100.0, 40.0, 10.0, 90.0);
        assert!(close(
            &shape.rings[0],
            &[100.0, 100.0, 100.0, 140.0, 90.0, 140.0, 90.0, 100.0]
        ));
        assert!(close(&shape.bbox, &[90.0, 100.0, 10.0, 40.0]));
        assert_eq!(shape.area, 400.0);
    }

    #[test]
    fn box_rotated_30_degrees() {
        let shape = rectangle_shape(0.0, 0.0, 20.0, 10.0, 30.0);
        let (sin, cos) = (0.5, 3f64.sqrt() / 2.0);
        let expected = [
            0.0,
            0.0,
            20.0 * cos,
            20.0 * sin,
            20.0 * cos - 10.0 * sin,
            20.0 * sin + 10.0 * cos,
            -10.0 * sin,
            10.0 * cos,
        ];
        assert!(close(&shape.rings[0], &expected));
        assert!(close(
            &shape.bbox,
            &[-5.0, 0.0, 20.0 * cos + 5.0, 10.0 + 10.0 * cos]
        ));
    }

    #[test]
    fn polygon_area_and_bounds() {
        let shape = polygon_shape([[0.0, 0.0], [4.0, 0.0], [4.0, 3.0]].into_iter());
        assert_eq!(shape.area, 6.0);
        assert_eq!(shape.bbox, [0.0, 0.0, 4.0, 3.0]);
        // Winding order does not change the area.
        let reversed = polygon_shape([[4.0, 3.0], [4.0, 0.0], [0.0, 0.0]].into_iter());
        assert_eq!(reversed.area, 6.0);
    }

    #[test]
    fn ellipse_rotated_90_degrees_swaps_its_extent() {
        let shape = ellipse_shape(50.0, 40.0, 20.0, 10.0, 90.0);
        assert!(close(&shape.bbox, &[40.0, 20.0, 20.0, 40.0]));
        assert!((shape.area - std::f64::consts::PI * 200.0).abs() < 1e-9);
        let ring = &shape.rings[0];
        assert_eq!(ring.len(), 2 * ELLIPSE_VERTICES);
        // The first vertex is the end of the x radius, turned to point down.
        assert!(close(&ring[..2], &[50.0, 60.0]));
    }

    #[test]
    fn pixels_lose_float_noise() {
        let text = serde_json::to_string(&[pixel(175.99999999999997), pixel(0.1 + 0.2)]).unwrap();
        assert_eq!(text, "[176,0.3]");
    }
}
