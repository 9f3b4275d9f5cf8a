//! Tutorial program `rnn_batch_first`: prints byte for byte what `python scripts/pytorch/rnn_batch_first.py SEED`
//! prints. Run: `cargo run --release --example rnn_batch_first -- --seed 7`.

use tch_rnn::cli::tutorial::{SeedCli, main as run};

fn main() -> std::process::ExitCode {
    run::<SeedCli>("rnn_batch_first")
}
