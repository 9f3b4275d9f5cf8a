//! Makes every binary, example and test of the crate run without LD_LIBRARY_PATH (an rpath to
//! the libtorch that torch-sys linked), passes that folder on to crates that depend on this one,
//! and compiles the small C++ shim in src/ffi/; its distributed part (libtorch's c10d with the
//! Gloo backend) only when gloo's headers are there, telling Rust so with `cfg(tch_rnn_distributed)`.

use std::path::{Path, PathBuf};

/// The shim's files, one per purpose (see src/ffi/mod.rs), and the header they share.
const SHIM: [&str; 4] = ["src/ffi/autograd.cpp", "src/ffi/backends.cpp", "src/ffi/rng.cpp", "src/ffi/tensor_ops.cpp"];
const SHIM_HEADER: &str = "src/ffi/shim.h";

fn main() {
    // torch-sys (links = "tch") passes on the lib folder it linked against.
    let lib =
        PathBuf::from(std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys did not report its libtorch lib folder"));
    let lib = lib.canonicalize().unwrap_or(lib);
    let root = lib.parent().expect("libtorch lib folder has a parent").to_path_buf();
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    // With `links = "tch_rnn"`, the build scripts of crates that depend on this one directly see
    // this folder as DEP_TCH_RNN_LIBTORCH_LIB, and can give their binaries the same rpath
    // (cargo passes link args of a library on to nobody; see tests/downstream/build.rs).
    println!("cargo:libtorch_lib={}", lib.display());

    println!("cargo:rerun-if-changed={SHIM_HEADER}");
    for file in SHIM {
        println!("cargo:rerun-if-changed={file}");
    }
    shim_build(&root).files(SHIM).compile("tch_rnn_shim");
    distributed(&root);
}

/// A C++ build against libtorch's headers, as libtorch was compiled (C++17, the new ABI).
fn shim_build(root: &Path) -> cc::Build {
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(root.join("include"))
        .include(root.join("include/torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag("-D_GLIBCXX_USE_CXX11_ABI=1")
        .flag("-DGLOG_USE_GLOG_EXPORT");
    build
}

/// The distributed shim (`src/ffi/distributed.cpp`), compiled when gloo's headers are found:
/// `TCH_RNN_GLOO_INCLUDE` if set (empty turns distributed support off), else the
/// `.venv/gloo/include` that scripts/setup.sh fills. ProcessGroupGloo.hpp compiles to nothing
/// without `USE_C10D_GLOO`; gloo's code itself is inside libtorch_cpu.so.
fn distributed(root: &Path) {
    const SOURCE: &str = "src/ffi/distributed.cpp";
    println!("cargo::rustc-check-cfg=cfg(tch_rnn_distributed)");
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-env-changed=TCH_RNN_GLOO_INCLUDE");
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv");
    // setup.sh writes gloo/status whether or not it got the headers, and touches the set-up
    // stamp when they arrive: watching them notices a later set-up without rerunning every build.
    for watched in [venv.join("gloo/status"), venv.join(".setup-complete")] {
        if watched.exists() {
            println!("cargo:rerun-if-changed={}", watched.display());
        }
    }
    let include = match std::env::var_os("TCH_RNN_GLOO_INCLUDE") {
        Some(dir) => PathBuf::from(dir),
        None => venv.join("gloo/include"),
    };
    if !include.join("gloo/context.h").exists() {
        return;
    }
    let mut build = shim_build(root);
    match build.include(&include).flag("-DUSE_C10D_GLOO").file(SOURCE).try_compile("tch_rnn_distributed") {
        Ok(()) => {
            println!("cargo:rustc-cfg=tch_rnn_distributed");
            nccl(root);
        }
        Err(e) => {
            let why = format!("{SOURCE} did not compile against the gloo headers in {}", include.display());
            println!("cargo:warning=distributed support off: {why}: {e}");
            // The crate says so at run time, and the distributed tests fail on it.
            println!("cargo:rustc-env=TCH_RNN_DISTRIBUTED_BUILD_ERROR={why} (cargo build -vv shows the errors)");
        }
    }
}

/// The NCCL backend (`src/ffi/nccl.cpp`) as a shared library of its own, linked against
/// libtorch_cuda and loaded only when a group asks for NCCL; its path reaches the crate as
/// `TCH_RNN_NCCL_BUILT`. Built when libtorch is a CUDA build and the headers are there:
/// `TCH_RNN_CUDA_INCLUDE` (folders separated by `:`; empty turns NCCL off), else the CUDA and
/// NCCL wheels' beside libtorch (`nvidia/cu13/include`, `nvidia/nccl/include`), which
/// scripts/setup.sh completes with CUDA's compiler headers.
fn nccl(root: &Path) {
    const SOURCE: &str = "src/ffi/nccl.cpp";
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-env-changed=TCH_RNN_CUDA_INCLUDE");
    let lib = root.join("lib");
    let nvidia = root.parent().map(|site| site.join("nvidia")).unwrap_or_default();
    let includes: Vec<PathBuf> = match std::env::var_os("TCH_RNN_CUDA_INCLUDE") {
        Some(dirs) => std::env::split_paths(&dirs).collect(),
        None => vec![nvidia.join("cu13/include"), nvidia.join("nccl/include")],
    };
    let found = |file: &str| includes.iter().any(|dir| dir.join(file).exists());
    let needed = ["nccl.h", "cuda_runtime_api.h", "crt/host_config.h", "nv/target"];
    let pg_nccl = root.join("include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp");
    if !lib.join("libtorch_cuda.so").exists() || !pg_nccl.exists() || !needed.iter().all(|file| found(file)) {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("libtch_rnn_nccl.so");
    let mut build = shim_build(root);
    build.flag("-DUSE_C10D_NCCL");
    for dir in &includes {
        build.include(dir);
    }
    let mut command = build.get_compiler().to_command();
    command.args(["-shared", "-o"]).arg(&out).arg(SOURCE).arg(format!("-L{}", lib.display()));
    command.args(["-ltorch_cuda", "-lc10_cuda", "-ltorch_cpu", "-lc10"]);
    command.arg(format!("-Wl,-rpath,{}", lib.display()));
    match command.output() {
        Ok(done) if done.status.success() => println!("cargo:rustc-env=TCH_RNN_NCCL_BUILT={}", out.display()),
        Ok(done) => {
            let why = String::from_utf8_lossy(&done.stderr);
            let first = why.lines().find(|line| line.contains("error")).unwrap_or("no message");
            nccl_failed(&format!("{SOURCE} did not build: {first}"));
        }
        Err(e) => nccl_failed(&format!("the C++ compiler did not run: {e}")),
    }
}

/// Says why the NCCL backend did not build, in the build's output and to the crate (at run
/// time, and the NCCL test fails on it).
fn nccl_failed(why: &str) {
    println!("cargo:warning=NCCL backend off: {why}");
    println!("cargo:rustc-env=TCH_RNN_NCCL_BUILD_ERROR={why}");
}
