//! Wrappers of crate::objective.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::arrays::{slice, F64Array};
use super::pool::compute;
use crate::objective;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(wasserstein_1, m)?)?;
    m.add_function(wrap_pyfunction!(binned_distances, m)?)?;
    Ok(())
}

#[pyfunction]
fn wasserstein_1(py: Python<'_>, a: PyReadonlyArray1<'_, f64>, b: PyReadonlyArray1<'_, f64>) -> PyResult<f64> {
    let (a, b) = (slice(&a, "a")?, slice(&b, "b")?);
    compute(py, || objective::wasserstein_1(a, b))
}

type Distances<'py> = (F64Array<'py>, Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<u64>>);

#[pyfunction]
fn binned_distances<'py>(
    py: Python<'py>,
    a_values: PyReadonlyArray1<'py, f64>,
    a_bins: PyReadonlyArray1<'py, u32>,
    b_values: PyReadonlyArray1<'py, f64>,
    b_bins: PyReadonlyArray1<'py, u32>,
    n_bins: usize,
    min_count: usize,
) -> PyResult<Distances<'py>> {
    let (a_values, a_bins) = (slice(&a_values, "a_values")?, slice(&a_bins, "a_bins")?);
    let (b_values, b_bins) = (slice(&b_values, "b_values")?, slice(&b_bins, "b_bins")?);
    let out = compute(py, || objective::binned_distances(a_values, a_bins, b_values, b_bins, n_bins, min_count))?;
    Ok((out.distance.into_pyarray(py), out.count_a.into_pyarray(py), out.count_b.into_pyarray(py)))
}
