//! Dithering and wavelength assignment throughput, against a plain serial loop
//! over the same channels (the baseline measured in the same run).

use _core::calibration::{Calibration, HC_KEV_NM};
use _core::dither::dither_channels;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn serial_midpoint_reference(channels: &[i64], cal: &Calibration) -> Vec<f64> {
    channels
        .iter()
        .map(|&ch| match cal.channel_interval_kev(ch) {
            Some((lo, hi)) => HC_KEV_NM / (0.5 * (lo + hi)),
            None => f64::NAN,
        })
        .collect()
}

fn bench_dither(c: &mut Criterion) {
    let mut group = c.benchmark_group("dither");
    for &n in &[1_000_000usize, 10_000_000] {
        let channels: Vec<i64> = (0..n).map(|i| 1 + (i as i64 * 7919) % 1024).collect();
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(10);
        group.bench_with_input(BenchmarkId::new("dither_channels", n), &channels, |b, ch| {
            b.iter(|| dither_channels(black_box(ch), &Calibration::ChandraAcis, 1, 2))
        });
        group.bench_with_input(BenchmarkId::new("serial_no_rng_baseline", n), &channels, |b, ch| {
            b.iter(|| serial_midpoint_reference(black_box(ch), &Calibration::ChandraAcis))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_dither);
criterion_main!(benches);
