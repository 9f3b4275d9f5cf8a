//! Tutorial program `hello_attention_packed`: prints byte for byte what `python scripts/pytorch/hello_attention_packed.py SEED`
//! prints. Run: `cargo run --release --example hello_attention_packed -- --seed 7 [--epochs N] [--lr LR]`.

use tch_rnn::cli::tutorial::{TrainCli, main as run};

fn main() -> std::process::ExitCode {
    run::<TrainCli>("hello_attention_packed")
}
