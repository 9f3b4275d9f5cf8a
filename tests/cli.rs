//! The `tch-rnn` binary as a user runs it: the tutorial programs, `--help` everywhere and
//! `--version`, a tiny training run sampled and evaluated, bad input (one line on stderr, exit
//! code 2 for a bad command line and 1 otherwise, never a backtrace, nothing lost). Ctrl-C and
//! SIGTERM during training are tested with the kills, in tests/crash_safety.rs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::TempDir;
use tch_rnn::charlm::SHAKESPEARE;
use tch_rnn::tutorials::{Options, PROGRAMS, run};

fn tch_rnn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tch-rnn")).args(args).output().expect("run tch-rnn")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Checks a failure: `code`, exactly one line on stderr containing every one of `needles`,
/// and no panic or backtrace.
fn assert_fails(what: &str, output: &Output, code: i32, needles: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{what}: exit code; stderr:\n{err}");
    assert_eq!(err.lines().count(), 1, "{what}: one line on stderr, got:\n{err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{what}: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{what}: expected {needle:?} in:\n{err}");
    }
}

fn tutorial_output(name: &str, options: &Options) -> String {
    let mut out = Vec::new();
    run(name, options, &mut out).expect("tutorial");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn without_arguments_it_runs_every_tutorial_under_a_header() {
    let output = tch_rnn(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let mut expected = String::new();
    for name in PROGRAMS {
        let (section, what) = tch_rnn_about(name);
        expected += &format!("=== {name} (section {section}): {what} ===\n");
        expected += &tutorial_output(name, &Options::default());
    }
    assert_eq!(text, expected);
}

fn tch_rnn_about(name: &str) -> (&'static str, &'static str) {
    tch_rnn::tutorials::about(name).expect("every program is described")
}

#[test]
fn one_tutorial_prints_what_the_program_prints() {
    let output = tch_rnn(&["tutorial", "hello_gru", "--seed", "-5", "--epochs", "4", "--lr", "0.01"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), tutorial_output("hello_gru", &Options { seed: -5, epochs: 4, lr: Some(0.01) }));
    let list = stdout(&tch_rnn(&["tutorial", "--list"]));
    assert_eq!(list.lines().count(), PROGRAMS.len());
    assert!(list.lines().zip(PROGRAMS).all(|(line, name)| line.starts_with(name)), "{list}");
    assert_fails(
        "a program that trains nothing",
        &tch_rnn(&["tutorial", "rnn", "--lr", "0.1"]),
        1,
        &["takes --seed only"],
    );
    assert_fails("an unknown program", &tch_rnn(&["tutorial", "hello_transformer"]), 2, &["hello_transformer"]);
}

#[test]
fn every_command_has_help_and_the_binary_a_version() {
    for command in [&[][..], &["tutorial"], &["train"], &["sample"], &["eval"]] {
        let args: Vec<&str> = command.iter().copied().chain(["--help"]).collect();
        let output = tch_rnn(&args);
        assert!(output.status.success() && stdout(&output).contains("Usage: tch-rnn"), "{args:?}");
    }
    let version = stdout(&tch_rnn(&["--version"]));
    assert_eq!(version.trim(), format!("tch-rnn {}", env!("CARGO_PKG_VERSION")));
}

/// A tiny text and a run trained on it through the command line.
struct TinyRun {
    dir: TempDir,
    text: PathBuf,
    out: PathBuf,
}

fn tiny_run(label: &str, steps: &str) -> TinyRun {
    let dir = TempDir::new(label);
    let text = dir.path().join("tiny.txt");
    std::fs::write(&text, &SHAKESPEARE[..20_000]).expect("text");
    let out = dir.path().join("run");
    let output = tch_rnn(&train_args(&text, &out, steps, &[]));
    assert!(output.status.success(), "train: {}", stderr(&output));
    TinyRun { dir, text, out }
}

fn train_args<'a>(text: &'a Path, out: &'a Path, steps: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", "--text", text.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", steps];
    args.extend(["--hidden", "16", "--embedding", "8", "--seq-len", "16", "--batch", "4", "--eval-every", "5"]);
    args.extend(["--sample-every", "5", "--threads", "1"]);
    args.extend(extra);
    args
}

#[test]
fn train_then_sample_and_eval() {
    let run = tiny_run("cli-train", "10");
    let out = run.out.to_str().unwrap();
    let sampled = tch_rnn(&["sample", "--checkpoint", out, "--prime", "ROMEO:", "--length", "30", "--seed", "3"]);
    assert!(sampled.status.success(), "{}", stderr(&sampled));
    let text = stdout(&sampled);
    assert!(text.starts_with("ROMEO:") && text.chars().count() == "ROMEO:".len() + 30 + 1, "{text:?}");
    assert_eq!(
        stdout(&tch_rnn(&["sample", "--checkpoint", out, "--prime", "ROMEO:", "--length", "30", "--seed", "3"])),
        text
    );
    let best = run.out.join("best");
    let greedy = tch_rnn(&["sample", "--checkpoint", best.to_str().unwrap(), "--temperature", "0", "--top-k", "3"]);
    assert!(greedy.status.success(), "{}", stderr(&greedy));
    let evaluated = tch_rnn(&["eval", "--checkpoint", out, "--text", run.text.to_str().unwrap()]);
    assert!(evaluated.status.success(), "{}", stderr(&evaluated));
    let line = stdout(&evaluated);
    assert!(line.contains("nats per character") && line.contains("bits per character") && line.contains("perplexity"));
    assert!(line.contains("(19999 characters predicted)"), "{line}");
    assert!(run.out.join("history.csv").is_file() && run.out.join("loss.png").is_file());
}

#[test]
fn bad_input_is_one_line_and_loses_nothing() {
    let run = tiny_run("cli-bad", "5");
    let (text, out) = (run.text.as_path(), run.out.as_path());
    let dir = run.dir.path();
    let before = std::fs::read(out.join("latest/model.safetensors")).expect("weights");
    let fresh = dir.join("fresh");

    let missing = dir.join("missing.txt");
    assert_fails(
        "a missing text",
        &tch_rnn(&train_args(&missing, &fresh, "5", &[])),
        1,
        &["cannot read the text", "missing.txt"],
    );
    assert_fails("a folder as text", &tch_rnn(&train_args(dir, &fresh, "5", &[])), 1, &["not a regular file"]);
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    assert_fails("an empty text", &tch_rnn(&train_args(&empty, &fresh, "5", &[])), 1, &["is empty"]);
    let short = dir.join("short.txt");
    std::fs::write(&short, "To be, or not").unwrap();
    assert_fails(
        "a text shorter than --seq-len",
        &tch_rnn(&train_args(&short, &fresh, "5", &[])),
        1,
        &["--seq-len: 16 is too long"],
    );
    let binary = dir.join("binary.txt");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    assert_fails("a text that is not UTF-8", &tch_rnn(&train_args(&binary, &fresh, "5", &[])), 1, &["not UTF-8"]);
    for (flag, value) in
        [("--hidden", "0"), ("--layers", "-2"), ("--batch", "0"), ("--seq-len", "-1"), ("--steps", "0")]
    {
        let output = tch_rnn(&["train", "--out", fresh.to_str().unwrap(), flag, value]);
        assert_fails(&format!("{flag} {value}"), &output, 2, &[flag]);
    }
    for (flag, value) in [("--lr", "-inf"), ("--lr", "0"), ("--dropout", "1"), ("--clip", "nan"), ("--device", "gpu")] {
        let output = tch_rnn(&["train", "--out", fresh.to_str().unwrap(), flag, value]);
        assert_fails(&format!("{flag} {value}"), &output, 2, &[flag]);
    }
    let cuda = tch_rnn(&train_args(text, &fresh, "1", &["--device", "cuda"]));
    if !cuda.status.success() {
        assert_fails(
            "--device cuda without a GPU",
            &cuda,
            1,
            &["CUDA support is present but no GPU or driver was found"],
        );
    }
    let _ = std::fs::remove_dir_all(&fresh);

    // The run in `out` refuses to be overwritten, resumed otherwise, or resumed from nothing.
    assert_fails(
        "a second run in a used folder",
        &tch_rnn(&train_args(text, out, "9", &[])),
        1,
        &["already holds", "--resume"],
    );
    let other = tch_rnn(&train_args(text, out, "9", &["--resume", "--hidden", "32"]));
    assert_fails("another config", &other, 1, &["--hidden 32 (the run has 16)"]);
    let nothing = dir.join("nothing");
    std::fs::create_dir(&nothing).unwrap();
    assert_fails(
        "--resume without a checkpoint",
        &tch_rnn(&train_args(text, &nothing, "9", &["--resume"])),
        1,
        &["no checkpoint"],
    );
    let under_a_file = text.join("run");
    assert_fails(
        "an unwritable --out",
        &tch_rnn(&train_args(text, &under_a_file, "5", &[])),
        1,
        &["cannot create the run's folder"],
    );
    let prime = tch_rnn(&["sample", "--checkpoint", out.to_str().unwrap(), "--prime", "1066"]);
    assert_fails("a prime outside the vocabulary", &prime, 1, &["'0'", "'1'", "not in the model's vocabulary"]);
    let unknown = tch_rnn(&["eval", "--checkpoint", out.to_str().unwrap(), "--text", binary.to_str().unwrap()]);
    assert_fails("eval of a text that is not UTF-8", &unknown, 1, &["not UTF-8"]);
    assert_eq!(std::fs::read(out.join("latest/model.safetensors")).unwrap(), before, "nothing in the run was lost");

    // A corrupt checkpoint.
    let weights = out.join("latest/model.safetensors");
    let mut bytes = before.clone();
    bytes[100] ^= 0x10;
    std::fs::write(&weights, &bytes).unwrap();
    assert_fails("a corrupt checkpoint", &tch_rnn(&["sample", "--checkpoint", out.to_str().unwrap()]), 1, &["corrupt"]);
    assert_fails(
        "resuming a corrupt checkpoint",
        &tch_rnn(&train_args(text, out, "9", &["--resume"])),
        1,
        &["corrupt"],
    );
}
