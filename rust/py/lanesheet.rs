//! Wrappers of the lanesheet simulation: lattice spacing, traces, photon synthesis.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::errors::{gti_pairs, slice, CoreResult};
use super::pool::run_in_pool;
use crate::calibration::Calibration;
use crate::crossing;
use crate::lattice::{Lattice, SpacingModel};
use crate::path::TelescopePath;
use crate::rng::{self, domain};
use crate::synth::{self, BinSpec, Generation, Smearing, Spectrum};
use crate::CoreError;

type F64Array<'py> = Bound<'py, PyArray1<f64>>;
/// (θ0 [rad], θ′ [rad/s], speed, start x, start y, duration [s])
type PathSpec = (f64, f64, f64, f64, f64, f64);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(lattice_spacing, m)?)?;
    m.add_function(wrap_pyfunction!(mean_lanecount, m)?)?;
    m.add_function(wrap_pyfunction!(lanecount_trace, m)?)?;
    m.add_function(wrap_pyfunction!(synthesize, m)?)?;
    m.add_function(wrap_pyfunction!(lattice_points, m)?)?;
    m.add_function(wrap_pyfunction!(path_positions, m)?)?;
    m.add_function(wrap_pyfunction!(flash_points, m)?)?;
    Ok(())
}

fn telescope_path(spec: PathSpec, receiving_radius: f64) -> CoreResult<TelescopePath> {
    let (theta0, rate, speed, x, y, duration) = spec;
    Ok(TelescopePath::new(theta0, rate, speed, (x, y), duration, receiving_radius)?)
}

/// g(λ) for model "dimensionless" (α, lucretius) or "empirical" (α, l0).
#[pyfunction]
fn lattice_spacing<'py>(
    py: Python<'py>,
    model: &str,
    first: f64,
    second: f64,
    wavelength_nm: PyReadonlyArray1<'py, f64>,
) -> CoreResult<F64Array<'py>> {
    let spacing = match model {
        "dimensionless" => SpacingModel::Dimensionless { alpha_lu: first, lucretius_per_nm: second },
        "empirical" => SpacingModel::Empirical { alpha_ls: first, l0_per_ls: second },
        other => return Err(CoreError::Parameter(format!("unknown lattice model '{other}'")).into()),
    };
    let values: Vec<f64> = slice(&wavelength_nm, "wavelength_nm")?.iter().map(|&l| spacing.spacing(l)).collect();
    Ok(values.into_pyarray(py))
}

#[pyfunction]
fn mean_lanecount<'py>(
    py: Python<'py>,
    spacing: PyReadonlyArray1<'py, f64>,
    receiving_radius: f64,
) -> CoreResult<F64Array<'py>> {
    let values = slice(&spacing, "spacing")?
        .iter()
        .map(|&g| Ok(Lattice::new(g)?.mean_lanecount(receiving_radius)))
        .collect::<Result<Vec<f64>, CoreError>>()?;
    Ok(values.into_pyarray(py))
}

/// Change points τ [s since tstart] and counts of N(τ) in [τ0, τ1].
#[pyfunction]
fn lanecount_trace<'py>(
    py: Python<'py>,
    spacing: f64,
    receiving_radius: f64,
    path: PathSpec,
    tau0: f64,
    tau1: f64,
) -> CoreResult<(F64Array<'py>, Bound<'py, PyArray1<u32>>)> {
    let lattice = Lattice::new(spacing)?;
    let path = telescope_path(path, receiving_radius)?;
    if !(tau0 <= tau1 && tau0.is_finite() && tau1.is_finite()) {
        return Err(CoreError::Parameter(format!("trace span must satisfy t0 ≤ t1, got [{tau0}, {tau1}]")).into());
    }
    let (times, counts) = py.detach(|| crossing::trace(&lattice, &path, receiving_radius, tau0, tau1));
    Ok((times.into_pyarray(py), counts.into_pyarray(py)))
}

type PhotonArrays<'py> = (
    F64Array<'py>,
    F64Array<'py>,
    F64Array<'py>,
    Option<Bound<'py, PyArray1<i64>>>,
    F64Array<'py>,
    F64Array<'py>,
    Bound<'py, PyArray1<u16>>,
    Bound<'py, PyArray1<i64>>,
);

/// Photons (time, wavelength, energy, channel or None, x, y, bin, lanecount), sorted.
#[pyfunction]
#[pyo3(signature = (lo_nm, hi_nm, spacing, flux_per_s, isotropic, spectrum, receiving_radius, path, tstart_s,
                    gti_start, gti_stop, smear_fwhm_kev, calibration_name, seed))]
#[allow(clippy::too_many_arguments)]
fn synthesize<'py>(
    py: Python<'py>,
    lo_nm: PyReadonlyArray1<'py, f64>,
    hi_nm: PyReadonlyArray1<'py, f64>,
    spacing: PyReadonlyArray1<'py, f64>,
    flux_per_s: PyReadonlyArray1<'py, f64>,
    isotropic: PyReadonlyArray1<'py, bool>,
    spectrum: (f64, f64, f64, f64),
    receiving_radius: f64,
    path: PathSpec,
    tstart_s: f64,
    gti_start: PyReadonlyArray1<'py, f64>,
    gti_stop: PyReadonlyArray1<'py, f64>,
    smear_fwhm_kev: Option<f64>,
    calibration_name: &str,
    seed: u64,
) -> CoreResult<PhotonArrays<'py>> {
    let (lo, hi, g, flux, iso) = (
        slice(&lo_nm, "lo_nm")?,
        slice(&hi_nm, "hi_nm")?,
        slice(&spacing, "spacing")?,
        slice(&flux_per_s, "flux_per_s")?,
        slice(&isotropic, "isotropic")?,
    );
    let n = lo.len();
    if [hi.len(), g.len(), flux.len(), iso.len()].iter().any(|&len| len != n) {
        return Err(CoreError::Parameter("bin arrays must have equal lengths".into()).into());
    }
    let bins: Vec<BinSpec> = (0..n)
        .map(|w| BinSpec { lo_nm: lo[w], hi_nm: hi[w], spacing: g[w], flux_per_s: flux[w], isotropic: iso[w] })
        .collect();
    let gtis = gti_pairs(&gti_start, &gti_stop)?;
    let smearing = match smear_fwhm_kev {
        Some(fwhm_kev) => Some(Smearing { fwhm_kev, calibration: Calibration::from_name(calibration_name, 0.0, 0.0)? }),
        None => None,
    };
    let (amplitude, lambda0_nm, sigma, floor) = spectrum;
    let generation = Generation {
        bins: &bins,
        spectrum: Spectrum { amplitude, lambda0_nm, sigma, floor },
        receiving_radius,
        path: telescope_path(path, receiving_radius)?,
        tstart_s,
        gtis: &gtis,
        smearing,
        seed,
    };
    let photons = py.detach(|| run_in_pool(|| synth::synthesize(&generation)))?;
    let channel = if smearing.is_some() { Some(photons.channel.into_pyarray(py)) } else { None };
    Ok((
        photons.time_s.into_pyarray(py),
        photons.wavelength_nm.into_pyarray(py),
        photons.energy_kev.into_pyarray(py),
        channel,
        photons.x.into_pyarray(py),
        photons.y.into_pyarray(py),
        photons.bin.into_pyarray(py),
        photons.lanecount.into_pyarray(py),
    ))
}

/// Bounds the points one video window may hold, so a bad `view` cannot exhaust memory.
const MAX_WINDOW_POINTS: f64 = 4.0e6;

fn checked_window(lattice: &Lattice, half_width: f64) -> CoreResult<()> {
    if !(half_width >= 0.0 && half_width.is_finite()) {
        return Err(CoreError::Parameter(format!("window half-width must be finite and ≥ 0, got {half_width}")).into());
    }
    let per_axis = 2.0 * half_width / lattice.g + 2.0;
    if per_axis * per_axis > MAX_WINDOW_POINTS {
        return Err(CoreError::Parameter(format!(
            "a window of half-width {half_width} holds ~{:.0} lattice points of spacing {} (limit {MAX_WINDOW_POINTS:.0})",
            per_axis * per_axis, lattice.g
        ))
        .into());
    }
    Ok(())
}

/// Lattice points (x, y) in the square of half-width `half_width` around `centre`.
#[pyfunction]
fn lattice_points<'py>(
    py: Python<'py>,
    spacing: f64,
    centre: (f64, f64),
    half_width: f64,
) -> CoreResult<(F64Array<'py>, F64Array<'py>)> {
    let lattice = Lattice::new(spacing)?;
    checked_window(&lattice, half_width)?;
    if !(centre.0.is_finite() && centre.1.is_finite()) {
        return Err(CoreError::Parameter("window centre must be finite".into()).into());
    }
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    lattice.for_each_point_in_box(
        centre.0 - half_width,
        centre.0 + half_width,
        centre.1 - half_width,
        centre.1 + half_width,
        |x, y| {
            xs.push(x);
            ys.push(y);
        },
    );
    Ok((xs.into_pyarray(py), ys.into_pyarray(py)))
}

/// Telescope positions p(τ), τ in s since tstart.
#[pyfunction]
fn path_positions<'py>(
    py: Python<'py>,
    path: PathSpec,
    receiving_radius: f64,
    tau: PyReadonlyArray1<'py, f64>,
) -> CoreResult<(F64Array<'py>, F64Array<'py>)> {
    let path = telescope_path(path, receiving_radius)?;
    let (xs, ys): (Vec<f64>, Vec<f64>) = slice(&tau, "tau")?.iter().map(|&t| path.position(t)).unzip();
    Ok((xs.into_pyarray(py), ys.into_pyarray(py)))
}

/// Per photon, a lattice point inside the receiving circle at its τ, picked by the first
/// uniform of stream(seed, VIDEO, event index); NaN where the circle holds no point.
#[pyfunction]
fn flash_points<'py>(
    py: Python<'py>,
    spacing: f64,
    receiving_radius: f64,
    path: PathSpec,
    tau: PyReadonlyArray1<'py, f64>,
    event_index: PyReadonlyArray1<'py, u64>,
    seed: u64,
) -> CoreResult<(F64Array<'py>, F64Array<'py>)> {
    let lattice = Lattice::new(spacing)?;
    checked_window(&lattice, receiving_radius)?;
    let path = telescope_path(path, receiving_radius)?;
    let (taus, indices) = (slice(&tau, "tau")?, slice(&event_index, "event_index")?);
    if taus.len() != indices.len() {
        return Err(CoreError::Parameter("tau and event_index must have equal lengths".into()).into());
    }
    let (xs, ys): (Vec<f64>, Vec<f64>) = py.detach(|| {
        taus.iter()
            .zip(indices)
            .map(|(&t, &index)| {
                let (px, py_) = path.position(t);
                let inside = lattice.points_within(px, py_, receiving_radius);
                if inside.is_empty() {
                    return (f64::NAN, f64::NAN);
                }
                let u = rng::uniform(&mut rng::stream(seed, domain::VIDEO, &[index]));
                inside[((u * inside.len() as f64) as usize).min(inside.len() - 1)]
            })
            .unzip()
    });
    Ok((xs.into_pyarray(py), ys.into_pyarray(py)))
}
