//! Tutorial program `packed_sequences`: prints byte for byte what `python scripts/pytorch/packed_sequences.py SEED`
//! prints. Run: `cargo run --release --example packed_sequences -- --seed 7 [--epochs N] [--lr LR]`.

use tch_rnn::cli::tutorial::{TrainCli, main as run};

fn main() -> std::process::ExitCode {
    run::<TrainCli>("packed_sequences")
}
