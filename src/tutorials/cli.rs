//! The command line shared by the tutorial examples: `--seed` (default 0, like the twins'
//! first argument) and, for the training programs, `--epochs` and `--lr`.

use std::process::ExitCode;

use clap::Parser;

use super::Options;
use crate::command_line;

/// Command line of the programs that only take a seed (sections 2.1-2.3).
#[derive(Parser, Debug)]
#[command(allow_negative_numbers = true, args_override_self = true)]
pub struct SeedCli {
    /// Seed for torch.manual_seed (the PyTorch twin's first argument).
    #[arg(long, default_value_t = 0)]
    pub seed: i64,
}

/// Command line of the training programs (sections 3.1-3.3 and 4).
#[derive(Parser, Debug)]
#[command(allow_negative_numbers = true, args_override_self = true)]
pub struct TrainCli {
    /// Seed for torch.manual_seed (the PyTorch twin's first argument).
    #[arg(long, default_value_t = 0)]
    pub seed: i64,
    /// Number of training epochs.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(i64).range(0..))]
    pub epochs: i64,
    /// Adam learning rate [default: the program's, 0.1 for the cell programs and packed_sequences, 0.05 otherwise].
    #[arg(long, allow_hyphen_values = true)]
    pub lr: Option<f64>,
}

impl From<SeedCli> for Options {
    fn from(cli: SeedCli) -> Self {
        Options { seed: cli.seed, ..Default::default() }
    }
}

impl From<TrainCli> for Options {
    fn from(cli: TrainCli) -> Self {
        Options { seed: cli.seed, epochs: cli.epochs, lr: cli.lr }
    }
}

/// Runs tutorial `name` with `options` on stdout and turns the outcome into an exit code:
/// an error is printed as one `error: ...` line on stderr with a non-zero exit, never a panic
/// (see [`crate::command_line`]).
///
/// ```no_run
/// use tch_rnn::tutorials::cli::{main, SeedCli};
/// fn run() -> std::process::ExitCode { main::<SeedCli>("rnn") }
/// ```
pub fn main<C: Parser + Into<Options>>(name: &str) -> ExitCode {
    let options: Options = match command_line::parse::<C>(name) {
        Ok(cli) => cli.into(),
        Err(code) => return code,
    };
    match super::output(name, &options).and_then(|text| command_line::write_stdout(&text)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => command_line::fail(&e),
    }
}
