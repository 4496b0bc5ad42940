//! Wrappers of crate::binning: the width set, and all widths binned in one call.

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::arrays::{slice, F64Array};
use super::pool::compute;
use crate::binning;
use crate::error::CoreError;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(width_set, m)?)?;
    m.add_function(wrap_pyfunction!(bin_events, m)?)?;
    Ok(())
}

#[pyfunction]
fn width_set<'py>(
    py: Python<'py>,
    seed: u64,
    from_s: f64,
    to_s: f64,
    count: usize,
    log_uniform: bool,
) -> PyResult<F64Array<'py>> {
    Ok(binning::width_set(seed, from_s, to_s, count, log_uniform)?.into_pyarray(py))
}

/// The `BinningSpec` typed dict of `_core.pyi`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct BinningSpec<'py> {
    n_wbins: usize,
    widths_s: PyReadonlyArray1<'py, f64>,
    analysis_seed: u64,
    tstart_s: f64,
    tstop_s: f64,
    min_exposure: f64,
    chunk_length: usize,
}

/// One `WidthBinning` dict per width: offset, counts (J, W), exposure, valid, valid_starts.
#[pyfunction]
fn bin_events<'py>(
    py: Python<'py>,
    time_s: PyReadonlyArray1<'py, f64>,
    wbin: PyReadonlyArray1<'py, u16>,
    gti_start_s: PyReadonlyArray1<'py, f64>,
    gti_stop_s: PyReadonlyArray1<'py, f64>,
    spec: BinningSpec<'py>,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let (time, bins) = (slice(&time_s, "time_s")?, slice(&wbin, "wbin")?);
    let (starts, stops) = (slice(&gti_start_s, "gti_start_s")?, slice(&gti_stop_s, "gti_stop_s")?);
    let spec = binning::BinningSpec {
        n_wbins: spec.n_wbins,
        widths_s: slice(&spec.widths_s, "widths_s")?,
        analysis_seed: spec.analysis_seed,
        tstart_s: spec.tstart_s,
        tstop_s: spec.tstop_s,
        min_exposure: spec.min_exposure,
        chunk_length: spec.chunk_length,
    };
    let widths = compute(py, || binning::bin_events(time, bins, starts, stops, &spec))?;
    widths
        .into_iter()
        .map(|width| {
            let counts = Array2::from_shape_vec((width.grid.bins, spec.n_wbins), width.counts)
                .map_err(|e| CoreError::Data(e.to_string()))?;
            let out = PyDict::new(py);
            out.set_item("offset", width.offset)?;
            out.set_item("counts", counts.into_pyarray(py))?;
            out.set_item("exposure", width.exposure.into_pyarray(py))?;
            out.set_item("valid", width.valid.into_pyarray(py))?;
            out.set_item("valid_starts", width.valid_starts.into_pyarray(py))?;
            Ok(out)
        })
        .collect()
}
