//! The one place where core errors become Python exceptions.

use pyo3::prelude::*;

use crate::error::CoreError;

pub struct PyCoreError(CoreError);

impl From<CoreError> for PyCoreError {
    fn from(err: CoreError) -> Self {
        Self(err)
    }
}

impl From<PyCoreError> for PyErr {
    fn from(err: PyCoreError) -> PyErr {
        let class_name = match err.0 {
            CoreError::Data(_) => "DataError",
            CoreError::UnsortedTimes { .. } => "UnsortedTimesError",
            CoreError::Parameter(_) => "MetadataError",
        };
        let message = err.0.to_string();
        Python::attach(|py| {
            let instance = py
                .import("lightlane.exceptions")
                .and_then(|module| module.getattr(class_name))
                .and_then(|class| class.call1((message.clone(),)));
            match instance {
                Ok(value) => PyErr::from_value(value),
                Err(import_error) => import_error,
            }
        })
    }
}

pub type CoreResult<T> = Result<T, PyCoreError>;

/// The contiguous data of a numpy array; a strided array is a `DataError` naming `what`.
pub fn slice<'a, T: numpy::Element>(array: &'a numpy::PyReadonlyArray1<'_, T>, what: &str) -> CoreResult<&'a [T]> {
    Ok(array.as_slice().map_err(|e| CoreError::Data(format!("{what}: {e}")))?)
}

/// GTIs as (start, stop) pairs from two numpy arrays of equal length.
pub fn gti_pairs(
    start: &numpy::PyReadonlyArray1<'_, f64>,
    stop: &numpy::PyReadonlyArray1<'_, f64>,
) -> CoreResult<Vec<(f64, f64)>> {
    let (starts, stops) = (slice(start, "gti_start")?, slice(stop, "gti_stop")?);
    if starts.len() != stops.len() {
        return Err(CoreError::Parameter("GTI start and stop arrays differ in length".into()).into());
    }
    Ok(starts.iter().copied().zip(stops.iter().copied()).collect())
}
