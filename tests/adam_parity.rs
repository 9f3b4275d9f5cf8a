//! Training the tutorial's model (section 3.3) with `tch_rnn::optim::Adam` ends on exactly the
//! parameters `torch.optim.Adam` reaches, with the same loss every epoch, for the tutorial's
//! settings and for runs using weight_decay, amsgrad, maximize, other betas and eps; libtorch's
//! C++ Adam (tch's `nn::Adam`) is measured against the plain runs and reported.
//! Fixture: tests/fixtures/optim/adam_hello_embedding.safetensors, from scripts/export_optim.py.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use tch::nn::{OptimizerConfig, VarStore};
use tch::{Device, Tensor};
use tch_rnn::nn::CrossEntropyLoss;
use tch_rnn::optim::{Adam, AdamConfig};
use tch_rnn::tutorials::hello_embedding::Model;

/// One exported training run: its name and the tensors under "<name>/".
struct Run<'a> {
    name: &'a str,
    reference: &'a HashMap<String, Tensor>,
}

impl Run<'_> {
    fn get(&self, key: &str) -> &Tensor {
        let key = format!("{}/{key}", self.name);
        self.reference.get(&key).unwrap_or_else(|| panic!("fixture has no {key}; run scripts/export_optim.py"))
    }

    fn option(&self, name: &str) -> f64 {
        self.get(&format!("options/{name}")).double_value(&[])
    }

    fn config(&self) -> AdamConfig {
        AdamConfig {
            lr: self.option("lr"),
            betas: (self.option("beta1"), self.option("beta2")),
            eps: self.option("eps"),
            weight_decay: self.option("weight_decay"),
            amsgrad: self.option("amsgrad") != 0.0,
            maximize: self.option("maximize") != 0.0,
        }
    }

    /// The tutorial's model with the initial parameters PyTorch had in this run.
    fn model_at_start(&self) -> (VarStore, Model) {
        let vs = VarStore::new(Device::Cpu);
        let net = Model::new(&vs.root()).unwrap();
        tch::no_grad(|| {
            for (name, mut var) in vs.variables() {
                var.copy_(self.get(&format!("initial/{name}")));
            }
        });
        (vs, net)
    }

    /// The largest absolute difference between trained parameters and PyTorch's.
    fn max_distance(&self, vs: &VarStore) -> f64 {
        vs.variables()
            .iter()
            .map(|(name, var)| (var - self.get(&format!("final/{name}"))).abs().max().double_value(&[]))
            .fold(0.0, f64::max)
    }
}

fn fixture() -> HashMap<String, Tensor> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/optim/adam_hello_embedding.safetensors");
    assert!(
        path.exists(),
        "missing fixture {}: run scripts/regenerate-fixtures.sh (scripts/export_optim.py)",
        path.display()
    );
    Tensor::read_safetensors(&path).expect("readable fixture").into_iter().collect()
}

fn run_names(reference: &HashMap<String, Tensor>) -> BTreeSet<&str> {
    let names: BTreeSet<&str> = reference.keys().filter_map(|k| k.split('/').next()).collect();
    assert!(names.len() >= 4, "expected several training runs in the fixture, got {names:?}");
    names
}

/// The tutorial's training loop for 15 epochs; returns the loss of every epoch.
fn train(net: &Model, mut zero_grad: impl FnMut(), mut step: impl FnMut()) -> Vec<f32> {
    let inputs = Tensor::from_slice(&[1i64, 0, 2, 2, 3]).view([1, 5]);
    let labels = Tensor::from_slice(&[3i64, 1, 2, 3, 2]);
    let criterion = CrossEntropyLoss::new(Default::default()).unwrap();
    (0..15)
        .map(|_| {
            zero_grad();
            let loss = criterion.forward(&net.forward(&inputs).unwrap(), &labels).unwrap();
            loss.backward();
            step();
            f32::try_from(loss).unwrap()
        })
        .collect()
}

#[test]
fn adam_reaches_pytorchs_parameters_bit_for_bit() {
    tch::set_num_threads(1); // as the exporter: summation order must not depend on threads
    let reference = fixture();
    for name in run_names(&reference) {
        let run = Run { name, reference: &reference };
        let (vs, net) = run.model_at_start();
        let optimizer = RefCell::new(Adam::new(vs.trainable_variables(), run.config()).unwrap());
        let losses = train(&net, || optimizer.borrow_mut().zero_grad(), || optimizer.borrow_mut().step().unwrap());
        assert_eq!(losses, Vec::<f32>::try_from(run.get("losses")).unwrap(), "{name}: losses per epoch");
        for (param, var) in vs.variables() {
            assert!(var.equal(run.get(&format!("final/{param}"))), "{name}: {param} differs from PyTorch's");
        }
    }
}

#[test]
fn libtorch_cpp_adam_drifts_from_pytorch_only_in_the_last_bits() {
    tch::set_num_threads(1);
    let reference = fixture();
    let plain = AdamConfig { lr: 0.05, ..Default::default() };
    for name in run_names(&reference) {
        let run = Run { name, reference: &reference };
        if run.config() != plain {
            continue; // tch's nn::Adam is measured on the tutorial's settings only
        }
        let (vs, net) = run.model_at_start();
        let optimizer = RefCell::new(tch::nn::Adam::default().build(&vs, plain.lr).unwrap());
        train(&net, || optimizer.borrow_mut().zero_grad(), || optimizer.borrow_mut().step());
        let distance = run.max_distance(&vs);
        eprintln!("{name}: libtorch C++ Adam ends {distance:.3e} (max abs) from torch.optim.Adam");
        assert!(distance < 1e-4, "{name}: C++ Adam is {distance} away, more than last-bit drift");
    }
}

#[test]
fn invalid_hyper_parameters_are_errors() {
    for (config, needle) in [
        (AdamConfig { lr: -1.0, ..Default::default() }, "Invalid learning rate: -1"),
        (AdamConfig { betas: (1.0, 0.999), ..Default::default() }, "Invalid beta parameter at index 0: 1"),
        (AdamConfig { eps: -1e-8, ..Default::default() }, "Invalid epsilon value"),
        (AdamConfig { weight_decay: -0.1, ..Default::default() }, "Invalid weight_decay value: -0.1"),
    ] {
        let err = Adam::new(Vec::new(), config).err().expect("an invalid config").to_string();
        assert!(err.starts_with("Adam: ") && err.contains(needle), "{err}");
    }
}
