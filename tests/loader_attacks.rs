//! Every loader against files nobody should trust: a seeded corpus of corrupted state_dict
//! files, checkpoint folders, config and vocabulary JSON (truncations, bit flips, wrong dtypes,
//! wrong and huge shapes, lying offsets, missing and extra keys), and things that are not
//! files at all (a FIFO, a folder, /dev/zero, a symlink loop). Each load must fail with one
//! line, fast, and leave the model and the optimizer as they were; or, where the format has no
//! checksum (a bit flipped in a plain state_dict's data), load what the file says. A
//! checkpoint carries checksums of every file, itself included: there, every flip is caught.
//!
//! The same loaders have cargo-fuzz targets (fuzz/, see the README). The corpus size is
//! printed on stderr (`loader attacks: ...`).

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use common::{LIBTORCH_TEXT, TempDir, rng_lock};
use sha2::{Digest, Sha256};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::charlm::{Checkpoint, UNSEALED, parse_config, parse_state, parse_vocab};
use tch_rnn::nn::{Lstm, LstmConfig, load_state_dict, save_state_dict};
use tch_rnn::optim::Adam;

/// xorshift64*: the corpus is the same on every run and every machine.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Runs `f` on another thread and fails the test if it takes more than 20 s (a hang).
fn within_time<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(f());
    });
    receiver.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| panic!("{what}: no answer after 20 s (a hang)"))
}

/// A variant of a file: how it was made, its bytes, and whether the format can tell.
struct Variant {
    what: String,
    bytes: Vec<u8>,
    /// A flipped bit in tensor data: a plain safetensors file has no checksum to catch it.
    undetectable: bool,
}

/// Truncations at every interesting place and at drawn ones, and single bit flips at drawn
/// places (and in every byte of the length field), of `bytes`; `data_start` is where tensor
/// data begins (flips after it cannot be detected without a checksum; `usize::MAX` if all can).
fn mangled(bytes: &[u8], data_start: usize, draw: &mut Draw, flips: usize) -> Vec<Variant> {
    let mut cuts = vec![0, 1, 7, 8, 9, bytes.len() / 2, bytes.len() - 1];
    if data_start < bytes.len() {
        cuts.extend([data_start - 1, data_start, data_start + 1]);
    }
    cuts.extend((0..12).map(|_| draw.below(bytes.len())));
    let mut variants: Vec<Variant> = cuts
        .into_iter()
        .map(|at| Variant {
            what: format!("truncated to {at} bytes"),
            bytes: bytes[..at].to_vec(),
            undetectable: false,
        })
        .collect();
    let mut places: Vec<usize> = (0..8.min(bytes.len())).collect();
    places.extend((0..flips).map(|_| draw.below(bytes.len())));
    for at in places {
        let bit = draw.below(8);
        let mut flipped = bytes.to_vec();
        flipped[at] ^= 1 << bit;
        variants.push(Variant {
            what: format!("bit {bit} of byte {at} flipped"),
            bytes: flipped,
            undetectable: at >= data_start,
        });
    }
    variants
}

/// A safetensors file from a header (JSON) and data, as a writer that lies would make it.
fn safetensors_file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

/// The model every state_dict attack loads into: a 2-layer LSTM with projections.
fn lstm(vs: &VarStore) -> Lstm {
    let config = LstmConfig { input_size: 3, hidden_size: 4, num_layers: 2, proj_size: 2, ..Default::default() };
    Lstm::new(vs.root(), config).expect("valid config")
}

fn snapshot(vs: &VarStore) -> Vec<(String, Tensor)> {
    let mut all: Vec<(String, Tensor)> = vs.variables().into_iter().map(|(n, t)| (n, t.copy())).collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

fn assert_unchanged(what: &str, vs: &VarStore, before: &[(String, Tensor)]) {
    let now = vs.variables();
    for (name, value) in before {
        assert!(now[name].equal(value), "{what}: a failed load changed {name}");
    }
}

/// Edits of the valid header `header` (a JSON object of entries) that a buggy or hostile
/// writer could produce, each with the data it goes with.
fn header_edits(header: &serde_json::Value, data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let entries = header.as_object().expect("a JSON object");
    let first = entries.keys().find(|k| *k != "__metadata__").expect("a tensor").clone();
    let edit = |what: &str, change: &dyn Fn(&mut serde_json::Map<String, serde_json::Value>)| {
        let mut edited = entries.clone();
        change(&mut edited);
        (what.to_string(), safetensors_file(&serde_json::Value::Object(edited).to_string(), data))
    };
    let set = |key: &'static str, value: serde_json::Value| {
        let first = first.clone();
        move |m: &mut serde_json::Map<String, serde_json::Value>| {
            m[&first][key] = value.clone();
        }
    };
    use serde_json::json;
    let mut edits = vec![
        edit("dtype I32 for F32", &set("dtype", json!("I32"))),
        edit("dtype F64 for F32", &set("dtype", json!("F64"))),
        edit("dtype F16 for F32", &set("dtype", json!("F16"))),
        edit("an unknown dtype", &set("dtype", json!("Q7"))),
        edit("a dtype that is a number", &set("dtype", json!(3))),
        edit("a shape with one more element", &set("shape", json!([1, 1, 1, 1, 1, 1, 1, 1, 1, 2]))),
        edit("a transposed shape", &|m| {
            let matrix = m.keys().find(|k| m[*k]["shape"].as_array().is_some_and(|s| s.len() == 2 && s[0] != s[1]));
            let matrix = matrix.expect("a non-square matrix").clone();
            let shape = m[&matrix]["shape"].as_array().unwrap().iter().rev().cloned().collect::<Vec<_>>();
            m[&matrix]["shape"] = json!(shape);
        }),
        edit("a huge shape", &set("shape", json!([1u64 << 62, 1u64 << 62]))),
        edit("a shape overflowing with a zero", &set("shape", json!([0, u64::MAX]))),
        edit("a negative shape", &set("shape", json!([-4, 4]))),
        edit("offsets past the end", &set("data_offsets", json!([0, 1u64 << 40]))),
        edit("reversed offsets", &set("data_offsets", json!([16, 0]))),
        edit("huge offsets", &set("data_offsets", json!([u64::MAX - 1, u64::MAX]))),
        edit("offsets that are not numbers", &set("data_offsets", json!(["a", "b"]))),
        edit("an entry without offsets", &|m| {
            m[&first].as_object_mut().unwrap().remove("data_offsets");
        }),
        edit("an entry with an extra field", &set("extra", json!(1))),
        edit("a missing tensor", &|m| {
            m.remove(&first);
        }),
        edit("an extra tensor", &|m| {
            let mut extra = m[&first].clone();
            let end = data.len() as u64;
            extra["data_offsets"] = json!([end, end]);
            extra["shape"] = json!([0]);
            m.insert("unexpected.weight".into(), extra);
        }),
        edit("a tensor renamed", &|m| {
            let value = m.remove(&first).unwrap();
            m.insert(format!("{first}_renamed"), value);
        }),
        edit("two tensors on the same bytes", &|m| {
            let copy = m[&first].clone();
            m.insert("zz_alias".into(), copy);
        }),
        edit("metadata that is not strings", &|m| {
            m.insert("__metadata__".into(), json!({"format": 1}));
        }),
        edit("an entry that is a string", &|m| {
            m[&first] = json!("tensor");
        }),
    ];
    let valid = serde_json::Value::Object(entries.clone()).to_string();
    edits.push(("header length u64::MAX".into(), {
        let mut b = safetensors_file(&valid, data);
        b[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        b
    }));
    edits.push(("header length past the file".into(), {
        let mut b = safetensors_file(&valid, data);
        let len = b.len() as u64;
        b[..8].copy_from_slice(&len.to_le_bytes());
        b
    }));
    edits.push(("a header that is not JSON".into(), safetensors_file("{\"a\": ", data)));
    edits.push(("a header that is an array".into(), safetensors_file("[1, 2]", data)));
    edits.push(("a header that is not UTF-8".into(), {
        let mut b = safetensors_file("{\"?\": 1}", data);
        b[10] = 0xff;
        b
    }));
    edits.push(("trailing bytes after the data".into(), [safetensors_file(&valid, data), vec![0; 8]].concat()));
    edits.push(("an empty file".into(), Vec::new()));
    edits
}

/// What became of a corpus of corrupted state_dicts.
#[derive(Debug, Default)]
struct Outcome {
    files: usize,
    refused: usize,
    /// Loaded, and the values are the original ones (the corruption changed nothing that
    /// matters, e.g. the name of a metadata key).
    loaded_intact: usize,
    /// Loaded with other values: only possible where the format has no checksum.
    loaded_changed: usize,
}

/// Loads every corrupted variant of `valid` (the state_dict of `source`) into a fresh LSTM,
/// checking that each refusal is one clean line and leaves the model as it was, and that
/// only a flipped bit of tensor data ever loads other values.
fn attack_state_dict(dir: &Path, source: &VarStore, valid: &[u8], seed: u64) -> Outcome {
    let header_len = u64::from_le_bytes(valid[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&valid[8..8 + header_len]).expect("a JSON header");
    let data = &valid[8 + header_len..];
    let mut variants = mangled(valid, 8 + header_len, &mut Draw(seed), 160);
    for (what, bytes) in header_edits(&header, data) {
        variants.push(Variant { what, bytes, undetectable: false });
    }
    let mut vs = VarStore::new(Device::Cpu);
    let _model = lstm(&vs);
    let original = snapshot(source);
    let mut outcome = Outcome { files: variants.len(), ..Outcome::default() };
    let path = dir.join("attack.safetensors");
    for variant in &variants {
        std::fs::write(&path, &variant.bytes).expect("write the variant");
        let before = snapshot(&vs);
        match load_state_dict(&mut vs, &path) {
            Err(e) => {
                let message = format!("{e:#}");
                assert!(message.starts_with("state_dict:"), "{}: {message}", variant.what);
                assert_eq!(message.lines().count(), 1, "{}: {message}", variant.what);
                assert!(!LIBTORCH_TEXT.iter().any(|raw| message.contains(raw)), "{}: {message}", variant.what);
                assert_unchanged(&variant.what, &vs, &before);
                outcome.refused += 1;
            }
            Ok(()) if snapshot(&vs).iter().zip(&original).all(|((_, a), (_, b))| a.equal(b)) => {
                outcome.loaded_intact += 1
            }
            Ok(()) => {
                assert!(variant.undetectable, "{}: loaded other values without complaint", variant.what);
                outcome.loaded_changed += 1;
            }
        }
    }
    outcome
}

#[test]
fn corrupted_state_dicts_fail_cleanly_and_change_nothing() {
    let _rng = rng_lock();
    let dir = TempDir::new("attack-state-dict");
    let source = VarStore::new(Device::Cpu);
    let _source = lstm(&source);
    // Saved here: the header records the data's SHA-256, so no corruption loads other values.
    let path = dir.path().join("ours.safetensors");
    save_state_dict(&source, &path).expect("save");
    let ours = attack_state_dict(dir.path(), &source, &std::fs::read(&path).unwrap(), 0x5eed_0001);
    assert_eq!((ours.loaded_changed, ours.refused + ours.loaded_intact), (0, ours.files), "{ours:?}");
    // As PyTorch writes it, without a checksum: a flipped bit of tensor data loads what the file
    // now says (the format cannot tell); every other corruption is refused.
    let variables = source.variables();
    let named: Vec<(&str, &Tensor)> = variables.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let plain = tch_rnn::safetensors::serialize(&named).unwrap();
    let theirs = attack_state_dict(dir.path(), &source, &plain, 0x5eed_0004);
    eprintln!("loader attacks: state_dict saved by tch-rnn: {ours:?}; as PyTorch writes it: {theirs:?}");
}

#[cfg(unix)]
#[test]
fn things_that_are_not_files_are_refused_at_once() {
    let dir = TempDir::new("attack-special");
    let fifo = dir.path().join("fifo.safetensors");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let looped = dir.path().join("loop.safetensors");
    std::os::unix::fs::symlink(&looped, &looped).expect("a symlink to itself");
    let dangling = dir.path().join("dangling.safetensors");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).expect("a dangling symlink");
    let cases: Vec<(&str, PathBuf)> = vec![
        ("a FIFO with no writer", fifo),
        ("a folder", dir.path().to_path_buf()),
        ("/dev/zero", PathBuf::from("/dev/zero")),
        ("/dev/null", PathBuf::from("/dev/null")),
        ("a symlink to itself", looped),
        ("a dangling symlink", dangling),
        ("a missing file", dir.path().join("missing.safetensors")),
        (
            "a non-UTF-8 name",
            dir.path().join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"bad-\xff")),
        ),
    ];
    for (what, path) in cases {
        let shown = what.to_string();
        let target = path.clone();
        let message = within_time(what, move || {
            let _rng = rng_lock();
            let mut vs = VarStore::new(Device::Cpu);
            let _model = lstm(&vs);
            load_state_dict(&mut vs, &path).map_err(|e| format!("{e:#}"))
        })
        .expect_err(&shown);
        assert!(message.starts_with("state_dict: cannot read"), "{what}: {message}");
        assert_eq!(message.lines().count(), 1, "{what}: {message}");
        let message = within_time(what, move || Checkpoint::open(&target).map(|_| ()).map_err(|e| format!("{e:#}")))
            .expect_err(&format!("{what}: a checkpoint opened"));
        assert!(message.starts_with("no checkpoint at "), "{what}: {message}");
        assert_eq!(message.lines().count(), 1, "{what}: {message}");
    }
}

/// Writes `state` into the checkpoint folder `dir` as state.json, sealed as tch-rnn seals it
/// (its own SHA-256 in place of 64 zeros): a writer that recomputes every checksum.
fn reseal(dir: &Path, mut state: serde_json::Value) {
    state["self_sha256"] = UNSEALED.into();
    let text = format!("{}\n", serde_json::to_string_pretty(&state).unwrap());
    let digest = hex(&Sha256::digest(text.as_bytes()));
    std::fs::write(dir.join("state.json"), text.replacen(UNSEALED, &digest, 1)).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Opens the checkpoint at `dir` and loads everything a resume loads into a fresh model and
/// into `optimizer`; the optimizer must be unchanged on failure.
fn load_checkpoint(dir: &Path) -> anyhow::Result<()> {
    let checkpoint = Checkpoint::open(dir)?;
    let (_vs, model) = checkpoint.load_model(Device::Cpu)?;
    let named = model.named_parameters();
    let names: Vec<String> = named.iter().map(|(n, _)| n.clone()).collect();
    let params: Vec<Tensor> = named.into_iter().map(|(_, p)| p).collect();
    let mut optimizer = Adam::new(params, Default::default())?;
    let restored = checkpoint.restore_optimizer(&mut optimizer, &names);
    if restored.is_err() {
        assert!((0..names.len()).all(|i| optimizer.state(i).is_none()), "a failed restore set part of Adam's state");
    }
    restored?;
    checkpoint.rng()?;
    Ok(())
}

#[test]
fn every_corruption_of_a_checkpoint_is_caught() {
    let _rng = rng_lock();
    let fixture = common::fixtures_root().join("char_model").join("three_steps");
    let dir = TempDir::new("attack-checkpoint");
    let work = dir.path().join("checkpoint");
    copy_dir(&fixture, &work);
    load_checkpoint(&work).expect("the fixture checkpoint loads");
    let mut draw = Draw(0x5eed_0002);
    let mut tried = 0;
    let files: Vec<String> =
        ["state.json", "config.json", "vocab.json", "model.safetensors", "optimizer.safetensors", "rng.safetensors"]
            .map(String::from)
            .to_vec();
    for name in &files {
        let original = std::fs::read(fixture.join(name)).unwrap();
        let mut variants = mangled(&original, usize::MAX, &mut draw, 40);
        variants.push(Variant { what: "removed".into(), bytes: Vec::new(), undetectable: false });
        for variant in variants {
            copy_dir(&fixture, &work);
            if variant.what == "removed" {
                std::fs::remove_file(work.join(name)).unwrap();
            } else {
                std::fs::write(work.join(name), &variant.bytes).unwrap();
            }
            let message = format!("{:#}", load_checkpoint(&work).expect_err(&format!("{name} {}", variant.what)));
            assert!(
                message.contains("checkpoint") || message.contains("state.json"),
                "{name} {}: {message}",
                variant.what
            );
            tried += 1;
        }
    }
    // A writer that recomputes every checksum but writes wrong tensors: the loaders' own
    // checks must catch what the checksums then cannot.
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(fixture.join("state.json")).unwrap()).unwrap();
    let model = std::fs::read(fixture.join("model.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(model[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&model[8..8 + header_len]).unwrap();
    let mut resealed = 0;
    for (what, bytes) in header_edits(&header, &model[8 + header_len..]) {
        copy_dir(&fixture, &work);
        std::fs::write(work.join("model.safetensors"), &bytes).unwrap();
        let mut state = state.clone();
        state["sha256"]["model.safetensors"] = hex(&Sha256::digest(&bytes)).into();
        reseal(&work, state);
        let message =
            format!("{:#}", load_checkpoint(&work).expect_err(&format!("resealed model.safetensors: {what}")));
        assert!(message.contains("checkpoint"), "resealed {what}: {message}");
        resealed += 1;
    }
    // Adam's state with a wrong shape, a missing moment, or a stray key, consistently sealed.
    let optimizer: Vec<(String, Tensor)> = tch_rnn::safetensors::read(&fixture.join("optimizer.safetensors")).unwrap();
    type Edit = Box<dyn Fn(&mut Vec<(String, Tensor)>)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("a moment of the wrong shape", Box::new(|t| t[1].1 = Tensor::zeros([1], (Kind::Float, Device::Cpu)))),
        ("a missing moment", Box::new(|t| drop(t.remove(0)))),
        (
            "a stray key",
            Box::new(|t| t.push(("exp_avg/nothing".into(), Tensor::zeros([1], (Kind::Float, Device::Cpu))))),
        ),
        (
            "a step that is not float32",
            Box::new(|t| {
                let i = t.iter().position(|(n, _)| n.starts_with("step/")).unwrap();
                t[i].1 = Tensor::from(3i64);
            }),
        ),
        (
            "a negative step",
            Box::new(|t| {
                let i = t.iter().position(|(n, _)| n.starts_with("step/")).unwrap();
                t[i].1 = Tensor::from(-3.0f32);
            }),
        ),
    ];
    for (what, change) in edits {
        let mut tensors: Vec<(String, Tensor)> =
            optimizer.iter().map(|(n, t)| (n.clone(), t.shallow_clone())).collect();
        change(&mut tensors);
        let named: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let bytes = tch_rnn::safetensors::serialize(&named).unwrap();
        copy_dir(&fixture, &work);
        std::fs::write(work.join("optimizer.safetensors"), &bytes).unwrap();
        let mut state = state.clone();
        state["sha256"]["optimizer.safetensors"] = hex(&Sha256::digest(&bytes)).into();
        reseal(&work, state);
        load_checkpoint(&work).expect_err(&format!("resealed optimizer.safetensors: {what}"));
        resealed += 1;
    }
    eprintln!(
        "loader attacks: checkpoints: {tried} corrupted or missing files caught by checksums, {resealed} consistent but wrong files caught by the loaders"
    );
}

#[test]
fn checkpoint_json_parsers_refuse_what_they_cannot_use() {
    let fixture = common::fixtures_root().join("char_model").join("three_steps");
    let mut draw = Draw(0x5eed_0003);
    let mut tried = 0;
    let mut parsed_anyway = 0;
    type Parser = fn(&[u8]) -> anyhow::Result<()>;
    let parsers: [(&str, Parser); 3] = [
        ("state.json", |b| parse_state(b).map(|_| ())),
        ("config.json", |b| parse_config(b).map(|_| ())),
        ("vocab.json", |b| parse_vocab(b).map(|_| ())),
    ];
    for (name, parse) in parsers {
        let original = std::fs::read(fixture.join(name)).unwrap();
        parse(&original).unwrap_or_else(|e| panic!("{name} of the fixture: {e:#}"));
        for variant in mangled(&original, usize::MAX, &mut draw, 60) {
            tried += 1;
            match parse(&variant.bytes) {
                Err(e) => assert_eq!(format!("{e:#}").lines().count(), 1, "{name} {}", variant.what),
                // A flip can give another valid config (a digit changed): inside a checkpoint
                // the checksum catches it; state.json, which checksums itself, never parses.
                Ok(()) => {
                    assert_ne!(name, "state.json", "{} parsed", variant.what);
                    parsed_anyway += 1;
                }
            }
        }
    }
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture.join("config.json")).unwrap()).unwrap();
    for (field, value) in [
        ("hidden", serde_json::json!(-1)),
        ("hidden", serde_json::json!(0)),
        ("hidden", serde_json::json!(1u64 << 40)),
        ("hidden", serde_json::json!(1e300)),
        ("hidden", serde_json::json!("16")),
        ("layers", serde_json::json!(null)),
        ("vocab_size", serde_json::json!(i64::MAX)),
        ("dropout", serde_json::json!(1.5)),
        ("cell", serde_json::json!("transformer")),
    ] {
        let mut edited = config.clone();
        edited["model"][field] = value.clone();
        assert!(parse_config(edited.to_string().as_bytes()).is_err(), "config with {field} = {value} parsed");
        tried += 1;
    }
    for vocab in [
        r#"{"chars": ["a", "a"]}"#,
        r#"{"chars": []}"#,
        r#"{"chars": ["ab"]}"#,
        r#"{"chars": [""]}"#,
        r#"{"chars": "ab"}"#,
        r#"{"letters": ["a"]}"#,
    ] {
        assert!(parse_vocab(vocab.as_bytes()).is_err(), "vocabulary {vocab} parsed");
        tried += 1;
    }
    eprintln!(
        "loader attacks: JSON: {tried} corrupted files, {parsed_anyway} flips that gave another valid config.json or vocab.json (caught in a checkpoint by its checksum)"
    );
}

#[test]
fn saves_are_atomic_under_concurrency_follow_symlinks_and_fit_long_names() {
    let _rng = rng_lock();
    let dir = TempDir::new("save-safety");
    let vs = VarStore::new(Device::Cpu);
    let _model = lstm(&vs);
    let vs = std::sync::Arc::new(vs);

    // A symlink to a file: the save updates the file and keeps the link.
    let target = dir.path().join("target.safetensors");
    let link = dir.path().join("link.safetensors");
    std::fs::write(&target, b"old").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    save_state_dict(&vs, &link).expect("save through a symlink");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert!(std::fs::read(&target).unwrap().len() > 100, "the target was not updated");

    // A file name at the file system's limit: the temporary name must still fit.
    let long = dir.path().join(format!("{}.safetensors", "w".repeat(240)));
    save_state_dict(&vs, &long).expect("save under a 252-character name");

    // Eight threads saving to one path while another reads it: every save succeeds and every
    // read sees a whole file.
    let shared = dir.path().join("shared.safetensors");
    save_state_dict(&vs, &shared).unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (shared, done) = (shared.clone(), done.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let mut into = VarStore::new(Device::Cpu);
                let _m = lstm(&into);
                load_state_dict(&mut into, &shared).unwrap_or_else(|e| panic!("a reader saw a partial file: {e:#}"));
                reads += 1;
            }
            reads
        })
    };
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (vs, shared) = (vs.clone(), shared.clone());
            std::thread::spawn(move || (0..25).map(|_| save_state_dict(&vs, &shared).is_ok()).filter(|ok| *ok).count())
        })
        .collect();
    let saved: usize = writers.into_iter().map(|w| w.join().expect("a writer panicked")).sum();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().expect("the reader panicked");
    assert_eq!(saved, 200, "concurrent saves failed");
    assert!(reads > 0);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
}
