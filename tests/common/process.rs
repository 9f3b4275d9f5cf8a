//! Process-wide state and small helpers: the lock around libtorch's global generator,
//! temporary directories, and checking that a call returns `Err` instead of panicking.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

static RNG: Mutex<()> = Mutex::new(());

/// Serialises the tests of one binary that use libtorch's global generator (every module
/// constructor draws from it; `tch::manual_seed` resets it), since cargo runs tests on
/// several threads. Hold the guard for the whole test. A test that failed while holding it
/// does not poison it for the others.
pub fn rng_lock() -> MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A directory under the system temp dir, unique to this process and call, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tch-rnn-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `f` and returns the text of its error (with its context chain). Panics, naming
/// `what`, when `f` succeeds or panics instead of returning `Err`.
pub fn expect_err<T>(what: &str, f: impl FnOnce() -> anyhow::Result<T>) -> String {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(_)) => panic!("{what}: expected an error, got Ok"),
        Ok(Err(e)) => format!("{e:#}"),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{what}: panicked instead of returning Err: {message}")
        }
    }
}

/// Asserts that `text` contains every one of `needles`, naming `what` on failure.
pub fn assert_contains_all(what: &str, text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{what}: expected the message to contain {needle:?}, got:\n{text}");
    }
}

/// What libtorch's own error text contains (its C++ trace, its internal assertions): a message
/// of ours never does.
pub const LIBTORCH_TEXT: [&str; 4] = ["Exception raised from", "frame #", "Internal torch error", "c10::"];

/// Runs `f`, expects `Err`, and checks that its message starts with `module:`, contains every
/// one of `needles`, holds on one line and carries none of libtorch's text; returns it.
pub fn check_err<T>(what: &str, module: &str, needles: &[&str], f: impl FnOnce() -> anyhow::Result<T>) -> String {
    let message = expect_err(what, f);
    assert!(
        message.starts_with(&format!("{module}:")),
        "{what}: the message should start with '{module}:', got:\n{message}"
    );
    assert_contains_all(what, &message, needles);
    assert_eq!(message.lines().count(), 1, "{what}: the message should be one line, got:\n{message}");
    for raw in LIBTORCH_TEXT {
        assert!(!message.contains(raw), "{what}: libtorch's text leaked into the message:\n{message}");
    }
    message
}

/// A float32 tensor of standard normal draws on the CPU.
pub fn randn(shape: &[i64]) -> tch::Tensor {
    tch::Tensor::randn(shape, (tch::Kind::Float, tch::Device::Cpu))
}

/// Runs the `#[ignore]`d test `name` of this test binary alone in a fresh process, for tests
/// about process-wide state (which libraries are loaded, what libtorch has cached), and returns
/// what it printed; panics with its output if it failed.
pub fn run_isolated(name: &str) -> (String, String) {
    let exe = std::env::current_exe().expect("the test binary");
    let output = std::process::Command::new(exe)
        .args([name, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .output()
        .unwrap_or_else(|e| panic!("cannot rerun the test binary for {name}: {e}"));
    let (stdout, stderr) =
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert!(output.status.success(), "{name} failed in its own process:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{name} did not run in its own process:\n{stdout}");
    (stdout, stderr)
}
