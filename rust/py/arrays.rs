//! numpy arrays in and out: the aliases and the two conversions every wrapper uses.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::error::{CoreError, CoreResult};

pub type F64Array<'py> = Bound<'py, PyArray1<f64>>;
pub type I64Array<'py> = Bound<'py, PyArray1<i64>>;
pub type U32Array<'py> = Bound<'py, PyArray1<u32>>;

/// The contiguous data of a numpy array; a strided array is a `DataError` naming `what`.
pub fn slice<'a, T: numpy::Element>(array: &'a PyReadonlyArray1<'_, T>, what: &str) -> CoreResult<&'a [T]> {
    array.as_slice().map_err(|e| CoreError::Data(format!("{what}: {e}")))
}

/// GTIs as (start, stop) pairs from two numpy arrays of equal length.
pub fn gti_pairs(start: &PyReadonlyArray1<'_, f64>, stop: &PyReadonlyArray1<'_, f64>) -> CoreResult<Vec<(f64, f64)>> {
    let (starts, stops) = (slice(start, "gti_start")?, slice(stop, "gti_stop")?);
    if starts.len() != stops.len() {
        return Err(CoreError::Parameter("GTI start and stop arrays differ in length".into()));
    }
    Ok(starts.iter().copied().zip(stops.iter().copied()).collect())
}
