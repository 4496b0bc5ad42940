//! Counts matrices for 30 widths × 100 wavelength bins, against a plain serial loop
//! with one division per event and width (the baseline measured in the same run).

use _core::binning::{counts_matrices, exposure_fractions, grids, offsets, width_set, Grid};
use _core::rng::{domain, stream, uniform};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const TSTART: f64 = 3.0e8;
const SPAN_S: f64 = 24_000.0;
const N_WBINS: usize = 100;
const WIDTHS: usize = 30;

fn serial_division_baseline(time_s: &[f64], wbin: &[u16], grids: &[Grid]) -> Vec<Vec<u32>> {
    grids
        .iter()
        .map(|grid| {
            let mut counts = vec![0u32; grid.bins * N_WBINS];
            for (&t, &w) in time_s.iter().zip(wbin) {
                let j = (((t - grid.origin_s) / grid.width_s) as usize).min(grid.bins - 1);
                counts[j * N_WBINS + usize::from(w)] += 1;
            }
            counts
        })
        .collect()
}

fn events(n: usize) -> (Vec<f64>, Vec<u16>) {
    let mut rng = stream(1, domain::TASK, &[]);
    let mut time: Vec<f64> = (0..n).map(|_| TSTART + uniform(&mut rng) * SPAN_S).collect();
    time.sort_by(f64::total_cmp);
    let wbin = (0..n).map(|_| (uniform(&mut rng) * N_WBINS as f64) as u16).collect();
    (time, wbin)
}

fn bench_binning(c: &mut Criterion) {
    let widths = width_set(0, 20.0, 300.0, WIDTHS, false).unwrap();
    let grids = grids(&widths, &offsets(0, WIDTHS).unwrap(), TSTART, TSTART + SPAN_S).unwrap();
    let mut group = c.benchmark_group("binning");
    group.sample_size(10);
    for &n in &[1_000_000usize, 10_000_000] {
        let (time, wbin) = events(n);
        group.throughput(Throughput::Elements((n * WIDTHS) as u64));
        group.bench_with_input(BenchmarkId::new("counts_matrices", n), &n, |b, _| {
            b.iter(|| counts_matrices(black_box(&time), black_box(&wbin), N_WBINS, &grids).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("serial_division_baseline", n), &n, |b, _| {
            b.iter(|| serial_division_baseline(black_box(&time), black_box(&wbin), &grids))
        });
    }
    // 200 GTIs of 100 s with 20 s gaps across the span.
    let starts: Vec<f64> = (0..200).map(|i| TSTART + 120.0 * i as f64).collect();
    let stops: Vec<f64> = starts.iter().map(|s| s + 100.0).collect();
    group.throughput(Throughput::Elements(WIDTHS as u64));
    group.bench_function("exposure_fractions", |b| {
        b.iter(|| exposure_fractions(black_box(&grids), &starts, &stops).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_binning);
criterion_main!(benches);
