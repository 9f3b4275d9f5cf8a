//! tch-rnn as a dependency: tests/downstream/ is a crate that depends on it by path, as users'
//! crates will. Its build script gives its binary an rpath to the libtorch lib folder that
//! tch-rnn's build script passes on (`links = "tch_rnn"`, DEP_TCH_RNN_LIBTORCH_LIB), so the
//! binary starts without LD_LIBRARY_PATH; this test builds it with cargo and runs it so.
//!
//! The nested cargo shares this test's own target dir, so the compiled torch-sys (minutes of
//! C++) and every other registry crate are reused. What was measured (cargo 1.95):
//! - the outer `cargo test` releases the target dir's lock once its build is done, before it
//!   runs test binaries: the nested cargo on the same dir does not block (it would if another
//!   cargo were building in that dir at the same time; it then waits for it);
//! - registry crates have the same metadata hash in both workspaces and are reused, but
//!   tch-rnn itself is compiled again for the downstream workspace (cargo hashes a path
//!   package with its path relative to the workspace root, `.` here and `../..` there): about
//!   10 s on 2 cores after a change to the library's Rust code, 25 s after one to its C++ shim
//!   (compiled again too), 0.1 s when nothing changed;
//! - the downstream crate gets the project's Cargo.lock (copied, kept out of git by its
//!   .gitignore), so that it resolves offline to the very versions already compiled.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{Rnn, RnnConfig};
use tch_rnn::repr::Repr;

/// What tests/downstream/src/main.rs prints, computed here with the library itself.
fn expected_output() -> String {
    tch::manual_seed(0);
    let vs = VarStore::new(Device::Cpu);
    let rnn = Rnn::new(vs.root() / "rnn", RnnConfig { input_size: 3, hidden_size: 2, ..Default::default() }).unwrap();
    let x = Tensor::arange(6, (Kind::Float, Device::Cpu)).view([2, 1, 3]) / 6.0;
    let (_, h_n) = rnn.forward(&x, None).unwrap();
    format!("h_n: {}\n", Repr(&h_n))
}

/// The target dir this test binary was built in, its profile's folder (`release`, `debug`, ...) and the
/// `--target` triple when there was one: `<target>[/<triple>]/<profile>/deps/downstream-<hash>`.
fn build_layout() -> (PathBuf, String, Option<String>) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("<target>/<profile>/deps/<test binary>");
    let profile = profile_dir.file_name().unwrap().to_string_lossy().into_owned();
    let above = profile_dir.parent().expect("a target dir").to_path_buf();
    if above.join("CACHEDIR.TAG").exists() {
        (above, profile, None)
    } else {
        let triple = above.file_name().unwrap().to_string_lossy().into_owned();
        (above.parent().expect("a target dir").to_path_buf(), profile, Some(triple))
    }
}

/// Runs `command` to its end, or panics after `limit` with what it printed.
fn run(what: &str, command: &mut Command, limit: Duration) -> (String, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let stdout = std::thread::spawn(move || std::io::read_to_string(&mut out).unwrap_or_default());
    let stderr = std::thread::spawn(move || std::io::read_to_string(&mut err).unwrap_or_default());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for a child process") {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    match status {
        Some(status) if status.success() => (stdout, stderr),
        Some(status) => panic!("{what}: {status}\n{stdout}\n{stderr}"),
        None => panic!("{what}: still running after {limit:?} (killed)\n{stdout}\n{stderr}"),
    }
}

#[test]
fn a_crate_depending_on_tch_rnn_runs_without_ld_library_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let crate_dir = root.join("tests/downstream");
    std::fs::copy(root.join("Cargo.lock"), crate_dir.join("Cargo.lock")).expect("copying Cargo.lock");
    let (target_dir, profile_dir, triple) = build_layout();
    // The dev profile builds into `debug`; every other profile into a folder of its name.
    let profile = if profile_dir == "debug" { "dev" } else { profile_dir.as_str() };

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(&crate_dir)
        .args(["build", "--offline", "--profile", profile])
        .arg("--target-dir")
        .arg(&target_dir);
    if let Some(triple) = &triple {
        build.args(["--target", triple]);
    }
    // cargo test runs tests with LD_LIBRARY_PATH set to its build folders: nothing of it may
    // reach the downstream build or binary.
    build.env_remove("LD_LIBRARY_PATH");
    let start = Instant::now();
    run("cargo build of tests/downstream", &mut build, Duration::from_secs(900));
    eprintln!("tests/downstream built in {:.1} s", start.elapsed().as_secs_f64());

    let mut bin = triple.map_or(target_dir.clone(), |triple| target_dir.join(triple));
    bin = bin.join(&profile_dir).join("tch-rnn-downstream");
    let (stdout, stderr) =
        run("tch-rnn-downstream", Command::new(&bin).env_remove("LD_LIBRARY_PATH"), Duration::from_secs(60));
    assert_eq!(stdout, expected_output(), "stderr:\n{stderr}");
    assert!(stdout.starts_with("h_n: tensor([[[") && stdout.contains("grad_fn=<StackBackward0>"), "{stdout}");
}
