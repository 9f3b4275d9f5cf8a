//! Initialisation parity: after `tch::manual_seed(s)` the modules draw exactly the parameters
//! that PyTorch 2.13.0 draws after `torch.manual_seed(s)`, bit for bit, with PyTorch's
//! parameter names and shapes. The reference values were exported by
//! scripts/export_reference.py (tests/fixtures/nn/, `init/{model}/s{seed}/{name}`) for seeds
//! 0, 1, 7 and 42 and for RNN, RNNCell, Embedding and Linear configurations plus the tutorial
//! model `emb=Embedding(4,10); rnn=RNN(10, 8, num_layers=2, batch_first=True); fc=Linear(8,4)`
//! built in that order.

mod common;

use std::collections::BTreeMap;

use common::{Fixture, Module, TensorFile, build_model, compare_bits, rng_lock};
use tch::Device;
use tch::nn::VarStore;

/// Builds `model` after `manual_seed(seed)` and checks names, order, shapes and bits against
/// PyTorch's; returns the failures.
fn check_model(
    model: &str,
    seed: i64,
    parts: &[common::ModelPart],
    expected: &[(String, Vec<i64>)],
    file: &TensorFile,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut fail = |m: String| failures.push(format!("{model} seed {seed}: {m}"));
    tch::manual_seed(seed);
    let vs = VarStore::new(Device::Cpu);
    let modules = match build_model(&vs, parts) {
        Ok(m) => m,
        Err(e) => {
            fail(format!("cannot build: {e:#}"));
            return failures;
        }
    };
    let variables = vs.variables();

    let mut have: Vec<(&str, Vec<i64>)> = variables.iter().map(|(n, t)| (n.as_str(), t.size())).collect();
    have.sort();
    let mut want: Vec<(&str, Vec<i64>)> = expected.iter().map(|(n, s)| (n.as_str(), s.clone())).collect();
    want.sort();
    if have != want {
        fail(format!("parameters (name, shape) {have:?}, PyTorch has {want:?}"));
    }

    // The order of an RNN's flat weights is PyTorch's named_parameters order (for the other
    // modules the VarStore, a map, has no order to check).
    for (part, module) in parts.iter().zip(&modules) {
        if let Module::Rnn(rnn) = module {
            let prefix = if part.prefix.is_empty() { String::new() } else { format!("{}.", part.prefix) };
            let order: Vec<String> = rnn.named_parameters().map(|(n, _)| format!("{prefix}{n}")).collect();
            let torch_order: Vec<String> =
                expected.iter().map(|(n, _)| n.clone()).filter(|n| n.starts_with(&prefix)).collect();
            if order != torch_order {
                fail(format!("named_parameters order {order:?}, PyTorch has {torch_order:?}"));
            }
        }
    }

    for (name, _) in expected {
        let Some(actual) = variables.get(name) else {
            continue;
        };
        let reference = file.get(&format!("init/{model}/s{seed}/{name}"));
        if let Err(e) = compare_bits(actual, &reference) {
            fail(format!("{name}: {e}"));
        }
    }
    failures
}

#[test]
fn initialisation_matches_pytorch_bit_for_bit() {
    let _rng = rng_lock();
    let (fixture, file) = Fixture::load();
    let init = &fixture.init;
    assert_eq!(init.seeds, [0, 1, 7, 42], "unexpected seeds; {}", common::REGENERATE);
    for required in ["rnn_l2_bi_nobias", "rnn_cell", "embedding_padding", "linear", "tutorial"] {
        assert!(init.models.contains_key(required), "no init model {required}; {}", common::REGENERATE);
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for (model, parts) in &init.models {
        let expected = init.params.get(model).unwrap_or_else(|| panic!("no parameter list for {model}"));
        for &seed in &init.seeds {
            failures.extend(check_model(model, seed, parts, expected, &file));
            checked += expected.len();
        }
    }
    println!("{checked} parameters of {} models x {} seeds compared bit for bit", init.models.len(), init.seeds.len());
    assert!(failures.is_empty(), "{} mismatch(es) with PyTorch:\n{}", failures.len(), failures.join("\n"));
}

/// The tutorial model's parameters come from one generator stream in construction order: a
/// model built in another order must differ (so the bit-for-bit test above really checks the
/// order), and the fixture's seeds give different values (so it is not comparing constants).
#[test]
fn tutorial_initialisation_depends_on_order_and_seed() {
    let _rng = rng_lock();
    let (fixture, file) = Fixture::load();
    let parts = &fixture.init.models["tutorial"];

    tch::manual_seed(0);
    let vs = VarStore::new(Device::Cpu);
    let reversed: Vec<common::ModelPart> =
        parts.iter().rev().map(|p| common::ModelPart { prefix: p.prefix.clone(), module: p.module.clone() }).collect();
    build_model(&vs, &reversed).expect("build");
    let variables = vs.variables();
    let differs = |seed: i64, name: &str| {
        let reference = file.get(&format!("init/tutorial/s{seed}/{name}"));
        compare_bits(&variables[name], &reference).is_err()
    };
    assert!(differs(0, "emb.weight"), "building fc, rnn, emb in reverse order gave PyTorch's emb.weight");

    let by_seed: BTreeMap<i64, tch::Tensor> =
        fixture.init.seeds.iter().map(|&s| (s, file.get(&format!("init/tutorial/s{s}/rnn.weight_ih_l0")))).collect();
    assert!(!by_seed[&0].equal(&by_seed[&1]), "seeds 0 and 1 gave the same rnn.weight_ih_l0");
}
