//! One score of an answer against gold, per result type, in `[0, 1]` (or
//! `[-1, 1]` for rankings): the definition review, honeypots and
//! qualification tests share.

use crate::rank::kendall_tau_b;
use crate::spatial::{match_shapes, oks, Keypoint, LabeledShape};
use crate::text::{span_scores, Span, SpanMatching};
use crate::{QualityError, Result};

/// The IoU at which shapes count as matched when scored against gold.
pub const GOLD_IOU_THRESHOLD: f64 = 0.5;

/// One annotation's answer, by result type.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Chosen classes (one for single choice).
    Classes(Vec<String>),
    /// Boxes and polygons.
    Shapes(Vec<LabeledShape>),
    /// Keypoints of one object; the gold answer's `sigmas` and `area` are
    /// used (a candidate's are ignored).
    Keypoints {
        keypoints: Vec<Keypoint>,
        sigmas: Vec<f64>,
        area: f64,
    },
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
            Answer::Keypoints { .. } => "keypoints",
            Answer::Spans(_) => "spans",
            Answer::Ranking(_) => "ranking",
        }
    }
}

/// Scores `candidate` against `gold`:
/// * classes: accuracy, 1 when the sets of classes are equal, else 0;
/// * shapes: F1 of the IoU matching at 0.5 (same label);
/// * keypoints: OKS with the gold's sigmas and area;
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
        (
            Answer::Keypoints {
                keypoints,
                sigmas,
                area,
            },
            Answer::Keypoints {
                keypoints: candidate,
                ..
            },
        ) => {
            let points: Vec<(f64, f64)> = candidate.iter().map(|k| (k.x, k.y)).collect();
            oks(keypoints, &points, sigmas, *area)
        }
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
    use crate::spatial::{BBox, Shape};

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
        let keypoints = Answer::Keypoints {
            keypoints: vec![Keypoint {
                x: 1.0,
                y: 1.0,
                visibility: 2,
            }],
            sigmas: vec![0.1],
            area: 10.0,
        };
        assert_eq!(score_against_gold(&keypoints, &keypoints).unwrap(), 1.0);
        assert!(score_against_gold(&spans, &ranking).is_err());
    }
}
