//! The rayon pool behind `--threads` (results never depend on its size) and the one
//! helper that runs core work on it with the GIL released.

use std::sync::{Arc, PoisonError, RwLock};

use pyo3::prelude::*;
use rayon::ThreadPool;

use crate::error::{CoreError, CoreResult};

static POOL: RwLock<Option<Arc<ThreadPool>>> = RwLock::new(None);

/// Run `work` on the configured pool (rayon's global pool when none is set).
fn run_in_pool<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    let pool = POOL.read().unwrap_or_else(PoisonError::into_inner).clone();
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// Run core `work` on the pool with the GIL released; its error becomes the Python exception.
pub fn compute<T: Send>(py: Python<'_>, work: impl FnOnce() -> CoreResult<T> + Send) -> PyResult<T> {
    Ok(py.detach(|| run_in_pool(work))?)
}

/// Run single-threaded core `work` with the GIL released, off the pool: safe in a forked
/// process, where the pool's threads do not exist.
pub fn compute_here<T: Send>(py: Python<'_>, work: impl FnOnce() -> CoreResult<T> + Send) -> PyResult<T> {
    Ok(py.detach(work)?)
}

#[pyfunction]
#[pyo3(signature = (threads=None))]
pub fn set_threads(threads: Option<usize>) -> PyResult<()> {
    let pool = match threads {
        None => None,
        Some(0) => return Err(CoreError::Parameter("threads must be ≥ 1".into()).into()),
        Some(n) => Some(Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| CoreError::Parameter(format!("cannot start {n} threads: {e}")))?,
        )),
    };
    *POOL.write().unwrap_or_else(PoisonError::into_inner) = pool;
    Ok(())
}

#[pyfunction]
pub fn thread_count() -> usize {
    run_in_pool(rayon::current_num_threads)
}
