//! Tutorial program `hello_rnn_cell`: prints byte for byte what `python scripts/pytorch/hello_rnn_cell.py SEED`
//! prints. Run: `cargo run --release --example hello_rnn_cell -- --seed 7 [--epochs N] [--lr LR]`.

use tch_rnn::cli::tutorial::{TrainCli, main as run};

fn main() -> std::process::ExitCode {
    run::<TrainCli>("hello_rnn_cell")
}
