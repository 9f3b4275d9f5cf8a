//! Forward and backward parity with PyTorch 2.13.0 for every module, on the cases that
//! scripts/export_reference.py stored in tests/fixtures/nn/ (a missing fixture fails); the
//! runner is tests/common/nn_grid.rs.
//!
//! The fixtures may come from another CPU than the one running the tests, and MKL and ATen pick
//! their code paths by instruction set, so values are compared with torch.testing.assert_close's
//! default tolerances (float32: rtol 1.3e-6, atol 1e-5), not bit for bit; the bits are checked
//! live against this machine's PyTorch by tests/live_parity.rs.

mod common;

use std::collections::BTreeSet;

use common::{Exactness, Fixture, ModuleSpec, report, rng_lock};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// Runs every case of `kind` against the committed fixtures, printing a summary and failing
/// with the list of mismatches.
fn run_kind(kind: &str) {
    let _rng = rng_lock();
    let (fixture, file) = Fixture::load();
    let (stats, failures) = common::nn_grid::run_kind(&fixture, &file, kind, Exactness::Close);
    report(&stats.summary(&format!("nn_parity {kind} (fixtures)")));
    assert!(failures.is_empty(), "{} mismatch(es) with PyTorch:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn rnn_matches_pytorch() {
    run_kind("rnn");
}

#[test]
fn rnn_cell_matches_pytorch() {
    run_kind("rnn_cell");
}

#[test]
fn embedding_matches_pytorch() {
    run_kind("embedding");
}

#[test]
fn linear_matches_pytorch() {
    run_kind("linear");
}

#[test]
fn cross_entropy_matches_pytorch() {
    run_kind("cross_entropy");
}

/// The fixture is the one these tests were written for: same torch version, every case of a
/// kind the tests run, unique names, and the grid the task asks for is present.
#[test]
fn fixture_covers_the_grid() {
    let (fixture, _) = Fixture::load();
    assert_eq!(fixture.generator, "scripts/export_reference.py");
    assert_eq!(fixture.torch_version, "2.13.0", "fixtures were exported with another PyTorch");
    let names: BTreeSet<&str> = fixture.parity.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), fixture.parity.len(), "duplicate case names");

    let mut seen: BTreeSet<String> = BTreeSet::new();
    for case in &fixture.parity {
        match &case.module {
            ModuleSpec::Rnn { num_layers, nonlinearity, bias, batch_first, dropout, bidirectional, .. } => {
                seen.insert(format!("rnn layers={num_layers}"));
                seen.insert(format!("rnn nonlinearity={nonlinearity}"));
                seen.insert(format!("rnn bias={bias}"));
                seen.insert(format!("rnn batch_first={batch_first}"));
                seen.insert(format!("rnn bidirectional={bidirectional}"));
                seen.insert(format!("rnn dropout>0={} training={}", *dropout > 0.0, case.training));
                seen.insert(format!("rnn h0={}", case.inputs.iter().any(|i| i == "h0")));
            }
            ModuleSpec::RnnCell { bias, nonlinearity, .. } => {
                seen.insert(format!("rnn_cell bias={bias}"));
                seen.insert(format!("rnn_cell nonlinearity={nonlinearity}"));
                seen.insert(format!("rnn_cell hx={}", case.inputs.iter().any(|i| i == "hx")));
            }
            _ => {}
        }
    }
    for expected in [
        "rnn layers=1",
        "rnn layers=2",
        "rnn layers=3",
        "rnn nonlinearity=tanh",
        "rnn nonlinearity=relu",
        "rnn bias=true",
        "rnn bias=false",
        "rnn batch_first=true",
        "rnn batch_first=false",
        "rnn bidirectional=true",
        "rnn bidirectional=false",
        "rnn dropout>0=true training=false",
        "rnn dropout>0=true training=true",
        "rnn h0=true",
        "rnn h0=false",
        "rnn_cell bias=true",
        "rnn_cell bias=false",
        "rnn_cell nonlinearity=tanh",
        "rnn_cell nonlinearity=relu",
        "rnn_cell hx=true",
        "rnn_cell hx=false",
    ] {
        assert!(seen.contains(expected), "no case with {expected}; {}", common::REGENERATE);
    }
}

/// Training-mode dropout is random: the same seed must give the same masks (so the parity case
/// is meaningful) and another seed other masks.
#[test]
fn rnn_training_dropout_is_seeded() {
    let _rng = rng_lock();
    let vs = VarStore::new(Device::Cpu);
    let config =
        tch_rnn::nn::RnnConfig { input_size: 4, hidden_size: 5, num_layers: 3, dropout: 0.5, ..Default::default() };
    let rnn = tch_rnn::nn::Rnn::new(vs.root(), config).expect("rnn");
    let x = Tensor::ones([4, 3, 4], (Kind::Float, Device::Cpu));
    let run = |seed: i64| {
        tch::manual_seed(seed);
        rnn.forward(&x, None).expect("forward").0
    };
    let (a, b, c) = (run(5), run(5), run(6));
    assert!(a.equal(&b), "same seed, different dropout masks");
    assert!(!a.equal(&c), "different seeds, same dropout masks");
}

/// The two ways of holding results against PyTorch's: `Close` is torch.testing.assert_close's
/// rule with its float32 defaults, `Bits` admits no difference at all.
#[test]
fn comparisons_follow_assert_close_and_bits() {
    let x = 0.75f32;
    let next = f32::from_bits(x.to_bits() + 1);
    let t = |v: f32| Tensor::from_slice(&[v, -2.0]);
    let close = |a: f32| common::check(&t(a), &t(x), Exactness::Close);
    let bits = |a: f32| common::check(&t(a), &t(x), Exactness::Bits);
    assert!(bits(x).is_ok_and(|c| c.bit_identical));
    assert!(bits(next).is_err(), "one ulp must fail a bit-exact comparison");
    assert!(close(next).is_ok_and(|c| !c.bit_identical), "one ulp is within assert_close's tolerance");
    // float32: |a - e| <= 1e-5 + 1.3e-6 * |e|
    let limit = 1e-5 + 1.3e-6 * 0.75;
    assert!(close(x + 0.9 * limit as f32).is_ok());
    assert!(close(x + 1.1 * limit as f32).is_err());
    assert!(common::check(&t(x), &Tensor::from_slice(&[x]), Exactness::Close).is_err(), "shapes must match");
    let ints = Tensor::from_slice(&[3i64, 4]);
    assert!(common::check(&(&ints + 1), &ints, Exactness::Close).is_err(), "integers are exact");
}
