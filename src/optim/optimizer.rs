//! The [`Optimizer`] trait that [`Adam`](super::Adam), [`AdamW`](super::AdamW) and
//! [`SGD`](super::SGD) implement, their parameter groups ([`ParamGroup`]), and their
//! `state_dict` in PyTorch's layout ([`OptimizerStateDict`], values as [`Value`]s).
//!
//! The shared machinery (parameter checks, groups, state_dict saving and loading) lives here in
//! `Core`, generic over a group's hyper-parameters and a parameter's state, so that each
//! optimizer only writes its update and its names.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use anyhow::{Result, anyhow, bail, ensure};
use tch::{Kind, Tensor};

use crate::error::guard;
use crate::ffi::{clear_grad, same_tensor};

/// A value of a parameter group or of a scheduler's state, as Python holds it in PyTorch's
/// `state_dict`s: `None`, a bool, an int, a float, a string or a list (tuples too).
///
/// ```
/// use tch_rnn::optim::Value;
/// let betas = Value::from(vec![0.9, 0.999]);
/// assert_eq!(betas.to_string(), "[0.9, 0.999]");
/// assert_eq!(Value::Int(3).as_f64(), Some(3.0)); // an int is a number too, as in Python
/// assert_eq!(Value::Bool(true).as_f64(), None);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Python's `None`.
    None,
    /// A bool.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (ReduceLROnPlateau's `mode` and `threshold_mode`).
    Str(String),
    /// A list or a tuple (`betas`, `params`, `base_lrs`, ...).
    List(Vec<Value>),
}

impl Value {
    /// The number, for an int or a float (Python's `float(v)`); `None` otherwise.
    ///
    /// ```
    /// assert_eq!(tch_rnn::optim::Value::Float(0.5).as_f64(), Some(0.5));
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::Float(x) => Some(x),
            _ => None,
        }
    }

    /// The int, for an int; `None` otherwise (a float is not taken for an int).
    ///
    /// ```
    /// use tch_rnn::optim::Value;
    /// assert_eq!((Value::Int(4).as_i64(), Value::Float(4.0).as_i64()), (Some(4), None));
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The bool, for a bool; `None` otherwise.
    ///
    /// ```
    /// assert_eq!(tch_rnn::optim::Value::Bool(false).as_bool(), Some(false));
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The string, for a string; `None` otherwise.
    ///
    /// ```
    /// assert_eq!(tch_rnn::optim::Value::from("min").as_str(), Some("min"));
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items, for a list; `None` otherwise.
    ///
    /// ```
    /// use tch_rnn::optim::Value;
    /// assert_eq!(Value::from(vec![1.0]).as_list(), Some(&[Value::Float(1.0)][..]));
    /// ```
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The numbers of a list of ints and floats; `None` for anything else.
    ///
    /// ```
    /// use tch_rnn::optim::Value;
    /// let list = Value::List(vec![Value::Int(0), Value::Float(0.5)]);
    /// assert_eq!(list.as_f64_list(), Some(vec![0.0, 0.5]));
    /// ```
    pub fn as_f64_list(&self) -> Option<Vec<f64>> {
        self.as_list()?.iter().map(Value::as_f64).collect()
    }
}

impl fmt::Display for Value {
    /// Python's `repr`-like spelling: `None`, `True`, `3`, `0.5`, `'min'`, `[0.9, 0.999]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) if x.is_infinite() => f.write_str(if *x > 0.0 { "inf" } else { "-inf" }),
            Value::Float(x) if x.is_nan() => f.write_str("nan"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "'{s}'"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}

impl From<Vec<f64>> for Value {
    fn from(xs: Vec<f64>) -> Self {
        Value::List(xs.into_iter().map(Value::Float).collect())
    }
}

/// An optimizer's state in the layout of PyTorch's `optimizer.state_dict()`:
/// - `state`: by parameter index (in the order the parameters were given, across groups), the
///   state of each parameter that has one, under PyTorch's names (`step`, a float32 scalar;
///   `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` for Adam and AdamW; `momentum_buffer` for SGD);
/// - `param_groups`: per group, its hyper-parameters under PyTorch's names (`lr`, `betas`, ...,
///   `initial_lr` once a scheduler has set it) and `params`, the indices of its parameters.
///
/// The tensors are copies: stepping on does not change a state_dict taken earlier.
///
/// ```
/// use tch_rnn::optim::{Adam, Optimizer, Value};
/// let w = tch::Tensor::zeros([2], tch::kind::FLOAT_CPU).set_requires_grad(true);
/// let adam = Adam::new(vec![w.shallow_clone()], Default::default())?;
/// let saved = adam.state_dict();
/// assert!(saved.state.is_empty()); // no step yet
/// assert_eq!(saved.param_groups[0]["lr"], Value::Float(1e-3));
/// assert_eq!(saved.param_groups[0]["params"], Value::List(vec![Value::Int(0)]));
/// # anyhow::Ok(())
/// ```
#[derive(Debug, Default)]
pub struct OptimizerStateDict {
    /// Per parameter index, its state tensors by name.
    pub state: BTreeMap<usize, BTreeMap<String, Tensor>>,
    /// Per parameter group, its hyper-parameters by name, and `params`.
    pub param_groups: Vec<BTreeMap<String, Value>>,
}

impl OptimizerStateDict {
    /// A deep copy (every tensor copied).
    ///
    /// ```
    /// let saved = tch_rnn::optim::OptimizerStateDict::default();
    /// assert!(saved.copy().param_groups.is_empty());
    /// ```
    pub fn copy(&self) -> Self {
        OptimizerStateDict {
            state: self
                .state
                .iter()
                .map(|(&i, tensors)| (i, tensors.iter().map(|(k, t)| (k.clone(), t.copy())).collect()))
                .collect(),
            param_groups: self.param_groups.clone(),
        }
    }
}

/// What a scheduler reads and sets in one parameter group of an optimizer: PyTorch's
/// `optimizer.param_groups[i]["lr"]` and `["initial_lr"]`, and which parameters the group
/// holds. The group's other hyper-parameters belong to the optimizer (e.g. [`Adam::group_config`](super::Adam::group_config)).
///
/// ```
/// use tch_rnn::optim::{Optimizer, SGD, SGDConfig};
/// let w = tch::Tensor::zeros([2], tch::kind::FLOAT_CPU).set_requires_grad(true);
/// let mut sgd = SGD::new(vec![w], SGDConfig { lr: 0.1, ..Default::default() })?;
/// sgd.param_groups_mut()[0].lr = 0.05;
/// assert_eq!(sgd.param_groups()[0].lr, 0.05);
/// assert_eq!(sgd.param_groups()[0].params(), 0..1);
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ParamGroup {
    /// The learning rate of the group's next step.
    pub lr: f64,
    /// The learning rate a scheduler started from (set by the first scheduler attached, as
    /// PyTorch's `group.setdefault("initial_lr", group["lr"])`).
    pub initial_lr: Option<f64>,
    params: Range<usize>,
}

impl ParamGroup {
    /// The indices of the group's parameters in [`Optimizer::params`].
    ///
    /// ```
    /// use tch_rnn::optim::{Adam, AdamConfig, Optimizer};
    /// let p = |n| tch::Tensor::zeros([n], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let adam = Adam::with_groups(vec![(vec![p(1), p(2)], AdamConfig::default()), (vec![p(3)], AdamConfig::default())])?;
    /// assert_eq!(adam.param_groups()[1].params(), 2..3);
    /// # anyhow::Ok(())
    /// ```
    pub fn params(&self) -> Range<usize> {
        self.params.clone()
    }
}

/// What every optimizer of this module does, as `torch.optim.Optimizer`: a step, clearing the
/// gradients, parameter groups whose learning rates a scheduler reads and sets, and a
/// `state_dict` in PyTorch's layout that [`Optimizer::load_state_dict`] restores.
///
/// ```
/// use tch::{Kind, Tensor};
/// use tch_rnn::optim::{AdamW, Optimizer, SGD, SGDConfig};
/// fn train(optimizer: &mut dyn Optimizer, w: &Tensor) -> anyhow::Result<()> {
///     optimizer.zero_grad();
///     (w * w).sum(Kind::Float).backward();
///     optimizer.step()
/// }
/// let w = Tensor::ones([2], tch::kind::FLOAT_CPU).set_requires_grad(true);
/// let mut sgd = SGD::new(vec![w.shallow_clone()], SGDConfig { lr: 0.25, ..Default::default() })?;
/// train(&mut sgd, &w)?; // w - 0.25 * 2w
/// assert_eq!(w.double_value(&[0]), 0.5);
/// let mut adamw = AdamW::new(vec![w.shallow_clone()], Default::default())?;
/// train(&mut adamw, &w)?;
/// assert_eq!(adamw.name(), "AdamW");
/// # anyhow::Ok(())
/// ```
pub trait Optimizer {
    /// PyTorch's class name: `Adam`, `AdamW`, `SGD`; errors start with it.
    fn name(&self) -> &'static str;

    /// One update of every parameter that has a gradient, with each group's hyper-parameters.
    fn step(&mut self) -> Result<()>;

    /// Sets every parameter's gradient to `None`, as PyTorch's `zero_grad()` (`set_to_none`).
    fn zero_grad(&mut self);

    /// The parameters, in the order they were given (group after group).
    fn params(&self) -> &[Tensor];

    /// The parameter groups (at least one), in order.
    fn param_groups(&self) -> &[ParamGroup];

    /// The parameter groups, to set their learning rates (what schedulers do).
    fn param_groups_mut(&mut self) -> &mut [ParamGroup];

    /// The state in PyTorch's layout; see [`OptimizerStateDict`].
    fn state_dict(&self) -> OptimizerStateDict;

    /// Restores a state taken by [`Optimizer::state_dict`] (here or from PyTorch): the groups'
    /// hyper-parameters and every parameter's state, all or nothing. The groups must have as
    /// many parameters as this optimizer's, each state tensor its parameter's shape and dtype
    /// (it is copied to the parameter's device), the names must be the optimizer's; anything
    /// else is a one-line error starting with the optimizer's name, and nothing is changed.
    fn load_state_dict(&mut self, state_dict: &OptimizerStateDict) -> Result<()>;
}

/// The hyper-parameters of one group of an optimizer, as the shared machinery needs them.
pub(crate) trait GroupConfig: Copy {
    fn lr(&self) -> f64;
    fn with_lr(self, lr: f64) -> Self;
    /// PyTorch's checks of the constructor's arguments; errors start with `name`.
    fn check(&self, name: &str) -> Result<()>;
    /// The group's entries besides `lr`, `initial_lr` and `params`, under PyTorch's names.
    fn to_values(&self) -> Vec<(&'static str, Value)>;
    /// Reads a group saved by [`GroupConfig::to_values`] (or by PyTorch); `self` is the group's
    /// current configuration (for what the optimizer fixes, such as AdamW's decoupling).
    fn read(&self, fields: &Fields, lr: f64) -> Result<Self>;
}

/// The state of one parameter, as the shared machinery needs it.
pub(crate) trait ParamState<C>: Sized {
    /// Copies of the state tensors under PyTorch's names.
    fn to_tensors(&self) -> Vec<(&'static str, Tensor)>;
    /// Reads a state saved by [`ParamState::to_tensors`] (or by PyTorch) for `param`, in a group
    /// configured by `config`; `None` for an empty entry. Errors start with `what`.
    fn from_tensors(what: &str, tensors: &BTreeMap<String, Tensor>, param: &Tensor, config: &C)
    -> Result<Option<Self>>;
}

/// The entries of a `state_dict` map, read once each; [`Fields::finish`] refuses the ones left.
pub(crate) struct Fields<'a> {
    what: String,
    map: &'a BTreeMap<String, Value>,
    used: std::cell::RefCell<BTreeSet<&'a str>>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(what: impl Into<String>, map: &'a BTreeMap<String, Value>) -> Self {
        Fields { what: what.into(), map, used: Default::default() }
    }

    /// What the entries belong to, for messages (`Adam: param_groups[0]`).
    pub(crate) fn what(&self) -> &str {
        &self.what
    }

    /// The entry `key`, if there is one.
    pub(crate) fn optional(&self, key: &str) -> Option<&'a Value> {
        let (k, v) = self.map.get_key_value(key)?;
        self.used.borrow_mut().insert(k.as_str());
        Some(v)
    }

    fn required(&self, key: &str) -> Result<&'a Value> {
        self.optional(key).ok_or_else(|| anyhow!("{}: missing '{key}'", self.what))
    }

    fn wrong(&self, key: &str, expected: &str, value: &Value) -> anyhow::Error {
        anyhow!("{}: '{key}' must be {expected}, got {value}", self.what)
    }

    pub(crate) fn f64(&self, key: &str) -> Result<f64> {
        let v = self.required(key)?;
        v.as_f64().ok_or_else(|| self.wrong(key, "a number", v))
    }

    /// A number or `None` (absent or `None`).
    pub(crate) fn f64_or_none(&self, key: &str) -> Result<Option<f64>> {
        match self.optional(key) {
            None | Some(Value::None) => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| self.wrong(key, "a number or None", v)),
        }
    }

    pub(crate) fn i64(&self, key: &str) -> Result<i64> {
        let v = self.required(key)?;
        v.as_i64().ok_or_else(|| self.wrong(key, "an int", v))
    }

    pub(crate) fn bool(&self, key: &str) -> Result<bool> {
        let v = self.required(key)?;
        v.as_bool().ok_or_else(|| self.wrong(key, "a bool", v))
    }

    pub(crate) fn str(&self, key: &str) -> Result<&'a str> {
        let v = self.required(key)?;
        v.as_str().ok_or_else(|| self.wrong(key, "a string", v))
    }

    pub(crate) fn f64_list(&self, key: &str) -> Result<Vec<f64>> {
        let v = self.required(key)?;
        v.as_f64_list().ok_or_else(|| self.wrong(key, "a list of numbers", v))
    }

    pub(crate) fn f64_pair(&self, key: &str) -> Result<(f64, f64)> {
        let v = self.required(key)?;
        match v.as_f64_list().as_deref() {
            Some(&[a, b]) => Ok((a, b)),
            _ => Err(self.wrong(key, "a pair of numbers", v)),
        }
    }

    /// A flag of PyTorch's that only has one meaning here (`foreach`, `fused`, ...): absent,
    /// or one of `accepted`.
    pub(crate) fn fixed(&self, key: &str, accepted: &[Value], why: &str) -> Result<()> {
        match self.optional(key) {
            Some(v) if !accepted.contains(v) => bail!("{}: {key}={v} is not supported ({why})", self.what),
            _ => Ok(()),
        }
    }

    /// Refuses the entries that were not read.
    pub(crate) fn finish(self) -> Result<()> {
        let used = self.used.borrow();
        let unknown: Vec<String> =
            self.map.keys().filter(|k| !used.contains(k.as_str())).map(|k| format!("'{k}'")).collect();
        ensure!(unknown.is_empty(), "{}: unknown entr{} {}", self.what, plural(unknown.len()), unknown.join(", "));
        Ok(())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "y" } else { "ies" }
}

/// PyTorch's flags that the single-tensor CPU path fixes, in the order of its param groups.
pub(crate) fn fixed_flags(fields: &Fields, flags: &[&str]) -> Result<()> {
    let off = [Value::None, Value::Bool(false)];
    for flag in flags {
        fields.fixed(flag, &off, "only PyTorch's default single-tensor path is replayed")?;
    }
    Ok(())
}

/// A copy of state tensor `key` for `param`: defined, of the parameter's shape and dtype, moved
/// to its device.
pub(crate) fn state_tensor(
    what: &str,
    tensors: &BTreeMap<String, Tensor>,
    key: &str,
    param: &Tensor,
) -> Result<Tensor> {
    let t = tensors.get(key).ok_or_else(|| anyhow!("{what}: missing '{key}'"))?;
    ensure!(t.defined(), "{what}: '{key}' is an undefined tensor");
    ensure!(
        t.size() == param.size() && t.kind() == param.kind(),
        "{what}: '{key}' is {:?} {:?}, the parameter {:?} {:?}",
        t.kind(),
        t.size(),
        param.kind(),
        param.size()
    );
    Ok(t.f_to_device(param.device())?.f_detach_copy()?)
}

/// State entry `step`: a float32 scalar, finite and non-negative, as PyTorch keeps it.
pub(crate) fn state_step(what: &str, tensors: &BTreeMap<String, Tensor>) -> Result<f32> {
    let t = tensors.get("step").ok_or_else(|| anyhow!("{what}: missing 'step'"))?;
    ensure!(
        t.defined() && t.kind() == Kind::Float && t.dim() == 0,
        "{what}: 'step' must be a float32 scalar (0-d tensor), got {}",
        if t.defined() { format!("{:?} {:?}", t.kind(), t.size()) } else { "an undefined tensor".into() }
    );
    let step = t.f_double_value(&[])? as f32;
    ensure!(step.is_finite() && step >= 0.0, "{what}: invalid 'step' {step}");
    Ok(step)
}

/// Refuses state entries other than `known`.
pub(crate) fn known_names(what: &str, tensors: &BTreeMap<String, Tensor>, known: &[&str]) -> Result<()> {
    let unknown: Vec<String> =
        tensors.keys().filter(|k| !known.contains(&k.as_str())).map(|k| format!("'{k}'")).collect();
    ensure!(
        unknown.is_empty(),
        "{what}: unknown state entr{} {} (expected {})",
        plural(unknown.len()),
        unknown.join(", "),
        known.join(", ")
    );
    Ok(())
}

/// Parameters, groups and per-parameter state: what every optimizer here keeps, with the
/// parameter checks, `zero_grad`, the step loop and the state_dict shared.
pub(crate) struct Core<C, S> {
    pub(crate) name: &'static str,
    pub(crate) params: Vec<Tensor>,
    pub(crate) groups: Vec<ParamGroup>,
    /// Per group, its hyper-parameters (their `lr` is `groups[g].lr`'s, see [`Core::config`]).
    configs: Vec<C>,
    pub(crate) state: Vec<Option<S>>,
}

impl<C: GroupConfig, S: ParamState<C>> Core<C, S> {
    /// Checks the hyper-parameters and the parameters as PyTorch does: at least one parameter,
    /// each a defined leaf tensor (or one that retains its gradient), none listed twice (PyTorch
    /// warns that this "will cause an error" in future, and steps such a parameter twice; here
    /// it is an error now).
    pub(crate) fn new(name: &'static str, groups: Vec<(Vec<Tensor>, C)>) -> Result<Self> {
        ensure!(!groups.is_empty(), "{name}: optimizer got an empty parameter list");
        for (_, config) in &groups {
            config.check(name)?;
        }
        let mut params = Vec::new();
        let mut ranges = Vec::new();
        let mut configs = Vec::new();
        for (group, config) in groups {
            let start = params.len();
            params.extend(group);
            ranges.push(ParamGroup { lr: config.lr(), initial_lr: None, params: start..params.len() });
            configs.push(config);
        }
        ensure!(!params.is_empty(), "{name}: optimizer got an empty parameter list");
        for (i, p) in params.iter().enumerate() {
            ensure!(p.defined(), "{name}: parameter {i} is an undefined tensor (Tensor::new()); expected a parameter");
            ensure!(
                p.is_leaf() || p.retains_grad(),
                "{name}: can't optimize a non-leaf Tensor (parameter {i}, made by {}); pass the leaf it was computed from",
                crate::ffi::grad_fn_name(p).unwrap_or_else(|| "an operation".into())
            );
            if let Some(j) = params[..i].iter().position(|q| same_tensor(p, q)) {
                bail!(
                    "{name}: parameter {i} is parameter {j} again; a parameter listed twice would be updated twice per step"
                );
            }
        }
        let state = params.iter().map(|_| None).collect();
        Ok(Core { name, params, groups: ranges, configs, state })
    }

    /// The hyper-parameters of group `g`, with its current learning rate.
    pub(crate) fn config(&self, g: usize) -> C {
        self.configs[g].with_lr(self.groups[g].lr)
    }

    /// The group holding parameter `index`.
    pub(crate) fn group_of(&self, index: usize) -> Option<usize> {
        self.groups.iter().position(|g| g.params.contains(&index))
    }

    pub(crate) fn zero_grad(&mut self) {
        for p in &mut self.params {
            clear_grad(p);
        }
    }

    /// Calls `update(config, param, grad, state)` for every parameter that has a gradient, group
    /// by group, without recording gradients; errors come back as one line naming the optimizer.
    pub(crate) fn step(
        &mut self,
        mut update: impl FnMut(&C, &mut Tensor, Tensor, &mut Option<S>) -> Result<()>,
    ) -> Result<()> {
        let configs: Vec<C> = (0..self.groups.len()).map(|g| self.config(g)).collect();
        let Core { name, params, groups, state, .. } = self;
        guard(name, || {
            tch::no_grad(|| {
                for (group, config) in groups.iter().zip(&configs) {
                    for i in group.params() {
                        let grad = params[i].grad();
                        if grad.defined() {
                            update(config, &mut params[i], grad, &mut state[i])?;
                        }
                    }
                }
                Ok(())
            })
        })
    }

    pub(crate) fn state_dict(&self) -> OptimizerStateDict {
        let state = (self.state.iter().enumerate())
            .filter_map(|(i, s)| {
                let s = s.as_ref()?;
                Some((i, s.to_tensors().into_iter().map(|(k, t)| (k.to_string(), t)).collect()))
            })
            .collect();
        let param_groups = (self.groups.iter().zip(&self.configs))
            .map(|(group, config)| {
                let mut map = BTreeMap::new();
                map.insert("lr".to_string(), Value::Float(group.lr));
                for (k, v) in config.to_values() {
                    map.insert(k.to_string(), v);
                }
                if let Some(initial_lr) = group.initial_lr {
                    map.insert("initial_lr".to_string(), Value::Float(initial_lr));
                }
                map.insert("params".to_string(), Value::List(group.params().map(|i| Value::Int(i as i64)).collect()));
                map
            })
            .collect();
        OptimizerStateDict { state, param_groups }
    }

    pub(crate) fn load_state_dict(&mut self, saved: &OptimizerStateDict) -> Result<()> {
        let name = self.name;
        guard(name, || {
            ensure!(
                saved.param_groups.len() == self.groups.len(),
                "{name}: loaded state dict has a different number of parameter groups ({}, the optimizer has {})",
                saved.param_groups.len(),
                self.groups.len()
            );
            // The saved ids of the parameters, group by group, map to ours in order (PyTorch's id_map).
            let mut id_map = BTreeMap::new();
            let mut groups = Vec::new();
            let mut configs = Vec::new();
            for (g, (map, current)) in saved.param_groups.iter().zip(&self.groups).enumerate() {
                let fields = Fields::new(format!("{name}: param_groups[{g}]"), map);
                let ids = fields.required("params")?;
                let ids: Vec<i64> = (ids.as_list().and_then(|l| l.iter().map(Value::as_i64).collect::<Option<_>>()))
                    .ok_or_else(|| fields.wrong("params", "a list of ints", ids))?;
                ensure!(
                    ids.len() == current.params.len(),
                    "{name}: loaded state dict contains a parameter group that doesn't match the size of optimizer's group \
                     (group {g}: {} parameters, the optimizer's {})",
                    ids.len(),
                    current.params.len()
                );
                for (id, index) in ids.into_iter().zip(current.params()) {
                    ensure!(id_map.insert(id, index).is_none(), "{name}: param_groups list parameter id {id} twice");
                }
                let lr = fields.f64("lr")?;
                let initial_lr = fields.f64_or_none("initial_lr")?;
                let config = self.configs[g].read(&fields, lr)?;
                fields.finish()?;
                config.check(name).map_err(|e| anyhow!("{e} (in param_groups[{g}])"))?;
                groups.push(ParamGroup { lr, initial_lr, params: current.params() });
                configs.push(config);
            }
            let mut state: Vec<Option<S>> = self.params.iter().map(|_| None).collect();
            for (&id, tensors) in &saved.state {
                let index = *i64::try_from(id)
                    .ok()
                    .and_then(|id| id_map.get(&id))
                    .ok_or_else(|| anyhow!("{name}: state of parameter {id}, which no param_group lists"))?;
                let g = groups.iter().position(|g| g.params.contains(&index)).expect("every index is in a group");
                let what = format!("{name}: state of parameter {id}");
                state[index] = S::from_tensors(&what, tensors, &self.params[index], &configs[g])?;
            }
            self.groups = groups;
            self.configs = configs;
            self.state = state;
            Ok(())
        })
    }
}

/// Implements [`Optimizer`] for a type whose field `core` is a [`Core`] and that has an
/// inherent `step`.
macro_rules! impl_optimizer {
    ($type:ty) => {
        impl $crate::optim::Optimizer for $type {
            fn name(&self) -> &'static str {
                self.core.name
            }
            fn step(&mut self) -> anyhow::Result<()> {
                <$type>::step(self)
            }
            fn zero_grad(&mut self) {
                self.core.zero_grad()
            }
            fn params(&self) -> &[tch::Tensor] {
                &self.core.params
            }
            fn param_groups(&self) -> &[$crate::optim::ParamGroup] {
                &self.core.groups
            }
            fn param_groups_mut(&mut self) -> &mut [$crate::optim::ParamGroup] {
                &mut self.core.groups
            }
            fn state_dict(&self) -> $crate::optim::OptimizerStateDict {
                self.core.state_dict()
            }
            fn load_state_dict(&mut self, state_dict: &$crate::optim::OptimizerStateDict) -> anyhow::Result<()> {
                self.core.load_state_dict(state_dict)
            }
        }
    };
}
pub(crate) use impl_optimizer;
