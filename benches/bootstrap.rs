//! P1b + P1c bootstrap (SPEC §11.3 rev 2; §20 target: 7 metrics × 2 datasets × 100 000 values
//! ≤ 50 ms and ≥ 50× the rev-1 1000-resample kernel), both measured in the same run:
//! * `exact_7_metrics`: the exact kernel, `bootstrap_quantiles_per_metric` over 7 metrics
//!   (rayon over metrics), percentiles at α/2 and 1 − α/2;
//! * `monte_carlo_1000_per_metric`: the rev-1 Monte-Carlo kernel, 1000 resamples of one
//!   metric (×7 gives the 7-metric baseline; a single metric keeps the run short);
//! * `exact_per_metric`: the exact kernel on one metric, for the same comparison per metric.
//!
//! Input per metric: m = n = 100 000 values skewed like a variance-excess metric,
//! A = −ln u + 0.01·(metric + 1), B = −ln u, and a tied (integer-valued) metric among them.

use _core::bootstrap::{bootstrap_quantiles, bootstrap_quantiles_per_metric};
use _core::monte_carlo_bootstrap::bootstrap_differences;
use _core::rng::{domain, uniforms};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

const N: usize = 100_000;
const METRICS: u64 = 7;
const RESAMPLES: usize = 1000;
const PROBABILITIES: [f64; 2] = [0.005, 0.995];

fn values(index: u64, shift: f64) -> Vec<f64> {
    let tied = index % 7 == 6;
    uniforms(11, domain::CHUNKS, &[index], N)
        .into_iter()
        .map(|u| if tied { (8.0 * u).floor() + shift } else { shift - (1.0 - u).ln() })
        .collect()
}

fn bench_bootstrap(c: &mut Criterion) {
    let data: Vec<(Vec<f64>, Vec<f64>)> =
        (0..METRICS).map(|i| (values(2 * i, 0.01 * (i + 1) as f64), values(2 * i + 1, 0.0))).collect();
    let pairs: Vec<(&[f64], &[f64])> = data.iter().map(|(a, b)| (&a[..], &b[..])).collect();
    let mut group = c.benchmark_group("bootstrap");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    group.bench_function("exact_7_metrics", |bench| {
        bench.iter(|| bootstrap_quantiles_per_metric(black_box(&pairs), &PROBABILITIES).expect("valid input"))
    });
    group.bench_function("exact_per_metric", |bench| {
        bench.iter(|| bootstrap_quantiles(black_box(pairs[0].0), black_box(pairs[0].1), &PROBABILITIES))
    });
    group.bench_function("monte_carlo_1000_per_metric", |bench| {
        bench.iter(|| bootstrap_differences(black_box(pairs[0].0), black_box(pairs[0].1), RESAMPLES, 5, 0))
    });
    group.finish();
}

criterion_group!(benches, bench_bootstrap);
criterion_main!(benches);
