//! Spatial agreement: boxes, polygons, keypoints and masks; optimal
//! (Hungarian) matching of two annotators' shapes; box consensus.

use crate::{QualityError, Result};
use serde::{Deserialize, Serialize};

/// An axis-aligned box, `x_min ≤ x_max`, `y_min ≤ y_max`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    pub x_min: f64,
    pub y_min: f64,
    pub x_max: f64,
    pub y_max: f64,
}

impl BBox {
    /// The box at `(x, y)` (top left) of size `width` × `height`.
    pub fn from_xywh(x: f64, y: f64, width: f64, height: f64) -> Self {
        Self {
            x_min: x,
            y_min: y,
            x_max: x + width,
            y_max: y + height,
        }
    }

    pub fn area(&self) -> f64 {
        (self.x_max - self.x_min).max(0.0) * (self.y_max - self.y_min).max(0.0)
    }

    fn is_finite(&self) -> bool {
        [self.x_min, self.y_min, self.x_max, self.y_max]
            .iter()
            .all(|v| v.is_finite())
    }
}

/// Intersection over union of two boxes: `|A ∩ B| / (|A| + |B| − |A ∩ B|)`;
/// 0 when the union is empty or a coordinate is not finite.
pub fn box_iou(a: &BBox, b: &BBox) -> f64 {
    if !a.is_finite() || !b.is_finite() {
        return 0.0;
    }
    let width = (a.x_max.min(b.x_max) - a.x_min.max(b.x_min)).max(0.0);
    let height = (a.y_max.min(b.y_max) - a.y_min.max(b.y_min)).max(0.0);
    let intersection = width * height;
    let union = a.area() + b.area() - intersection;
    if union <= 0.0 {
        0.0
    } else {
        intersection / union
    }
}

/// A point `(x, y)`.
pub type Point = (f64, f64);

/// Signed area (shoelace formula): positive when counter-clockwise.
fn signed_area(polygon: &[Point]) -> f64 {
    let n = polygon.len();
    (0..n)
        .map(|i| {
            let (a, b) = (polygon[i], polygon[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum::<f64>()
        / 2.0
}

/// The area of a simple polygon.
pub fn polygon_area(polygon: &[Point]) -> f64 {
    signed_area(polygon).abs()
}

/// Intersection over union of two simple polygons (no self-intersections,
/// no holes), with the exact area of the intersection: both are cut into
/// triangles by ear clipping, and the intersection is the sum over triangle
/// pairs of the convex intersection (Sutherland–Hodgman clipping of one
/// triangle by the other). O(n·m) triangle pairs. Degenerate polygons
/// (fewer than 3 points, zero area) or non-finite points give 0.
pub fn polygon_iou(a: &[Point], b: &[Point]) -> f64 {
    let (Some(ta), Some(tb)) = (triangulate(a), triangulate(b)) else {
        return 0.0;
    };
    let mut intersection = 0.0;
    for t in &ta {
        for u in &tb {
            intersection += polygon_area(&clip_convex(t, u));
        }
    }
    let union = polygon_area(a) + polygon_area(b) - intersection;
    if union <= 0.0 {
        0.0
    } else {
        (intersection / union).clamp(0.0, 1.0)
    }
}

/// Counter-clockwise triangles covering the polygon (ear clipping), or
/// `None` for a degenerate polygon.
fn triangulate(polygon: &[Point]) -> Option<Vec<[Point; 3]>> {
    if polygon.len() < 3 || polygon.iter().any(|p| !p.0.is_finite() || !p.1.is_finite()) {
        return None;
    }
    let area = signed_area(polygon);
    if area == 0.0 {
        return None;
    }
    let mut points: Vec<Point> = polygon.to_vec();
    if area < 0.0 {
        points.reverse();
    }
    let cross =
        |o: Point, a: Point, b: Point| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
    let inside = |p: Point, t: [Point; 3]| {
        cross(t[0], t[1], p) >= 0.0 && cross(t[1], t[2], p) >= 0.0 && cross(t[2], t[0], p) >= 0.0
    };
    let mut triangles = Vec::with_capacity(points.len() - 2);
    let mut guard = 0;
    while points.len() > 3 {
        let n = points.len();
        let ear = (0..n).find(|&i| {
            let t = [points[(i + n - 1) % n], points[i], points[(i + 1) % n]];
            cross(t[0], t[1], t[2]) > 0.0
                && points
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i && j != (i + n - 1) % n && j != (i + 1) % n)
                    .all(|(_, &p)| !inside(p, t))
        });
        match ear {
            Some(i) => {
                triangles.push([points[(i + n - 1) % n], points[i], points[(i + 1) % n]]);
                points.remove(i);
            }
            // Collinear or numerically awkward vertices: drop one whose
            // triangle has no area, or give up on a non-simple polygon.
            None => {
                let flat = (0..n).find(|&i| {
                    cross(points[(i + n - 1) % n], points[i], points[(i + 1) % n]) == 0.0
                })?;
                points.remove(flat);
            }
        }
        guard += 1;
        if guard > polygon.len() * 2 {
            return None;
        }
    }
    if cross(points[0], points[1], points[2]) > 0.0 {
        triangles.push([points[0], points[1], points[2]]);
    }
    Some(triangles)
}

/// Sutherland–Hodgman: `subject` clipped by the convex counter-clockwise
/// triangle `clip`.
fn clip_convex(subject: &[Point; 3], clip: &[Point; 3]) -> Vec<Point> {
    let mut output: Vec<Point> = subject.to_vec();
    for i in 0..3 {
        let (a, b) = (clip[i], clip[(i + 1) % 3]);
        let side = |p: Point| (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
        let input = std::mem::take(&mut output);
        for j in 0..input.len() {
            let (p, q) = (input[j], input[(j + 1) % input.len()]);
            let (sp, sq) = (side(p), side(q));
            if sp >= 0.0 {
                output.push(p);
            }
            if (sp >= 0.0) != (sq >= 0.0) {
                let t = sp / (sp - sq);
                output.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
            }
        }
        if output.is_empty() {
            break;
        }
    }
    output
}

/// The optimal assignment of rows to columns minimising the total cost
/// (Hungarian algorithm with potentials, O(n²m) for n rows ≤ m columns; a
/// wider-than-tall matrix is transposed). `cost` is rows × columns, row
/// major. Returns, per row, its column (`None` when there are more rows than
/// columns and the row is left out).
pub fn hungarian(cost: &[f64], rows: usize, columns: usize) -> Result<Vec<Option<usize>>> {
    if cost.len() != rows * columns {
        return Err(QualityError::LengthMismatch {
            what: "cost matrix and rows × columns",
            left: cost.len(),
            right: rows * columns,
        });
    }
    if let Some(bad) = cost.iter().find(|c| !c.is_finite()) {
        return Err(QualityError::NotFinite(format!("cost {bad}")));
    }
    if rows == 0 || columns == 0 {
        return Ok(vec![None; rows]);
    }
    if rows > columns {
        let transposed: Vec<f64> = (0..columns)
            .flat_map(|j| (0..rows).map(move |i| cost[i * columns + j]))
            .collect();
        let by_column = hungarian(&transposed, columns, rows)?;
        let mut by_row = vec![None; rows];
        for (j, i) in by_column.into_iter().enumerate() {
            if let Some(i) = i {
                by_row[i] = Some(j);
            }
        }
        return Ok(by_row);
    }
    // e-maxx formulation, 1-based with a virtual row/column 0.
    let (n, m) = (rows, columns);
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; m + 1];
    let mut row_of = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        row_of[0] = i;
        let mut j0 = 0;
        let mut min_to = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = row_of[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0;
            for j in 1..=m {
                if !used[j] {
                    let reduced = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                    if reduced < min_to[j] {
                        min_to[j] = reduced;
                        way[j] = j0;
                    }
                    if min_to[j] < delta {
                        delta = min_to[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_to[j] -= delta;
                }
            }
            j0 = j1;
            if row_of[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            row_of[j0] = row_of[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut assignment = vec![None; n];
    for j in 1..=m {
        if row_of[j] != 0 {
            assignment[row_of[j] - 1] = Some(j - 1);
        }
    }
    Ok(assignment)
}

/// How two annotators' shapes matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matching {
    /// Matched pairs `(reference index, candidate index, IoU)`.
    pub pairs: Vec<(usize, usize, f64)>,
    pub reference_count: usize,
    pub candidate_count: usize,
}

impl Matching {
    /// Matches / candidates (1 when both are empty, 0 when only the
    /// candidates are).
    pub fn precision(&self) -> f64 {
        share(self.pairs.len(), self.candidate_count, self.reference_count)
    }
    /// Matches / references (1 when both are empty).
    pub fn recall(&self) -> f64 {
        share(self.pairs.len(), self.reference_count, self.candidate_count)
    }
    /// Harmonic mean of precision and recall, `2TP / (2TP + FP + FN)`.
    pub fn f1(&self) -> f64 {
        f1(self.pairs.len(), self.reference_count, self.candidate_count)
    }
    /// The soft F1 `2 · Σ similarity / (references + candidates)`: the F1
    /// with each match counting its similarity (OKS for poses) instead of 1;
    /// 1 when both are empty.
    pub fn soft_f1(&self) -> f64 {
        let total = self.reference_count + self.candidate_count;
        if total == 0 {
            1.0
        } else {
            2.0 * self.pairs.iter().map(|p| p.2).sum::<f64>() / total as f64
        }
    }
    /// Mean IoU of the matched pairs (`None` without matches).
    pub fn mean_iou(&self) -> Option<f64> {
        (!self.pairs.is_empty())
            .then(|| self.pairs.iter().map(|p| p.2).sum::<f64>() / self.pairs.len() as f64)
    }
}

/// `hits / total`, 1 when there is nothing on either side, 0 when only this
/// side is empty.
pub(crate) fn share(hits: usize, total: usize, other_total: usize) -> f64 {
    match (total, other_total) {
        (0, 0) => 1.0,
        (0, _) => 0.0,
        _ => hits as f64 / total as f64,
    }
}

/// `2TP / (references + candidates)`, 1 when both are empty.
pub(crate) fn f1(hits: usize, references: usize, candidates: usize) -> f64 {
    if references + candidates == 0 {
        1.0
    } else {
        2.0 * hits as f64 / (references + candidates) as f64
    }
}

/// Optimal one-to-one matching of `references` to `candidates` by
/// similarity: the Hungarian assignment maximising the total similarity of
/// pairs at or above `threshold` (pairs below it count as unmatched).
/// `similarity(i, j)` is e.g. the IoU, 0 across different labels.
pub fn match_by_similarity(
    references: usize,
    candidates: usize,
    threshold: f64,
    similarity: impl Fn(usize, usize) -> f64,
) -> Result<Matching> {
    if !threshold.is_finite() {
        return Err(QualityError::NotFinite("matching threshold".into()));
    }
    let scores: Vec<f64> = (0..references)
        .flat_map(|i| (0..candidates).map(move |j| (i, j)))
        .map(|(i, j)| similarity(i, j))
        .map(|s| if s.is_finite() { s } else { 0.0 })
        .collect();
    let cost: Vec<f64> = scores
        .iter()
        .map(|&s| if s >= threshold && s > 0.0 { -s } else { 0.0 })
        .collect();
    let assignment = hungarian(&cost, references, candidates)?;
    let pairs = assignment
        .iter()
        .enumerate()
        .filter_map(|(i, j)| j.map(|j| (i, j, scores[i * candidates + j])))
        .filter(|&(_, _, s)| s >= threshold && s > 0.0)
        .collect();
    Ok(Matching {
        pairs,
        reference_count: references,
        candidate_count: candidates,
    })
}

/// A shape with its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Shape {
    Box(BBox),
    Polygon(Vec<Point>),
}

/// IoU of two shapes (a box against a polygon compares the box as a
/// polygon).
pub fn shape_iou(a: &Shape, b: &Shape) -> f64 {
    let corners = |b: &BBox| {
        vec![
            (b.x_min, b.y_min),
            (b.x_max, b.y_min),
            (b.x_max, b.y_max),
            (b.x_min, b.y_max),
        ]
    };
    match (a, b) {
        (Shape::Box(a), Shape::Box(b)) => box_iou(a, b),
        (Shape::Polygon(a), Shape::Polygon(b)) => polygon_iou(a, b),
        (Shape::Box(a), Shape::Polygon(b)) => polygon_iou(&corners(a), b),
        (Shape::Polygon(a), Shape::Box(b)) => polygon_iou(a, &corners(b)),
    }
}

/// A labelled shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabeledShape {
    pub label: String,
    pub shape: Shape,
}

/// Matches two annotators' labelled shapes (same label only) by IoU at
/// `threshold`.
pub fn match_shapes(
    references: &[LabeledShape],
    candidates: &[LabeledShape],
    threshold: f64,
) -> Result<Matching> {
    match_by_similarity(references.len(), candidates.len(), threshold, |i, j| {
        let (a, b) = (&references[i], &candidates[j]);
        if a.label == b.label {
            shape_iou(&a.shape, &b.shape)
        } else {
            0.0
        }
    })
}

/// One keypoint of a ground-truth object: position and COCO visibility
/// (0 = not labelled, 1 = labelled but hidden, 2 = visible).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Keypoint {
    pub x: f64,
    pub y: f64,
    pub visibility: u8,
}

/// Object keypoint similarity, COCO's formula (cocoeval.py `computeOks`):
/// over the reference's labelled keypoints (`visibility > 0`),
/// `OKS = mean exp(−d² / (2 · area · (2σ)²))` with `d` the distance to the
/// candidate's keypoint, `σ` the keypoint's constant and `area` the
/// object's area (plus machine epsilon, as COCO adds).
pub fn oks(reference: &[Keypoint], candidate: &[Point], sigmas: &[f64], area: f64) -> Result<f64> {
    if reference.len() != candidate.len() || reference.len() != sigmas.len() {
        return Err(QualityError::LengthMismatch {
            what: "keypoints (reference, candidate) and sigmas",
            left: reference.len().max(candidate.len()),
            right: sigmas.len(),
        });
    }
    if !area.is_finite() || area < 0.0 {
        return Err(QualityError::Invalid(format!("object area {area}")));
    }
    let mut sum = 0.0;
    let mut labelled = 0usize;
    for ((r, c), sigma) in reference.iter().zip(candidate).zip(sigmas) {
        if r.visibility == 0 {
            continue;
        }
        if ![r.x, r.y, c.0, c.1, *sigma].iter().all(|v| v.is_finite()) {
            return Err(QualityError::NotFinite("a keypoint or sigma".into()));
        }
        let variance = (2.0 * sigma) * (2.0 * sigma);
        let d2 = (r.x - c.0).powi(2) + (r.y - c.1).powi(2);
        sum += (-(d2 / variance / (area + f64::EPSILON) / 2.0)).exp();
        labelled += 1;
    }
    if labelled == 0 {
        return Err(QualityError::Empty(
            "OKS: the reference has no labelled keypoint".into(),
        ));
    }
    Ok(sum / labelled as f64)
}

/// Pixel IoU of two masks of equal size given as one byte per pixel
/// (non-zero = inside); 1 when both are empty.
pub fn mask_iou(a: &[u8], b: &[u8]) -> Result<f64> {
    pixel_iou(a, b, |x, y| {
        (u64::from(x != 0 && y != 0), u64::from(x != 0 || y != 0))
    })
}

/// Pixel IoU of two bit-packed masks of equal size (any bit order, the same
/// for both); 1 when both are empty.
pub fn mask_iou_bits(a: &[u64], b: &[u64]) -> Result<f64> {
    pixel_iou(a, b, |x, y| {
        (
            u64::from((x & y).count_ones()),
            u64::from((x | y).count_ones()),
        )
    })
}

/// IoU from `count(x, y)` = (pixels in both, pixels in either) of each pair
/// of mask units.
fn pixel_iou<T: Copy>(a: &[T], b: &[T], count: impl Fn(T, T) -> (u64, u64)) -> Result<f64> {
    if a.len() != b.len() {
        return Err(QualityError::LengthMismatch {
            what: "mask sizes",
            left: a.len(),
            right: b.len(),
        });
    }
    let (mut both, mut either) = (0u64, 0u64);
    for (&x, &y) in a.iter().zip(b) {
        let (inter, union) = count(x, y);
        both += inter;
        either += union;
    }
    Ok(if either == 0 {
        1.0
    } else {
        both as f64 / either as f64
    })
}

/// A labelled box from one annotator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnotatorBox {
    pub annotator: usize,
    pub label: String,
    pub bbox: BBox,
}

/// A fused consensus box.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsensusBox {
    pub label: String,
    pub bbox: BBox,
    /// How many annotators' boxes it fuses.
    pub votes: usize,
}

/// Box consensus by cluster and fuse: annotators are taken in turn; each
/// one's boxes are matched (Hungarian, same label, IoU ≥ `threshold`) to
/// the clusters so far, compared with each cluster's current fused box, and
/// an unmatched box starts a new cluster (so a cluster holds at most one
/// box per annotator). A cluster's box is the average of its boxes'
/// coordinates weighted by their annotators' `reliability`; clusters with
/// fewer than `min_votes` boxes are dropped.
pub fn box_consensus(
    boxes: &[AnnotatorBox],
    reliability: &[f64],
    threshold: f64,
    min_votes: usize,
) -> Result<Vec<ConsensusBox>> {
    if let Some(bad) = boxes.iter().find(|b| b.annotator >= reliability.len()) {
        return Err(QualityError::Invalid(format!(
            "box of annotator {} but only {} reliabilities",
            bad.annotator,
            reliability.len()
        )));
    }
    if let Some(bad) = reliability.iter().find(|r| !r.is_finite() || **r < 0.0) {
        return Err(QualityError::Invalid(format!(
            "reliability {bad} is not a finite, non-negative number"
        )));
    }
    let mut annotators: Vec<usize> = boxes.iter().map(|b| b.annotator).collect();
    annotators.sort_unstable();
    annotators.dedup();
    // Each cluster: its members (indices into `boxes`).
    let mut clusters: Vec<Vec<usize>> = Vec::new();
    for annotator in annotators {
        let own: Vec<usize> = (0..boxes.len())
            .filter(|&i| boxes[i].annotator == annotator)
            .collect();
        let fused: Vec<ConsensusBox> = clusters
            .iter()
            .map(|c| fuse(boxes, c, reliability))
            .collect();
        let matching = match_by_similarity(fused.len(), own.len(), threshold, |c, j| {
            let b = &boxes[own[j]];
            if fused[c].label == b.label {
                box_iou(&fused[c].bbox, &b.bbox)
            } else {
                0.0
            }
        })?;
        let mut matched = vec![false; own.len()];
        for &(c, j, _) in &matching.pairs {
            clusters[c].push(own[j]);
            matched[j] = true;
        }
        for (j, _) in matched.iter().enumerate().filter(|(_, m)| !**m) {
            clusters.push(vec![own[j]]);
        }
    }
    Ok(clusters
        .iter()
        .filter(|c| c.len() >= min_votes.max(1))
        .map(|c| fuse(boxes, c, reliability))
        .collect())
}

/// The reliability-weighted average of a cluster's boxes (a plain average
/// when every weight is 0).
fn fuse(boxes: &[AnnotatorBox], members: &[usize], reliability: &[f64]) -> ConsensusBox {
    let total: f64 = members
        .iter()
        .map(|&i| reliability[boxes[i].annotator])
        .sum();
    let weight = |i: usize| {
        if total > 0.0 {
            reliability[boxes[i].annotator] / total
        } else {
            1.0 / members.len() as f64
        }
    };
    let mut bbox = BBox {
        x_min: 0.0,
        y_min: 0.0,
        x_max: 0.0,
        y_max: 0.0,
    };
    for &i in members {
        let (w, b) = (weight(i), &boxes[i].bbox);
        bbox.x_min += w * b.x_min;
        bbox.y_min += w * b.y_min;
        bbox.x_max += w * b.x_max;
        bbox.y_max += w * b.y_max;
    }
    ConsensusBox {
        label: boxes[members[0]].label.clone(),
        bbox,
        votes: members.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_iou_by_hand() {
        let a = BBox::from_xywh(0.0, 0.0, 2.0, 2.0);
        let b = BBox::from_xywh(1.0, 1.0, 2.0, 2.0);
        assert!((box_iou(&a, &b) - 1.0 / 7.0).abs() < 1e-12);
        assert_eq!(box_iou(&a, &BBox::from_xywh(5.0, 5.0, 1.0, 1.0)), 0.0);
        assert_eq!(box_iou(&a, &a), 1.0);
        let empty = BBox::from_xywh(0.0, 0.0, 0.0, 0.0);
        assert_eq!(box_iou(&empty, &empty), 0.0);
    }

    #[test]
    fn polygon_iou_of_squares_and_a_concave_shape() {
        let square = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)];
        let shifted = [(1.0, 1.0), (3.0, 1.0), (3.0, 3.0), (1.0, 3.0)];
        assert!((polygon_iou(&square, &shifted) - 1.0 / 7.0).abs() < 1e-12);
        // Clockwise input gives the same.
        let mut clockwise = shifted;
        clockwise.reverse();
        assert!((polygon_iou(&square, &clockwise) - 1.0 / 7.0).abs() < 1e-12);
        // An L (area 3) against the unit square at its corner it lacks:
        // they do not overlap.
        let l_shape = [
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 1.0),
            (1.0, 1.0),
            (1.0, 2.0),
            (0.0, 2.0),
        ];
        let corner = [(1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (1.0, 2.0)];
        assert!(polygon_iou(&l_shape, &corner).abs() < 1e-12);
        // A unit square over the notch's corner: 1 − 0.25 of it inside the L.
        let over_notch = [(0.5, 0.5), (1.5, 0.5), (1.5, 1.5), (0.5, 1.5)];
        assert!((polygon_iou(&l_shape, &over_notch) - 0.75 / 3.25).abs() < 1e-12);
        // Against the full square: 3 / 4.
        assert!((polygon_iou(&l_shape, &square) - 0.75).abs() < 1e-12);
        assert_eq!(polygon_iou(&square[..2], &square), 0.0);
    }

    #[test]
    fn hungarian_finds_the_optimum() {
        // Greedy would take (0,0)=1 then (1,1)=5: 6; optimum (0,1)+(1,0)=2+2.
        let cost = [1.0, 2.0, 2.0, 5.0];
        assert_eq!(hungarian(&cost, 2, 2).unwrap(), [Some(1), Some(0)]);
        // 3 rows, 2 columns: the costliest row is left out.
        let cost = [1.0, 9.0, 9.0, 1.0, 5.0, 5.0];
        assert_eq!(hungarian(&cost, 3, 2).unwrap(), [Some(0), Some(1), None]);
        assert!(hungarian(&[1.0], 2, 2).is_err());
        assert!(hungarian(&[f64::NAN], 1, 1).is_err());
    }

    /// A small deterministic generator for the randomised tests.
    fn numbers(seed: u64) -> impl FnMut() -> f64 {
        let mut random = crate::aggregate::SplitMix64(seed);
        move || (random.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn hungarian_equals_brute_force() {
        let mut next = numbers(3);
        // Every permutation of 0..n, by Heap's algorithm.
        fn permutations(n: usize) -> Vec<Vec<usize>> {
            fn heap(k: usize, items: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
                if k <= 1 {
                    out.push(items.clone());
                    return;
                }
                for i in 0..k {
                    heap(k - 1, items, out);
                    let j = if k.is_multiple_of(2) { i } else { 0 };
                    items.swap(j, k - 1);
                }
            }
            let mut out = Vec::new();
            heap(n, &mut (0..n).collect(), &mut out);
            out
        }
        for n in 1..=6 {
            let all = permutations(n);
            for _ in 0..20 {
                let cost: Vec<f64> = (0..n * n).map(|_| (next() * 10.0).floor()).collect();
                let best = all
                    .iter()
                    .map(|p| (0..n).map(|i| cost[i * n + p[i]]).sum::<f64>())
                    .fold(f64::INFINITY, f64::min);
                let assignment = hungarian(&cost, n, n).unwrap();
                let total: f64 = (0..n).map(|i| cost[i * n + assignment[i].unwrap()]).sum();
                assert_eq!(total, best, "n = {n}, cost {cost:?}");
            }
        }
    }

    #[test]
    fn polygon_iou_of_rectangles_equals_box_iou() {
        let mut next = numbers(5);
        for _ in 0..200 {
            let mut rect = || {
                BBox::from_xywh(
                    next() * 10.0,
                    next() * 10.0,
                    0.1 + next() * 8.0,
                    0.1 + next() * 8.0,
                )
            };
            let (a, b) = (rect(), rect());
            let as_polygon = |b: &BBox| {
                vec![
                    (b.x_min, b.y_min),
                    (b.x_max, b.y_min),
                    (b.x_max, b.y_max),
                    (b.x_min, b.y_max),
                ]
            };
            let polygon = polygon_iou(&as_polygon(&a), &as_polygon(&b));
            assert!((polygon - box_iou(&a, &b)).abs() < 1e-9, "{a:?} {b:?}");
        }
        // Collinear vertices along the edges change nothing.
        let with_midpoints = [
            (0.0, 0.0),
            (1.0, 0.0),
            (2.0, 0.0),
            (2.0, 1.0),
            (2.0, 2.0),
            (0.0, 2.0),
        ];
        let square = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)];
        assert!((polygon_iou(&with_midpoints, &square) - 1.0).abs() < 1e-12);
        // A comb (many reflex vertices) against its bounding box: area 7 of 9.
        let comb = [
            (0.0, 0.0),
            (9.0, 0.0),
            (9.0, 1.0),
            (8.0, 1.0),
            (8.0, 0.5),
            (7.0, 0.5),
            (7.0, 1.0),
            (6.0, 1.0),
            (6.0, 0.5),
            (5.0, 0.5),
            (5.0, 1.0),
            (4.0, 1.0),
            (4.0, 0.5),
            (3.0, 0.5),
            (3.0, 1.0),
            (2.0, 1.0),
            (2.0, 0.5),
            (1.0, 0.5),
            (1.0, 1.0),
            (0.0, 1.0),
        ];
        let bounds = [(0.0, 0.0), (9.0, 0.0), (9.0, 1.0), (0.0, 1.0)];
        assert!((polygon_area(&comb) - 7.0).abs() < 1e-12);
        assert!((polygon_iou(&comb, &bounds) - 7.0 / 9.0).abs() < 1e-12);
        // A bow tie (self-intersecting, signed area 0) gives 0.
        let bow_tie = [(0.0, 0.0), (2.0, 2.0), (2.0, 0.0), (0.0, 2.0)];
        assert_eq!(polygon_iou(&bow_tie, &square), 0.0);
    }

    #[test]
    fn matching_precision_recall() {
        let boxes = |xs: &[f64]| -> Vec<LabeledShape> {
            xs.iter()
                .map(|&x| LabeledShape {
                    label: "car".into(),
                    shape: Shape::Box(BBox::from_xywh(x, 0.0, 10.0, 10.0)),
                })
                .collect()
        };
        let m = match_shapes(&boxes(&[0.0, 100.0]), &boxes(&[1.0, 50.0, 200.0]), 0.5).unwrap();
        assert_eq!(m.pairs.len(), 1);
        assert!((m.precision() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.recall(), 0.5);
        assert!((m.f1() - 0.4).abs() < 1e-12);
        assert!((m.mean_iou().unwrap() - 90.0 / 110.0).abs() < 1e-12);
        let none = match_shapes(&[], &[], 0.5).unwrap();
        assert_eq!(
            (none.precision(), none.recall(), none.f1()),
            (1.0, 1.0, 1.0)
        );
    }

    #[test]
    fn oks_and_masks() {
        let reference = [
            Keypoint {
                x: 0.0,
                y: 0.0,
                visibility: 2,
            },
            Keypoint {
                x: 5.0,
                y: 5.0,
                visibility: 0,
            },
        ];
        let same = oks(
            &reference,
            &[(0.0, 0.0), (100.0, 100.0)],
            &[0.1, 0.1],
            100.0,
        )
        .unwrap();
        assert_eq!(same, 1.0);
        let off = oks(&reference, &[(1.0, 0.0), (0.0, 0.0)], &[0.1, 0.1], 100.0).unwrap();
        let expected = (-1.0f64 / (0.04 * (100.0 + f64::EPSILON) * 2.0)).exp();
        assert!((off - expected).abs() < 1e-12);
        assert!(oks(&reference, &[(0.0, 0.0)], &[0.1, 0.1], 1.0).is_err());
        assert_eq!(mask_iou(&[1, 1, 0, 0], &[1, 0, 1, 0]).unwrap(), 1.0 / 3.0);
        assert_eq!(mask_iou_bits(&[0b1100], &[0b1010]).unwrap(), 1.0 / 3.0);
        assert_eq!(mask_iou(&[0, 0], &[0, 0]).unwrap(), 1.0);
        assert!(mask_iou(&[0], &[0, 0]).is_err());
    }

    #[test]
    fn box_consensus_fuses_and_applies_the_quorum() {
        let b = |annotator, x| AnnotatorBox {
            annotator,
            label: "car".into(),
            bbox: BBox::from_xywh(x, 0.0, 10.0, 10.0),
        };
        let boxes = [b(0, 0.0), b(1, 1.0), b(2, 3.0), b(2, 100.0)];
        let fused = box_consensus(&boxes, &[1.0, 1.0, 2.0], 0.5, 2).unwrap();
        assert_eq!(fused.len(), 1);
        assert_eq!(fused[0].votes, 3);
        // (0·1 + 1·1 + 3·2) / 4 = 1.75.
        assert!((fused[0].bbox.x_min - 1.75).abs() < 1e-12);
        assert_eq!(
            box_consensus(&boxes, &[1.0, 1.0, 2.0], 0.5, 1)
                .unwrap()
                .len(),
            2
        );
        assert!(box_consensus(&boxes, &[1.0], 0.5, 1).is_err());
    }
}
