//! The search objective's distribution distance (SPEC §13).
//!
//! `wasserstein_1` is the exact 1-D Wasserstein distance of two empirical
//! distributions, ∫|F_A(x) − F_B(x)| dx, computed from the sorted samples: between
//! consecutive distinct values of the pooled sample both CDFs are constant, so the
//! integral is a finite sum. Ties and unequal sample sizes need no special case.
//! `binned_distances` applies it per wavelength bin and scales by the IQR of A
//! (numpy's default linear-interpolation quantiles), giving the d_w of SPEC §13.
//! Values are dimensionless metric values; bins are wavelength-bin indices.

use crate::error::{CoreError, CoreResult};

fn sorted_finite(values: &[f64], what: &str) -> CoreResult<Vec<f64>> {
    if values.is_empty() {
        return Err(CoreError::Data(format!("{what}: empty sample")));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(CoreError::Data(format!("{what}: non-finite value")));
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    Ok(sorted)
}

/// ∫|F_A − F_B| of two already sorted, non-empty, finite samples.
fn sorted_distance(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut total = 0.0;
    // x: the current pooled value; both CDFs are constant on [x, next).
    let mut x = a[0].min(b[0]);
    while i < a.len() || j < b.len() {
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        let next = match (a.get(i), b.get(j)) {
            (Some(&u), Some(&v)) => u.min(v),
            (Some(&u), None) => u,
            (None, Some(&v)) => v,
            (None, None) => break,
        };
        total += (i as f64 / na - j as f64 / nb).abs() * (next - x);
        x = next;
    }
    total
}

/// Exact 1-D Wasserstein distance W₁ of the empirical distributions of `a` and `b`.
pub fn wasserstein_1(a: &[f64], b: &[f64]) -> CoreResult<f64> {
    let a = sorted_finite(a, "sample a")?;
    let b = sorted_finite(b, "sample b")?;
    Ok(sorted_distance(&a, &b))
}

/// Linear-interpolation quantile of a sorted non-empty sample (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = (low + 1).min(sorted.len() - 1);
    let fraction = position - low as f64;
    sorted[low] + (sorted[high] - sorted[low]) * fraction
}

/// Per-bin distances of SPEC §13.
#[derive(Debug, Clone, PartialEq)]
pub struct BinnedDistances {
    /// d_w = W₁(A_w, B_w) / s_w for qualifying bins, NaN elsewhere.
    pub distance: Vec<f64>,
    /// Number of finite A values per bin.
    pub count_a: Vec<u64>,
    /// Number of finite B values per bin.
    pub count_b: Vec<u64>,
}

fn group(values: &[f64], bins: &[u32], n_bins: usize, what: &str) -> CoreResult<Vec<Vec<f64>>> {
    if values.len() != bins.len() {
        return Err(CoreError::Data(format!("{what}: values and bins differ in length")));
    }
    let mut groups = vec![Vec::new(); n_bins];
    for (&value, &bin) in values.iter().zip(bins) {
        let slot = groups
            .get_mut(bin as usize)
            .ok_or_else(|| CoreError::Data(format!("{what}: bin {bin} outside [0, {n_bins})")))?;
        if value.is_finite() {
            slot.push(value);
        }
    }
    for slot in &mut groups {
        slot.sort_unstable_by(f64::total_cmp);
    }
    Ok(groups)
}

/// d_w for every wavelength bin with at least `min_count` finite values in A and in B;
/// s_w = IQR(A_w), replaced by 1 when it is 0. Non-finite values are ignored.
pub fn binned_distances(
    a_values: &[f64],
    a_bins: &[u32],
    b_values: &[f64],
    b_bins: &[u32],
    n_bins: usize,
    min_count: usize,
) -> CoreResult<BinnedDistances> {
    if min_count == 0 {
        return Err(CoreError::Parameter("min_count must be ≥ 1".into()));
    }
    let a = group(a_values, a_bins, n_bins, "a")?;
    let b = group(b_values, b_bins, n_bins, "b")?;
    let mut distance = vec![f64::NAN; n_bins];
    for (w, (a_w, b_w)) in a.iter().zip(&b).enumerate() {
        if a_w.len() >= min_count && b_w.len() >= min_count {
            let iqr = quantile(a_w, 0.75) - quantile(a_w, 0.25);
            let scale = if iqr > 0.0 { iqr } else { 1.0 };
            distance[w] = sorted_distance(a_w, b_w) / scale;
        }
    }
    Ok(BinnedDistances {
        distance,
        count_a: a.iter().map(|g| g.len() as u64).collect(),
        count_b: b.iter().map(|g| g.len() as u64).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    /// ∫|F_A − F_B| on a fine grid of every pooled value, CDFs by counting.
    fn brute_force(a: &[f64], b: &[f64]) -> f64 {
        let mut points: Vec<f64> = a.iter().chain(b).copied().collect();
        points.sort_by(f64::total_cmp);
        points.dedup();
        let cdf = |s: &[f64], x: f64| s.iter().filter(|&&v| v <= x).count() as f64 / s.len() as f64;
        points.windows(2).map(|w| (cdf(a, w[0]) - cdf(b, w[0])).abs() * (w[1] - w[0])).sum()
    }

    #[test]
    fn matches_brute_force_with_ties_and_unequal_sizes() {
        let mut rng = Pcg64Mcg::seed_from_u64(5);
        for case in 0..200 {
            let na = 1 + (case % 17);
            let nb = 1 + (case * 7 % 23);
            // integer-valued samples make ties common
            let a: Vec<f64> = (0..na).map(|_| rng.random_range(0..6) as f64 * 0.5).collect();
            let b: Vec<f64> = (0..nb).map(|_| rng.random::<f64>() * 3.0 - 0.2).collect();
            let got = wasserstein_1(&a, &b).unwrap();
            let want = brute_force(&a, &b);
            assert!((got - want).abs() <= 1e-12 * (1.0 + want), "case {case}: {got} vs {want}");
        }
    }

    #[test]
    fn identical_samples_have_zero_distance_and_shift_moves_it() {
        let a = [3.0, 1.0, 2.0, 2.0];
        assert_eq!(wasserstein_1(&a, &a).unwrap(), 0.0);
        let b: Vec<f64> = a.iter().map(|v| v + 0.25).collect();
        assert!((wasserstein_1(&a, &b).unwrap() - 0.25).abs() < 1e-15);
        assert_eq!(wasserstein_1(&[1.0], &[4.0]).unwrap(), 3.0);
    }

    #[test]
    fn bad_samples_are_errors() {
        assert!(wasserstein_1(&[], &[1.0]).is_err());
        assert!(wasserstein_1(&[f64::NAN], &[1.0]).is_err());
    }

    #[test]
    fn binned_distances_scale_by_iqr_and_skip_small_bins() {
        let a_values = [0.0, 1.0, 2.0, 3.0, 4.0, 7.0];
        let a_bins = [0, 0, 0, 0, 0, 1];
        let b_values = [1.0, 2.0, 3.0, 4.0, 5.0, 7.0, f64::NAN];
        let b_bins = [0, 0, 0, 0, 0, 1, 1];
        let out = binned_distances(&a_values, &a_bins, &b_values, &b_bins, 3, 2).unwrap();
        // IQR of 0..4 = 3 − 1 = 2; W₁ = 1
        assert!((out.distance[0] - 0.5).abs() < 1e-15);
        assert!(out.distance[1].is_nan() && out.distance[2].is_nan());
        assert_eq!(out.count_a, vec![5, 1, 0]);
        assert_eq!(out.count_b, vec![5, 1, 0]);
        assert!(binned_distances(&a_values, &a_bins, &b_values, &[0, 0, 0, 0, 0, 9, 1], 3, 2).is_err());
    }
}
