//! Tests of P3: brute-force cross-checks, thread invariance, a synthetic signal, bad input.

use std::f64::consts::TAU;

use super::*;
use crate::rng::{domain, stream, uniform};

/// Events of `rows` wavelength bins over [t0, t1): row j draws `per_row[j]` uniform times and
/// keeps each with probability `keep(j, t)`, then only those inside the GTIs; sorted by time.
fn events(
    per_row: &[usize],
    span: (f64, f64),
    gtis: &[(f64, f64)],
    seed: u64,
    keep: impl Fn(usize, f64) -> f64,
) -> (Vec<f64>, Vec<u16>) {
    let mut rng = stream(seed, domain::TASK, &[]);
    let mut all = Vec::new();
    for (j, &n) in per_row.iter().enumerate() {
        for _ in 0..n {
            let t = span.0 + uniform(&mut rng) * (span.1 - span.0);
            let inside = gtis.iter().any(|&(a, b)| a <= t && t < b);
            if uniform(&mut rng) < keep(j, t) && inside {
                all.push((t, j as u16));
            }
        }
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    all.into_iter().unzip()
}

fn input<'a>(
    time_s: &'a [f64],
    wbin: &'a [u16],
    centres_nm: &'a [f64],
    gti: &'a (Vec<f64>, Vec<f64>),
    dt_s: f64,
) -> P3Input<'a> {
    P3Input {
        time_s,
        wbin,
        n_wbins: centres_nm.len(),
        centres_nm,
        gti_start_s: &gti.0,
        gti_stop_s: &gti.1,
        dt_s,
        log_bins: 512,
        slope_min: -1.0,
        slope_max: 4.0,
        slope_count: 251,
    }
}

fn split(gtis: &[(f64, f64)]) -> (Vec<f64>, Vec<f64>) {
    gtis.iter().copied().unzip()
}

/// Band bin centres of [0.1, 1] nm in `bins` bins.
fn centres(bins: usize) -> Vec<f64> {
    (0..bins).map(|j| 0.1 + 0.9 * (j as f64 + 0.5) / bins as f64).collect()
}

#[test]
fn periodograms_equal_a_brute_force_dft() {
    // dt = 1.5 s from t0 = 100 s: 40 bins (the last 0.7 s is dropped); bin 20 is a quarter
    // exposed, 21 and 22 lie in the gap, bin 23 is a third exposed.
    let gtis = [(100.0, 130.25), (135.5, 160.7)];
    let (time, mut wbin) = events(&[90, 0, 40, 7], (99.0, 161.0), &gtis, 1, |_, _| 1.0);
    wbin.iter_mut().step_by(9).for_each(|w| *w = UNSELECTED);
    let (dt, n) = (1.5, 40usize);
    let exposure: Vec<f64> = (0..n)
        .map(|k| {
            let (lo, hi) = (100.0 + dt * k as f64, 100.0 + dt * (k + 1) as f64);
            gtis.iter().map(|&(a, b)| (b.min(hi) - a.max(lo)).max(0.0)).sum::<f64>() / dt
        })
        .collect();
    assert_eq!((exposure[20], exposure[21], exposure[23]), (0.25 / 1.5, 0.0, 0.5 / 1.5));
    let gti = split(&gtis);
    let c = centres(4);
    let out = periodograms(&input(&time, &wbin, &c, &gti, dt)).unwrap();
    assert_eq!(out.n_time_bins, n);
    let mut checked = 0;
    for j in 0..4 {
        let mut x = vec![0.0; n];
        let mut n_j = 0u64;
        for (&t, &w) in time.iter().zip(&wbin) {
            if usize::from(w) == j && t < 100.0 + dt * n as f64 {
                x[((t - 100.0) / dt).floor() as usize] += 1.0;
                n_j += 1;
            }
        }
        assert_eq!(out.events[j], n_j);
        let Some(row) = out.used.iter().position(|&u| u == j) else {
            assert_eq!(n_j, 0);
            continue;
        };
        let exposed: Vec<usize> = (0..n).filter(|&k| exposure[k] > 0.0).collect();
        exposed.iter().for_each(|&k| x[k] /= exposure[k]);
        let mean = exposed.iter().map(|&k| x[k]).sum::<f64>() / exposed.len() as f64;
        exposed.iter().for_each(|&k| x[k] -= mean);
        for f in 1..=n / 2 {
            let (mut re, mut im) = (0.0, 0.0);
            for (k, &v) in x.iter().enumerate() {
                let phase = TAU * (f * k) as f64 / n as f64;
                re += v * phase.cos();
                im -= v * phase.sin();
            }
            let expected = 2.0 * (re * re + im * im) / n_j as f64;
            let got = out.powers[row * (n / 2) + f - 1];
            assert!((got - expected).abs() <= 1e-10 * expected.abs().max(1e-300), "row {j} f {f}: {got} {expected}");
            checked += 1;
        }
    }
    assert_eq!((out.used.clone(), checked), (vec![0, 2, 3], 60));
}

/// Times, bins, centres and GTI starts and stops.
type Case = (Vec<f64>, Vec<u16>, Vec<f64>, (Vec<f64>, Vec<f64>));

/// A small case where every part of the stack shows: empty log steps, NaN cells, 8 rows.
fn small_case() -> Case {
    let gtis = [(0.0, 300.0), (310.0, 520.0)];
    let (time, wbin) = events(&[400; 8], (0.0, 520.0), &gtis, 2, |j, t| 0.6 + 0.4 * (0.05 * (j + 1) as f64 * t).cos());
    (time, wbin, centres(8), split(&gtis))
}

#[test]
fn rebinning_and_stacking_equal_direct_loops() {
    let (time, wbin, c, gti) = small_case();
    let spec = P3Input { log_bins: 32, slope_count: 7, slope_max: 5.0, ..input(&time, &wbin, &c, &gti, 1.0) };
    let result = p3_statistic(&spec).unwrap();
    let periodograms = periodograms(&spec).unwrap();
    let (n, steps) = (result.n_time_bins, 32usize);
    assert_eq!((n, &result.used), (520, &(0..8).collect::<Vec<_>>()));
    let (start, step) = ((4.0f64 / 520.0).ln(), ((0.5f64).ln() - (4.0f64 / 520.0).ln()) / 32.0);
    assert_eq!((result.log_f_start, result.log_f_step), (start, step));

    // R_j by a direct loop: each step scans all frequencies.
    let u: Vec<f64> = (1..=n / 2).map(|k| ((k as f64 / n as f64).ln() - start) / step).collect();
    let mut empty = 0;
    for (row, powers) in periodograms.powers.chunks_exact(n / 2).enumerate() {
        for g in 0..steps {
            let inside: Vec<f64> = (0..n / 2)
                .filter(|&k| u[k] >= 0.0 && (u[k].floor() as usize == g || (g == steps - 1 && u[k] >= g as f64)))
                .map(|k| powers[k])
                .collect();
            let expected = if inside.is_empty() {
                empty += 1;
                let centre = g as f64 + 0.5;
                let mut best = usize::MAX;
                for k in (0..n / 2).filter(|&k| u[k] >= 0.0) {
                    if best == usize::MAX || (u[k] - centre).abs() < (u[best] - centre).abs() {
                        best = k;
                    }
                }
                powers[best]
            } else {
                inside.iter().sum::<f64>() / inside.len() as f64
            };
            assert_eq!(result.rebinned[row * steps + g].to_bits(), expected.to_bits(), "row {row} step {g}");
        }
    }
    assert!(empty >= 8, "every row has an empty step at the low end: {empty}");

    // S(s_i, k) by a direct loop over every cell.
    let slopes = [-1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    let n_k = result.intercepts_ln_hz.len();
    let mut nan = 0;
    for (i, &s) in slopes.iter().enumerate() {
        assert_eq!(result.slopes[i], s);
        let d: Vec<i64> = c.iter().map(|&l| (result.slopes[i] * l / step).round() as i64).collect();
        for m in 0..n_k {
            let k = result.k_lo + m as i64;
            let cells: Option<Vec<f64>> = d
                .iter()
                .enumerate()
                .map(|(j, &dj)| {
                    let at = k + dj;
                    (0..steps as i64).contains(&at).then(|| result.rebinned[j * steps + at as usize])
                })
                .collect();
            let expected = cells.map_or(f64::NAN, |v| v.iter().sum::<f64>() / v.len() as f64);
            nan += usize::from(expected.is_nan());
            assert_eq!(result.image[i * n_k + m].to_bits(), expected.to_bits(), "slope {i} k {k}");
            assert_eq!(result.intercepts_ln_hz[m], start + (k as f64 + 0.5) * step);
        }
    }
    assert!(nan > 0 && nan < slopes.len() * n_k);
    let best = result.image.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(result.stat, best - 2.0);
    let first = result.image.iter().position(|&v| v == best).unwrap();
    assert_eq!((result.slope_index, result.intercept_index), (first / n_k, result.k_lo + (first % n_k) as i64));
    assert_eq!(result.slope, result.slopes[result.slope_index]);
}

fn bits(result: &P3Result) -> Vec<u64> {
    let floats = [result.stat, result.slope, result.intercept_ln_hz, result.log_f_start, result.log_f_step];
    let arrays = [&result.slopes, &result.intercepts_ln_hz, &result.image, &result.rebinned];
    floats.iter().chain(arrays.into_iter().flatten()).map(|v| v.to_bits()).collect()
}

#[test]
fn thread_count_does_not_change_the_result() {
    let gtis = [(1.0e8, 1.0e8 + 3000.0), (1.0e8 + 3100.5, 1.0e8 + 6000.0)];
    let (time, wbin) = events(&[3000; 30], (1.0e8, 1.0e8 + 6000.0), &gtis, 3, |j, t| 0.5 + 0.5 * (j as f64 * t).sin());
    let (c, gti) = (centres(30), split(&gtis));
    let spec = input(&time, &wbin, &c, &gti, 0.7);
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| (p3_statistic(&spec).unwrap(), periodograms(&spec).unwrap()))
    };
    let (one, powers) = run(1);
    for threads in [2, 8] {
        let (other, other_powers) = run(threads);
        assert_eq!(bits(&one), bits(&other), "{threads} threads");
        assert_eq!((&one.used, &one.events), (&other.used, &other.events));
        assert_eq!(
            powers.powers.iter().map(|p| p.to_bits()).collect::<Vec<_>>(),
            other_powers.powers.iter().map(|p| p.to_bits()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_slope_of_two_is_recovered() {
    // Row j is modulated at f_j = f0·e^{2·λ_j}: in (λ, ln f) its power lies on a line of slope 2.
    let (f0, rows) = (0.01, 20);
    let c = centres(rows);
    let gtis = [(0.0, 2500.0), (2600.0, 6000.0)];
    let (time, wbin) = events(&vec![8000; rows], (0.0, 6000.0), &gtis, 4, |j, t| {
        0.5 + 0.4 * (TAU * f0 * (2.0 * c[j]).exp() * t).cos()
    });
    let gti = split(&gtis);
    let result = p3_statistic(&input(&time, &wbin, &c, &gti, 1.0)).unwrap();
    let slope_step = 5.0 / 250.0;
    assert!((result.slope - 2.0).abs() <= 2.0 * slope_step + 1e-12, "slope {}", result.slope);
    assert!((result.intercept_ln_hz - f0.ln()).abs() <= 3.0 * result.log_f_step, "{}", result.intercept_ln_hz);
    assert!(result.stat > 50.0, "stat {}", result.stat);

    // Unmodulated rows: the stack stays near the Leahy mean 2.
    let (time, wbin) = events(&vec![4000; rows], (0.0, 6000.0), &gtis, 5, |_, _| 1.0);
    let null = p3_statistic(&input(&time, &wbin, &c, &gti, 1.0)).unwrap();
    // The low steps hold one χ²₂ power each: a cell's sd there is 2/√20 ≈ 0.45 and the maximum
    // over ~10⁵ correlated cells lies a few sd above 2 (2.04 for this seed).
    assert!(null.stat < 4.0, "null stat {}", null.stat);
    let mean = null.rebinned.iter().sum::<f64>() / null.rebinned.len() as f64;
    assert!((mean - 2.0).abs() < 0.1, "mean rebinned power {mean}");
}

#[test]
fn bad_input_is_an_error() {
    let (time, wbin, c, gti) = small_case();
    let good = input(&time, &wbin, &c, &gti, 1.0);
    let err = |spec: P3Input<'_>| (p3_statistic(&spec).err(), periodograms(&spec).err());
    let parameter = |spec| matches!(err(spec).0, Some(CoreError::Parameter(_)));
    let data = |spec| matches!(err(spec), (Some(CoreError::Data(_)), Some(CoreError::Data(_))));
    assert!(err(good) == (None, None));
    for dt_s in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300] {
        assert!(matches!(
            err(P3Input { dt_s, ..good }),
            (Some(CoreError::Parameter(_)), Some(CoreError::Parameter(_)))
        ));
    }
    assert!(parameter(P3Input { log_bins: 1, ..good }));
    assert!(parameter(P3Input { slope_count: 0, ..good }));
    assert!(parameter(P3Input { slope_min: 5.0, ..good }));
    assert!(parameter(P3Input { slope_max: f64::NAN, ..good }));
    assert!(parameter(P3Input { centres_nm: &c[1..], ..good }));
    assert!(parameter(P3Input { centres_nm: &[f64::NAN; 8], ..good }));
    assert!(parameter(P3Input { slope_min: -1e300, ..good }));
    // 520 s at dt = 40 s: 13 bins.
    let short = err(P3Input { dt_s: 40.0, ..good });
    assert!(matches!(&short.0, Some(CoreError::Data(m)) if m.contains("too short")), "{short:?}");
    assert!(data(P3Input { gti_start_s: &[], gti_stop_s: &[], ..good }));
    assert!(data(P3Input { gti_start_s: &[310.0, 0.0], gti_stop_s: &[520.0, 300.0], ..good }));
    assert!(data(P3Input { wbin: &wbin[1..], ..good }));
    assert!(data(P3Input { time_s: &[2.0, 1.0], wbin: &[0, 0], ..good }));
    assert!(data(P3Input { time_s: &[f64::NAN], wbin: &[0], ..good }));
    assert!(data(P3Input { time_s: &[1.0], wbin: &[9], ..good }));
    assert!(data(P3Input { time_s: &[], wbin: &[], ..good }));
    assert!(data(P3Input { time_s: &[1.0], wbin: &[UNSELECTED], ..good }));
    assert!(data(P3Input { gti_start_s: &[0.0, 520.0], gti_stop_s: &[0.0, 520.0], ..good }));
    assert!(matches!(err(P3Input { n_wbins: 0, centres_nm: &[], ..good }).1, Some(CoreError::Parameter(_))));
    // Every slope spreads the band over more than the 32 steps.
    let wide = err(P3Input { log_bins: 32, slope_min: 100.0, slope_max: 200.0, ..good });
    assert!(matches!(&wide.0, Some(CoreError::Data(m)) if m.contains("no slope")), "{wide:?}");
}
