//! Geometry of the video (SPEC §16): the lattice points in a view window and the lattice
//! point each photon flashes at. Lengths are those of the lattice (lu or ls), τ is in
//! seconds since the generation's tstart.

use crate::error::{CoreError, CoreResult};
use crate::lattice::Lattice;
use crate::path::TelescopePath;
use crate::rng::{domain, stream, uniform};

/// Bounds the points one window may hold, so a bad `view` cannot exhaust memory.
pub const MAX_WINDOW_POINTS: f64 = 4.0e6;

fn check_window(lattice: &Lattice, half_width: f64) -> CoreResult<()> {
    if !(half_width >= 0.0 && half_width.is_finite()) {
        return Err(CoreError::Parameter(format!("window half-width must be finite and ≥ 0, got {half_width}")));
    }
    let per_axis = 2.0 * half_width / lattice.g + 2.0;
    if per_axis * per_axis > MAX_WINDOW_POINTS {
        return Err(CoreError::Parameter(format!(
            "a window of half-width {half_width} holds ~{:.0} lattice points of spacing {} (limit {MAX_WINDOW_POINTS:.0})",
            per_axis * per_axis,
            lattice.g
        )));
    }
    Ok(())
}

/// Lattice points (x, y) in the closed square of half-width `half_width` around `centre`.
pub fn window_points(lattice: &Lattice, centre: (f64, f64), half_width: f64) -> CoreResult<(Vec<f64>, Vec<f64>)> {
    check_window(lattice, half_width)?;
    if !(centre.0.is_finite() && centre.1.is_finite()) {
        return Err(CoreError::Parameter("window centre must be finite".into()));
    }
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let (x, y) = centre;
    lattice.for_each_point_in_box(x - half_width, x + half_width, y - half_width, y + half_width, |px, py| {
        xs.push(px);
        ys.push(py);
    });
    Ok((xs, ys))
}

/// Per photon, a lattice point strictly inside the receiving circle at its τ: of the
/// points in [`Lattice::points_within`] order, the ⌊u·n⌋-th, u the first uniform of
/// stream(seed, VIDEO, event index). So a photon's point depends only on its index,
/// never on which other photons are shown. NaN where the circle holds no point.
pub fn flash_points(
    lattice: &Lattice,
    path: &TelescopePath,
    receiving_radius: f64,
    tau: &[f64],
    event_index: &[u64],
    seed: u64,
) -> CoreResult<(Vec<f64>, Vec<f64>)> {
    check_window(lattice, receiving_radius)?;
    if tau.len() != event_index.len() {
        return Err(CoreError::Parameter("tau and event_index must have equal lengths".into()));
    }
    Ok(tau
        .iter()
        .zip(event_index)
        .map(|(&t, &index)| {
            let (px, py) = path.position(t);
            let inside = lattice.points_within(px, py, receiving_radius);
            if inside.is_empty() {
                return (f64::NAN, f64::NAN);
            }
            let u = uniform(&mut stream(seed, domain::VIDEO, &[index]));
            inside[((u * inside.len() as f64) as usize).min(inside.len() - 1)]
        })
        .unzip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> TelescopePath {
        TelescopePath::new(0.4, 0.001, 0.05, (0.3, -0.2), 1000.0, 0.9).unwrap()
    }

    #[test]
    fn window_points_are_the_lattice_points_of_the_square() {
        let lattice = Lattice::new(0.7).unwrap();
        let (xs, ys) = window_points(&lattice, (1.0, -0.5), 2.0).unwrap();
        let mut expected = Vec::new();
        lattice.for_each_point_in_box(-1.0, 3.0, -2.5, 1.5, |x, y| expected.push((x, y)));
        assert_eq!(xs.iter().copied().zip(ys.iter().copied()).collect::<Vec<_>>(), expected);
        assert!(xs.iter().zip(&ys).all(|(x, y)| (x - 1.0).abs() <= 2.0 && (y + 0.5).abs() <= 2.0));
        assert!(window_points(&lattice, (f64::NAN, 0.0), 2.0).is_err());
        assert!(window_points(&lattice, (0.0, 0.0), -1.0).is_err());
        assert!(window_points(&lattice, (0.0, 0.0), f64::INFINITY).is_err());
        // ~(2·1e4/0.7)² points: refused before anything is allocated
        assert!(window_points(&lattice, (0.0, 0.0), 1e4).is_err());
    }

    #[test]
    fn flash_points_lie_inside_the_circle_and_follow_the_event_stream() {
        let (lattice, path, radius) = (Lattice::new(0.6).unwrap(), path(), 0.9);
        let tau: Vec<f64> = (0..500).map(|i| i as f64 * 1.7).collect();
        let index: Vec<u64> = (0..500).map(|i| 1000 + 3 * i).collect();
        let (xs, ys) = flash_points(&lattice, &path, radius, &tau, &index, 42).unwrap();
        for (k, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
            let (px, py) = path.position(tau[k]);
            let inside = lattice.points_within(px, py, radius);
            assert!(!inside.is_empty());
            let u = uniform(&mut stream(42, domain::VIDEO, &[index[k]]));
            let pick = inside[((u * inside.len() as f64) as usize).min(inside.len() - 1)];
            assert_eq!((x.to_bits(), y.to_bits()), (pick.0.to_bits(), pick.1.to_bits()));
            assert!((x - px).powi(2) + (y - py).powi(2) < radius * radius);
        }
        // a photon's point depends on its own index only, not on the others shown
        let (x7, y7) = flash_points(&lattice, &path, radius, &tau[7..8], &index[7..8], 42).unwrap();
        assert_eq!((x7[0].to_bits(), y7[0].to_bits()), (xs[7].to_bits(), ys[7].to_bits()));
        let (other, _) = flash_points(&lattice, &path, radius, &tau, &index, 43).unwrap();
        assert_ne!(other, xs);
    }

    #[test]
    fn flash_points_without_a_lattice_point_are_nan_and_bad_input_is_an_error() {
        // a sparse lattice: the circle of radius 0.1 around (25, 25) holds no point
        let lattice = Lattice::new(50.0).unwrap();
        let still = TelescopePath::new(0.0, 0.0, 0.0, (25.0, 25.0), 10.0, 0.1).unwrap();
        let (xs, ys) = flash_points(&lattice, &still, 0.1, &[1.0, 2.0], &[0, 1], 0).unwrap();
        assert!(xs.iter().chain(&ys).all(|v| v.is_nan()));
        assert!(flash_points(&lattice, &still, 0.1, &[1.0], &[0, 1], 0).is_err());
        assert!(flash_points(&lattice, &still, f64::NAN, &[1.0], &[0], 0).is_err());
    }
}
