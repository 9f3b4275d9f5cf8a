//! Tutorial program `hello_lstm_cell`: prints byte for byte what `python scripts/pytorch/hello_lstm_cell.py SEED`
//! prints. Run: `cargo run --release --example hello_lstm_cell -- --seed 7 [--epochs N] [--lr LR]`.

use tch_rnn::cli::tutorial::{TrainCli, main as run};

fn main() -> std::process::ExitCode {
    run::<TrainCli>("hello_lstm_cell")
}
