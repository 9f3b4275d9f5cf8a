//! Optimizers and learning-rate schedulers that follow their `torch.optim` counterparts step
//! for step, so that training reaches the same parameters as PyTorch, not just nearly the
//! same: each replays PyTorch's default CPU code path (single-tensor, not foreach nor fused)
//! op for op, and each scheduler PyTorch's arithmetic in its order.
//!
//! | here | PyTorch |
//! |---|---|
//! | [`Adam`], [`AdamConfig`], [`AdamState`] | `torch.optim.Adam` |
//! | [`AdamW`], [`AdamWConfig`] | `torch.optim.AdamW` (Adam's code, decoupled weight decay) |
//! | [`SGD`], [`SGDConfig`] | `torch.optim.SGD` (momentum, dampening, Nesterov, weight decay, maximize) |
//! | [`StepLR`] | `torch.optim.lr_scheduler.StepLR` |
//! | [`ExponentialLR`] | `torch.optim.lr_scheduler.ExponentialLR` |
//! | [`CosineAnnealingLR`] | `torch.optim.lr_scheduler.CosineAnnealingLR` |
//! | [`ReduceLROnPlateau`], [`ReduceLROnPlateauConfig`] | `torch.optim.lr_scheduler.ReduceLROnPlateau` |
//! | [`clip_grad_norm_`] | `torch.nn.utils.clip_grad_norm_` |
//!
//! Every optimizer implements [`Optimizer`] (step, zero_grad, parameter groups, state_dict) and
//! every scheduler [`LrScheduler`] (last learning rates, state_dict); a scheduler steps any
//! `Optimizer`. The state_dicts ([`OptimizerStateDict`], [`SchedulerStateDict`]) have PyTorch's
//! layout and names, so a run saved mid-way and loaded into fresh objects continues on the same
//! bits.
//!
//! ```
//! use tch::{Kind, Tensor};
//! use tch_rnn::optim::{CosineAnnealingLR, LrScheduler, Optimizer, SGD, SGDConfig};
//! let w = Tensor::from_slice(&[1.0f32, -2.0]).set_requires_grad(true);
//! let mut sgd = SGD::new(vec![w.shallow_clone()], SGDConfig { lr: 0.1, momentum: 0.9, ..Default::default() })?;
//! let mut scheduler = CosineAnnealingLR::new(&mut sgd, 10, 0.0)?;
//! for _ in 0..3 {
//!     sgd.zero_grad();
//!     (&w * &w).sum(Kind::Float).backward();
//!     sgd.step()?;
//!     scheduler.step(&mut sgd)?;
//! }
//! // Save mid-run; load into fresh objects (scheduler made first, as in PyTorch); continue.
//! let (saved, schedule) = (sgd.state_dict(), scheduler.state_dict());
//! assert!(saved.state[&0].contains_key("momentum_buffer"));
//! let mut resumed = SGD::new(vec![w.shallow_clone()], SGDConfig::default())?;
//! let mut resumed_scheduler = CosineAnnealingLR::new(&mut resumed, 10, 0.0)?;
//! resumed.load_state_dict(&saved)?;
//! resumed_scheduler.load_state_dict(&schedule)?;
//! assert_eq!(resumed.param_groups()[0].lr, scheduler.last_lr()[0]);
//! assert_eq!(resumed_scheduler.last_epoch(), 3);
//! # anyhow::Ok(())
//! ```

mod adam;
mod clip;
mod lr_scheduler;
mod optimizer;
mod sgd;

pub use adam::{Adam, AdamConfig, AdamState, AdamW, AdamWConfig};
pub use clip::clip_grad_norm_;
pub use lr_scheduler::{
    CosineAnnealingLR, ExponentialLR, LrScheduler, MinLr, PlateauMode, ReduceLROnPlateau, ReduceLROnPlateauConfig,
    SchedulerStateDict, StepLR, ThresholdMode,
};
pub use optimizer::{Optimizer, OptimizerStateDict, ParamGroup, Value};
pub use sgd::{SGD, SGDConfig};
