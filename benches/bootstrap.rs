//! Percentile bootstrap of Δ_mean and Δ_med (SPEC §11.3; §20 target: 1000 resamples × 7 metrics ×
//! 2 datasets ≤ 5 s, i.e. one metric ≤ 0.7 s), against the same kernel confined to one thread
//! (the serial baseline of the same run).
//!
//! Input: one metric's chunk values, m = n = 10 000 and 100 000 (the default chunk_count) per
//! dataset, skewed like a variance-excess metric: A = −ln u + 0.01, B = −ln u; 1000 resamples.
//! Throughput counts resampled values, resamples·(m + n).

use _core::bootstrap::bootstrap_differences;
use _core::rng::{domain, uniforms};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

const RESAMPLES: usize = 1000;

fn values(n: usize, index: u64, shift: f64) -> Vec<f64> {
    uniforms(11, domain::CHUNKS, &[index], n).into_iter().map(|u| shift - (1.0 - u).ln()).collect()
}

fn bench_bootstrap(c: &mut Criterion) {
    let serial = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("thread pool");
    let mut group = c.benchmark_group("bootstrap");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for &n in &[10_000usize, 100_000] {
        let a = values(n, 0, 0.01);
        let b = values(n, 1, 0.0);
        group.throughput(Throughput::Elements((RESAMPLES * 2 * n) as u64));
        group.bench_with_input(BenchmarkId::new("bootstrap_differences", n), &n, |bench, _| {
            bench.iter(|| bootstrap_differences(black_box(&a), black_box(&b), RESAMPLES, 5, 4).expect("valid input"))
        });
        group.bench_with_input(BenchmarkId::new("serial_baseline", n), &n, |bench, _| {
            bench.iter(|| {
                serial.install(|| {
                    bootstrap_differences(black_box(&a), black_box(&b), RESAMPLES, 5, 4).expect("valid input")
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_bootstrap);
criterion_main!(benches);
