//! Python wrappers of crate::event_ops.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::errors::{gti_pairs, slice, CoreResult};
use super::pool::run_in_pool;
use crate::event_ops;
use crate::CoreError;

type F64Array<'py> = Bound<'py, PyArray1<f64>>;
type I64Array<'py> = Bound<'py, PyArray1<i64>>;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(uniform_times_in_gtis, m)?)?;
    m.add_function(wrap_pyfunction!(subset_indices, m)?)?;
    m.add_function(wrap_pyfunction!(grouped_subset, m)?)?;
    m.add_function(wrap_pyfunction!(window_permutation, m)?)?;
    Ok(())
}

fn as_i64(indices: Vec<u64>) -> Vec<i64> {
    // indices address in-memory events, so they fit in i64
    indices.into_iter().map(|i| i as i64).collect()
}

#[pyfunction]
fn uniform_times_in_gtis<'py>(
    py: Python<'py>,
    gti_start: PyReadonlyArray1<'py, f64>,
    gti_stop: PyReadonlyArray1<'py, f64>,
    n: usize,
    seed: u64,
) -> CoreResult<F64Array<'py>> {
    let gtis = gti_pairs(&gti_start, &gti_stop)?;
    let times = py.detach(|| run_in_pool(|| event_ops::uniform_times_in_gtis(&gtis, n, seed)))?;
    Ok(times.into_pyarray(py))
}

#[pyfunction]
fn subset_indices<'py>(py: Python<'py>, n: u64, m: u64, seed: u64) -> CoreResult<I64Array<'py>> {
    let indices = py.detach(|| event_ops::subset_indices(n, m, seed).map(as_i64))?;
    Ok(indices.into_pyarray(py))
}

#[pyfunction]
fn grouped_subset<'py>(
    py: Python<'py>,
    groups: PyReadonlyArray1<'py, i64>,
    keep: PyReadonlyArray1<'py, i64>,
    seed: u64,
) -> CoreResult<I64Array<'py>> {
    let groups = slice(&groups, "groups")?;
    let keep = slice(&keep, "keep")?
        .iter()
        .enumerate()
        .map(|(g, &k)| {
            u64::try_from(k).map_err(|_| CoreError::Parameter(format!("group {g}: negative keep count {k}")))
        })
        .collect::<Result<Vec<u64>, CoreError>>()?;
    let indices = py.detach(|| run_in_pool(|| event_ops::grouped_subset(groups, &keep, seed).map(as_i64)))?;
    Ok(indices.into_pyarray(py))
}

#[pyfunction]
fn window_permutation<'py>(
    py: Python<'py>,
    times_s: PyReadonlyArray1<'py, f64>,
    tstart_s: f64,
    window_s: f64,
    seed: u64,
) -> CoreResult<I64Array<'py>> {
    let times = slice(&times_s, "times_s")?;
    let source =
        py.detach(|| run_in_pool(|| event_ops::window_permutation(times, tstart_s, window_s, seed).map(as_i64)))?;
    Ok(source.into_pyarray(py))
}
