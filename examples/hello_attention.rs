//! Tutorial program `hello_attention`: prints byte for byte what `python scripts/pytorch/hello_attention.py SEED`
//! prints. Run: `cargo run --release --example hello_attention -- --seed 7 [--epochs N] [--lr LR]`.

use tch_rnn::cli::tutorial::{TrainCli, main as run};

fn main() -> std::process::ExitCode {
    run::<TrainCli>("hello_attention")
}
