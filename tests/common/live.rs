//! The PyTorch that scripts/setup.sh installed, for the checks that compare Rust with PyTorch
//! live on this machine. Without it those checks fail with one line saying to run
//! scripts/setup.sh, unless `TCH_RNN_SKIP_LIVE=1` is set: then they say on stderr that they
//! were skipped. Never a silent skip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set to 1 to skip the live checks (for a machine without the project's Python).
pub const SKIP_ENV: &str = "TCH_RNN_SKIP_LIVE";
/// Comma-separated seeds that replace the fresh ones, to replay a failed live run.
pub const SEEDS_ENV: &str = "TCH_RNN_LIVE_SEEDS";

/// The project's Python, `.venv/bin/python`; `None` when the live checks are to be skipped
/// (said on stderr, past the test harness's capture). Panics with one line when it is
/// missing and no opt-out is set.
pub fn python(what: &str) -> Option<PathBuf> {
    if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
        let _ = writeln!(std::io::stderr(), "{what}: live checks against PyTorch skipped ({SKIP_ENV}=1)");
        return None;
    }
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        python.exists(),
        "{what}: no PyTorch at {}: run `bash scripts/setup.sh` (or set {SKIP_ENV}=1 to skip the live checks)",
        python.display()
    );
    Some(python)
}

/// Runs `python script args...` from the repository root; panics with its stderr when it fails.
pub fn run_script(python: &Path, script: &str, args: &[&std::ffi::OsStr]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(python)
        .arg(root.join(script))
        .args(args)
        .current_dir(root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} {script}: {e}", python.display()));
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// `count` seeds in [0, 2^31) drawn afresh for this run (from the process's random hasher
/// keys and the clock), or the ones `TCH_RNN_LIVE_SEEDS` gives.
pub fn fresh_seeds(count: usize) -> Vec<i64> {
    if let Ok(list) = std::env::var(SEEDS_ENV) {
        return list
            .split(',')
            .map(|s| s.trim().parse().unwrap_or_else(|_| panic!("{SEEDS_ENV}: '{s}' is not an integer seed")))
            .collect();
    }
    use std::hash::{BuildHasher, Hasher};
    let state = std::collections::hash_map::RandomState::new();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    (0..count)
        .map(|i| {
            let mut h = state.build_hasher();
            h.write_u128(nanos);
            h.write_usize(i);
            (h.finish() % (1 << 31)) as i64
        })
        .collect()
}
