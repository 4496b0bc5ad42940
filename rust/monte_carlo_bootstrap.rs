//! The rev-1 Monte-Carlo percentile bootstrap of the difference of means and of medians.
//!
//! SPEC §11.3 rev 2 replaced it by the exact bootstrap of [`crate::bootstrap`]; no result
//! uses it any more. It is kept, unchanged, as the baseline that SPEC §20 measures the
//! exact kernel against (`benches/bench.py bootstrap`, `benches/bootstrap.rs`).
//!
//! Resample r of metric i draws from `stream(analysis_seed, BOOTSTRAP, [i, r])`:
//! first m indices into A, then n indices into B, each ⌊u·len⌋ (clamped to len − 1),
//! uniform with replacement. It yields mean(A*) − mean(B*) and median(A*) − median(B*)
//! (the median of an even-sized sample is the average of its two middle values, ordered
//! by `f64::total_cmp`). Means are summed in draw order.
//! Resamples run in parallel, each writing its own slot, so the output is identical
//! for any thread count. rev 1 took numpy's percentile intervals of these arrays.
//!
//! Speed: the middle order statistics of a resample almost surely lie within a few
//! √len ranks of the sample's own median, so each sample gets a value window
//! [lo, hi] around its median once per call. A resample only counts the draws below
//! the window and keeps those inside it (a few per cent); the median is selected
//! among the kept draws. Draws below the window are smaller, and draws above it larger,
//! than every kept draw, so this is exactly the full selection whenever the middle
//! positions fall inside the window; otherwise the resample is redrawn from its
//! stream and selected in full (probability ≈ 10⁻¹⁵ per resample).

use rayon::prelude::*;

use rand_pcg::Pcg64Mcg;

use crate::error::{CoreError, CoreResult};
use crate::rng::{self, domain};

/// The bootstrap distributions of Δ_mean and Δ_med, in resample order.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapDifferences {
    pub mean_diffs: Vec<f64>,
    pub median_diffs: Vec<f64>,
}

/// Resamples per work unit. A unit draws the A halves of its resamples, then their B halves
/// (each stream continues where its A half stopped), so one sample at a time stays in cache.
/// Units have a fixed size and every resample its own stream, so the split never changes a value.
const UNIT: usize = 16;

/// The A halves of a unit's resamples: each stream where A stopped, mean(A*), median(A*).
type AHalves = Vec<(Pcg64Mcg, f64, Option<f64>)>;

/// Window half-width in ranks: the rank of a resample's median deviates from len/2 by
/// about √len/2 ranks, so 4√len + 16 is ≥ 8 standard deviations.
fn default_half_width(len: usize) -> usize {
    4 * (len as f64).sqrt().ceil() as usize + 16
}

#[inline]
fn index(u: f64, len: usize) -> usize {
    // 0 ≤ u·len ≤ len < 2⁶³, where truncating through i64 equals the saturating `as usize`
    // and costs one instruction
    ((u * len as f64) as i64 as usize).min(len - 1)
}

/// Median of `values`, reordering it in place (average of the two middle values for even sizes).
fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    middle_in_place(values, n / 2, n % 2 == 0)
}

/// The value at sorted position `mid` of `values` (by `total_cmp`), averaged with the one
/// at `mid − 1` when `even`; reorders `values` in place.
fn middle_in_place(values: &mut [f64], mid: usize, even: bool) -> f64 {
    let (lower, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if even {
        // the largest of the lower part is the other middle value
        let lower_max = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lower_max + upper)
    } else {
        upper
    }
}

/// One sample with its median window, prepared once per call.
struct Sample<'a> {
    values: &'a [f64],
    lo: f64,
    hi: f64,
}

impl<'a> Sample<'a> {
    fn new(values: &'a [f64], half_width: usize) -> Self {
        let len = values.len();
        let mid = len / 2;
        let lo_rank = mid.saturating_sub(half_width + 1);
        let hi_rank = (mid + half_width).min(len - 1);
        let mut sorted = values.to_vec();
        let (below, hi, _) = sorted.select_nth_unstable_by(hi_rank, f64::total_cmp);
        let hi = *hi;
        let lo = if lo_rank == hi_rank { hi } else { *below.select_nth_unstable_by(lo_rank, f64::total_cmp).1 };
        Sample { values, lo, hi }
    }

    /// Draws one resample; returns its mean and, when the window holds its middle
    /// positions, its median. `kept` must hold at least len values.
    fn resample(&self, rng: &mut Pcg64Mcg, kept: &mut [f64]) -> (f64, Option<f64>) {
        let len = self.values.len();
        let lo = self.lo;
        let hi = self.hi;
        // d = v − lo classifies a draw with one subtraction: its sign bit marks "below"
        // (v < lo, or v = −0 with lo = +0, which is below in total order too), and for
        // d ≥ +0 the bits grow with d, so one unsigned compare against fl(hi − lo) (rounding
        // is monotone) passes every draw in [lo, hi] and few others, removed after the loop.
        // Branch-free: the store is overwritten unless the draw passes.
        let width = (hi - lo).to_bits();
        let mut sum = 0.0;
        let mut below = 0usize;
        let mut count = 0usize;
        for _ in 0..len {
            let v = self.values[index(rng::uniform(rng), len)];
            sum += v;
            let d = (v - lo).to_bits();
            below += (d >> 63) as usize;
            kept[count] = v;
            count += (d <= width) as usize;
        }
        let mean = sum / len as f64;
        let mut inside = 0;
        for j in 0..count {
            let v = kept[j];
            kept[inside] = v;
            inside += (v <= hi) as usize;
        }
        let kept = &mut kept[..inside];
        let mid = len / 2;
        let even = len % 2 == 0;
        let first_needed = if even { mid - 1 } else { mid };
        let median =
            (below <= first_needed && mid < below + kept.len()).then(|| middle_in_place(kept, mid - below, even));
        (mean, median)
    }
}

/// Resample `source` with `rng` into `scratch`; returns the resample's mean.
fn resample_full(rng: &mut Pcg64Mcg, source: &[f64], scratch: &mut Vec<f64>) -> f64 {
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
    bootstrap_with_windows(
        a,
        b,
        resamples,
        analysis_seed,
        metric_index,
        default_half_width(a.len()),
        default_half_width(b.len()),
    )
}

fn bootstrap_with_windows(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    analysis_seed: u64,
    metric_index: u64,
    half_width_a: usize,
    half_width_b: usize,
) -> CoreResult<BootstrapDifferences> {
    if a.is_empty() || b.is_empty() {
        return Err(CoreError::Data("bootstrap needs at least one value in A and in B".into()));
    }
    if a.iter().chain(b.iter()).any(|v| !v.is_finite()) {
        return Err(CoreError::Data("bootstrap values must be finite".into()));
    }
    if resamples == 0 {
        return Err(CoreError::Parameter("bootstrap resamples must be ≥ 1".into()));
    }
    let sample_a = Sample::new(a, half_width_a);
    let sample_b = Sample::new(b, half_width_b);
    let stream = |r: usize| rng::stream(analysis_seed, domain::BOOTSTRAP, &[metric_index, r as u64]);
    let units: Vec<Vec<(f64, f64)>> = (0..resamples.div_ceil(UNIT))
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::with_capacity(UNIT)),
            |(kept, halves): &mut (Vec<f64>, AHalves), unit| {
                let first = unit * UNIT;
                let rs = first..(first + UNIT).min(resamples);
                kept.resize(a.len().max(b.len()) + 1, 0.0);
                halves.clear();
                for r in rs.clone() {
                    let mut rng = stream(r);
                    let (mean_a, median_a) = sample_a.resample(&mut rng, kept);
                    halves.push((rng, mean_a, median_a));
                }
                rs.zip(halves.iter_mut())
                    .map(|(r, (rng, mean_a, median_a))| {
                        let (mean_b, median_b) = sample_b.resample(rng, kept);
                        let median_diff = match (*median_a, median_b) {
                            (Some(ma), Some(mb)) => ma - mb,
                            _ => {
                                // a middle position fell outside a window: redraw, select in full
                                let mut rng = stream(r);
                                resample_full(&mut rng, a, kept);
                                let ma = median_in_place(kept);
                                resample_full(&mut rng, b, kept);
                                let diff = ma - median_in_place(kept);
                                kept.resize(a.len().max(b.len()) + 1, 0.0);
                                diff
                            }
                        };
                        (*mean_a - mean_b, median_diff)
                    })
                    .collect()
            },
        )
        .collect();
    let (mean_diffs, median_diffs) = units.into_iter().flatten().unzip();
    Ok(BootstrapDifferences { mean_diffs, median_diffs })
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
        let ra: Vec<f64> = (0..a.len()).map(|_| a[index(rng::uniform(&mut rng), a.len())]).collect();
        let rb: Vec<f64> = (0..b.len()).map(|_| b[index(rng::uniform(&mut rng), b.len())]).collect();
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

    /// Straightforward serial bootstrap: gather each resample, sum in draw order, sort.
    fn reference(a: &[f64], b: &[f64], resamples: usize, seed: u64, metric: u64) -> BootstrapDifferences {
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            let n = v.len();
            if n % 2 == 1 {
                v[n / 2]
            } else {
                0.5 * (v[n / 2 - 1] + v[n / 2])
            }
        };
        let (mut mean_diffs, mut median_diffs) = (Vec::new(), Vec::new());
        for r in 0..resamples {
            let mut rng = rng::stream(seed, domain::BOOTSTRAP, &[metric, r as u64]);
            // the plain saturating conversion, independent of `index`
            let mut draw = |x: &[f64]| -> Vec<f64> {
                (0..x.len()).map(|_| x[((rng::uniform(&mut rng) * x.len() as f64) as usize).min(x.len() - 1)]).collect()
            };
            let (mut ra, mut rb) = (draw(a), draw(b));
            let sum = |v: &[f64]| v.iter().fold(0.0, |s, &x| s + x) / v.len() as f64;
            mean_diffs.push(sum(&ra) - sum(&rb));
            median_diffs.push(median(&mut ra) - median(&mut rb));
        }
        BootstrapDifferences { mean_diffs, median_diffs }
    }

    fn bits(out: &BootstrapDifferences) -> Vec<(u64, u64)> {
        out.mean_diffs.iter().zip(&out.median_diffs).map(|(m, d)| (m.to_bits(), d.to_bits())).collect()
    }

    #[test]
    fn windowed_medians_equal_a_full_sort_with_ties_and_fallbacks() {
        // tiny windows force the full-selection fallback; ties, signed zeros and both parities
        for case in 0..60u64 {
            let u = rng::uniforms(case, domain::CHUNKS, &[0], 400);
            let len_a = 1 + (u[0] * 80.0) as usize;
            let len_b = 1 + (u[1] * 80.0) as usize;
            let levels = 1.0 + (u[2] * 6.0).floor();
            let value = |x: f64| match case % 3 {
                0 => (x * levels).floor() - 2.0, // heavy ties
                1 => {
                    if x < 0.3 {
                        -0.0
                    } else if x < 0.6 {
                        0.0
                    } else {
                        x - 0.8
                    }
                }
                _ => -(1.0 - x).ln(), // continuous, skewed
            };
            let a: Vec<f64> = u[3..3 + len_a].iter().map(|&x| value(x)).collect();
            let b: Vec<f64> = u[100..100 + len_b].iter().map(|&x| value(x)).collect();
            let expected = bits(&reference(&a, &b, 40, case, 3));
            for (wa, wb) in [(0, 0), (1, 2), (3, 0), (5, 5), (default_half_width(len_a), default_half_width(len_b))] {
                let got = bootstrap_with_windows(&a, &b, 40, case, 3, wa, wb).unwrap();
                assert_eq!(bits(&got), expected, "case {case}, windows ({wa}, {wb})");
            }
        }
    }

    #[test]
    fn windowed_medians_equal_a_full_sort_on_large_samples() {
        let u = rng::uniforms(9, domain::CHUNKS, &[1], 20_001);
        let a: Vec<f64> = u[..20_000].iter().map(|&x| (x * 50.0).floor()).collect();
        let b: Vec<f64> = u[1..].iter().map(|&x| -(1.0 - x).ln()).collect();
        let expected = bits(&reference(&a, &b[..19_999], 30, 4, 1));
        assert_eq!(bits(&bootstrap_differences(&a, &b[..19_999], 30, 4, 1).unwrap()), expected);
        let narrow = bootstrap_with_windows(&a, &b[..19_999], 30, 4, 1, 40, 40).unwrap();
        assert_eq!(bits(&narrow), expected);
    }

    #[test]
    fn thread_count_does_not_change_the_output() {
        let u = rng::uniforms(3, domain::CHUNKS, &[2], 3001);
        let a: Vec<f64> = u[..1500].iter().map(|&x| (x * 9.0).floor()).collect();
        let b: Vec<f64> = u[1500..].to_vec();
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| bits(&bootstrap_differences(&a, &b, 200, 8, 2).unwrap()))
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(8));
    }

    #[test]
    fn invalid_inputs_are_errors() {
        assert!(bootstrap_differences(&[], &[1.0], 10, 0, 0).is_err());
        assert!(bootstrap_differences(&[1.0], &[f64::NAN], 10, 0, 0).is_err());
        assert!(bootstrap_differences(&[1.0], &[1.0], 0, 0, 0).is_err());
    }
}
