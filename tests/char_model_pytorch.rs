//! Character models go between Rust and PyTorch (scripts/pytorch/char_model.py, the same model,
//! training loop and checkpoint layout):
//! - across machines, against the committed fixtures of scripts/export_char_model.py (within
//!   assert_close's tolerance): Rust opens a PyTorch-trained checkpoint and computes PyTorch's
//!   logits, and training one and three steps from the same seed on the same text reaches
//!   PyTorch's parameters and Adam state;
//! - live, against this machine's PyTorch, bit for bit: the same training steps on both sides,
//!   a Rust-trained checkpoint's logits and samples in PyTorch, a PyTorch-trained checkpoint's
//!   logits in Rust.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use common::{Exactness, Stats, TempDir, check, fixtures_root, live, report, rng_lock};
use tch::{Device, Tensor};
use tch_rnn::charlm::{Checkpoint, Quiet, SampleOptions, TrainJob, all_fields, sample, train};
use tch_rnn::options::Overrides;

/// The fixture's probe input (scripts/export_char_model.py's PROBE).
const PROBE: &str = "ROMEO:\nBut, soft! what light";

/// The options of scripts/export_char_model.py's TINY, training on `text` into `out` (on one
/// thread, as the exporter).
fn tiny(text: &Path, out: &Path, steps: i64) -> TrainJob {
    tch::set_num_threads(1);
    let given = Overrides::default()
        .set("text", text)
        .set("layers", 2)
        .set("hidden", 16)
        .set("embedding", 8)
        .set("seq_len", 16)
        .set("batch", 4)
        .set("seed", 0)
        .set("steps", steps)
        .set("eval_every", 3)
        .set("sample_every", 0);
    TrainJob::new(out.to_path_buf()).given(given)
}

/// The `(1, len, vocab)` logits of `checkpoint` for `input` from a zero state.
fn logits(checkpoint: &Checkpoint, input: &str) -> Tensor {
    let (_vs, mut model) = checkpoint.load_model(Device::Cpu).expect("model");
    model.train(false);
    let x = Tensor::from_slice(&checkpoint.vocab.encode(input).expect("encode")).view([1, -1]);
    tch::no_grad(|| model.forward(&x, None).expect("forward").0)
}

fn tensors(path: &Path) -> BTreeMap<String, Tensor> {
    Tensor::read_safetensors(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).into_iter().collect()
}

/// Holds the model and optimizer tensors of checkpoint folder `actual` against `expected`'s.
fn compare_checkpoints(what: &str, actual: &Path, expected: &Path, exactness: Exactness, stats: &mut Stats) {
    for file in ["model.safetensors", "optimizer.safetensors"] {
        let (a, e) = (tensors(&actual.join(file)), tensors(&expected.join(file)));
        assert_eq!(a.keys().collect::<Vec<_>>(), e.keys().collect::<Vec<_>>(), "{what}: {file}: names");
        for (name, tensor) in &e {
            match check(&a[name], tensor, exactness) {
                Ok(c) => stats.add(&format!("{what}: {name}"), &c),
                Err(err) => panic!("{what}: {file}: {name}: {err}"),
            }
        }
    }
}

#[test]
fn rust_reads_a_pytorch_checkpoint_and_computes_its_logits() {
    let _rng = rng_lock();
    tch::set_num_threads(1);
    let dir = fixtures_root().join("char_model");
    let checkpoint = Checkpoint::open(&dir.join("three_steps")).expect("PyTorch's checkpoint");
    assert_eq!(checkpoint.state.step, 3);
    let expected = tensors(&dir.join("logits.safetensors")).remove("logits").expect("logits");
    let c = check(&logits(&checkpoint, PROBE), &expected, Exactness::Close).expect("PyTorch's logits");
    let mut stats = Stats::default();
    stats.add("logits", &c);
    report(&stats.summary("char_model logits of a PyTorch checkpoint (fixture)"));
}

#[test]
fn training_steps_reach_pytorchs_parameters() {
    let _rng = rng_lock();
    let dir = fixtures_root().join("char_model");
    let work = TempDir::new("char-steps");
    let mut stats = Stats::default();
    for (name, steps) in [("one_step", 1), ("three_steps", 3)] {
        let out = work.path().join(name);
        train(&tiny(&dir.join("tiny.txt"), &out, steps), &mut Quiet, &AtomicBool::new(false)).expect("train");
        compare_checkpoints(name, &out.join("latest"), &dir.join(name), Exactness::Close, &mut stats);
    }
    report(&stats.summary("char_model training steps (fixture)"));
}

/// Runs scripts/pytorch/char_model.py with `args`; returns what it printed.
fn char_model(python: &Path, args: &[&OsStr]) -> String {
    live::run_script(python, "scripts/pytorch/char_model.py", args)
}

fn floats(printed: &str) -> Vec<f64> {
    printed.lines().map(|line| line.parse().expect("a float per line")).collect()
}

#[test]
fn rust_and_pytorch_exchange_models_bit_for_bit() {
    let _rng = rng_lock();
    tch::set_num_threads(1);
    let Some(python) = live::python("char_model_pytorch") else {
        return;
    };
    let work = TempDir::new("char-live");
    let text = fixtures_root().join("char_model/tiny.txt");
    let mut stats = Stats::default();

    // The same steps on both sides: the same bits.
    for steps in [1i64, 3] {
        let (rust, pytorch) = (work.path().join(format!("rust-{steps}")), work.path().join(format!("pytorch-{steps}")));
        train(&tiny(&text, &rust, steps), &mut Quiet, &AtomicBool::new(false)).expect("train in Rust");
        let steps_arg = steps.to_string();
        let args = [
            "train",
            "--text",
            text.to_str().unwrap(),
            "--out",
            pytorch.to_str().unwrap(),
            "--steps",
            &steps_arg,
            "--layers",
            "2",
            "--hidden",
            "16",
            "--embedding",
            "8",
            "--seq-len",
            "16",
            "--batch",
            "4",
            "--eval-every",
            "3",
            "--threads",
            "1",
        ];
        char_model(&python, &args.map(OsStr::new));
        let what = format!("{steps} step(s)");
        compare_checkpoints(&what, &rust.join("latest"), &pytorch.join("latest"), Exactness::Bits, &mut stats);
        let rng = |run: &Path| std::fs::read(run.join("latest/rng.safetensors")).expect("rng");
        assert_eq!(rng(&rust), rng(&pytorch), "{what}: the generators' states");
    }

    // A Rust-trained checkpoint in PyTorch, and a PyTorch-trained one in Rust: the same logits.
    for (who, run) in [("Rust", "rust-3"), ("PyTorch", "pytorch-3")] {
        let dir = work.path().join(run);
        let checkpoint = Checkpoint::open(&dir).expect("checkpoint");
        let ours: Vec<f64> = Vec::<f32>::try_from(logits(&checkpoint, PROBE).flatten(0, -1))
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect();
        let args = ["logits", "--checkpoint", dir.to_str().unwrap(), "--input", PROBE].map(OsStr::new);
        assert_eq!(floats(&char_model(&python, &args)), ours, "logits of the {who}-trained checkpoint");
    }

    // And the same samples from the same seed, with top-k and with top-p, the prime longer than
    // the run's window (read in windows, the state carried).
    let dir = work.path().join("rust-3");
    let checkpoint = Checkpoint::open(&dir).expect("checkpoint");
    let (_vs, mut model) = checkpoint.load_model(Device::Cpu).expect("model");
    model.train(false);
    let prime = "JULIET:\nO Romeo, Romeo! wherefore art thou Romeo?\n";
    let window = Some(checkpoint.config.data.seq_len);
    assert!(prime.chars().count() as i64 > checkpoint.config.data.seq_len, "a prime longer than the window");
    for (flag, value) in [("--top-k", "8"), ("--top-p", "0.9")] {
        tch::manual_seed(11);
        let (top_k, top_p) = if flag == "--top-k" { (Some(8), None) } else { (None, Some(0.9)) };
        let options = SampleOptions { prime: prime.into(), length: 60, temperature: 0.9, top_k, top_p, window };
        let ours = sample(&model, &checkpoint.vocab, &options, Device::Cpu).expect("sample");
        let args = [
            "sample",
            "--checkpoint",
            dir.to_str().unwrap(),
            "--prime",
            prime,
            "--length",
            "60",
            "--temperature",
            "0.9",
            flag,
            value,
            "--seed",
            "11",
        ]
        .map(OsStr::new);
        assert_eq!(char_model(&python, &args), format!("{prime}{ours}\n"), "samples from seed 11 with {flag}");
    }
    report(&stats.summary("char_model live: Rust and PyTorch training, checkpoints, logits and samples"));
}

/// Recipes of `tch-rnn train` and `char_model.py` (the batching schemes, a held-out text and
/// patience, every optimizer and schedule), each as options given to both (`field`, value as
/// typed on a command line; `VAL` stands for a held-out text's path).
const OPTIMIZATIONS: [(&str, &[(&str, &str)]); 9] = [
    ("streams", &[("batching", "streams")]),
    (
        "streams, sgd, a held-out text, patience",
        &[("batching", "streams"), ("optimizer", "sgd"), ("lr", "0.5"), ("val_text", "VAL"), ("patience", "2")],
    ),
    ("gru, random windows, a held-out text", &[("cell", "gru"), ("val_text", "VAL")]),
    ("adamw", &[("optimizer", "adamw")]),
    (
        "sgd nesterov",
        &[("optimizer", "sgd"), ("lr", "0.1"), ("momentum", "0.9"), ("nesterov", "true"), ("weight_decay", "0.001")],
    ),
    (
        "sgd dampening, step schedule",
        &[
            ("optimizer", "sgd"),
            ("lr", "0.1"),
            ("momentum", "0.5"),
            ("dampening", "0.1"),
            ("lr_schedule", "step"),
            ("lr_step_size", "1"),
        ],
    ),
    ("adam, exponential schedule", &[("lr_schedule", "exponential"), ("lr_gamma", "0.7"), ("beta1", "0.8")]),
    ("adamw, cosine schedule", &[("optimizer", "adamw"), ("lr_schedule", "cosine"), ("lr_eta_min", "0.0001")]),
    ("adam, plateau schedule", &[("lr_schedule", "plateau"), ("lr_patience", "0"), ("weight_decay", "0.01")]),
];

/// JSON values equal, numbers by value (PyTorch writes `0` where Rust writes `0.0`).
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::{Array, Object};
    match (a, b) {
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

#[test]
fn every_optimizer_and_schedule_trains_as_in_pytorch() {
    let _rng = rng_lock();
    let Some(python) = live::python("char_model_pytorch") else {
        return;
    };
    let work = TempDir::new("char-optim");
    let text = fixtures_root().join("char_model/tiny.txt");
    let val = work.path().join("val.txt");
    std::fs::write(&val, &std::fs::read_to_string(&text).expect("text")[5000..7000]).expect("write val.txt");
    let val = val.to_str().expect("a UTF-8 path");
    let mut stats = Stats::default();
    for (i, (what, options)) in OPTIMIZATIONS.iter().enumerate() {
        let options: Vec<(&str, &str)> = options.iter().map(|&(f, v)| (f, if v == "VAL" { val } else { v })).collect();
        let (rust, pytorch) = (work.path().join(format!("rust-{i}")), work.path().join(format!("pytorch-{i}")));
        // Every step evaluated, so that the schedules step every step.
        let mut given = tiny(&text, &rust, 4).given.set("eval_every", 1);
        for (field, value) in &options {
            let domain = all_fields().find(|f| f.name == *field).expect("a field").domain;
            given.insert(field, domain.parse(value).expect("a valid value"));
        }
        train(&TrainJob::new(rust.clone()).given(given), &mut Quiet, &AtomicBool::new(false)).expect("train in Rust");
        let mut args: Vec<String> =
            ["train", "--text", text.to_str().unwrap(), "--out", pytorch.to_str().unwrap()].map(String::from).to_vec();
        let tiny_args = [("steps", "4"), ("layers", "2"), ("hidden", "16"), ("embedding", "8"), ("seq_len", "16")];
        for (field, value) in
            tiny_args.iter().chain(&[("batch", "4"), ("eval_every", "1"), ("threads", "1")]).chain(&options)
        {
            args.extend([format!("--{}", field.replace('_', "-")), value.to_string()]);
        }
        char_model(&python, &args.iter().map(OsStr::new).collect::<Vec<_>>());
        compare_checkpoints(what, &rust.join("latest"), &pytorch.join("latest"), Exactness::Bits, &mut stats);
        for file in ["optimizer.json", "scheduler.json", "state.json", "carry.safetensors"] {
            let read = |run: &Path| std::fs::read(run.join("latest").join(file)).ok();
            let (ours, theirs) = (read(&rust), read(&pytorch));
            assert_eq!(ours.is_some(), theirs.is_some(), "{what}: {file} on one side only");
            if let (Some(ours), Some(theirs)) = (ours, theirs) {
                if file == "carry.safetensors" {
                    assert!(ours == theirs, "{what}: the carried state differs");
                    continue;
                }
                let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).expect("JSON");
                let (mut ours, mut theirs) = (parse(&ours), parse(&theirs));
                for json in [&mut ours, &mut theirs] {
                    // Checksums of files that hold each side's own paths and floats' spelling.
                    json.as_object_mut().map(|o| (o.remove("sha256"), o.remove("self_sha256")));
                }
                assert!(same_json(&ours, &theirs), "{what}: {file} differs: {ours} vs {theirs}");
            }
        }
        // Each loads the other's: the Rust run resumed from PyTorch's checkpoint continues.
        let continued = work.path().join(format!("continued-{i}"));
        copy_run(&pytorch, &continued);
        let job =
            TrainJob { resume: true, ..TrainJob::new(continued.clone()).given(Overrides::default().set("steps", 5)) };
        train(&job, &mut Quiet, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{what}: resume PyTorch's run: {e:#}"));
    }
    report(&stats.summary("char_model live: every optimizer and schedule, Rust and PyTorch"));
}

/// A copy of a run's folder (its `latest` link and checkpoints).
fn copy_run(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp").arg("-a").arg(from).arg(to).status().expect("cp");
    assert!(status.success(), "cp -a {} {}", from.display(), to.display());
}
