//! MultiheadAttention's state_dict through safetensors files, both ways, for a module with one
//! packed `in_proj_weight` and one with separate q/k/v weights, `bias_k` and `bias_v`
//! (tests/fixtures/attention/, from scripts/export_reference.py):
//! - PyTorch's state_dict (`safetensors.torch.save_file`) loads strictly and reproduces
//!   PyTorch's output and weights;
//! - `save_state_dict` writes PyTorch's names, shapes and bits back, and PyTorch loads the
//!   Rust-saved file strictly (`export_reference.py --attention-state-dict`) and computes the
//!   same output bit for bit (on inputs every CPU computes exactly);
//! - a file of the other layout is refused with the missing and unexpected keys, copying nothing.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::attention_grid::{AttentionFixture, attention_dir};
use common::{Exactness, Stats, TempDir, assert_contains_all, check, compare_bits, expect_err, report, rng_lock};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{AttentionOptions, MultiheadAttention, load_state_dict, save_state_dict};

const MODELS: [&str; 2] = ["packed", "separate"];

fn read(path: &Path) -> BTreeMap<String, Tensor> {
    Tensor::read_safetensors(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .into_iter()
        .collect()
}

/// Interop model `name`, built after a seed unrelated to PyTorch's, in eval mode.
fn model(fixture: &AttentionFixture, name: &str) -> (VarStore, MultiheadAttention) {
    let spec = fixture.interop.get(name).unwrap_or_else(|| panic!("no attention interop model {name}"));
    tch::manual_seed(424_242);
    let vs = VarStore::new(Device::Cpu);
    let mut attn = MultiheadAttention::new(vs.root(), spec.module.config()).expect("build");
    attn.eval();
    (vs, attn)
}

fn state_dict_path(fixture: &AttentionFixture, name: &str) -> std::path::PathBuf {
    let path = attention_dir().join(&fixture.interop[name].state_dict_file);
    assert!(
        path.is_file(),
        "missing fixture {}: regenerate with scripts/export_reference.py --only attention",
        path.display()
    );
    path
}

fn snapshot(vs: &VarStore) -> BTreeMap<String, Tensor> {
    vs.variables().into_iter().map(|(n, t)| (n, t.detach().copy())).collect()
}

fn assert_same_state(what: &str, actual: &BTreeMap<String, Tensor>, expected: &BTreeMap<String, Tensor>) {
    assert_eq!(actual.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "{what}: names differ");
    for (name, t) in expected {
        if let Err(e) = compare_bits(&actual[name], t) {
            panic!("{what}: {name}: {e}");
        }
    }
}

/// `((arange(n) % 7 - 3) / 4).view(shape)` in float32, as scripts/export_reference.py's
/// `counting_input`: exact on every CPU.
fn counting_input(shape: &[i64]) -> Tensor {
    let n: i64 = shape.iter().product();
    ((Tensor::arange(n, (Kind::Int64, Device::Cpu)).remainder(7) - 3).to_kind(Kind::Float) / 4.0).view(shape)
}

#[test]
fn pytorch_state_dicts_load_strictly_and_reproduce_forward() {
    let _rng = rng_lock();
    tch::set_num_threads(1);
    let (fixture, file) = AttentionFixture::load();
    assert_eq!(fixture.interop.keys().map(String::as_str).collect::<Vec<_>>(), MODELS);
    let mut stats = Stats::default();
    for name in MODELS {
        let path = state_dict_path(&fixture, name);
        let pytorch = read(&path);
        assert_eq!(pytorch.keys().cloned().collect::<Vec<_>>(), fixture.interop[name].state_dict_keys, "{name}");
        let (mut vs, attn) = model(&fixture, name);
        load_state_dict(&mut vs, &path).expect("strict load of PyTorch's state_dict");
        assert_same_state(&format!("{name}: after load"), &snapshot(&vs), &pytorch);
        let get = |n: &str| file.get(&format!("interop/{name}/{n}"));
        let (output, weights) =
            attn.forward(&get("query"), &get("key"), &get("value"), &AttentionOptions::default()).expect("forward");
        for (what, actual) in [("output", output), ("weights", weights.expect("weights"))] {
            match check(&actual, &get(what), Exactness::Close) {
                Ok(c) => stats.add(&format!("{name}: {what}"), &c),
                Err(e) => panic!("{name}: {what} after loading PyTorch's state_dict: {e}"),
            }
        }
    }
    report(&stats.summary("attention_state_dict forward after loading PyTorch's state_dicts (fixtures)"));
}

#[test]
fn saved_state_dicts_are_pytorchs_and_pytorch_loads_them() {
    let _rng = rng_lock();
    tch::set_num_threads(1);
    let (fixture, file) = AttentionFixture::load();
    let python = common::live::python("saved_state_dicts_are_pytorchs_and_pytorch_loads_them");
    for name in MODELS {
        let pytorch = read(&state_dict_path(&fixture, name));
        // A Rust model of its own draws, saved: PyTorch's names and shapes, float32.
        let (vs, attn) = model(&fixture, name);
        let dir = TempDir::new("attention-state-dict");
        let saved = dir.path().join("attn.safetensors");
        save_state_dict(&vs, &saved).expect("save_state_dict");
        let ours = read(&saved);
        let shapes =
            |m: &BTreeMap<String, Tensor>| m.iter().map(|(n, t)| (n.clone(), t.size(), t.kind())).collect::<Vec<_>>();
        assert_eq!(shapes(&ours), shapes(&pytorch), "{name}: names, shapes and dtypes of the saved state_dict");

        // PyTorch loads it strictly and computes the same output, bit for bit, on inputs that
        // every CPU computes exactly (the script's `counting_input`, of the fixture's shapes).
        let Some(python) = &python else { continue };
        let input = |n: &str| counting_input(&file.get(&format!("interop/{name}/{n}")).size());
        let (output, _) = tch::no_grad(|| {
            attn.forward(&input("query"), &input("key"), &input("value"), &AttentionOptions::default())
        })
        .expect("forward");
        let printed = common::live::run_script(
            python,
            "scripts/export_reference.py",
            &["--attention-state-dict".as_ref(), name.as_ref(), saved.as_os_str()],
        );
        let from_pytorch: Vec<f64> = printed.lines().map(|l| l.parse().expect("a float per line")).collect();
        let from_rust: Vec<f64> =
            Vec::<f32>::try_from(output.flatten(0, -1)).expect("f32 output").into_iter().map(f64::from).collect();
        assert_eq!(from_pytorch, from_rust, "{name}: PyTorch's output with the Rust-saved weights");
    }
}

#[test]
fn the_other_layouts_state_dict_is_refused_and_copies_nothing() {
    let _rng = rng_lock();
    let (fixture, _) = AttentionFixture::load();
    let (mut vs, _attn) = model(&fixture, "packed");
    let before = snapshot(&vs);
    let path = state_dict_path(&fixture, "separate");
    let message = expect_err("separate into packed", || load_state_dict(&mut vs, &path));
    assert_contains_all(
        "layouts",
        &message,
        &[
            "Missing key(s) in state_dict: \"in_proj_weight\"",
            "Unexpected key(s) in state_dict:",
            "\"bias_k\"",
            "\"q_proj_weight\"",
            "size mismatch for in_proj_bias",
        ],
    );
    assert_same_state("a failed load copies nothing", &snapshot(&vs), &before);
}
