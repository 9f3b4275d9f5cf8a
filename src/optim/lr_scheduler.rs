//! `torch.optim.lr_scheduler`'s `StepLR`, `ExponentialLR`, `CosineAnnealingLR` and
//! `ReduceLROnPlateau`, computing each learning rate with PyTorch's arithmetic in the same
//! order (the recursive, "chainable" form that `scheduler.step()` uses, from each group's
//! current learning rate), so that the learning rates are PyTorch's to the bit. A scheduler acts
//! on any [`Optimizer`] through its parameter groups, and its `state_dict` holds PyTorch's
//! entries under PyTorch's names.

use std::collections::BTreeMap;
use std::f64::consts::PI;

use anyhow::{Result, anyhow, bail, ensure};

use super::optimizer::{Fields, Optimizer, Value};

/// A scheduler's state in the layout of PyTorch's `scheduler.state_dict()` (its attributes
/// but the optimizer): e.g. `last_epoch`, `_step_count`, `base_lrs`, `_last_lr` and the
/// scheduler's arguments; ReduceLROnPlateau's `best`, `num_bad_epochs`, `cooldown_counter`, ...
pub type SchedulerStateDict = BTreeMap<String, Value>;

/// What every scheduler here offers besides its `step`: the learning rates it set last, its
/// epoch counter, and a `state_dict` that [`LrScheduler::load_state_dict`] restores.
///
/// ```
/// use tch_rnn::optim::{LrScheduler, SGD, StepLR, Value};
/// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
/// let mut sgd = SGD::new(vec![w], Default::default())?;
/// let mut scheduler = StepLR::new(&mut sgd, 2, 0.5)?;
/// scheduler.step(&mut sgd)?;
/// let saved = scheduler.state_dict();
/// assert_eq!(saved["last_epoch"], Value::Int(1));
/// let mut resumed = StepLR::new(&mut sgd, 7, 0.1)?;
/// resumed.load_state_dict(&saved)?; // step_size and gamma too, as in PyTorch
/// assert_eq!(resumed.state_dict(), saved);
/// # anyhow::Ok(())
/// ```
pub trait LrScheduler {
    /// PyTorch's class name (`StepLR`, ...); errors start with it.
    fn name(&self) -> &'static str;

    /// The learning rate of each parameter group after the last step (`get_last_lr()`).
    fn last_lr(&self) -> &[f64];

    /// The number of steps taken (PyTorch's `last_epoch`; 0 right after construction).
    fn last_epoch(&self) -> i64;

    /// The state in PyTorch's layout; see [`SchedulerStateDict`].
    fn state_dict(&self) -> SchedulerStateDict;

    /// Restores a state taken by [`LrScheduler::state_dict`] (here or from PyTorch), all or
    /// nothing: every entry PyTorch saves must be there with the right type, no other; anything
    /// else is a one-line error starting with the scheduler's name, and nothing is changed.
    fn load_state_dict(&mut self, state_dict: &SchedulerStateDict) -> Result<()>;

    /// One step at the end of an epoch whose metric (say, the validation loss) was `metric`:
    /// [`ReduceLROnPlateau`] reads it, the others ignore it. So any scheduler can be held as a
    /// `Box<dyn LrScheduler>`.
    ///
    /// ```
    /// use tch_rnn::optim::{ExponentialLR, LrScheduler, SGD, SGDConfig};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w], SGDConfig { lr: 1.0, ..Default::default() })?;
    /// let mut scheduler: Box<dyn LrScheduler> = Box::new(ExponentialLR::new(&mut sgd, 0.5)?);
    /// scheduler.step_epoch(&mut sgd, 3.2)?;
    /// assert_eq!(scheduler.last_lr(), [0.5]);
    /// # anyhow::Ok(())
    /// ```
    fn step_epoch(&mut self, optimizer: &mut dyn Optimizer, metric: f64) -> Result<()>;
}

/// What `LRScheduler` keeps for the schedulers that derive from it.
#[derive(Clone, Debug, PartialEq)]
struct Schedule {
    base_lrs: Vec<f64>,
    last_epoch: i64,
    step_count: i64,
    last_lr: Vec<f64>,
}

impl Schedule {
    /// `LRScheduler.__init__` with `last_epoch=-1` before its initial step: every group's
    /// `initial_lr` set unless it is, and the base learning rates read from them.
    fn attach(optimizer: &mut (impl Optimizer + ?Sized)) -> Schedule {
        let base_lrs = (optimizer.param_groups_mut().iter_mut()).map(|g| *g.initial_lr.get_or_insert(g.lr)).collect();
        Schedule { base_lrs, last_epoch: -1, step_count: 0, last_lr: Vec::new() }
    }

    /// `LRScheduler.step()`: counts the step and the epoch, sets every group's learning rate to
    /// `get_lr(self, is_initial, current learning rates)` and keeps them as `_last_lr`.
    fn step(
        &mut self,
        name: &str,
        optimizer: &mut (impl Optimizer + ?Sized),
        is_initial: bool,
        get_lr: impl FnOnce(&Schedule, bool, &[f64]) -> Vec<f64>,
    ) -> Result<()> {
        let groups = optimizer.param_groups_mut();
        ensure!(
            groups.len() == self.base_lrs.len(),
            "{name}: the optimizer has {} parameter group(s), the scheduler {} learning rate(s)",
            groups.len(),
            self.base_lrs.len()
        );
        self.step_count += 1;
        self.last_epoch += 1;
        let current: Vec<f64> = groups.iter().map(|g| g.lr).collect();
        let values = get_lr(self, is_initial, &current);
        for (group, lr) in groups.iter_mut().zip(values) {
            group.lr = lr;
        }
        self.last_lr = groups.iter().map(|g| g.lr).collect();
        Ok(())
    }

    fn to_values(&self, map: &mut SchedulerStateDict) {
        map.insert("base_lrs".into(), Value::from(self.base_lrs.clone()));
        map.insert("last_epoch".into(), Value::Int(self.last_epoch));
        map.insert("_step_count".into(), Value::Int(self.step_count));
        map.insert("_is_initial".into(), Value::Bool(false));
        map.insert("_get_lr_called_within_step".into(), Value::Bool(false));
        map.insert("_last_lr".into(), Value::from(self.last_lr.clone()));
    }

    fn from_fields(fields: &Fields) -> Result<Schedule> {
        let schedule = Schedule {
            base_lrs: fields.f64_list("base_lrs")?,
            last_epoch: fields.i64("last_epoch")?,
            step_count: fields.i64("_step_count")?,
            last_lr: fields.f64_list("_last_lr")?,
        };
        // Flags PyTorch only sets while it steps.
        for flag in ["_is_initial", "_get_lr_called_within_step"] {
            if fields.optional(flag).is_some() {
                fields.bool(flag)?;
            }
        }
        let what = fields.what();
        ensure!(schedule.last_epoch >= 0, "{what}: invalid last_epoch {}", schedule.last_epoch);
        ensure!(schedule.step_count >= 0, "{what}: invalid _step_count {}", schedule.step_count);
        ensure!(
            schedule.last_lr.len() == schedule.base_lrs.len(),
            "{what}: {} learning rates in _last_lr, {} in base_lrs",
            schedule.last_lr.len(),
            schedule.base_lrs.len()
        );
        Ok(schedule)
    }
}

/// Implements [`LrScheduler`] for a scheduler with a `schedule: Schedule`, its name, and
/// `hyper_values()` / `load(&Fields) -> Result<Self>`.
macro_rules! impl_scheduler {
    ($type:ident) => {
        impl LrScheduler for $type {
            fn name(&self) -> &'static str {
                stringify!($type)
            }
            fn last_lr(&self) -> &[f64] {
                &self.schedule.last_lr
            }
            fn last_epoch(&self) -> i64 {
                self.schedule.last_epoch
            }
            fn state_dict(&self) -> SchedulerStateDict {
                let mut map: SchedulerStateDict =
                    self.hyper_values().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                self.schedule.to_values(&mut map);
                map
            }
            fn load_state_dict(&mut self, state_dict: &SchedulerStateDict) -> Result<()> {
                let fields = Fields::new(concat!(stringify!($type), ": state_dict"), state_dict);
                let loaded = $type::load(&fields)?;
                fields.finish()?;
                *self = loaded;
                Ok(())
            }
            fn step_epoch(&mut self, optimizer: &mut dyn Optimizer, _metric: f64) -> Result<()> {
                self.step(optimizer)
            }
        }
    };
}

/// `torch.optim.lr_scheduler.StepLR`: every `step_size` steps, each group's learning rate is
/// multiplied by `gamma`.
///
/// ```
/// use tch_rnn::optim::{LrScheduler, Optimizer, SGD, SGDConfig, StepLR};
/// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
/// let mut sgd = SGD::new(vec![w], SGDConfig { lr: 0.4, ..Default::default() })?;
/// let mut scheduler = StepLR::new(&mut sgd, 2, 0.5)?;
/// let mut lrs = Vec::new();
/// for _ in 0..4 {
///     sgd.step()?;
///     scheduler.step(&mut sgd)?;
///     lrs.push(scheduler.last_lr()[0]);
/// }
/// assert_eq!(lrs, [0.4, 0.2, 0.2, 0.1]);
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct StepLR {
    step_size: i64,
    gamma: f64,
    schedule: Schedule,
}

impl_scheduler!(StepLR);

impl StepLR {
    /// `StepLR(optimizer, step_size, gamma)`: sets each group's `initial_lr` (unless set) and
    /// takes PyTorch's initial step, which leaves the learning rates as they are. `step_size`
    /// must be at least 1 (PyTorch would divide by zero), `gamma` finite.
    ///
    /// ```
    /// use tch_rnn::optim::{SGD, StepLR};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w], Default::default())?;
    /// assert_eq!(StepLR::new(&mut sgd, 0, 0.1).err().unwrap().to_string(), "StepLR: step_size must be at least 1, got 0");
    /// # anyhow::Ok(())
    /// ```
    pub fn new(optimizer: &mut (impl Optimizer + ?Sized), step_size: i64, gamma: f64) -> Result<Self> {
        Self::check(step_size, gamma)?;
        let mut scheduler = StepLR { step_size, gamma, schedule: Schedule::attach(optimizer) };
        scheduler.update(optimizer, true)?;
        Ok(scheduler)
    }

    fn check(step_size: i64, gamma: f64) -> Result<()> {
        ensure!(step_size >= 1, "StepLR: step_size must be at least 1, got {step_size}");
        ensure!(gamma.is_finite(), "StepLR: gamma must be finite, got {gamma}");
        Ok(())
    }

    /// One step: at every multiple of `step_size`, each group's learning rate times `gamma`.
    /// Call it after the optimizer's step.
    ///
    /// ```
    /// use tch_rnn::optim::{LrScheduler, SGD, SGDConfig, StepLR};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w], SGDConfig { lr: 1.0, ..Default::default() })?;
    /// let mut scheduler = StepLR::new(&mut sgd, 1, 0.5)?;
    /// scheduler.step(&mut sgd)?;
    /// assert_eq!(scheduler.last_lr(), [0.5]);
    /// # anyhow::Ok(())
    /// ```
    pub fn step(&mut self, optimizer: &mut (impl Optimizer + ?Sized)) -> Result<()> {
        self.update(optimizer, false)
    }

    fn update(&mut self, optimizer: &mut (impl Optimizer + ?Sized), is_initial: bool) -> Result<()> {
        let (step_size, gamma) = (self.step_size, self.gamma);
        self.schedule.step("StepLR", optimizer, is_initial, |s, _, lrs| {
            if s.last_epoch == 0 || s.last_epoch.rem_euclid(step_size) != 0 {
                lrs.to_vec()
            } else {
                lrs.iter().map(|lr| lr * gamma).collect()
            }
        })
    }

    fn hyper_values(&self) -> Vec<(&'static str, Value)> {
        vec![("step_size", Value::Int(self.step_size)), ("gamma", Value::Float(self.gamma))]
    }

    fn load(fields: &Fields) -> Result<Self> {
        let (step_size, gamma) = (fields.i64("step_size")?, fields.f64("gamma")?);
        Self::check(step_size, gamma).map_err(|e| anyhow!("{}: {e}", fields.what()))?;
        Ok(StepLR { step_size, gamma, schedule: Schedule::from_fields(fields)? })
    }
}

/// `torch.optim.lr_scheduler.ExponentialLR`: every step, each group's learning rate is
/// multiplied by `gamma`.
///
/// ```
/// use tch_rnn::optim::{ExponentialLR, LrScheduler, SGD, SGDConfig};
/// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
/// let mut sgd = SGD::new(vec![w], SGDConfig { lr: 1.0, ..Default::default() })?;
/// let mut scheduler = ExponentialLR::new(&mut sgd, 0.5)?;
/// scheduler.step(&mut sgd)?;
/// scheduler.step(&mut sgd)?;
/// assert_eq!(scheduler.last_lr(), [0.25]);
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialLR {
    gamma: f64,
    schedule: Schedule,
}

impl_scheduler!(ExponentialLR);

impl ExponentialLR {
    /// `ExponentialLR(optimizer, gamma)`: sets each group's `initial_lr` (unless set) and takes
    /// PyTorch's initial step, which leaves the learning rates as they are; `gamma` finite.
    ///
    /// ```
    /// use tch_rnn::optim::{ExponentialLR, SGD};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w], Default::default())?;
    /// assert!(ExponentialLR::new(&mut sgd, f64::NAN).is_err());
    /// # anyhow::Ok(())
    /// ```
    pub fn new(optimizer: &mut (impl Optimizer + ?Sized), gamma: f64) -> Result<Self> {
        Self::check(gamma)?;
        let mut scheduler = ExponentialLR { gamma, schedule: Schedule::attach(optimizer) };
        scheduler.update(optimizer, true)?;
        Ok(scheduler)
    }

    fn check(gamma: f64) -> Result<()> {
        ensure!(gamma.is_finite(), "ExponentialLR: gamma must be finite, got {gamma}");
        Ok(())
    }

    /// One step: each group's learning rate times `gamma`. Call it after the optimizer's step.
    ///
    /// ```
    /// use tch_rnn::optim::{ExponentialLR, Optimizer, SGD, SGDConfig};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w], SGDConfig { lr: 1.0, ..Default::default() })?;
    /// let mut scheduler = ExponentialLR::new(&mut sgd, 0.1)?;
    /// scheduler.step(&mut sgd)?;
    /// assert_eq!(sgd.param_groups()[0].lr, 0.1);
    /// # anyhow::Ok(())
    /// ```
    pub fn step(&mut self, optimizer: &mut (impl Optimizer + ?Sized)) -> Result<()> {
        self.update(optimizer, false)
    }

    fn update(&mut self, optimizer: &mut (impl Optimizer + ?Sized), is_initial: bool) -> Result<()> {
        let gamma = self.gamma;
        self.schedule.step("ExponentialLR", optimizer, is_initial, |_, is_initial, lrs| {
            if is_initial { lrs.to_vec() } else { lrs.iter().map(|lr| lr * gamma).collect() }
        })
    }

    fn hyper_values(&self) -> Vec<(&'static str, Value)> {
        vec![("gamma", Value::Float(self.gamma))]
    }

    fn load(fields: &Fields) -> Result<Self> {
        let gamma = fields.f64("gamma")?;
        Self::check(gamma).map_err(|e| anyhow!("{}: {e}", fields.what()))?;
        Ok(ExponentialLR { gamma, schedule: Schedule::from_fields(fields)? })
    }
}

/// `torch.optim.lr_scheduler.CosineAnnealingLR`: the learning rate follows half a cosine from
/// the base learning rate down to `eta_min` over `t_max` steps (and back up after, as PyTorch's
/// schedule does without restarts), computed recursively from the current learning rate as
/// PyTorch's `get_lr` computes it on `step()`, not with the closed form.
///
/// ```
/// use tch_rnn::optim::{CosineAnnealingLR, LrScheduler, SGD, SGDConfig};
/// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
/// let mut sgd = SGD::new(vec![w], SGDConfig { lr: 1.0, ..Default::default() })?;
/// let mut scheduler = CosineAnnealingLR::new(&mut sgd, 2, 0.0)?;
/// scheduler.step(&mut sgd)?;
/// assert!((scheduler.last_lr()[0] - 0.5).abs() < 1e-12);
/// scheduler.step(&mut sgd)?;
/// assert!(scheduler.last_lr()[0].abs() < 1e-12);
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealingLR {
    t_max: i64,
    eta_min: f64,
    schedule: Schedule,
}

impl_scheduler!(CosineAnnealingLR);

impl CosineAnnealingLR {
    /// `CosineAnnealingLR(optimizer, T_max, eta_min)`: sets each group's `initial_lr` (unless
    /// set) and takes PyTorch's initial step, which leaves the learning rates as they are.
    /// `t_max` must be at least 1 (PyTorch would divide by zero), `eta_min` finite.
    ///
    /// ```
    /// use tch_rnn::optim::{CosineAnnealingLR, SGD};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w], Default::default())?;
    /// let err = CosineAnnealingLR::new(&mut sgd, 0, 0.0).err().unwrap();
    /// assert_eq!(err.to_string(), "CosineAnnealingLR: T_max must be at least 1, got 0");
    /// # anyhow::Ok(())
    /// ```
    pub fn new(optimizer: &mut (impl Optimizer + ?Sized), t_max: i64, eta_min: f64) -> Result<Self> {
        Self::check(t_max, eta_min)?;
        let mut scheduler = CosineAnnealingLR { t_max, eta_min, schedule: Schedule::attach(optimizer) };
        scheduler.update(optimizer, true)?;
        Ok(scheduler)
    }

    fn check(t_max: i64, eta_min: f64) -> Result<()> {
        ensure!(t_max >= 1, "CosineAnnealingLR: T_max must be at least 1, got {t_max}");
        ensure!(eta_min.is_finite(), "CosineAnnealingLR: eta_min must be finite, got {eta_min}");
        Ok(())
    }

    /// One step of the schedule. Call it after the optimizer's step.
    ///
    /// ```
    /// use tch_rnn::optim::{CosineAnnealingLR, LrScheduler, SGD, SGDConfig};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w], SGDConfig { lr: 1.0, ..Default::default() })?;
    /// let mut scheduler = CosineAnnealingLR::new(&mut sgd, 10, 0.1)?;
    /// scheduler.step(&mut sgd)?;
    /// assert!(scheduler.last_lr()[0] < 1.0 && scheduler.last_epoch() == 1);
    /// # anyhow::Ok(())
    /// ```
    pub fn step(&mut self, optimizer: &mut (impl Optimizer + ?Sized)) -> Result<()> {
        self.update(optimizer, false)
    }

    fn update(&mut self, optimizer: &mut (impl Optimizer + ?Sized), is_initial: bool) -> Result<()> {
        let (t_max, eta_min) = (self.t_max, self.eta_min);
        self.schedule.step("CosineAnnealingLR", optimizer, is_initial, |s, is_initial, lrs| {
            // PyTorch's get_lr, each expression in its order of evaluation.
            let (last_epoch, t) = (s.last_epoch, t_max as f64);
            if is_initial {
                lrs.to_vec()
            } else if s.step_count == 1 && last_epoch > 0 {
                let cos = (last_epoch as f64 * PI / t).cos();
                s.base_lrs.iter().map(|base_lr| eta_min + (base_lr - eta_min) * (1.0 + cos) / 2.0).collect()
            } else if (last_epoch - 1 - t_max).rem_euclid(2 * t_max) == 0 {
                let cos = (PI / t).cos();
                (s.base_lrs.iter().zip(lrs)).map(|(base_lr, lr)| lr + (base_lr - eta_min) * (1.0 - cos) / 2.0).collect()
            } else {
                let ratio =
                    (1.0 + (PI * last_epoch as f64 / t).cos()) / (1.0 + (PI * (last_epoch - 1) as f64 / t).cos());
                lrs.iter().map(|lr| ratio * (lr - eta_min) + eta_min).collect()
            }
        })
    }

    fn hyper_values(&self) -> Vec<(&'static str, Value)> {
        vec![("T_max", Value::Int(self.t_max)), ("eta_min", Value::Float(self.eta_min))]
    }

    fn load(fields: &Fields) -> Result<Self> {
        let (t_max, eta_min) = (fields.i64("T_max")?, fields.f64("eta_min")?);
        Self::check(t_max, eta_min).map_err(|e| anyhow!("{}: {e}", fields.what()))?;
        Ok(CosineAnnealingLR { t_max, eta_min, schedule: Schedule::from_fields(fields)? })
    }
}

/// Whether [`ReduceLROnPlateau`] waits for the metric to fall (`Min`, a loss) or to rise
/// (`Max`, an accuracy); PyTorch's `mode="min"` / `"max"`.
///
/// ```
/// assert_eq!(tch_rnn::optim::PlateauMode::default(), tch_rnn::optim::PlateauMode::Min);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlateauMode {
    /// Improving means decreasing.
    #[default]
    Min,
    /// Improving means increasing.
    Max,
}

/// How [`ReduceLROnPlateau`]'s `threshold` applies: relative to the best value (`Rel`: better
/// than `best * (1 - threshold)` in min mode) or absolute (`Abs`: better than
/// `best - threshold`); PyTorch's `threshold_mode="rel"` / `"abs"`.
///
/// ```
/// assert_eq!(tch_rnn::optim::ThresholdMode::default(), tch_rnn::optim::ThresholdMode::Rel);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThresholdMode {
    /// A relative threshold.
    #[default]
    Rel,
    /// An absolute threshold.
    Abs,
}

/// [`ReduceLROnPlateau`]'s lower bound on the learning rates: one for every group, or one per
/// group (PyTorch's `min_lr` float or list).
///
/// ```
/// assert_eq!(tch_rnn::optim::MinLr::default(), tch_rnn::optim::MinLr::All(0.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum MinLr {
    /// The same bound for every group.
    All(f64),
    /// A bound per parameter group.
    PerGroup(Vec<f64>),
}

impl Default for MinLr {
    fn default() -> Self {
        MinLr::All(0.0)
    }
}

/// The arguments of `torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, ...)`, each with
/// PyTorch's default.
///
/// ```
/// use tch_rnn::optim::ReduceLROnPlateauConfig;
/// let config = ReduceLROnPlateauConfig { patience: 2, ..Default::default() };
/// assert_eq!((config.factor, config.threshold, config.cooldown, config.eps), (0.1, 1e-4, 0, 1e-8));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceLROnPlateauConfig {
    /// Whether the metric should fall or rise. Default: `Min`.
    pub mode: PlateauMode,
    /// New learning rate = old one times `factor` (below 1). Default: 0.1.
    pub factor: f64,
    /// Epochs without improvement tolerated before a reduction. Default: 10.
    pub patience: i64,
    /// What counts as an improvement, see [`ThresholdMode`]. Default: 1e-4.
    pub threshold: f64,
    /// Relative or absolute threshold. Default: `Rel`.
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a reduction before counting bad epochs again. Default: 0.
    pub cooldown: i64,
    /// Lower bound(s) on the learning rates. Default: 0 for every group.
    pub min_lr: MinLr,
    /// A reduction smaller than this is not made. Default: 1e-8.
    pub eps: f64,
}

impl Default for ReduceLROnPlateauConfig {
    fn default() -> Self {
        ReduceLROnPlateauConfig {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: MinLr::All(0.0),
            eps: 1e-8,
        }
    }
}

/// `torch.optim.lr_scheduler.ReduceLROnPlateau`: reduces the learning rates by `factor` when a
/// metric has not improved for more than `patience` steps.
///
/// ```
/// use tch_rnn::optim::{LrScheduler, ReduceLROnPlateau, ReduceLROnPlateauConfig, SGD, SGDConfig};
/// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
/// let mut sgd = SGD::new(vec![w], SGDConfig { lr: 1.0, ..Default::default() })?;
/// let config = ReduceLROnPlateauConfig { patience: 1, factor: 0.5, ..Default::default() };
/// let mut scheduler = ReduceLROnPlateau::new(&mut sgd, config)?;
/// for loss in [3.0, 2.0, 2.0, 2.0] {
///     scheduler.step(&mut sgd, loss)?;
/// }
/// assert_eq!(scheduler.last_lr(), [0.5]); // two epochs without improvement
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceLROnPlateau {
    mode: PlateauMode,
    factor: f64,
    patience: i64,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: i64,
    default_min_lr: Option<f64>,
    min_lrs: Vec<f64>,
    eps: f64,
    last_epoch: i64,
    last_lr: Vec<f64>,
    best: f64,
    cooldown_counter: i64,
    num_bad_epochs: i64,
}

impl ReduceLROnPlateau {
    /// `ReduceLROnPlateau(optimizer, ...)`, checked as PyTorch checks it (with its messages;
    /// `patience` and `cooldown` must not be negative, the numbers must not be NaN). Unlike the
    /// other schedulers it sets no `initial_lr`, as in PyTorch.
    ///
    /// ```
    /// use tch_rnn::optim::{ReduceLROnPlateau, ReduceLROnPlateauConfig, SGD};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w], Default::default())?;
    /// let err = ReduceLROnPlateau::new(&mut sgd, ReduceLROnPlateauConfig { factor: 1.0, ..Default::default() });
    /// assert_eq!(err.err().unwrap().to_string(), "ReduceLROnPlateau: Factor should be < 1.0.");
    /// # anyhow::Ok(())
    /// ```
    pub fn new(optimizer: &mut (impl Optimizer + ?Sized), config: ReduceLROnPlateauConfig) -> Result<Self> {
        let ReduceLROnPlateauConfig { mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps } =
            config;
        let groups = optimizer.param_groups().len();
        let (default_min_lr, min_lrs) = match min_lr {
            MinLr::All(min_lr) => (Some(min_lr), vec![min_lr; groups]),
            MinLr::PerGroup(min_lrs) => {
                ensure!(min_lrs.len() == groups, "ReduceLROnPlateau: expected {groups} min_lrs, got {}", min_lrs.len());
                (None, min_lrs)
            }
        };
        let scheduler = ReduceLROnPlateau {
            mode,
            factor,
            patience,
            threshold,
            threshold_mode,
            cooldown,
            default_min_lr,
            min_lrs,
            eps,
            last_epoch: 0,
            last_lr: optimizer.param_groups().iter().map(|g| g.lr).collect(),
            best: mode_worse(mode),
            cooldown_counter: 0,
            num_bad_epochs: 0,
        };
        scheduler.check().map_err(|e| anyhow!("ReduceLROnPlateau: {e}"))?;
        Ok(scheduler)
    }

    fn check(&self) -> Result<()> {
        ensure!(self.factor < 1.0, "Factor should be < 1.0.");
        ensure!(self.patience >= 0, "patience must not be negative, got {}", self.patience);
        ensure!(self.cooldown >= 0, "cooldown must not be negative, got {}", self.cooldown);
        ensure!(!self.threshold.is_nan(), "threshold must be a number, got NaN");
        ensure!(!self.eps.is_nan(), "eps must be a number, got NaN");
        ensure!(self.min_lrs.iter().all(|m| !m.is_nan()), "min_lr must be a number, got NaN");
        Ok(())
    }

    /// One step with this epoch's `metric` (e.g. the validation loss; PyTorch's
    /// `float(metrics)`): counts the epochs without improvement and, past `patience` (and
    /// outside a cooldown), multiplies every group's learning rate by `factor`, not below its
    /// `min_lr`, skipping changes smaller than `eps`.
    ///
    /// ```
    /// use tch_rnn::optim::{LrScheduler, ReduceLROnPlateau, ReduceLROnPlateauConfig, SGD, SGDConfig};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w], SGDConfig { lr: 1.0, ..Default::default() })?;
    /// let mut scheduler = ReduceLROnPlateau::new(&mut sgd, ReduceLROnPlateauConfig { patience: 0, ..Default::default() })?;
    /// scheduler.step(&mut sgd, 1.0)?; // the first metric is an improvement
    /// scheduler.step(&mut sgd, 1.0)?; // not better: reduced
    /// assert_eq!(scheduler.last_lr(), [0.1]);
    /// # anyhow::Ok(())
    /// ```
    pub fn step(&mut self, optimizer: &mut (impl Optimizer + ?Sized), metric: f64) -> Result<()> {
        let current = metric;
        let epoch = self.last_epoch + 1;
        let (mut best, mut num_bad_epochs, mut cooldown_counter) =
            (self.best, self.num_bad_epochs, self.cooldown_counter);
        if self.is_better(current, best) {
            best = current;
            num_bad_epochs = 0;
        } else {
            num_bad_epochs += 1;
        }
        if cooldown_counter > 0 {
            cooldown_counter -= 1;
            num_bad_epochs = 0; // bad epochs in cooldown are ignored
        }
        if num_bad_epochs > self.patience {
            self.reduce_lr(optimizer)?;
            cooldown_counter = self.cooldown;
            num_bad_epochs = 0;
        }
        (self.last_epoch, self.best, self.num_bad_epochs, self.cooldown_counter) =
            (epoch, best, num_bad_epochs, cooldown_counter);
        self.last_lr = optimizer.param_groups().iter().map(|g| g.lr).collect();
        Ok(())
    }

    fn reduce_lr(&mut self, optimizer: &mut (impl Optimizer + ?Sized)) -> Result<()> {
        let groups = optimizer.param_groups_mut();
        if groups.len() != self.min_lrs.len() {
            let Some(default_min_lr) = self.default_min_lr else {
                bail!(
                    "ReduceLROnPlateau: The number of param groups in the `optimizer` ({}) differs from when \
                     `ReduceLROnPlateau` was initialized ({}), usually due to a new param group being added to \
                     the optimizer. Please modify the `min_lrs` field to match the length of the `optimizer` param groups.",
                    groups.len(),
                    self.min_lrs.len()
                );
            };
            self.min_lrs = vec![default_min_lr; groups.len()];
        }
        for (group, &min_lr) in groups.iter_mut().zip(&self.min_lrs) {
            let old_lr = group.lr;
            let scaled = old_lr * self.factor;
            let new_lr = if min_lr > scaled { min_lr } else { scaled }; // Python's max(scaled, min_lr)
            if old_lr - new_lr > self.eps {
                group.lr = new_lr;
            }
        }
        Ok(())
    }

    fn is_better(&self, a: f64, best: f64) -> bool {
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (self.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }

    /// The best metric so far (infinite, of the wrong sign, before the first step).
    ///
    /// ```
    /// use tch_rnn::optim::{ReduceLROnPlateau, SGD};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w], Default::default())?;
    /// let mut scheduler = ReduceLROnPlateau::new(&mut sgd, Default::default())?;
    /// assert_eq!(scheduler.best(), f64::INFINITY);
    /// scheduler.step(&mut sgd, 0.5)?;
    /// assert_eq!(scheduler.best(), 0.5);
    /// # anyhow::Ok(())
    /// ```
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Epochs without improvement counted so far.
    ///
    /// ```
    /// use tch_rnn::optim::{ReduceLROnPlateau, SGD};
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let mut sgd = SGD::new(vec![w], Default::default())?;
    /// let mut scheduler = ReduceLROnPlateau::new(&mut sgd, Default::default())?;
    /// scheduler.step(&mut sgd, 0.5)?;
    /// scheduler.step(&mut sgd, 0.5)?;
    /// assert_eq!(scheduler.num_bad_epochs(), 1);
    /// # anyhow::Ok(())
    /// ```
    pub fn num_bad_epochs(&self) -> i64 {
        self.num_bad_epochs
    }
}

fn mode_worse(mode: PlateauMode) -> f64 {
    match mode {
        PlateauMode::Min => f64::INFINITY,
        PlateauMode::Max => f64::NEG_INFINITY,
    }
}

impl LrScheduler for ReduceLROnPlateau {
    fn name(&self) -> &'static str {
        "ReduceLROnPlateau"
    }

    fn last_lr(&self) -> &[f64] {
        &self.last_lr
    }

    fn last_epoch(&self) -> i64 {
        self.last_epoch
    }

    fn state_dict(&self) -> SchedulerStateDict {
        let entries = [
            ("factor", Value::Float(self.factor)),
            ("default_min_lr", self.default_min_lr.map_or(Value::None, Value::Float)),
            ("min_lrs", Value::from(self.min_lrs.clone())),
            ("patience", Value::Int(self.patience)),
            ("cooldown", Value::Int(self.cooldown)),
            ("eps", Value::Float(self.eps)),
            ("last_epoch", Value::Int(self.last_epoch)),
            ("_last_lr", Value::from(self.last_lr.clone())),
            ("mode_worse", Value::Float(mode_worse(self.mode))),
            ("mode", Value::from(if self.mode == PlateauMode::Min { "min" } else { "max" })),
            ("threshold", Value::Float(self.threshold)),
            ("threshold_mode", Value::from(if self.threshold_mode == ThresholdMode::Rel { "rel" } else { "abs" })),
            ("best", Value::Float(self.best)),
            ("cooldown_counter", Value::Int(self.cooldown_counter)),
            ("num_bad_epochs", Value::Int(self.num_bad_epochs)),
        ];
        entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    fn step_epoch(&mut self, optimizer: &mut dyn Optimizer, metric: f64) -> Result<()> {
        self.step(optimizer, metric)
    }

    fn load_state_dict(&mut self, state_dict: &SchedulerStateDict) -> Result<()> {
        let fields = Fields::new("ReduceLROnPlateau: state_dict", state_dict);
        let what = fields.what().to_string();
        let mode = match fields.str("mode")? {
            "min" => PlateauMode::Min,
            "max" => PlateauMode::Max,
            other => bail!("{what}: mode {other} is unknown!"),
        };
        let threshold_mode = match fields.str("threshold_mode")? {
            "rel" => ThresholdMode::Rel,
            "abs" => ThresholdMode::Abs,
            other => bail!("{what}: threshold mode {other} is unknown!"),
        };
        let loaded = ReduceLROnPlateau {
            mode,
            factor: fields.f64("factor")?,
            patience: fields.i64("patience")?,
            threshold: fields.f64("threshold")?,
            threshold_mode,
            cooldown: fields.i64("cooldown")?,
            default_min_lr: fields.f64_or_none("default_min_lr")?,
            min_lrs: fields.f64_list("min_lrs")?,
            eps: fields.f64("eps")?,
            last_epoch: fields.i64("last_epoch")?,
            last_lr: fields.f64_list("_last_lr")?,
            best: fields.f64("best")?,
            cooldown_counter: fields.i64("cooldown_counter")?,
            num_bad_epochs: fields.i64("num_bad_epochs")?,
        };
        fields.f64("mode_worse")?; // recomputed from mode, as PyTorch's load_state_dict does
        fields.finish()?;
        loaded.check().map_err(|e| anyhow!("{what}: {e}"))?;
        ensure!(
            loaded.cooldown_counter >= 0 && loaded.num_bad_epochs >= 0,
            "{what}: invalid counters (cooldown_counter {}, num_bad_epochs {})",
            loaded.cooldown_counter,
            loaded.num_bad_epochs
        );
        *self = loaded;
        Ok(())
    }
}
