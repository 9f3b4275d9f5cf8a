//! How freed memory is kept. A training step frees and allocates the same large buffers (weights'
//! gradients, activations, Adam's temporaries) again and again; glibc's defaults hand the larger
//! ones back to the system and take them again every time, page fault by page fault. Measured on
//! `tch-rnn train`'s defaults (2 cores), that cost a quarter of every step; keeping freed memory
//! for reuse removes it, at the price of a process that keeps its peak memory until it exits.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe extern "C" {
    fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
}

/// Makes glibc's malloc keep freed memory for reuse (allocations up to 32 MiB come from the
/// heap, and the heap is not trimmed below 1 GiB); returns whether it could (`false` where the
/// allocator is not glibc's). Call it once, at the start of a training or sampling process.
///
/// ```
/// let _kept = tch_rnn::allocator::retain_freed_memory();
/// ```
pub fn retain_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_TRIM_THRESHOLD: std::ffi::c_int = -1;
        const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
        // SAFETY: mallopt only sets allocator parameters; both values are within glibc's limits.
        unsafe { mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
