//! The `tch-rnn` command (see `tch-rnn --help` and the README); its code is the library's
//! [`tch_rnn::cli`].

fn main() -> std::process::ExitCode {
    tch_rnn::cli::main()
}
