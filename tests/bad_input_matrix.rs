//! Every program (the 11 tutorial examples and each `tch-rnn` subcommand) against each kind of
//! invalid value: missing, empty, negative, zero, huge, NaN and infinite, the wrong type, a
//! non-UTF-8 path, an unreadable file, a FIFO, a folder, /dev/zero, and a closed or full
//! stdout. Each case asserts the exit code (2 for a command line that does not parse, 1 for
//! anything else), exactly one `error: ...` line on stderr (after the progress lines of a run
//! that trained), and no panic, backtrace or libtorch text. A closed stdout is the exception:
//! Rust's runtime reopens it on /dev/null before `main` (as Python sets `sys.stdout` to
//! `None`), so the output is discarded and the program succeeds, silently, like its twin.
//! The number of cases is printed (`bad-input matrix: N cases`).

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{LIBTORCH_TEXT, TempDir};

const USAGE: i32 = 2;
const FAILURE: i32 = 1;
/// A closed stdout: the output is discarded and the program succeeds.
const DISCARDED: i32 = 0;

/// Where the program's stdout goes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stdout {
    Piped,
    /// File descriptor 1 closed (`>&-`).
    Closed,
    /// `/dev/full`: every write fails with "No space left on device".
    Full,
}

#[derive(Debug)]
struct Case {
    program: PathBuf,
    args: Vec<OsString>,
    stdout: Stdout,
    code: i32,
    /// Text the error line must contain ("" for none beyond `error:`).
    needle: &'static str,
}

impl Case {
    /// Whether the program trains before it fails: its progress lines come first on stderr.
    fn trains(&self) -> bool {
        self.args.first().is_some_and(|a| a == "train") && self.stdout != Stdout::Piped
    }
}

fn examples_dir() -> PathBuf {
    // target/<profile>/deps/<this test> -> target/<profile>/examples
    let exe = std::env::current_exe().expect("the test binary");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>").join("examples");
    assert!(
        dir.join("rnn").is_file(),
        "the examples are not built in {}: run cargo test, which builds them",
        dir.display()
    );
    dir
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// The files the cases point at, in a folder of their own, and a tiny trained run.
struct Setup {
    dir: TempDir,
    tch_rnn: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let folder = TempDir::new("bad-input");
        let dir = folder.path();
        let text = &tch_rnn::charlm::SHAKESPEARE[..5000];
        std::fs::write(dir.join("tiny.txt"), text).unwrap();
        std::fs::write(dir.join("not-utf8.txt"), b"\xff\xfe hello").unwrap();
        std::fs::write(dir.join("empty.txt"), b"").unwrap();
        std::fs::write(dir.join("one.txt"), b"a").unwrap();
        std::fs::write(dir.join("outside.txt"), "\u{263a}\u{263a}\u{263a}").unwrap();
        assert!(Command::new("mkfifo").arg(dir.join("fifo")).status().unwrap().success());
        let tch_rnn = PathBuf::from(env!("CARGO_BIN_EXE_tch-rnn"));
        let trained = Command::new(&tch_rnn)
            .args(["train", "--text", "tiny.txt", "--hidden", "8", "--embedding", "4", "--layers", "1"])
            .args(["--seq-len", "8", "--batch", "2", "--steps", "2", "--eval-every", "1", "--sample-every", "0"])
            .args(["--out", "run"])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(trained.status.success(), "the tiny run: {}", String::from_utf8_lossy(&trained.stderr));
        Setup { dir: folder, tch_rnn }
    }
}

fn cases(setup: &Setup) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |program: &Path, args: Vec<OsString>, stdout: Stdout, code: i32, needle: &'static str| {
        cases.push(Case { program: program.to_path_buf(), args, stdout, code, needle });
    };
    let non_utf8 = |stem: &str| OsString::from_vec([stem.as_bytes(), b"-\xff.txt"].concat());

    // The tutorial examples.
    let examples = examples_dir();
    for name in tch_rnn::tutorials::PROGRAMS {
        let program = examples.join(name);
        let p = program.as_path();
        for (args, needle) in [
            (vec!["--seed"], "a value is required"),
            (vec!["--seed", ""], "--seed"),
            (vec!["--seed", "abc"], "--seed"),
            (vec!["--seed", "1.5"], "--seed"),
            (vec!["--seed", "99999999999999999999"], "too large"),
            (vec!["--bogus"], "--bogus"),
            (vec!["--seed", "1", "extra"], "extra"),
        ] {
            add(p, os(&args), Stdout::Piped, USAGE, needle);
        }
        if tch_rnn::tutorials::trains(name) {
            for (args, code, needle) in [
                (vec!["--epochs", "-1"], USAGE, "--epochs"),
                (vec!["--epochs", "99999999999999999999"], USAGE, "too large"),
                (vec!["--epochs", "two"], USAGE, "--epochs"),
                (vec!["--lr", ""], USAGE, "--lr"),
                (vec!["--lr", "fast"], USAGE, "--lr"),
                (vec!["--lr", "nan"], FAILURE, "learning rate"),
                (vec!["--lr", "inf"], FAILURE, "learning rate"),
                (vec!["--lr", "-inf"], FAILURE, "learning rate"),
                (vec!["--lr", "-0.5"], FAILURE, "learning rate"),
            ] {
                add(p, os(&args), Stdout::Piped, code, needle);
            }
        } else {
            add(p, os(&["--epochs", "3"]), Stdout::Piped, USAGE, "--epochs");
            add(p, os(&["--lr", "0.1"]), Stdout::Piped, USAGE, "--lr");
        }
        add(p, vec![], Stdout::Closed, DISCARDED, "");
        add(p, vec![], Stdout::Full, FAILURE, "No space left");
        add(p, os(&["--help"]), Stdout::Full, FAILURE, "No space left");
    }

    // tch-rnn.
    let t = setup.tch_rnn.as_path();
    add(t, os(&["bogus"]), Stdout::Piped, USAGE, "bogus");
    add(t, vec![], Stdout::Closed, DISCARDED, "");
    add(t, vec![], Stdout::Full, FAILURE, "No space left");
    add(t, os(&["--version"]), Stdout::Closed, DISCARDED, "");
    for (args, code, needle) in [
        (vec!["tutorial"], USAGE, "required"),
        (vec!["tutorial", "hello_transformer"], USAGE, "hello_transformer"),
        (vec!["tutorial", "rnn", "--seed", "abc"], USAGE, "--seed"),
        (vec!["tutorial", "rnn", "--seed"], USAGE, "--seed"),
        (vec!["tutorial", "hello_rnn", "--epochs", "-1"], USAGE, "--epochs"),
        (vec!["tutorial", "hello_rnn", "--lr", "nan"], FAILURE, "learning rate"),
        (vec!["tutorial", "rnn", "--lr", "0.1"], FAILURE, "--seed only"),
        (vec!["tutorial", "--list", "rnn"], USAGE, "--list"),
    ] {
        add(t, os(&args), Stdout::Piped, code, needle);
    }
    add(t, os(&["tutorial", "hello_gru"]), Stdout::Closed, DISCARDED, "");
    add(t, os(&["tutorial", "--list"]), Stdout::Full, FAILURE, "No space left");
    add(t, os(&["train", "--help"]), Stdout::Full, FAILURE, "No space left");

    let train = |extra: &[&str]| {
        let mut args = os(&["train", "--text", "tiny.txt", "--hidden", "8", "--embedding", "4", "--layers", "1"]);
        args.extend(os(&["--seq-len", "8", "--batch", "2", "--steps", "2", "--sample-every", "0", "--out", "runs/x"]));
        args.extend(os(extra));
        args
    };
    for (extra, code, needle) in [
        (vec!["--steps"], USAGE, "--steps"),
        (vec!["--steps", ""], USAGE, "--steps"),
        (vec!["--steps", "0"], USAGE, "--steps"),
        (vec!["--steps", "-5"], USAGE, "--steps"),
        (vec!["--steps", "many"], USAGE, "--steps"),
        (vec!["--steps", "99999999999999999999"], USAGE, "too large"),
        (vec!["--epochs", "0"], USAGE, "--epochs"),
        (vec!["--epochs", "nan"], USAGE, "--epochs"),
        (vec!["--hidden", "0"], USAGE, "--hidden"),
        (vec!["--hidden", "-8"], USAGE, "--hidden"),
        (vec!["--hidden", "2.5"], USAGE, "--hidden"),
        (vec!["--hidden", "9999999999"], FAILURE, "too large"),
        (vec!["--layers", "1000000", "--hidden", "256"], FAILURE, "memory"),
        (vec!["--embedding", "0"], USAGE, "--embedding"),
        (vec!["--batch", "0"], USAGE, "--batch"),
        (vec!["--batch", "99999999999"], FAILURE, "too large"),
        (vec!["--seq-len", "0"], USAGE, "--seq-len"),
        (vec!["--seq-len", "99999999999"], FAILURE, "too large"),
        (vec!["--lr", "nan"], USAGE, "--lr"),
        (vec!["--lr", "inf"], USAGE, "--lr"),
        (vec!["--lr", "-inf"], USAGE, "--lr"),
        (vec!["--lr", "0"], USAGE, "--lr"),
        (vec!["--lr", "-1"], USAGE, "--lr"),
        (vec!["--clip", "nan"], USAGE, "--clip"),
        (vec!["--clip", "inf"], USAGE, "--clip"),
        (vec!["--clip", "-1"], USAGE, "--clip"),
        (vec!["--dropout", "nan"], USAGE, "--dropout"),
        (vec!["--dropout", "1"], USAGE, "--dropout"),
        (vec!["--dropout", "-0.1"], USAGE, "--dropout"),
        (vec!["--threads", "0"], USAGE, "--threads"),
        (vec!["--threads", "-2"], USAGE, "--threads"),
        (vec!["--eval-every", "0"], USAGE, "--eval-every"),
        (vec!["--sample-every", "-1"], USAGE, "--sample-every"),
        (vec!["--seed", "abc"], USAGE, "--seed"),
        (vec!["--cell", "transformer"], USAGE, "possible values"),
        (vec!["--optimizer", "rmsprop"], USAGE, "possible values"),
        (vec!["--lr-schedule", "linear"], USAGE, "possible values"),
        (vec!["--nesterov", "yes"], USAGE, "--nesterov"),
        (vec!["--beta1", "1"], USAGE, "--beta1"),
        (vec!["--weight-decay", "-0.1"], USAGE, "--weight-decay"),
        (vec!["--lr-step-size", "0"], USAGE, "--lr-step-size"),
        (vec!["--optimizer", "sgd", "--nesterov", "true"], FAILURE, "--nesterov"),
        (vec!["--lr-schedule", "plateau", "--lr-gamma", "2"], FAILURE, "--lr-gamma"),
        (vec!["--steps", "3", "--epochs", "1"], FAILURE, "--epochs"),
        (vec!["--batching", "shuffled"], USAGE, "possible values"),
        (vec!["--patience", "0"], USAGE, "--patience"),
        (vec!["--val-text", "outside.txt"], FAILURE, "vocabulary"),
        (vec!["--val-text", "missing.txt"], FAILURE, "missing.txt"),
        (vec!["--val-text", "one.txt"], FAILURE, "--val-text"),
        (vec!["--cell", ""], USAGE, "--cell"),
        (vec!["--device", "tpu"], USAGE, "tpu"),
        (vec!["--device", "cuda:-1"], USAGE, "cuda:-1"),
        (vec!["--text", "missing.txt"], FAILURE, "missing.txt"),
        (vec!["--text", ""], USAGE, "--text"),
        (vec!["--text", "empty.txt"], FAILURE, "empty"),
        (vec!["--text", "one.txt"], FAILURE, "too few"),
        (vec!["--text", "not-utf8.txt"], FAILURE, "UTF-8"),
        (vec!["--text", "fifo"], FAILURE, "not a regular file"),
        (vec!["--text", "."], FAILURE, "not a regular file"),
        (vec!["--text", "/dev/zero"], FAILURE, "not a regular file"),
        (vec!["--text", "/proc/self/mem"], FAILURE, "Input/output error"),
        (vec!["--out", "tiny.txt"], FAILURE, "tiny.txt"),
        (vec!["--out", "/proc/version/run"], FAILURE, "/proc/version"),
        (vec!["--out", "run"], FAILURE, "--resume"),
        (vec!["--out", "nothing-here", "--resume"], FAILURE, "nothing-here"),
    ] {
        add(t, train(&extra), Stdout::Piped, code, needle);
    }
    // The text's path is saved in config.json, which holds text: one that is not UTF-8 is a
    // usage error naming the flag and the path.
    let mut args = train(&[]);
    args.extend([OsString::from("--text"), non_utf8("missing")]);
    add(t, args, Stdout::Piped, USAGE, "missing-");
    add(t, train(&["--out", "runs/closed"]), Stdout::Closed, DISCARDED, "");
    add(t, train(&["--out", "runs/full"]), Stdout::Full, FAILURE, "No space left");

    let sample = |extra: &[&str]| {
        let mut args = os(&["sample", "--checkpoint", "run", "--length", "20"]);
        args.extend(os(extra));
        args
    };
    for (extra, code, needle) in [
        (vec!["--length", "-1"], USAGE, "--length"),
        (vec!["--length", ""], USAGE, "--length"),
        (vec!["--length", "99999999999"], FAILURE, "at most"),
        (vec!["--length", "999999999999999999999999"], USAGE, "too large"),
        (vec!["--temperature", "nan"], USAGE, "--temperature"),
        (vec!["--temperature", "inf"], USAGE, "--temperature"),
        (vec!["--temperature", "-1"], USAGE, "--temperature"),
        (vec!["--temperature", "warm"], USAGE, "--temperature"),
        (vec!["--top-k", "0"], USAGE, "--top-k"),
        (vec!["--top-k", "-3"], USAGE, "--top-k"),
        (vec!["--prime", ""], FAILURE, "prime"),
        (vec!["--prime", "\u{263a}"], FAILURE, "vocabulary"),
        (vec!["--seed", "x"], USAGE, "--seed"),
        (vec!["--device", "gpu"], USAGE, "gpu"),
        (vec!["--checkpoint", "missing"], FAILURE, "no checkpoint"),
        (vec!["--checkpoint", ""], USAGE, "--checkpoint"),
        (vec!["--checkpoint", "tiny.txt"], FAILURE, "no checkpoint"),
        (vec!["--checkpoint", "fifo"], FAILURE, "no checkpoint"),
        (vec!["--checkpoint", "/dev/zero"], FAILURE, "no checkpoint"),
    ] {
        add(t, sample(&extra), Stdout::Piped, code, needle);
    }
    add(t, os(&["sample"]), Stdout::Piped, USAGE, "--checkpoint");
    let mut args = os(&["sample", "--checkpoint"]);
    args.push(non_utf8("run"));
    add(t, args, Stdout::Piped, FAILURE, "no checkpoint");
    add(t, sample(&[]), Stdout::Closed, DISCARDED, "");
    add(t, sample(&[]), Stdout::Full, FAILURE, "No space left");

    let eval = |text: &str, extra: &[&str]| {
        let mut args = os(&["eval", "--checkpoint", "run", "--text", text]);
        args.extend(os(extra));
        args
    };
    for (text, extra, code, needle) in [
        ("missing.txt", vec![], FAILURE, "missing.txt"),
        ("empty.txt", vec![], FAILURE, "empty"),
        ("one.txt", vec![], FAILURE, "two characters"),
        ("not-utf8.txt", vec![], FAILURE, "UTF-8"),
        ("outside.txt", vec![], FAILURE, "vocabulary"),
        ("fifo", vec![], FAILURE, "not a regular file"),
        (".", vec![], FAILURE, "not a regular file"),
        ("/proc/self/mem", vec![], FAILURE, "Input/output error"),
        ("tiny.txt", vec!["--batch", "0"], USAGE, "--batch"),
        ("tiny.txt", vec!["--seq-len", "-1"], USAGE, "--seq-len"),
        ("tiny.txt", vec!["--seq-len", "x"], USAGE, "--seq-len"),
        ("tiny.txt", vec!["--checkpoint", "missing"], FAILURE, "no checkpoint"),
    ] {
        add(t, eval(text, &extra), Stdout::Piped, code, needle);
    }
    add(t, os(&["eval", "--checkpoint", "run"]), Stdout::Piped, USAGE, "--text");
    add(t, eval("tiny.txt", &[]), Stdout::Closed, DISCARDED, "");
    add(t, eval("tiny.txt", &[]), Stdout::Full, FAILURE, "No space left");
    cases
}

fn run(case: &Case, dir: &Path) -> Output {
    let mut command = match case.stdout {
        Stdout::Closed => {
            let mut c = Command::new("sh");
            c.arg("-c").arg("exec \"$0\" \"$@\" >&-").arg(&case.program).args(&case.args);
            c
        }
        _ => {
            let mut c = Command::new(&case.program);
            c.args(&case.args);
            c
        }
    };
    let stdout = match case.stdout {
        Stdout::Full => Stdio::from(std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full")),
        _ => Stdio::piped(),
    };
    command.current_dir(dir).stdout(stdout).stderr(Stdio::piped()).stdin(Stdio::null());
    command.env_remove("RUST_BACKTRACE").output().expect("run the program")
}

/// What is wrong with the outcome of `case`, if anything.
fn judge(case: &Case, output: &Output) -> Option<String> {
    let err = String::from_utf8_lossy(&output.stderr);
    let mut lines: Vec<&str> = err.lines().collect();
    if case.trains() {
        // Progress lines first ("step 1/2  loss ..."), then the outcome.
        lines.retain(|line| !line.starts_with("step ") && !line.starts_with("trained to step"));
    }
    let problem = if output.status.code() != Some(case.code) {
        format!("exit code {:?}, expected {}", output.status.code(), case.code)
    } else if case.code == DISCARDED {
        if lines.is_empty() {
            return None;
        }
        format!("{} lines on stderr, expected none", lines.len())
    } else if lines.len() != 1 {
        format!("{} lines on stderr, expected 1", lines.len())
    } else if !lines[0].starts_with("error: ") {
        "the line does not start with 'error: '".into()
    } else if !lines[0].contains(case.needle) {
        format!("the line does not mention {:?}", case.needle)
    } else if ["panicked", "backtrace"].iter().chain(&LIBTORCH_TEXT).any(|raw| err.contains(raw)) {
        "a panic, a backtrace or libtorch's text on stderr".into()
    } else {
        return None;
    };
    Some(format!("{} {:?} (stdout {:?}): {problem}; stderr: {err}", case.program.display(), case.args, case.stdout))
}

#[test]
fn every_program_refuses_every_kind_of_bad_input_in_one_line() {
    let setup = Setup::new();
    let cases = cases(&setup);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Some(failure) = judge(case, &run(case, setup.dir.path())) {
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!("bad-input matrix: {} cases, {} failed", cases.len(), failures.len());
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    // Nothing was trained into the run the cases pointed at, and it still loads.
    tch_rnn::charlm::Checkpoint::open(&setup.dir.path().join("run")).expect("the tiny run is intact");
}
