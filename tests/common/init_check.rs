//! Initialisation parity: after `tch::manual_seed(s)` the modules draw the parameters that
//! PyTorch draws after `torch.manual_seed(s)`, with PyTorch's names, shapes and order.

use tch::Device;
use tch::nn::VarStore;

use super::compare::{Exactness, check};
use super::fixtures::{Fixture, TensorFile};
use super::report::Stats;
use super::specs::{ModelPart, build_model};

/// How exactly initial parameters can be held against a fixture exported with ATen's
/// `exporter` CPU capability, in a process running with `running`. The generator's stream is
/// the same everywhere, but ATen turns it into floats with one code path for DEFAULT and
/// another, vectorised one (FMA contractions, SLEEF's log/sin/cos for `normal_`) for AVX2 and
/// AVX512: measured, AVX2 and AVX512 draw the same bits and DEFAULT differs by up to a few
/// hundred ulps. So: bits within one family, assert_close across them.
pub fn init_exactness(exporter: &str, running: &str) -> Exactness {
    if (exporter == "DEFAULT") == (running == "DEFAULT") { Exactness::Bits } else { Exactness::Close }
}

/// Builds `model` after `manual_seed(seed)` and checks names, order, shapes and values against
/// PyTorch's; returns the failures. The caller holds the generator lock.
pub fn check_model(
    model: &str,
    seed: i64,
    parts: &[ModelPart],
    expected: &[(String, Vec<i64>)],
    file: &TensorFile,
    exactness: Exactness,
    stats: &mut Stats,
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

    // The order of a recurrent module's flat weights is PyTorch's named_parameters order (for
    // the other modules the VarStore, a map, has no order to check).
    for (part, module) in parts.iter().zip(&modules) {
        if let Some(names) = module.flat_weight_names() {
            let prefix = if part.prefix.is_empty() { String::new() } else { format!("{}.", part.prefix) };
            let order: Vec<String> = names.iter().map(|n| format!("{prefix}{n}")).collect();
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
        match check(actual, &reference, exactness) {
            Ok(c) => stats.add(&format!("{model} seed {seed}: {name}"), &c),
            Err(e) => fail(format!("{name}: {e}")),
        }
    }
    failures
}

/// Checks every model of the fixture for every seed; returns the failures.
pub fn check_all(fixture: &Fixture, file: &TensorFile, exactness: Exactness, stats: &mut Stats) -> Vec<String> {
    let init = &fixture.init;
    let mut failures = Vec::new();
    for (model, parts) in &init.models {
        let expected = init.params.get(model).unwrap_or_else(|| panic!("no parameter list for {model}"));
        for &seed in &init.seeds {
            failures.extend(check_model(model, seed, parts, expected, file, exactness, stats));
        }
    }
    failures
}
