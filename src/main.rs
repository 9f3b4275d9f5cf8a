//! The `tch-rnn` command (see `tch-rnn --help` and the README).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
