//! Tutorial program `rnn`: prints byte for byte what `python scripts/pytorch/rnn.py SEED`
//! prints. Run: `cargo run --release --example rnn -- --seed 7`.

use tch_rnn::cli::tutorial::{SeedCli, main as run};

fn main() -> std::process::ExitCode {
    run::<SeedCli>("rnn")
}
