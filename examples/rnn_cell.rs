//! Tutorial program `rnn_cell`: prints byte for byte what `python scripts/pytorch/rnn_cell.py SEED`
//! prints. Run: `cargo run --release --example rnn_cell -- --seed 7`.

use tch_rnn::cli::tutorial::{SeedCli, main as run};

fn main() -> std::process::ExitCode {
    run::<SeedCli>("rnn_cell")
}
