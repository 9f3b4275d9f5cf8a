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

use common::specs::RecurrentSpec;
use common::{Exactness, Fixture, ModuleSpec, report, rng_lock};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// Runs every case of `kind` against the committed fixtures, printing a summary and failing
/// with the list of mismatches.
fn run_kind(kind: &str) {
    let _rng = rng_lock();
    let (fixture, file) = Fixture::load();
    let (stats, failures) = common::nn_grid::run_kind(&fixture, &file, kind, Exactness::Close, Device::Cpu);
    report(&stats.summary(&format!("nn_parity {kind} (fixtures)")));
    assert!(failures.is_empty(), "{} mismatch(es) with PyTorch:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn rnn_matches_pytorch() {
    run_kind("rnn");
}

#[test]
fn lstm_matches_pytorch() {
    run_kind("lstm");
}

#[test]
fn gru_matches_pytorch() {
    run_kind("gru");
}

#[test]
fn rnn_cell_matches_pytorch() {
    run_kind("rnn_cell");
}

#[test]
fn lstm_cell_matches_pytorch() {
    run_kind("lstm_cell");
}

#[test]
fn gru_cell_matches_pytorch() {
    run_kind("gru_cell");
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

/// The fixture is the one these tests were written for: same torch version, unique names, and
/// every value of every option that the grid promises appears in some case.
#[test]
fn fixture_covers_the_grid() {
    let (fixture, file) = Fixture::load();
    assert_eq!(fixture.generator, "scripts/export_reference.py");
    assert_eq!(fixture.torch_version, "2.13.0", "fixtures were exported with another PyTorch");
    let names: BTreeSet<&str> = fixture.parity.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), fixture.parity.len(), "duplicate case names");

    let mut seen: BTreeSet<String> = BTreeSet::new();
    for case in &fixture.parity {
        let kind = case.module.kind();
        let has = |input: &str| case.inputs.iter().any(|i| i == input);
        let mut note = |what: String| {
            seen.insert(format!("{kind} {what}"));
        };
        match &case.module {
            ModuleSpec::Rnn(spec) | ModuleSpec::Gru(spec) | ModuleSpec::Lstm(spec) => {
                let RecurrentSpec { num_layers, bias, batch_first, dropout, bidirectional, .. } = spec;
                note(format!("layers={num_layers}"));
                note(format!("bias={bias}"));
                note(format!("batch_first={batch_first}"));
                note(format!("bidirectional={bidirectional}"));
                note(format!("dropout>0={} training={}", *dropout > 0.0, case.training));
                note(format!("state={}", has("h0")));
                let input = |name: &str| file.get(&format!("parity/{}/input/{name}", case.name));
                match case.packed {
                    Some(p) => {
                        let lengths: Vec<i64> = Vec::try_from(&input("lengths")).expect("int64 lengths");
                        let sorted = lengths.windows(2).all(|w| w[0] >= w[1]);
                        let equal = lengths.windows(2).all(|w| w[0] == w[1]);
                        note(format!("packed enforce_sorted={} sorted={sorted} equal={equal}", p.enforce_sorted));
                    }
                    None => note(format!("unbatched={}", input("input").dim() == 2)),
                }
                if let ModuleSpec::Lstm(spec) = &case.module {
                    note(format!("proj={}", spec.proj_size > 0));
                }
                if let Some(nonlinearity) = &spec.nonlinearity {
                    note(format!("nonlinearity={nonlinearity}"));
                }
            }
            ModuleSpec::RnnCell { bias, nonlinearity, .. } => {
                note(format!("bias={bias}"));
                note(format!("nonlinearity={nonlinearity}"));
                note(format!("state={}", has("hx")));
            }
            ModuleSpec::LstmCell { bias, .. } | ModuleSpec::GruCell { bias, .. } => {
                note(format!("bias={bias}"));
                note(format!("state={}", has("hx")));
            }
            _ => {}
        }
    }
    let mut expected = Vec::new();
    for kind in ["rnn", "lstm", "gru"] {
        for option in [
            "layers=1",
            "layers=2",
            "layers=3",
            "bias=true",
            "bias=false",
            "batch_first=true",
            "batch_first=false",
            "bidirectional=true",
            "bidirectional=false",
            "dropout>0=true training=false",
            "dropout>0=true training=true",
            "state=true",
            "state=false",
            "unbatched=true",
            "unbatched=false",
            "packed enforce_sorted=true sorted=true equal=true",
            "packed enforce_sorted=true sorted=true equal=false",
            "packed enforce_sorted=false sorted=true equal=true",
            "packed enforce_sorted=false sorted=false equal=false",
        ] {
            expected.push(format!("{kind} {option}"));
        }
    }
    expected.extend(
        ["rnn nonlinearity=tanh", "rnn nonlinearity=relu", "lstm proj=true", "lstm proj=false"].map(String::from),
    );
    for kind in ["rnn_cell", "lstm_cell", "gru_cell"] {
        for option in ["bias=true", "bias=false", "state=true", "state=false"] {
            expected.push(format!("{kind} {option}"));
        }
    }
    expected.extend(["rnn_cell nonlinearity=tanh", "rnn_cell nonlinearity=relu"].map(String::from));
    let missing: Vec<&String> = expected.iter().filter(|e| !seen.contains(*e)).collect();
    assert!(missing.is_empty(), "no case with {missing:?}; {}", common::REGENERATE);
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
