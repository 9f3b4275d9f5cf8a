//! Helpers shared by the integration tests: locating and loading the committed PyTorch
//! fixtures (tests/fixtures/nn/, written by scripts/export_reference.py), building modules
//! from the fixtures' JSON specs, comparing tensors, temporary directories, serialising the
//! global random generator and checking that a call returns `Err` instead of panicking.
//!
//! Each test binary compiles this module on its own and uses only part of it, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use tch::{Kind, Tensor};

use tch_rnn::nn::{
    CrossEntropyLoss, CrossEntropyLossConfig, Embedding, EmbeddingConfig, Linear, LinearConfig, Nonlinearity,
    Reduction, Rnn, RnnCell, RnnCellConfig, RnnConfig,
};

// ---------------------------------------------------------------------------------------------
// Fixtures

/// How to (re)create the fixtures; every "fixture missing" failure says it.
pub const REGENERATE: &str = "generate it with `.venv/bin/python scripts/export_reference.py` \
     (or `scripts/regenerate-fixtures.sh`) and commit tests/fixtures/nn/";

/// The JSON file describing every fixture case.
pub const CASES_FILE: &str = "cases.json";

/// `tests/fixtures/nn/` in this crate.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join("nn")
}

/// The path of fixture `name`; panics (never skips) when the file is missing.
pub fn fixture_path(name: &str) -> PathBuf {
    let path = fixture_dir().join(name);
    assert!(path.is_file(), "missing fixture {}: {REGENERATE}", path.display());
    path
}

/// Parses the JSON fixture `name`; panics naming the file when it is missing or malformed.
pub fn read_json<T: DeserializeOwned>(name: &str) -> T {
    let path = fixture_path(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}; {REGENERATE}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("fixture {} does not match what the tests expect ({e}); {REGENERATE}", path.display())
    })
}

/// The named tensors of a safetensors fixture.
pub struct TensorFile {
    pub path: PathBuf,
    tensors: HashMap<String, Tensor>,
}

impl TensorFile {
    /// Loads fixture `name`; panics (never skips) when it is missing or unreadable.
    pub fn load(name: &str) -> Self {
        let path = fixture_path(name);
        let tensors = Tensor::read_safetensors(&path)
            .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}; {REGENERATE}", path.display()))
            .into_iter()
            .collect();
        TensorFile { path, tensors }
    }

    /// A fresh copy of tensor `key` (so callers may set `requires_grad` or modify it freely);
    /// panics naming the key when it is absent.
    pub fn get(&self, key: &str) -> Tensor {
        self.try_get(key)
            .unwrap_or_else(|| panic!("fixture {} has no tensor '{key}'; {REGENERATE}", self.path.display()))
    }

    /// A fresh copy of tensor `key`, if present.
    pub fn try_get(&self, key: &str) -> Option<Tensor> {
        self.tensors.get(key).map(Tensor::copy)
    }

    /// The keys that start with `prefix`, sorted.
    pub fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut keys: Vec<String> = self.tensors.keys().filter(|k| k.starts_with(prefix)).cloned().collect();
        keys.sort();
        keys
    }

    /// Every tensor, by name.
    pub fn tensors(&self) -> &HashMap<String, Tensor> {
        &self.tensors
    }
}

/// `cases.json` as written by scripts/export_reference.py.
#[derive(Debug, Deserialize)]
pub struct Fixture {
    pub generator: String,
    pub torch_version: String,
    /// The safetensors file holding every tensor the cases refer to.
    pub tensors_file: String,
    pub parity: Vec<ParityCase>,
    pub init: InitFixture,
    pub interop: InteropFixture,
}

impl Fixture {
    /// Loads `cases.json` and its tensor file.
    pub fn load() -> (Fixture, TensorFile) {
        let fixture: Fixture = read_json(CASES_FILE);
        let tensors = TensorFile::load(&fixture.tensors_file);
        (fixture, tensors)
    }
}

/// One forward/backward comparison case; its tensors are `parity/{name}/...` (see the
/// export script's docstring for the layout).
#[derive(Debug, Deserialize)]
pub struct ParityCase {
    pub name: String,
    pub module: ModuleSpec,
    /// Parameter names in PyTorch's `named_parameters()` order.
    pub params: Vec<String>,
    /// Parameters with `requires_grad == False`.
    pub frozen: Vec<String>,
    /// Non-parameter tensors the module is built with (CrossEntropyLoss's `weight`).
    pub buffers: Vec<String>,
    pub inputs: Vec<String>,
    /// The inputs that require grad (their gradients are stored).
    pub grad_inputs: Vec<String>,
    pub outputs: Vec<String>,
    /// The outputs in the scalar loss `sum(output * probe)`.
    pub probes: Vec<String>,
    /// Module in training mode (else eval).
    pub training: bool,
    /// `manual_seed` right before forward (for dropout masks).
    pub forward_seed: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Parameters after `manual_seed(seed)`, under `init/{model}/s{seed}/{name}`.
#[derive(Debug, Deserialize)]
pub struct InitFixture {
    pub seeds: Vec<i64>,
    pub models: BTreeMap<String, Vec<ModelPart>>,
    /// Per model: `(name, shape)` in PyTorch's `named_parameters()` order.
    pub params: BTreeMap<String, Vec<(String, Vec<i64>)>>,
}

/// A PyTorch state_dict saved with `safetensors.torch.save_file`, and the model it belongs to.
#[derive(Debug, Deserialize)]
pub struct InteropFixture {
    pub model: Vec<ModelPart>,
    pub state_dict_file: String,
    pub state_dict_keys: Vec<String>,
    pub pipeline: String,
}

/// One module of a model, registered under `prefix` (the root when empty).
#[derive(Debug, Deserialize)]
pub struct ModelPart {
    pub prefix: String,
    pub module: ModuleSpec,
}

/// A module and its constructor arguments, spelled as in PyTorch.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModuleSpec {
    Rnn {
        input_size: i64,
        hidden_size: i64,
        num_layers: i64,
        nonlinearity: String,
        bias: bool,
        batch_first: bool,
        dropout: f64,
        bidirectional: bool,
    },
    RnnCell {
        input_size: i64,
        hidden_size: i64,
        bias: bool,
        nonlinearity: String,
    },
    Embedding {
        num_embeddings: i64,
        embedding_dim: i64,
        padding_idx: Option<i64>,
        max_norm: Option<f64>,
        norm_type: f64,
        scale_grad_by_freq: bool,
        sparse: bool,
        /// `Some(freeze)`: built with `Embedding.from_pretrained(weight, freeze)`.
        pretrained_freeze: Option<bool>,
    },
    Linear {
        in_features: i64,
        out_features: i64,
        bias: bool,
    },
    CrossEntropy {
        /// Whether a class `weight` tensor is given.
        weight: bool,
        ignore_index: i64,
        reduction: String,
        label_smoothing: f64,
    },
}

/// A module built from a [`ModuleSpec`].
#[derive(Debug)]
pub enum Module {
    Rnn(Rnn),
    RnnCell(RnnCell),
    Embedding(Embedding),
    Linear(Linear),
    CrossEntropy(CrossEntropyLoss),
}

impl ModuleSpec {
    /// The spec's `kind` tag, as in the JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            ModuleSpec::Rnn { .. } => "rnn",
            ModuleSpec::RnnCell { .. } => "rnn_cell",
            ModuleSpec::Embedding { .. } => "embedding",
            ModuleSpec::Linear { .. } => "linear",
            ModuleSpec::CrossEntropy { .. } => "cross_entropy",
        }
    }

    /// Builds the module under `path`. `pretrained` is the table for
    /// `Embedding::from_pretrained`, `class_weight` CrossEntropyLoss's `weight`; each must be
    /// given exactly when the spec asks for it.
    pub fn build(
        &self,
        path: &tch::nn::Path,
        pretrained: Option<&Tensor>,
        class_weight: Option<Tensor>,
    ) -> anyhow::Result<Module> {
        Ok(match self {
            ModuleSpec::Rnn {
                input_size,
                hidden_size,
                num_layers,
                nonlinearity,
                bias,
                batch_first,
                dropout,
                bidirectional,
            } => Module::Rnn(Rnn::new(
                path,
                RnnConfig {
                    input_size: *input_size,
                    hidden_size: *hidden_size,
                    num_layers: *num_layers,
                    nonlinearity: nonlinearity.parse::<Nonlinearity>()?,
                    bias: *bias,
                    batch_first: *batch_first,
                    dropout: *dropout,
                    bidirectional: *bidirectional,
                },
            )?),
            ModuleSpec::RnnCell { input_size, hidden_size, bias, nonlinearity } => Module::RnnCell(RnnCell::new(
                path,
                RnnCellConfig {
                    input_size: *input_size,
                    hidden_size: *hidden_size,
                    bias: *bias,
                    nonlinearity: nonlinearity.parse::<Nonlinearity>()?,
                },
            )?),
            ModuleSpec::Embedding {
                num_embeddings,
                embedding_dim,
                padding_idx,
                max_norm,
                norm_type,
                scale_grad_by_freq,
                sparse,
                pretrained_freeze,
            } => {
                let config = EmbeddingConfig {
                    padding_idx: *padding_idx,
                    max_norm: *max_norm,
                    norm_type: *norm_type,
                    scale_grad_by_freq: *scale_grad_by_freq,
                    sparse: *sparse,
                };
                match (pretrained_freeze, pretrained) {
                    (None, None) => Module::Embedding(Embedding::new(path, *num_embeddings, *embedding_dim, config)?),
                    (Some(freeze), Some(table)) => {
                        Module::Embedding(Embedding::from_pretrained(path, table, *freeze, config)?)
                    }
                    _ => anyhow::bail!("spec {self:?}: pretrained table given: {}", pretrained.is_some()),
                }
            }
            ModuleSpec::Linear { in_features, out_features, bias } => {
                Module::Linear(Linear::new(path, *in_features, *out_features, LinearConfig { bias: *bias })?)
            }
            ModuleSpec::CrossEntropy { weight, ignore_index, reduction, label_smoothing } => {
                anyhow::ensure!(
                    *weight == class_weight.is_some(),
                    "spec {self:?}: class weight given: {}",
                    class_weight.is_some()
                );
                Module::CrossEntropy(CrossEntropyLoss::new(CrossEntropyLossConfig {
                    weight: class_weight,
                    ignore_index: *ignore_index,
                    reduction: parse_reduction(reduction)?,
                    label_smoothing: *label_smoothing,
                })?)
            }
        })
    }
}

/// PyTorch's `reduction=` spelling.
pub fn parse_reduction(s: &str) -> anyhow::Result<Reduction> {
    Ok(match s {
        "none" => Reduction::None,
        "mean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        other => anyhow::bail!("unknown reduction '{other}'"),
    })
}

/// Builds the parts of a model in order (as PyTorch's constructor would), each under its
/// prefix; for models of plain modules only (no pretrained table or class weight).
pub fn build_model(vs: &tch::nn::VarStore, parts: &[ModelPart]) -> anyhow::Result<Vec<Module>> {
    parts
        .iter()
        .map(|part| {
            let path = if part.prefix.is_empty() { vs.root() } else { vs.root() / part.prefix.as_str() };
            part.module.build(&path, None, None)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tensor comparison

/// Element-wise tolerance for [`compare`], as in `approx::relative_eq!`: two values match when
/// `|a - b| <= epsilon` or `|a - b| <= max_relative * max(|a|, |b|)`.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    pub max_relative: f64,
    pub epsilon: f64,
}

/// The result of a successful [`compare`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Comparison {
    pub numel: usize,
    pub max_abs: f64,
    /// Max of `|a - b| / max(|a|, |b|)` over the elements that differ.
    pub max_rel: f64,
    pub bit_identical: bool,
}

/// The values of a dense floating-point or integer tensor, as f64 (exact for f32 and for
/// integers below 2^53).
pub fn values_f64(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.detach().to_kind(Kind::Double).contiguous().view(-1)).expect("tensor values")
}

/// Compares `actual` with `expected`: same shape, same dtype, every element within `tol`
/// (NaNs match NaNs). On failure the message gives the number of bad elements, the worst one
/// and the max absolute and relative differences.
pub fn compare(actual: &Tensor, expected: &Tensor, tol: Tolerance) -> Result<Comparison, String> {
    if actual.size() != expected.size() {
        return Err(format!("shape {:?}, expected {:?}", actual.size(), expected.size()));
    }
    if actual.kind() != expected.kind() {
        return Err(format!("dtype {:?}, expected {:?}", actual.kind(), expected.kind()));
    }
    if actual.is_sparse() || expected.is_sparse() {
        return Err("sparse tensors must be made dense before comparing".into());
    }
    let (a, e) = (values_f64(actual), values_f64(expected));
    let bit_identical = match actual.kind() {
        Kind::Float => {
            let bits = |t: &Tensor| {
                Vec::<f32>::try_from(t.detach().contiguous().view(-1))
                    .expect("f32 values")
                    .into_iter()
                    .map(f32::to_bits)
                    .collect::<Vec<u32>>()
            };
            bits(actual) == bits(expected)
        }
        Kind::Double => a.iter().zip(&e).all(|(x, y)| x.to_bits() == y.to_bits()),
        _ => a == e,
    };
    let mut c = Comparison { numel: a.len(), bit_identical, ..Default::default() };
    let mut bad = 0usize;
    let mut worst: Option<(usize, f64, f64, f64)> = None;
    for (i, (&x, &y)) in a.iter().zip(&e).enumerate() {
        if x.is_nan() && y.is_nan() {
            continue;
        }
        let abs = (x - y).abs();
        let rel = if abs == 0.0 { 0.0 } else { abs / x.abs().max(y.abs()) };
        c.max_abs = c.max_abs.max(abs);
        c.max_rel = c.max_rel.max(rel);
        let ok = approx::relative_eq!(x, y, epsilon = tol.epsilon, max_relative = tol.max_relative);
        if !ok {
            bad += 1;
            if worst.is_none_or(|w| abs > w.3) {
                worst = Some((i, x, y, abs));
            }
        }
    }
    match worst {
        None => Ok(c),
        Some((i, x, y, _)) => Err(format!(
            "{bad} of {} elements differ (max abs diff {:e}, max rel diff {:e}); worst at flat index {i}: got {x:e}, expected {y:e}",
            c.numel, c.max_abs, c.max_rel
        )),
    }
}

/// Bit-for-bit equality of two tensors (shape, dtype and every f32/f64 bit pattern); the
/// error says how many elements differ and where the first one is.
pub fn compare_bits(actual: &Tensor, expected: &Tensor) -> Result<(), String> {
    let exact = Tolerance { max_relative: 0.0, epsilon: 0.0 };
    let c = compare(actual, expected, exact)?;
    if c.bit_identical {
        return Ok(());
    }
    let (a, e) = (values_f64(actual), values_f64(expected));
    let first = a.iter().zip(&e).position(|(x, y)| x.to_bits() != y.to_bits()).unwrap_or(0);
    Err(format!(
        "not bit-identical (e.g. -0.0 vs 0.0 or NaN payloads); first difference at flat index {first}: got {:e}, expected {:e}",
        a[first], e[first]
    ))
}

// ---------------------------------------------------------------------------------------------
// Process-wide state

static RNG: Mutex<()> = Mutex::new(());

/// Serialises the tests of one binary that use libtorch's global generator (every module
/// constructor draws from it; `tch::manual_seed` resets it), since cargo runs tests on
/// several threads. Hold the guard for the whole test. A test that failed while holding it
/// does not poison it for the others.
pub fn rng_lock() -> MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A directory under the system temp dir, unique to this process and call, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tch-rnn-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `f` and returns the text of its error (with its context chain). Panics, naming
/// `what`, when `f` succeeds or panics instead of returning `Err`.
pub fn expect_err<T>(what: &str, f: impl FnOnce() -> anyhow::Result<T>) -> String {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(_)) => panic!("{what}: expected an error, got Ok"),
        Ok(Err(e)) => format!("{e:#}"),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{what}: panicked instead of returning Err: {message}")
        }
    }
}

/// Asserts that `text` contains every one of `needles`, naming `what` on failure.
pub fn assert_contains_all(what: &str, text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{what}: expected the message to contain {needle:?}, got:\n{text}");
    }
}
