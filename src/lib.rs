//! PyTorch-faithful recurrent networks on tch.
pub mod ffi;
pub mod nn;
pub mod optim;
pub mod repr;
pub mod tutorials;

pub use ffi::grad_fn_name;
