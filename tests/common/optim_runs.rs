//! Replaying the runs of scripts/export_optim.py's optim_runs.{json,safetensors}: the tutorial's
//! model (section 3.3) trained from PyTorch's initial parameters by AdamW, SGD (its variants, two
//! parameter groups), Adam with two groups, and each scheduler driving an optimizer, with
//! `tch_rnn::optim`. Checked against PyTorch: the loss, every parameter and every learning rate
//! of every step; the optimizer's and the scheduler's state_dict after step `resume_at`; and a
//! run resumed from PyTorch's state_dicts there. Checked against Rust itself, bit for bit: a
//! run saved after step `resume_at`, loaded into fresh objects and continued, against the run
//! that went on uninterrupted. (Included by adam_runs.rs, as `adam_runs::optim_runs`.)

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Map;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::CrossEntropyLoss;
use tch_rnn::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, CosineAnnealingLR, ExponentialLR, LrScheduler, MinLr, Optimizer,
    OptimizerStateDict, PlateauMode, ReduceLROnPlateau, ReduceLROnPlateauConfig, SGD, SGDConfig, SchedulerStateDict,
    StepLR, ThresholdMode, Value,
};
use tch_rnn::tutorials::hello::{X_DATA, Y_DATA};
use tch_rnn::tutorials::hello_embedding::Model;

use crate::common::compare::{Exactness, check};
use crate::common::report::Stats;

/// The files scripts/export_optim.py writes besides the Adam runs.
pub const JSON: &str = "optim_runs.json";
pub const TENSORS: &str = "optim_runs.safetensors";
const REGENERATE: &str = "run scripts/regenerate-fixtures.sh (scripts/export_optim.py)";

type JsonMap = Map<String, serde_json::Value>;

#[derive(Deserialize)]
struct Description {
    torch_version: String,
    steps: usize,
    resume_at: usize,
    params: Vec<String>,
    runs: BTreeMap<String, RunSpec>,
}

#[derive(Deserialize)]
struct RunSpec {
    optimizer: String,
    groups: Vec<GroupSpec>,
    scheduler: Option<SchedulerSpec>,
    resume: Resume,
}

#[derive(Deserialize)]
struct GroupSpec {
    params: Vec<String>,
    options: JsonMap,
}

#[derive(Deserialize)]
struct SchedulerSpec {
    kind: String,
    options: JsonMap,
}

/// PyTorch's state_dicts after step `resume_at`.
#[derive(Deserialize)]
struct Resume {
    param_groups: Vec<JsonMap>,
    /// By parameter index, the names of its state entries.
    state: BTreeMap<String, Vec<String>>,
    scheduler: Option<JsonMap>,
}

/// A value of the JSON file: floats are written `{"float": repr(x)}` (parsed exactly here).
pub fn value(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::None,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::Int(n.as_i64().unwrap_or_else(|| panic!("{n}: floats are tagged; {REGENERATE}"))),
        J::String(s) => Value::Str(s.clone()),
        J::Array(items) => Value::List(items.iter().map(value).collect()),
        J::Object(o) => {
            let text = o.get("float").and_then(|f| f.as_str()).unwrap_or_else(|| panic!("untagged object {v}"));
            Value::Float(text.parse().unwrap_or_else(|e| panic!("float {text}: {e}")))
        }
    }
}

fn values(map: &JsonMap) -> BTreeMap<String, Value> {
    map.iter().map(|(k, v)| (k.clone(), value(v))).collect()
}

/// The exported runs.
pub struct OptimRuns {
    description: Description,
    tensors: HashMap<String, Tensor>,
    path: PathBuf,
}

/// What one Rust run went through: per step (from the first replayed one) the learning rates it
/// used, its loss and the parameters after it (in PyTorch's named_parameters() order); the
/// learning rates after the last step; the state_dicts after step `resume_at`.
struct Trajectory {
    first_step: usize,
    lrs: Vec<Vec<f64>>,
    losses: Vec<f32>,
    params: Vec<Vec<Tensor>>,
    saved: Option<(OptimizerStateDict, Option<SchedulerStateDict>)>,
}

/// The scheduler of a run, if any.
enum Scheduler {
    None,
    Step(StepLR),
    Exponential(ExponentialLR),
    Cosine(CosineAnnealingLR),
    Plateau(ReduceLROnPlateau),
}

impl Scheduler {
    fn step(&mut self, optimizer: &mut dyn Optimizer, loss: f32) {
        match self {
            Scheduler::None => Ok(()),
            Scheduler::Step(s) => s.step(optimizer),
            Scheduler::Exponential(s) => s.step(optimizer),
            Scheduler::Cosine(s) => s.step(optimizer),
            // PyTorch's float(metrics) of the float32 loss.
            Scheduler::Plateau(s) => s.step(optimizer, f64::from(loss)),
        }
        .unwrap()
    }

    fn as_dyn(&mut self) -> Option<&mut dyn LrScheduler> {
        match self {
            Scheduler::None => None,
            Scheduler::Step(s) => Some(s),
            Scheduler::Exponential(s) => Some(s),
            Scheduler::Cosine(s) => Some(s),
            Scheduler::Plateau(s) => Some(s),
        }
    }
}

fn f64_option(options: &JsonMap, key: &str) -> Option<f64> {
    options.get(key).map(|v| value(v).as_f64().unwrap_or_else(|| panic!("option {key} is not a number")))
}

fn bool_option(options: &JsonMap, key: &str) -> Option<bool> {
    options.get(key).map(|v| v.as_bool().unwrap_or_else(|| panic!("option {key} is not a bool")))
}

fn i64_option(options: &JsonMap, key: &str) -> Option<i64> {
    options.get(key).map(|v| v.as_i64().unwrap_or_else(|| panic!("option {key} is not an int")))
}

fn only(options: &JsonMap, known: &[&str]) {
    for key in options.keys() {
        assert!(known.contains(&key.as_str()), "option {key} is not replayed here; extend tests/common/optim_runs.rs");
    }
}

/// `AdamConfig::default()` with the options given (PyTorch's defaults for the rest: the two
/// must agree for the run to match).
fn adam_config(options: &JsonMap, default: AdamConfig) -> AdamConfig {
    only(options, &["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"]);
    let betas = options.get("betas").map(|v| match value(v).as_f64_list().as_deref() {
        Some(&[b1, b2]) => (b1, b2),
        _ => panic!("betas {v}"),
    });
    AdamConfig {
        lr: f64_option(options, "lr").unwrap_or(default.lr),
        betas: betas.unwrap_or(default.betas),
        eps: f64_option(options, "eps").unwrap_or(default.eps),
        weight_decay: f64_option(options, "weight_decay").unwrap_or(default.weight_decay),
        amsgrad: bool_option(options, "amsgrad").unwrap_or(default.amsgrad),
        maximize: bool_option(options, "maximize").unwrap_or(default.maximize),
    }
}

fn sgd_config(options: &JsonMap) -> SGDConfig {
    only(options, &["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"]);
    let d = SGDConfig::default();
    SGDConfig {
        lr: f64_option(options, "lr").unwrap_or(d.lr),
        momentum: f64_option(options, "momentum").unwrap_or(d.momentum),
        dampening: f64_option(options, "dampening").unwrap_or(d.dampening),
        weight_decay: f64_option(options, "weight_decay").unwrap_or(d.weight_decay),
        nesterov: bool_option(options, "nesterov").unwrap_or(d.nesterov),
        maximize: bool_option(options, "maximize").unwrap_or(d.maximize),
    }
}

fn plateau_config(options: &JsonMap) -> ReduceLROnPlateauConfig {
    only(options, &["mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps"]);
    let d = ReduceLROnPlateauConfig::default();
    let min_lr = options.get("min_lr").map(|v| match value(v) {
        Value::List(_) => MinLr::PerGroup(value(v).as_f64_list().expect("numbers")),
        other => MinLr::All(other.as_f64().expect("a number")),
    });
    ReduceLROnPlateauConfig {
        mode: match options.get("mode").and_then(|m| m.as_str()) {
            None => d.mode,
            Some("min") => PlateauMode::Min,
            Some("max") => PlateauMode::Max,
            Some(other) => panic!("mode {other}"),
        },
        factor: f64_option(options, "factor").unwrap_or(d.factor),
        patience: i64_option(options, "patience").unwrap_or(d.patience),
        threshold: f64_option(options, "threshold").unwrap_or(d.threshold),
        threshold_mode: match options.get("threshold_mode").and_then(|m| m.as_str()) {
            None => d.threshold_mode,
            Some("rel") => ThresholdMode::Rel,
            Some("abs") => ThresholdMode::Abs,
            Some(other) => panic!("threshold_mode {other}"),
        },
        cooldown: i64_option(options, "cooldown").unwrap_or(d.cooldown),
        min_lr: min_lr.unwrap_or(d.min_lr),
        eps: f64_option(options, "eps").unwrap_or(d.eps),
    }
}

impl OptimRuns {
    /// Loads the runs from `dir`; panics (never skips) when a file is missing.
    pub fn load(dir: &Path) -> Self {
        for file in [JSON, TENSORS] {
            assert!(dir.join(file).is_file(), "missing fixture {}: {REGENERATE}", dir.join(file).display());
        }
        let path = dir.join(JSON);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let description: Description = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("fixture {} is not what the tests expect ({e}); {REGENERATE}", path.display()));
        assert!(
            description.runs.len() >= 10,
            "expected the optimizer and scheduler runs, got {}",
            description.runs.len()
        );
        let tensors = Tensor::read_safetensors(dir.join(TENSORS)).expect("readable fixture").into_iter().collect();
        OptimRuns { description, tensors, path }
    }

    /// The torch version that exported the runs.
    pub fn torch_version(&self) -> &str {
        &self.description.torch_version
    }

    /// The names of the runs.
    pub fn names(&self) -> Vec<&str> {
        self.description.runs.keys().map(String::as_str).collect()
    }

    fn get(&self, key: &str) -> &Tensor {
        self.tensors.get(key).unwrap_or_else(|| panic!("{} has no {key}; {REGENERATE}", self.path.display()))
    }

    /// PyTorch's parameters of `run` after `step` (0: the initial ones), in named_parameters() order.
    fn pytorch_params(&self, run: &str, step: usize) -> Vec<Tensor> {
        let at = if step == 0 { "initial".to_string() } else { format!("step_{step:02}") };
        self.description.params.iter().map(|name| self.get(&format!("{run}/{at}/{name}")).shallow_clone()).collect()
    }

    /// The model with the parameters of `start` (in named_parameters() order), and its parameters
    /// by name.
    fn model(&self, start: &[Tensor]) -> (VarStore, Model, HashMap<String, Tensor>) {
        let vs = VarStore::new(Device::Cpu);
        let net = Model::new(&vs.root()).unwrap();
        let variables = vs.variables();
        assert_eq!(variables.len(), self.description.params.len(), "the model's parameters");
        tch::no_grad(|| {
            for (name, value) in self.description.params.iter().zip(start) {
                variables[name].shallow_clone().copy_(value);
            }
        });
        (vs, net, variables)
    }

    fn optimizer(&self, spec: &RunSpec, variables: &HashMap<String, Tensor>) -> Box<dyn Optimizer> {
        let groups = spec.groups.iter().map(|g| {
            let params = g.params.iter().map(|name| variables[name].shallow_clone()).collect::<Vec<_>>();
            (params, &g.options)
        });
        match spec.optimizer.as_str() {
            "Adam" => Box::new(
                Adam::with_groups(groups.map(|(p, o)| (p, adam_config(o, AdamConfig::default()))).collect()).unwrap(),
            ),
            "AdamW" => Box::new(
                AdamW::with_groups(
                    groups
                        .map(|(p, o)| (p, AdamWConfig::from(adam_config(o, AdamWConfig::default().into()))))
                        .collect(),
                )
                .unwrap(),
            ),
            "SGD" => Box::new(SGD::with_groups(groups.map(|(p, o)| (p, sgd_config(o))).collect()).unwrap()),
            other => panic!("optimizer {other} is not replayed here"),
        }
    }

    fn scheduler(spec: &RunSpec, optimizer: &mut dyn Optimizer) -> Scheduler {
        let Some(s) = &spec.scheduler else { return Scheduler::None };
        let o = &s.options;
        match s.kind.as_str() {
            "StepLR" => {
                only(o, &["step_size", "gamma"]);
                Scheduler::Step(
                    StepLR::new(optimizer, i64_option(o, "step_size").unwrap(), f64_option(o, "gamma").unwrap_or(0.1))
                        .unwrap(),
                )
            }
            "ExponentialLR" => {
                only(o, &["gamma"]);
                Scheduler::Exponential(ExponentialLR::new(optimizer, f64_option(o, "gamma").unwrap()).unwrap())
            }
            "CosineAnnealingLR" => {
                only(o, &["T_max", "eta_min"]);
                let (t_max, eta_min) = (i64_option(o, "T_max").unwrap(), f64_option(o, "eta_min").unwrap_or(0.0));
                Scheduler::Cosine(CosineAnnealingLR::new(optimizer, t_max, eta_min).unwrap())
            }
            "ReduceLROnPlateau" => Scheduler::Plateau(ReduceLROnPlateau::new(optimizer, plateau_config(o)).unwrap()),
            other => panic!("scheduler {other} is not replayed here"),
        }
    }

    /// Trains `run` with `tch_rnn::optim` from the parameters after step `from` (0: the start),
    /// after loading `resume` into the fresh optimizer and scheduler (PyTorch's recommended order:
    /// both made, then the optimizer's state loaded, then the scheduler's), to the last step.
    fn train(
        &self,
        run: &str,
        from: usize,
        start: &[Tensor],
        resume: Option<&(OptimizerStateDict, Option<SchedulerStateDict>)>,
    ) -> Trajectory {
        tch::set_num_threads(1);
        let spec = &self.description.runs[run];
        let (_vs, net, variables) = self.model(start);
        let mut optimizer = self.optimizer(spec, &variables);
        let mut scheduler = Self::scheduler(spec, optimizer.as_mut());
        if let Some((optimizer_state, scheduler_state)) = resume {
            optimizer.load_state_dict(optimizer_state).unwrap_or_else(|e| panic!("{run}: {e}"));
            match (scheduler.as_dyn(), scheduler_state) {
                (Some(s), Some(state)) => s.load_state_dict(state).unwrap_or_else(|e| panic!("{run}: {e}")),
                (None, None) => {}
                _ => panic!("{run}: a scheduler state without a scheduler, or the reverse"),
            }
        }
        let inputs = Tensor::from_slice(&X_DATA).view([1, -1]);
        let labels = Tensor::from_slice(&Y_DATA);
        let criterion = CrossEntropyLoss::new(Default::default()).unwrap();
        let mut t = Trajectory { first_step: from + 1, lrs: vec![], losses: vec![], params: vec![], saved: None };
        for step in from + 1..=self.description.steps {
            t.lrs.push(optimizer.param_groups().iter().map(|g| g.lr).collect());
            optimizer.zero_grad();
            let loss = criterion.forward(&net.forward(&inputs).unwrap(), &labels).unwrap();
            loss.backward();
            optimizer.step().unwrap_or_else(|e| panic!("{run}: {e}"));
            let loss = f32::try_from(&loss).unwrap();
            scheduler.step(optimizer.as_mut(), loss);
            t.losses.push(loss);
            t.params.push(self.description.params.iter().map(|name| variables[name].detach().copy()).collect());
            if step == self.description.resume_at {
                t.saved = Some((optimizer.state_dict(), scheduler.as_dyn().map(|s| s.state_dict())));
            }
        }
        t.lrs.push(optimizer.param_groups().iter().map(|g| g.lr).collect());
        t
    }

    /// Holds trajectory `t` of `run` against PyTorch's from its first step; counts into `stats`,
    /// returns the mismatches.
    fn check_against_pytorch(
        &self,
        run: &str,
        t: &Trajectory,
        exactness: Exactness,
        stats: &mut Stats,
        what: &str,
    ) -> Vec<String> {
        let mut failures = Vec::new();
        let first = t.first_step;
        let mut compare = |name: String, actual: &Tensor, expected: &Tensor| match check(actual, expected, exactness) {
            Ok(c) => stats.add(&format!("{run} ({what}): {name}"), &c),
            Err(e) => failures.push(format!("{run} ({what}): {name}: {e}")),
        };
        let lrs: Vec<f64> = t.lrs.concat();
        let expected_lrs = self.get(&format!("{run}/lrs")).narrow(0, first as i64 - 1, t.lrs.len() as i64);
        compare(
            format!("learning rates of steps {first}.."),
            &Tensor::from_slice(&lrs).view_as(&expected_lrs),
            &expected_lrs,
        );
        let expected_losses = self.get(&format!("{run}/losses")).narrow(0, first as i64 - 1, t.losses.len() as i64);
        compare(format!("losses of steps {first}.."), &Tensor::from_slice(&t.losses), &expected_losses);
        for (k, params) in t.params.iter().enumerate() {
            let step = first + k;
            for ((name, actual), expected) in
                self.description.params.iter().zip(params).zip(self.pytorch_params(run, step))
            {
                compare(format!("step {step} {name}"), actual, &expected);
            }
        }
        failures
    }

    /// PyTorch's state_dicts of `run` after step `resume_at`.
    fn pytorch_state_dicts(&self, run: &str) -> (OptimizerStateDict, Option<SchedulerStateDict>) {
        let resume = &self.description.runs[run].resume;
        let state = resume
            .state
            .iter()
            .map(|(index, entries)| {
                let tensors = entries
                    .iter()
                    .map(|entry| (entry.clone(), self.get(&format!("{run}/resume/state/{index}/{entry}")).copy()))
                    .collect();
                (index.parse().expect("an index"), tensors)
            })
            .collect();
        let param_groups = resume.param_groups.iter().map(values).collect();
        (OptimizerStateDict { state, param_groups }, resume.scheduler.as_ref().map(values))
    }

    /// Every run trained from PyTorch's initial parameters, then resumed from PyTorch's
    /// state_dicts after step `resume_at`, each held against PyTorch's run under `exactness`,
    /// and Rust's state_dicts at that step against PyTorch's. Returns the mismatches.
    pub fn check_ours(&self, exactness: Exactness, stats: &mut Stats) -> Vec<String> {
        let mut failures = Vec::new();
        let resume_at = self.description.resume_at;
        for run in self.names() {
            let whole = self.train(run, 0, &self.pytorch_params(run, 0), None);
            failures.extend(self.check_against_pytorch(run, &whole, exactness, stats, "from the start"));
            let pytorch = self.pytorch_state_dicts(run);
            let (optimizer_state, scheduler_state) = whole.saved.as_ref().expect("saved at resume_at");
            failures.extend(
                compare_optimizer_states(optimizer_state, &pytorch.0, exactness, stats)
                    .into_iter()
                    .map(|e| format!("{run}: optimizer state_dict after step {resume_at}: {e}")),
            );
            match (scheduler_state, &pytorch.1) {
                (Some(ours), Some(theirs)) => failures.extend(
                    compare_maps(ours, theirs, exactness)
                        .into_iter()
                        .map(|e| format!("{run}: scheduler state_dict after step {resume_at}: {e}")),
                ),
                (None, None) => {}
                _ => failures.push(format!("{run}: a scheduler on one side only")),
            }
            let resumed = self.train(run, resume_at, &self.pytorch_params(run, resume_at), Some(&pytorch));
            failures.extend(self.check_against_pytorch(
                run,
                &resumed,
                exactness,
                stats,
                "resumed from PyTorch's state_dicts",
            ));
        }
        failures
    }

    /// Every run saved after step `resume_at`, loaded into a fresh model, optimizer and scheduler
    /// and continued, held bit for bit against the same run uninterrupted; the loaded objects'
    /// state_dicts must also be the saved ones. Returns the mismatches; counts the values.
    pub fn check_round_trips(&self, stats: &mut Stats) -> Vec<String> {
        let mut failures = Vec::new();
        let resume_at = self.description.resume_at;
        for run in self.names() {
            let whole = self.train(run, 0, &self.pytorch_params(run, 0), None);
            let saved = whole.saved.as_ref().expect("saved at resume_at");
            let start = &whole.params[resume_at - 1];
            let resumed = self.train(run, resume_at, start, Some(saved));
            let mut compare =
                |name: String, actual: &Tensor, expected: &Tensor| match check(actual, expected, Exactness::Bits) {
                    Ok(c) => stats.add(&format!("{run}: {name}"), &c),
                    Err(e) => failures.push(format!("{run} (round trip): {name}: {e}")),
                };
            let tail = |v: &[Vec<f64>]| Tensor::from_slice(&v[resume_at..].concat());
            compare("learning rates".into(), &Tensor::from_slice(&resumed.lrs.concat()), &tail(&whole.lrs));
            compare(
                "losses".into(),
                &Tensor::from_slice(&resumed.losses),
                &Tensor::from_slice(&whole.losses[resume_at..]),
            );
            for (k, (ours, theirs)) in resumed.params.iter().zip(&whole.params[resume_at..]).enumerate() {
                for ((name, a), b) in self.description.params.iter().zip(ours).zip(theirs) {
                    compare(format!("step {} {name}", resume_at + 1 + k), a, b);
                }
            }
            // The state_dicts of the loaded objects, before any step, are the saved ones.
            let reloaded = self.train_loaded_only(run, start, saved);
            failures.extend(
                compare_optimizer_states(&reloaded.0, &saved.0, Exactness::Bits, stats)
                    .into_iter()
                    .map(|e| format!("{run}: reloaded optimizer state_dict: {e}")),
            );
            if let (Some(a), Some(b)) = (&reloaded.1, &saved.1) {
                failures.extend(
                    compare_maps(a, b, Exactness::Bits).into_iter().map(|e| format!("{run}: reloaded scheduler: {e}")),
                );
            }
        }
        failures
    }

    /// The state_dicts of a fresh optimizer and scheduler of `run` right after loading `saved`.
    fn train_loaded_only(
        &self,
        run: &str,
        start: &[Tensor],
        saved: &(OptimizerStateDict, Option<SchedulerStateDict>),
    ) -> (OptimizerStateDict, Option<SchedulerStateDict>) {
        let spec = &self.description.runs[run];
        let (_vs, _net, variables) = self.model(start);
        let mut optimizer = self.optimizer(spec, &variables);
        let mut scheduler = Self::scheduler(spec, optimizer.as_mut());
        optimizer.load_state_dict(&saved.0).unwrap();
        if let (Some(s), Some(state)) = (scheduler.as_dyn(), &saved.1) {
            s.load_state_dict(state).unwrap();
        }
        (optimizer.state_dict(), scheduler.as_dyn().map(|s| s.state_dict()))
    }

    /// A fresh model, optimizer and scheduler of `run`, from its initial parameters, for the tests
    /// of bad state_dicts; the optimizer is stepped `steps` times.
    pub fn fresh(&self, run: &str, steps: usize) -> (VarStore, Box<dyn Optimizer>) {
        let spec = &self.description.runs[run];
        let (vs, net, variables) = self.model(&self.pytorch_params(run, 0));
        let mut optimizer = self.optimizer(spec, &variables);
        let inputs = Tensor::from_slice(&X_DATA).view([1, -1]);
        let labels = Tensor::from_slice(&Y_DATA);
        let criterion = CrossEntropyLoss::new(Default::default()).unwrap();
        for _ in 0..steps {
            optimizer.zero_grad();
            criterion.forward(&net.forward(&inputs).unwrap(), &labels).unwrap().backward();
            optimizer.step().unwrap();
        }
        (vs, optimizer)
    }

    /// PyTorch's state_dicts of `run` after step `resume_at`, to alter in tests.
    pub fn pytorch_resume_state(&self, run: &str) -> (OptimizerStateDict, Option<SchedulerStateDict>) {
        self.pytorch_state_dicts(run)
    }
}

/// The differences between two values: numbers (ints and floats alike, as Python compares them)
/// within assert_close's float64 tolerance under [`Exactness::Close`], equal under
/// [`Exactness::Bits`]; everything else equal.
pub fn compare_values(a: &Value, b: &Value, exactness: Exactness) -> Result<(), String> {
    match (a, b) {
        (Value::List(x), Value::List(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .try_for_each(|(a, b)| compare_values(a, b, exactness))
            .map_err(|e| format!("{a} vs {b}: {e}")),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => {
                let tol = exactness.tolerance(Kind::Double);
                let ok = x == y || (x - y).abs() <= tol.atol + tol.rtol * y.abs() || (x.is_nan() && y.is_nan());
                if ok { Ok(()) } else { Err(format!("{a} vs {b}")) }
            }
            _ if a == b => Ok(()),
            _ => Err(format!("{a} vs {b}")),
        },
    }
}

/// The differences between two maps of values: keys, then values.
pub fn compare_maps(
    ours: &BTreeMap<String, Value>,
    theirs: &BTreeMap<String, Value>,
    exactness: Exactness,
) -> Vec<String> {
    let keys = |m: &BTreeMap<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    if keys(ours) != keys(theirs) {
        return vec![format!("keys {:?}, PyTorch's {:?}", keys(ours), keys(theirs))];
    }
    (ours.iter().zip(theirs.values()))
        .filter_map(|((k, a), b)| compare_values(a, b, exactness).err().map(|e| format!("'{k}': {e}")))
        .collect()
}

/// The differences between two optimizer state_dicts: the groups' entries, the state's
/// parameters, names and tensors.
pub fn compare_optimizer_states(
    ours: &OptimizerStateDict,
    theirs: &OptimizerStateDict,
    exactness: Exactness,
    stats: &mut Stats,
) -> Vec<String> {
    let mut failures = Vec::new();
    if ours.param_groups.len() != theirs.param_groups.len() {
        return vec![format!("{} param_groups, PyTorch {}", ours.param_groups.len(), theirs.param_groups.len())];
    }
    for (g, (a, b)) in ours.param_groups.iter().zip(&theirs.param_groups).enumerate() {
        failures.extend(compare_maps(a, b, exactness).into_iter().map(|e| format!("param_groups[{g}]: {e}")));
    }
    let indices = |s: &OptimizerStateDict| s.state.keys().copied().collect::<Vec<_>>();
    if indices(ours) != indices(theirs) {
        failures.push(format!("state of parameters {:?}, PyTorch's {:?}", indices(ours), indices(theirs)));
        return failures;
    }
    for ((i, a), b) in ours.state.iter().zip(theirs.state.values()) {
        let names = |m: &BTreeMap<String, Tensor>| m.keys().cloned().collect::<Vec<_>>();
        if names(a) != names(b) {
            failures.push(format!("state[{i}]: entries {:?}, PyTorch's {:?}", names(a), names(b)));
            continue;
        }
        for ((name, x), y) in a.iter().zip(b.values()) {
            match check(x, y, exactness) {
                Ok(c) => stats.add(&format!("state[{i}][{name}]"), &c),
                Err(e) => failures.push(format!("state[{i}][{name}]: {e}")),
            }
        }
    }
    failures
}
