//! Tutorial program `hello_lstm`: prints byte for byte what `python scripts/pytorch/hello_lstm.py SEED`
//! prints. Run: `cargo run --release --example hello_lstm -- --seed 7 [--epochs N] [--lr LR]`.

use tch_rnn::cli::tutorial::{TrainCli, main as run};

fn main() -> std::process::ExitCode {
    run::<TrainCli>("hello_lstm")
}
