//! Tutorial program `hello_gru_cell`: prints byte for byte what `python scripts/pytorch/hello_gru_cell.py SEED`
//! prints. Run: `cargo run --release --example hello_gru_cell -- --seed 7 [--epochs N] [--lr LR]`.

use tch_rnn::cli::tutorial::{TrainCli, main as run};

fn main() -> std::process::ExitCode {
    run::<TrainCli>("hello_gru_cell")
}
