//! Wrappers of the RNG contract, the calibrations and channel dithering.

use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;

use super::arrays::{slice, F64Array, I64Array};
use super::pool::compute;
use crate::calibration::Calibration;
use crate::{dither, rng};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(mix, m)?)?;
    m.add_function(wrap_pyfunction!(key, m)?)?;
    m.add_function(wrap_pyfunction!(str_u64, m)?)?;
    m.add_function(wrap_pyfunction!(uniforms, m)?)?;
    m.add_function(wrap_pyfunction!(channel_range, m)?)?;
    m.add_function(wrap_pyfunction!(channel_interval_kev, m)?)?;
    m.add_function(wrap_pyfunction!(energy_to_channel, m)?)?;
    m.add_function(wrap_pyfunction!(dither_channels, m)?)?;
    Ok(())
}

#[pyfunction]
fn mix(z: u64) -> u64 {
    rng::mix(z)
}

#[pyfunction]
#[pyo3(signature = (seed, domain, indices=Vec::new()))]
fn key(seed: u64, domain: u64, indices: Vec<u64>) -> u64 {
    rng::key(seed, domain, &indices)
}

#[pyfunction]
fn str_u64(text: &str) -> u64 {
    rng::str_u64(text)
}

#[pyfunction]
fn uniforms<'py>(py: Python<'py>, seed: u64, domain: u64, indices: Vec<u64>, n: usize) -> PyResult<F64Array<'py>> {
    Ok(compute(py, || Ok(rng::uniforms(seed, domain, &indices, n)))?.into_pyarray(py))
}

#[pyfunction]
#[pyo3(signature = (calibration_name, offset_kev=0.0, slope_kev=0.0))]
fn channel_range(calibration_name: &str, offset_kev: f64, slope_kev: f64) -> PyResult<(i64, i64)> {
    Ok(Calibration::from_name(calibration_name, offset_kev, slope_kev)?.channel_range())
}

#[pyfunction]
#[pyo3(signature = (calibration_name, channels, offset_kev=0.0, slope_kev=0.0))]
fn channel_interval_kev<'py>(
    py: Python<'py>,
    calibration_name: &str,
    channels: PyReadonlyArray1<'py, i64>,
    offset_kev: f64,
    slope_kev: f64,
) -> PyResult<(F64Array<'py>, F64Array<'py>)> {
    let calibration = Calibration::from_name(calibration_name, offset_kev, slope_kev)?;
    let channels = slice(&channels, "channels")?;
    let (lo, hi) = compute(py, || Ok(calibration.channel_intervals_kev(channels)))?;
    Ok((lo.into_pyarray(py), hi.into_pyarray(py)))
}

#[pyfunction]
#[pyo3(signature = (calibration_name, energy_kev, offset_kev=0.0, slope_kev=0.0))]
fn energy_to_channel<'py>(
    py: Python<'py>,
    calibration_name: &str,
    energy_kev: PyReadonlyArray1<'py, f64>,
    offset_kev: f64,
    slope_kev: f64,
) -> PyResult<I64Array<'py>> {
    let calibration = Calibration::from_name(calibration_name, offset_kev, slope_kev)?;
    let energy = slice(&energy_kev, "energy_kev")?;
    Ok(compute(py, || Ok(calibration.energies_to_channels(energy)))?.into_pyarray(py))
}

#[pyfunction]
#[pyo3(signature = (channels, calibration_name, dither_seed, dataset_key, offset_kev=0.0, slope_kev=0.0))]
fn dither_channels<'py>(
    py: Python<'py>,
    channels: PyReadonlyArray1<'py, i64>,
    calibration_name: &str,
    dither_seed: u64,
    dataset_key: u64,
    offset_kev: f64,
    slope_kev: f64,
) -> PyResult<(F64Array<'py>, F64Array<'py>)> {
    let calibration = Calibration::from_name(calibration_name, offset_kev, slope_kev)?;
    let channels = slice(&channels, "channels")?;
    let out = compute(py, || Ok(dither::dither_channels(channels, &calibration, dither_seed, dataset_key)))?;
    Ok((out.energy_kev.into_pyarray(py), out.wavelength_nm.into_pyarray(py)))
}
