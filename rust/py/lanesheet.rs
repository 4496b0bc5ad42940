//! Wrappers of the lanesheet model: lattice spacing, traces, photon synthesis, video geometry.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::arrays::{gti_pairs, slice, F64Array, I64Array, U32Array};
use super::pool::compute;
use crate::calibration::Calibration;
use crate::error::CoreResult;
use crate::lattice::{self, Lattice, SpacingModel};
use crate::path::TelescopePath;
use crate::synth::{self, Generation, Smearing, Spectrum};
use crate::{crossing, video};

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

/// The `PathSpec` typed dict of `_core.pyi`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct PathSpec {
    theta0_rad: f64,
    theta_rate_rad_per_s: f64,
    speed: f64,
    start_x: f64,
    start_y: f64,
    duration_s: f64,
}

impl PathSpec {
    fn path(&self, receiving_radius: f64) -> CoreResult<TelescopePath> {
        let start = (self.start_x, self.start_y);
        TelescopePath::new(
            self.theta0_rad,
            self.theta_rate_rad_per_s,
            self.speed,
            start,
            self.duration_s,
            receiving_radius,
        )
    }
}

/// The `SpectrumSpec` typed dict of `_core.pyi`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct SpectrumSpec {
    amplitude: f64,
    lambda0_nm: f64,
    sigma: f64,
    floor: f64,
}

/// The `GenerationSpec` typed dict of `_core.pyi`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct GenerationSpec<'py> {
    lo_nm: PyReadonlyArray1<'py, f64>,
    hi_nm: PyReadonlyArray1<'py, f64>,
    spacing: PyReadonlyArray1<'py, f64>,
    flux_per_s: PyReadonlyArray1<'py, f64>,
    isotropic: PyReadonlyArray1<'py, bool>,
    spectrum: SpectrumSpec,
    receiving_radius: f64,
    path: PathSpec,
    tstart_s: f64,
    gti_start_s: PyReadonlyArray1<'py, f64>,
    gti_stop_s: PyReadonlyArray1<'py, f64>,
    smear_fwhm_kev: Option<f64>,
    calibration_name: String,
    seed: u64,
}

/// g(λ) for model "dimensionless" (α, lucretius) or "empirical" (α, l0).
#[pyfunction]
fn lattice_spacing<'py>(
    py: Python<'py>,
    model: &str,
    first: f64,
    second: f64,
    wavelength_nm: PyReadonlyArray1<'py, f64>,
) -> PyResult<F64Array<'py>> {
    let model = SpacingModel::from_name(model, first, second)?;
    Ok(model.spacings(slice(&wavelength_nm, "wavelength_nm")?).into_pyarray(py))
}

#[pyfunction]
fn mean_lanecount<'py>(
    py: Python<'py>,
    spacing: PyReadonlyArray1<'py, f64>,
    receiving_radius: f64,
) -> PyResult<F64Array<'py>> {
    Ok(lattice::mean_lanecounts(slice(&spacing, "spacing")?, receiving_radius)?.into_pyarray(py))
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
) -> PyResult<(F64Array<'py>, U32Array<'py>)> {
    let lattice = Lattice::new(spacing)?;
    let path = path.path(receiving_radius)?;
    let (times, counts) = compute(py, || crossing::trace(&lattice, &path, receiving_radius, tau0, tau1))?;
    Ok((times.into_pyarray(py), counts.into_pyarray(py)))
}

type PhotonArrays<'py> = (
    F64Array<'py>,
    F64Array<'py>,
    F64Array<'py>,
    Option<I64Array<'py>>,
    F64Array<'py>,
    F64Array<'py>,
    Bound<'py, PyArray1<u16>>,
    I64Array<'py>,
);

/// Photons (time, wavelength, energy, channel or None, x, y, bin, lanecount), sorted.
#[pyfunction]
fn synthesize<'py>(py: Python<'py>, generation: GenerationSpec<'py>) -> PyResult<PhotonArrays<'py>> {
    let GenerationSpec {
        lo_nm,
        hi_nm,
        spacing,
        flux_per_s,
        isotropic,
        spectrum: SpectrumSpec { amplitude, lambda0_nm, sigma, floor },
        receiving_radius,
        path,
        tstart_s,
        gti_start_s,
        gti_stop_s,
        smear_fwhm_kev,
        calibration_name,
        seed,
    } = generation;
    let bins = synth::bin_specs(
        slice(&lo_nm, "lo_nm")?,
        slice(&hi_nm, "hi_nm")?,
        slice(&spacing, "spacing")?,
        slice(&flux_per_s, "flux_per_s")?,
        slice(&isotropic, "isotropic")?,
    )?;
    let gtis = gti_pairs(&gti_start_s, &gti_stop_s)?;
    let smearing = match smear_fwhm_kev {
        Some(fwhm_kev) => {
            Some(Smearing { fwhm_kev, calibration: Calibration::from_name(&calibration_name, 0.0, 0.0)? })
        }
        None => None,
    };
    let generation = Generation {
        bins: &bins,
        spectrum: Spectrum { amplitude, lambda0_nm, sigma, floor },
        receiving_radius,
        path: path.path(receiving_radius)?,
        tstart_s,
        gtis: &gtis,
        smearing,
        seed,
    };
    let photons = compute(py, || synth::synthesize(&generation))?;
    let channel = smearing.map(|_| photons.channel.into_pyarray(py));
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

/// Lattice points (x, y) in the square of half-width `half_width` around `centre`.
#[pyfunction]
fn lattice_points<'py>(
    py: Python<'py>,
    spacing: f64,
    centre: (f64, f64),
    half_width: f64,
) -> PyResult<(F64Array<'py>, F64Array<'py>)> {
    let lattice = Lattice::new(spacing)?;
    let (xs, ys) = video::window_points(&lattice, centre, half_width)?;
    Ok((xs.into_pyarray(py), ys.into_pyarray(py)))
}

/// Telescope positions p(τ), τ in s since tstart.
#[pyfunction]
fn path_positions<'py>(
    py: Python<'py>,
    path: PathSpec,
    receiving_radius: f64,
    tau: PyReadonlyArray1<'py, f64>,
) -> PyResult<(F64Array<'py>, F64Array<'py>)> {
    let path = path.path(receiving_radius)?;
    let (xs, ys) = path.positions(slice(&tau, "tau")?);
    Ok((xs.into_pyarray(py), ys.into_pyarray(py)))
}

/// Per photon, the lattice point it flashes at (crate::video::flash_points); NaN when none.
#[pyfunction]
fn flash_points<'py>(
    py: Python<'py>,
    spacing: f64,
    receiving_radius: f64,
    path: PathSpec,
    tau: PyReadonlyArray1<'py, f64>,
    event_index: PyReadonlyArray1<'py, u64>,
    seed: u64,
) -> PyResult<(F64Array<'py>, F64Array<'py>)> {
    let lattice = Lattice::new(spacing)?;
    let path = path.path(receiving_radius)?;
    let (taus, indices) = (slice(&tau, "tau")?, slice(&event_index, "event_index")?);
    let (xs, ys) = compute(py, || video::flash_points(&lattice, &path, receiving_radius, taus, indices, seed))?;
    Ok((xs.into_pyarray(py), ys.into_pyarray(py)))
}
