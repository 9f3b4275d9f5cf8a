//! How a character model is optimized: the `optim` group of options, the optimizer and the
//! learning-rate schedule they build (`torch.optim`'s, step for step), and one training step
//! (forward, loss, backward, clipping, update).

use anyhow::Result;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::model::CharModel;
use crate::nn::{CrossEntropyLoss, RecurrentState};
use crate::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, CosineAnnealingLR, ExponentialLR, LrScheduler, Optimizer, ReduceLROnPlateau,
    ReduceLROnPlateauConfig, SGD, SGDConfig, StepLR, clip_grad_norm_,
};
use crate::options::{Domain, OptionError, option_group};

/// The optimizer of a run, as `--optimizer` and `config.json` spell it.
///
/// ```
/// let kind: tch_rnn::charlm::OptimizerKind = serde_json::from_str("\"adamw\"")?;
/// assert_eq!(kind, tch_rnn::charlm::OptimizerKind::AdamW);
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// `torch.optim.Adam`.
    Adam,
    /// `torch.optim.AdamW`.
    AdamW,
    /// `torch.optim.SGD`.
    Sgd,
}

/// The learning-rate schedule of a run. A schedule advances at each evaluation (every
/// `eval_every` steps), the run's epoch.
///
/// ```
/// let schedule: tch_rnn::charlm::LrSchedule = serde_json::from_str("\"plateau\"")?;
/// assert_eq!(schedule, tch_rnn::charlm::LrSchedule::Plateau);
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// A constant learning rate.
    None,
    /// `StepLR`: times `lr_gamma` every `lr_step_size` evaluations.
    Step,
    /// `ExponentialLR`: times `lr_gamma` at every evaluation.
    Exponential,
    /// `CosineAnnealingLR`: down to `lr_eta_min` along a cosine over `lr_t_max` evaluations.
    Cosine,
    /// `ReduceLROnPlateau`: times `lr_gamma` after `lr_patience` evaluations without a better
    /// validation loss.
    Plateau,
}

option_group! {
    /// The optimization of a run: the `optim` group of `config.json`, and the optimizer's
    /// flags of `tch-rnn train`. Defaults follow karpathy/char-rnn (Adam, 2e-3, clip 5); the
    /// other hyper-parameters have `torch.optim`'s defaults.
    ///
    /// ```
    /// let optim = tch_rnn::charlm::OptimOptions::default();
    /// assert_eq!((optim.lr, optim.clip, optim.weight_decay), (2e-3, 5.0, None));
    /// ```
    pub struct OptimOptions {
        /// The optimizer.
        optimizer: OptimizerKind = OptimizerKind::Adam, Domain::Choice(&["adam", "adamw", "sgd"]), Keep;
        /// The learning rate (the schedule's first).
        lr: f64 = 2e-3, Domain::Number { min: 0.0, inclusive: false, below: None }, Keep;
        /// Clip the gradients' norm to this; 0 for no clipping.
        clip: f64 = 5.0, Domain::Number { min: 0.0, inclusive: true, below: None }, Keep;
        /// Weight decay: an L2 penalty for adam and sgd, decoupled for adamw (default: the
        /// optimizer's, 0, or 0.01 for adamw).
        weight_decay: Option<f64> = None, Domain::Number { min: 0.0, inclusive: true, below: None }, Keep;
        /// adam, adamw: the running average coefficient of the gradient.
        beta1: f64 = 0.9, Domain::Number { min: 0.0, inclusive: true, below: Some(1.0) }, Keep;
        /// adam, adamw: the running average coefficient of the gradient's square.
        beta2: f64 = 0.999, Domain::Number { min: 0.0, inclusive: true, below: Some(1.0) }, Keep;
        /// adam, adamw: added to the denominator for numerical stability.
        eps: f64 = 1e-8, Domain::Number { min: 0.0, inclusive: true, below: None }, Keep;
        /// sgd: the momentum factor.
        momentum: f64 = 0.0, Domain::Number { min: 0.0, inclusive: true, below: None }, Keep;
        /// sgd: the dampening of the momentum.
        dampening: f64 = 0.0, Domain::Number { min: 0.0, inclusive: true, below: None }, Keep;
        /// sgd: Nesterov momentum (needs a momentum and no dampening).
        nesterov: bool = false, Domain::Bool, Keep;
        /// The learning-rate schedule, advanced at each evaluation.
        lr_schedule: LrSchedule = LrSchedule::None, Domain::Choice(&["none", "step", "exponential", "cosine", "plateau"]), Keep;
        /// step, exponential, plateau: the factor of each decay.
        lr_gamma: f64 = 0.5, Domain::Number { min: 0.0, inclusive: false, below: None }, Keep;
        /// step: evaluations between two decays.
        lr_step_size: i64 = 2, Domain::Integer { min: 1 }, Keep;
        /// cosine: evaluations from lr to lr_eta_min (default: the run's evaluations).
        lr_t_max: Option<i64> = None, Domain::Integer { min: 1 }, Keep;
        /// cosine: the lowest learning rate.
        lr_eta_min: f64 = 0.0, Domain::Number { min: 0.0, inclusive: true, below: None }, Keep;
        /// plateau: evaluations without a better validation loss before a decay.
        lr_patience: i64 = 2, Domain::Integer { min: 0 }, Keep;
    }
}

impl OptimOptions {
    /// Rules between fields: Nesterov momentum's, and a plateau's factor below 1.
    fn rules(&self) -> Result<()> {
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(OptionError::new("nesterov", "needs a momentum above 0 and a dampening of 0").into());
        }
        if self.lr_schedule == LrSchedule::Plateau && self.lr_gamma >= 1.0 {
            let message = format!("the plateau schedule's factor must be below 1, got {}", self.lr_gamma);
            return Err(OptionError::new("lr_gamma", message).into());
        }
        Ok(())
    }

    /// The optimizer of `params` (in `model.parameters()` order) these options describe.
    pub fn optimizer(&self, params: Vec<Tensor>) -> Result<Box<dyn Optimizer>> {
        let (lr, betas, eps) = (self.lr, (self.beta1, self.beta2), self.eps);
        Ok(match self.optimizer {
            OptimizerKind::Adam => {
                let weight_decay = self.weight_decay.unwrap_or(AdamConfig::default().weight_decay);
                Box::new(Adam::new(params, AdamConfig { lr, betas, eps, weight_decay, ..Default::default() })?)
            }
            OptimizerKind::AdamW => {
                let weight_decay = self.weight_decay.unwrap_or(AdamWConfig::default().weight_decay);
                Box::new(AdamW::new(params, AdamWConfig { lr, betas, eps, weight_decay, ..Default::default() })?)
            }
            OptimizerKind::Sgd => {
                let config = SGDConfig {
                    lr,
                    momentum: self.momentum,
                    dampening: self.dampening,
                    weight_decay: self.weight_decay.unwrap_or(SGDConfig::default().weight_decay),
                    nesterov: self.nesterov,
                    ..Default::default()
                };
                Box::new(SGD::new(params, config)?)
            }
        })
    }

    /// The scheduler of `optimizer` (none for a constant rate), for a run of `evaluations`
    /// evaluations (cosine's default length). Made after the optimizer, as in PyTorch; it is
    /// stepped after each evaluation with the validation loss.
    pub fn scheduler(&self, optimizer: &mut dyn Optimizer, evaluations: i64) -> Result<Option<Box<dyn LrScheduler>>> {
        let gamma = self.lr_gamma;
        Ok(Some(match self.lr_schedule {
            LrSchedule::None => return Ok(None),
            LrSchedule::Step => Box::new(StepLR::new(optimizer, self.lr_step_size, gamma)?),
            LrSchedule::Exponential => Box::new(ExponentialLR::new(optimizer, gamma)?),
            LrSchedule::Cosine => {
                let t_max = self.lr_t_max.unwrap_or(evaluations.max(1));
                Box::new(CosineAnnealingLR::new(optimizer, t_max, self.lr_eta_min)?)
            }
            LrSchedule::Plateau => {
                let config =
                    ReduceLROnPlateauConfig { factor: gamma, patience: self.lr_patience, ..Default::default() };
                Box::new(ReduceLROnPlateau::new(optimizer, config)?)
            }
        }))
    }
}

/// One training step on inputs `x` and next characters `y` `(batch, seq_len)`, from `state`
/// (zeros if `None`): the mean cross entropy of every next character, its gradients (averaged
/// over the ranks by `average_gradients` in a process group), clipped to
/// `clip` (if positive), and the optimizer's update. Returns the loss and the state after the
/// window, cut from the graph (truncated back-propagation through time).
pub(super) fn train_step(
    model: &CharModel,
    optimizer: &mut dyn Optimizer,
    average_gradients: impl FnOnce() -> Result<()>,
    clip: f64,
    (x, y): (&Tensor, &Tensor),
    state: Option<&RecurrentState>,
) -> Result<(f64, RecurrentState)> {
    let criterion = CrossEntropyLoss::new(Default::default())?;
    let (logits, state) = model.forward(x, state)?;
    let loss = criterion.forward(&logits.f_view([-1, model.vocab_size])?, &y.f_reshape([-1])?)?;
    optimizer.zero_grad();
    loss.f_backward()?;
    average_gradients()?;
    if clip > 0.0 {
        let _total_norm = clip_grad_norm_(optimizer.params(), clip)?;
    }
    optimizer.step()?;
    Ok((loss.f_double_value(&[])?, state.detach()))
}
