//! Training the tutorial's model (section 3.3) with `tch_rnn::optim::Adam` ends on exactly the
//! parameters `torch.optim.Adam` reaches, with the same loss every epoch; libtorch's C++ Adam
//! (tch's `nn::Adam`) is measured against the same reference and reported.
//! Fixture: tests/fixtures/optim/adam_hello_embedding.safetensors, from scripts/export_optim.py.

use std::collections::HashMap;
use std::path::Path;

use tch::nn::{OptimizerConfig, VarStore};
use tch::{Device, Tensor};
use tch_rnn::nn::CrossEntropyLoss;
use tch_rnn::optim::{Adam, AdamConfig};
use tch_rnn::tutorials::hello_embedding::Model;

const SEEDS: [i64; 2] = [0, 7];
const EPOCHS: usize = 15;
const LR: f64 = 0.05;

fn fixture() -> HashMap<String, Tensor> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/optim/adam_hello_embedding.safetensors");
    assert!(
        path.exists(),
        "missing fixture {}: run scripts/regenerate-fixtures.sh (scripts/export_optim.py)",
        path.display()
    );
    Tensor::read_safetensors(&path).expect("readable fixture").into_iter().collect()
}

/// The tutorial's model with the initial parameters PyTorch had for `seed`.
fn model_at_start(reference: &HashMap<String, Tensor>, seed: i64) -> (VarStore, Model) {
    let vs = VarStore::new(Device::Cpu);
    let net = Model::new(&vs.root()).unwrap();
    tch::no_grad(|| {
        for (name, mut var) in vs.variables() {
            var.copy_(&reference[&format!("seed_{seed}/initial/{name}")]);
        }
    });
    (vs, net)
}

/// One epoch of the tutorial's loop; `step` applies the optimizer. Returns the loss.
fn train(net: &Model, mut zero_grad: impl FnMut(), mut step: impl FnMut()) -> Vec<f32> {
    let inputs = Tensor::from_slice(&[1i64, 0, 2, 2, 3]).view([1, 5]);
    let labels = Tensor::from_slice(&[3i64, 1, 2, 3, 2]);
    let criterion = CrossEntropyLoss::new(Default::default()).unwrap();
    (0..EPOCHS)
        .map(|_| {
            zero_grad();
            let loss = criterion.forward(&net.forward(&inputs).unwrap(), &labels).unwrap();
            loss.backward();
            step();
            f32::try_from(loss).unwrap()
        })
        .collect()
}

/// The largest absolute difference between the trained parameters and PyTorch's.
fn max_distance(vs: &VarStore, reference: &HashMap<String, Tensor>, seed: i64) -> f64 {
    vs.variables()
        .iter()
        .map(|(name, var)| (var - &reference[&format!("seed_{seed}/final/{name}")]).abs().max().double_value(&[]))
        .fold(0.0, f64::max)
}

#[test]
fn adam_reaches_pytorchs_parameters_bit_for_bit() {
    tch::set_num_threads(1); // as the exporter: summation order must not depend on threads
    let reference = fixture();
    for seed in SEEDS {
        let (vs, net) = model_at_start(&reference, seed);
        let adam = Adam::new(vs.trainable_variables(), AdamConfig { lr: LR, ..Default::default() }).unwrap();
        let optimizer = std::cell::RefCell::new(adam);
        let losses = train(&net, || optimizer.borrow_mut().zero_grad(), || optimizer.borrow_mut().step().unwrap());
        let expected = Vec::<f32>::try_from(&reference[&format!("seed_{seed}/losses")]).unwrap();
        assert_eq!(losses, expected, "seed {seed}: losses per epoch");
        for (name, var) in vs.variables() {
            let want = &reference[&format!("seed_{seed}/final/{name}")];
            assert!(var.equal(want), "seed {seed}: {name} differs from PyTorch's after {EPOCHS} epochs");
        }
    }
}

#[test]
fn libtorch_cpp_adam_drifts_from_pytorch_only_in_the_last_bits() {
    tch::set_num_threads(1);
    let reference = fixture();
    for seed in SEEDS {
        let (vs, net) = model_at_start(&reference, seed);
        let optimizer = std::cell::RefCell::new(tch::nn::Adam::default().build(&vs, LR).unwrap());
        train(&net, || optimizer.borrow_mut().zero_grad(), || optimizer.borrow_mut().step());
        let distance = max_distance(&vs, &reference, seed);
        eprintln!("seed {seed}: libtorch C++ Adam ends {distance:.3e} (max abs) from torch.optim.Adam");
        assert!(distance < 1e-4, "seed {seed}: C++ Adam is {distance} away, more than last-bit drift");
    }
}
