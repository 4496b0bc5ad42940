//! Python wrappers of crate::binning.

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;

use super::errors::{slice, CoreResult};
use super::pool::run_in_pool;
use crate::binning;
use crate::CoreError;

type F64Array<'py> = Bound<'py, PyArray1<f64>>;

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
) -> CoreResult<F64Array<'py>> {
    Ok(binning::width_set(seed, from_s, to_s, count, log_uniform)?.into_pyarray(py))
}

#[pyfunction]
fn offset_fractions<'py>(py: Python<'py>, analysis_seed: u64, count: usize) -> CoreResult<F64Array<'py>> {
    if count > binning::MAX_WIDTHS {
        return Err(CoreError::Parameter(format!("at most {} offsets, got {count}", binning::MAX_WIDTHS)).into());
    }
    Ok(binning::offsets(analysis_seed, count).into_pyarray(py))
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
) -> CoreResult<Vec<Bound<'py, PyArray2<u32>>>> {
    let grids = binning::grids(slice(&widths_s, "widths_s")?, slice(&offsets, "offsets")?, tstart_s, tstop_s)?;
    let (time, bins) = (slice(&time_s, "time_s")?, slice(&wbin, "wbin")?);
    let matrices = py.detach(|| run_in_pool(|| binning::counts_matrices(time, bins, n_bins, &grids)))?;
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
) -> CoreResult<Vec<F64Array<'py>>> {
    let grids = binning::grids(slice(&widths_s, "widths_s")?, slice(&offsets, "offsets")?, tstart_s, tstop_s)?;
    let (starts, stops) = (slice(&gti_start_s, "gti_start_s")?, slice(&gti_stop_s, "gti_stop_s")?);
    let fractions = py.detach(|| run_in_pool(|| binning::exposure_fractions(&grids, starts, stops)))?;
    Ok(fractions.into_iter().map(|e| e.into_pyarray(py)).collect())
}

#[pyfunction]
fn valid_starts<'py>(
    py: Python<'py>,
    valid: PyReadonlyArray1<'py, bool>,
    chunk_length: usize,
) -> CoreResult<Bound<'py, PyArray1<u32>>> {
    let valid = slice(&valid, "valid")?;
    Ok(py.detach(|| binning::valid_starts(valid, chunk_length))?.into_pyarray(py))
}
