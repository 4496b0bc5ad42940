//! Python wrappers of crate::binning.

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;

use super::arrays::{slice, F64Array, U32Array};
use super::pool::compute;
use crate::binning;
use crate::error::CoreError;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(width_set, m)?)?;
    m.add_function(wrap_pyfunction!(offset_fractions, m)?)?;
    m.add_function(wrap_pyfunction!(counts_matrices, m)?)?;
    m.add_function(wrap_pyfunction!(exposure_fractions, m)?)?;
    m.add_function(wrap_pyfunction!(valid_starts, m)?)?;
    Ok(())
}

#[pyfunction]
fn width_set<'py>(
    py: Python<'py>,
    seed: u64,
    from_s: f64,
    to_s: f64,
    count: usize,
    log_uniform: bool,
) -> PyResult<F64Array<'py>> {
    Ok(binning::width_set(seed, from_s, to_s, count, log_uniform)?.into_pyarray(py))
}

#[pyfunction]
fn offset_fractions<'py>(py: Python<'py>, analysis_seed: u64, count: usize) -> PyResult<F64Array<'py>> {
    Ok(binning::offsets(analysis_seed, count)?.into_pyarray(py))
}

#[pyfunction]
#[pyo3(signature = (time_s, wbin, n_bins, widths_s, offsets, tstart_s, tstop_s))]
#[allow(clippy::too_many_arguments)]
fn counts_matrices<'py>(
    py: Python<'py>,
    time_s: PyReadonlyArray1<'py, f64>,
    wbin: PyReadonlyArray1<'py, u16>,
    n_bins: usize,
    widths_s: PyReadonlyArray1<'py, f64>,
    offsets: PyReadonlyArray1<'py, f64>,
    tstart_s: f64,
    tstop_s: f64,
) -> PyResult<Vec<Bound<'py, PyArray2<u32>>>> {
    let grids = binning::grids(slice(&widths_s, "widths_s")?, slice(&offsets, "offsets")?, tstart_s, tstop_s)?;
    let (time, bins) = (slice(&time_s, "time_s")?, slice(&wbin, "wbin")?);
    let matrices = compute(py, || binning::counts_matrices(time, bins, n_bins, &grids))?;
    grids
        .iter()
        .zip(matrices)
        .map(|(grid, counts)| {
            let matrix =
                Array2::from_shape_vec((grid.bins, n_bins), counts).map_err(|e| CoreError::Data(e.to_string()))?;
            Ok(matrix.into_pyarray(py))
        })
        .collect()
}

#[pyfunction]
#[pyo3(signature = (widths_s, offsets, tstart_s, tstop_s, gti_start_s, gti_stop_s))]
fn exposure_fractions<'py>(
    py: Python<'py>,
    widths_s: PyReadonlyArray1<'py, f64>,
    offsets: PyReadonlyArray1<'py, f64>,
    tstart_s: f64,
    tstop_s: f64,
    gti_start_s: PyReadonlyArray1<'py, f64>,
    gti_stop_s: PyReadonlyArray1<'py, f64>,
) -> PyResult<Vec<F64Array<'py>>> {
    let grids = binning::grids(slice(&widths_s, "widths_s")?, slice(&offsets, "offsets")?, tstart_s, tstop_s)?;
    let (starts, stops) = (slice(&gti_start_s, "gti_start_s")?, slice(&gti_stop_s, "gti_stop_s")?);
    let fractions = compute(py, || binning::exposure_fractions(&grids, starts, stops))?;
    Ok(fractions.into_iter().map(|e| e.into_pyarray(py)).collect())
}

#[pyfunction]
fn valid_starts<'py>(
    py: Python<'py>,
    valid: PyReadonlyArray1<'py, bool>,
    chunk_length: usize,
) -> PyResult<U32Array<'py>> {
    let valid = slice(&valid, "valid")?;
    Ok(compute(py, || binning::valid_starts(valid, chunk_length))?.into_pyarray(py))
}
