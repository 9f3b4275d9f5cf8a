fn main() {
    // tch-rnn (links = "tch_rnn") passes on the libtorch lib folder its own binaries use.
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", std::env::var("DEP_TCH_RNN_LIBTORCH_LIB").unwrap());
}
