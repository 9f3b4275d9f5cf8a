//! `torch.optim.Adam`, replaying PyTorch's single-tensor CPU path (`_single_tensor_adam`) op
//! for op: `grad.add(param, alpha=weight_decay)`, `lerp_` for the first moment,
//! `mul_().addcmul_(value=1 - beta2)` for the second, `torch.maximum` for amsgrad, bias
//! corrections computed in double precision with `pow`, `addcdiv_(value=-step_size)`.
//! libtorch's C++ `torch::optim::Adam` (tch's `nn::Adam`) updates the first moment with
//! `mul_().add_()` instead, which drifts from PyTorch in the last bits.

use anyhow::{Result, ensure};
use tch::Tensor;

use crate::error::guard;
use crate::ffi::{add_alpha, addcdiv_, addcmul_, clear_grad, same_tensor};

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

/// Adam (Kingma & Ba) exactly as `torch.optim.Adam` computes it on CPU (the default,
/// non-foreach, non-fused path), including `weight_decay`, `amsgrad` and `maximize`.
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
    params: Vec<Tensor>,
    state: Vec<Option<AdamState>>,
    config: AdamConfig,
}

impl Adam {
    /// An optimizer over `params` (e.g. `vs.trainable_variables()`), checking the
    /// hyper-parameters and the parameters as PyTorch does: at least one, each a defined leaf
    /// tensor (or one that retains its gradient), none listed twice (PyTorch warns that this
    /// "will cause an error" in future, and steps such a parameter twice; here it is an error
    /// now).
    pub fn new(params: Vec<Tensor>, config: AdamConfig) -> Result<Self> {
        let AdamConfig { lr, betas: (beta1, beta2), eps, weight_decay, .. } = config;
        ensure!(lr.is_finite(), "Adam: Invalid learning rate: {lr}");
        ensure!(lr >= 0.0, "Adam: Invalid learning rate: {lr}");
        ensure!(weight_decay >= 0.0, "Adam: Invalid weight_decay value: {weight_decay}");
        ensure!(eps >= 0.0, "Adam: Invalid epsilon value: {eps}");
        ensure!((0.0..1.0).contains(&beta1), "Adam: Invalid beta parameter at index 0: {beta1}");
        ensure!((0.0..1.0).contains(&beta2), "Adam: Invalid beta parameter at index 1: {beta2}");
        ensure!(!params.is_empty(), "Adam: optimizer got an empty parameter list");
        for (i, p) in params.iter().enumerate() {
            ensure!(p.defined(), "Adam: parameter {i} is an undefined tensor (Tensor::new()); expected a parameter");
            ensure!(
                p.is_leaf() || p.retains_grad(),
                "Adam: can't optimize a non-leaf Tensor (parameter {i}, made by {}); pass the leaf it was computed from",
                crate::ffi::grad_fn_name(p).unwrap_or_else(|| "an operation".into())
            );
            if let Some(j) = params[..i].iter().position(|q| same_tensor(p, q)) {
                anyhow::bail!(
                    "Adam: parameter {i} is parameter {j} again; a parameter listed twice would be updated twice per step"
                );
            }
        }
        let state = params.iter().map(|_| None).collect();
        Ok(Adam { params, state, config })
    }

    /// Clears the gradients of every parameter, as PyTorch's `zero_grad()` does: it sets them to
    /// `None`, so that the next `backward` stores fresh gradients.
    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            clear_grad(p);
        }
    }

    /// The parameters, in the order they were given.
    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// The hyper-parameters.
    pub fn config(&self) -> AdamConfig {
        self.config
    }

    /// The state of parameter `index` (in the order given to [`Adam::new`]); `None` before its
    /// first step.
    pub fn state(&self, index: usize) -> Option<&AdamState> {
        self.state.get(index).and_then(Option::as_ref)
    }

    /// Restores the state of parameter `index`, as `optimizer.load_state_dict` does for one
    /// entry: the moments must have the parameter's shape, dtype and device, and
    /// `max_exp_avg_sq` must be there exactly when amsgrad is on.
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
        for (index, state) in &states {
            self.check_state(*index, state)?;
        }
        for (index, state) in states {
            self.state[index] = Some(state);
        }
        Ok(())
    }

    fn check_state(&self, index: usize, state: &AdamState) -> Result<()> {
        let param = self
            .params
            .get(index)
            .ok_or_else(|| anyhow::anyhow!("Adam: no parameter {index} (the optimizer has {})", self.params.len()))?;
        let mut moments = vec![("exp_avg", &state.exp_avg), ("exp_avg_sq", &state.exp_avg_sq)];
        moments.extend(state.max_exp_avg_sq.as_ref().map(|m| ("max_exp_avg_sq", m)));
        for (name, moment) in moments {
            ensure!(
                moment.defined()
                    && moment.size() == param.size()
                    && moment.kind() == param.kind()
                    && moment.device() == param.device(),
                "Adam: {name} of parameter {index} must match it ({:?} {:?} on {:?})",
                param.size(),
                param.kind(),
                param.device()
            );
        }
        ensure!(
            state.max_exp_avg_sq.is_some() == self.config.amsgrad,
            "Adam: parameter {index}: max_exp_avg_sq is kept exactly when amsgrad is on (amsgrad: {})",
            self.config.amsgrad
        );
        ensure!(state.step.is_finite() && state.step >= 0.0, "Adam: parameter {index}: invalid step {}", state.step);
        Ok(())
    }

    /// One update of every parameter that has a gradient.
    pub fn step(&mut self) -> Result<()> {
        let AdamConfig { lr, betas: (beta1, beta2), eps, weight_decay, amsgrad, maximize } = self.config;
        guard("Adam", || {
            tch::no_grad(|| {
                for (param, state) in self.params.iter_mut().zip(&mut self.state) {
                    let mut grad = param.grad();
                    if !grad.defined() {
                        continue;
                    }
                    ensure!(
                        !grad.is_sparse(),
                        "Adam: Adam does not support sparse gradients, please consider SparseAdam instead \
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
                        grad = add_alpha(&grad, param, weight_decay)?;
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
                    addcdiv_(param, &state.exp_avg, &denom, -step_size)?;
                }
                Ok(())
            })
        })
    }
}
