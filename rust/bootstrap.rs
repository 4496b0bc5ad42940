//! Percentile bootstrap of the difference of means and of medians (SPEC §11.3).
//!
//! Resample r of metric i draws from `stream(analysis_seed, BOOTSTRAP, [i, r])`:
//! first m indices into A, then n indices into B, each ⌊u·len⌋ (clamped to len − 1),
//! uniform with replacement. It yields mean(A*) − mean(B*) and median(A*) − median(B*)
//! (the median of an even-sized sample is the average of its two middle values).
//! Resamples run in parallel, each writing its own slot, so the output is identical
//! for any thread count. Percentile intervals are taken from these arrays in Python.

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};
use crate::rng::{self, domain};

/// The bootstrap distributions of Δ_mean and Δ_med, in resample order.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapDifferences {
    pub mean_diffs: Vec<f64>,
    pub median_diffs: Vec<f64>,
}

#[inline]
fn index(u: f64, len: usize) -> usize {
    ((u * len as f64) as usize).min(len - 1)
}

/// Median of `values`, reordering it in place (average of the two middle values for even sizes).
fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    let mid = n / 2;
    let (lower, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        // the largest of the lower half is the other middle value
        let lower_max = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lower_max + upper)
    }
}

/// Resample `source` with `rng` into `scratch`; returns the resample's mean.
fn resample(rng: &mut rand_pcg::Pcg64Mcg, source: &[f64], scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    let mut sum = 0.0;
    for _ in 0..source.len() {
        let v = source[index(rng::uniform(rng), source.len())];
        sum += v;
        scratch.push(v);
    }
    sum / source.len() as f64
}

/// Bootstrap differences A − B of means and medians (SPEC §11.3).
///
/// Errors when either sample is empty, contains a non-finite value, or `resamples` is 0.
pub fn bootstrap_differences(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    analysis_seed: u64,
    metric_index: u64,
) -> CoreResult<BootstrapDifferences> {
    if a.is_empty() || b.is_empty() {
        return Err(CoreError::Data(
            "bootstrap needs at least one value in A and in B".into(),
        ));
    }
    if a.iter().chain(b.iter()).any(|v| !v.is_finite()) {
        return Err(CoreError::Data("bootstrap values must be finite".into()));
    }
    if resamples == 0 {
        return Err(CoreError::Parameter(
            "bootstrap resamples must be ≥ 1".into(),
        ));
    }
    let pairs: Vec<(f64, f64)> = (0..resamples)
        .into_par_iter()
        .map_init(
            || (Vec::with_capacity(a.len()), Vec::with_capacity(b.len())),
            |(sa, sb), r| {
                let mut rng =
                    rng::stream(analysis_seed, domain::BOOTSTRAP, &[metric_index, r as u64]);
                let mean_a = resample(&mut rng, a, sa);
                let mean_b = resample(&mut rng, b, sb);
                (mean_a - mean_b, median_in_place(sa) - median_in_place(sb))
            },
        )
        .collect();
    let (mean_diffs, median_diffs) = pairs.into_iter().unzip();
    Ok(BootstrapDifferences {
        mean_diffs,
        median_diffs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_handles_odd_and_even_sizes() {
        assert_eq!(median_in_place(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_in_place(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median_in_place(&mut [5.0]), 5.0);
        assert_eq!(median_in_place(&mut [1.0, 1.0, 7.0, 7.0]), 4.0);
    }

    #[test]
    fn constant_samples_give_exact_differences() {
        let out = bootstrap_differences(&[2.0; 5], &[0.5; 4], 50, 1, 0).unwrap();
        assert!(out.mean_diffs.iter().all(|&d| d == 1.5));
        assert!(out.median_diffs.iter().all(|&d| d == 1.5));
    }

    #[test]
    fn first_resample_matches_a_serial_recomputation() {
        let a: Vec<f64> = (0..11).map(|i| (i * i) as f64).collect();
        let b: Vec<f64> = (0..6).map(|i| i as f64 * 0.5).collect();
        let out = bootstrap_differences(&a, &b, 3, 42, 5).unwrap();
        let mut rng = rng::stream(42, domain::BOOTSTRAP, &[5, 0]);
        let ra: Vec<f64> = (0..a.len())
            .map(|_| a[index(rng::uniform(&mut rng), a.len())])
            .collect();
        let rb: Vec<f64> = (0..b.len())
            .map(|_| b[index(rng::uniform(&mut rng), b.len())])
            .collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let median = |v: &[f64]| {
            let mut s = v.to_vec();
            s.sort_by(f64::total_cmp);
            let n = s.len();
            if n % 2 == 1 {
                s[n / 2]
            } else {
                0.5 * (s[n / 2 - 1] + s[n / 2])
            }
        };
        assert_eq!(out.mean_diffs[0], mean(&ra) - mean(&rb));
        assert_eq!(out.median_diffs[0], median(&ra) - median(&rb));
        assert_eq!(out.mean_diffs.len(), 3);
    }

    #[test]
    fn another_seed_or_metric_changes_the_output() {
        let a: Vec<f64> = (0..50).map(|i| (i as f64).sin()).collect();
        let b: Vec<f64> = (0..40).map(|i| (i as f64).cos()).collect();
        let base = bootstrap_differences(&a, &b, 20, 1, 0).unwrap();
        assert_ne!(base, bootstrap_differences(&a, &b, 20, 2, 0).unwrap());
        assert_ne!(base, bootstrap_differences(&a, &b, 20, 1, 1).unwrap());
        assert_eq!(base, bootstrap_differences(&a, &b, 20, 1, 0).unwrap());
    }

    #[test]
    fn invalid_inputs_are_errors() {
        assert!(bootstrap_differences(&[], &[1.0], 10, 0, 0).is_err());
        assert!(bootstrap_differences(&[1.0], &[f64::NAN], 10, 0, 0).is_err());
        assert!(bootstrap_differences(&[1.0], &[1.0], 0, 0, 0).is_err());
    }
}
