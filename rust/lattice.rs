//! Triangular lanesheet lattices (SPEC §7.1). Lengths are lattice units (dimensionless
//! model) or light-seconds (empirical model); wavelengths are nm.
//!
//! Λ_w = { g_w·(i + j/2, j·√3/2) : i, j ∈ ℤ }. Every bin's lattice shares the origin,
//! which is what lines up points of different spacings into diobursts.

use crate::error::{CoreError, CoreResult};

/// Speed of light [m s⁻¹].
pub const SPEED_OF_LIGHT_M_PER_S: f64 = 299_792_458.0;
const SQRT3: f64 = 1.732_050_807_568_877_2;

/// How the lattice spacing depends on wavelength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpacingModel {
    /// g(λ) = α·exp(lucretius·λ) [lu].
    Dimensionless { alpha_lu: f64, lucretius_per_nm: f64 },
    /// g(λ) = 4α/√N_dir with N_dir = 4(l0·λ_ls)² + 2 and λ_ls = λ·10⁻⁹/c [ls].
    Empirical { alpha_ls: f64, l0_per_ls: f64 },
}

impl SpacingModel {
    /// The model called `name`: "dimensionless" (α [lu], lucretius [nm⁻¹]) or
    /// "empirical" (α [ls], l0 [ls⁻¹]).
    pub fn from_name(name: &str, first: f64, second: f64) -> CoreResult<Self> {
        match name {
            "dimensionless" => Ok(Self::Dimensionless { alpha_lu: first, lucretius_per_nm: second }),
            "empirical" => Ok(Self::Empirical { alpha_ls: first, l0_per_ls: second }),
            other => Err(CoreError::Parameter(format!("unknown lattice model '{other}'"))),
        }
    }

    /// g(λ) of every wavelength [nm].
    pub fn spacings(&self, wavelength_nm: &[f64]) -> Vec<f64> {
        wavelength_nm.iter().map(|&l| self.spacing(l)).collect()
    }

    /// Lattice spacing g at wavelength `wavelength_nm`.
    pub fn spacing(&self, wavelength_nm: f64) -> f64 {
        match *self {
            Self::Dimensionless { alpha_lu, lucretius_per_nm } => alpha_lu * (lucretius_per_nm * wavelength_nm).exp(),
            Self::Empirical { alpha_ls, l0_per_ls } => {
                let wavelength_ls = wavelength_nm * 1e-9 / SPEED_OF_LIGHT_M_PER_S;
                let directions = 4.0 * (l0_per_ls * wavelength_ls).powi(2) + 2.0;
                4.0 * alpha_ls / directions.sqrt()
            }
        }
    }
}

/// N̄ = π r²/cell area of the lattice of every spacing; errors on a spacing that is not
/// finite and > 0.
pub fn mean_lanecounts(spacing: &[f64], receiving_radius: f64) -> CoreResult<Vec<f64>> {
    spacing.iter().map(|&g| Ok(Lattice::new(g)?.mean_lanecount(receiving_radius))).collect()
}

/// One triangular lattice of spacing `g` through the origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lattice {
    pub g: f64,
}

impl Lattice {
    pub fn new(g: f64) -> CoreResult<Self> {
        if !(g > 0.0 && g.is_finite()) {
            return Err(CoreError::Parameter(format!("lattice spacing must be finite and > 0, got {g}")));
        }
        Ok(Self { g })
    }

    /// Area per lattice point, (√3/2)·g².
    pub fn cell_area(&self) -> f64 {
        0.5 * SQRT3 * self.g * self.g
    }

    /// Long-run mean number of points within `radius` of a moving point: π r²/cell area.
    pub fn mean_lanecount(&self, radius: f64) -> f64 {
        std::f64::consts::PI * radius * radius / self.cell_area()
    }

    /// Row spacing √3/2·g.
    fn row_height(&self) -> f64 {
        0.5 * SQRT3 * self.g
    }

    /// Call `visit(x, y)` for every lattice point inside the closed box.
    pub fn for_each_point_in_box(&self, xmin: f64, xmax: f64, ymin: f64, ymax: f64, mut visit: impl FnMut(f64, f64)) {
        let h = self.row_height();
        let j_first = (ymin / h).ceil() as i64;
        let j_last = (ymax / h).floor() as i64;
        for j in j_first..=j_last {
            let y = j as f64 * h;
            let shift = 0.5 * j as f64;
            let i_first = (xmin / self.g - shift).ceil() as i64;
            let i_last = (xmax / self.g - shift).floor() as i64;
            for i in i_first..=i_last {
                visit(self.g * (i as f64 + shift), y);
            }
        }
    }

    /// Call `visit(x, y)` for lattice points near the segment from `a` to `b`: a superset of
    /// those within `half_width` of it. Each row visits only where it crosses the strip
    /// around the segment's line, so a diagonal segment costs its area, not its box's.
    pub fn for_each_point_near_segment(
        &self,
        a: (f64, f64),
        b: (f64, f64),
        half_width: f64,
        mut visit: impl FnMut(f64, f64),
    ) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let length = (dx * dx + dy * dy).sqrt();
        let (xmin, xmax) = (a.0.min(b.0) - half_width, a.0.max(b.0) + half_width);
        let (ymin, ymax) = (a.1.min(b.1) - half_width, a.1.max(b.1) + half_width);
        // Rows cross the strip |(q − a) × û| ≤ half_width in an x-interval of width 2·hw/|u_y|.
        let strip = if length > 0.0 && dy.abs() > 1e-9 * length {
            Some((dx / dy, half_width * length / dy.abs()))
        } else {
            None
        };
        let h = self.row_height();
        let j_first = (ymin / h).ceil() as i64;
        let j_last = (ymax / h).floor() as i64;
        for j in j_first..=j_last {
            let y = j as f64 * h;
            let (mut lo, mut hi) = (xmin, xmax);
            if let Some((slope, half)) = strip {
                let centre = a.0 + (y - a.1) * slope;
                lo = lo.max(centre - half);
                hi = hi.min(centre + half);
            }
            let shift = 0.5 * j as f64;
            let i_first = (lo / self.g - shift).ceil() as i64;
            let i_last = (hi / self.g - shift).floor() as i64;
            for i in i_first..=i_last {
                visit(self.g * (i as f64 + shift), y);
            }
        }
    }

    /// The lattice points strictly within `radius` of (px, py), rows ascending and
    /// x ascending within a row: a fixed order, so an index drawn into it is reproducible.
    pub fn points_within(&self, px: f64, py: f64, radius: f64) -> Vec<(f64, f64)> {
        let mut inside = Vec::new();
        let r2 = radius * radius;
        self.for_each_point_in_box(px - radius, px + radius, py - radius, py + radius, |x, y| {
            let (dx, dy) = (x - px, y - py);
            if dx * dx + dy * dy < r2 {
                inside.push((x, y));
            }
        });
        inside
    }

    /// Number of lattice points strictly within `radius` of (px, py) (brute force).
    pub fn count_within(&self, px: f64, py: f64, radius: f64) -> u32 {
        let mut count = 0;
        let r2 = radius * radius;
        self.for_each_point_in_box(px - radius, px + radius, py - radius, py + radius, |x, y| {
            let (dx, dy) = (x - px, y - py);
            if dx * dx + dy * dy < r2 {
                count += 1;
            }
        });
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensionless_and_empirical_spacings() {
        let model = SpacingModel::Dimensionless { alpha_lu: 5.0, lucretius_per_nm: -2.0 };
        assert!((model.spacing(0.5) - 5.0 * (-1.0f64).exp()).abs() < 1e-15);
        let alpha = 2.0;
        let l0 = 1e8;
        let empirical = SpacingModel::Empirical { alpha_ls: alpha, l0_per_ls: l0 };
        let lam_ls = 0.5e-9 / SPEED_OF_LIGHT_M_PER_S;
        let n_dir = 4.0 * (l0 * lam_ls).powi(2) + 2.0;
        // g = 2√(a/π) with a = 4πα²/N_dir
        let area = 4.0 * std::f64::consts::PI * alpha * alpha / n_dir;
        assert!((empirical.spacing(0.5) - 2.0 * (area / std::f64::consts::PI).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn mean_lanecount_formula() {
        let lattice = Lattice::new(1.3).unwrap();
        let expected = 2.0 * std::f64::consts::PI * 0.8 * 0.8 / (SQRT3 * 1.3 * 1.3);
        assert!((lattice.mean_lanecount(0.8) - expected).abs() < 1e-12);
        let means = mean_lanecounts(&[1.3, 2.0], 0.8).unwrap();
        assert_eq!(means, vec![lattice.mean_lanecount(0.8), Lattice::new(2.0).unwrap().mean_lanecount(0.8)]);
        assert!(mean_lanecounts(&[1.3, 0.0], 0.8).is_err());
        assert!(mean_lanecounts(&[f64::NAN], 0.8).is_err());
    }

    #[test]
    fn models_by_name_and_many_spacings() {
        let model = SpacingModel::from_name("dimensionless", 5.0, -2.0).unwrap();
        assert_eq!(model, SpacingModel::Dimensionless { alpha_lu: 5.0, lucretius_per_nm: -2.0 });
        assert_eq!(model.spacings(&[0.5, 0.7]), vec![model.spacing(0.5), model.spacing(0.7)]);
        let empirical = SpacingModel::from_name("empirical", 2.0, 1e8).unwrap();
        assert_eq!(empirical, SpacingModel::Empirical { alpha_ls: 2.0, l0_per_ls: 1e8 });
        assert_eq!(
            SpacingModel::from_name("cubic", 1.0, 1.0),
            Err(CoreError::Parameter("unknown lattice model 'cubic'".into()))
        );
    }

    #[test]
    fn box_enumeration_matches_a_wide_scan() {
        let lattice = Lattice::new(0.7).unwrap();
        let (xmin, xmax, ymin, ymax) = (-2.3, 3.1, -1.7, 2.9);
        let mut found = Vec::new();
        lattice.for_each_point_in_box(xmin, xmax, ymin, ymax, |x, y| found.push((x, y)));
        let mut expected = Vec::new();
        for j in -20i64..=20 {
            for i in -20i64..=20 {
                let x = 0.7 * (i as f64 + 0.5 * j as f64);
                let y = j as f64 * 0.5 * SQRT3 * 0.7;
                if (xmin..=xmax).contains(&x) && (ymin..=ymax).contains(&y) {
                    expected.push((x, y));
                }
            }
        }
        assert_eq!(found.len(), expected.len());
    }

    #[test]
    fn segment_enumeration_covers_every_point_near_the_segment() {
        let lattice = Lattice::new(0.3).unwrap();
        for (a, b) in [
            ((0.1, 0.2), (40.0, 25.0)),
            ((0.0, 0.0), (30.0, 0.0)),
            ((5.0, -3.0), (5.0, 20.0)),
            ((1.0, 1.0), (1.0, 1.0)),
        ] {
            let hw = 0.8;
            let mut near = Vec::new();
            lattice.for_each_point_near_segment(a, b, hw, |x, y| near.push((x, y)));
            let mut expected = 0;
            lattice.for_each_point_in_box(
                a.0.min(b.0) - hw,
                a.0.max(b.0) + hw,
                a.1.min(b.1) - hw,
                a.1.max(b.1) + hw,
                |x, y| {
                    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                    let len2 = dx * dx + dy * dy;
                    let t = if len2 > 0.0 { (((x - a.0) * dx + (y - a.1) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
                    let (cx, cy) = (a.0 + t * dx - x, a.1 + t * dy - y);
                    if cx * cx + cy * cy <= hw * hw {
                        expected += 1;
                        assert!(near.iter().any(|&(nx, ny)| nx == x && ny == y), "missed ({x}, {y})");
                    }
                },
            );
            assert!(near.len() >= expected);
        }
    }

    #[test]
    fn points_within_matches_count_within() {
        let lattice = Lattice::new(0.9).unwrap();
        for (px, py) in [(0.0, 0.0), (0.45, 0.2), (-3.7, 11.3)] {
            let inside = lattice.points_within(px, py, 1.3);
            assert_eq!(inside.len() as u32, lattice.count_within(px, py, 1.3));
            assert!(inside.iter().all(|&(x, y)| (x - px).powi(2) + (y - py).powi(2) < 1.3 * 1.3));
        }
    }

    #[test]
    fn rejects_bad_spacing() {
        assert!(Lattice::new(0.0).is_err());
        assert!(Lattice::new(f64::NAN).is_err());
    }
}
