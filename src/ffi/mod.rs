//! The few libtorch calls that tch does not expose, through a small C++ shim compiled by
//! build.rs: one C++ file and one module here per purpose.
//!
//! - [`autograd`] (`autograd.cpp`): grad_fn names, `tensor.grad = None`, tensor identity;
//! - [`backends`] (`backends.cpp`): libtorch's version, ATen's CPU capability, its CUDA hooks,
//!   the GPU count;
//! - [`distributed`] (`distributed.cpp`): c10d's store, process group and collectives, and
//!   the parts of DDP libtorch exports (`distributed_off.rs` in a build without gloo's headers);
//! - [`dynamic`]: loading a shared library when asked (libtorch's CUDA library, the NCCL backend);
//! - `nccl` (`nccl.cpp`, a shared library of its own, linked against libtorch_cuda): c10d's
//!   NCCL backend, loaded when a process group asks for it;
//! - [`rng`] (`rng.cpp`): the default generators' states;
//! - [`tensor_ops`] (`tensor_ops.cpp`): `vector_norm`, and `addcmul_`, `addcdiv_`, `add` with
//!   the `value` / `alpha` that tch drops.
//!
//! Crate-private: the public homes of what users need are [`crate::grad_fn_name`],
//! [`crate::device::libtorch_version`], [`crate::device::cpu_capability`] and
//! [`crate::device::cuda_device_count`]. Every shim entry point catches C++ exceptions
//! (`shim.h`), so nothing unwinds into Rust, and returns libtorch's message without its C++
//! trace; the functions here make it one line that names the operation.

mod autograd;
mod backends;
#[cfg(tch_rnn_distributed)]
pub mod distributed;
#[cfg(not(tch_rnn_distributed))]
#[path = "distributed_off.rs"]
pub mod distributed;
pub(crate) mod dynamic;
#[cfg(tch_rnn_distributed)]
mod nccl;
mod rng;
mod tensor_ops;

use std::os::raw::{c_char, c_void};

use anyhow::{Result, bail};
use tch::Tensor;

pub use autograd::{clear_grad, grad_fn_name, same_tensor};
pub use backends::{cpu_capability, cuda_device_count, cuda_hooks_loaded, libtorch_version};
pub use rng::{rng_state, set_rng_state};
pub use tensor_ops::{add_alpha, addcdiv_, addcmul_, vector_norm};

/// Calls a shim function that writes a string of unknown length into a buffer and returns its
/// full length, retrying once with a buffer large enough.
fn read_string(mut call: impl FnMut(*mut c_char, usize) -> usize) -> String {
    let mut buf = vec![0u8; 128];
    let mut len = call(buf.as_mut_ptr().cast(), buf.len());
    if len > buf.len() {
        buf.resize(len, 0);
        len = call(buf.as_mut_ptr().cast(), buf.len());
    }
    buf.truncate(len.min(buf.len()));
    String::from_utf8_lossy(&buf).into_owned()
}

/// Runs a shim call that returns 0 or the length of the error it wrote into `(err, cap)`;
/// an error becomes one line, `name: message`.
fn call(name: &str, mut f: impl FnMut(*mut c_char, usize) -> usize) -> Result<()> {
    let message = read_string(&mut f);
    if message.is_empty() {
        return Ok(());
    }
    Err(crate::error::tidy(name, anyhow::Error::msg(message)))
}

/// Like [`call`], for a shim call that hands back a new tensor in `*out`.
fn call_for_tensor(name: &str, mut f: impl FnMut(*mut *mut c_void, *mut c_char, usize) -> usize) -> Result<Tensor> {
    let mut out: *mut c_void = std::ptr::null_mut();
    call(name, |err, cap| f(&mut out, err, cap))?;
    if out.is_null() {
        bail!("{name}: libtorch returned no tensor");
    }
    // SAFETY: the shim returns a heap-allocated at::Tensor that nobody else owns.
    Ok(unsafe { Tensor::from_ptr(out.cast()) })
}

/// An error naming the first of `tensors` (`(argument, tensor)`) that is undefined: libtorch
/// would throw an internal assertion for it, or crash.
fn require_defined(name: &str, tensors: &[(&str, &Tensor)]) -> Result<()> {
    match tensors.iter().find(|(_, t)| !t.defined()) {
        Some((argument, _)) => bail!("{name}: expected a defined tensor as {argument}, got an undefined one"),
        None => Ok(()),
    }
}

/// A tensor handle as the shim takes it.
fn ptr(t: &Tensor) -> *const c_void {
    t.as_ptr() as *const c_void
}

#[cfg(test)]
mod tests {
    /// What libtorch's own error text contains; a message of ours never does.
    const LIBTORCH_TEXT: [&str; 4] = ["Exception raised from", "frame #", "Internal torch error", "c10::"];

    /// Checks that `e` is one line starting with `start`, without libtorch's text.
    pub(crate) fn assert_one_clean_line(e: &anyhow::Error, start: &str) {
        let message = e.to_string();
        assert!(message.starts_with(start), "expected a message starting with {start:?}, got:\n{message}");
        assert_eq!(message.lines().count(), 1, "not one line:\n{message}");
        assert_eq!(crate::error::one_line(e), message, "not tidy:\n{message}");
        for raw in LIBTORCH_TEXT {
            assert!(!message.contains(raw), "libtorch's text leaked into the message:\n{message}");
        }
    }
}
