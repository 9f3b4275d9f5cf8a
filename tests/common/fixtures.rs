//! Locating and loading PyTorch's reference values: the committed fixtures
//! (tests/fixtures/nn/, from scripts/export_reference.py) or a fresh export of the same cases
//! in another folder (the live test's, from scripts/live_reference.py). A missing or malformed
//! fixture fails loudly, never skips.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use tch::Tensor;

use super::specs::{ModelPart, ModuleSpec};

/// How to (re)create the fixtures; every "fixture missing" failure says it.
pub const REGENERATE: &str = "generate it with `.venv/bin/python scripts/export_reference.py` \
     (or `scripts/regenerate-fixtures.sh`) and commit tests/fixtures/nn/";

/// The JSON file describing every fixture case.
pub const CASES_FILE: &str = "cases.json";

/// Set to a folder written by `scripts/regenerate-fixtures.sh DIR` to run the fixture tests
/// against it instead of the committed fixtures (scripts/check-portability.sh does).
pub const FIXTURES_ENV: &str = "TCH_RNN_FIXTURES";

/// `tests/fixtures/` in this crate, or the folder `TCH_RNN_FIXTURES` names.
pub fn fixtures_root() -> PathBuf {
    match std::env::var_os(FIXTURES_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures"),
    }
}

/// `tests/fixtures/nn/` in this crate.
pub fn fixture_dir() -> PathBuf {
    fixtures_root().join("nn")
}

/// The path of committed fixture `name` in tests/fixtures/nn/; panics (never skips) when the
/// file is missing.
pub fn fixture_path(name: &str) -> PathBuf {
    existing(&fixture_dir(), name)
}

fn existing(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    assert!(path.is_file(), "missing fixture {}: {REGENERATE}", path.display());
    path
}

/// Parses the JSON file `name` of `dir`; panics naming the file when it is missing or
/// malformed.
pub fn read_json<T: DeserializeOwned>(dir: &Path, name: &str) -> T {
    let path = existing(dir, name);
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
    /// Loads `name` from `dir`; panics (never skips) when it is missing or unreadable.
    pub fn load(dir: &Path, name: &str) -> Self {
        let path = existing(dir, name);
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
}

/// `cases.json` as written by scripts/export_reference.py.
#[derive(Debug, Deserialize)]
pub struct Fixture {
    pub generator: String,
    pub torch_version: String,
    /// `torch.backends.cpu.get_cpu_capability()` of the exporting process.
    pub cpu_capability: String,
    /// The device the parity cases ran on in PyTorch (`cpu`, or `cuda:0` for
    /// scripts/gpu-check.sh).
    pub device: String,
    /// The safetensors file holding every tensor the cases refer to.
    pub tensors_file: String,
    pub parity: Vec<ParityCase>,
    pub init: InitFixture,
    /// By model name: `tutorial` (Embedding, RNN, Linear), `gated` (Embedding, LSTM, GRU, Linear).
    pub interop: BTreeMap<String, InteropFixture>,
}

impl Fixture {
    /// Loads the committed `cases.json` and its tensor file.
    pub fn load() -> (Fixture, TensorFile) {
        Self::load_from(&fixture_dir())
    }

    /// Loads `cases.json` and its tensor file from `dir`.
    pub fn load_from(dir: &Path) -> (Fixture, TensorFile) {
        let fixture: Fixture = read_json(dir, CASES_FILE);
        let tensors = TensorFile::load(dir, &fixture.tensors_file);
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
    /// Packed input: `input` is padded, `lengths` its lengths, and the module runs on
    /// `pack_padded_sequence(input, lengths, batch_first, enforce_sorted)`.
    pub packed: Option<PackedSpec>,
}

/// How a packed case packs its input.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct PackedSpec {
    pub enforce_sorted: bool,
}

/// Parameters after `manual_seed(seed)`, under `init/{model}/s{seed}/{name}`.
#[derive(Debug, Deserialize)]
pub struct InitFixture {
    pub seeds: Vec<i64>,
    pub models: BTreeMap<String, Vec<ModelPart>>,
    /// Per model: `(name, shape)` in PyTorch's `named_parameters()` order.
    pub params: BTreeMap<String, Vec<(String, Vec<i64>)>>,
}

/// A PyTorch state_dict saved with `safetensors.torch.save_file`, the model it belongs to, and
/// the tensors of one forward pass (eval mode) under `interop/{model}/`: `input`, the initial
/// `states`, `target`, `logits`, the `finals` states and `loss`.
#[derive(Debug, Deserialize)]
pub struct InteropFixture {
    pub model: Vec<ModelPart>,
    pub state_dict_file: String,
    pub state_dict_keys: Vec<String>,
    pub states: Vec<String>,
    pub finals: Vec<String>,
}
