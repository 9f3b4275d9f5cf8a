//! Tutorial program `rnn_cell`: prints byte for byte what `python scripts/pytorch/rnn_cell.py SEED`
//! prints. Run: `cargo run --release --example rnn_cell -- --seed 7`.

use clap::Parser;
use tch_rnn::tutorials::cli::{SeedCli, main as run};

fn main() -> std::process::ExitCode {
    run("rnn_cell", SeedCli::parse().into())
}
