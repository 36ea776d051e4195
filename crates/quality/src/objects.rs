//! Agreement on keypoint objects (poses) and on pixel masks, the two
//! spatial answers that are not outlines:
//! - poses are matched one to one by object keypoint similarity (OKS, see
//!   [`pose_oks`]) and scored by the soft F1 `2 · Σ OKS / (n₁ + n₂)`: one
//!   object each gives their OKS, an object without a partner adds 0;
//! - masks are compared label by label: the pixels of a label (the union of
//!   its masks) in one answer against those in the other, by IoU, averaged
//!   over the labels either answer uses.

use crate::spatial::{match_by_similarity, Keypoint, Matching};
use crate::{QualityError, Result};
use serde::{Deserialize, Serialize};

/// COCO's per-keypoint constants for its 17 person keypoints
/// (cocoeval.py `kpt_oks_sigmas`), by joint name.
const COCO_PERSON_SIGMAS: [(&str, f64); 17] = [
    ("nose", 0.026),
    ("left_eye", 0.025),
    ("right_eye", 0.025),
    ("left_ear", 0.035),
    ("right_ear", 0.035),
    ("left_shoulder", 0.079),
    ("right_shoulder", 0.079),
    ("left_elbow", 0.072),
    ("right_elbow", 0.072),
    ("left_wrist", 0.062),
    ("right_wrist", 0.062),
    ("left_hip", 0.107),
    ("right_hip", 0.107),
    ("left_knee", 0.087),
    ("right_knee", 0.087),
    ("left_ankle", 0.089),
    ("right_ankle", 0.089),
];

/// The constant σ of a joint that is not one of COCO's person keypoints
/// (DeepLabCut's default for its own OKS).
pub const DEFAULT_KEYPOINT_SIGMA: f64 = 0.1;

/// The OKS constant of a joint: COCO's for its 17 person keypoints (by
/// name, `left_eye` or `left eye`, any case), [`DEFAULT_KEYPOINT_SIGMA`]
/// for any other.
pub fn keypoint_sigma(joint: &str) -> f64 {
    let name = joint.trim().to_lowercase().replace([' ', '-'], "_");
    COCO_PERSON_SIGMAS
        .iter()
        .find(|(coco, _)| *coco == name)
        .map_or(DEFAULT_KEYPOINT_SIGMA, |(_, sigma)| *sigma)
}

/// One object's keypoints: a skeleton instance, or a single labelled point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    /// The kind of object; only poses of the same label are compared.
    pub label: String,
    /// The placed joints by name (visibility 1 = hidden, 2 = visible); a
    /// joint that is not here is absent.
    pub joints: Vec<(String, Keypoint)>,
    /// The object's scale `s²` in OKS: the area of the box around its
    /// joints, or of the image when the joints span no area (one point).
    pub area: f64,
}

impl Pose {
    fn joint(&self, name: &str) -> Option<&Keypoint> {
        self.joints
            .iter()
            .find(|(joint, _)| joint == name)
            .map(|(_, point)| point)
    }
}

/// The area of the box around `points`, or `fallback` (the image's area)
/// when it is empty: the scale CVAT calls `group_bbox_size`.
pub fn points_area(points: impl IntoIterator<Item = (f64, f64)>, fallback: f64) -> f64 {
    let mut bounds: Option<(f64, f64, f64, f64)> = None;
    for (x, y) in points {
        bounds = Some(match bounds {
            None => (x, y, x, y),
            Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
        });
    }
    match bounds {
        Some((x0, y0, x1, y1)) if (x1 - x0) * (y1 - y0) > 0.0 => (x1 - x0) * (y1 - y0),
        _ => fallback,
    }
}

/// Object keypoint similarity of `candidate` against `reference`, COCO's
/// formula (cocoeval.py `computeOks`) over the reference's placed joints:
/// `mean exp(−d² / (2 · area · (2σ)²))`, with the reference's area and each
/// joint's [`keypoint_sigma`]. A joint the candidate did not place scores 0;
/// joints only the candidate placed are not counted. 0 across labels or when
/// the reference placed no joint.
pub fn pose_oks(reference: &Pose, candidate: &Pose) -> f64 {
    if reference.label != candidate.label {
        return 0.0;
    }
    let mut sum = 0.0;
    let mut placed = 0usize;
    for (name, point) in &reference.joints {
        if point.visibility == 0 {
            continue;
        }
        placed += 1;
        let Some(other) = candidate.joint(name).filter(|p| p.visibility > 0) else {
            continue;
        };
        let sigma = keypoint_sigma(name);
        let variance = (2.0 * sigma) * (2.0 * sigma);
        let d2 = (point.x - other.x).powi(2) + (point.y - other.y).powi(2);
        let similarity = (-(d2 / variance / (reference.area + f64::EPSILON) / 2.0)).exp();
        if similarity.is_finite() {
            sum += similarity;
        }
    }
    if placed == 0 {
        0.0
    } else {
        sum / placed as f64
    }
}

/// Matches `references` to `candidates` one to one by OKS (the Hungarian
/// assignment maximising the total OKS; pairs with no similarity stay
/// unmatched).
pub fn match_poses(references: &[Pose], candidates: &[Pose]) -> Result<Matching> {
    for pose in references.iter().chain(candidates) {
        if !pose.area.is_finite() || pose.area < 0.0 {
            return Err(QualityError::Invalid(format!(
                "object area {} of a {:?} pose",
                pose.area, pose.label
            )));
        }
        if pose
            .joints
            .iter()
            .any(|(_, p)| !p.x.is_finite() || !p.y.is_finite())
        {
            return Err(QualityError::NotFinite(format!(
                "a keypoint of a {:?} pose",
                pose.label
            )));
        }
    }
    match_by_similarity(references.len(), candidates.len(), 0.0, |i, j| {
        pose_oks(&references[i], &candidates[j])
    })
}

/// The OKS soft F1 of two sets of poses (see the [module](self)); 1 when
/// both are empty.
pub fn poses_score(references: &[Pose], candidates: &[Pose]) -> Result<f64> {
    let matching = match_poses(references, candidates)?;
    Ok(matching.soft_f1())
}

/// A pixel mask as the runs of its inside pixels, `[start, end)` in one
/// fixed pixel order (COCO run-length encoding's column-major order),
/// sorted and apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMask {
    /// Pixels in the image (width × height).
    pub pixels: u64,
    runs: Vec<(u64, u64)>,
}

impl RunMask {
    /// The mask of COCO run-length `counts` (alternating outside and inside
    /// runs, starting outside) on an image of `pixels` pixels.
    pub fn from_counts(pixels: u64, counts: &[u32]) -> Result<RunMask> {
        let mut runs = Vec::with_capacity(counts.len() / 2);
        let mut at = 0u64;
        for (index, count) in counts.iter().enumerate() {
            let end = at + u64::from(*count);
            if index % 2 == 1 && end > at {
                runs.push((at, end));
            }
            at = end;
        }
        if at != pixels {
            return Err(QualityError::LengthMismatch {
                what: "mask runs and image pixels",
                left: at as usize,
                right: pixels as usize,
            });
        }
        Ok(RunMask { pixels, runs })
    }

    /// Inside pixels.
    pub fn area(&self) -> u64 {
        self.runs.iter().map(|(start, end)| end - start).sum()
    }

    /// The pixels inside either mask.
    pub fn union(&self, other: &RunMask) -> Result<RunMask> {
        same_size(self, other)?;
        let mut all: Vec<(u64, u64)> = self.runs.iter().chain(&other.runs).copied().collect();
        all.sort_unstable();
        let mut runs: Vec<(u64, u64)> = Vec::with_capacity(all.len());
        for (start, end) in all {
            match runs.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => runs.push((start, end)),
            }
        }
        Ok(RunMask {
            pixels: self.pixels,
            runs,
        })
    }

    /// Pixels inside both masks.
    pub fn intersection_area(&self, other: &RunMask) -> Result<u64> {
        same_size(self, other)?;
        let (mut i, mut j, mut both) = (0, 0, 0u64);
        while i < self.runs.len() && j < other.runs.len() {
            let (a, b) = (self.runs[i], other.runs[j]);
            let start = a.0.max(b.0);
            let end = a.1.min(b.1);
            if end > start {
                both += end - start;
            }
            if a.1 <= b.1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        Ok(both)
    }
}

fn same_size(a: &RunMask, b: &RunMask) -> Result<()> {
    if a.pixels == b.pixels {
        Ok(())
    } else {
        Err(QualityError::LengthMismatch {
            what: "mask sizes",
            left: a.pixels as usize,
            right: b.pixels as usize,
        })
    }
}

/// Pixel IoU of two masks, the same as pycocotools' `mask.iou` on their
/// RLEs; 1 when both are empty.
pub fn run_mask_iou(a: &RunMask, b: &RunMask) -> Result<f64> {
    let both = a.intersection_area(b)?;
    let either = a.area() + b.area() - both;
    Ok(if either == 0 {
        1.0
    } else {
        both as f64 / either as f64
    })
}

/// A mask with its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabeledMask {
    pub label: String,
    pub mask: RunMask,
}

/// The mean, over the labels either side uses, of the IoU of that label's
/// pixels (see the [module](self)); 1 when both are empty.
pub fn masks_score(a: &[LabeledMask], b: &[LabeledMask]) -> Result<f64> {
    let mut labels: Vec<&str> = a.iter().chain(b).map(|m| m.label.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    if labels.is_empty() {
        return Ok(1.0);
    }
    let pixels_of = |masks: &[LabeledMask], label: &str| -> Result<Option<RunMask>> {
        let mut union: Option<RunMask> = None;
        for mask in masks.iter().filter(|m| m.label == label) {
            union = Some(match union {
                None => mask.mask.clone(),
                Some(so_far) => so_far.union(&mask.mask)?,
            });
        }
        Ok(union)
    };
    let mut sum = 0.0;
    for label in &labels {
        sum += match (pixels_of(a, label)?, pixels_of(b, label)?) {
            (Some(x), Some(y)) => run_mask_iou(&x, &y)?,
            // One side has no pixels of the label: IoU 0 unless the other's
            // masks are empty too.
            (Some(x), None) | (None, Some(x)) => f64::from(u8::from(x.area() == 0)),
            (None, None) => 1.0,
        };
    }
    Ok(sum / labels.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(x: f64, y: f64) -> Keypoint {
        Keypoint {
            x,
            y,
            visibility: 2,
        }
    }

    fn pose(label: &str, joints: &[(&str, f64, f64)]) -> Pose {
        let joints: Vec<(String, Keypoint)> = joints
            .iter()
            .map(|(name, x, y)| (name.to_string(), point(*x, *y)))
            .collect();
        let area = points_area(joints.iter().map(|(_, p)| (p.x, p.y)), 10_000.0);
        Pose {
            label: label.into(),
            joints,
            area,
        }
    }

    #[test]
    fn sigmas_are_coco_for_person_joints() {
        assert_eq!(keypoint_sigma("nose"), 0.026);
        assert_eq!(keypoint_sigma("Left Hip"), 0.107);
        assert_eq!(keypoint_sigma("tail"), DEFAULT_KEYPOINT_SIGMA);
    }

    #[test]
    fn oks_counts_the_references_joints() {
        let reference = pose("person", &[("nose", 0.0, 0.0), ("tail", 10.0, 10.0)]);
        assert_eq!(reference.area, 100.0);
        assert_eq!(pose_oks(&reference, &reference), 1.0);
        // The candidate misses the tail: half the joints score 0.
        let partial = pose("person", &[("nose", 0.0, 0.0)]);
        assert!((pose_oks(&reference, &partial) - 0.5).abs() < 1e-12);
        // A joint the reference lacks is not counted.
        assert_eq!(pose_oks(&partial, &reference), 1.0);
        // COCO's formula by hand: d² = 1, σ = 0.1, area 100.
        let moved = pose("person", &[("nose", 0.0, 0.0), ("tail", 11.0, 10.0)]);
        let expected = (1.0 + (-1.0f64 / 0.04 / (100.0 + f64::EPSILON) / 2.0).exp()) / 2.0;
        assert!((pose_oks(&reference, &moved) - expected).abs() < 1e-12);
        assert_eq!(
            pose_oks(&reference, &pose("cat", &[("nose", 0.0, 0.0)])),
            0.0
        );
    }

    #[test]
    fn poses_match_one_to_one() {
        let a = vec![
            pose("p", &[("a", 0.0, 0.0), ("b", 10.0, 10.0)]),
            pose("p", &[("a", 100.0, 100.0), ("b", 110.0, 110.0)]),
        ];
        let b = vec![pose("p", &[("a", 100.0, 100.0), ("b", 110.0, 110.0)])];
        let matching = match_poses(&a, &b).unwrap();
        assert_eq!(matching.pairs.len(), 1);
        assert_eq!(matching.pairs[0].0, 1);
        assert!((poses_score(&a, &b).unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(poses_score(&[], &[]).unwrap(), 1.0);
        assert_eq!(poses_score(&a, &[]).unwrap(), 0.0);
        let mut bad = a.clone();
        bad[0].area = f64::NAN;
        assert!(match_poses(&bad, &b).is_err());
    }

    #[test]
    fn run_masks() {
        // 10 pixels: inside 2..5 and 7..8.
        let a = RunMask::from_counts(10, &[2, 3, 2, 1, 2]).unwrap();
        assert_eq!(a.area(), 4);
        let b = RunMask::from_counts(10, &[4, 4, 2]).unwrap();
        assert_eq!(a.intersection_area(&b).unwrap(), 2);
        assert!((run_mask_iou(&a, &b).unwrap() - 2.0 / 6.0).abs() < 1e-12);
        assert_eq!(a.union(&b).unwrap().area(), 6);
        assert!(RunMask::from_counts(9, &[2, 3, 2, 1, 2]).is_err());
        let empty = RunMask::from_counts(10, &[10]).unwrap();
        assert_eq!(run_mask_iou(&empty, &empty).unwrap(), 1.0);
        assert!(run_mask_iou(&a, &RunMask::from_counts(5, &[5]).unwrap()).is_err());
    }

    #[test]
    fn masks_score_by_label() {
        let mask = |label: &str, counts: &[u32]| LabeledMask {
            label: label.into(),
            mask: RunMask::from_counts(10, counts).unwrap(),
        };
        // Two "car" masks on one side are one union of pixels.
        let a = vec![mask("car", &[0, 2, 8]), mask("car", &[2, 2, 6])];
        let b = vec![mask("car", &[0, 4, 6]), mask("road", &[6, 4])];
        // car: IoU 1; road: only on one side, 0.
        assert!((masks_score(&a, &b).unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(masks_score(&[], &[]).unwrap(), 1.0);
    }
}
