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

/// Drop the resident pages lying wholly inside `bytes`; later reads fault them back in.
///
/// # Safety
///
/// `bytes` must lie inside a shared file mapping (`MAP_SHARED`, e.g. Python's
/// `mmap.mmap(..., access=ACCESS_READ)`), whose pages `MADV_DONTNEED` only unmaps: a
/// later read sees what the file holds, which is what the slice held. On anonymous or
/// private (copy-on-write) memory the same call replaces the contents with zeros or
/// with the file's original bytes, so safe code reading `bytes` afterwards would see
/// values change behind a shared reference.
#[cfg(unix)]
pub unsafe fn release_file_pages(bytes: &[u8]) {
    const PAGE: usize = 4096;
    let start = bytes.as_ptr() as usize;
    let aligned = (start + PAGE - 1) & !(PAGE - 1);
    let end = (start + bytes.len()) & !(PAGE - 1);
    if end > aligned {
        // SAFETY: the range lies inside `bytes`, which the caller guarantees is a shared
        // file mapping, where MADV_DONTNEED keeps the contents.
        unsafe {
            libc::madvise(aligned as *mut libc::c_void, end - aligned, libc::MADV_DONTNEED);
        }
    }
}

/// # Safety
///
/// As on unix (there it is a no-op).
#[cfg(not(unix))]
pub unsafe fn release_file_pages(_bytes: &[u8]) {}

/// A read-only shared mapping of a whole temporary file, for tests of page release.
#[cfg(all(test, unix))]
pub(crate) struct TestMapping {
    pointer: *mut libc::c_void,
    length: usize,
    path: std::path::PathBuf,
}

#[cfg(all(test, unix))]
impl TestMapping {
    pub(crate) fn new(name: &str, contents: &[u8]) -> Self {
        use std::os::fd::AsRawFd;
        assert!(!contents.is_empty());
        let path = std::env::temp_dir().join(format!("lightlane-{name}-{}.bin", std::process::id()));
        std::fs::write(&path, contents).expect("temporary file");
        let file = std::fs::File::open(&path).expect("temporary file");
        // SAFETY: a fresh read-only shared mapping of the whole file; unmapped in Drop.
        let pointer = unsafe {
            libc::mmap(std::ptr::null_mut(), contents.len(), libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0)
        };
        assert_ne!(pointer, libc::MAP_FAILED);
        Self { pointer, length: contents.len(), path }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `length` readable bytes and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.pointer as *const u8, self.length) }
    }
}

#[cfg(all(test, unix))]
impl Drop for TestMapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping created in `new`; no slice of it outlives `self`.
        unsafe { libc::munmap(self.pointer, self.length) };
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn released_file_pages_keep_their_contents() {
        let contents: Vec<u8> = (0..5 * 4096 + 123).map(|i: u32| (i % 251) as u8).collect();
        let mapping = super::TestMapping::new("release", &contents);
        assert_eq!(mapping.bytes(), &contents[..]);
        // SAFETY: the bytes lie in a shared file mapping.
        unsafe { super::release_file_pages(&mapping.bytes()[100..]) };
        assert_eq!(mapping.bytes(), &contents[..]);
    }

    #[test]
    fn zeroed_vectors_are_zero() {
        let big: Vec<f64> = super::zeroed(1 << 20);
        assert!(big.iter().all(|&v| v == 0.0));
        let small: Vec<i64> = super::zeroed(3);
        assert_eq!(small, vec![0, 0, 0]);
    }
}
