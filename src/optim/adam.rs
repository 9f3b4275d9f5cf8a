//! `torch.optim.Adam` and `torch.optim.AdamW`, replaying PyTorch's single-tensor CPU path
//! (`_single_tensor_adam`, which AdamW runs with `decoupled_weight_decay=True`) op for op:
//! `grad.add(param, alpha=weight_decay)` (Adam) or `param.mul_(1 - lr * weight_decay)` (AdamW),
//! `lerp_` for the first moment, `mul_().addcmul_(value=1 - beta2)` for the second,
//! `torch.maximum` for amsgrad, bias corrections computed in double precision with `pow`,
//! `addcdiv_(value=-step_size)`. libtorch's C++ `torch::optim::Adam` (tch's `nn::Adam`) updates
//! the first moment with `mul_().add_()` instead, which drifts from PyTorch in the last bits.

use std::collections::BTreeMap;

use anyhow::{Result, bail, ensure};
use tch::Tensor;

use super::optimizer::{
    Core, Fields, GroupConfig, ParamState, Value, fixed_flags, impl_optimizer, known_names, state_step, state_tensor,
};
use crate::ffi::{add_alpha, addcdiv_, addcmul_};

/// The arguments of `torch.optim.Adam(params, ...)`, each with PyTorch's default.
///
/// ```
/// let config = tch_rnn::optim::AdamConfig { lr: 0.05, ..Default::default() };
/// assert_eq!((config.betas, config.eps, config.weight_decay), ((0.9, 0.999), 1e-8, 0.0));
/// assert!(!config.amsgrad && !config.maximize);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate. Default: 1e-3.
    pub lr: f64,
    /// Running-average coefficients of the gradient and of its square. Default: (0.9, 0.999).
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability. Default: 1e-8.
    pub eps: f64,
    /// L2 penalty, added to the gradient as `grad + weight_decay * param`. Default: 0.
    pub weight_decay: f64,
    /// Use the maximum of all second-moment estimates so far (AMSGrad). Default: `false`.
    pub amsgrad: bool,
    /// Maximise the objective instead of minimising it. Default: `false`.
    pub maximize: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig { lr: 1e-3, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 0.0, amsgrad: false, maximize: false }
    }
}

/// The arguments of `torch.optim.AdamW(params, ...)`, each with PyTorch's default: those of
/// [`AdamConfig`], but `weight_decay` is decoupled (the parameter is multiplied by
/// `1 - lr * weight_decay` before the update) and defaults to 1e-2.
///
/// ```
/// let config = tch_rnn::optim::AdamWConfig::default();
/// assert_eq!((config.lr, config.weight_decay), (1e-3, 1e-2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate. Default: 1e-3.
    pub lr: f64,
    /// Running-average coefficients of the gradient and of its square. Default: (0.9, 0.999).
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability. Default: 1e-8.
    pub eps: f64,
    /// Decoupled weight decay: each step first multiplies the parameter by
    /// `1 - lr * weight_decay`. Default: 1e-2.
    pub weight_decay: f64,
    /// Use the maximum of all second-moment estimates so far (AMSGrad). Default: `false`.
    pub amsgrad: bool,
    /// Maximise the objective instead of minimising it. Default: `false`.
    pub maximize: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig { weight_decay: 1e-2, ..AdamConfig::default().into() }
    }
}

impl From<AdamConfig> for AdamWConfig {
    /// The same numbers, `weight_decay` now decoupled.
    fn from(c: AdamConfig) -> Self {
        let AdamConfig { lr, betas, eps, weight_decay, amsgrad, maximize } = c;
        AdamWConfig { lr, betas, eps, weight_decay, amsgrad, maximize }
    }
}

impl From<AdamWConfig> for AdamConfig {
    /// The same numbers, `weight_decay` now an L2 penalty.
    fn from(c: AdamWConfig) -> Self {
        let AdamWConfig { lr, betas, eps, weight_decay, amsgrad, maximize } = c;
        AdamConfig { lr, betas, eps, weight_decay, amsgrad, maximize }
    }
}

/// The state of one parameter, as PyTorch's `optimizer.state[param]`: `step` is a float32
/// counter, the moments are zeros of the parameter's shape created on its first step.
///
/// ```
/// let state = tch_rnn::optim::AdamState {
///     step: 0.0,
///     exp_avg: tch::Tensor::zeros([2], tch::kind::FLOAT_CPU),
///     exp_avg_sq: tch::Tensor::zeros([2], tch::kind::FLOAT_CPU),
///     max_exp_avg_sq: None,
/// };
/// assert_eq!(state.step, 0.0);
/// ```
#[derive(Debug)]
pub struct AdamState {
    /// Steps taken so far.
    pub step: f32,
    /// The running average of the gradient.
    pub exp_avg: Tensor,
    /// The running average of the squared gradient.
    pub exp_avg_sq: Tensor,
    /// The maximum of `exp_avg_sq` so far; only with amsgrad.
    pub max_exp_avg_sq: Option<Tensor>,
}

/// One group's hyper-parameters in the Adam family: AdamW's are Adam's, decoupled.
#[derive(Clone, Copy, Debug)]
struct AdamGroup {
    config: AdamConfig,
    decoupled: bool,
}

impl GroupConfig for AdamGroup {
    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn with_lr(self, lr: f64) -> Self {
        AdamGroup { config: AdamConfig { lr, ..self.config }, ..self }
    }

    fn check(&self, name: &str) -> Result<()> {
        let AdamConfig { lr, betas: (beta1, beta2), eps, weight_decay, .. } = self.config;
        // PyTorch's checks, in its order, `not 0.0 <= x` refusing NaN too; an infinite learning
        // rate (which PyTorch takes) is refused as well.
        ensure!(lr.is_finite() && lr >= 0.0, "{name}: Invalid learning rate: {lr}");
        ensure!(eps >= 0.0, "{name}: Invalid epsilon value: {eps}");
        ensure!((0.0..1.0).contains(&beta1), "{name}: Invalid beta parameter at index 0: {beta1}");
        ensure!((0.0..1.0).contains(&beta2), "{name}: Invalid beta parameter at index 1: {beta2}");
        ensure!(weight_decay >= 0.0, "{name}: Invalid weight_decay value: {weight_decay}");
        Ok(())
    }

    fn to_values(&self) -> Vec<(&'static str, Value)> {
        let c = self.config;
        vec![
            ("betas", Value::from(vec![c.betas.0, c.betas.1])),
            ("eps", Value::Float(c.eps)),
            ("weight_decay", Value::Float(c.weight_decay)),
            ("amsgrad", Value::Bool(c.amsgrad)),
            ("maximize", Value::Bool(c.maximize)),
            ("foreach", Value::None),
            ("capturable", Value::Bool(false)),
            ("differentiable", Value::Bool(false)),
            ("fused", Value::None),
            ("decoupled_weight_decay", Value::Bool(self.decoupled)),
        ]
    }

    fn read(&self, fields: &Fields, lr: f64) -> Result<Self> {
        let config = AdamConfig {
            lr,
            betas: fields.f64_pair("betas")?,
            eps: fields.f64("eps")?,
            weight_decay: fields.f64("weight_decay")?,
            amsgrad: fields.bool("amsgrad")?,
            maximize: fields.bool("maximize")?,
        };
        fixed_flags(fields, &["foreach", "capturable", "differentiable", "fused"])?;
        // PyTorch's Adam defaults the flag to False, and AdamW sets it to True on loading.
        if let Some(v) = fields.optional("decoupled_weight_decay") {
            let decoupled = v.as_bool() == Some(true);
            if v.as_bool().is_none() || decoupled != self.decoupled {
                bail!(
                    "{}: decoupled_weight_decay={v} is {}'s state; load it into {}",
                    fields.what(),
                    if decoupled { "AdamW" } else { "Adam" },
                    if decoupled { "AdamW" } else { "Adam" }
                );
            }
        }
        Ok(AdamGroup { config, decoupled: self.decoupled })
    }
}

impl ParamState<AdamGroup> for AdamState {
    fn to_tensors(&self) -> Vec<(&'static str, Tensor)> {
        let mut tensors = vec![
            ("step", Tensor::from(self.step)),
            ("exp_avg", self.exp_avg.copy()),
            ("exp_avg_sq", self.exp_avg_sq.copy()),
        ];
        tensors.extend(self.max_exp_avg_sq.as_ref().map(|m| ("max_exp_avg_sq", m.copy())));
        tensors
    }

    fn from_tensors(
        what: &str,
        tensors: &BTreeMap<String, Tensor>,
        param: &Tensor,
        group: &AdamGroup,
    ) -> Result<Option<Self>> {
        if tensors.is_empty() {
            return Ok(None);
        }
        let amsgrad = group.config.amsgrad;
        let known: &[&str] = if amsgrad {
            &["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["step", "exp_avg", "exp_avg_sq"]
        };
        known_names(what, tensors, known)?;
        Ok(Some(AdamState {
            step: state_step(what, tensors)?,
            exp_avg: state_tensor(what, tensors, "exp_avg", param)?,
            exp_avg_sq: state_tensor(what, tensors, "exp_avg_sq", param)?,
            max_exp_avg_sq: amsgrad.then(|| state_tensor(what, tensors, "max_exp_avg_sq", param)).transpose()?,
        }))
    }
}

/// Adam's and AdamW's update of one parameter, `_single_tensor_adam` for one index.
fn adam_update(
    name: &str,
    group: &AdamGroup,
    param: &mut Tensor,
    mut grad: Tensor,
    state: &mut Option<AdamState>,
) -> Result<()> {
    let AdamConfig { lr, betas: (beta1, beta2), eps, weight_decay, amsgrad, maximize } = group.config;
    ensure!(
        !grad.is_sparse(),
        "{name}: {name} does not support sparse gradients, please consider SparseAdam instead \
         (an Embedding with sparse: true gives them)"
    );
    if maximize {
        grad = grad.f_neg()?;
    }
    let state = state.get_or_insert_with(|| AdamState {
        step: 0.0,
        exp_avg: param.zeros_like(),
        exp_avg_sq: param.zeros_like(),
        max_exp_avg_sq: amsgrad.then(|| param.zeros_like()),
    });
    state.step += 1.0;
    if weight_decay != 0.0 {
        if group.decoupled {
            let _ = param.f_mul_scalar_(1.0 - lr * weight_decay)?;
        } else {
            grad = add_alpha(&grad, param, weight_decay)?;
        }
    }
    let _ = state.exp_avg.f_lerp_(&grad, 1.0 - beta1)?;
    let _ = state.exp_avg_sq.f_mul_scalar_(beta2)?;
    addcmul_(&mut state.exp_avg_sq, &grad, &grad, 1.0 - beta2)?;
    let step = f64::from(state.step);
    let bias_correction1 = 1.0 - beta1.powf(step);
    let bias_correction2 = 1.0 - beta2.powf(step);
    let step_size = lr / bias_correction1;
    let bias_correction2_sqrt = bias_correction2.powf(0.5);
    let second_moment = match &mut state.max_exp_avg_sq {
        Some(max_exp_avg_sq) => {
            let _ = Tensor::f_maximum_out(max_exp_avg_sq, max_exp_avg_sq, &state.exp_avg_sq)?;
            &*max_exp_avg_sq
        }
        None => &state.exp_avg_sq,
    };
    let mut denom = second_moment.f_sqrt()?.f_div_scalar(bias_correction2_sqrt)?;
    let _ = denom.f_add_scalar_(eps)?;
    addcdiv_(param, &state.exp_avg, &denom, -step_size)
}

/// Adam (Kingma & Ba) exactly as `torch.optim.Adam` computes it on CPU (the default,
/// non-foreach, non-fused path), including `weight_decay`, `amsgrad` and `maximize`, with one
/// or more parameter groups ([`Adam::with_groups`]).
///
/// ```
/// use tch::{nn::VarStore, Device, Kind, Tensor};
/// use tch_rnn::optim::{Adam, AdamConfig};
/// let vs = VarStore::new(Device::Cpu);
/// let w = vs.root().ones("w", &[2]);
/// let mut optimizer = Adam::new(vs.trainable_variables(), AdamConfig { lr: 0.1, ..Default::default() })?;
/// optimizer.zero_grad();
/// (&w * &w).sum(Kind::Float).backward();
/// optimizer.step()?;
/// assert!((w.double_value(&[0]) - 0.9).abs() < 1e-6);
/// # anyhow::Ok(())
/// ```
pub struct Adam {
    core: Core<AdamGroup, AdamState>,
}

impl_optimizer!(Adam);

impl Adam {
    /// An optimizer over `params` (e.g. `vs.trainable_variables()`), checking the
    /// hyper-parameters and the parameters as PyTorch does: at least one, each a defined leaf
    /// tensor (or one that retains its gradient), none listed twice (PyTorch warns that this
    /// "will cause an error" in future, and steps such a parameter twice; here it is an error
    /// now).
    ///
    /// ```
    /// let err = tch_rnn::optim::Adam::new(vec![], Default::default()).err().unwrap();
    /// assert_eq!(err.to_string(), "Adam: optimizer got an empty parameter list");
    /// ```
    pub fn new(params: Vec<Tensor>, config: AdamConfig) -> Result<Self> {
        Self::with_groups(vec![(params, config)])
    }

    /// An optimizer over several parameter groups, each with its own hyper-parameters, as
    /// `torch.optim.Adam([{"params": ..., "lr": ...}, ...])`; the parameters are numbered
    /// group after group.
    ///
    /// ```
    /// use tch_rnn::optim::{Adam, AdamConfig, Optimizer};
    /// let p = || tch::Tensor::zeros([2], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let slow = AdamConfig { lr: 1e-4, ..Default::default() };
    /// let adam = Adam::with_groups(vec![(vec![p(), p()], AdamConfig::default()), (vec![p()], slow)])?;
    /// assert_eq!(adam.group_config(1).map(|c| c.lr), Some(1e-4));
    /// assert_eq!(adam.params().len(), 3);
    /// # anyhow::Ok(())
    /// ```
    pub fn with_groups(groups: Vec<(Vec<Tensor>, AdamConfig)>) -> Result<Self> {
        let groups = groups.into_iter().map(|(p, config)| (p, AdamGroup { config, decoupled: false })).collect();
        Ok(Adam { core: Core::new("Adam", groups)? })
    }

    /// Clears the gradients of every parameter, as PyTorch's `zero_grad()` does: it sets them to
    /// `None`, so that the next `backward` stores fresh gradients.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut adam = tch_rnn::optim::Adam::new(vec![w.shallow_clone()], Default::default())?;
    /// w.sum(tch::Kind::Float).backward();
    /// adam.zero_grad();
    /// assert!(!w.grad().defined());
    /// # anyhow::Ok(())
    /// ```
    pub fn zero_grad(&mut self) {
        self.core.zero_grad()
    }

    /// The parameters, in the order they were given.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let adam = tch_rnn::optim::Adam::new(vec![w], Default::default())?;
    /// assert_eq!(adam.params().len(), 1);
    /// # anyhow::Ok(())
    /// ```
    pub fn params(&self) -> &[Tensor] {
        &self.core.params
    }

    /// The hyper-parameters of the first parameter group, with its current learning rate.
    ///
    /// ```
    /// use tch_rnn::optim::{Adam, AdamConfig};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let config = AdamConfig { lr: 0.01, ..Default::default() };
    /// assert_eq!(Adam::new(vec![w], config)?.config(), config);
    /// # anyhow::Ok(())
    /// ```
    pub fn config(&self) -> AdamConfig {
        self.core.config(0).config
    }

    /// The hyper-parameters of parameter group `group`, with its current learning rate; `None`
    /// past the last group.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let adam = tch_rnn::optim::Adam::new(vec![w], Default::default())?;
    /// assert!(adam.group_config(0).is_some() && adam.group_config(1).is_none());
    /// # anyhow::Ok(())
    /// ```
    pub fn group_config(&self, group: usize) -> Option<AdamConfig> {
        (group < self.core.groups.len()).then(|| self.core.config(group).config)
    }

    /// The state of parameter `index` (in the order given to [`Adam::new`]); `None` before its
    /// first step.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let adam = tch_rnn::optim::Adam::new(vec![w], Default::default())?;
    /// assert!(adam.state(0).is_none());
    /// # anyhow::Ok(())
    /// ```
    pub fn state(&self, index: usize) -> Option<&AdamState> {
        self.core.state.get(index).and_then(Option::as_ref)
    }

    /// Restores the state of parameter `index`, as `optimizer.load_state_dict` does for one
    /// entry: the moments must have the parameter's shape, dtype and device, and
    /// `max_exp_avg_sq` must be there exactly when amsgrad is on (in the parameter's group).
    ///
    /// ```
    /// use tch_rnn::optim::{Adam, AdamState};
    /// let w = tch::Tensor::zeros([2], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut adam = Adam::new(vec![w.shallow_clone()], Default::default())?;
    /// adam.set_state(0, AdamState { step: 3.0, exp_avg: w.zeros_like(), exp_avg_sq: w.zeros_like(), max_exp_avg_sq: None })?;
    /// assert_eq!(adam.state(0).map(|s| s.step), Some(3.0));
    /// # anyhow::Ok(())
    /// ```
    pub fn set_state(&mut self, index: usize, state: AdamState) -> Result<()> {
        self.set_states(vec![(index, state)])
    }

    /// Restores the states of several parameters at once, all or nothing: every state is
    /// checked as [`Adam::set_state`] checks it before any is set.
    ///
    /// ```
    /// use tch_rnn::optim::{Adam, AdamState};
    /// let w = tch::Tensor::zeros([2], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut adam = Adam::new(vec![w.shallow_clone()], Default::default())?;
    /// let state = |step| AdamState { step, exp_avg: w.zeros_like(), exp_avg_sq: w.zeros_like(), max_exp_avg_sq: None };
    /// assert!(adam.set_states(vec![(0, state(3.0)), (1, state(3.0))]).is_err()); // no parameter 1
    /// assert!(adam.state(0).is_none()); // nothing was set
    /// # anyhow::Ok(())
    /// ```
    pub fn set_states(&mut self, states: Vec<(usize, AdamState)>) -> Result<()> {
        set_adam_states(&mut self.core, states)
    }

    /// One update of every parameter that has a gradient.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut adam = tch_rnn::optim::Adam::new(vec![w.shallow_clone()], Default::default())?;
    /// adam.step()?; // no gradient yet: nothing to do
    /// assert!(adam.state(0).is_none());
    /// # anyhow::Ok(())
    /// ```
    pub fn step(&mut self) -> Result<()> {
        self.core.step(|group, param, grad, state| adam_update("Adam", group, param, grad, state))
    }
}

/// AdamW (Loshchilov & Hutter) exactly as `torch.optim.AdamW` computes it on CPU: Adam whose
/// weight decay multiplies the parameter by `1 - lr * weight_decay` before the update instead
/// of adding to the gradient (the same code as [`Adam`], as in PyTorch).
///
/// ```
/// use tch::{Kind, Tensor};
/// use tch_rnn::optim::{AdamW, AdamWConfig, Optimizer};
/// let w = Tensor::ones([2], tch::kind::FLOAT_CPU).set_requires_grad(true);
/// let mut optimizer = AdamW::new(vec![w.shallow_clone()], AdamWConfig { lr: 0.1, weight_decay: 0.5, ..Default::default() })?;
/// optimizer.zero_grad();
/// (&w * &w).sum(Kind::Float).backward();
/// optimizer.step()?;
/// assert!((w.double_value(&[0]) - (0.95 - 0.1)).abs() < 1e-6); // decay, then Adam's first step
/// # anyhow::Ok(())
/// ```
pub struct AdamW {
    core: Core<AdamGroup, AdamState>,
}

impl_optimizer!(AdamW);

impl AdamW {
    /// An optimizer over `params`, checked as [`Adam::new`] checks them.
    ///
    /// ```
    /// use tch_rnn::optim::{AdamW, AdamWConfig};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let err = AdamW::new(vec![w], AdamWConfig { weight_decay: -1.0, ..Default::default() }).err().unwrap();
    /// assert_eq!(err.to_string(), "AdamW: Invalid weight_decay value: -1");
    /// ```
    pub fn new(params: Vec<Tensor>, config: AdamWConfig) -> Result<Self> {
        Self::with_groups(vec![(params, config)])
    }

    /// An optimizer over several parameter groups, as [`Adam::with_groups`].
    ///
    /// ```
    /// use tch_rnn::optim::{AdamW, AdamWConfig};
    /// let p = || tch::Tensor::zeros([2], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let no_decay = AdamWConfig { weight_decay: 0.0, ..Default::default() };
    /// let adamw = AdamW::with_groups(vec![(vec![p()], AdamWConfig::default()), (vec![p()], no_decay)])?;
    /// assert_eq!(adamw.group_config(1).map(|c| c.weight_decay), Some(0.0));
    /// # anyhow::Ok(())
    /// ```
    pub fn with_groups(groups: Vec<(Vec<Tensor>, AdamWConfig)>) -> Result<Self> {
        let groups =
            groups.into_iter().map(|(p, config)| (p, AdamGroup { config: config.into(), decoupled: true })).collect();
        Ok(AdamW { core: Core::new("AdamW", groups)? })
    }

    /// The hyper-parameters of the first parameter group, with its current learning rate.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let adamw = tch_rnn::optim::AdamW::new(vec![w], Default::default())?;
    /// assert_eq!(adamw.config(), Default::default());
    /// # anyhow::Ok(())
    /// ```
    pub fn config(&self) -> AdamWConfig {
        self.core.config(0).config.into()
    }

    /// The hyper-parameters of parameter group `group`; `None` past the last group.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let adamw = tch_rnn::optim::AdamW::new(vec![w], Default::default())?;
    /// assert!(adamw.group_config(1).is_none());
    /// # anyhow::Ok(())
    /// ```
    pub fn group_config(&self, group: usize) -> Option<AdamWConfig> {
        (group < self.core.groups.len()).then(|| self.core.config(group).config.into())
    }

    /// The state of parameter `index`; `None` before its first step.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let adamw = tch_rnn::optim::AdamW::new(vec![w], Default::default())?;
    /// assert!(adamw.state(0).is_none());
    /// # anyhow::Ok(())
    /// ```
    pub fn state(&self, index: usize) -> Option<&AdamState> {
        self.core.state.get(index).and_then(Option::as_ref)
    }

    /// Restores the states of several parameters, all or nothing, as [`Adam::set_states`].
    ///
    /// ```
    /// use tch_rnn::optim::{AdamState, AdamW};
    /// let w = tch::Tensor::zeros([2], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut adamw = AdamW::new(vec![w.shallow_clone()], Default::default())?;
    /// let wrong = AdamState { step: 1.0, exp_avg: w.zeros_like(), exp_avg_sq: w.zeros_like(), max_exp_avg_sq: Some(w.zeros_like()) };
    /// assert!(adamw.set_states(vec![(0, wrong)]).is_err()); // amsgrad is off
    /// # anyhow::Ok(())
    /// ```
    pub fn set_states(&mut self, states: Vec<(usize, AdamState)>) -> Result<()> {
        set_adam_states(&mut self.core, states)
    }

    /// One update of every parameter that has a gradient.
    ///
    /// ```
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut adamw = tch_rnn::optim::AdamW::new(vec![w.shallow_clone()], Default::default())?;
    /// w.sum(tch::Kind::Float).backward();
    /// adamw.step()?;
    /// assert_eq!(adamw.state(0).map(|s| s.step), Some(1.0));
    /// # anyhow::Ok(())
    /// ```
    pub fn step(&mut self) -> Result<()> {
        self.core.step(|group, param, grad, state| adam_update("AdamW", group, param, grad, state))
    }
}

/// [`Adam::set_states`] for Adam and AdamW: every state checked before any is set.
fn set_adam_states(core: &mut Core<AdamGroup, AdamState>, states: Vec<(usize, AdamState)>) -> Result<()> {
    for (index, state) in &states {
        check_state(core, *index, state)?;
    }
    for (index, state) in states {
        core.state[index] = Some(state);
    }
    Ok(())
}

fn check_state(core: &Core<AdamGroup, AdamState>, index: usize, state: &AdamState) -> Result<()> {
    let name = core.name;
    let (Some(param), Some(group)) = (core.params.get(index), core.group_of(index)) else {
        bail!("{name}: no parameter {index} (the optimizer has {})", core.params.len());
    };
    let mut moments = vec![("exp_avg", &state.exp_avg), ("exp_avg_sq", &state.exp_avg_sq)];
    moments.extend(state.max_exp_avg_sq.as_ref().map(|m| ("max_exp_avg_sq", m)));
    for (what, moment) in moments {
        ensure!(
            moment.defined()
                && moment.size() == param.size()
                && moment.kind() == param.kind()
                && moment.device() == param.device(),
            "{name}: {what} of parameter {index} must match it ({:?} {:?} on {:?})",
            param.size(),
            param.kind(),
            param.device()
        );
    }
    let amsgrad = core.config(group).config.amsgrad;
    ensure!(
        state.max_exp_avg_sq.is_some() == amsgrad,
        "{name}: parameter {index}: max_exp_avg_sq is kept exactly when amsgrad is on (amsgrad: {amsgrad})"
    );
    ensure!(state.step.is_finite() && state.step >= 0.0, "{name}: parameter {index}: invalid step {}", state.step);
    Ok(())
}
