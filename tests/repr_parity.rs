//! Parity of `tch_rnn::repr` with torch's own printing: every case of
//! tests/fixtures/repr/ (exported by scripts/export_repr.py from torch 2.13.0) is rebuilt with
//! tch and must print byte for byte what Python's `repr(tensor)` printed.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::Deserialize;
use tch::{Kind, Tensor};
use tch_rnn::repr::{PrintOptions, Repr, Size, repr, repr_with, size};

const EXPORTER: &str = ".venv/bin/python scripts/export_repr.py";

/// tests/fixtures/repr/expected.json.
#[derive(Deserialize)]
struct Expected {
    cases: BTreeMap<String, Case>,
    sizes: BTreeMap<String, SizeCase>,
}

/// One printed tensor and how to rebuild it.
#[derive(Deserialize)]
struct Case {
    /// Python's `repr(tensor)`.
    repr: String,
    /// `None`: the tensor is the stored input `x`; otherwise the recipe that builds it.
    recipe: Option<String>,
    /// The `torch.set_printoptions` arguments the repr was made with; `None` for the defaults.
    print_options: Option<OptionOverrides>,
}

/// `torch.set_printoptions` arguments, each overriding torch's default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionOverrides {
    precision: Option<usize>,
    threshold: Option<usize>,
    edgeitems: Option<usize>,
    linewidth: Option<usize>,
    sci_mode: Option<bool>,
}

impl OptionOverrides {
    fn to_options(&self) -> PrintOptions {
        let default = PrintOptions::default();
        PrintOptions {
            precision: self.precision.unwrap_or(default.precision),
            threshold: self.threshold.unwrap_or(default.threshold),
            edgeitems: self.edgeitems.unwrap_or(default.edgeitems),
            linewidth: self.linewidth.unwrap_or(default.linewidth),
            sci_mode: self.sci_mode,
        }
    }
}

/// A shape and Python's `str(torch.Size(shape))`.
#[derive(Deserialize)]
struct SizeCase {
    shape: Vec<i64>,
    str: String,
}

fn fixture(name: &str) -> PathBuf {
    let path = common::fixtures_root().join("repr").join(name);
    assert!(path.exists(), "missing fixture {}: run `{EXPORTER}` first", path.display());
    path
}

fn load_expected() -> Expected {
    let path = fixture("expected.json");
    let text = std::fs::read_to_string(&path).expect("read expected.json");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}; rerun `{EXPORTER}`", path.display()))
}

fn load_inputs() -> HashMap<String, Tensor> {
    let path = fixture("cases.safetensors");
    Tensor::read_safetensors(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; rerun `{EXPORTER}`", path.display()))
        .into_iter()
        .collect()
}

/// The stored inputs of one case, handed out as fresh copies.
struct Inputs<'a> {
    case: &'a str,
    tensors: &'a HashMap<String, Tensor>,
}

impl Inputs<'_> {
    fn get(&self, input: &str) -> Tensor {
        let key = format!("{}.{input}", self.case);
        let tensor =
            self.tensors.get(&key).unwrap_or_else(|| panic!("cases.safetensors lacks {key}: rerun `{EXPORTER}`"));
        tensor.copy()
    }

    /// `leaf(t)` of the export script: a stored input made a leaf that requires grad.
    fn leaf(&self, input: &str) -> Tensor {
        self.get(input).set_requires_grad(true)
    }
}

/// Builds the printed tensor of a case: the stored `x`, or the recipe replayed with the tch
/// ops that match the Python source under "recipes" in expected.json.
fn rebuild(recipe: Option<&str>, inputs: &Inputs) -> Tensor {
    let Some(recipe) = recipe else {
        return inputs.get("x");
    };
    let x = || inputs.leaf("x");
    let y = || inputs.leaf("y");
    match recipe {
        "leaf_requires_grad" => x(),
        "tanh" => x().tanh(),
        "sigmoid" => x().sigmoid(),
        "relu" => x().relu(),
        "add" => x() + y(),
        "mul" => x() * y(),
        "stack" => Tensor::stack(&[x(), y()], 0),
        "cat" => Tensor::cat(&[x(), y()], 0),
        "transpose" => x().transpose(0, 1),
        "t" => x().tr(),
        "view" => x().view([-1]),
        "sum" => x().sum(None),
        "sum_dim" => x().sum_dim_intlist([1].as_slice(), false, None),
        "mean" => x().mean(None),
        "matmul" => x().matmul(&y()),
        "linear" => x().linear(&y(), Some(inputs.leaf("b"))),
        "squeeze" => x().squeeze_dim(0),
        "unsqueeze" => x().unsqueeze(1),
        "select" => x().get(0),
        "narrow" => x().narrow(0, 1, 2),
        "log_softmax" => x().log_softmax(1, None),
        "embedding" => Tensor::embedding(&x(), &inputs.get("idx"), -1, false, false),
        "index_select" => x().index_select(0, &inputs.get("idx")),
        "complex" => Tensor::complex(&inputs.get("x"), &inputs.get("y")),
        "to_float8_e4m3fn" => inputs.get("x").to_kind(Kind::Float8e4m3fn),
        "to_float8_e5m2" => inputs.get("x").to_kind(Kind::Float8e5m2),
        "to_sparse" => inputs.get("x").to_sparse(None, None::<&[i64]>, None),
        "transpose_no_grad" => inputs.get("x").transpose(0, 1),
        "expand_no_grad" => inputs.get("x").expand([3, 4], false),
        other => panic!("unknown recipe {other:?}: teach tests/repr_parity.rs to replay it"),
    }
}

/// Prints every selected case and returns a report of those that differ from torch.
fn mismatches(select: impl Fn(&Case) -> bool) -> (usize, Vec<String>) {
    let expected = load_expected();
    let tensors = load_inputs();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, case) in expected.cases.iter().filter(|(_, case)| select(case)) {
        let inputs = Inputs { case: name, tensors: &tensors };
        let tensor = rebuild(case.recipe.as_deref(), &inputs);
        let actual = match &case.print_options {
            Some(overrides) => repr_with(&tensor, &overrides.to_options()),
            None => repr(&tensor),
        };
        checked += 1;
        if actual != case.repr {
            failures.push(format!("--- {name}\ntorch:\n{}\ntch_rnn:\n{actual}\n", case.repr));
        }
    }
    (checked, failures)
}

fn assert_parity(select: impl Fn(&Case) -> bool) {
    let (checked, failures) = mismatches(select);
    assert!(checked > 0, "no cases selected: rerun `{EXPORTER}`");
    assert!(
        failures.is_empty(),
        "{} of {checked} cases print differently from torch:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{checked} cases print exactly like torch");
}

#[test]
fn repr_matches_torch_with_default_print_options() {
    assert_parity(|case| case.print_options.is_none());
}

#[test]
fn repr_with_matches_torch_set_printoptions() {
    assert_parity(|case| case.print_options.is_some());
}

#[test]
fn repr_display_adapter_prints_the_repr() {
    let expected = load_expected();
    let tensors = load_inputs();
    let case = &expected.cases["float_2d"];
    let tensor = rebuild(None, &Inputs { case: "float_2d", tensors: &tensors });
    assert_eq!(format!("{}", Repr(&tensor)), case.repr);
}

#[test]
fn size_matches_torch_size() {
    let expected = load_expected();
    assert!(!expected.sizes.is_empty(), "no sizes: rerun `{EXPORTER}`");
    for (name, case) in &expected.sizes {
        assert_eq!(Size(case.shape.clone()).to_string(), case.str, "size {name}");
        let tensor = Tensor::zeros(case.shape.as_slice(), tch::kind::FLOAT_CPU);
        assert_eq!(size(&tensor).to_string(), case.str, "size of tensor {name}");
    }
}
