//! Replaying the Adam training runs of scripts/export_optim.py: the tutorial's model (section
//! 3.3) trained for 15 epochs from PyTorch's initial parameters, with `tch_rnn::optim::Adam`
//! (compared with torch.optim.Adam's losses and final parameters) or with libtorch's C++ Adam
//! (tch's `nn::Adam`, whose distance from PyTorch is measured).

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use tch::nn::{OptimizerConfig, VarStore};
use tch::{Device, Tensor};
use tch_rnn::nn::CrossEntropyLoss;
use tch_rnn::optim::{Adam, AdamConfig};
use tch_rnn::tutorials::Options;
use tch_rnn::tutorials::hello::{X_DATA, Y_DATA};
use tch_rnn::tutorials::hello_embedding::{LR, Model};

use super::compare::{Exactness, check};
use super::report::Stats;

/// The file scripts/export_optim.py writes.
pub const FILE: &str = "adam_hello_embedding.safetensors";

/// The exported runs, by key.
pub struct AdamRuns(HashMap<String, Tensor>);

impl AdamRuns {
    /// Loads the runs from `dir`; panics (never skips) when the file is missing.
    pub fn load(dir: &Path) -> Self {
        let path = dir.join(FILE);
        assert!(
            path.exists(),
            "missing fixture {}: run scripts/regenerate-fixtures.sh (scripts/export_optim.py)",
            path.display()
        );
        AdamRuns(Tensor::read_safetensors(&path).expect("readable fixture").into_iter().collect())
    }

    /// The names of the runs, at least four.
    pub fn names(&self) -> BTreeSet<&str> {
        let names: BTreeSet<&str> = self.0.keys().filter_map(|k| k.split('/').next()).collect();
        assert!(names.len() >= 4, "expected several training runs in the fixture, got {names:?}");
        names
    }

    fn get(&self, run: &str, key: &str) -> &Tensor {
        let key = format!("{run}/{key}");
        self.0.get(&key).unwrap_or_else(|| panic!("fixture has no {key}; run scripts/export_optim.py"))
    }

    fn option(&self, run: &str, name: &str) -> f64 {
        self.get(run, &format!("options/{name}")).double_value(&[])
    }

    /// The Adam arguments of `run`.
    pub fn config(&self, run: &str) -> AdamConfig {
        AdamConfig {
            lr: self.option(run, "lr"),
            betas: (self.option(run, "beta1"), self.option(run, "beta2")),
            eps: self.option(run, "eps"),
            weight_decay: self.option(run, "weight_decay"),
            amsgrad: self.option(run, "amsgrad") != 0.0,
            maximize: self.option(run, "maximize") != 0.0,
        }
    }

    /// The tutorial's model with the initial parameters PyTorch had in `run`.
    fn model_at_start(&self, run: &str) -> (VarStore, Model) {
        let vs = VarStore::new(Device::Cpu);
        let net = Model::new(&vs.root()).unwrap();
        tch::no_grad(|| {
            for (name, mut var) in vs.variables() {
                var.copy_(self.get(run, &format!("initial/{name}")));
            }
        });
        (vs, net)
    }

    /// Replays every run with `tch_rnn::optim::Adam` and compares the loss of every epoch and
    /// the final parameters with PyTorch's under `exactness`; returns the mismatches.
    /// Single-threaded, as the exporter.
    pub fn check_ours(&self, exactness: Exactness, stats: &mut Stats) -> Vec<String> {
        tch::set_num_threads(1);
        let mut failures = Vec::new();
        for run in self.names() {
            let (vs, net) = self.model_at_start(run);
            let optimizer = RefCell::new(Adam::new(vs.trainable_variables(), self.config(run)).unwrap());
            let losses = train_on(
                &net,
                Device::Cpu,
                || optimizer.borrow_mut().zero_grad(),
                || optimizer.borrow_mut().step().unwrap(),
            );
            let mut compared =
                vec![("losses per epoch".to_string(), Tensor::from_slice(&losses), self.get(run, "losses"))];
            for (param, var) in vs.variables() {
                let expected = self.get(run, &format!("final/{param}"));
                compared.push((format!("final {param}"), var.detach(), expected));
            }
            for (what, actual, expected) in compared {
                match check(&actual, expected, exactness) {
                    Ok(c) => stats.add(&format!("{run}: {what}"), &c),
                    Err(e) => failures.push(format!("{run}: {what}: {e}")),
                }
            }
        }
        failures
    }

    /// Replays the runs with the tutorial's settings with libtorch's C++ Adam; returns, per
    /// run, the largest absolute distance of its final parameters from PyTorch's.
    pub fn cpp_adam_distances(&self) -> Vec<(String, f64)> {
        tch::set_num_threads(1);
        let plain = AdamConfig { lr: LR, ..Default::default() };
        let mut distances = Vec::new();
        for run in self.names() {
            if self.config(run) != plain {
                continue; // measured on the tutorial's settings only
            }
            let (vs, net) = self.model_at_start(run);
            let optimizer = RefCell::new(tch::nn::Adam::default().build(&vs, plain.lr).unwrap());
            train_on(&net, Device::Cpu, || optimizer.borrow_mut().zero_grad(), || optimizer.borrow_mut().step());
            let distance = vs
                .variables()
                .iter()
                .map(|(name, var)| (var - self.get(run, &format!("final/{name}"))).abs().max().double_value(&[]))
                .fold(0.0, f64::max);
            distances.push((run.to_string(), distance));
        }
        distances
    }
}

/// The tutorial's training loop ("hello" -> "ohlol", section 3.3) for 15 epochs on `device`,
/// the device of `net`; returns the loss of every epoch.
pub fn train_on(net: &Model, device: Device, mut zero_grad: impl FnMut(), mut step: impl FnMut()) -> Vec<f32> {
    let inputs = Tensor::from_slice(&X_DATA).view([1, -1]).to_device(device);
    let labels = Tensor::from_slice(&Y_DATA).to_device(device);
    let criterion = CrossEntropyLoss::new(Default::default()).unwrap();
    (0..Options::default().epochs)
        .map(|_| {
            zero_grad();
            let loss = criterion.forward(&net.forward(&inputs).unwrap(), &labels).unwrap();
            loss.backward();
            step();
            f32::try_from(loss).unwrap()
        })
        .collect()
}

/// The runs of the other optimizers and of the schedulers (scripts/export_optim.py's
/// optim_runs files), in a file of their own.
#[path = "optim_runs.rs"]
pub mod optim_runs;
