//! state_dict interop with PyTorch through safetensors files:
//! - a state_dict that PyTorch wrote with `safetensors.torch.save_file` (the tutorial model,
//!   fixture from scripts/export_reference.py) loads strictly and reproduces PyTorch's forward;
//! - `save_state_dict` writes the same names, shapes, dtypes and values back, and PyTorch loads
//!   a Rust-saved file strictly and computes the same logits (scripts/check_state_dict.py);
//! - strict loading reports missing keys, unexpected keys and shape mismatches, and copies
//!   nothing when it fails.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{
    Exactness, Fixture, Module, TempDir, assert_contains_all, build_model, check, compare_bits, expect_err,
    fixture_dir, fixture_path, rng_lock,
};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{CrossEntropyLoss, load_state_dict, save_state_dict};

struct Tutorial {
    vs: VarStore,
    modules: Vec<Module>,
}

/// The tutorial model in a fresh VarStore, built after a seed unrelated to the fixture's, so
/// that its parameters differ from PyTorch's until loaded.
fn tutorial() -> Tutorial {
    let (fixture, _) = Fixture::load();
    tch::manual_seed(987_654);
    let vs = VarStore::new(Device::Cpu);
    let modules = build_model(&vs, &fixture.interop.model).expect("build the tutorial model");
    Tutorial { vs, modules }
}

impl Tutorial {
    /// `emb -> rnn(h0) -> fc`, in eval mode, and the mean cross entropy of the logits.
    fn forward(&mut self, x: &Tensor, h0: &Tensor, target: &Tensor) -> (Tensor, Tensor, Tensor) {
        let [Module::Embedding(emb), Module::Rnn(rnn), Module::Linear(fc)] = self.modules.as_mut_slice() else {
            panic!("the tutorial model is emb, rnn, fc; got {:?}", self.modules)
        };
        rnn.eval();
        let (out, h_n) = rnn.forward(&emb.forward(x).expect("emb"), Some(h0)).expect("rnn");
        let logits = fc.forward(&out).expect("fc");
        let classes = *logits.size().last().expect("logits have a class dim");
        let loss = CrossEntropyLoss::new(Default::default())
            .expect("loss")
            .forward(&logits.reshape([-1, classes]), &target.reshape([-1]))
            .expect("cross entropy");
        (logits, h_n, loss)
    }

    /// Every variable's value, by name.
    fn snapshot(&self) -> BTreeMap<String, Tensor> {
        self.vs.variables().into_iter().map(|(n, t)| (n, t.detach().copy())).collect()
    }
}

fn pytorch_state_dict_path() -> PathBuf {
    let fixture: common::Fixture = common::read_json(&fixture_dir(), common::CASES_FILE);
    fixture_path(&fixture.interop.state_dict_file)
}

fn read(path: &Path) -> BTreeMap<String, Tensor> {
    Tensor::read_safetensors(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .into_iter()
        .collect()
}

fn assert_same_state(what: &str, actual: &BTreeMap<String, Tensor>, expected: &BTreeMap<String, Tensor>) {
    let names = |m: &BTreeMap<String, Tensor>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(actual), names(expected), "{what}: names differ");
    for (name, tensor) in expected {
        if let Err(e) = compare_bits(&actual[name], tensor) {
            panic!("{what}: {name}: {e}");
        }
    }
}

#[test]
fn pytorch_state_dict_loads_strictly_and_reproduces_forward() {
    let _rng = rng_lock();
    tch::set_num_threads(1);
    let (fixture, file) = Fixture::load();
    let path = pytorch_state_dict_path();
    let pytorch = read(&path);
    let keys: Vec<String> = pytorch.keys().cloned().collect();
    assert_eq!(keys, fixture.interop.state_dict_keys, "the state_dict file and cases.json disagree");

    let mut model = tutorial();
    assert!(
        compare_bits(&model.vs.variables()["rnn.weight_ih_l0"], &pytorch["rnn.weight_ih_l0"]).is_err(),
        "the model already held PyTorch's weights before loading"
    );
    load_state_dict(&mut model.vs, &path).expect("strict load of PyTorch's state_dict");
    assert_same_state("after load", &model.snapshot(), &pytorch);
    for (name, var) in model.vs.variables() {
        assert_eq!(var.kind(), Kind::Float, "{name}");
        assert!(var.requires_grad(), "{name}: loading must keep parameters trainable");
    }

    let (logits, h_n, loss) =
        model.forward(&file.get("interop/input"), &file.get("interop/h0"), &file.get("interop/target"));
    for (name, actual) in [("logits", &logits), ("h_n", &h_n), ("loss", &loss)] {
        if let Err(e) = check(actual, &file.get(&format!("interop/{name}")), Exactness::Close) {
            panic!("tutorial forward after loading PyTorch's state_dict: {name}: {e}");
        }
    }
}

#[test]
fn saved_state_dict_matches_pytorch_names_shapes_and_values() {
    let _rng = rng_lock();
    tch::set_num_threads(1);
    let (_, file) = Fixture::load();
    let path = pytorch_state_dict_path();
    let pytorch = read(&path);
    let mut model = tutorial();
    load_state_dict(&mut model.vs, &path).expect("load");

    let dir = TempDir::new("state-dict");
    let saved = dir.path().join("model.safetensors");
    save_state_dict(&model.vs, &saved).expect("save_state_dict");
    let entries: Vec<String> = std::fs::read_dir(dir.path())
        .expect("temp dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["model.safetensors"], "save_state_dict left other files behind");

    // What PyTorch's load_file would see: the same keys, dtypes, shapes and bits.
    let back = read(&saved);
    assert_same_state("saved by Rust vs saved by PyTorch", &back, &pytorch);

    // And the round trip through Rust's own file reproduces the forward.
    let mut again = tutorial();
    load_state_dict(&mut again.vs, &saved).expect("load the Rust-saved state_dict");
    let (x, h0, target) = (file.get("interop/input"), file.get("interop/h0"), file.get("interop/target"));
    let (logits, _, _) = again.forward(&x, &h0, &target);
    check(&logits, &file.get("interop/logits"), Exactness::Close).unwrap_or_else(|e| panic!("round trip logits: {e}"));

    // Saving over an existing file replaces it.
    save_state_dict(&again.vs, &saved).expect("save over an existing file");
    assert_same_state("saved twice", &read(&saved), &pytorch);
}

/// Writes PyTorch's state_dict with `edit` applied to a temp file, loads it strictly into a
/// fresh tutorial model, checks that it fails, that nothing was copied, and returns the error.
fn failed_load(label: &str, edit: impl FnOnce(&mut BTreeMap<String, Tensor>)) -> String {
    let _rng = rng_lock();
    let mut tensors = read(&pytorch_state_dict_path());
    edit(&mut tensors);
    let dir = TempDir::new(label);
    let path = dir.path().join("edited.safetensors");
    let named: Vec<(&String, &Tensor)> = tensors.iter().collect();
    Tensor::write_safetensors(&named, &path).expect("write the edited state_dict");

    let mut model = tutorial();
    let before = model.snapshot();
    let message = expect_err(label, || load_state_dict(&mut model.vs, &path));
    assert_same_state(&format!("{label}: a failed load must copy nothing"), &model.snapshot(), &before);
    assert!(message.contains("edited.safetensors"), "{label}: the error should name the file:\n{message}");
    message
}

#[test]
fn strict_load_reports_a_missing_key() {
    let message = failed_load("missing", |t| {
        t.remove("rnn.bias_hh_l1");
    });
    assert_contains_all("missing key", &message, &["Missing key(s) in state_dict", "\"rnn.bias_hh_l1\""]);
    assert!(!message.contains("Unexpected"), "{message}");
}

#[test]
fn strict_load_reports_an_unexpected_key() {
    let message = failed_load("unexpected", |t| {
        t.insert("rnn.weight_ih_l2".into(), Tensor::zeros([8, 8], (Kind::Float, Device::Cpu)));
    });
    assert_contains_all("unexpected key", &message, &["Unexpected key(s) in state_dict", "\"rnn.weight_ih_l2\""]);
    assert!(!message.contains("Missing"), "{message}");
}

#[test]
fn strict_load_reports_a_shape_mismatch() {
    let message = failed_load("shape", |t| {
        t.insert("fc.weight".into(), Tensor::zeros([4, 9], (Kind::Float, Device::Cpu)));
    });
    assert_contains_all("shape mismatch", &message, &["size mismatch for fc.weight", "[4, 9]", "[4, 8]"]);
}

#[test]
fn strict_load_reports_every_problem_at_once() {
    let message = failed_load("all", |t| {
        t.remove("emb.weight");
        t.insert("extra.bias".into(), Tensor::zeros([3], (Kind::Float, Device::Cpu)));
        t.insert("rnn.weight_hh_l0".into(), Tensor::zeros([8, 7], (Kind::Float, Device::Cpu)));
    });
    assert_contains_all(
        "all problems",
        &message,
        &[
            "Missing key(s) in state_dict: \"emb.weight\"",
            "Unexpected key(s) in state_dict: \"extra.bias\"",
            "size mismatch for rnn.weight_hh_l0",
            "[8, 7]",
            "[8, 8]",
        ],
    );
}

#[test]
fn loading_a_missing_file_is_an_error_naming_it() {
    let _rng = rng_lock();
    let dir = TempDir::new("nofile");
    let path = dir.path().join("absent.safetensors");
    let mut model = tutorial();
    let message = expect_err("missing file", || load_state_dict(&mut model.vs, &path));
    assert_contains_all("missing file", &message, &["absent.safetensors"]);
}

/// The other direction, end to end: a state_dict saved by Rust loads into PyTorch's twin of the
/// tutorial model with `load_state_dict(strict=True)` (scripts/check_state_dict.py, run with
/// the PyTorch that scripts/setup.sh installed), and PyTorch's logits equal Rust's bit for bit.
#[test]
fn rust_state_dict_loads_strictly_into_pytorch() {
    let _rng = rng_lock();
    tch::set_num_threads(1);
    let Some(python) = common::live::python("rust_state_dict_loads_strictly_into_pytorch") else {
        return;
    };

    tch::manual_seed(31_337);
    let vs = VarStore::new(Device::Cpu);
    let net = tch_rnn::tutorials::hello_embedding::Model::new(&vs.root()).expect("model");
    let logits = tch::no_grad(|| net.forward(&Tensor::from_slice(&[1i64, 0, 2, 2, 3]).view([1, 5]))).expect("forward");
    let dir = TempDir::new("to-pytorch");
    let saved = dir.path().join("model.safetensors");
    save_state_dict(&vs, &saved).expect("save_state_dict");

    let printed = common::live::run_script(&python, "scripts/check_state_dict.py", &[saved.as_os_str()]);
    let from_pytorch: Vec<f64> = printed.lines().map(|line| line.parse().expect("a float per line")).collect();
    let from_rust: Vec<f64> =
        Vec::<f32>::try_from(logits.flatten(0, -1)).expect("f32 logits").into_iter().map(f64::from).collect();
    assert_eq!(from_pytorch, from_rust, "PyTorch's logits with the Rust weights");
}
