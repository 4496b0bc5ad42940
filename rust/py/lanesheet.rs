//! Wrappers of the lanesheet simulation: lattice spacing, traces, photon synthesis.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::errors::{gti_pairs, slice, CoreResult};
use super::pool::run_in_pool;
use crate::calibration::Calibration;
use crate::crossing;
use crate::lattice::{Lattice, SpacingModel};
use crate::path::TelescopePath;
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
fn mean_lanecount<'py>(py: Python<'py>, spacing: PyReadonlyArray1<'py, f64>, receiving_radius: f64) -> CoreResult<F64Array<'py>> {
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
    let (lo, hi, g, flux, iso) = (slice(&lo_nm, "lo_nm")?, slice(&hi_nm, "hi_nm")?, slice(&spacing, "spacing")?, slice(&flux_per_s, "flux_per_s")?, slice(&isotropic, "isotropic")?);
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
