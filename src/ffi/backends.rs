//! What ATen's backends are in this process (`backends.cpp`): libtorch's version, the CPU
//! capability its kernels dispatch to, whether its CUDA hooks are libtorch_cuda's, how many
//! GPUs they see. The public homes are in [`crate::device`].

use std::os::raw::c_char;

use super::read_string;

unsafe extern "C" {
    fn tch_rnn_libtorch_version(major: *mut i32, minor: *mut i32, patch: *mut i32);
    fn tch_rnn_cpu_capability(buf: *mut c_char, cap: usize) -> usize;
    fn tch_rnn_cuda_hooks_loaded() -> i32;
    fn tch_rnn_cuda_device_count(buf: *mut c_char, cap: usize, len: *mut usize) -> i64;
}

/// The libtorch version the crate runs on (see [`crate::device::libtorch_version`]).
pub fn libtorch_version() -> (u32, u32, u32) {
    let (mut major, mut minor, mut patch) = (0, 0, 0);
    unsafe { tch_rnn_libtorch_version(&mut major, &mut minor, &mut patch) };
    (major as u32, minor as u32, patch as u32)
}

/// The instruction set ATen dispatches its CPU kernels to (see
/// [`crate::device::cpu_capability`]).
pub fn cpu_capability() -> String {
    read_string(|buf, cap| unsafe { tch_rnn_cpu_capability(buf, cap) })
}

/// Whether ATen's CUDA hooks are libtorch_cuda's. ATen fixes them at the first CUDA query of the
/// process (this call is one): if `libtorch_cuda.so` was not loaded by then, CUDA stays off for
/// good. Use [`crate::device`] rather than this.
pub fn cuda_hooks_loaded() -> bool {
    unsafe { tch_rnn_cuda_hooks_loaded() != 0 }
}

/// The number of CUDA GPUs ATen sees, and the warnings libtorch raised while looking (see
/// [`crate::device::cuda_device_count`]).
pub fn cuda_device_count() -> (i64, String) {
    let mut count = 0;
    let warnings = read_string(|buf, cap| {
        let mut len = 0;
        count = unsafe { tch_rnn_cuda_device_count(buf, cap, &mut len) };
        len
    });
    (count, warnings)
}
