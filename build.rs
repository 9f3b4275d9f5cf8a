//! Makes every binary, example and test of the crate run without LD_LIBRARY_PATH (an rpath to
//! the libtorch that torch-sys linked), and compiles the small C++ shim in src/ffi/.

use std::path::PathBuf;

fn main() {
    // torch-sys (links = "tch") passes on the lib folder it linked against.
    let lib =
        PathBuf::from(std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys did not report its libtorch lib folder"));
    let lib = lib.canonicalize().unwrap_or(lib);
    let root = lib.parent().expect("libtorch lib folder has a parent").to_path_buf();
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());

    let shim = "src/ffi/autograd_shim.cpp";
    println!("cargo:rerun-if-changed={shim}");
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(root.join("include"))
        .include(root.join("include/torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag("-D_GLIBCXX_USE_CXX11_ABI=1")
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .file(shim)
        .compile("tch_rnn_shim");
}
