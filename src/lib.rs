//! PyTorch-faithful recurrent networks on tch.
pub mod ffi;

pub use ffi::grad_fn_name;
