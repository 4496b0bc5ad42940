//! Lanesheet geometry properties (SPEC §21 properties 4, 5 and 6).

use _core::crossing::{count_at, window_pieces, Piece};
use _core::lattice::{Lattice, SpacingModel};
use _core::path::TelescopePath;

/// Time average of N(τ) over the whole path, from the exact pieces.
fn mean_lanecount(lattice: &Lattice, path: &TelescopePath, radius: f64) -> f64 {
    let windows = path.window_count(radius);
    let mut integral = 0.0;
    for k in 0..windows {
        let (a, b) = path.window(k, windows);
        let pieces = window_pieces(lattice, path, radius, a, b);
        for (i, piece) in pieces.iter().enumerate() {
            let end = pieces.get(i + 1).map_or(b - a, |next: &Piece| next.start);
            integral += f64::from(piece.count) * (end - piece.start);
        }
    }
    integral / path.duration_s
}

#[test]
fn time_average_equals_expected_lanecount_in_both_modes() {
    // N̄ from 0.5 to 1000; straight paths ≥ 10⁴·g long at headings like 0.1234 rad.
    let models = [
        SpacingModel::Dimensionless { alpha_lu: 5.0, lucretius_per_nm: -2.0 },
        SpacingModel::Empirical { alpha_ls: 3.0, l0_per_ls: 2.0e9 },
    ];
    for model in models {
        let g = model.spacing(0.4);
        let lattice = Lattice::new(g).unwrap();
        for target in [0.5, 3.0, 40.0, 1000.0] {
            // r_e such that N̄ = target
            let radius = (target * lattice.cell_area() / std::f64::consts::PI).sqrt();
            let expected = lattice.mean_lanecount(radius);
            assert!((expected - target).abs() < 1e-9 * target);
            let speed = 1.0;
            let duration = 1.0e4 * g / speed;
            for heading in [0.1234, 0.777] {
                let path = TelescopePath::new(heading, 0.0, speed, (0.1 * g, 0.2 * g), duration, radius).unwrap();
                let mean = mean_lanecount(&lattice, &path, radius);
                assert!((mean / expected - 1.0).abs() < 0.01, "{model:?} N̄ = {target}: time average {mean}");
            }
        }
    }
}

/// Position on the exact circle for a tiny θ′, independently of the library's formulas:
/// ∫ v·(cos θ, sin θ) dτ expanded to second order in θ′τ (the rest is < 1e-30 here).
fn flat_arc_position(theta0: f64, rate: f64, speed: f64, tau: f64) -> (f64, f64) {
    let bend = 0.5 * rate * tau * tau;
    (speed * (tau * theta0.cos() - bend * theta0.sin()), speed * (tau * theta0.sin() + bend * theta0.cos()))
}

#[test]
fn turn_rates_around_the_straight_threshold_match_brute_force() {
    let radius = 0.8;
    let (speed, duration) = (0.5, 4000.0);
    let threshold = 1e-12 * radius * 8.0 / (speed * duration * duration); // sagitta = 1e-12·r_e
    for (rate, straight) in [(0.99 * threshold, true), (1.5 * threshold, false), (-1.5 * threshold, false)] {
        let path = TelescopePath::new(0.3, rate, speed, (0.0, 0.0), duration, radius).unwrap();
        assert_eq!(path.is_straight(), straight);
        check_flat_path(&path, radius, |tau| {
            if straight {
                (speed * tau * 0.3f64.cos(), speed * tau * 0.3f64.sin())
            } else {
                path.position(tau)
            }
        });
    }
    // The library's flat arc sits on the exact circle to far better than 1e-9 r_e.
    let rate = 1.5 * threshold;
    let path = TelescopePath::new(0.3, rate, speed, (0.0, 0.0), duration, radius).unwrap();
    for tau in [0.0, 1000.0, 3999.0] {
        let (a, b) = (path.position(tau), flat_arc_position(0.3, rate, speed, tau));
        assert!(((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt() < 1e-9 * radius);
    }
}

fn check_flat_path(path: &TelescopePath, radius: f64, position: impl Fn(f64) -> (f64, f64)) {
    let lattice = Lattice::new(0.9).unwrap();
    let windows = path.window_count(radius);
    for k in 0..windows {
        let (a, b) = path.window(k, windows);
        let pieces = window_pieces(&lattice, path, radius, a, b);
        for step in 0..400 {
            let rel = (step as f64 + 0.37) / 400.0 * (b - a);
            if pieces.iter().any(|p| (p.start - rel).abs() < 1e-6) {
                continue;
            }
            let (x, y) = position(a + rel);
            assert_eq!(count_at(&pieces, rel), lattice.count_within(x, y, radius));
        }
    }
}

#[test]
fn path_is_continuous_and_arcs_converge_to_the_line() {
    let line = TelescopePath::new(0.4, 0.0, 0.3, (1.0, 2.0), 5000.0, 0.8).unwrap();
    let mut previous_gap = f64::INFINITY;
    for rate in [1e-6f64, 1e-8, 1e-10, 1e-12] {
        let arc = TelescopePath::new(0.4, rate, 0.3, (1.0, 2.0), 5000.0, 0.8).unwrap();
        let gap = (0..=50)
            .map(|i| {
                let tau = 100.0 * i as f64;
                let (a, b) = (arc.position(tau), line.position(tau));
                ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
            })
            .fold(0.0f64, f64::max);
        assert!(gap < previous_gap, "the arc must approach the line as θ′ → 0");
        // the arc bends away from its tangent by v·θ′·τ²/2 to leading order
        assert!(gap <= 0.5 * 0.3 * rate * 5000.0f64.powi(2) * 1.001 + 1e-12);
        previous_gap = gap;
    }
    // Windows share their end points: the position is one function of τ.
    let arc = TelescopePath::new(0.4, 0.01, 0.3, (1.0, 2.0), 5000.0, 0.8).unwrap();
    let windows = arc.window_count(0.8);
    for k in 1..windows {
        let (_, end) = arc.window(k - 1, windows);
        let (start, _) = arc.window(k, windows);
        assert_eq!(end, start);
    }
}

#[test]
fn random_parameters_match_brute_force() {
    // Random lines, arcs and multi-turn arcs for both spacing models; thousands of times.
    use _core::rng::{domain, stream, uniform};
    let mut rng = stream(2024, domain::GENERATE, &[]);
    let mut draw = |lo: f64, hi: f64| lo + (hi - lo) * uniform(&mut rng);
    let mut checked = 0usize;
    for case in 0..24 {
        let model = if case % 2 == 0 {
            SpacingModel::Dimensionless { alpha_lu: draw(0.3, 6.0), lucretius_per_nm: draw(-3.0, -0.5) }
        } else {
            SpacingModel::Empirical { alpha_ls: draw(0.5, 5.0), l0_per_ls: draw(5e8, 5e9) }
        };
        let g = model.spacing(draw(0.1, 1.0));
        let lattice = Lattice::new(g).unwrap();
        let radius = g * draw(0.2, 3.0);
        let speed = g * draw(0.01, 0.5);
        let duration = draw(500.0, 3000.0);
        let rate = match case % 3 {
            0 => 0.0,                                                 // line
            1 => draw(0.2, 1.5) * std::f64::consts::PI / duration,    // part of a turn
            _ => -draw(4.0, 12.0) * std::f64::consts::TAU / duration, // several turns
        };
        let start = (draw(-1.0, 1.0) * g, draw(-1.0, 1.0) * g);
        let path = TelescopePath::new(draw(0.0, 6.3), rate, speed, start, duration, radius).unwrap();
        let windows = path.window_count(radius);
        let pieces: Vec<(f64, Vec<Piece>)> = (0..windows)
            .map(|k| {
                let (a, b) = path.window(k, windows);
                (a, window_pieces(&lattice, &path, radius, a, b))
            })
            .collect();
        for _ in 0..500 {
            let tau = draw(0.0, duration);
            let k = ((tau / duration * windows as f64) as usize).min(windows - 1);
            let (a, ps) = &pieces[k];
            let rel = tau - a;
            if ps.iter().any(|p| (p.start - rel).abs() < 1e-9) {
                continue;
            }
            let (x, y) = path.position(tau);
            assert_eq!(count_at(ps, rel), lattice.count_within(x, y, radius), "case {case}, τ = {tau}");
            checked += 1;
        }
    }
    assert!(checked > 11_000);
}
