//! The one place where core errors become Python exceptions (SPEC §1 Errors).

use pyo3::prelude::*;

use crate::error::CoreError;

impl From<CoreError> for PyErr {
    fn from(err: CoreError) -> PyErr {
        let class_name = match err {
            CoreError::Data(_) => "DataError",
            CoreError::UnsortedTimes { .. } => "UnsortedTimesError",
            CoreError::Parameter(_) => "MetadataError",
        };
        let message = err.to_string();
        Python::attach(|py| {
            let instance = py
                .import("lightlane.exceptions")
                .and_then(|module| module.getattr(class_name))
                .and_then(|class| class.call1((message,)));
            match instance {
                Ok(value) => PyErr::from_value(value),
                Err(import_error) => import_error,
            }
        })
    }
}
