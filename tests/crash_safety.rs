//! `tch-rnn train` killed without warning: a chain of runs, each resumed from where the last
//! was killed with SIGKILL at a drawn moment (with a checkpoint every step, most kills land in
//! the middle of writing one). After every kill the latest checkpoint must open, load and
//! restore completely; at the end the resumed chain must finish on exactly the bits of a run
//! that was never interrupted: nothing lost, nothing changed. Ctrl-C (SIGINT) and SIGTERM save a
//! complete checkpoint and exit with code 130; the run resumes from it. The figures are printed
//! (`crash safety: ...`).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TempDir;
use tch::Device;
use tch_rnn::charlm::{Checkpoint, SHAKESPEARE};
use tch_rnn::optim::Adam;

const STEPS: i64 = 600;

fn train(dir: &Path, out: &str, resume: bool, steps: i64) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tch-rnn"));
    command
        .args(["train", "--text", "tiny.txt", "--hidden", "8", "--embedding", "4", "--layers", "1", "--seq-len", "8"])
        .args(["--batch", "2", "--steps", &steps.to_string(), "--eval-every", "1", "--sample-every", "0"])
        .args(["--threads", "1"])
        .args(["--out", out])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if resume {
        command.arg("--resume");
    }
    command
}

/// Everything a resume reads, loaded: the checkpoint is complete.
fn assert_complete(run: &Path, what: &str) -> i64 {
    let checkpoint = Checkpoint::open(run).unwrap_or_else(|e| panic!("{what}: the latest checkpoint: {e:#}"));
    let (_vs, model) = checkpoint.load_model(Device::Cpu).unwrap_or_else(|e| panic!("{what}: {e:#}"));
    let named = model.named_parameters();
    let names: Vec<String> = named.iter().map(|(n, _)| n.clone()).collect();
    let mut adam = Adam::new(named.into_iter().map(|(_, p)| p).collect(), Default::default()).unwrap();
    checkpoint.restore_optimizer(&mut adam, &names).unwrap_or_else(|e| panic!("{what}: {e:#}"));
    checkpoint.rng().unwrap_or_else(|e| panic!("{what}: {e:#}"));
    checkpoint.state.step
}

fn tensors(run: &Path) -> Vec<Vec<u8>> {
    ["model.safetensors", "optimizer.safetensors", "rng.safetensors"]
        .iter()
        .map(|name| std::fs::read(run.join("latest").join(name)).expect("checkpoint file"))
        .collect()
}

/// A write the kill interrupted (a checkpoint, the history or its plot) leaves its temporary
/// file or folder behind, a hidden name (the next save of a checkpoint removes them).
fn interrupted_writes(run: &Path) -> usize {
    let hidden = |dir: &Path| {
        std::fs::read_dir(dir)
            .map(|entries| entries.flatten().filter(|e| e.file_name().to_string_lossy().starts_with('.')).count())
            .unwrap_or(0)
    };
    hidden(run) + hidden(&run.join("checkpoints"))
}

fn kill(child: &mut Child, signal: &str) {
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
}

#[test]
fn killed_runs_resume_to_the_bits_of_an_uninterrupted_one() {
    let dir = TempDir::new("crash");
    std::fs::write(dir.path().join("tiny.txt"), &SHAKESPEARE[..5000]).unwrap();
    let mut straight = train(dir.path(), "straight", false, STEPS).spawn().expect("start the uninterrupted run");

    let run = dir.path().join("killed");
    // Drawn delays (a fixed LCG): spread over start-up, training and checkpoint writes.
    let mut seed: u64 = 0x5eed_c0de;
    let (mut kills, mut mid_write, mut last_step) = (0, 0, 0);
    for round in 0..10 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = Duration::from_millis(250 + (seed >> 33) % 900);
        let resume = std::fs::symlink_metadata(run.join("latest")).is_ok();
        let mut child = train(dir.path(), "killed", resume, STEPS).spawn().expect("start a run");
        let started = Instant::now();
        while started.elapsed() < delay && child.try_wait().expect("wait").is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().expect("wait").is_some() {
            break; // it finished before its kill
        }
        kill(&mut child, "-KILL");
        let _ = child.wait();
        kills += 1;
        mid_write += usize::from(interrupted_writes(&run) > 0);
        if std::fs::symlink_metadata(run.join("latest")).is_ok() {
            let step = assert_complete(&run, &format!("after kill {round}"));
            assert!(step >= last_step, "kill {round}: the latest checkpoint went back from {last_step} to {step}");
            last_step = step;
        }
    }
    assert!(kills >= 5, "only {kills} runs were killed: the kills came too late");
    let finished = train(dir.path(), "killed", true, STEPS).output().expect("the last resume");
    assert!(finished.status.success(), "the last resume: {}", String::from_utf8_lossy(&finished.stderr));
    assert!(straight.wait().expect("the uninterrupted run").success());
    assert_eq!(assert_complete(&run, "the end"), STEPS);
    assert!(tensors(&run) == tensors(&dir.path().join("straight")), "weights, Adam's state or generators differ");
    let history = |name: &str| std::fs::read_to_string(dir.path().join(name).join("history.csv")).expect("history");
    assert_eq!(history("killed"), history("straight"), "the loss history");
    eprintln!(
        "crash safety: {kills} SIGKILLs survived ({mid_write} in the middle of writing a checkpoint, the history or the plot), the last \
         checkpoint complete after each; the resumed run ended bit-identical to an uninterrupted one"
    );
}

#[test]
fn ctrl_c_and_sigterm_save_and_exit_130() {
    for signal in ["-INT", "-TERM"] {
        let dir = TempDir::new("interrupted");
        std::fs::write(dir.path().join("tiny.txt"), &SHAKESPEARE[..5000]).unwrap();
        let mut child = train(dir.path(), "run", false, 1_000_000)
            .args(["--eval-every", "20"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start");
        let run = dir.path().join("run");
        // Training is under way (and its signal handler installed) once the first checkpoint is.
        let started = Instant::now();
        while std::fs::symlink_metadata(run.join("latest")).is_err() {
            assert!(child.try_wait().unwrap().is_none(), "{signal}: the run ended before the signal");
            assert!(started.elapsed() < Duration::from_secs(120), "{signal}: no checkpoint after 2 minutes");
            std::thread::sleep(Duration::from_millis(10));
        }
        kill(&mut child, signal);
        let output = child.wait_with_output().expect("wait");
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.status.code(), Some(130), "{signal}: {stderr}");
        assert!(stdout.contains("interrupted at step"), "{signal}: {stdout}");
        assert!(stderr.contains("saving a checkpoint"), "{signal}: {stderr}");
        let step = assert_complete(&run, &format!("after {signal}"));
        assert!(step >= 5, "{signal}: stopped at step {step}");
        let resumed = train(dir.path(), "run", true, step + 3).output().expect("resume");
        assert!(resumed.status.success(), "{signal}: {}", String::from_utf8_lossy(&resumed.stderr));
        assert_eq!(assert_complete(&run, &format!("resumed after {signal}")), step + 3);
    }
}
