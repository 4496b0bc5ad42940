//! Errors of the numeric core. Each maps to exactly one Python exception class in `py/errors.rs`.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// Input values the caller should have validated (maps to `DataError`).
    #[error("{0}")]
    Data(String),
    /// Event times that decrease at `row` (1-based): the caller may sort them instead
    /// (maps to `UnsortedTimesError`, a `DataError`).
    #[error("times are not non-decreasing at row {row}")]
    UnsortedTimes { row: usize },
    /// Parameters out of range (maps to `MetadataError`).
    #[error("{0}")]
    Parameter(String),
}

pub type CoreResult<T> = Result<T, CoreError>;
