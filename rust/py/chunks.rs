//! Wrapper of crate::chunks: the chunk table of SPEC §10.6 in one call.

use numpy::{IntoPyArray, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::arrays::slice;
use super::pool::compute;
use crate::chunks::{self, WidthCounts};
use crate::error::CoreError;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sample_chunks, m)?)?;
    Ok(())
}

/// The `ChunkDraws` typed dict of `_core.pyi`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct ChunkDraws {
    n_bins: usize,
    chunk_length: usize,
    chunk_count: usize,
    analysis_seed: u64,
}

/// Chunk table columns (name → array) of SPEC §10.6 computed in Rust.
#[pyfunction]
fn sample_chunks<'py>(
    py: Python<'py>,
    counts: Vec<PyReadonlyArrayDyn<'py, u32>>,
    valid: Vec<PyReadonlyArray1<'py, bool>>,
    starts: Vec<PyReadonlyArray1<'py, u32>>,
    w_data: PyReadonlyArray1<'py, u16>,
    draws: ChunkDraws,
) -> PyResult<Bound<'py, PyDict>> {
    let ChunkDraws { n_bins, chunk_length, chunk_count, analysis_seed } = draws;
    if counts.len() != valid.len() || counts.len() != starts.len() {
        return Err(CoreError::Data(format!(
            "counts, valid and starts must have one entry per width, got {}, {} and {}",
            counts.len(),
            valid.len(),
            starts.len()
        ))
        .into());
    }
    let mut widths = Vec::with_capacity(counts.len());
    for (k, ((c, v), s)) in counts.iter().zip(&valid).zip(&starts).enumerate() {
        let shape = c.shape();
        if shape.len() > 2 || (shape.len() == 2 && shape.get(1) != Some(&n_bins)) {
            return Err(CoreError::Data(format!(
                "width {k}: counts must be flat or (time bins, {n_bins}), got shape {shape:?}"
            ))
            .into());
        }
        let counts = c.as_slice().map_err(|e| CoreError::Data(format!("width {k} counts: {e}")))?;
        widths.push(WidthCounts { counts, valid: slice(v, "valid")?, starts: slice(s, "starts")? });
    }
    let w_data = slice(&w_data, "w_data")?;
    let table =
        compute(py, || chunks::sample_chunks(&widths, n_bins, w_data, chunk_length, chunk_count, analysis_seed))?;
    let out = PyDict::new(py);
    let n = table.len();
    out.set_item("width_index", table.width_index.into_pyarray(py))?;
    out.set_item("wbin", table.wbin.into_pyarray(py))?;
    out.set_item("start_bin", table.start_bin.into_pyarray(py))?;
    out.set_item("stop_bin", table.stop_bin.into_pyarray(py))?;
    out.set_item("zero_count_bins", table.zero_count_bins.into_pyarray(py))?;
    out.set_item("one_count_bins", table.one_count_bins.into_pyarray(py))?;
    // One (15, M) array owns the f64 buffer; each column is a contiguous row view of it.
    let values = table.values.into_pyarray(py).reshape([chunks::FLOAT_COLUMNS.len(), n])?;
    for (c, name) in chunks::FLOAT_COLUMNS.iter().enumerate() {
        out.set_item(*name, values.get_item(c)?)?;
    }
    Ok(out)
}
