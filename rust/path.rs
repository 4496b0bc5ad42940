//! The telescope's trajectory across the lanesheet (SPEC §7.3). τ = t − tstart [s],
//! positions in lattice units (or light-seconds), angles in radians.
//!
//! One continuous trajectory is shared by all bins: a straight line when the heading
//! is constant (or the arc's sagitta over the whole span is negligible), else a
//! circular arc that wraps as often as needed.

use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};

use crate::error::{CoreError, CoreResult};

/// Windows split a path into pieces at most this many receiving radii long.
pub const WINDOW_RADII: f64 = 256.0;
/// Below this sagitta (relative to r_e) an arc is treated as a line.
const SAGITTA_TOLERANCE: f64 = 1e-12;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Line {
        ux: f64,
        uy: f64,
    },
    /// Circle of `radius`; `phi0` = θ0 − sign(θ′)·π/2 is the angle of the start as seen
    /// from the centre. Positions are computed relative to the start (see `arc_offset`),
    /// never from the centre, which lies ~R away and would cost R·ε of precision.
    Arc {
        radius: f64,
        phi0: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TelescopePath {
    pub theta0_rad: f64,
    pub theta_rate_rad_per_s: f64,
    pub speed: f64,
    pub duration_s: f64,
    pub start: (f64, f64),
    shape: Shape,
}

impl TelescopePath {
    /// A path of the given heading, speed and start over [0, duration]; `receiving_radius`
    /// decides when an arc is flat enough to be a line.
    pub fn new(
        theta0_rad: f64,
        theta_rate_rad_per_s: f64,
        speed: f64,
        start: (f64, f64),
        duration_s: f64,
        receiving_radius: f64,
    ) -> CoreResult<Self> {
        let finite = [theta0_rad, theta_rate_rad_per_s, speed, start.0, start.1, duration_s, receiving_radius];
        if finite.iter().any(|v| !v.is_finite()) {
            return Err(CoreError::Parameter("path parameters must be finite".into()));
        }
        if duration_s <= 0.0 {
            return Err(CoreError::Parameter(format!("time span must be > 0 s, got {duration_s}")));
        }
        if speed < 0.0 {
            return Err(CoreError::Parameter(format!("velocity must be ≥ 0, got {speed}")));
        }
        if receiving_radius <= 0.0 {
            return Err(CoreError::Parameter(format!("receiving radius must be > 0, got {receiving_radius}")));
        }
        let sagitta = speed * theta_rate_rad_per_s.abs() * duration_s * duration_s / 8.0;
        let shape = if theta_rate_rad_per_s == 0.0 || speed == 0.0 || sagitta < SAGITTA_TOLERANCE * receiving_radius {
            Shape::Line { ux: theta0_rad.cos(), uy: theta0_rad.sin() }
        } else {
            let radius = speed / theta_rate_rad_per_s.abs();
            let phi0 = theta0_rad - theta_rate_rad_per_s.signum() * FRAC_PI_2;
            Shape::Arc { radius, phi0 }
        };
        Ok(Self { theta0_rad, theta_rate_rad_per_s, speed, duration_s, start, shape })
    }

    pub fn is_straight(&self) -> bool {
        matches!(self.shape, Shape::Line { .. })
    }

    /// Position at τ.
    pub fn position(&self, tau: f64) -> (f64, f64) {
        match self.shape {
            Shape::Line { ux, uy } => (self.start.0 + self.speed * tau * ux, self.start.1 + self.speed * tau * uy),
            Shape::Arc { radius, phi0 } => {
                let (dx, dy) = arc_offset(radius, phi0, self.theta_rate_rad_per_s * tau);
                (self.start.0 + dx, self.start.1 + dy)
            }
        }
    }

    /// Positions (x, y) at every τ.
    pub fn positions(&self, tau: &[f64]) -> (Vec<f64>, Vec<f64>) {
        tau.iter().map(|&t| self.position(t)).unzip()
    }

    /// Number of windows K = max(1, ⌈vD/(256·r_e)⌉, ⌈|θ′|D/(π/4)⌉); never depends on threads.
    pub fn window_count(&self, receiving_radius: f64) -> usize {
        let along = (self.speed * self.duration_s / (WINDOW_RADII * receiving_radius)).ceil();
        let turning = match self.shape {
            Shape::Arc { .. } => (self.theta_rate_rad_per_s.abs() * self.duration_s / FRAC_PI_4).ceil(),
            Shape::Line { .. } => 1.0,
        };
        along.max(turning).max(1.0) as usize
    }

    /// [τ_a, τ_b] of window `k` of `count` equal windows.
    pub fn window(&self, k: usize, count: usize) -> (f64, f64) {
        let d = self.duration_s;
        (d * k as f64 / count as f64, d * (k + 1) as f64 / count as f64)
    }

    pub(crate) fn line_direction(&self) -> Option<(f64, f64)> {
        match self.shape {
            Shape::Line { ux, uy } => Some((ux, uy)),
            Shape::Arc { .. } => None,
        }
    }

    /// (radius, angle from the centre at τ) of an arc path.
    pub(crate) fn arc_at(&self, tau: f64) -> Option<(f64, f64)> {
        match self.shape {
            Shape::Arc { radius, phi0 } => Some((radius, phi0 + self.theta_rate_rad_per_s * tau)),
            Shape::Line { .. } => None,
        }
    }
}

/// R·(cos(φ + Δφ) − cos φ, sin(φ + Δφ) − sin φ), written with sin(Δφ/2) so that it stays
/// accurate for huge R and tiny Δφ (a nearly straight arc).
pub(crate) fn arc_offset(radius: f64, phi: f64, delta_phi: f64) -> (f64, f64) {
    let chord = 2.0 * radius * (0.5 * delta_phi).sin();
    let middle = phi + 0.5 * delta_phi;
    (-chord * middle.sin(), chord * middle.cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_moves_at_speed_along_heading() {
        let path = TelescopePath::new(0.3, 0.0, 2.0, (1.0, -1.0), 100.0, 0.5).unwrap();
        assert!(path.is_straight());
        let (x, y) = path.position(10.0);
        assert!((x - (1.0 + 20.0 * 0.3f64.cos())).abs() < 1e-12 && (y - (-1.0 + 20.0 * 0.3f64.sin())).abs() < 1e-12);
        let (xs, ys) = path.positions(&[10.0, 0.0]);
        assert_eq!((xs, ys), (vec![x, 1.0], vec![y, -1.0]));
    }

    #[test]
    fn arc_starts_at_start_with_unit_speed_heading() {
        for rate in [0.01, -0.02] {
            let path = TelescopePath::new(0.7, rate, 1.5, (2.0, 3.0), 1000.0, 0.5).unwrap();
            assert!(!path.is_straight());
            let (x0, y0) = path.position(0.0);
            assert!((x0 - 2.0).abs() < 1e-12 && (y0 - 3.0).abs() < 1e-12);
            for tau in [0.0, 17.0, 400.0] {
                let h = 1e-5;
                let (xa, ya) = path.position(tau - h);
                let (xb, yb) = path.position(tau + h);
                let (vx, vy) = ((xb - xa) / (2.0 * h), (yb - ya) / (2.0 * h));
                assert!(((vx * vx + vy * vy).sqrt() - 1.5).abs() < 1e-6, "speed");
                let heading = 0.7 + rate * tau;
                assert!((vx - 1.5 * heading.cos()).abs() < 1e-6 && (vy - 1.5 * heading.sin()).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn tiny_turn_rate_falls_back_to_a_line() {
        let path = TelescopePath::new(0.2, 1e-20, 1.0, (0.0, 0.0), 1000.0, 0.8).unwrap();
        assert!(path.is_straight());
    }

    #[test]
    fn window_count_follows_the_spec() {
        let path = TelescopePath::new(0.0, 0.0, 0.12, (0.0, 0.0), 24_000.0, 0.8).unwrap();
        assert_eq!(path.window_count(0.8), (0.12f64 * 24_000.0 / (256.0 * 0.8)).ceil() as usize);
        let arc = TelescopePath::new(0.0, 0.01, 0.12, (0.0, 0.0), 24_000.0, 0.8).unwrap();
        assert_eq!(arc.window_count(0.8), (0.01f64 * 24_000.0 / FRAC_PI_4).ceil() as usize);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(TelescopePath::new(0.0, 0.0, -1.0, (0.0, 0.0), 10.0, 1.0).is_err());
        assert!(TelescopePath::new(0.0, 0.0, 1.0, (0.0, 0.0), 0.0, 1.0).is_err());
        assert!(TelescopePath::new(f64::NAN, 0.0, 1.0, (0.0, 0.0), 10.0, 1.0).is_err());
        assert!(TelescopePath::new(0.0, 0.0, 1.0, (0.0, 0.0), 10.0, -1.0).is_err());
    }
}
