//! Wrappers of crate::bootstrap (the exact bootstrap) and crate::monte_carlo_bootstrap (the
//! rev-1 kernel, kept as the benchmark baseline).

use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;

use super::arrays::{slice, F64Array};
use super::pool::compute;
use crate::error::CoreResult;
use crate::{bootstrap, monte_carlo_bootstrap};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(exact_bootstrap_quantiles, m)?)?;
    m.add_function(wrap_pyfunction!(monte_carlo_bootstrap_differences, m)?)?;
    Ok(())
}

type Sample<'py> = (PyReadonlyArray1<'py, f64>, PyReadonlyArray1<'py, f64>);

/// Exact bootstrap percentiles (mean, median) of A − B for each (A, B) pair (SPEC §11.3).
#[pyfunction]
fn exact_bootstrap_quantiles(
    py: Python<'_>,
    samples: Vec<Sample<'_>>,
    probabilities: Vec<f64>,
) -> PyResult<Vec<(Vec<f64>, Vec<f64>)>> {
    let pairs = samples.iter().map(|(a, b)| Ok((slice(a, "a")?, slice(b, "b")?))).collect::<CoreResult<Vec<_>>>()?;
    let out = compute(py, || bootstrap::bootstrap_quantiles_per_metric(&pairs, &probabilities))?;
    Ok(out.into_iter().map(|q| (q.mean, q.median)).collect())
}

/// The rev-1 Monte-Carlo bootstrap distributions (mean_diffs, median_diffs) of A − B.
#[pyfunction]
fn monte_carlo_bootstrap_differences<'py>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, f64>,
    b: PyReadonlyArray1<'py, f64>,
    resamples: usize,
    analysis_seed: u64,
    metric_index: u64,
) -> PyResult<(F64Array<'py>, F64Array<'py>)> {
    let (a, b) = (slice(&a, "a")?, slice(&b, "b")?);
    let out =
        compute(py, || monte_carlo_bootstrap::bootstrap_differences(a, b, resamples, analysis_seed, metric_index))?;
    Ok((out.mean_diffs.into_pyarray(py), out.median_diffs.into_pyarray(py)))
}
