//! Wrappers of crate::event_ops: the seeded event operations of the tasks.

use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;

use super::arrays::{gti_pairs, slice, F64Array, I64Array};
use super::pool::compute;
use crate::event_ops;

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
) -> PyResult<F64Array<'py>> {
    let gtis = gti_pairs(&gti_start, &gti_stop)?;
    Ok(compute(py, || event_ops::uniform_times_in_gtis(&gtis, n, seed))?.into_pyarray(py))
}

#[pyfunction]
fn subset_indices<'py>(py: Python<'py>, n: u64, m: u64, seed: u64) -> PyResult<I64Array<'py>> {
    Ok(compute(py, || event_ops::subset_indices(n, m, seed).map(as_i64))?.into_pyarray(py))
}

#[pyfunction]
fn grouped_subset<'py>(
    py: Python<'py>,
    groups: PyReadonlyArray1<'py, i64>,
    keep: PyReadonlyArray1<'py, i64>,
    seed: u64,
) -> PyResult<I64Array<'py>> {
    let (groups, keep) = (slice(&groups, "groups")?, slice(&keep, "keep")?);
    Ok(compute(py, || event_ops::grouped_subset(groups, keep, seed).map(as_i64))?.into_pyarray(py))
}

#[pyfunction]
fn window_permutation<'py>(
    py: Python<'py>,
    times_s: PyReadonlyArray1<'py, f64>,
    tstart_s: f64,
    window_s: f64,
    seed: u64,
) -> PyResult<I64Array<'py>> {
    let times = slice(&times_s, "times_s")?;
    Ok(compute(py, || event_ops::window_permutation(times, tstart_s, window_s, seed).map(as_i64))?.into_pyarray(py))
}
