//! Large output buffers backed by transparent huge pages where the OS allows it.
//!
//! First-touch page faults of fresh 4 KiB pages dominate the cost of filling
//! hundreds of MB of output on virtual machines; numpy avoids them the same way
//! (`madvise(MADV_HUGEPAGE)` on large allocations).

const HUGE_THRESHOLD_BYTES: usize = 4 << 20;

/// A zeroed vector of `n` values, advised to use huge pages before first touch.
pub fn zeroed<T: Copy + Default>(n: usize) -> Vec<T> {
    let mut values = vec![T::default(); n];
    advise_huge_pages(&mut values);
    values
}

#[cfg(target_os = "linux")]
fn advise_huge_pages<T>(values: &mut [T]) {
    const HUGE_PAGE: usize = 2 << 20;
    let bytes = std::mem::size_of_val(values);
    if bytes < HUGE_THRESHOLD_BYTES {
        return;
    }
    let start = values.as_mut_ptr() as usize;
    let aligned = (start + HUGE_PAGE - 1) & !(HUGE_PAGE - 1);
    let end = (start + bytes) & !(HUGE_PAGE - 1);
    if end > aligned {
        // SAFETY: the range lies inside `values`, which we own mutably; madvise only
        // changes how the kernel backs these pages, never their contents.
        unsafe {
            libc::madvise(aligned as *mut libc::c_void, end - aligned, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_values: &mut [T]) {}

/// Drop the resident pages lying wholly inside `bytes`, which MUST be part of a read-only
/// file mapping: their contents stay what the file holds and are re-read on access.
/// Never call it on anonymous memory, whose contents would be lost.
#[cfg(unix)]
pub fn release_file_pages(bytes: &[u8]) {
    const PAGE: usize = 4096;
    let start = bytes.as_ptr() as usize;
    let aligned = (start + PAGE - 1) & !(PAGE - 1);
    let end = (start + bytes.len()) & !(PAGE - 1);
    if end > aligned {
        // SAFETY: the range lies inside `bytes`; on a file mapping MADV_DONTNEED only drops
        // page-table entries, so later reads see the same file contents.
        unsafe {
            libc::madvise(aligned as *mut libc::c_void, end - aligned, libc::MADV_DONTNEED);
        }
    }
}

#[cfg(not(unix))]
pub fn release_file_pages(_bytes: &[u8]) {}

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_vectors_are_zero() {
        let big: Vec<f64> = super::zeroed(1 << 20);
        assert!(big.iter().all(|&v| v == 0.0));
        let small: Vec<i64> = super::zeroed(3);
        assert_eq!(small, vec![0, 0, 0]);
    }
}
