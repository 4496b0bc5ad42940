//! Exact ray-crossing lanecount (SPEC §7.4): when the receiving disc around the
//! telescope enters and leaves the open disc of radius r_e around each lattice point.
//!
//! Per window [τ_a, τ_b] (times relative to τ_a, seconds), candidate lattice points come
//! from the window's bounding box dilated by r_e; their inside intervals are solved in
//! closed form (line–circle or circle–circle) and swept into pieces of constant N.
//! No time stepping, no spatial tree, no folding.

use std::f64::consts::TAU;

use crate::error::{CoreError, CoreResult};
use crate::lattice::Lattice;
use crate::path::{arc_offset, TelescopePath};

/// A piece of constant lanecount: from `start` (relative to the window start) to the
/// next piece's start, or the window end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    pub start: f64,
    pub count: u32,
}

/// Pieces of constant N(τ) covering window [τ_a, τ_b] (starts relative to τ_a).
pub fn window_pieces(lattice: &Lattice, path: &TelescopePath, radius: f64, tau_a: f64, tau_b: f64) -> Vec<Piece> {
    let length = tau_b - tau_a;
    if path.speed == 0.0 || length <= 0.0 {
        let (x, y) = path.position(tau_a);
        return vec![Piece { start: 0.0, count: lattice.count_within(x, y, radius) }];
    }
    let mut sweep = Sweep::new(length);
    match path.line_direction() {
        Some(direction) => line_intervals(lattice, path, radius, tau_a, length, direction, &mut sweep),
        None => arc_intervals(lattice, path, radius, tau_a, tau_b, &mut sweep),
    }
    sweep.pieces()
}

/// Inside intervals of a straight window: d = q − P, s = d·û, h = d × û.
fn line_intervals(
    lattice: &Lattice,
    path: &TelescopePath,
    radius: f64,
    tau_a: f64,
    length: f64,
    (ux, uy): (f64, f64),
    sweep: &mut Sweep,
) {
    let (px, py) = path.position(tau_a);
    let (qx, qy) = (px + path.speed * length * ux, py + path.speed * length * uy);
    let r2 = radius * radius;
    let inverse_speed = 1.0 / path.speed;
    lattice.for_each_point_near_segment((px, py), (qx, qy), radius, |x, y| {
        let (dx, dy) = (x - px, y - py);
        let along = dx * ux + dy * uy;
        let across = dx * uy - dy * ux;
        let h2 = across * across;
        if h2 >= r2 {
            return;
        }
        let half_chord = (r2 - h2).sqrt();
        sweep.add((along - half_chord) * inverse_speed, (along + half_chord) * inverse_speed);
    });
}

/// Inside intervals of an arc window: the point is inside while the arc angle φ lies in
/// (ψ − β, ψ + β) + 2πk. Everything is computed relative to the window start P and the
/// unit vector e from the centre to P, never from the centre itself (which may lie
/// ~10¹⁷ away for a nearly straight arc): with d = q − P, ρ² − R² = |d|² + 2R·(d·e) and
/// ψ − φ_a = atan2(e × d, R + e·d).
fn arc_intervals(lattice: &Lattice, path: &TelescopePath, radius: f64, tau_a: f64, tau_b: f64, sweep: &mut Sweep) {
    let Some((arc_radius, phi_a)) = path.arc_at(tau_a) else { return };
    let rate = path.theta_rate_rad_per_s;
    let direction = rate.signum();
    let travelled = rate.abs() * (tau_b - tau_a); // angle swept in the window, ≤ π/4
    let (px, py) = path.position(tau_a);
    // Candidates: the strip around the window's chord, widened by the arc's sagitta
    // 2R·sin²(Δφ/4) (the arc, at most π/4 here, never leaves that strip).
    let swept = rate * (tau_b - tau_a);
    let (cx, cy) = arc_offset(arc_radius, phi_a, swept);
    let sagitta = 2.0 * arc_radius * (0.25 * swept).sin().powi(2);
    let (ex, ey) = (phi_a.cos(), phi_a.sin());
    let r2 = radius * radius;
    lattice.for_each_point_near_segment((px, py), (px + cx, py + cy), radius + sagitta, |x, y| {
        let (dx, dy) = (x - px, y - py);
        let along_e = dx * ex + dy * ey;
        let excess = dx * dx + dy * dy + 2.0 * arc_radius * along_e; // ρ² − R²
        let rho = (arc_radius * arc_radius + excess).max(0.0).sqrt();
        if rho + arc_radius <= radius {
            sweep.add(f64::NEG_INFINITY, f64::INFINITY);
            return;
        }
        let gap = -excess / (arc_radius + rho); // R − ρ without cancellation
        if gap.abs() >= radius {
            return;
        }
        let half_angle = 2.0 * ((r2 - gap * gap) / (4.0 * arc_radius * rho)).sqrt().min(1.0).asin();
        // Angle still to travel from the window start to the point's centre angle ψ.
        let centre = direction * (ex * dy - ey * dx).atan2(arc_radius + along_e);
        let k_first = ((-centre - half_angle) / TAU).floor() as i64;
        let k_last = ((travelled - centre + half_angle) / TAU).ceil() as i64;
        for k in k_first..=k_last {
            let middle = centre + TAU * k as f64;
            let (enter, leave) = (middle - half_angle, middle + half_angle);
            if leave > 0.0 && enter < travelled {
                sweep.add(enter / rate.abs(), leave / rate.abs());
            }
        }
    });
}

/// +1/−1 events of clipped inside intervals, swept into pieces of constant count.
///
/// An event is one u64: the bits of its time (in (0, length), so they sort like the
/// numbers and the top bit is free) shifted left once, with the low bit set for an
/// entry. Sorting plain u64 keys is what makes dense lanesheets affordable.
struct Sweep {
    length: f64,
    initial: i64,
    events: Vec<u64>,
}

impl Sweep {
    fn new(length: f64) -> Self {
        Self { length, initial: 0, events: Vec::new() }
    }

    /// The open inside interval (enter, leave), in seconds from the window start.
    fn add(&mut self, enter: f64, leave: f64) {
        if leave <= 0.0 || enter >= self.length {
            return;
        }
        if enter <= 0.0 {
            self.initial += 1;
        } else {
            self.events.push((enter.to_bits() << 1) | 1);
        }
        if leave < self.length {
            self.events.push(leave.to_bits() << 1);
        }
    }

    fn pieces(mut self) -> Vec<Piece> {
        // Events at equal times are applied together, so their order does not matter.
        sort_events(&mut self.events, self.length);
        let mut count = self.initial;
        let mut pieces = vec![Piece { start: 0.0, count: clamp_count(count) }];
        let mut i = 0;
        while i < self.events.len() {
            let time_bits = self.events[i] >> 1;
            while i < self.events.len() && self.events[i] >> 1 == time_bits {
                count += if self.events[i] & 1 == 1 { 1 } else { -1 };
                i += 1;
            }
            let time = f64::from_bits(time_bits);
            let value = clamp_count(count);
            if let Some(last) = pieces.last_mut() {
                if last.count == value {
                    continue; // e.g. one point leaves as another enters
                }
            }
            pieces.push(Piece { start: time, count: value });
        }
        pieces
    }
}

/// Sort event keys. Event times spread fairly evenly over the window, so a bucket pass
/// (by time) followed by small sorts is linear in practice; dense lanesheets sort
/// millions of events per window.
fn sort_events(events: &mut Vec<u64>, length: f64) {
    const BUCKET_MIN_EVENTS: usize = 4096;
    if events.len() < BUCKET_MIN_EVENTS || length.is_nan() || length <= 0.0 {
        events.sort_unstable();
        return;
    }
    let buckets = events.len() / 4;
    let scale = buckets as f64 / length;
    let bucket_of = |key: u64| ((f64::from_bits(key >> 1) * scale) as usize).min(buckets - 1);
    let mut starts = vec![0usize; buckets + 1];
    for &key in events.iter() {
        starts[bucket_of(key) + 1] += 1;
    }
    for b in 0..buckets {
        starts[b + 1] += starts[b];
    }
    let mut placed = vec![0u64; events.len()];
    let mut next = starts.clone();
    for &key in events.iter() {
        let b = bucket_of(key);
        placed[next[b]] = key;
        next[b] += 1;
    }
    for b in 0..buckets {
        placed[starts[b]..starts[b + 1]].sort_unstable();
    }
    *events = placed;
}

fn clamp_count(count: i64) -> u32 {
    u32::try_from(count.max(0)).unwrap_or(u32::MAX)
}

/// N(τ) of `pieces` (absolute windows given by `window_starts`) at τ, for tests and traces.
pub fn count_at(pieces: &[Piece], tau_relative: f64) -> u32 {
    let index = pieces.partition_point(|p| p.start <= tau_relative);
    pieces[index.saturating_sub(1)].count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_against_brute_force(lattice: &Lattice, path: &TelescopePath, radius: f64, samples: usize) {
        let windows = path.window_count(radius);
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            state = crate::rng::mix(state);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let all: Vec<(f64, Vec<Piece>)> = (0..windows)
            .map(|k| {
                let (a, b) = path.window(k, windows);
                (a, window_pieces(lattice, path, radius, a, b))
            })
            .collect();
        let mut checked = 0;
        for _ in 0..samples {
            let tau = next() * path.duration_s;
            let k = ((tau / path.duration_s) * windows as f64).floor().min(windows as f64 - 1.0) as usize;
            let (a, pieces) = &all[k];
            let rel = tau - a;
            // skip times within 1e-9 s of a change point
            if pieces.iter().any(|p| (p.start - rel).abs() < 1e-9) {
                continue;
            }
            let (x, y) = path.position(tau);
            assert_eq!(count_at(pieces, rel), lattice.count_within(x, y, radius), "τ = {tau}");
            checked += 1;
        }
        assert!(checked > samples * 9 / 10);
    }

    #[test]
    fn straight_line_matches_brute_force() {
        let lattice = Lattice::new(0.9).unwrap();
        let path = TelescopePath::new(0.1234, 0.0, 0.37, (0.3, -0.2), 2000.0, 1.1).unwrap();
        check_against_brute_force(&lattice, &path, 1.1, 3000);
    }

    #[test]
    fn arc_and_multi_turn_arc_match_brute_force() {
        let lattice = Lattice::new(0.5).unwrap();
        let arc = TelescopePath::new(0.3, 0.002, 0.2, (0.1, 0.4), 3000.0, 0.45).unwrap();
        check_against_brute_force(&lattice, &arc, 0.45, 3000);
        let turns = TelescopePath::new(1.0, -0.05, 0.3, (-0.2, 0.0), 2000.0, 0.7).unwrap();
        assert!(turns.theta_rate_rad_per_s.abs() * 2000.0 > 10.0 * TAU);
        check_against_brute_force(&lattice, &turns, 0.7, 3000);
    }

    #[test]
    fn bucket_sort_matches_a_plain_sort() {
        let mut state = 7u64;
        let mut keys: Vec<u64> = (0..50_000)
            .map(|i| {
                state = crate::rng::mix(state);
                let time = (state >> 11) as f64 / (1u64 << 53) as f64 * 100.0;
                (time.to_bits() << 1) | (i % 2)
            })
            .collect();
        keys.extend_from_slice(&keys.clone()[..1000]); // exact duplicates
        let mut expected = keys.clone();
        expected.sort_unstable();
        sort_events(&mut keys, 100.0);
        assert_eq!(keys, expected);
    }

    #[test]
    fn stationary_telescope_has_one_piece() {
        let lattice = Lattice::new(1.0).unwrap();
        let path = TelescopePath::new(0.0, 0.0, 0.0, (0.1, 0.1), 100.0, 1.5).unwrap();
        let pieces = window_pieces(&lattice, &path, 1.5, 0.0, 100.0);
        assert_eq!(pieces, vec![Piece { start: 0.0, count: lattice.count_within(0.1, 0.1, 1.5) }]);
    }
}

/// Every change point of N(τ) in [τ0, τ1]: a first row at τ0, a last row at τ1, each
/// value holding until the next row. Deterministic, no randomness. τ0 ≤ τ1, both finite.
pub fn trace(
    lattice: &Lattice,
    path: &TelescopePath,
    radius: f64,
    tau0: f64,
    tau1: f64,
) -> CoreResult<(Vec<f64>, Vec<u32>)> {
    if !(tau0 <= tau1 && tau0.is_finite() && tau1.is_finite()) {
        return Err(CoreError::Parameter(format!("trace span must satisfy t0 ≤ t1, got [{tau0}, {tau1}]")));
    }
    let windows = path.window_count(radius);
    let (mut times, mut counts) = (Vec::new(), Vec::new());
    for k in 0..windows {
        let (a, b) = path.window(k, windows);
        if b < tau0 || a > tau1 || (b == tau0 && k + 1 < windows) {
            continue;
        }
        for piece in window_pieces(lattice, path, radius, a, b) {
            let start = (a + piece.start).max(tau0);
            if start > tau1 {
                break;
            }
            match (times.last(), counts.last()) {
                (_, Some(&last)) if last == piece.count => {}
                (Some(&t), Some(_)) if t == start => {
                    // a later piece starting at τ0 replaces the earlier value there
                    let n = counts.len();
                    counts[n - 1] = piece.count;
                }
                _ => {
                    times.push(start);
                    counts.push(piece.count);
                }
            }
        }
    }
    if let Some(&last) = counts.last() {
        times.push(tau1);
        counts.push(last);
    }
    Ok((times, counts))
}

#[cfg(test)]
mod trace_tests {
    use super::*;

    #[test]
    fn trace_matches_brute_force_between_rows() {
        let lattice = Lattice::new(0.6).unwrap();
        let path = TelescopePath::new(0.51, 0.0, 0.12, (0.0, 0.0), 24_000.0, 0.8).unwrap();
        let (times, counts) = trace(&lattice, &path, 0.8, 100.0, 9000.0).unwrap();
        assert_eq!(times[0], 100.0);
        assert_eq!(*times.last().unwrap(), 9000.0);
        assert!(times.windows(2).all(|w| w[0] < w[1] || w[1] == 9000.0));
        assert!(counts.windows(2).take(counts.len() - 2).all(|w| w[0] != w[1]));
        for pair in times.windows(2).zip(&counts) {
            let (w, &n) = pair;
            let mid = 0.5 * (w[0] + w[1]);
            let (x, y) = path.position(mid);
            assert_eq!(lattice.count_within(x, y, 0.8), n, "τ = {mid}");
        }
        assert!(trace(&lattice, &path, 0.8, 9000.0, 100.0).is_err());
        assert!(trace(&lattice, &path, 0.8, f64::NAN, 100.0).is_err());
        assert!(trace(&lattice, &path, 0.8, 0.0, f64::INFINITY).is_err());
    }
}
