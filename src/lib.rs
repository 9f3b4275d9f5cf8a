//! PyTorch-faithful recurrent networks on tch.
pub mod ffi;
pub mod nn;

pub use ffi::grad_fn_name;
