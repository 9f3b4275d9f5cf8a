//! `torch.optim.SGD`, replaying PyTorch's single-tensor CPU path (`_single_tensor_sgd`) op for
//! op: `grad.add(param, alpha=weight_decay)`, a momentum buffer started as a copy of the first
//! gradient and then updated as `buf.mul_(momentum).add_(grad, alpha=1 - dampening)`, Nesterov's
//! `grad.add(buf, alpha=momentum)`, and `param.add_(grad, alpha=-lr)`. The in-place additions
//! with `alpha` are libtorch's out-of-place `add` (one kernel, the same rounding) copied back.

use std::collections::BTreeMap;

use anyhow::{Result, ensure};
use tch::Tensor;

use super::optimizer::{
    Core, Fields, GroupConfig, ParamState, Value, fixed_flags, impl_optimizer, known_names, state_tensor,
};
use crate::ffi::add_alpha;

/// The arguments of `torch.optim.SGD(params, ...)`, each with PyTorch's default.
///
/// ```
/// let config = tch_rnn::optim::SGDConfig { lr: 0.1, momentum: 0.9, nesterov: true, ..Default::default() };
/// assert_eq!((config.dampening, config.weight_decay), (0.0, 0.0));
/// assert_eq!(tch_rnn::optim::SGDConfig::default().lr, 1e-3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SGDConfig {
    /// Learning rate. Default: 1e-3.
    pub lr: f64,
    /// Momentum factor; 0 keeps no momentum buffer. Default: 0.
    pub momentum: f64,
    /// Dampening of the momentum: the buffer adds `(1 - dampening) * grad`. Default: 0.
    pub dampening: f64,
    /// L2 penalty, added to the gradient as `grad + weight_decay * param`. Default: 0.
    pub weight_decay: f64,
    /// Nesterov momentum (needs a momentum and no dampening). Default: `false`.
    pub nesterov: bool,
    /// Maximise the objective instead of minimising it. Default: `false`.
    pub maximize: bool,
}

impl Default for SGDConfig {
    fn default() -> Self {
        SGDConfig { lr: 1e-3, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false, maximize: false }
    }
}

impl GroupConfig for SGDConfig {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn with_lr(self, lr: f64) -> Self {
        SGDConfig { lr, ..self }
    }

    fn check(&self, name: &str) -> Result<()> {
        let SGDConfig { lr, momentum, dampening, weight_decay, nesterov, .. } = *self;
        // PyTorch's checks and messages (NaN and an infinite learning rate refused as well).
        ensure!(lr.is_finite() && lr >= 0.0, "{name}: Invalid learning rate: {lr}");
        ensure!(momentum.is_finite() && momentum >= 0.0, "{name}: Invalid momentum value: {momentum}");
        ensure!(weight_decay.is_finite() && weight_decay >= 0.0, "{name}: Invalid weight_decay value: {weight_decay}");
        ensure!(dampening.is_finite(), "{name}: Invalid dampening value: {dampening}");
        ensure!(
            !nesterov || (momentum > 0.0 && dampening == 0.0),
            "{name}: Nesterov momentum requires a momentum and zero dampening"
        );
        Ok(())
    }

    fn to_values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("momentum", Value::Float(self.momentum)),
            ("dampening", Value::Float(self.dampening)),
            ("weight_decay", Value::Float(self.weight_decay)),
            ("nesterov", Value::Bool(self.nesterov)),
            ("maximize", Value::Bool(self.maximize)),
            ("foreach", Value::None),
            ("differentiable", Value::Bool(false)),
            ("fused", Value::None),
        ]
    }

    fn read(&self, fields: &Fields, lr: f64) -> Result<Self> {
        let config = SGDConfig {
            lr,
            momentum: fields.f64("momentum")?,
            dampening: fields.f64("dampening")?,
            weight_decay: fields.f64("weight_decay")?,
            nesterov: fields.bool("nesterov")?,
            maximize: fields.bool("maximize")?,
        };
        fixed_flags(fields, &["foreach", "differentiable", "fused"])?;
        Ok(config)
    }
}

/// The state of one parameter: its momentum buffer, kept only with momentum.
struct SGDState {
    momentum_buffer: Tensor,
}

impl ParamState<SGDConfig> for SGDState {
    fn to_tensors(&self) -> Vec<(&'static str, Tensor)> {
        vec![("momentum_buffer", self.momentum_buffer.copy())]
    }

    fn from_tensors(
        what: &str,
        tensors: &BTreeMap<String, Tensor>,
        param: &Tensor,
        config: &SGDConfig,
    ) -> Result<Option<Self>> {
        if tensors.is_empty() {
            return Ok(None);
        }
        ensure!(config.momentum != 0.0, "{what}: a momentum_buffer, but the group has no momentum");
        known_names(what, tensors, &["momentum_buffer"])?;
        Ok(Some(SGDState { momentum_buffer: state_tensor(what, tensors, "momentum_buffer", param)? }))
    }
}

/// Stochastic gradient descent, optionally with momentum (Nesterov's too), exactly as
/// `torch.optim.SGD` computes it on CPU (the default, non-foreach, non-fused path), with one or
/// more parameter groups.
///
/// ```
/// use tch::{Kind, Tensor};
/// use tch_rnn::optim::{Optimizer, SGD, SGDConfig};
/// let w = Tensor::ones([2], tch::kind::FLOAT_CPU).set_requires_grad(true);
/// let mut sgd = SGD::new(vec![w.shallow_clone()], SGDConfig { lr: 0.1, momentum: 0.9, ..Default::default() })?;
/// for _ in 0..2 {
///     sgd.zero_grad();
///     (&w * &w).sum(Kind::Float).backward();
///     sgd.step()?;
/// }
/// // buf = 2, w = 0.8; then buf = 0.9 * 2 + 1.6 = 3.4, w = 0.8 - 0.34
/// assert!((w.double_value(&[0]) - 0.46).abs() < 1e-6);
/// # anyhow::Ok(())
/// ```
#[allow(clippy::upper_case_acronyms)] // torch.optim.SGD
pub struct SGD {
    core: Core<SGDConfig, SGDState>,
}

impl_optimizer!(SGD);

impl SGD {
    /// An optimizer over `params`, checking the hyper-parameters as PyTorch does (with its
    /// messages) and the parameters as [`Adam::new`](super::Adam::new) does.
    ///
    /// ```
    /// use tch_rnn::optim::{SGD, SGDConfig};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let err = SGD::new(vec![w], SGDConfig { nesterov: true, ..Default::default() }).err().unwrap();
    /// assert_eq!(err.to_string(), "SGD: Nesterov momentum requires a momentum and zero dampening");
    /// ```
    pub fn new(params: Vec<Tensor>, config: SGDConfig) -> Result<Self> {
        Self::with_groups(vec![(params, config)])
    }

    /// An optimizer over several parameter groups, each with its own hyper-parameters; the
    /// parameters are numbered group after group.
    ///
    /// ```
    /// use tch_rnn::optim::{Optimizer, SGD, SGDConfig};
    /// let p = || tch::Tensor::zeros([2], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let heavy = SGDConfig { lr: 0.1, momentum: 0.9, ..Default::default() };
    /// let sgd = SGD::with_groups(vec![(vec![p()], SGDConfig::default()), (vec![p()], heavy)])?;
    /// assert_eq!(sgd.param_groups()[1].lr, 0.1);
    /// # anyhow::Ok(())
    /// ```
    pub fn with_groups(groups: Vec<(Vec<Tensor>, SGDConfig)>) -> Result<Self> {
        Ok(SGD { core: Core::new("SGD", groups)? })
    }

    /// The hyper-parameters of the first parameter group, with its current learning rate.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let sgd = tch_rnn::optim::SGD::new(vec![w], Default::default())?;
    /// assert_eq!(sgd.config(), Default::default());
    /// # anyhow::Ok(())
    /// ```
    pub fn config(&self) -> SGDConfig {
        self.core.config(0)
    }

    /// The hyper-parameters of parameter group `group`; `None` past the last group.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let sgd = tch_rnn::optim::SGD::new(vec![w], Default::default())?;
    /// assert!(sgd.group_config(0).is_some() && sgd.group_config(1).is_none());
    /// # anyhow::Ok(())
    /// ```
    pub fn group_config(&self, group: usize) -> Option<SGDConfig> {
        (group < self.core.groups.len()).then(|| self.core.config(group))
    }

    /// The momentum buffer of parameter `index`: `None` without momentum or before its first
    /// step.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let sgd = tch_rnn::optim::SGD::new(vec![w], Default::default())?;
    /// assert!(sgd.momentum_buffer(0).is_none());
    /// # anyhow::Ok(())
    /// ```
    pub fn momentum_buffer(&self, index: usize) -> Option<&Tensor> {
        self.core.state.get(index)?.as_ref().map(|s| &s.momentum_buffer)
    }

    /// One update of every parameter that has a gradient.
    ///
    /// ```
    /// use tch_rnn::optim::{SGD, SGDConfig};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w.shallow_clone()], SGDConfig { lr: 0.5, ..Default::default() })?;
    /// w.sum(tch::Kind::Float).backward();
    /// sgd.step()?;
    /// assert_eq!(w.double_value(&[0]), 0.5);
    /// # anyhow::Ok(())
    /// ```
    pub fn step(&mut self) -> Result<()> {
        self.core.step(sgd_update)
    }
}

/// `_single_tensor_sgd` for one parameter.
fn sgd_update(config: &SGDConfig, param: &mut Tensor, grad: Tensor, state: &mut Option<SGDState>) -> Result<()> {
    let SGDConfig { lr, momentum, dampening, weight_decay, nesterov, maximize } = *config;
    ensure!(
        !grad.is_sparse(),
        "SGD: sparse gradients are not supported here (an Embedding with sparse: true gives them)"
    );
    let mut grad = if maximize { grad.f_neg()? } else { grad };
    if weight_decay != 0.0 {
        grad = add_alpha(&grad, param, weight_decay)?;
    }
    if momentum != 0.0 {
        let buf = match state {
            None => &state.insert(SGDState { momentum_buffer: grad.f_detach_copy()? }).momentum_buffer,
            Some(s) => {
                let _ = s.momentum_buffer.f_mul_scalar_(momentum)?;
                let sum = add_alpha(&s.momentum_buffer, &grad, 1.0 - dampening)?;
                s.momentum_buffer.f_copy_(&sum)?;
                &s.momentum_buffer
            }
        };
        grad = if nesterov { add_alpha(&grad, buf, momentum)? } else { buf.shallow_clone() };
    }
    let updated = add_alpha(param, &grad, -lr)?;
    Ok(param.f_copy_(&updated)?)
}
