//! Regions in pixels: boxes (rotated or not), polygons and ellipses as
//! outlines with bounds and area, and brush masks decoded on the image's
//! pixel grid, in the order of their results, shared by the writers of the
//! dataset formats (COCO, YOLO, VOC, CVAT, mask-png, ...).

use crate::coco::ControlRef;
use crate::model::AnnotationRecord;
use crate::write::{ExportTask, ImageInfo};
use gloss_masks::{BBox, Mask};
use gloss_types::result::{ResultItem, ResultValue};
use std::collections::HashMap;

/// A region in pixels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    /// `[x, y, width, height]` of the bounds.
    pub(crate) bbox: [f64; 4],
    /// Outlines, each flat `[x1, y1, x2, y2, ...]`: one, or several for a
    /// region made of several polygons.
    pub(crate) rings: Vec<Vec<f64>>,
    pub(crate) area: f64,
}

impl Shape {
    /// Adds another part of the same region: its rings, area and bounds.
    pub(crate) fn join(&mut self, other: &Shape) {
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
pub(crate) fn shape_of(
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

/// A labelled region of one annotation, in pixels: a box, an ellipse, or
/// a polygon, the polygons sharing a region id being one region.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Region<'a> {
    /// The region's (first) result.
    pub(crate) result: &'a ResultItem,
    pub(crate) label: &'a str,
    pub(crate) shape: Shape,
}

impl Region<'_> {
    /// Whether the region is an outline (a polygon or an ellipse) rather
    /// than a box.
    pub(crate) fn is_outline(&self) -> bool {
        matches!(
            self.result.value,
            ResultValue::PolygonLabels(_) | ResultValue::EllipseLabels(_)
        )
    }
}

/// The box, polygon and ellipse regions of one annotation's results, once
/// per label, in first-seen order, and how many of those results have no
/// labels to give (no image size to convert them with).
///
/// Polygons of one label that share a region `id` are joined into one
/// region: that is how a region of several rings is stored (the COCO
/// reader makes one result per ring).
pub(crate) fn regions<'a>(
    results: impl IntoIterator<Item = &'a ResultItem>,
    image_width: u32,
    image_height: u32,
) -> (Vec<Region<'a>>, u64) {
    let mut regions: Vec<(Option<&str>, Region)> = Vec::new();
    let mut unlabelled = 0;
    for result in results {
        let Some((shape, labels)) = shape_of(result, image_width, image_height) else {
            continue;
        };
        if labels.is_empty() {
            unlabelled += 1;
        }
        let is_polygon = matches!(result.value, ResultValue::PolygonLabels(_));
        let id = result.id.as_deref().filter(|_| is_polygon);
        for label in labels {
            let joined = regions.iter_mut().find(|(region_id, region)| {
                id.is_some() && *region_id == id && region.label == label
            });
            match joined {
                Some((_, region)) => region.shape.join(&shape),
                None => regions.push((
                    id,
                    Region {
                        result,
                        label,
                        shape: shape.clone(),
                    },
                )),
            }
        }
    }
    (
        regions.into_iter().map(|(_, region)| region).collect(),
        unlabelled,
    )
}

/// A labelled brush mask (`brushlabels`) of one annotation, decoded on
/// the image's pixel grid.
pub(crate) struct BrushRegion<'a> {
    pub(crate) result: &'a ResultItem,
    pub(crate) label: &'a str,
    pub(crate) mask: Mask,
    /// The bounds of the set pixels (a mask without any is left out).
    pub(crate) bbox: BBox,
}

impl BrushRegion<'_> {
    /// The bounds in pixels, `[x, y, width, height]`, pixel edges.
    pub(crate) fn pixel_bbox(&self) -> [f64; 4] {
        let BBox {
            x,
            y,
            width,
            height,
        } = self.bbox;
        [x, y, width, height].map(f64::from)
    }
}

/// The brush masks of one annotation's results, once per label, and how
/// many `brushlabels` results are left out: those without a label, whose
/// mask does not decode, that were drawn on another size than the image's
/// `width` × `height` (a mask is not rescaled), or that have no pixel set.
pub(crate) fn brush_regions<'a>(
    results: impl IntoIterator<Item = &'a ResultItem>,
    width: u32,
    height: u32,
) -> (Vec<BrushRegion<'a>>, u64) {
    let mut brushes = Vec::new();
    let mut left_out = 0;
    for result in results {
        let ResultValue::BrushLabels(brush) = &result.value else {
            continue;
        };
        let grid = (
            size_or(width, result.original_width),
            size_or(height, result.original_height),
        );
        let mask = (grid == (width, height))
            .then(|| gloss_masks::brush_rle(&brush.shape, width, height).ok())
            .flatten()
            .map(|rle| rle.to_mask());
        let Some((mask, bbox)) = mask.and_then(|mask| mask.bbox().map(|bbox| (mask, bbox))) else {
            left_out += 1;
            continue;
        };
        if brush.labels.is_empty() {
            left_out += 1;
        }
        for label in &brush.labels {
            brushes.push(BrushRegion {
                result,
                label,
                mask: mask.clone(),
                bbox,
            });
        }
    }
    (brushes, left_out)
}

/// A labelled region of one annotation in any form the dataset writers
/// paint: a box, polygon or ellipse region, or a brush mask.
pub(crate) enum Object<'a> {
    Shape(Region<'a>),
    Brush(BrushRegion<'a>),
}

impl Object<'_> {
    pub(crate) fn result(&self) -> &ResultItem {
        match self {
            Object::Shape(region) => region.result,
            Object::Brush(brush) => brush.result,
        }
    }

    pub(crate) fn label(&self) -> &str {
        match self {
            Object::Shape(region) => region.label,
            Object::Brush(brush) => brush.label,
        }
    }

    /// Pixel bounds `[x, y, width, height]`.
    pub(crate) fn bbox(&self) -> [f64; 4] {
        match self {
            Object::Shape(region) => region.shape.bbox,
            Object::Brush(brush) => brush.pixel_bbox(),
        }
    }

    /// Whether the object is painted into the segmentation masks: outlines
    /// and brush masks are, boxes are not.
    pub(crate) fn is_painted(&self) -> bool {
        match self {
            Object::Shape(region) => region.is_outline(),
            Object::Brush(_) => true,
        }
    }
}

/// The regions and brush masks of one annotation's results in result order
/// (so that painting them puts later ones over earlier ones), and how many
/// results are left out: regions without labels and brush masks that
/// cannot be placed (see [`regions`] and [`brush_regions`]).
pub(crate) fn ordered_objects<'a>(
    results: &'a [ResultItem],
    width: u32,
    height: u32,
) -> (Vec<Object<'a>>, u64) {
    let (shapes, unlabelled) = regions(results, width, height);
    let (brushes, left_out) = brush_regions(results, width, height);
    let mut objects: Vec<Object> = shapes
        .into_iter()
        .map(Object::Shape)
        .chain(brushes.into_iter().map(Object::Brush))
        .collect();
    // Each object borrows the result it came from: its address gives its
    // place among the results. The sort is stable, so the objects of one
    // result keep their order.
    let position: HashMap<*const ResultItem, usize> = results
        .iter()
        .enumerate()
        .map(|(index, result)| (result as *const ResultItem, index))
        .collect();
    objects.sort_by_key(|object| position[&(object.result() as *const ResultItem)]);
    (objects, unlabelled + left_out)
}

/// What a dataset writer places of a task: its image, the image's size
/// (see [`image_size`]) and the annotations that were not cancelled; `None`
/// for a task without an image or a known size, which is left out.
pub(crate) fn placed(
    task: &ExportTask,
) -> Option<(&ImageInfo, (u32, u32), Vec<&AnnotationRecord>)> {
    let image = task.image.as_ref()?;
    let annotations: Vec<&AnnotationRecord> = task
        .annotations
        .iter()
        .map(|a| &a.record)
        .filter(|a| !a.was_cancelled)
        .collect();
    let size = image_size(image, annotations.iter().flat_map(|a| &a.result))?;
    Some((image, size, annotations))
}

/// The size in pixels of an image with these results: its own, or when
/// unknown (0) the size the first result was drawn on; `None` when neither
/// is known.
fn image_size<'a>(
    image: &ImageInfo,
    mut results: impl Iterator<Item = &'a ResultItem>,
) -> Option<(u32, u32)> {
    let drawn_on = results.next();
    let width = size_or(image.width, drawn_on.and_then(|r| r.original_width));
    let height = size_or(image.height, drawn_on.and_then(|r| r.original_height));
    (width > 0 && height > 0).then_some((width, height))
}

/// The image's size in pixels, or when unknown (0) the size the result was
/// drawn on.
pub(crate) fn size_or(image: u32, original: Option<u32>) -> u32 {
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
pub(crate) fn ellipse_shape(cx: f64, cy: f64, rx: f64, ry: f64, degrees: f64) -> Shape {
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
pub(crate) fn rectangle_shape(x: f64, y: f64, width: f64, height: f64, degrees: f64) -> Shape {
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

pub(crate) fn polygon_shape(points: impl Iterator<Item = [f64; 2]>) -> Shape {
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

/// `pixels` as percent of `size` pixels, as results hold coordinates.
pub(crate) fn percent(pixels: f64, size: f64) -> f64 {
    100.0 * pixels / size
}

/// A result on an image of `width` × `height` pixels, as the dataset
/// readers make them: drawn on the image unrotated, without a parent.
pub(crate) fn image_result(
    control: &ControlRef,
    id: String,
    value: ResultValue,
    (width, height): (u32, u32),
) -> ResultItem {
    ResultItem {
        id: Some(id),
        from_name: control.from_name.clone(),
        to_name: control.to_name.clone(),
        value,
        original_width: Some(width),
        original_height: Some(height),
        image_rotation: Some(0.0),
        parent_id: None,
        extra: serde_json::Map::new(),
    }
}

pub(crate) fn bounds(points: &[[f64; 2]]) -> [f64; 4] {
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

/// One skeleton instance: the `keypointlabels` results of one control that
/// share a `parentID` (or one point without a parent).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SkeletonInstance<'a> {
    /// The KeyPointLabels control.
    pub(crate) control: &'a str,
    /// `[x, y, v]` per joint in pixels, COCO's way: `v` is 0 for a joint
    /// without a point (x = y = 0), 1 for occluded, 2 for visible.
    pub(crate) keypoints: Vec<f64>,
}

impl SkeletonInstance<'_> {
    /// `[x, y, width, height]` around the placed joints.
    pub(crate) fn bbox(&self) -> [f64; 4] {
        let placed: Vec<[f64; 2]> = self
            .keypoints
            .chunks_exact(3)
            .filter(|joint| joint[2] > 0.0)
            .map(|joint| [joint[0], joint[1]])
            .collect();
        bounds(&placed)
    }
}

/// The skeleton instances of `results`, in first-seen order, for the
/// controls `joints_of` knows (it gives their joint names in order), and
/// how many points were left out: a label that is not a joint, or no image
/// size to convert percent with.
pub(crate) fn skeletons<'a, 'j>(
    results: impl IntoIterator<Item = &'a ResultItem>,
    joints_of: impl Fn(&str) -> Option<&'j [String]>,
    image_width: u32,
    image_height: u32,
) -> (Vec<SkeletonInstance<'a>>, u64) {
    let mut instances: Vec<(&str, SkeletonInstance)> = Vec::new();
    let mut skipped = 0;
    for result in results {
        let ResultValue::KeyPointLabels(point) = &result.value else {
            continue;
        };
        let Some(joints) = joints_of(&result.from_name) else {
            continue;
        };
        let joint = point
            .labels
            .first()
            .and_then(|label| joints.iter().position(|j| j == label));
        let width = f64::from(size_or(image_width, result.original_width));
        let height = f64::from(size_or(image_height, result.original_height));
        let (Some(joint), true) = (joint, width > 0.0 && height > 0.0) else {
            skipped += 1;
            continue;
        };
        // A point without a parent is an instance of its own.
        let instance = result
            .parent_id
            .as_deref()
            .or(result.id.as_deref())
            .unwrap_or("");
        let found = instances.iter().position(|(id, s)| {
            !instance.is_empty() && *id == instance && s.control == result.from_name
        });
        let position = found.unwrap_or_else(|| {
            instances.push((
                instance,
                SkeletonInstance {
                    control: &result.from_name,
                    keypoints: vec![0.0; joints.len() * 3],
                },
            ));
            instances.len() - 1
        });
        let visibility = if point.shape.visibility.as_deref() == Some("occluded") {
            1.0
        } else {
            2.0
        };
        instances[position].1.keypoints[joint * 3..joint * 3 + 3].copy_from_slice(&[
            point.shape.x * width / 100.0,
            point.shape.y * height / 100.0,
            visibility,
        ]);
    }
    (instances.into_iter().map(|(_, s)| s).collect(), skipped)
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
}
