//! Agreement on categorical (and, for Krippendorff's alpha, numeric) labels.
//!
//! Notation: item `i` has `m_i` ratings, `n_ik` of them label `k`; `q` is
//! the number of labels used in the table.

use crate::{QualityError, RatingsTable, Result};

/// Percent agreement: the mean, over items with at least two ratings, of the
/// share of agreeing ordered rating pairs,
/// `P = mean_i Σ_k n_ik (n_ik − 1) / (m_i (m_i − 1))`.
/// For two annotators this is the share of items they label alike; it is
/// Gwet's `pa` (irrCAC) and Fleiss' `P̄` (statsmodels).
pub fn percent_agreement(table: &RatingsTable) -> Result<f64> {
    table.require_pairable("percent agreement")?;
    let k = table.labels().len();
    let counts = table.label_counts();
    let (mut sum, mut items) = (0.0, 0usize);
    for item_counts in counts.chunks_exact(k.max(1)) {
        let m: u32 = item_counts.iter().sum();
        if m < 2 {
            continue;
        }
        sum += pair_agreement(item_counts) / (m as f64 * (m as f64 - 1.0));
        items += 1;
    }
    Ok(sum / items as f64)
}

/// `Σ_k n_k (n_k − 1)`: agreeing ordered pairs among one item's ratings.
fn pair_agreement(counts: &[u32]) -> f64 {
    counts
        .iter()
        .map(|&n| n as f64 * (n as f64 - 1.0))
        .sum::<f64>()
}

/// The disagreement weights of Cohen's kappa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CohenWeights {
    /// 0 on the diagonal, 1 elsewhere.
    #[default]
    None,
    /// `|i − j|` between label indices.
    Linear,
    /// `(i − j)²` between label indices.
    Quadratic,
}

/// Cohen's kappa between annotators `a` and `b` (indices into the table's
/// annotators) over the items both rated, as scikit-learn's
/// `cohen_kappa_score`: with the confusion matrix `C` over the labels the two
/// used (sorted; weights use their indices `0..q` in that list, not the
/// labels' values), `E = outer(colsum C, rowsum C) / N`, and weights `w`,
/// `κ = 1 − Σ w·C / Σ w·E`.
pub fn cohen_kappa(table: &RatingsTable, a: usize, b: usize, weights: CohenWeights) -> Result<f64> {
    let pairs = table.paired_codes(a, b);
    cohen_kappa_codes(&pairs, weights)
}

/// Cohen's kappa of label-code pairs (see [`cohen_kappa`]).
pub fn cohen_kappa_codes(pairs: &[(u32, u32)], weights: CohenWeights) -> Result<f64> {
    if pairs.is_empty() {
        return Err(QualityError::Empty(
            "Cohen's kappa: the two annotators rated no item in common".into(),
        ));
    }
    // Dense indices over the labels the pair used, in code order.
    let mut used: Vec<u32> = pairs.iter().flat_map(|&(x, y)| [x, y]).collect();
    used.sort_unstable();
    used.dedup();
    let q = used.len();
    let index = |code: u32| used.binary_search(&code).unwrap_or_default();
    let mut confusion = vec![0.0; q * q];
    for &(x, y) in pairs {
        confusion[index(x) * q + index(y)] += 1.0;
    }
    let mut row_sums = vec![0.0; q];
    let mut col_sums = vec![0.0; q];
    for i in 0..q {
        for j in 0..q {
            row_sums[i] += confusion[i * q + j];
            col_sums[j] += confusion[i * q + j];
        }
    }
    let total: f64 = col_sums.iter().sum();
    let weight = |i: usize, j: usize| -> f64 {
        let distance = i.abs_diff(j) as f64;
        match weights {
            CohenWeights::None => f64::from(i != j),
            CohenWeights::Linear => distance,
            CohenWeights::Quadratic => distance * distance,
        }
    };
    let (mut observed, mut expected) = (0.0, 0.0);
    for i in 0..q {
        for j in 0..q {
            observed += weight(i, j) * confusion[i * q + j];
            expected += weight(i, j) * (col_sums[i] * row_sums[j] / total);
        }
    }
    if expected == 0.0 {
        return Err(QualityError::Undefined {
            metric: "Cohen's kappa",
            reason: "expected disagreement is 0 (both annotators used a single label)".into(),
        });
    }
    Ok(1.0 - observed / expected)
}

/// Fleiss' kappa, as statsmodels' `fleiss_kappa(table, method="fleiss")`:
/// every rated item must have the same number of ratings `m ≥ 2`;
/// `p_k = Σ_i n_ik / (N m)`, `P_i = (Σ_k n_ik² − m) / (m (m − 1))`,
/// `P̄ = mean P_i`, `P_e = Σ_k p_k²`, `κ = (P̄ − P_e) / (1 − P_e)`.
/// Items without ratings are left out.
pub fn fleiss_kappa(table: &RatingsTable) -> Result<f64> {
    table.require_pairable("Fleiss' kappa")?;
    let k = table.labels().len();
    let counts = table.label_counts();
    let mut raters: Option<(usize, u32)> = None;
    let mut category_totals = vec![0.0; k];
    let (mut p_sum, mut n_items) = (0.0, 0usize);
    for (item, item_counts) in counts.chunks_exact(k).enumerate() {
        let m: u32 = item_counts.iter().sum();
        if m == 0 {
            continue;
        }
        match raters {
            None => raters = Some((item, m)),
            Some((first, expected)) if expected != m => {
                return Err(QualityError::UnequalRatings {
                    first_item: table.items()[first].clone(),
                    expected: expected as usize,
                    item: table.items()[item].clone(),
                    found: m as usize,
                })
            }
            Some(_) => {}
        }
        let m = m as f64;
        let squares: f64 = item_counts.iter().map(|&n| n as f64 * n as f64).sum();
        p_sum += (squares - m) / (m * (m - 1.0));
        for (total, &n) in category_totals.iter_mut().zip(item_counts) {
            *total += n as f64;
        }
        n_items += 1;
    }
    let m = raters.map(|(_, m)| m as f64).unwrap_or_default();
    let all = n_items as f64 * m;
    let p_mean = p_sum / n_items as f64;
    let p_expected: f64 = category_totals.iter().map(|t| (t / all) * (t / all)).sum();
    if p_expected >= 1.0 {
        return Err(single_category("Fleiss' kappa"));
    }
    Ok((p_mean - p_expected) / (1.0 - p_expected))
}

fn single_category(metric: &'static str) -> QualityError {
    QualityError::Undefined {
        metric,
        reason: "every rating is the same label, so chance agreement is 1".into(),
    }
}

/// Krippendorff's levels of measurement: they choose the distance `δ(c, k)`
/// between two values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `δ = [c ≠ k]`.
    Nominal,
    /// Rank based over the observed values `v_0 < v_1 < …` with pairable
    /// counts `n_g`: `δ(i, j) = (Σ_{g=i..j} n_g − (n_i + n_j)/2)²`.
    Ordinal,
    /// `δ = (c − k)²`.
    Interval,
    /// `δ = ((c − k)/(c + k))²`, 0 where `c + k = 0`.
    Ratio,
}

/// Krippendorff's alpha with missing data, as the `krippendorff` package
/// (0.9): the coincidence matrix `o_ck = Σ_u n_uc (n_uk − [c = k]) /
/// (m_u − 1)` over units with `m_u ≥ 2` values, `n_c = Σ_k o_ck`,
/// `n = Σ_c n_c`, expected coincidences `e_ck = n_c (n_k − [c = k]) /
/// (n − 1)`, and `α = 1 − Σ o·δ / Σ e·δ`. Levels other than nominal read
/// the labels as numbers; the value domain is the sorted labels seen.
/// The matrices are dense in the number of distinct values `q` (one `q × q`
/// matrix per distinct number of ratings on a unit).
pub fn krippendorff_alpha(table: &RatingsTable, level: Level) -> Result<f64> {
    const METRIC: &str = "Krippendorff's alpha";
    let values: Vec<f64> = match level {
        Level::Nominal => (0..table.labels().len()).map(|c| c as f64).collect(),
        _ => table.values()?.to_vec(),
    };
    table.require_pairable(METRIC)?;
    let q = values.len();
    if q < 2 {
        return Err(QualityError::Undefined {
            metric: METRIC,
            reason: "there has to be more than one value in the domain".into(),
        });
    }
    // Coincidences, unit by unit, from the unit's counts in a dense row.
    // Units of the same size m share the divisor m − 1, so their (integer)
    // numerators are added up exactly per size and divided once.
    let mut numerators: Vec<Option<Vec<u64>>> = Vec::new();
    let mut counts = vec![0u64; q];
    let mut seen: Vec<usize> = Vec::new();
    for item in 0..table.items().len() {
        let ratings = table.item_ratings(item);
        let m = ratings.len();
        if m < 2 {
            continue;
        }
        for rating in ratings {
            counts[rating.label as usize] += 1;
        }
        if numerators.len() <= m {
            numerators.resize(m + 1, None);
        }
        let sums = numerators[m].get_or_insert_with(|| vec![0; q * q]);
        // The matrix is symmetric: fill the upper triangle, mirrored below.
        // With few values every pair is visited (no unpredictable branch);
        // with many, only the values this unit has.
        if q <= DENSE_VALUES {
            for c in 0..q {
                sums[c * q + c] += counts[c] * counts[c].saturating_sub(1);
                for k in c + 1..q {
                    sums[c * q + k] += counts[c] * counts[k];
                }
            }
            counts.fill(0);
        } else {
            seen.extend(ratings.iter().map(|r| r.label as usize));
            seen.sort_unstable();
            seen.dedup();
            for (i, &c) in seen.iter().enumerate() {
                sums[c * q + c] += counts[c] * (counts[c] - 1);
                for &k in &seen[i + 1..] {
                    sums[c * q + k] += counts[c] * counts[k];
                }
            }
            for &c in &seen {
                counts[c] = 0;
            }
            seen.clear();
        }
    }
    let mut coincidences = vec![0.0; q * q];
    for (m, sums) in numerators.iter().enumerate() {
        if let Some(sums) = sums {
            for c in 0..q {
                for k in c..q {
                    let value = sums[c * q + k] as f64 / (m as f64 - 1.0);
                    coincidences[c * q + k] += value;
                    if k != c {
                        coincidences[k * q + c] += value;
                    }
                }
            }
        }
    }
    let totals: Vec<f64> = (0..q)
        .map(|k| (0..q).map(|c| coincidences[c * q + k]).sum())
        .collect();
    let n: f64 = totals.iter().sum();
    let distance = distance_matrix(&values, &totals, level);
    let (mut observed, mut expected) = (0.0, 0.0);
    for c in 0..q {
        for k in 0..q {
            let same = if c == k { totals[c] } else { 0.0 };
            observed += coincidences[c * q + k] * distance[c * q + k];
            expected += (totals[c] * totals[k] - same) / (n - 1.0) * distance[c * q + k];
        }
    }
    if expected == 0.0 {
        return Err(QualityError::Undefined {
            metric: METRIC,
            reason: "expected disagreement is 0 (a single value is pairable)".into(),
        });
    }
    Ok(1.0 - observed / expected)
}

/// Up to this many values, Krippendorff's alpha visits every pair of values
/// for every unit.
const DENSE_VALUES: usize = 16;

/// `δ(c, k)` for every pair of values (row major).
fn distance_matrix(values: &[f64], totals: &[f64], level: Level) -> Vec<f64> {
    let q = values.len();
    // Prefix sums of the pairable counts, for the ordinal metric.
    let mut prefix = vec![0.0; q + 1];
    for g in 0..q {
        prefix[g + 1] = prefix[g] + totals[g];
    }
    let mut distance = vec![0.0; q * q];
    for i in 0..q {
        for j in 0..q {
            let (v, w) = (values[i], values[j]);
            distance[i * q + j] = match level {
                Level::Nominal => f64::from(i != j),
                Level::Interval => (v - w) * (v - w),
                Level::Ratio if v + w == 0.0 => 0.0,
                Level::Ratio => ((v - w) / (v + w)).powi(2),
                Level::Ordinal => {
                    let (lo, hi) = (i.min(j), i.max(j));
                    let between = prefix[hi + 1] - prefix[lo];
                    (between - (totals[lo] + totals[hi]) / 2.0).powi(2)
                }
            };
        }
    }
    distance
}

/// Gwet's AC1 with missing data, as irrCAC's `CAC(ratings).gwet()`
/// (identity weights): over the `n` items with a rating,
/// `pa = mean_{i: m_i ≥ 2} Σ_k n_ik (n_ik − 1) / (m_i (m_i − 1))`,
/// `π_k = (1/n) Σ_i n_ik / m_i`, `pe = Σ_k π_k (1 − π_k) / (q − 1)`,
/// `AC1 = (pa − pe) / (1 − pe)`; `q` is the number of labels used.
pub fn gwet_ac1(table: &RatingsTable) -> Result<f64> {
    const METRIC: &str = "Gwet's AC1";
    table.require_pairable(METRIC)?;
    let q = table.labels().len();
    if q < 2 {
        return Err(single_category(METRIC));
    }
    let counts = table.label_counts();
    let mut pi = vec![0.0; q];
    let (mut pa_sum, mut n_pairable, mut n_rated) = (0.0, 0usize, 0usize);
    for item_counts in counts.chunks_exact(q) {
        let m = item_counts.iter().sum::<u32>() as f64;
        if m == 0.0 {
            continue;
        }
        n_rated += 1;
        for (p, &n) in pi.iter_mut().zip(item_counts) {
            *p += n as f64 / m;
        }
        if m >= 2.0 {
            pa_sum += pair_agreement(item_counts) / (m * (m - 1.0));
            n_pairable += 1;
        }
    }
    let pa = pa_sum / n_pairable as f64;
    let q_f = q as f64;
    let spread: f64 = pi
        .iter()
        .map(|p| p / n_rated as f64)
        .map(|p| p * (1.0 - p))
        .sum();
    let pe = q_f * spread / (q_f * (q_f - 1.0));
    Ok((pa - pe) / (1.0 - pe))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::table_of;

    /// Krippendorff's own example (reliability data of 2011, 4 coders, 12
    /// units with missing values), as the `krippendorff` package documents.
    fn krippendorff_example() -> RatingsTable {
        let data = [
            "1 2 3 3 2 1 4 1 2 . . .",
            "1 2 3 3 2 2 4 1 2 5 . 3",
            ". 3 3 3 2 3 4 2 2 5 1 .",
            "1 2 3 3 2 4 4 1 2 5 1 .",
        ];
        let mut rows = Vec::new();
        for (coder, line) in data.iter().enumerate() {
            for (unit, value) in line.split(' ').enumerate() {
                if value != "." {
                    rows.push((format!("u{unit}"), format!("c{coder}"), value.to_string()));
                }
            }
        }
        RatingsTable::from_rows(
            rows.iter()
                .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())),
        )
        .unwrap()
    }

    #[test]
    fn krippendorff_published_values() {
        let t = krippendorff_example();
        // Krippendorff (2011), "Computing Krippendorff's alpha-reliability".
        assert!((krippendorff_alpha(&t, Level::Nominal).unwrap() - 0.743).abs() < 5e-4);
        assert!((krippendorff_alpha(&t, Level::Ordinal).unwrap() - 0.815).abs() < 5e-4);
        assert!((krippendorff_alpha(&t, Level::Interval).unwrap() - 0.849).abs() < 5e-4);
        assert!((krippendorff_alpha(&t, Level::Ratio).unwrap() - 0.797).abs() < 5e-4);
    }

    /// α by its pairwise definition: `D_o = Σ_u Σ_{i≠j in u} δ / (m_u − 1)`,
    /// `D_e = Σ_{i≠j among pairable values} δ / (n − 1)`, `α = 1 − D_o/D_e`.
    fn alpha_by_pairs(units: &[Vec<f64>], delta: impl Fn(f64, f64) -> f64) -> f64 {
        let pairable: Vec<&Vec<f64>> = units.iter().filter(|u| u.len() > 1).collect();
        let all: Vec<f64> = pairable.iter().flat_map(|u| u.iter().copied()).collect();
        let ordered_pairs = |values: &[f64]| -> f64 {
            let mut sum = 0.0;
            for (i, &a) in values.iter().enumerate() {
                for (j, &b) in values.iter().enumerate() {
                    if i != j {
                        sum += delta(a, b);
                    }
                }
            }
            sum
        };
        let observed: f64 = pairable
            .iter()
            .map(|u| ordered_pairs(u) / (u.len() as f64 - 1.0))
            .sum();
        let expected = ordered_pairs(&all) / (all.len() as f64 - 1.0);
        1.0 - observed / expected
    }

    #[test]
    fn many_values_match_the_pairwise_definition() {
        // 40 distinct values (past the dense path), units of 1 to 5 ratings.
        let mut state = 7u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let mut rows = Vec::new();
        let mut units = Vec::new();
        for unit in 0..60 {
            let size = 1 + next(5);
            let base = next(30) as f64;
            let values: Vec<f64> = (0..size).map(|_| base + next(10) as f64).collect();
            for (coder, v) in values.iter().enumerate() {
                rows.push((format!("u{unit}"), format!("c{coder}"), v.to_string()));
            }
            units.push(values);
        }
        let t = RatingsTable::from_rows(
            rows.iter()
                .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())),
        )
        .unwrap();
        assert!(t.labels().len() > DENSE_VALUES);
        let interval = alpha_by_pairs(&units, |a, b| (a - b) * (a - b));
        let nominal = alpha_by_pairs(&units, |a, b| f64::from(a != b));
        assert!((krippendorff_alpha(&t, Level::Interval).unwrap() - interval).abs() < 1e-12);
        assert!((krippendorff_alpha(&t, Level::Nominal).unwrap() - nominal).abs() < 1e-12);
    }

    #[test]
    fn two_annotators_by_hand() {
        // a: x x y y ; b: x y y y → agree on 3 of 4.
        let t = table_of("1 a x, 1 b x, 2 a x, 2 b y, 3 a y, 3 b y, 4 a y, 4 b y");
        assert_eq!(percent_agreement(&t).unwrap(), 0.75);
        // po = 0.75, pe = (2·1 + 2·3)/16 = 0.5 → κ = 0.5.
        let kappa = cohen_kappa(&t, 0, 1, CohenWeights::None).unwrap();
        assert!((kappa - 0.5).abs() < 1e-12);
        // Two labels: linear and quadratic weights equal the unweighted.
        let linear = cohen_kappa(&t, 0, 1, CohenWeights::Linear).unwrap();
        assert!((linear - 0.5).abs() < 1e-12);
        // Fleiss: P̄ = 0.75, p = (3/8, 5/8), Pe = 34/64 → κ = (0.75 − 0.53125)/0.46875.
        let fleiss = fleiss_kappa(&t).unwrap();
        assert!((fleiss - (0.75 - 0.53125) / 0.46875).abs() < 1e-12);
        // AC1: π = (3/8, 5/8), pe = 2·15/64 = 0.46875 → (0.75 − 0.46875)/0.53125.
        let ac1 = gwet_ac1(&t).unwrap();
        assert!((ac1 - (0.75 - 0.46875) / 0.53125).abs() < 1e-12);
    }

    #[test]
    fn quadratic_weights_use_label_indices() {
        // Labels 1, 2, 3; a = 1 2 3, b = 1 3 3.
        let t = table_of("i a 1, i b 1, j a 2, j b 3, k a 3, k b 3");
        // C = [[1,0,0],[0,0,1],[0,0,1]]: Σw·C = (1−2)² = 1. Column sums
        // (1,0,2), row sums (1,1,1), N = 3: Σw·E = (1 + 4 + 8 + 2)/3 = 5.
        let kappa = cohen_kappa(&t, 0, 1, CohenWeights::Quadratic).unwrap();
        assert!((kappa - 0.8).abs() < 1e-12);
    }

    #[test]
    fn edge_cases_are_errors() {
        let one_label = table_of("i a x, i b x, j a x, j b x");
        assert!(matches!(
            fleiss_kappa(&one_label),
            Err(QualityError::Undefined { .. })
        ));
        assert!(matches!(
            gwet_ac1(&one_label),
            Err(QualityError::Undefined { .. })
        ));
        assert!(matches!(
            cohen_kappa(&one_label, 0, 1, CohenWeights::None),
            Err(QualityError::Undefined { .. })
        ));
        assert!(krippendorff_alpha(&one_label, Level::Nominal).is_err());
        assert_eq!(percent_agreement(&one_label).unwrap(), 1.0);

        let one_annotator = table_of("i a x, j a y");
        assert!(matches!(
            percent_agreement(&one_annotator),
            Err(QualityError::TooFewAnnotators { .. })
        ));
        let empty = RatingsTable::from_rows([]).unwrap();
        assert!(matches!(gwet_ac1(&empty), Err(QualityError::Empty(_))));

        let unequal = table_of("i a x, i b y, j a x, j b x, j c y");
        assert!(matches!(
            fleiss_kappa(&unequal),
            Err(QualityError::UnequalRatings { .. })
        ));
        let words = table_of("i a x, i b y");
        assert!(matches!(
            krippendorff_alpha(&words, Level::Interval),
            Err(QualityError::NotANumber(_))
        ));
    }
}
