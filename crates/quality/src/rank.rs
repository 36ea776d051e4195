//! Rank correlation between two annotators' numeric ratings (or rankings).

use crate::{QualityError, RatingsTable, Result};
use std::cmp::Ordering;

/// Both annotators' numeric ratings on the items they both rated.
pub fn paired_values(table: &RatingsTable, a: usize, b: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let values = table.values()?;
    Ok(table
        .paired_codes(a, b)
        .into_iter()
        .map(|(x, y)| (values[x as usize], values[y as usize]))
        .unzip())
}

fn check_pairs(metric: &'static str, x: &[f64], y: &[f64]) -> Result<()> {
    if x.len() != y.len() {
        return Err(QualityError::LengthMismatch {
            what: metric,
            left: x.len(),
            right: y.len(),
        });
    }
    if x.len() < 2 {
        return Err(QualityError::Empty(format!(
            "{metric} needs at least two paired values, found {}",
            x.len()
        )));
    }
    if let Some(bad) = x.iter().chain(y).find(|v| !v.is_finite()) {
        return Err(QualityError::NotFinite(format!("{metric} value {bad}")));
    }
    Ok(())
}

fn constant(metric: &'static str) -> QualityError {
    QualityError::Undefined {
        metric,
        reason: "one of the two rankings is constant".into(),
    }
}

/// Kendall's tau-b, as `scipy.stats.kendalltau` (default `variant="b"`):
/// with `n₀ = n(n−1)/2` pairs, `n₁`/`n₂` pairs tied in x/y, `n₃` tied in
/// both, `D` discordant pairs and `C − D = n₀ − n₁ − n₂ + n₃ − 2D`,
/// `τ_b = (C − D) / √((n₀ − n₁)(n₀ − n₂))`, clipped to [−1, 1]. Knight's O(n log n) algorithm:
/// sort by (x, y), then count discordant pairs as the inversions of y by
/// merge sort.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Result<f64> {
    const METRIC: &str = "Kendall's tau";
    check_pairs(METRIC, x, y)?;
    let mut pairs: Vec<(f64, f64)> = x.iter().copied().zip(y.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let tied_pairs = |run: u64| run * (run - 1) / 2;
    let (mut x_ties, mut joint_ties) = (0u64, 0u64);
    let (mut x_run, mut joint_run) = (1u64, 1u64);
    for w in pairs.windows(2) {
        if w[0].0 == w[1].0 {
            x_run += 1;
            if w[0].1 == w[1].1 {
                joint_run += 1;
            } else {
                joint_ties += tied_pairs(joint_run);
                joint_run = 1;
            }
        } else {
            x_ties += tied_pairs(x_run);
            joint_ties += tied_pairs(joint_run);
            x_run = 1;
            joint_run = 1;
        }
    }
    x_ties += tied_pairs(x_run);
    joint_ties += tied_pairs(joint_run);

    let mut ys: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let mut buffer = vec![0.0; ys.len()];
    let discordant = count_inversions(&mut ys, &mut buffer);
    // ys is now sorted: count its ties.
    let mut y_ties = 0u64;
    let mut y_run = 1u64;
    for w in ys.windows(2) {
        if w[0] == w[1] {
            y_run += 1;
        } else {
            y_ties += tied_pairs(y_run);
            y_run = 1;
        }
    }
    y_ties += tied_pairs(y_run);

    let n = ys.len() as u64;
    let total = n * (n - 1) / 2;
    if x_ties == total || y_ties == total {
        return Err(constant(METRIC));
    }
    let concordant_minus_discordant =
        total as f64 - x_ties as f64 - y_ties as f64 + joint_ties as f64 - 2.0 * discordant as f64;
    let tau = concordant_minus_discordant
        / ((total - x_ties) as f64).sqrt()
        / ((total - y_ties) as f64).sqrt();
    // Rounding can step past ±1; scipy clips too.
    Ok(tau.clamp(-1.0, 1.0))
}

/// Sorts `values` and returns the number of pairs `i < j` with
/// `values[i] > values[j]` (strictly).
fn count_inversions(values: &mut [f64], buffer: &mut [f64]) -> u64 {
    let n = values.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut inversions = {
        let (left, right) = values.split_at_mut(mid);
        let (left_buffer, right_buffer) = buffer.split_at_mut(mid);
        count_inversions(left, left_buffer) + count_inversions(right, right_buffer)
    };
    let (mut i, mut j, mut out) = (0, mid, 0);
    while i < mid && j < n {
        if values[j] < values[i] {
            // values[j] is smaller than every remaining left value.
            inversions += (mid - i) as u64;
            buffer[out] = values[j];
            j += 1;
        } else {
            buffer[out] = values[i];
            i += 1;
        }
        out += 1;
    }
    buffer[out..out + mid - i].copy_from_slice(&values[i..mid]);
    out += mid - i;
    buffer[out..out + n - j].copy_from_slice(&values[j..n]);
    values.copy_from_slice(&buffer[..n]);
    inversions
}

/// Ranks from 1, ties sharing their average rank (scipy's
/// `rankdata(method="average")`).
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].partial_cmp(&values[b]).unwrap_or(Ordering::Equal));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Ranks start+1 ..= end share their mean.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Spearman's rho, as `scipy.stats.spearmanr`: the Pearson correlation of
/// the average ranks (so ties are handled), `ρ = Σ (r − r̄)(s − s̄) /
/// √(Σ (r − r̄)² Σ (s − s̄)²)`.
pub fn spearman_rho(x: &[f64], y: &[f64]) -> Result<f64> {
    const METRIC: &str = "Spearman's rho";
    check_pairs(METRIC, x, y)?;
    let (rx, ry) = (average_ranks(x), average_ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return Err(constant(METRIC));
    }
    // Clipped to [-1, 1] as numpy's corrcoef does.
    Ok((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// τ_b by the O(n²) definition.
    fn kendall_naive(x: &[f64], y: &[f64]) -> f64 {
        let (mut c, mut d, mut tx, mut ty) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for i in 0..x.len() {
            for j in i + 1..x.len() {
                let s = (x[i] - x[j]).signum() * (y[i] - y[j]).signum();
                if x[i] == x[j] && y[i] == y[j] {
                } else if x[i] == x[j] {
                    tx += 1.0;
                } else if y[i] == y[j] {
                    ty += 1.0;
                } else if s > 0.0 {
                    c += 1.0;
                } else {
                    d += 1.0;
                }
            }
        }
        (c - d) / ((c + d + tx) * (c + d + ty)).sqrt()
    }

    #[test]
    fn kendall_matches_the_definition_with_ties() {
        let x = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0, 1.0];
        let y = [2.0, 1.0, 3.0, 3.0, 5.0, 4.0, 4.0, 1.0, 2.0];
        let fast = kendall_tau_b(&x, &y).unwrap();
        assert!((fast - kendall_naive(&x, &y)).abs() < 1e-12);
        assert_eq!(
            kendall_tau_b(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap(),
            -1.0
        );
    }

    #[test]
    fn spearman_by_hand() {
        assert!((spearman_rho(&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0]).unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(average_ranks(&[10.0, 20.0, 10.0]), [1.5, 3.0, 1.5]);
    }

    #[test]
    fn rank_edge_cases() {
        assert!(matches!(
            kendall_tau_b(&[1.0, 1.0], &[1.0, 2.0]),
            Err(QualityError::Undefined { .. })
        ));
        assert!(matches!(
            spearman_rho(&[1.0], &[1.0]),
            Err(QualityError::Empty(_))
        ));
        assert!(matches!(
            spearman_rho(&[1.0, 2.0], &[1.0]),
            Err(QualityError::LengthMismatch { .. })
        ));
        assert!(matches!(
            kendall_tau_b(&[1.0, f64::NAN], &[1.0, 2.0]),
            Err(QualityError::NotFinite(_))
        ));
    }
}
