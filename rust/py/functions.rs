//! Wrappers of the core functions: numpy in, numpy out, GIL released for O(n) work.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::errors::CoreResult;
use super::pool::run_in_pool;
use crate::calibration::Calibration;
use crate::{dither, rng};

type F64Array<'py> = Bound<'py, PyArray1<f64>>;

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

fn calibration(name: &str, offset_kev: f64, slope_kev: f64) -> CoreResult<Calibration> {
    Ok(Calibration::from_name(name, offset_kev, slope_kev)?)
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
fn uniforms<'py>(py: Python<'py>, seed: u64, domain: u64, indices: Vec<u64>, n: usize) -> F64Array<'py> {
    py.detach(|| rng::uniforms(seed, domain, &indices, n)).into_pyarray(py)
}

#[pyfunction]
#[pyo3(signature = (calibration_name, offset_kev=0.0, slope_kev=0.0))]
fn channel_range(calibration_name: &str, offset_kev: f64, slope_kev: f64) -> CoreResult<(i64, i64)> {
    Ok(calibration(calibration_name, offset_kev, slope_kev)?.channel_range())
}

#[pyfunction]
#[pyo3(signature = (calibration_name, channels, offset_kev=0.0, slope_kev=0.0))]
fn channel_interval_kev<'py>(
    py: Python<'py>,
    calibration_name: &str,
    channels: PyReadonlyArray1<'py, i64>,
    offset_kev: f64,
    slope_kev: f64,
) -> CoreResult<(F64Array<'py>, F64Array<'py>)> {
    let cal = calibration(calibration_name, offset_kev, slope_kev)?;
    let channels = channels.as_slice().map_err(|e| crate::CoreError::Data(e.to_string()))?;
    let (lo, hi): (Vec<f64>, Vec<f64>) = py.detach(|| {
        channels
            .iter()
            .map(|&ch| cal.channel_interval_kev(ch).unwrap_or((f64::NAN, f64::NAN)))
            .unzip()
    });
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
) -> CoreResult<Bound<'py, PyArray1<i64>>> {
    let cal = calibration(calibration_name, offset_kev, slope_kev)?;
    let energy = energy_kev.as_slice().map_err(|e| crate::CoreError::Data(e.to_string()))?;
    let channels: Vec<i64> = py.detach(|| energy.iter().map(|&e| cal.energy_to_channel(e)).collect());
    Ok(channels.into_pyarray(py))
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
) -> CoreResult<(F64Array<'py>, F64Array<'py>)> {
    let cal = calibration(calibration_name, offset_kev, slope_kev)?;
    let channels = channels.as_slice().map_err(|e| crate::CoreError::Data(e.to_string()))?;
    let out = py.detach(|| run_in_pool(|| dither::dither_channels(channels, &cal, dither_seed, dataset_key)));
    Ok((out.energy_kev.into_pyarray(py), out.wavelength_nm.into_pyarray(py)))
}
