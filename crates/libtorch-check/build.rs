//! Checks that `LIBTORCH` points at libtorch 2.13.0 (the version tch 0.26 is built for).

use std::path::Path;
use std::process::exit;

const EXPECTED_VERSION: &str = "2.13.0";
const HOW_TO_FIX: &str = "run `bash scripts/setup.sh`, or set LIBTORCH to a libtorch 2.13.0 folder";

fn fail(problem: &str) -> ! {
    eprintln!("error: tch-rnn: {problem}: {HOW_TO_FIX}");
    exit(1);
}

/// The version recorded in a standalone libtorch (`build-version`) or in a PyTorch wheel's
/// `version.py` (`__version__ = '2.13.0+cu128'`), without any local suffix.
fn recorded_version(libtorch: &Path) -> Option<String> {
    if let Ok(text) = std::fs::read_to_string(libtorch.join("build-version")) {
        return Some(text.trim().split('+').next()?.to_owned());
    }
    let text = std::fs::read_to_string(libtorch.join("version.py")).ok()?;
    let line = text.lines().find(|l| l.starts_with("__version__"))?;
    let quoted = line.split(['\'', '"']).nth(1)?;
    Some(quoted.split('+').next()?.to_owned())
}

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let Some(libtorch) = std::env::var_os("LIBTORCH") else {
        fail("LIBTORCH is not set")
    };
    let libtorch = Path::new(&libtorch);
    let lib = libtorch.join("lib");
    println!("cargo:rerun-if-changed={}", lib.display());
    let found = ["libtorch_cpu.so", "libtorch_cpu.dylib", "torch_cpu.dll"]
        .iter()
        .any(|name| lib.join(name).exists());
    if !found {
        fail(&format!("libtorch not found at {}", libtorch.display()));
    }
    match recorded_version(libtorch) {
        Some(version) if version != EXPECTED_VERSION => fail(&format!(
            "{} holds libtorch {version}, tch 0.26 needs {EXPECTED_VERSION}",
            libtorch.display()
        )),
        _ => {}
    }
}
