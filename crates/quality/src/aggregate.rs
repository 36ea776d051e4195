//! Aggregation: one consensus label per item from several annotators'
//! labels (majority vote, weighted vote, Dawid–Skene).

use crate::{QualityError, RatingsTable, Result};

/// What a vote does when several labels have the top score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TiePolicy {
    /// The tied label with the lowest code (the first in sorted label
    /// order), as crowd-kit's `MajorityVote` (pandas' `idxmax` over the
    /// sorted label columns).
    #[default]
    LowestLabel,
    /// No label for the item.
    Unresolved,
    /// One of the tied labels, drawn with a generator seeded by `seed` (the
    /// same seed and table give the same labels).
    Random { seed: u64 },
}

/// The outcome of a vote.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    /// Per item, the consensus label code (`None`: no ratings, or an
    /// unresolved tie).
    pub labels: Vec<Option<u32>>,
    /// Per item, each label's share of the item's (weighted) votes (items ×
    /// labels, row major; zeros for an item without ratings).
    pub probabilities: Vec<f64>,
    /// Per annotator, the share of their labels equal to the consensus, on
    /// items that have one (`None` for an annotator with no such label);
    /// crowd-kit's `skills_`.
    pub accuracy: Vec<Option<f64>>,
}

/// Majority vote: each item's most frequent label.
pub fn majority_vote(table: &RatingsTable, ties: TiePolicy) -> Result<Vote> {
    weighted_vote(table, &vec![1.0; table.annotators().len()], ties)
}

/// Weighted vote: each item's label with the largest sum of its annotators'
/// weights (reliabilities), as crowd-kit's `MajorityVote().fit(data,
/// skills)`. Weights must be finite and not negative.
pub fn weighted_vote(table: &RatingsTable, weights: &[f64], ties: TiePolicy) -> Result<Vote> {
    if weights.len() != table.annotators().len() {
        return Err(QualityError::LengthMismatch {
            what: "weights and annotators",
            left: weights.len(),
            right: table.annotators().len(),
        });
    }
    if let Some(bad) = weights.iter().find(|w| !w.is_finite() || **w < 0.0) {
        return Err(QualityError::Invalid(format!(
            "annotator weight {bad} is not a finite, non-negative number"
        )));
    }
    if table.ratings().is_empty() {
        return Err(QualityError::Empty("vote: no ratings".into()));
    }
    let k = table.labels().len();
    let mut probabilities = vec![0.0; table.items().len() * k];
    let mut labels = Vec::with_capacity(table.items().len());
    let mut random = SplitMix64(match ties {
        TiePolicy::Random { seed } => seed,
        _ => 0,
    });
    for item in 0..table.items().len() {
        let scores = &mut probabilities[item * k..(item + 1) * k];
        for rating in table.item_ratings(item) {
            scores[rating.label as usize] += weights[rating.annotator as usize];
        }
        let total: f64 = scores.iter().sum();
        if total <= 0.0 {
            labels.push(None);
            continue;
        }
        scores.iter_mut().for_each(|s| *s /= total);
        labels.push(pick_top(scores, ties, &mut random));
    }
    let accuracy = accuracy_against(table, &labels);
    Ok(Vote {
        labels,
        probabilities,
        accuracy,
    })
}

/// The label with the top score, ties broken by `ties`.
fn pick_top(scores: &[f64], ties: TiePolicy, random: &mut SplitMix64) -> Option<u32> {
    let best = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let tied: Vec<u32> = (0..scores.len() as u32)
        .filter(|&l| scores[l as usize] == best)
        .collect();
    match (tied.len(), ties) {
        (1, _) | (_, TiePolicy::LowestLabel) => tied.first().copied(),
        (_, TiePolicy::Unresolved) => None,
        (n, TiePolicy::Random { .. }) => Some(tied[(random.next_u64() % n as u64) as usize]),
    }
}

/// Per annotator, the share of their ratings equal to `labels` on the items
/// that have a label.
pub fn accuracy_against(table: &RatingsTable, labels: &[Option<u32>]) -> Vec<Option<f64>> {
    let mut hits = vec![0u64; table.annotators().len()];
    let mut seen = vec![0u64; table.annotators().len()];
    for rating in table.ratings() {
        if let Some(label) = labels[rating.item as usize] {
            seen[rating.annotator as usize] += 1;
            hits[rating.annotator as usize] += u64::from(rating.label == label);
        }
    }
    hits.iter()
        .zip(&seen)
        .map(|(&h, &s)| (s > 0).then(|| h as f64 / s as f64))
        .collect()
}

/// Weighted majority vote with the weights learnt from a first majority vote
/// (each annotator's accuracy against it), crowd-kit's `Wawa`.
pub fn wawa(table: &RatingsTable, ties: TiePolicy) -> Result<Vote> {
    let first = majority_vote(table, TiePolicy::LowestLabel)?;
    let weights: Vec<f64> = first.accuracy.iter().map(|a| a.unwrap_or(0.0)).collect();
    weighted_vote(table, &weights, ties)
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small seeded generator for
/// random tie-breaking (and the benchmark's data), so the crate needs no
/// `rand`.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Options of [`dawid_skene`]; the defaults are crowd-kit's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DawidSkeneOptions {
    /// The most EM iterations.
    pub max_iterations: usize,
    /// Stop when the evidence lower bound per label grows by less than this.
    pub tolerance: f64,
}

impl Default for DawidSkeneOptions {
    fn default() -> Self {
        Self {
            max_iterations: 100,
            tolerance: 1e-5,
        }
    }
}

/// The outcome of [`dawid_skene`].
#[derive(Debug, Clone, PartialEq)]
pub struct DawidSkene {
    /// Per item, the most probable true label (lowest code on a tie);
    /// `None` for an item without ratings.
    pub labels: Vec<Option<u32>>,
    /// Per item, the posterior of each true label (items × labels, row
    /// major; zeros for an item without ratings).
    pub posteriors: Vec<f64>,
    /// The class priors.
    pub priors: Vec<f64>,
    /// Per annotator, the confusion matrix `[true][given]`:
    /// P(annotator gives `given` | true label), rows summing to 1 over the
    /// labels the annotator used (0 for labels they never gave).
    pub confusion: Vec<Vec<Vec<f64>>>,
    /// EM iterations run.
    pub iterations: usize,
    /// The evidence lower bound per label after each iteration.
    pub loss_history: Vec<f64>,
}

/// The floor crowd-kit clips probabilities and error rates to.
const EPS: f64 = 1e-10;

/// Dawid–Skene (1979) EM, exactly as crowd-kit 1.4's `DawidSkene`:
///
/// * start: posteriors `T_i` = majority-vote shares; priors `π = mean_i T_i`;
///   M-step.
/// * M-step: `e_w[l][t] = max(Σ_{i: w gave l} T_it, ε)` for the labels `l`
///   the annotator gave, normalised over `l` for each true `t` (ε = 1e-10).
/// * E-step: `log₂ T_it = Σ_{(w,l) on i} log₂ e_w[l][t] + log₂ max(π_t, ε)`,
///   shifted by the row maximum, exponentiated and normalised.
/// * each iteration: E-step, `π = mean_i T_i`, M-step, then the evidence
///   lower bound per label `L = (Σ_{(i,w,l)} Σ_t T_it (ln e_w[l][t] + ln
///   max(π_t, ε)) − Σ_i Σ_t T'_it ln T'_it) / N` with `T' = max(T, ε)`;
///   stop when `L − L_previous < tolerance`.
/// * result: posteriors and priors clipped to ε (as crowd-kit's are), the
///   labels their argmax (lowest label code on a tie).
pub fn dawid_skene(table: &RatingsTable, options: DawidSkeneOptions) -> Result<DawidSkene> {
    if table.ratings().is_empty() {
        return Err(QualityError::Empty("Dawid–Skene: no ratings".into()));
    }
    if !(options.tolerance.is_finite()) {
        return Err(QualityError::NotFinite("Dawid–Skene tolerance".into()));
    }
    let model = Model::new(table);
    let mut posteriors = majority_vote(table, TiePolicy::LowestLabel)?.probabilities;
    let mut priors = model.priors(&posteriors);
    let mut errors = model.m_step(&posteriors);
    let mut loss = f64::NEG_INFINITY;
    let mut loss_history = Vec::new();
    for _ in 0..options.max_iterations {
        posteriors = model.e_step(&priors, &errors);
        priors = model.priors(&posteriors);
        errors = model.m_step(&posteriors);
        clip(&mut priors);
        // crowd-kit clips the posteriors in place while computing the bound.
        clip(&mut posteriors);
        let new_loss = model.lower_bound(&posteriors, &priors, &errors);
        loss_history.push(new_loss);
        if new_loss - loss < options.tolerance {
            break;
        }
        loss = new_loss;
    }
    clip(&mut priors);
    let k = model.k;
    let labels = (0..table.items().len())
        .map(|item| {
            model.rated[item].then(|| {
                let row = &posteriors[item * k..(item + 1) * k];
                pick_top(row, TiePolicy::LowestLabel, &mut SplitMix64(0)).unwrap_or(0)
            })
        })
        .collect();
    for item in (0..table.items().len()).filter(|&i| !model.rated[i]) {
        posteriors[item * k..(item + 1) * k].fill(0.0);
    }
    let confusion = (0..table.annotators().len())
        .map(|w| {
            (0..k)
                .map(|t| (0..k).map(|l| errors[model.error_index(w, l, t)]).collect())
                .collect()
        })
        .collect();
    Ok(DawidSkene {
        labels,
        posteriors,
        priors,
        confusion,
        iterations: loss_history.len(),
        loss_history,
    })
}

fn clip(values: &mut [f64]) {
    values.iter_mut().for_each(|v| *v = v.max(EPS));
}

/// The data of one Dawid–Skene run.
struct Model<'a> {
    table: &'a RatingsTable,
    k: usize,
    /// Items with at least one rating (the only ones crowd-kit sees).
    rated: Vec<bool>,
    /// Annotator × given label: whether the annotator ever gave it.
    gave: Vec<bool>,
}

impl<'a> Model<'a> {
    fn new(table: &'a RatingsTable) -> Self {
        let k = table.labels().len();
        let rated = (0..table.items().len())
            .map(|i| !table.item_ratings(i).is_empty())
            .collect();
        let mut gave = vec![false; table.annotators().len() * k];
        for rating in table.ratings() {
            gave[rating.annotator as usize * k + rating.label as usize] = true;
        }
        Self {
            table,
            k,
            rated,
            gave,
        }
    }

    /// Index of `e_w[given][truth]` in the flat error array.
    fn error_index(&self, annotator: usize, given: usize, truth: usize) -> usize {
        (annotator * self.k + given) * self.k + truth
    }

    /// The mean posterior over rated items.
    fn priors(&self, posteriors: &[f64]) -> Vec<f64> {
        let k = self.k;
        let mut priors = vec![0.0; k];
        let mut n = 0usize;
        for item in (0..self.rated.len()).filter(|&i| self.rated[i]) {
            for (p, &t) in priors.iter_mut().zip(&posteriors[item * k..(item + 1) * k]) {
                *p += t;
            }
            n += 1;
        }
        priors.iter_mut().for_each(|p| *p /= n as f64);
        priors
    }

    fn m_step(&self, posteriors: &[f64]) -> Vec<f64> {
        let k = self.k;
        let n_annotators = self.table.annotators().len();
        let mut errors = vec![0.0; n_annotators * k * k];
        for rating in self.table.ratings() {
            let at = self.error_index(rating.annotator as usize, rating.label as usize, 0);
            let item = rating.item as usize;
            for (e, &t) in errors[at..at + k]
                .iter_mut()
                .zip(&posteriors[item * k..(item + 1) * k])
            {
                *e += t;
            }
        }
        for w in 0..n_annotators {
            let mut column_sums = vec![0.0; k];
            for l in (0..k).filter(|&l| self.gave[w * k + l]) {
                for (t, sum) in column_sums.iter_mut().enumerate() {
                    let e = &mut errors[self.error_index(w, l, t)];
                    *e = e.max(EPS);
                    *sum += *e;
                }
            }
            for l in (0..k).filter(|&l| self.gave[w * k + l]) {
                for (t, sum) in column_sums.iter().enumerate() {
                    errors[self.error_index(w, l, t)] /= sum;
                }
            }
        }
        errors
    }

    fn e_step(&self, priors: &[f64], errors: &[f64]) -> Vec<f64> {
        let k = self.k;
        let log_errors: Vec<f64> = errors.iter().map(|e| e.log2()).collect();
        let log_priors: Vec<f64> = priors.iter().map(|p| p.max(EPS).log2()).collect();
        let mut posteriors = vec![0.0; self.rated.len() * k];
        let mut row = vec![0.0; k];
        for item in (0..self.rated.len()).filter(|&i| self.rated[i]) {
            row.fill(0.0);
            for rating in self.table.item_ratings(item) {
                let at = self.error_index(rating.annotator as usize, rating.label as usize, 0);
                for (r, &e) in row.iter_mut().zip(&log_errors[at..at + k]) {
                    *r += e;
                }
            }
            let out = &mut posteriors[item * k..(item + 1) * k];
            for ((o, r), p) in out.iter_mut().zip(&row).zip(&log_priors) {
                *o = r + p;
            }
            let max = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            out.iter_mut().for_each(|o| *o = (*o - max).exp2());
            let sum: f64 = out.iter().sum();
            out.iter_mut().for_each(|o| *o /= sum);
        }
        posteriors
    }

    /// The evidence lower bound per rating (posteriors and priors already
    /// clipped to ε).
    fn lower_bound(&self, posteriors: &[f64], priors: &[f64], errors: &[f64]) -> f64 {
        let k = self.k;
        let log_priors: Vec<f64> = priors.iter().map(|p| p.ln()).collect();
        // ln e + ln π for every (annotator, given, true): a small table, so
        // the loop over ratings takes no logarithm.
        let log_terms: Vec<f64> = errors
            .iter()
            .enumerate()
            .map(|(i, e)| e.ln() + log_priors[i % k])
            .collect();
        let mut joint = 0.0;
        for rating in self.table.ratings() {
            let at = self.error_index(rating.annotator as usize, rating.label as usize, 0);
            let item = rating.item as usize;
            for t in 0..k {
                joint += posteriors[item * k + t] * log_terms[at + t];
            }
        }
        let mut entropy = 0.0;
        for item in (0..self.rated.len()).filter(|&i| self.rated[i]) {
            for &p in &posteriors[item * k..(item + 1) * k] {
                entropy -= p.ln() * p;
            }
        }
        (joint + entropy) / self.table.ratings().len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::table_of;

    #[test]
    fn majority_ties_follow_the_policy() {
        let t = table_of("1 a y, 1 b x, 2 a y, 2 b y, 2 c x");
        let lowest = majority_vote(&t, TiePolicy::LowestLabel).unwrap();
        assert_eq!(lowest.labels, [Some(0), Some(1)]); // x < y
        assert_eq!(&lowest.probabilities[2..], [1.0 / 3.0, 2.0 / 3.0]);
        // a: a miss on item 1 and a hit on item 2; b: two hits; c: a miss.
        assert_eq!(lowest.accuracy, [Some(0.5), Some(1.0), Some(0.0)]);
        let none = majority_vote(&t, TiePolicy::Unresolved).unwrap();
        assert_eq!(none.labels, [None, Some(1)]);
        let random = majority_vote(&t, TiePolicy::Random { seed: 7 }).unwrap();
        assert_eq!(
            random,
            majority_vote(&t, TiePolicy::Random { seed: 7 }).unwrap()
        );
        assert_eq!(random.labels[1], Some(1));
    }

    #[test]
    fn weights_decide() {
        let t = table_of("1 a x, 1 b y, 1 c y");
        let vote = weighted_vote(&t, &[3.0, 1.0, 1.0], TiePolicy::LowestLabel).unwrap();
        assert_eq!(vote.labels, [Some(0)]);
        assert!(weighted_vote(&t, &[1.0], TiePolicy::LowestLabel).is_err());
        assert!(weighted_vote(&t, &[f64::NAN, 1.0, 1.0], TiePolicy::LowestLabel).is_err());
    }

    #[test]
    fn dawid_skene_trusts_the_consistent_annotators() {
        // a and b agree everywhere; c is always the other label.
        let mut rows = Vec::new();
        for (i, truth) in ["x", "y", "x", "x", "y", "y", "x", "y"].iter().enumerate() {
            let other = if *truth == "x" { "y" } else { "x" };
            rows.push((i.to_string(), "a", *truth));
            rows.push((i.to_string(), "b", *truth));
            rows.push((i.to_string(), "c", other));
        }
        let t = RatingsTable::from_rows(rows.iter().map(|(i, a, l)| (i.as_str(), *a, *l))).unwrap();
        let ds = dawid_skene(&t, DawidSkeneOptions::default()).unwrap();
        let x = 0;
        assert_eq!(ds.labels[0], Some(x));
        assert_eq!(ds.labels[1], Some(1));
        assert!(ds.iterations >= 1);
        for row in ds.posteriors.chunks(2) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        // c's confusion: true x → gives y.
        assert!(ds.confusion[2][0][1] > 0.99);
        assert!((ds.priors.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(dawid_skene(
            &RatingsTable::from_rows([]).unwrap(),
            DawidSkeneOptions::default()
        )
        .is_err());
    }
}
