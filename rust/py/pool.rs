//! The rayon pool behind `--threads`: results never depend on its size.

use std::sync::{Arc, RwLock};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rayon::ThreadPool;

static POOL: RwLock<Option<Arc<ThreadPool>>> = RwLock::new(None);

/// Run `work` on the configured pool (rayon's global pool when none is set).
pub fn run_in_pool<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    let pool = POOL.read().ok().and_then(|guard| guard.clone());
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

#[pyfunction]
#[pyo3(signature = (threads=None))]
pub fn set_threads(threads: Option<usize>) -> PyResult<()> {
    let pool = match threads {
        None => None,
        Some(0) => return Err(PyValueError::new_err("threads must be ≥ 1")),
        Some(n) => Some(Arc::new(
            rayon::ThreadPoolBuilder::new().num_threads(n).build().map_err(|e| PyValueError::new_err(e.to_string()))?,
        )),
    };
    let mut guard = POOL.write().map_err(|_| PyValueError::new_err("thread pool lock poisoned"))?;
    *guard = pool;
    Ok(())
}

#[pyfunction]
pub fn thread_count() -> usize {
    run_in_pool(rayon::current_num_threads)
}
