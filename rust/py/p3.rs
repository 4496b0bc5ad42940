//! Wrappers of crate::p3: the P3 statistic (SPEC §11.9 steps 1–4) and, for tests, its periodograms.

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::arrays::slice;
use super::pool::compute;
use crate::error::{CoreError, CoreResult};
use crate::p3::{self, P3Input};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(p3_statistic, m)?)?;
    m.add_function(wrap_pyfunction!(p3_periodograms, m)?)?;
    Ok(())
}

/// The `P3Spec` typed dict of `_core.pyi`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct P3Spec<'py> {
    n_wbins: usize,
    centres_nm: PyReadonlyArray1<'py, f64>,
    gti_start_s: PyReadonlyArray1<'py, f64>,
    gti_stop_s: PyReadonlyArray1<'py, f64>,
    dt_s: f64,
    log_bins: usize,
    slope_min: f64,
    slope_max: f64,
    slope_count: usize,
}

fn p3_input<'a>(time_s: &'a [f64], wbin: &'a [u16], spec: &'a P3Spec<'_>) -> CoreResult<P3Input<'a>> {
    Ok(P3Input {
        time_s,
        wbin,
        n_wbins: spec.n_wbins,
        centres_nm: slice(&spec.centres_nm, "centres_nm")?,
        gti_start_s: slice(&spec.gti_start_s, "gti_start_s")?,
        gti_stop_s: slice(&spec.gti_stop_s, "gti_stop_s")?,
        dt_s: spec.dt_s,
        log_bins: spec.log_bins,
        slope_min: spec.slope_min,
        slope_max: spec.slope_max,
        slope_count: spec.slope_count,
    })
}

fn matrix(values: Vec<f64>, rows: usize, columns: usize) -> CoreResult<Array2<f64>> {
    Array2::from_shape_vec((rows, columns), values).map_err(|e| CoreError::Data(e.to_string()))
}

fn indices(used: &[usize]) -> Vec<i64> {
    used.iter().map(|&j| j as i64).collect()
}

/// The `P3Statistic` dict: S_max, its argmax, the image S(s, c) and the rebinned rows.
#[pyfunction]
fn p3_statistic<'py>(
    py: Python<'py>,
    time_s: PyReadonlyArray1<'py, f64>,
    wbin: PyReadonlyArray1<'py, u16>,
    spec: P3Spec<'py>,
) -> PyResult<Bound<'py, PyDict>> {
    let input = p3_input(slice(&time_s, "time_s")?, slice(&wbin, "wbin")?, &spec)?;
    let r = compute(py, || p3::p3_statistic(&input))?;
    let (slopes, columns, rows) = (r.slopes.len(), r.intercepts_ln_hz.len(), r.used.len());
    let out = PyDict::new(py);
    out.set_item("stat", r.stat)?;
    out.set_item("slope", r.slope)?;
    out.set_item("slope_index", r.slope_index)?;
    out.set_item("intercept_ln_hz", r.intercept_ln_hz)?;
    out.set_item("intercept_index", r.intercept_index)?;
    out.set_item("k_lo", r.k_lo)?;
    out.set_item("image", matrix(r.image, slopes, columns)?.into_pyarray(py))?;
    out.set_item("rebinned", matrix(r.rebinned, rows, input.log_bins)?.into_pyarray(py))?;
    out.set_item("slopes", r.slopes.into_pyarray(py))?;
    out.set_item("intercepts_ln_hz", r.intercepts_ln_hz.into_pyarray(py))?;
    out.set_item("used", indices(&r.used).into_pyarray(py))?;
    out.set_item("events", r.events.into_pyarray(py))?;
    out.set_item("log_f_start", r.log_f_start)?;
    out.set_item("log_f_step", r.log_f_step)?;
    out.set_item("n_time_bins", r.n_time_bins)?;
    out.set_item("dt_s", r.dt_s)?;
    Ok(out)
}

/// The `P3Periodograms` dict: step 1 alone (Leahy powers of the rows with events).
#[pyfunction]
fn p3_periodograms<'py>(
    py: Python<'py>,
    time_s: PyReadonlyArray1<'py, f64>,
    wbin: PyReadonlyArray1<'py, u16>,
    spec: P3Spec<'py>,
) -> PyResult<Bound<'py, PyDict>> {
    let input = p3_input(slice(&time_s, "time_s")?, slice(&wbin, "wbin")?, &spec)?;
    let r = compute(py, || p3::periodograms(&input))?;
    let out = PyDict::new(py);
    out.set_item("n_time_bins", r.n_time_bins)?;
    out.set_item("powers", matrix(r.powers, r.used.len(), r.n_time_bins / 2)?.into_pyarray(py))?;
    out.set_item("used", indices(&r.used).into_pyarray(py))?;
    out.set_item("events", r.events.into_pyarray(py))?;
    Ok(out)
}
