//! Chunk sampling with every metric (SPEC §10.3–10.5, §20 target: 100 000 chunks ≤ 50 ms),
//! against the same sampler confined to one thread (the serial baseline of the same run).
//!
//! Input: 30 widths of 20–300 s over 24 ks (J = 1200 … 80 bins), 100 wavelength bins,
//! Poisson counts with means 0.05–20 per bin, a 2 % exposure gap, L = 12.

use _core::chunks::{sample_chunks, WidthCounts};
use _core::rng::{domain, stream};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand_distr::{Distribution, Poisson};
use std::hint::black_box;

const BINS: usize = 100;
const LENGTH: usize = 12;

struct Width {
    counts: Vec<u32>,
    valid: Vec<bool>,
    starts: Vec<u32>,
}

fn widths() -> Vec<Width> {
    (0..30)
        .map(|k| {
            let width_s = 20.0 + 280.0 * k as f64 / 29.0;
            let rows = (24_000.0 / width_s) as usize;
            let mut rng = stream(3, domain::GENERATE, &[k as u64]);
            let rates: Vec<Poisson<f64>> = (0..BINS)
                .map(|w| Poisson::new(width_s * (0.0025 + 0.001 * w as f64 / 1.5)).expect("rate > 0"))
                .collect();
            let counts = (0..rows * BINS).map(|i| rates[i % BINS].sample(&mut rng) as u32).collect();
            let valid: Vec<bool> = (0..rows).map(|j| j % 50 != 0).collect();
            let starts =
                (0..=rows - LENGTH).filter(|&s| valid[s..s + LENGTH].iter().all(|&v| v)).map(|s| s as u32).collect();
            Width { counts, valid, starts }
        })
        .collect()
}

fn bench_chunks(c: &mut Criterion) {
    let data = widths();
    let views: Vec<WidthCounts<'_>> =
        data.iter().map(|w| WidthCounts { counts: &w.counts, valid: &w.valid, starts: &w.starts }).collect();
    let w_data: Vec<u16> = (0..BINS as u16).collect();
    let serial = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("thread pool");
    let mut group = c.benchmark_group("chunks");
    group.sample_size(30);
    for &m in &[100_000usize, 1_000_000] {
        group.throughput(Throughput::Elements(m as u64));
        group.bench_with_input(BenchmarkId::new("sample_chunks", m), &m, |b, &m| {
            b.iter(|| sample_chunks(black_box(&views), BINS, &w_data, LENGTH, m, 7).expect("valid input"))
        });
        group.bench_with_input(BenchmarkId::new("serial_baseline", m), &m, |b, &m| {
            b.iter(|| {
                serial.install(|| sample_chunks(black_box(&views), BINS, &w_data, LENGTH, m, 7).expect("valid input"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_chunks);
criterion_main!(benches);
