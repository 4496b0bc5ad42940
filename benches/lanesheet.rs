//! Lanesheet generation (SPEC §7.4–7.5), each beside a baseline measured in the same run:
//!
//! * `lanecount_sweep`: the exact ray-crossing lanecount of one bin over the whole
//!   24 000 s path (`window_pieces` over every window), for a sparse-like (g = 1.3) and a
//!   dense-like (g = 0.07) lattice, against brute-force `count_within` sampled once per
//!   second (which only approximates N(t) and misses changes between samples);
//! * `synthesize`: photon synthesis of the 100-bin `sparse` model, against a plain loop
//!   that draws as many uniform times as synthesis makes photons and sorts them.

use _core::calibration::Calibration;
use _core::crossing::{window_pieces, Piece};
use _core::lattice::Lattice;
use _core::path::TelescopePath;
use _core::rng::{domain, stream, uniform};
use _core::synth::{synthesize, BinSpec, Generation, Smearing, Spectrum};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

const THETA0: f64 = 0.51;
const SPEED: f64 = 0.12;
const DURATION_S: f64 = 24_000.0;
const RECEIVING_RADIUS: f64 = 0.8;

fn sparse_path() -> TelescopePath {
    TelescopePath::new(THETA0, 0.0, SPEED, (0.0, 0.0), DURATION_S, RECEIVING_RADIUS).expect("valid path")
}

/// Pieces of every window of one bin (what synthesis computes per bin).
fn sweep(lattice: &Lattice, path: &TelescopePath) -> Vec<Vec<Piece>> {
    let windows = path.window_count(RECEIVING_RADIUS);
    (0..windows)
        .map(|k| {
            let (a, b) = path.window(k, windows);
            window_pieces(lattice, path, RECEIVING_RADIUS, a, b)
        })
        .collect()
}

/// Baseline: N at τ = 0, 1, …, D s by brute force.
fn sampled_brute_force(lattice: &Lattice, path: &TelescopePath) -> Vec<u32> {
    (0..=DURATION_S as usize)
        .map(|second| {
            let (x, y) = path.position(second as f64);
            lattice.count_within(x, y, RECEIVING_RADIUS)
        })
        .collect()
}

fn bench_lanecount(c: &mut Criterion) {
    let mut group = c.benchmark_group("lanecount_sweep");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    let path = sparse_path();
    for (label, g) in [("sparse_g1.3", 1.3), ("dense_g0.07", 0.07)] {
        let lattice = Lattice::new(g).expect("valid spacing");
        let pieces: usize = sweep(&lattice, &path).iter().map(Vec::len).sum();
        println!(
            "lanecount_sweep/{label}: N̄ = {:.2}, {} windows, {pieces} pieces over {DURATION_S} s",
            lattice.mean_lanecount(RECEIVING_RADIUS),
            path.window_count(RECEIVING_RADIUS)
        );
        // Elements = seconds of path covered, so both rows read as path-seconds per second.
        group.throughput(Throughput::Elements(DURATION_S as u64));
        group.bench_with_input(BenchmarkId::new("window_pieces", label), &lattice, |b, l| {
            b.iter(|| sweep(black_box(l), &path))
        });
        group.bench_with_input(BenchmarkId::new("count_within_1s_baseline", label), &lattice, |b, l| {
            b.iter(|| sampled_brute_force(black_box(l), &path))
        });
    }
    group.finish();
}

/// The embedded `sparse` generation on the default band: 100 bins on 0.1–1.0 nm,
/// g_w = 5·exp(−2λ_w), F_w = f(λ_w)·w, smearing 100 eV FWHM on chandra-acis.
fn sparse_bins(spectrum: &Spectrum) -> Vec<BinSpec> {
    let (min_nm, max_nm, bins) = (0.1, 1.0, 100);
    let width = (max_nm - min_nm) / bins as f64;
    (0..bins)
        .map(|w| {
            let lo_nm = min_nm + width * w as f64;
            let hi_nm = min_nm + width * (w + 1) as f64;
            let centre = 0.5 * (lo_nm + hi_nm);
            let spacing = 5.0 * (-2.0 * centre).exp();
            let isotropic = Lattice::new(spacing).expect("valid spacing").mean_lanecount(RECEIVING_RADIUS) > 10_000.0;
            BinSpec { lo_nm, hi_nm, spacing, flux_per_s: spectrum.flux(centre) * width, isotropic }
        })
        .collect()
}

/// Baseline: n uniform times on [0, D), sorted.
fn uniform_sorted_times(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = stream(seed, domain::GENERATE, &[]);
    let mut times: Vec<f64> = (0..n).map(|_| uniform(&mut rng) * DURATION_S).collect();
    times.sort_unstable_by(f64::total_cmp);
    times
}

fn bench_synthesis(c: &mut Criterion) {
    let spectrum = Spectrum { amplitude: 40.0, lambda0_nm: 0.38, sigma: 0.6, floor: 2.0 };
    let bins = sparse_bins(&spectrum);
    let gtis = [(0.0, DURATION_S)];
    let generation = Generation {
        bins: &bins,
        spectrum,
        receiving_radius: RECEIVING_RADIUS,
        path: sparse_path(),
        tstart_s: 0.0,
        gtis: &gtis,
        smearing: Some(Smearing { fwhm_kev: 0.1, calibration: Calibration::ChandraAcis }),
        seed: 1,
    };
    let photons = synthesize(&generation).expect("valid generation").time_s.len();
    println!("synthesize/sparse_100_bins: {photons} photons, rayon threads = {}", rayon::current_num_threads());
    let mut group = c.benchmark_group("synthesize");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(photons as u64));
    group.bench_function(BenchmarkId::new("synthesize", "sparse_100_bins"), |b| {
        b.iter(|| synthesize(black_box(&generation)))
    });
    group.bench_function(BenchmarkId::new("uniform_sort_baseline", "sparse_100_bins"), |b| {
        b.iter(|| uniform_sorted_times(black_box(photons), 1))
    });
    group.finish();
}

criterion_group!(benches, bench_lanecount, bench_synthesis);
criterion_main!(benches);
