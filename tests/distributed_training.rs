//! `tch-rnn train` data-parallel, on loopback, bounded in time: `--nproc 2` and `--nproc 4` follow
//! the one-process run within float tolerance (and resume across world sizes); Rust ranks and
//! PyTorch DDP ranks (scripts/pytorch/char_model.py under torchrun) reach the same bits, alone
//! and mixed in one group, and Rust ranks run under torchrun itself; a rank killed with SIGKILL
//! ends the job in one line per survivor and the launcher's, the checkpoint intact, and the
//! run resumes to the bits of an uninterrupted one; SIGTERM saves and stops every rank; bad
//! input is one line.
//!
//! The live parts need the project's Python (scripts/setup.sh; `TCH_RNN_SKIP_LIVE=1` skips
//! them, saying so). A build without gloo's headers checks only that `--nproc` refuses in one
//! line saying how to get distributed support.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::ranks::{THEN_NO_GLOO_THREADS, free_port};
use common::{TempDir, live};
use tch::Tensor;
use tch_rnn::charlm::{Checkpoint, SHAKESPEARE};

/// The model and data of every run here: small enough for 4 ranks on 2 cores.
const TINY: &[&str] = &[
    "--text",
    "tiny.txt",
    "--hidden",
    "32",
    "--embedding",
    "8",
    "--layers",
    "2",
    "--seq-len",
    "16",
    "--batch",
    "8",
    "--eval-every",
    "25",
];
/// How long any one run may take here.
const RUN_LIMIT: Duration = Duration::from_secs(240);

/// One multi-process job at a time: ranks compete for 2 cores.
fn one_job() -> MutexGuard<'static, ()> {
    static JOBS: Mutex<()> = Mutex::new(());
    JOBS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A folder holding the text every run trains on.
fn workspace(label: &str) -> TempDir {
    let dir = TempDir::new(label);
    std::fs::write(dir.path().join("tiny.txt"), &SHAKESPEARE[..20_000]).unwrap();
    dir
}

/// `tch-rnn train` on the tiny setup in `dir`, into `out`, for `steps`, with `extra` flags.
fn tch_rnn(dir: &Path, out: &str, steps: i64, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tch-rnn"));
    command
        .arg("train")
        .args(TINY)
        .args(["--steps", &steps.to_string(), "--sample-every", "0", "--out", out])
        .args(extra)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("RANK")
        .env_remove("WORLD_SIZE");
    command
}

/// Runs `command` to its end within [`RUN_LIMIT`].
fn run(what: &str, command: &mut Command) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            panic!("{what}: still running after {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Runs `command` and expects success.
fn trained(what: &str, command: &mut Command) {
    let output = run(what, command);
    assert!(output.status.success(), "{what} failed ({}):\n{}", output.status, String::from_utf8_lossy(&output.stderr));
}

/// The model's parameters in a run's latest checkpoint.
fn weights(run: &Path) -> BTreeMap<String, Tensor> {
    let file = run.join("latest/model.safetensors");
    Tensor::read_safetensors(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())).into_iter().collect()
}

/// The training losses of a run's history.
fn losses(run: &Path) -> Vec<f64> {
    let history = std::fs::read_to_string(run.join("history.csv")).expect("history.csv");
    history.lines().skip(1).map(|line| line.split(',').nth(1).unwrap().parse().unwrap()).collect()
}

/// The worst relative difference of `actual`'s weights from `expected`'s: per tensor, the
/// largest absolute difference over the largest magnitude.
fn worst_relative_difference(actual: &Path, expected: &Path) -> f64 {
    let (actual, expected) = (weights(actual), weights(expected));
    assert_eq!(actual.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    expected
        .iter()
        .map(|(name, e)| {
            let a = &actual[name];
            (a - e).abs().max().double_value(&[]) / e.abs().max().double_value(&[])
        })
        .fold(0.0, f64::max)
}

/// The bytes that make a run's end: weights, optimizer state, carried state, generators,
/// history.
fn end_bytes(run: &Path) -> Vec<(String, Vec<u8>)> {
    let names = ["model.safetensors", "optimizer.safetensors", "carry.safetensors", "rng.safetensors"];
    let mut bytes: Vec<(String, Vec<u8>)> = names
        .iter()
        .filter_map(|name| std::fs::read(run.join("latest").join(name)).ok().map(|b| (name.to_string(), b)))
        .collect();
    bytes.push(("history.csv".into(), std::fs::read(run.join("history.csv")).expect("history.csv")));
    bytes
}

/// Asserts that two runs ended on the same bits.
fn assert_same_bits(what: &str, actual: &Path, expected: &Path, files: &[&str]) {
    let (actual, expected) = (end_bytes(actual), end_bytes(expected));
    for name in files {
        let find = |bytes: &[(String, Vec<u8>)]| bytes.iter().find(|(n, _)| n == name).map(|(_, b)| b.clone());
        let (a, e) = (find(&actual), find(&expected));
        assert!(a.is_some() && a == e, "{what}: {name} differs (or is missing)");
    }
}

/// Whether distributed support is built in; if not, checks that `--nproc` says so in one line.
fn gloo_build(what: &str) -> bool {
    common::ranks::assert_no_distributed_build_error();
    if tch_rnn::distributed::available() {
        return true;
    }
    let dir = workspace("no-gloo");
    let output = run(what, &mut tch_rnn(dir.path(), "run", 10, &["--nproc", "2"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
    assert!(stderr.lines().count() == 1 && stderr.contains("bash scripts/setup.sh"), "{what}: {stderr}");
    eprintln!("{what}: this build has no distributed support: only --nproc's one-line refusal was checked");
    false
}

/// A distributed job's start: its turn on the machine and its folder, or `None` in a build
/// without distributed support (once its refusal is checked).
fn begin(what: &str, label: &str) -> Option<(MutexGuard<'static, ()>, TempDir)> {
    gloo_build(what).then(|| (one_job(), workspace(label)))
}

#[test]
fn ranks_follow_the_one_process_run_within_float_tolerance() {
    let Some((_job, dir)) = begin("ranks vs one process", "ddp-follow") else { return };
    let mut worst: Vec<String> = Vec::new();
    for batching in ["random", "streams"] {
        let flags = ["--batching", batching, "--threads", "1"];
        let one = format!("one-{batching}");
        trained("one process", &mut tch_rnn(dir.path(), &one, 50, &flags));
        for nproc in ["2", "4"] {
            let out = format!("{nproc}-{batching}");
            trained(&out, &mut tch_rnn(dir.path(), &out, 50, &[&flags[..2], &["--nproc", nproc]].concat()));
            let (ranks, alone) = (dir.path().join(&out), dir.path().join(&one));
            let difference = worst_relative_difference(&ranks, &alone);
            assert!(difference < 1e-4, "{out}: weights differ from one process's by {difference:e} (relative)");
            for (a, b) in losses(&ranks).iter().zip(losses(&alone)) {
                approx::assert_relative_eq!(*a, b, max_relative = 1e-5);
            }
            worst.push(format!("{nproc} ranks, {batching}: {difference:.1e}"));
        }
        // Resumed with another world size: 2 ranks to step 25, then one process to 50.
        let resumed = format!("resumed-{batching}");
        trained("2 ranks to 25", &mut tch_rnn(dir.path(), &resumed, 25, &[&flags[..2], &["--nproc", "2"]].concat()));
        trained("resumed alone", &mut tch_rnn(dir.path(), &resumed, 50, &[&flags[..], &["--resume"]].concat()));
        let difference = worst_relative_difference(&dir.path().join(&resumed), &dir.path().join(&one));
        assert!(difference < 1e-4, "{resumed}: weights differ from one process's by {difference:e} (relative)");
        worst.push(format!("2 ranks then 1, {batching}: {difference:.1e}"));
    }
    eprintln!("ranks vs one process after 50 steps, worst relative weight difference: {}", worst.join("; "));
}

/// torchrun from the project's Python.
fn torchrun(python: &Path) -> PathBuf {
    python.with_file_name("torchrun")
}

/// `char_model.py train` under torchrun with `nproc` ranks, the same run as [`tch_rnn`]'s.
fn pytorch_ranks(python: &Path, dir: &Path, out: &str, nproc: usize, steps: i64, extra: &[&str]) -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pytorch/char_model.py");
    let mut command = Command::new(torchrun(python));
    command
        .args(["--nproc-per-node", &nproc.to_string(), "--master-port", &free_port().to_string()])
        .arg(script)
        .arg("train")
        .args(TINY)
        .args(["--steps", &steps.to_string(), "--out", out, "--threads", "1"])
        .args(extra)
        .current_dir(dir)
        .env("PYTHONWARNINGS", "ignore");
    command
}

#[test]
fn rust_ranks_reach_pytorch_ddps_bits() {
    let Some((_job, dir)) = begin("Rust ranks vs PyTorch DDP", "ddp-bits") else { return };
    let Some(python) = live::python("Rust ranks vs PyTorch DDP") else { return };
    let all = ["model.safetensors", "optimizer.safetensors", "rng.safetensors", "history.csv"];
    for batching in ["random", "streams"] {
        let all = [&all[..], if batching == "streams" { &["carry.safetensors"] } else { &[] }].concat();
        let flags = ["--batching", batching];
        let (pytorch, rust) = (format!("pytorch-{batching}"), format!("rust-{batching}"));
        trained("PyTorch DDP", &mut pytorch_ranks(&python, dir.path(), &pytorch, 2, 60, &flags));
        trained(
            "Rust ranks",
            &mut tch_rnn(dir.path(), &rust, 60, &[&flags[..], &["--nproc", "2", "--threads", "1"]].concat()),
        );
        assert_same_bits(
            &format!("2 Rust ranks vs 2 PyTorch ranks, {batching}"),
            &dir.path().join(&rust),
            &dir.path().join(&pytorch),
            &all,
        );
    }
    // torchrun launching the Rust command itself (its agent hosts the store).
    let mut command = Command::new(torchrun(&python));
    command
        .args(["--nproc-per-node", "2", "--master-port", &free_port().to_string(), "--no-python"])
        .arg(env!("CARGO_BIN_EXE_tch-rnn"))
        .arg("train")
        .args(TINY)
        .args(["--steps", "60", "--sample-every", "0", "--out", "torchrun", "--threads", "1"])
        .current_dir(dir.path());
    trained("torchrun --no-python tch-rnn train", &mut command);
    assert_same_bits(
        "Rust ranks under torchrun",
        &dir.path().join("torchrun"),
        &dir.path().join("pytorch-random"),
        &all,
    );
    eprintln!(
        "Rust ranks vs PyTorch DDP: 2 ranks, random windows and streams, --nproc and torchrun: the same bits after 60 steps"
    );
}

#[test]
fn a_group_of_rust_and_pytorch_ranks_trains_as_pytorch_alone() {
    let Some((_job, dir)) = begin("mixed group", "ddp-mixed") else { return };
    let Some(python) = live::python("mixed group") else { return };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pytorch/char_model.py");
    for (rust_rank, batching) in [(0, "streams"), (1, "random")] {
        let (pytorch, mixed) = (format!("pytorch-{batching}"), format!("mixed-{batching}"));
        trained("PyTorch DDP", &mut pytorch_ranks(&python, dir.path(), &pytorch, 2, 60, &["--batching", batching]));
        let port = free_port();
        let ranks: Vec<Child> = (0..2)
            .map(|rank| {
                let mut command = if rank == rust_rank {
                    tch_rnn(dir.path(), &mixed, 60, &["--batching", batching, "--threads", "1"])
                } else {
                    let mut c = Command::new(&python);
                    c.args(["-c", THEN_NO_GLOO_THREADS]).arg(&script).arg("train").args(TINY);
                    c.args(["--steps", "60", "--out", &mixed, "--threads", "1", "--batching", batching]);
                    // A crash of the interpreter (at exit, say) then leaves a trace on stderr.
                    c.current_dir(dir.path()).env("PYTHONFAULTHANDLER", "1");
                    c
                };
                command.env("MASTER_ADDR", "127.0.0.1").env("MASTER_PORT", port.to_string());
                command.env("RANK", rank.to_string()).env("LOCAL_RANK", rank.to_string()).env("WORLD_SIZE", "2");
                command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start a rank")
            })
            .collect();
        for (rank, child) in ranks.into_iter().enumerate() {
            let output = child.wait_with_output().expect("a rank");
            let (status, stderr) = (output.status, String::from_utf8_lossy(&output.stderr));
            assert!(status.success(), "mixed group: rank {rank} (Rust: {rust_rank}) ended with {status}: {stderr}");
        }
        let files = ["model.safetensors", "optimizer.safetensors", "rng.safetensors"];
        let files = [&files[..], if batching == "streams" { &["carry.safetensors"] } else { &[] }].concat();
        let what = format!("Rust rank {rust_rank} with a PyTorch rank, {batching}");
        assert_same_bits(&what, &dir.path().join(&mixed), &dir.path().join(&pytorch), &files);
    }
    eprintln!("mixed group: a Rust rank (0, then 1) and a PyTorch rank trained to the all-PyTorch run's bits");
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").args([name, &pid.to_string()]).status().expect("kill");
    assert!(status.success(), "kill {name} {pid}");
}

/// The pid of rank `rank` among the launcher's children.
fn rank_pid(launcher: u32, rank: usize) -> u32 {
    let children = std::fs::read_to_string(format!("/proc/{launcher}/task/{launcher}/children")).unwrap_or_default();
    children
        .split_whitespace()
        .map(|pid| pid.parse::<u32>().unwrap())
        .find(|pid| {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            environ.split(|&b| b == 0).any(|var| var == format!("RANK={rank}").as_bytes())
        })
        .unwrap_or_else(|| panic!("rank {rank} is not among the launcher's children ({children})"))
}

/// Starts a 3-rank run and waits until its checkpoint at `step` exists.
fn start_until(dir: &Path, out: &str, steps: i64, resume: bool, step: i64) -> Child {
    let resume: &[&str] = if resume { &["--resume"] } else { &[] };
    let extra = [&["--nproc", "3", "--timeout", "30", "--batch", "6"][..], resume].concat();
    let mut child = tch_rnn(dir, out, steps, &extra).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let checkpoint = dir.join(out).join(format!("checkpoints/step-{step:06}"));
    let started = Instant::now();
    while !checkpoint.exists() {
        if child.try_wait().unwrap().is_some() {
            let stderr = String::from_utf8_lossy(&child.wait_with_output().unwrap().stderr).into_owned();
            panic!("{out}: ended before step {step}: {stderr}");
        }
        assert!(started.elapsed() < RUN_LIMIT, "{out}: no checkpoint at step {step} after {RUN_LIMIT:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

#[test]
fn the_launcher_stops_a_rank_that_would_wait_for_the_timeout() {
    let Some((_job, dir)) = begin("hung rank", "ddp-hang") else { return };
    // Rank 2 stopped (alive, silent: it would only fail at --timeout, 30 s), rank 1 killed.
    let launcher = start_until(dir.path(), "run", 400, false, 25);
    let (stuck, lost) = (rank_pid(launcher.id(), 2), rank_pid(launcher.id(), 1));
    signal(stuck, "-STOP");
    signal(lost, "-KILL");
    let killed = Instant::now();
    let output = launcher.wait_with_output().unwrap();
    let ended = killed.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).replace('\r', "\n");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: rank 1 was killed by signal 9; the other ranks stopped"), "{stderr}");
    assert!(ended < Duration::from_secs(25), "the job took {ended:?} to end, not 10 s after the failure");
    assert!(!Path::new(&format!("/proc/{stuck}")).exists(), "the stopped rank was left behind");
    eprintln!("hung rank: 3 ranks, rank 2 stopped and rank 1 killed: the launcher ended the job in {ended:.2?}");
}

#[test]
fn a_killed_rank_ends_the_job_in_one_line_each_and_the_run_resumes() {
    let Some((_job, dir)) = begin("killed rank", "ddp-kill") else { return };
    let steps = 400;
    let straight = [&["--nproc", "3", "--timeout", "30", "--batch", "6"][..]].concat();
    trained("uninterrupted", &mut tch_rnn(dir.path(), "straight", steps, &straight));

    // SIGTERM to the launcher: every rank saves and stops; exit code 130.
    let launcher = start_until(dir.path(), "run", steps, false, 50);
    signal(launcher.id(), "-TERM");
    let output = launcher.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "SIGTERM: {}", String::from_utf8_lossy(&output.stderr));
    let stopped = Checkpoint::open(&dir.path().join("run")).expect("the checkpoint of the stop").state.step;
    assert!(stopped >= 50 && stopped < steps, "stopped at step {stopped}");

    // SIGKILL to rank 1: every survivor and the launcher end, one line each, naming rank 1.
    let launcher = start_until(dir.path(), "run", steps, true, (stopped / 25 + 2) * 25);
    signal(rank_pid(launcher.id(), 1), "-KILL");
    let killed = Instant::now();
    let output = launcher.wait_with_output().unwrap();
    let ended = killed.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).replace('\r', "\n");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(output.status.code(), Some(1), "SIGKILL: {stderr}");
    assert!(ended < Duration::from_secs(30), "the job took {ended:?} to end");
    assert_eq!(errors.len(), 3, "one line from each survivor and the launcher: {errors:#?}");
    for line in &errors {
        assert!(line.contains("rank 1"), "a line that does not name rank 1: {line}");
    }
    let checkpoint = Checkpoint::open(&dir.path().join("run")).expect("the last checkpoint is intact");
    assert!(checkpoint.state.step > stopped);

    // Resumed, the run ends where the uninterrupted one does, within float tolerance: with 3
    // ranks, DDP's first step after a restart reduces in its initial bucket, a layout Gloo's
    // ring sums in another order (as PyTorch's DDP does; 2 ranks resume bit for bit, below).
    trained("resumed", &mut tch_rnn(dir.path(), "run", steps, &[&straight[..], &["--resume"]].concat()));
    assert_eq!(Checkpoint::open(&dir.path().join("run")).unwrap().state.step, steps);
    let difference = worst_relative_difference(&dir.path().join("run"), &dir.path().join("straight"));
    assert!(difference < 1e-3, "stopped, killed and resumed: weights differ by {difference:e} (relative)");
    eprintln!(
        "killed rank: 3 ranks, SIGTERM saved at step {stopped}; SIGKILL of rank 1 ended the job in {ended:.2?} with {} lines naming it; \
         resumed to {steps} steps, {difference:.1e} (relative) from the uninterrupted run",
        errors.len()
    );
}

#[test]
fn two_ranks_resume_to_the_bits_of_an_uninterrupted_run() {
    let Some((_job, dir)) = begin("2 ranks resumed", "ddp-resume") else { return };
    for batching in ["random", "streams"] {
        let flags = ["--nproc", "2", "--batching", batching];
        let (straight, resumed) = (format!("straight-{batching}"), format!("resumed-{batching}"));
        trained("uninterrupted", &mut tch_rnn(dir.path(), &straight, 80, &flags));
        trained("first half", &mut tch_rnn(dir.path(), &resumed, 40, &flags));
        trained("resumed", &mut tch_rnn(dir.path(), &resumed, 80, &[&flags[..], &["--resume"]].concat()));
        // (The histories differ in one validation loss: the first half measured one at its end.)
        let all = ["model.safetensors", "optimizer.safetensors", "rng.safetensors"];
        let all = [&all[..], if batching == "streams" { &["carry.safetensors"] } else { &[] }].concat();
        let what = format!("2 ranks resumed, {batching}");
        assert_eq!(losses(&dir.path().join(&resumed)), losses(&dir.path().join(&straight)), "{what}: training losses");
        assert_same_bits(&what, &dir.path().join(&resumed), &dir.path().join(&straight), &all);
    }
}

#[test]
fn bad_input_with_ranks_is_one_line_and_touches_nothing() {
    let Some((_job, dir)) = begin("bad input with ranks", "ddp-bad") else { return };
    let cases: [(&[&str], i32, &str); 3] = [
        (&["--nproc", "3"], 1, "--batch: must be a multiple of the 3 ranks (each takes an equal share), got 8"),
        (&["--nproc", "2", "--text", "missing.txt"], 1, "missing.txt"),
        (&["--nproc", "2", "--hidden", "0"], 2, "--hidden"),
    ];
    for (flags, code, expected) in cases {
        let output = run("bad input", &mut tch_rnn(dir.path(), "bad", 10, flags));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{flags:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{flags:?}: one line, from rank 0 only: {stderr}");
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
        assert!(!dir.path().join("bad").exists(), "{flags:?}: the run's folder was made");
    }
    let output = run(
        "--nproc in a rank",
        tch_rnn(dir.path(), "bad", 10, &["--nproc", "2"]).env("RANK", "0").env("WORLD_SIZE", "1"),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.lines().count() == 1 && stderr.contains("already a rank"), "{stderr}");
}
