//! Tutorial program `hello_embedding`: prints byte for byte what `python scripts/pytorch/hello_embedding.py SEED`
//! prints. Run: `cargo run --release --example hello_embedding -- --seed 7 [--epochs N] [--lr LR]`.

use tch_rnn::cli::tutorial::{TrainCli, main as run};

fn main() -> std::process::ExitCode {
    run::<TrainCli>("hello_embedding")
}
