//! Lets the fuzz targets run without LD_LIBRARY_PATH: an rpath to the libtorch that torch-sys
//! linked, as the main crate's build.rs gives its own binaries.

fn main() {
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys did not report its libtorch lib folder");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
}
