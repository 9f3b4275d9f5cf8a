//! state_dict interop with PyTorch through safetensors files, for the tutorial model
//! (Embedding, RNN, Linear) and a model with LSTM (projected, bidirectional, two layers) and
//! GRU layers:
//! - a state_dict that PyTorch wrote with `safetensors.torch.save_file` (fixtures from
//!   scripts/export_reference.py) loads strictly and reproduces PyTorch's forward;
//! - `save_state_dict` writes the same names, shapes, dtypes and values back, and PyTorch loads
//!   a Rust-saved file strictly and computes the same logits (scripts/check_state_dict.py);
//! - strict loading reports missing keys, unexpected keys and shape mismatches, and copies
//!   nothing when it fails.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::fixtures::InteropFixture;
use common::{
    Exactness, Fixture, Module, TempDir, TensorFile, assert_contains_all, build_model, check, compare_bits, expect_err,
    fixture_path, rng_lock,
};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{CrossEntropyLoss, RecurrentState, load_state_dict, save_state_dict};

/// An interop model in a fresh VarStore.
struct Model {
    name: String,
    vs: VarStore,
    modules: Vec<Module>,
}

impl Model {
    /// Interop model `name` of `fixture`, built after a seed unrelated to the fixture's, so that
    /// its parameters differ from PyTorch's until loaded.
    fn new(fixture: &Fixture, name: &str) -> Model {
        tch::manual_seed(987_654);
        let vs = VarStore::new(Device::Cpu);
        let modules = build_model(&vs, &interop(fixture, name).model).expect("build the interop model");
        Model { name: name.to_string(), vs, modules }
    }

    /// The model's pipeline in eval mode: the logits and the final states, by name, for input
    /// `x` and the initial `states` (the fixture's names: h0, c0, gru_h0).
    fn forward(&mut self, x: &Tensor, states: &BTreeMap<String, Tensor>) -> (Tensor, BTreeMap<&'static str, Tensor>) {
        let state = |name: &str| states.get(name);
        match self.modules.as_mut_slice() {
            [Module::Embedding(emb), Module::Recurrent(rnn), Module::Linear(fc)] => {
                rnn.eval();
                let h0 = state("h0").map(|h| RecurrentState::Hidden(h.shallow_clone()));
                let (out, h_n) = rnn.forward(&emb.forward(x).expect("emb"), h0.as_ref()).expect("rnn");
                (fc.forward(&out).expect("fc"), BTreeMap::from([("h_n", h_n.h().shallow_clone())]))
            }
            [Module::Embedding(emb), Module::Recurrent(lstm), Module::Recurrent(gru), Module::Linear(fc)] => {
                lstm.eval();
                gru.eval();
                let hx = state("h0")
                    .zip(state("c0"))
                    .map(|(h, c)| RecurrentState::HiddenAndCell(h.shallow_clone(), c.shallow_clone()));
                let (out, lstm_n) = lstm.forward(&emb.forward(x).expect("emb"), hx.as_ref()).expect("lstm");
                let RecurrentState::HiddenAndCell(h_n, c_n) = lstm_n else {
                    panic!("{}: the LSTM returned no (h, c)", self.name)
                };
                let gru_h0 = state("gru_h0").map(|h| RecurrentState::Hidden(h.shallow_clone()));
                let (out, gru_h_n) = gru.forward(&out, gru_h0.as_ref()).expect("gru");
                let gru_h_n = gru_h_n.h().shallow_clone();
                (fc.forward(&out).expect("fc"), BTreeMap::from([("h_n", h_n), ("c_n", c_n), ("gru_h_n", gru_h_n)]))
            }
            other => panic!("{}: no pipeline for modules {other:?}", self.name),
        }
    }

    /// Every variable's value, by name.
    fn snapshot(&self) -> BTreeMap<String, Tensor> {
        self.vs.variables().into_iter().map(|(n, t)| (n, t.detach().copy())).collect()
    }
}

fn interop<'a>(fixture: &'a Fixture, name: &str) -> &'a InteropFixture {
    fixture.interop.get(name).unwrap_or_else(|| panic!("no interop model '{name}'; {}", common::REGENERATE))
}

/// The interop models of the fixture: the tutorial's and the one with LSTM and GRU layers.
fn model_names(fixture: &Fixture) -> Vec<String> {
    let names: Vec<String> = fixture.interop.keys().cloned().collect();
    assert_eq!(names, ["gated", "tutorial"], "unexpected interop models; {}", common::REGENERATE);
    names
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

/// Runs `model` on the fixture's inputs and holds logits, final states and loss against
/// PyTorch's (within assert_close's tolerance: the fixture may come from another CPU).
fn check_forward(model: &mut Model, (fixture, file): (&Fixture, &TensorFile), what: &str) {
    let name = model.name.clone();
    let spec = interop(fixture, &name);
    let get = |n: &str| file.get(&format!("interop/{name}/{n}"));
    let states: BTreeMap<String, Tensor> = spec.states.iter().map(|n| (n.clone(), get(n))).collect();
    let (logits, finals) = model.forward(&get("input"), &states);
    let classes = *logits.size().last().expect("logits have a class dim");
    let loss = CrossEntropyLoss::new(Default::default())
        .expect("loss")
        .forward(&logits.reshape([-1, classes]), &get("target").reshape([-1]))
        .expect("cross entropy");
    let mut expected_finals = spec.finals.clone();
    expected_finals.sort();
    assert_eq!(finals.keys().copied().collect::<Vec<_>>(), expected_finals, "{name}: final states");
    let mut compared = vec![("logits", logits), ("loss", loss)];
    compared.extend(finals);
    for (name, actual) in compared {
        if let Err(e) = check(&actual, &get(name), Exactness::Close) {
            panic!("{}: {what}: {name}: {e}", model.name);
        }
    }
}

#[test]
fn pytorch_state_dicts_load_strictly_and_reproduce_forward() {
    let _rng = rng_lock();
    tch::set_num_threads(1);
    let (fixture, file) = Fixture::load();
    for name in model_names(&fixture) {
        let spec = interop(&fixture, &name);
        let path = fixture_path(&spec.state_dict_file);
        let pytorch = read(&path);
        let keys: Vec<String> = pytorch.keys().cloned().collect();
        assert_eq!(keys, spec.state_dict_keys, "{name}: the state_dict file and cases.json disagree");

        let mut model = Model::new(&fixture, &name);
        let (first, _) = pytorch.iter().next().expect("a parameter");
        assert!(
            compare_bits(&model.vs.variables()[first], &pytorch[first]).is_err(),
            "{name}: the model already held PyTorch's weights before loading"
        );
        load_state_dict(&mut model.vs, &path).expect("strict load of PyTorch's state_dict");
        assert_same_state(&format!("{name}: after load"), &model.snapshot(), &pytorch);
        for (param, var) in model.vs.variables() {
            assert_eq!(var.kind(), Kind::Float, "{name}: {param}");
            assert!(var.requires_grad(), "{name}: {param}: loading must keep parameters trainable");
        }
        check_forward(&mut model, (&fixture, &file), "forward after loading PyTorch's state_dict");
    }
}

#[test]
fn saved_state_dicts_match_pytorch_names_shapes_and_values() {
    let _rng = rng_lock();
    tch::set_num_threads(1);
    let (fixture, file) = Fixture::load();
    for name in model_names(&fixture) {
        let path = fixture_path(&interop(&fixture, &name).state_dict_file);
        let pytorch = read(&path);
        let mut model = Model::new(&fixture, &name);
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
        assert_same_state(&format!("{name}: saved by Rust vs saved by PyTorch"), &read(&saved), &pytorch);

        // And the round trip through Rust's own file reproduces the forward.
        let mut again = Model::new(&fixture, &name);
        load_state_dict(&mut again.vs, &saved).expect("load the Rust-saved state_dict");
        check_forward(&mut again, (&fixture, &file), "forward after a round trip");

        // Saving over an existing file replaces it.
        save_state_dict(&again.vs, &saved).expect("save over an existing file");
        assert_same_state(&format!("{name}: saved twice"), &read(&saved), &pytorch);
    }
}

/// Writes the tutorial's PyTorch state_dict with `edit` applied to a temp file, loads it
/// strictly into a fresh tutorial model, checks that it fails, that nothing was copied, and
/// returns the error.
fn failed_load(label: &str, edit: impl FnOnce(&mut BTreeMap<String, Tensor>)) -> String {
    let _rng = rng_lock();
    let (fixture, _) = Fixture::load();
    let mut tensors = read(&fixture_path(&interop(&fixture, "tutorial").state_dict_file));
    edit(&mut tensors);
    let dir = TempDir::new(label);
    let path = dir.path().join("edited.safetensors");
    let named: Vec<(&String, &Tensor)> = tensors.iter().collect();
    Tensor::write_safetensors(&named, &path).expect("write the edited state_dict");

    let mut model = Model::new(&fixture, "tutorial");
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
    let (fixture, _) = Fixture::load();
    let mut model = Model::new(&fixture, "tutorial");
    let message = expect_err("missing file", || load_state_dict(&mut model.vs, &path));
    assert_contains_all("missing file", &message, &["absent.safetensors"]);
}

/// The other direction, end to end: a state_dict saved by Rust loads into the PyTorch model with
/// `load_state_dict(strict=True)` (scripts/check_state_dict.py, run with the PyTorch that
/// scripts/setup.sh installed), and PyTorch's logits on the script's fixed input equal Rust's
/// bit for bit.
#[test]
fn rust_state_dicts_load_strictly_into_pytorch() {
    let _rng = rng_lock();
    tch::set_num_threads(1);
    let Some(python) = common::live::python("rust_state_dicts_load_strictly_into_pytorch") else {
        return;
    };
    let (fixture, _) = Fixture::load();
    for name in model_names(&fixture) {
        let mut model = Model::new(&fixture, &name);
        let vocabulary = match &model.modules[0] {
            Module::Embedding(emb) => emb.weight.size()[0],
            other => panic!("{name}: the model starts with an embedding, got {other:?}"),
        };
        // The script's input: (2, 5) indices counting up through the vocabulary, zero states.
        let x = Tensor::arange(10, (Kind::Int64, Device::Cpu)).remainder(vocabulary).view([2, 5]);
        let (logits, _) = tch::no_grad(|| model.forward(&x, &BTreeMap::new()));
        let dir = TempDir::new("to-pytorch");
        let saved = dir.path().join("model.safetensors");
        save_state_dict(&model.vs, &saved).expect("save_state_dict");

        let printed =
            common::live::run_script(&python, "scripts/check_state_dict.py", &[name.as_ref(), saved.as_os_str()]);
        let from_pytorch: Vec<f64> = printed.lines().map(|line| line.parse().expect("a float per line")).collect();
        let from_rust: Vec<f64> =
            Vec::<f32>::try_from(logits.flatten(0, -1)).expect("f32 logits").into_iter().map(f64::from).collect();
        assert_eq!(from_pytorch, from_rust, "{name}: PyTorch's logits with the Rust weights");
    }
}
