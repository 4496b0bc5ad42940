//! PyO3 glue: the extension module `lightlane._core`. Thin wrappers only: arguments are
//! converted here (wide inputs arrive as one typed dict, see `_core.pyi`), the work runs in
//! the core through `pool::compute`, and core errors become exceptions in `errors`.

mod arrays;
mod binning;
mod bootstrap;
mod chunks;
mod errors;
mod event_ops;
mod figure_png;
mod functions;
mod ingest;
mod lanesheet;
mod objective;
mod p3;
mod pool;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("HC_KEV_NM", crate::calibration::HC_KEV_NM)?;
    m.add("EVENT_BLOCK", crate::rng::EVENT_BLOCK)?;
    for (name, number) in crate::rng::domain::ALL {
        m.add(format!("DOMAIN_{name}"), number)?;
    }
    m.add_function(wrap_pyfunction!(pool::set_threads, m)?)?;
    m.add_function(wrap_pyfunction!(pool::thread_count, m)?)?;
    functions::register(m)?;
    ingest::register(m)?;
    lanesheet::register(m)?;
    binning::register(m)?;
    chunks::register(m)?;
    event_ops::register(m)?;
    figure_png::register(m)?;
    objective::register(m)?;
    p3::register(m)?;
    bootstrap::register(m)
}
