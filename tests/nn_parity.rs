//! Forward and backward parity with PyTorch 2.13.0 for every module, on the cases that
//! scripts/export_reference.py stored in tests/fixtures/nn/ (a missing fixture fails).
//!
//! Each case: build the module from its JSON spec in a fresh VarStore, copy PyTorch's
//! parameters in, run forward (in the case's train/eval mode), take the scalar loss
//! `sum over outputs of sum(output * R)` with the stored R tensors, run backward, then compare
//! the outputs, `h_n`, every parameter gradient and every input gradient with PyTorch's.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Comparison, Fixture, Module, ModuleSpec, ParityCase, TensorFile, Tolerance, compare, rng_lock};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// Both sides run the same libtorch 2.13.0 CPU kernels on float32 and, like the exporter, on
/// one thread, so results are expected to be bit-identical (they are, on the machine the
/// fixtures were made on). The tolerance only leaves room for another summation order in a
/// reduction or GEMM (another CPU's kernel choice, or a thread count): a few ulps, ~1e-7
/// relative. With two threads the worst element seen was 1.2e-6 relative (3e-7 absolute, a
/// gradient summed over 24 time steps with cancellation), hence the single thread.
/// 1e-6 relative, with an absolute floor of 1e-7 for values that cancel to near zero, still
/// catches any real difference in formula, gate order, bias handling, masking or scaling.
const TOL: Tolerance = Tolerance { max_relative: 1e-6, epsilon: 1e-7 };

/// The exporter's thread count (scripts/export_reference.py calls torch.set_num_threads(1)).
const THREADS: i32 = 1;

/// Running totals over the compared tensors, printed at the end of each test.
#[derive(Default)]
struct Stats {
    tensors: usize,
    bit_identical: usize,
    max_rel: f64,
    max_abs: f64,
    worst: String,
}

impl Stats {
    fn add(&mut self, what: &str, c: &Comparison) {
        self.tensors += 1;
        self.bit_identical += usize::from(c.bit_identical);
        if c.max_rel > self.max_rel || (self.worst.is_empty() && c.max_abs > 0.0) {
            self.max_rel = self.max_rel.max(c.max_rel);
            self.worst = what.to_string();
        }
        self.max_abs = self.max_abs.max(c.max_abs);
    }
}

/// One case's failures, each naming the case and the tensor.
struct Failures<'a> {
    case: &'a str,
    list: Vec<String>,
}

impl Failures<'_> {
    fn check(&mut self, stats: &mut Stats, tensor: &str, actual: &Tensor, expected: &Tensor) {
        let what = format!("{}: {tensor}", self.case);
        match compare(actual, expected, TOL) {
            Ok(c) => stats.add(&what, &c),
            Err(e) => self.list.push(format!("{what}: {e}")),
        }
    }

    fn fail(&mut self, message: impl std::fmt::Display) {
        self.list.push(format!("{}: {message}", self.case));
    }
}

/// A gradient as a dense tensor (sparse Embedding gradients are compared densified, as the
/// fixture stores them).
fn dense(grad: Tensor) -> Tensor {
    if grad.is_sparse() { grad.to_dense(None, false) } else { grad }
}

fn run_case(case: &ParityCase, file: &TensorFile, stats: &mut Stats) -> Vec<String> {
    let mut f = Failures { case: &case.name, list: Vec::new() };
    if let Err(e) = run_case_inner(case, file, stats, &mut f) {
        f.fail(format!("{e:#}"));
    }
    f.list
}

fn run_case_inner(case: &ParityCase, file: &TensorFile, stats: &mut Stats, f: &mut Failures) -> anyhow::Result<()> {
    let p = format!("parity/{}", case.name);
    let params: BTreeMap<&str, Tensor> =
        case.params.iter().map(|n| (n.as_str(), file.get(&format!("{p}/param/{n}")))).collect();
    let class_weight = case.buffers.iter().any(|b| b == "weight").then(|| file.get(&format!("{p}/buffer/weight")));

    // Build in a fresh VarStore, then check the state_dict names and copy PyTorch's values in.
    let vs = VarStore::new(Device::Cpu);
    let pretrained = match case.module {
        ModuleSpec::Embedding { pretrained_freeze: Some(_), .. } => params.get("weight"),
        _ => None,
    };
    let mut module = case.module.build(&vs.root(), pretrained, class_weight)?;
    let variables = vs.variables();
    let have: BTreeSet<&str> = variables.keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = case.params.iter().map(String::as_str).collect();
    anyhow::ensure!(have == want, "parameter names {have:?}, PyTorch has {want:?}");
    if let Module::Rnn(rnn) = &module {
        let order: Vec<&str> = rnn.named_parameters().map(|(n, _)| n).collect();
        anyhow::ensure!(order == case.params, "named_parameters order {order:?}, PyTorch has {:?}", case.params);
    }
    tch::no_grad(|| -> anyhow::Result<()> {
        for (name, value) in &params {
            variables[*name].shallow_clone().f_copy_(value)?;
        }
        Ok(())
    })?;
    for (name, var) in &variables {
        let frozen = case.frozen.contains(name);
        anyhow::ensure!(
            var.requires_grad() != frozen,
            "parameter {name}: requires_grad {}, PyTorch frozen: {frozen}",
            var.requires_grad()
        );
    }

    let inputs: BTreeMap<&str, Tensor> = case
        .inputs
        .iter()
        .map(|n| {
            let t = file.get(&format!("{p}/input/{n}"));
            let t = if case.grad_inputs.contains(n) { t.set_requires_grad(true) } else { t };
            (n.as_str(), t)
        })
        .collect();
    let input = |name: &str| inputs.get(name).map(Tensor::shallow_clone);
    let required = |name: &str| input(name).ok_or_else(|| anyhow::anyhow!("case has no input '{name}'"));

    // Forward.
    if let Module::Rnn(rnn) = &mut module {
        rnn.train(case.training);
    } else {
        anyhow::ensure!(!case.training, "training mode is only meaningful for RNN cases");
    }
    if let Some(seed) = case.forward_seed {
        tch::manual_seed(seed);
    }
    let mut outputs: BTreeMap<&str, Tensor> = BTreeMap::new();
    match &module {
        Module::Rnn(rnn) => {
            let (output, h_n) = rnn.forward(&required("input")?, input("h0").as_ref())?;
            outputs.insert("output", output);
            outputs.insert("h_n", h_n);
        }
        Module::RnnCell(cell) => {
            outputs.insert("output", cell.forward(&required("input")?, input("hx").as_ref())?);
        }
        Module::Embedding(emb) => {
            outputs.insert("output", emb.forward(&required("input")?)?);
            outputs.insert("weight_after", emb.weight.detach().copy());
        }
        Module::Linear(fc) => {
            outputs.insert("output", fc.forward(&required("input")?)?);
        }
        Module::CrossEntropy(ce) => {
            outputs.insert("output", ce.forward(&required("input")?, &required("target")?)?);
        }
    }

    // Backward of sum(output * R) over the probed outputs, as the script did.
    let mut loss = Tensor::zeros([], (Kind::Float, Device::Cpu));
    for name in &case.probes {
        let out = outputs.get(name.as_str()).ok_or_else(|| anyhow::anyhow!("no output '{name}' to probe"))?;
        loss += (out * file.get(&format!("{p}/probe/{name}"))).sum(Kind::Float);
    }
    if loss.requires_grad() {
        loss.f_backward()?;
    }

    // Outputs.
    for name in &case.outputs {
        let actual = outputs.get(name.as_str()).ok_or_else(|| anyhow::anyhow!("no output '{name}'"))?;
        f.check(stats, &format!("output {name}"), actual, &file.get(&format!("{p}/output/{name}")));
    }

    // Gradients: every stored one must be matched, and every Rust gradient must be stored.
    let mut expected_grads: BTreeSet<String> = file.keys_with_prefix(&format!("{p}/grad/")).into_iter().collect();
    let mut check_grad = |kind: &str, name: &str, tensor: &Tensor, f: &mut Failures| {
        let key = format!("{p}/grad/{kind}/{name}");
        let stored = expected_grads.remove(&key);
        let grad = tensor.grad();
        match (grad.defined(), stored) {
            (true, true) => f.check(stats, &format!("grad of {kind} {name}"), &dense(grad), &file.get(&key)),
            (false, false) => {}
            (true, false) => f.fail(format!("{kind} {name} got a gradient, PyTorch's has none")),
            (false, true) => f.fail(format!("{kind} {name} got no gradient, PyTorch's has one")),
        }
    };
    for name in &case.params {
        check_grad("param", name, &variables[name], f);
    }
    for (name, t) in &inputs {
        if t.is_floating_point() {
            check_grad("input", name, t, f);
        }
    }
    for key in expected_grads {
        f.fail(format!("stored gradient {key} was not produced"));
    }
    Ok(())
}

/// Runs every case of `kind`, printing a summary and failing with the list of mismatches.
fn run_kind(kind: &str) {
    let _rng = rng_lock();
    tch::set_num_threads(THREADS);
    let (fixture, file) = Fixture::load();
    let cases: Vec<&ParityCase> = fixture.parity.iter().filter(|c| c.module.kind() == kind).collect();
    assert!(!cases.is_empty(), "no {kind} cases in the fixture; {}", common::REGENERATE);
    let mut stats = Stats::default();
    let failures: Vec<String> = cases.iter().flat_map(|case| run_case(case, &file, &mut stats)).collect();
    println!(
        "{kind}: {} cases, {} tensors compared, {} bit-identical, max rel diff {:e}, max abs diff {:e}{}",
        cases.len(),
        stats.tensors,
        stats.bit_identical,
        stats.max_rel,
        stats.max_abs,
        if stats.worst.is_empty() { String::new() } else { format!(" (largest at {})", stats.worst) }
    );
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
