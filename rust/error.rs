//! Errors of the numeric core. Each maps to exactly one Python exception class in `py/`.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// Input values the caller should have validated (maps to `DataError`).
    #[error("{0}")]
    Data(String),
    /// Parameters out of range (maps to `MetadataError`).
    #[error("{0}")]
    Parameter(String),
}

pub type CoreResult<T> = Result<T, CoreError>;
