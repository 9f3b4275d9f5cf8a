//! Makes every binary, example and test of the crate run without LD_LIBRARY_PATH (an rpath to
//! the libtorch that torch-sys linked), passes that folder on to crates that depend on this one,
//! and compiles the small C++ shim in src/ffi/.

use std::path::PathBuf;

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
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(root.join("include"))
        .include(root.join("include/torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag("-D_GLIBCXX_USE_CXX11_ABI=1")
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .files(SHIM)
        .compile("tch_rnn_shim");
}
