//! Running the nn parity grid of scripts/export_reference.py: each case builds the module from
//! its spec in a fresh VarStore, copies PyTorch's parameters in, runs forward (in the case's
//! train/eval mode), takes the scalar loss `sum over outputs of sum(output * R)` with the
//! stored R tensors, runs backward, then compares the outputs, `h_n`, every parameter gradient
//! and every input gradient with PyTorch's.

use std::collections::{BTreeMap, BTreeSet};

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{PackedSequence, RecurrentState, pack_padded_sequence, pad_packed_sequence};

use super::compare::{Exactness, check};
use super::fixtures::{Fixture, ParityCase, TensorFile};
use super::report::Stats;
use super::specs::{Module, ModuleSpec};

/// One case's failures, each naming the case and the tensor.
struct Failures<'a> {
    case: &'a str,
    exactness: Exactness,
    list: Vec<String>,
}

impl Failures<'_> {
    fn check(&mut self, stats: &mut Stats, tensor: &str, actual: &Tensor, expected: &Tensor) {
        let what = format!("{}: {tensor}", self.case);
        match check(&actual.to_device(Device::Cpu), expected, self.exactness) {
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

/// The kinds of module in `fixture`'s grid, in the order their first case comes.
pub fn kinds(fixture: &Fixture) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    for case in &fixture.parity {
        if !kinds.contains(&case.module.kind()) {
            kinds.push(case.module.kind());
        }
    }
    kinds
}

/// Runs every case of `kind` (`"rnn"`, `"linear"`, ...) of `fixture` on `device`, comparing
/// under `exactness`; returns what was compared and the list of mismatches. Runs
/// single-threaded, as the exporter does. The caller holds the generator lock.
pub fn run_kind(
    fixture: &Fixture,
    file: &TensorFile,
    kind: &str,
    exactness: Exactness,
    device: Device,
) -> (Stats, Vec<String>) {
    tch::set_num_threads(1);
    let cases: Vec<&ParityCase> = fixture.parity.iter().filter(|c| c.module.kind() == kind).collect();
    assert!(!cases.is_empty(), "no {kind} cases in {}; {}", file.path.display(), super::REGENERATE);
    let mut stats = Stats::default();
    let failures = cases.iter().flat_map(|case| run_case(case, file, exactness, device, &mut stats)).collect();
    (stats, failures)
}

fn run_case(
    case: &ParityCase,
    file: &TensorFile,
    exactness: Exactness,
    device: Device,
    stats: &mut Stats,
) -> Vec<String> {
    let mut f = Failures { case: &case.name, exactness, list: Vec::new() };
    if let Err(e) = run_case_inner(case, file, device, stats, &mut f) {
        f.fail(format!("{e:#}"));
    }
    f.list
}

fn run_case_inner(
    case: &ParityCase,
    file: &TensorFile,
    device: Device,
    stats: &mut Stats,
    f: &mut Failures,
) -> anyhow::Result<()> {
    let p = format!("parity/{}", case.name);
    let params: BTreeMap<&str, Tensor> =
        case.params.iter().map(|n| (n.as_str(), file.get(&format!("{p}/param/{n}")))).collect();
    let class_weight =
        case.buffers.iter().any(|b| b == "weight").then(|| file.get(&format!("{p}/buffer/weight")).to_device(device));

    // Build in a fresh VarStore, then check the state_dict names and copy PyTorch's values in.
    let vs = VarStore::new(device);
    let pretrained = match case.module {
        ModuleSpec::Embedding { pretrained_freeze: Some(_), .. } => params.get("weight"),
        _ => None,
    };
    let mut module = case.module.build(&vs.root(), pretrained, class_weight)?;
    let variables = vs.variables();
    let have: BTreeSet<&str> = variables.keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = case.params.iter().map(String::as_str).collect();
    anyhow::ensure!(have == want, "parameter names {have:?}, PyTorch has {want:?}");
    if let Some(order) = module.flat_weight_names() {
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
            // Lengths stay on the CPU, as libtorch wants them.
            let t = if n == "lengths" { t } else { t.to_device(device) };
            let t = if case.grad_inputs.contains(n) { t.set_requires_grad(true) } else { t };
            (n.as_str(), t)
        })
        .collect();
    let input = |name: &str| inputs.get(name).map(Tensor::shallow_clone);

    // Forward.
    let is_recurrent = module.set_training(case.training);
    anyhow::ensure!(is_recurrent || !case.training, "training mode is only meaningful for recurrent modules");
    if let Some(seed) = case.forward_seed {
        tch::manual_seed(seed);
    }
    let outputs = forward(&module, case, &input)?;

    // Backward of sum(output * R) over the probed outputs, as the script did.
    let mut loss = Tensor::zeros([], (Kind::Float, device));
    for name in &case.probes {
        let out = outputs.get(name.as_str()).ok_or_else(|| anyhow::anyhow!("no output '{name}' to probe"))?;
        loss += (out * file.get(&format!("{p}/probe/{name}")).to_device(device)).sum(Kind::Float);
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

/// Runs the module's forward as the exporter did (on the packed input for a packed case) and
/// returns every output under the exporter's name.
fn forward(
    module: &Module,
    case: &ParityCase,
    input: &dyn Fn(&str) -> Option<Tensor>,
) -> anyhow::Result<BTreeMap<&'static str, Tensor>> {
    let required = |name: &str| input(name).ok_or_else(|| anyhow::anyhow!("case has no input '{name}'"));
    let batch_first = case.module.batch_first();
    let packed = match case.packed {
        Some(p) => {
            Some(pack_padded_sequence(&required("input")?, &required("lengths")?, batch_first, p.enforce_sorted)?)
        }
        None => None,
    };
    let state = initial_state(input("h0"), input("c0"));
    let mut outputs = BTreeMap::new();
    match (module, &packed) {
        (Module::Recurrent(m), packed) => {
            let final_state = match packed {
                None => {
                    let (output, state) = m.forward(&required("input")?, state.as_ref())?;
                    outputs.insert("output", output);
                    state
                }
                Some(p) => {
                    let (output, state) = m.forward_packed(p, state.as_ref())?;
                    packed_outputs(&output, batch_first, &mut outputs)?;
                    state
                }
            };
            outputs
                .extend(["h_n", "c_n"].into_iter().zip(final_state.tensors().into_iter().map(Tensor::shallow_clone)));
        }
        (_, Some(_)) => anyhow::bail!("packed input for a {} module", case.module.kind()),
        (Module::RnnCell(cell), None) => {
            outputs.insert("output", cell.forward(&required("input")?, input("hx").as_ref())?);
        }
        (Module::GruCell(cell), None) => {
            outputs.insert("output", cell.forward(&required("input")?, input("hx").as_ref())?);
        }
        (Module::LstmCell(cell), None) => {
            let (hx, cx) = (input("hx"), input("cx"));
            let (h, c) = cell.forward(&required("input")?, hx.as_ref().zip(cx.as_ref()))?;
            outputs.insert("output", h);
            outputs.insert("c", c);
        }
        (Module::Embedding(emb), None) => {
            outputs.insert("output", emb.forward(&required("input")?)?);
            outputs.insert("weight_after", emb.weight.detach().copy());
        }
        (Module::Linear(fc), None) => {
            outputs.insert("output", fc.forward(&required("input")?)?);
        }
        (Module::CrossEntropy(ce), None) => {
            outputs.insert("output", ce.forward(&required("input")?, &required("target")?)?);
        }
    }
    Ok(outputs)
}

/// The initial state the exporter gave: `(h0, c0)` for an LSTM, `h0` otherwise, or none.
fn initial_state(h0: Option<Tensor>, c0: Option<Tensor>) -> Option<RecurrentState> {
    match (h0, c0) {
        (Some(h), Some(c)) => Some(RecurrentState::HiddenAndCell(h, c)),
        (Some(h), None) => Some(RecurrentState::Hidden(h)),
        (None, _) => None,
    }
}

/// A packed output as the exporter stores it: the data and bookkeeping of the PackedSequence,
/// and `pad_packed_sequence`'s padded batch and lengths.
fn packed_outputs(
    packed: &PackedSequence,
    batch_first: bool,
    outputs: &mut BTreeMap<&'static str, Tensor>,
) -> anyhow::Result<()> {
    outputs.insert("output", packed.data().shallow_clone());
    outputs.insert("batch_sizes", packed.batch_sizes().shallow_clone());
    if let (Some(sorted), Some(unsorted)) = (packed.sorted_indices(), packed.unsorted_indices()) {
        outputs.insert("sorted_indices", sorted.shallow_clone());
        outputs.insert("unsorted_indices", unsorted.shallow_clone());
    }
    let (padded, lengths) = pad_packed_sequence(packed, batch_first, 0.0, None)?;
    outputs.insert("padded_output", padded);
    outputs.insert("output_lengths", lengths);
    Ok(())
}
