//! How much memory the machine has, which the constructors of [`crate::nn`] ask before they
//! allocate parameters.

/// The machine's physical memory in bytes, `None` where it cannot be asked. Configurations
/// that need more are refused before anything is allocated.
///
/// ```
/// if let Some(bytes) = tch_rnn::memory::physical_memory() {
///     assert!(bytes > 0);
/// }
/// ```
pub fn physical_memory() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        unsafe extern "C" {
            fn sysconf(name: std::ffi::c_int) -> std::ffi::c_long;
        }
        const SC_PAGESIZE: std::ffi::c_int = 30;
        const SC_PHYS_PAGES: std::ffi::c_int = 85;
        // SAFETY: sysconf only reads system limits.
        let (pages, page_size) = unsafe { (sysconf(SC_PHYS_PAGES), sysconf(SC_PAGESIZE)) };
        u64::try_from(pages).ok()?.checked_mul(u64::try_from(page_size).ok()?).filter(|&b| b > 0)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}
