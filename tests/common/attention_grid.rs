//! The MultiheadAttention fixtures of scripts/export_reference.py (tests/fixtures/attention/,
//! or a fresh export in the live test) and the checks that both the fixture tests and the live
//! test run on them:
//! - the parity grid: each case builds the module from its spec, copies PyTorch's parameters
//!   in, runs forward as PyTorch did (the same tensor passed as query, key and value where
//!   PyTorch passed one, train/eval mode, seeded dropout, under no_grad where PyTorch was),
//!   then backward of `sum over outputs of sum(output * R)`, and compares the output, the
//!   weights and every gradient;
//! - initialisation: after `manual_seed(s)`, PyTorch's parameters, names and order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{AttentionOptions, MultiheadAttention, MultiheadAttentionConfig};

use super::compare::{Exactness, check};
use super::fixtures::{TensorFile, fixtures_root, read_json};
use super::report::Stats;

/// The folder of the attention fixtures under a fixtures root.
pub const ATTENTION_DIR: &str = "attention";

/// `tests/fixtures/attention/` (or under `TCH_RNN_FIXTURES`).
pub fn attention_dir() -> PathBuf {
    fixtures_root().join(ATTENTION_DIR)
}

/// `torch.nn.MultiheadAttention`'s arguments, as the fixture spells them.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct MhaSpec {
    pub embed_dim: i64,
    pub num_heads: i64,
    pub dropout: f64,
    pub bias: bool,
    pub add_bias_kv: bool,
    pub add_zero_attn: bool,
    pub kdim: Option<i64>,
    pub vdim: Option<i64>,
    pub batch_first: bool,
}

impl MhaSpec {
    pub fn config(&self) -> MultiheadAttentionConfig {
        MultiheadAttentionConfig {
            dropout: self.dropout,
            bias: self.bias,
            add_bias_kv: self.add_bias_kv,
            add_zero_attn: self.add_zero_attn,
            kdim: self.kdim,
            vdim: self.vdim,
            batch_first: self.batch_first,
            ..MultiheadAttentionConfig::new(self.embed_dim, self.num_heads)
        }
    }
}

/// How a case called forward; masks are `None`, `"bool"`, `"float"`, and for `attn_mask`
/// `"bool_2d"`, `"float_3d"`, ..., `"bool_causal"`.
#[derive(Clone, Debug, Deserialize)]
pub struct CaseOptions {
    pub key_padding_mask: Option<String>,
    pub attn_mask: Option<String>,
    pub need_weights: bool,
    pub average_attn_weights: bool,
    pub is_causal: bool,
}

/// One forward (and backward) comparison; tensors under `parity/{name}/...`.
#[derive(Debug, Deserialize)]
pub struct AttentionCase {
    pub name: String,
    pub module: MhaSpec,
    /// PyTorch's `named_parameters()` order.
    pub params: Vec<String>,
    pub inputs: Vec<String>,
    pub grad_inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub probes: Vec<String>,
    pub training: bool,
    pub forward_seed: Option<i64>,
    /// `"self"`: query, key and value were one tensor; `"kv"`: key and value were; `"none"`.
    pub identity: String,
    pub options: CaseOptions,
    /// Forward under `torch.no_grad()`, no backward.
    pub no_grad: bool,
    /// Whether PyTorch took `_native_multi_head_attention` (recorded by the exporter).
    pub fast_path: bool,
}

/// Parameters after `manual_seed(seed)`, `init/{model}/s{seed}/{name}`.
#[derive(Debug, Deserialize)]
pub struct AttentionInit {
    pub seeds: Vec<i64>,
    pub models: BTreeMap<String, MhaSpec>,
    /// Per model, `(name, shape)` in `named_parameters()` order.
    pub params: BTreeMap<String, Vec<(String, Vec<i64>)>>,
}

/// A state_dict PyTorch saved, and one forward in eval mode under `interop/{model}/`: `query`,
/// `key`, `value`, `output`, `weights`.
#[derive(Debug, Deserialize)]
pub struct AttentionInterop {
    pub module: MhaSpec,
    pub state_dict_file: String,
    pub state_dict_keys: Vec<String>,
}

/// `attention/cases.json`.
#[derive(Debug, Deserialize)]
pub struct AttentionFixture {
    pub generator: String,
    pub torch_version: String,
    pub cpu_capability: String,
    pub tensors_file: String,
    pub parity: Vec<AttentionCase>,
    pub init: AttentionInit,
    pub interop: BTreeMap<String, AttentionInterop>,
}

impl AttentionFixture {
    /// The committed fixture and its tensors; panics (never skips) when missing.
    pub fn load() -> (AttentionFixture, TensorFile) {
        Self::load_from(&attention_dir())
    }

    /// The fixture in `dir` and its tensors.
    pub fn load_from(dir: &Path) -> (AttentionFixture, TensorFile) {
        let fixture: AttentionFixture = read_json(dir, super::fixtures::CASES_FILE);
        let tensors = TensorFile::load(dir, &fixture.tensors_file);
        (fixture, tensors)
    }
}

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
}

/// Runs every parity case of `fixture`, comparing under `exactness`, single-threaded as the
/// exporter; returns what was compared and the mismatches. The caller holds the generator lock.
pub fn run_all(fixture: &AttentionFixture, file: &TensorFile, exactness: Exactness) -> (Stats, Vec<String>) {
    tch::set_num_threads(1);
    assert!(!fixture.parity.is_empty(), "no attention cases in {}", file.path.display());
    let mut stats = Stats::default();
    let mut failures = Vec::new();
    for case in &fixture.parity {
        let mut f = Failures { case: &case.name, exactness, list: Vec::new() };
        if let Err(e) = run_case(case, file, &mut stats, &mut f) {
            f.list.push(format!("{}: {e:#}", case.name));
        }
        failures.extend(f.list);
    }
    (stats, failures)
}

fn run_case(case: &AttentionCase, file: &TensorFile, stats: &mut Stats, f: &mut Failures) -> anyhow::Result<()> {
    let p = format!("parity/{}", case.name);
    let vs = VarStore::new(Device::Cpu);
    let mut module = MultiheadAttention::new(vs.root(), case.module.config())?;
    let order: Vec<&str> = module.named_parameters().into_iter().map(|(n, _)| n).collect();
    anyhow::ensure!(order == case.params, "named_parameters {order:?}, PyTorch has {:?}", case.params);
    let variables = vs.variables();
    let names: BTreeSet<&str> = variables.keys().map(String::as_str).collect();
    anyhow::ensure!(names == case.params.iter().map(String::as_str).collect(), "VarStore names {names:?}");
    tch::no_grad(|| -> anyhow::Result<()> {
        for name in &case.params {
            variables[name].shallow_clone().f_copy_(&file.get(&format!("{p}/param/{name}")))?;
        }
        Ok(())
    })?;
    module.train(case.training);

    let inputs: BTreeMap<&str, Tensor> = case
        .inputs
        .iter()
        .map(|n| {
            let t = file.get(&format!("{p}/input/{n}"));
            (n.as_str(), if case.grad_inputs.contains(n) { t.set_requires_grad(true) } else { t })
        })
        .collect();
    let query = &inputs["query"];
    let key = if case.identity == "self" { query } else { &inputs["key"] };
    let value = if case.identity == "none" { &inputs["value"] } else { key };
    let options = AttentionOptions {
        key_padding_mask: inputs.get("key_padding_mask"),
        attn_mask: inputs.get("attn_mask"),
        need_weights: case.options.need_weights,
        average_attn_weights: case.options.average_attn_weights,
        is_causal: case.options.is_causal,
    };
    if let Some(seed) = case.forward_seed {
        tch::manual_seed(seed);
    }
    let forward = || module.forward(query, key, value, &options);
    let (output, weights) = if case.no_grad { tch::no_grad(forward)? } else { forward()? };
    let mut outputs = BTreeMap::from([("output", output)]);
    if let Some(weights) = weights {
        outputs.insert("weights", weights);
    }
    let produced: Vec<&str> = outputs.keys().copied().collect();
    let mut stored: Vec<&str> = case.outputs.iter().map(String::as_str).collect();
    stored.sort();
    anyhow::ensure!(produced == stored, "outputs {produced:?}, PyTorch returned {stored:?}");

    if !case.probes.is_empty() {
        let mut loss = Tensor::zeros([], (Kind::Float, Device::Cpu));
        for name in &case.probes {
            loss += (&outputs[name.as_str()] * file.get(&format!("{p}/probe/{name}"))).sum(Kind::Float);
        }
        loss.f_backward()?;
    }
    for (name, t) in &outputs {
        f.check(stats, &format!("output {name}"), t, &file.get(&format!("{p}/output/{name}")));
    }

    let mut expected: BTreeSet<String> = file.keys_with_prefix(&format!("{p}/grad/")).into_iter().collect();
    let mut grad = |kind: &str, name: &str, t: &Tensor, f: &mut Failures| {
        let key = format!("{p}/grad/{kind}/{name}");
        let stored = expected.remove(&key);
        match (t.grad().defined(), stored) {
            (true, true) => f.check(stats, &format!("grad of {kind} {name}"), &t.grad(), &file.get(&key)),
            (false, false) => {}
            (true, false) => f.list.push(format!("{}: {kind} {name} got a gradient, PyTorch's has none", f.case)),
            (false, true) => f.list.push(format!("{}: {kind} {name} got no gradient, PyTorch's has one", f.case)),
        }
    };
    for name in &case.params {
        grad("param", name, &variables[name], f);
    }
    for (name, t) in &inputs {
        if t.is_floating_point() {
            grad("input", name, t, f);
        }
    }
    for key in expected {
        f.list.push(format!("{}: stored gradient {key} was not produced", case.name));
    }
    Ok(())
}

/// Checks initialisation for every model and seed of the fixture: names, order, shapes and
/// values under `exactness`. The caller holds the generator lock.
pub fn check_init(
    fixture: &AttentionFixture,
    file: &TensorFile,
    exactness: Exactness,
    stats: &mut Stats,
) -> Vec<String> {
    let mut failures = Vec::new();
    for (model, spec) in &fixture.init.models {
        let expected = &fixture.init.params[model];
        for &seed in &fixture.init.seeds {
            let mut fail = |m: String| failures.push(format!("init {model} seed {seed}: {m}"));
            tch::manual_seed(seed);
            let vs = VarStore::new(Device::Cpu);
            let module = match MultiheadAttention::new(vs.root(), spec.config()) {
                Ok(m) => m,
                Err(e) => {
                    fail(format!("cannot build: {e:#}"));
                    continue;
                }
            };
            let have: Vec<(String, Vec<i64>)> =
                module.named_parameters().into_iter().map(|(n, t)| (n.to_string(), t.size())).collect();
            if &have != expected {
                fail(format!("named_parameters (name, shape) {have:?}, PyTorch has {expected:?}"));
                continue;
            }
            let variables = vs.variables();
            if variables.len() != expected.len() {
                fail(format!("{} variables in the VarStore, PyTorch has {}", variables.len(), expected.len()));
            }
            for (name, t) in module.named_parameters() {
                if !variables.contains_key(name) {
                    fail(format!("{name} is not registered in the VarStore under its state_dict name"));
                }
                match check(t, &file.get(&format!("init/{model}/s{seed}/{name}")), exactness) {
                    Ok(c) => stats.add(&format!("init {model} seed {seed}: {name}"), &c),
                    Err(e) => fail(format!("{name}: {e}")),
                }
            }
        }
    }
    failures
}
