//! Optimizers that follow their `torch.optim` counterparts step for step, so that training
//! reaches the same parameters as PyTorch, not just nearly the same.

mod adam;
mod clip;

pub use adam::{Adam, AdamConfig, AdamState};
pub use clip::clip_grad_norm_;
