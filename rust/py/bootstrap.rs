//! Wrapper of crate::bootstrap.

use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;

use super::arrays::{slice, F64Array};
use super::pool::compute;
use crate::bootstrap;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bootstrap_differences, m)?)?;
    Ok(())
}

/// Bootstrap distributions (mean_diffs, median_diffs) of A − B (SPEC §11.3).
#[pyfunction]
fn bootstrap_differences<'py>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, f64>,
    b: PyReadonlyArray1<'py, f64>,
    resamples: usize,
    analysis_seed: u64,
    metric_index: u64,
) -> PyResult<(F64Array<'py>, F64Array<'py>)> {
    let (a, b) = (slice(&a, "a")?, slice(&b, "b")?);
    let out = compute(py, || bootstrap::bootstrap_differences(a, b, resamples, analysis_seed, metric_index))?;
    Ok((out.mean_diffs.into_pyarray(py), out.median_diffs.into_pyarray(py)))
}
