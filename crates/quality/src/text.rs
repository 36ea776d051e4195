//! Text agreement: labelled spans and relations between them; span
//! consensus by token vote.

use crate::spatial::{f1, hungarian, share};
use crate::{QualityError, Result};
use serde::{Deserialize, Serialize};

/// A labelled span of characters `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub label: String,
}

/// A labelled relation between two spans, by index in their span list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    pub from: usize,
    pub to: usize,
    pub label: String,
}

/// When a candidate span counts as a reference span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpanMatching {
    /// Same start, end and label.
    #[default]
    Exact,
    /// Same label and at least one character in common.
    Overlap,
}

/// Precision, recall and F1 of matched items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    pub matched: usize,
    pub references: usize,
    pub candidates: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Scores {
    /// The scores of `matched` matches among `references` and `candidates`.
    pub fn from_counts(matched: usize, references: usize, candidates: usize) -> Self {
        Self {
            matched,
            references,
            candidates,
            precision: share(matched, candidates, references),
            recall: share(matched, references, candidates),
            f1: f1(matched, references, candidates),
        }
    }

    /// Micro-averaged scores of several documents (counts added up).
    pub fn sum(scores: &[Scores]) -> Self {
        Self::from_counts(
            scores.iter().map(|s| s.matched).sum(),
            scores.iter().map(|s| s.references).sum(),
            scores.iter().map(|s| s.candidates).sum(),
        )
    }
}

fn check_spans(spans: &[Span]) -> Result<()> {
    match spans.iter().find(|s| s.start >= s.end) {
        Some(bad) => Err(QualityError::Invalid(format!(
            "span {}..{} ({}) is empty or reversed",
            bad.start, bad.end, bad.label
        ))),
        None => Ok(()),
    }
}

/// One-to-one matching of candidate spans to reference spans: per
/// candidate, the reference it matched. Exact matching pairs equal spans;
/// overlap matching is the Hungarian assignment maximising the characters
/// in common among same-label overlapping pairs.
pub fn match_spans(
    references: &[Span],
    candidates: &[Span],
    matching: SpanMatching,
) -> Result<Vec<Option<usize>>> {
    check_spans(references)?;
    check_spans(candidates)?;
    let (n, m) = (candidates.len(), references.len());
    let overlap = |c: &Span, r: &Span| c.end.min(r.end).saturating_sub(c.start.max(r.start));
    let gain = |c: &Span, r: &Span| -> f64 {
        if c.label != r.label {
            return 0.0;
        }
        match matching {
            SpanMatching::Exact => f64::from(c.start == r.start && c.end == r.end),
            SpanMatching::Overlap => overlap(c, r) as f64,
        }
    };
    let cost: Vec<f64> = candidates
        .iter()
        .flat_map(|c| references.iter().map(move |r| -gain(c, r)))
        .collect();
    let assignment = hungarian(&cost, n, m)?;
    Ok(assignment
        .into_iter()
        .enumerate()
        .map(|(c, r)| r.filter(|&r| gain(&candidates[c], &references[r]) > 0.0))
        .collect())
}

/// Span-level precision, recall and F1 of `candidates` against
/// `references` (one-to-one matches, see [`match_spans`]).
pub fn span_scores(
    references: &[Span],
    candidates: &[Span],
    matching: SpanMatching,
) -> Result<Scores> {
    let matched = match_spans(references, candidates, matching)?;
    Ok(Scores::from_counts(
        matched.iter().flatten().count(),
        references.len(),
        candidates.len(),
    ))
}

/// Relation precision, recall and F1: a candidate relation matches a
/// reference relation with the same label whose two spans are the ones its
/// own two spans matched (span matching as [`match_spans`]).
pub fn relation_scores(
    reference_spans: &[Span],
    reference_relations: &[Relation],
    candidate_spans: &[Span],
    candidate_relations: &[Relation],
    matching: SpanMatching,
) -> Result<Scores> {
    let check = |relations: &[Relation], spans: &[Span]| match relations
        .iter()
        .find(|r| r.from >= spans.len() || r.to >= spans.len())
    {
        Some(bad) => Err(QualityError::Invalid(format!(
            "relation {} → {} ({}) points past the {} spans",
            bad.from,
            bad.to,
            bad.label,
            spans.len()
        ))),
        None => Ok(()),
    };
    check(reference_relations, reference_spans)?;
    check(candidate_relations, candidate_spans)?;
    let span_match = match_spans(reference_spans, candidate_spans, matching)?;
    let mut used = vec![false; reference_relations.len()];
    let mut matched = 0;
    for relation in candidate_relations {
        let (Some(from), Some(to)) = (span_match[relation.from], span_match[relation.to]) else {
            continue;
        };
        let found = reference_relations
            .iter()
            .enumerate()
            .find(|(i, r)| !used[*i] && r.from == from && r.to == to && r.label == relation.label);
        if let Some((i, _)) = found {
            used[i] = true;
            matched += 1;
        }
    }
    Ok(Scores::from_counts(
        matched,
        reference_relations.len(),
        candidate_relations.len(),
    ))
}

/// Span consensus by token vote: each token (`[start, end)` character
/// ranges, in order) takes the label that more than `min_share` of the
/// `annotators` gave it (a span covering any of the token counts as giving
/// its label; "no label" is a vote too, so a label needs a majority of all
/// annotators at `min_share = 0.5`); consecutive tokens with the same label
/// join into one span.
pub fn token_vote(
    tokens: &[(usize, usize)],
    annotations: &[Vec<Span>],
    min_share: f64,
) -> Result<Vec<Span>> {
    weighted_token_vote(
        tokens,
        annotations,
        &vec![1.0; annotations.len()],
        min_share,
    )
}

/// [`token_vote`] with a weight per annotator (their reliability, ≥ 0): a
/// token takes the label whose annotators' weights add up to more than
/// `min_share` of all the weights.
pub fn weighted_token_vote(
    tokens: &[(usize, usize)],
    annotations: &[Vec<Span>],
    weights: &[f64],
    min_share: f64,
) -> Result<Vec<Span>> {
    if weights.len() != annotations.len() {
        return Err(QualityError::LengthMismatch {
            what: "token vote: annotators and weights",
            left: annotations.len(),
            right: weights.len(),
        });
    }
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(QualityError::Invalid(
            "token vote: a weight is negative or not finite".into(),
        ));
    }
    let total: f64 = weights.iter().sum();
    if annotations.is_empty() {
        return Err(QualityError::Empty("token vote: no annotators".into()));
    }
    if !(0.0..1.0).contains(&min_share) {
        return Err(QualityError::Invalid(format!(
            "token vote share {min_share} is not in [0, 1)"
        )));
    }
    for spans in annotations {
        check_spans(spans)?;
    }
    let mut result: Vec<Span> = Vec::new();
    let mut previous_token_labelled = false;
    for &(start, end) in tokens {
        let mut votes: Vec<(&str, f64)> = Vec::new();
        for (spans, weight) in annotations.iter().zip(weights) {
            // An annotator votes at most once per label on a token.
            let mut labels: Vec<&str> = spans
                .iter()
                .filter(|s| s.start < end && start < s.end)
                .map(|s| s.label.as_str())
                .collect();
            labels.sort_unstable();
            labels.dedup();
            for label in labels {
                match votes.iter_mut().find(|(l, _)| *l == label) {
                    Some((_, n)) => *n += weight,
                    None => votes.push((label, *weight)),
                }
            }
        }
        // The most voted label, the smallest name on a tie.
        votes.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let winner = votes.first().filter(|(_, n)| *n > min_share * total);
        match (winner, result.last_mut()) {
            (Some((label, _)), Some(last)) if previous_token_labelled && last.label == *label => {
                last.end = end;
            }
            (Some((label, _)), _) => result.push(Span {
                start,
                end,
                label: label.to_string(),
            }),
            (None, _) => {}
        }
        previous_token_labelled = winner.is_some();
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, end: usize, label: &str) -> Span {
        Span {
            start,
            end,
            label: label.into(),
        }
    }

    #[test]
    fn exact_and_overlap_scores() {
        let reference = [span(0, 5, "PER"), span(10, 15, "LOC")];
        let candidate = [span(0, 5, "PER"), span(11, 15, "LOC"), span(20, 22, "LOC")];
        let exact = span_scores(&reference, &candidate, SpanMatching::Exact).unwrap();
        assert_eq!(exact.matched, 1);
        assert!((exact.precision - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(exact.recall, 0.5);
        let overlap = span_scores(&reference, &candidate, SpanMatching::Overlap).unwrap();
        assert_eq!(overlap.matched, 2);
        assert!((overlap.f1 - 0.8).abs() < 1e-12);
        // A different label never matches.
        let wrong = span_scores(&reference, &[span(0, 5, "LOC")], SpanMatching::Overlap).unwrap();
        assert_eq!(wrong.matched, 0);
        assert!(span_scores(&[span(3, 3, "X")], &[], SpanMatching::Exact).is_err());
    }

    #[test]
    fn relations_follow_span_matches() {
        let spans = [span(0, 5, "PER"), span(10, 15, "ORG")];
        let reference = [Relation {
            from: 0,
            to: 1,
            label: "works_for".into(),
        }];
        // The candidate lists the spans in the other order.
        let candidate_spans = [span(10, 15, "ORG"), span(0, 5, "PER")];
        let good = [Relation {
            from: 1,
            to: 0,
            label: "works_for".into(),
        }];
        let scores = relation_scores(
            &spans,
            &reference,
            &candidate_spans,
            &good,
            SpanMatching::Exact,
        )
        .unwrap();
        assert_eq!(scores.f1, 1.0);
        let reversed = [Relation {
            from: 0,
            to: 1,
            label: "works_for".into(),
        }];
        let scores = relation_scores(
            &spans,
            &reference,
            &candidate_spans,
            &reversed,
            SpanMatching::Exact,
        )
        .unwrap();
        assert_eq!(scores.f1, 0.0);
        let past = [Relation {
            from: 0,
            to: 7,
            label: "x".into(),
        }];
        assert!(relation_scores(
            &spans,
            &reference,
            &candidate_spans,
            &past,
            SpanMatching::Exact
        )
        .is_err());
    }

    #[test]
    fn token_vote_joins_tokens() {
        let tokens = [(0, 4), (5, 9), (10, 14)];
        let annotations = vec![
            vec![span(0, 9, "PER")],
            vec![span(0, 4, "PER")],
            vec![span(5, 14, "PER")],
        ];
        // Token 0: 2 of 3, token 1: 2 of 3, token 2: 1 of 3.
        assert_eq!(
            token_vote(&tokens, &annotations, 0.5).unwrap(),
            [span(0, 9, "PER")]
        );
        assert!(token_vote(&tokens, &[], 0.5).is_err());
        // A reliable third annotator outweighs the other two on token 2
        // and loses token 0 (weights 1 + 0.5 of 3.5 is under half).
        let weighted = weighted_token_vote(&tokens, &annotations, &[1.0, 0.5, 2.0], 0.5).unwrap();
        assert_eq!(weighted, [span(5, 14, "PER")]);
        assert!(weighted_token_vote(&tokens, &annotations, &[1.0], 0.5).is_err());
        assert!(weighted_token_vote(&tokens, &annotations, &[1.0, -1.0, 1.0], 0.5).is_err());
    }
}
