//! One score of an answer against gold, per result type, in `[0, 1]` (or
//! `[-1, 1]` for rankings): the definition review, honeypots and
//! qualification tests share.

use crate::objects::{masks_score, poses_score, LabeledMask, Pose};
use crate::rank::kendall_tau_b;
use crate::spatial::{match_shapes, LabeledShape};
use crate::text::{span_scores, Span, SpanMatching};
use crate::{QualityError, Result};

/// The IoU at which shapes count as matched when scored against gold.
pub const GOLD_IOU_THRESHOLD: f64 = 0.5;

/// One annotation's answer, by result type.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Answer {
    /// Chosen classes (one for single choice).
    Classes(Vec<String>),
    /// Boxes and polygons.
    Shapes(Vec<LabeledShape>),
    /// Keypoint objects (skeletons or single points).
    Poses(Vec<Pose>),
    /// Labelled pixel masks.
    Masks(Vec<LabeledMask>),
    /// Labelled text spans.
    Spans(Vec<Span>),
    /// A score or rank per item of a ranking (same order in both).
    Ranking(Vec<f64>),
}

impl Answer {
    fn kind(&self) -> &'static str {
        match self {
            Answer::Classes(_) => "classes",
            Answer::Shapes(_) => "shapes",
            Answer::Poses(_) => "keypoints",
            Answer::Masks(_) => "masks",
            Answer::Spans(_) => "spans",
            Answer::Ranking(_) => "ranking",
        }
    }
}

/// Scores `candidate` against `gold`:
/// * classes: accuracy, 1 when the sets of classes are equal, else 0;
/// * shapes: F1 of the IoU matching at 0.5 (same label);
/// * keypoints: OKS against the gold's objects (one each: their OKS; more:
///   the soft F1 of the OKS matching, see [`crate::objects`]);
/// * masks: pixel IoU per label, averaged over the labels;
/// * spans: exact span F1;
/// * rankings: Kendall's tau-b.
pub fn score_against_gold(gold: &Answer, candidate: &Answer) -> Result<f64> {
    match (gold, candidate) {
        (Answer::Classes(gold), Answer::Classes(candidate)) => {
            fn set(classes: &[String]) -> Vec<&String> {
                let mut set: Vec<&String> = classes.iter().collect();
                set.sort_unstable();
                set.dedup();
                set
            }
            Ok(f64::from(set(gold) == set(candidate)))
        }
        (Answer::Shapes(gold), Answer::Shapes(candidate)) => {
            Ok(match_shapes(gold, candidate, GOLD_IOU_THRESHOLD)?.f1())
        }
        (Answer::Poses(gold), Answer::Poses(candidate)) => poses_score(gold, candidate),
        (Answer::Masks(gold), Answer::Masks(candidate)) => masks_score(gold, candidate),
        (Answer::Spans(gold), Answer::Spans(candidate)) => {
            Ok(span_scores(gold, candidate, SpanMatching::Exact)?.f1)
        }
        (Answer::Ranking(gold), Answer::Ranking(candidate)) => kendall_tau_b(gold, candidate),
        (gold, candidate) => Err(QualityError::Invalid(format!(
            "a {} answer cannot be scored against {} gold",
            candidate.kind(),
            gold.kind()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::{BBox, Keypoint, Shape};

    #[test]
    fn one_score_per_result_type() {
        let classes = |c: &[&str]| Answer::Classes(c.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            score_against_gold(&classes(&["a", "b"]), &classes(&["b", "a"])).unwrap(),
            1.0
        );
        assert_eq!(
            score_against_gold(&classes(&["a"]), &classes(&["b"])).unwrap(),
            0.0
        );
        let shape = |x| LabeledShape {
            label: "car".into(),
            shape: Shape::Box(BBox::from_xywh(x, 0.0, 10.0, 10.0)),
        };
        let gold = Answer::Shapes(vec![shape(0.0), shape(50.0)]);
        let candidate = Answer::Shapes(vec![shape(1.0)]);
        assert!((score_against_gold(&gold, &candidate).unwrap() - 2.0 / 3.0).abs() < 1e-12);
        let spans = Answer::Spans(vec![Span {
            start: 0,
            end: 3,
            label: "X".into(),
        }]);
        assert_eq!(score_against_gold(&spans, &spans).unwrap(), 1.0);
        let ranking = Answer::Ranking(vec![1.0, 2.0, 3.0]);
        assert_eq!(score_against_gold(&ranking, &ranking).unwrap(), 1.0);
        let poses = Answer::Poses(vec![Pose {
            label: "person".into(),
            joints: vec![(
                "nose".into(),
                Keypoint {
                    x: 1.0,
                    y: 1.0,
                    visibility: 2,
                },
            )],
            area: 10.0,
        }]);
        assert_eq!(score_against_gold(&poses, &poses).unwrap(), 1.0);
        let masks = Answer::Masks(vec![LabeledMask {
            label: "road".into(),
            mask: crate::objects::RunMask::from_counts(4, &[1, 2, 1]).unwrap(),
        }]);
        assert_eq!(score_against_gold(&masks, &masks).unwrap(), 1.0);
        assert!(score_against_gold(&masks, &poses).is_err());
        assert!(score_against_gold(&spans, &ranking).is_err());
    }
}
