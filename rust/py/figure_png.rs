//! Wrapper of the figure PNG encoder (called by the drawing processes, so never on the pool).

use numpy::{PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::pool::compute_here;
use crate::error::CoreError;
use crate::figure_png;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(encode_png, m)?)
}

/// `rgba`: a C-contiguous (height, width, 4) uint8 array, as Agg's `buffer_rgba()` gives it (no copy).
#[pyfunction]
#[pyo3(signature = (rgba, dpi, text=Vec::new()))]
fn encode_png<'py>(
    py: Python<'py>,
    rgba: PyReadonlyArray3<'py, u8>,
    dpi: f64,
    text: Vec<(String, String)>,
) -> PyResult<Bound<'py, PyBytes>> {
    let shape = rgba.shape();
    if shape[2] != 4 {
        return Err(CoreError::Data(format!("PNG pixels: expected (height, width, 4) RGBA, got {shape:?}")).into());
    }
    let (height, width) = (dimension(shape[0])?, dimension(shape[1])?);
    let pixels = rgba.as_slice().map_err(|e| CoreError::Data(format!("PNG pixels: {e}")))?;
    let file = compute_here(py, || figure_png::encode_rgba(pixels, width, height, dpi, &text))?;
    Ok(PyBytes::new(py, &file))
}

fn dimension(size: usize) -> Result<u32, CoreError> {
    u32::try_from(size).map_err(|_| CoreError::Parameter(format!("PNG size {size} is too large")))
}
