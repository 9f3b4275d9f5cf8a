//! The tutorial programs' command line, written once for both ways of running them: the
//! examples (`cargo run --example NAME -- --seed 7`, see [`main`]) and `tch-rnn tutorial NAME
//! [--seed N] [--epochs N] [--lr LR]`, `tch-rnn tutorial --list`, and `tch-rnn` alone, which
//! runs every program in order, each under a one-line header.

use std::process::ExitCode;

use anyhow::{Result, ensure};
use clap::builder::PossibleValuesParser;
use clap::{Args, Parser};

use super::Done;
use super::program::{fail, parse, write_stdout};
use crate::tutorials::{Options, PROGRAMS, about, output, trains};

/// `--seed`, which every tutorial program takes.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct SeedArg {
    /// Seed for torch.manual_seed (the PyTorch twin's first argument) [default: 0].
    #[arg(long, allow_hyphen_values = true)]
    pub seed: Option<i64>,
}

/// `--epochs` and `--lr`, which the training programs take.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct TrainingArgs {
    /// Training epochs [default: 15].
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..))]
    pub epochs: Option<i64>,
    /// Adam's learning rate [default: the program's, 0.1 for the cell programs and packed_sequences, 0.05 otherwise].
    #[arg(long, allow_hyphen_values = true)]
    pub lr: Option<f64>,
}

impl SeedArg {
    /// The program's options: these, and the defaults for the rest.
    fn options(self, training: TrainingArgs) -> Options {
        let defaults = Options::default();
        Options {
            seed: self.seed.unwrap_or(defaults.seed),
            epochs: training.epochs.unwrap_or(defaults.epochs),
            lr: training.lr,
        }
    }
}

/// Command line of the programs that only take a seed (sections 2.1-2.3).
#[derive(Parser, Debug)]
#[command(allow_negative_numbers = true, args_override_self = true)]
pub struct SeedCli {
    #[command(flatten)]
    seed: SeedArg,
}

/// Command line of the training programs (sections 3.1-3.3 and 4).
#[derive(Parser, Debug)]
#[command(allow_negative_numbers = true, args_override_self = true)]
pub struct TrainCli {
    #[command(flatten)]
    seed: SeedArg,
    #[command(flatten)]
    training: TrainingArgs,
}

impl From<SeedCli> for Options {
    fn from(cli: SeedCli) -> Self {
        cli.seed.options(TrainingArgs::default())
    }
}

impl From<TrainCli> for Options {
    fn from(cli: TrainCli) -> Self {
        cli.seed.options(cli.training)
    }
}

/// The `main` of tutorial example `name`: parses its command line `C`, runs it on stdout and
/// turns the outcome into an exit code: an error is printed as one `error: ...` line on stderr
/// with a non-zero exit, never a panic (see [`super::program`]).
///
/// ```no_run
/// use tch_rnn::cli::tutorial::{main, SeedCli};
/// fn run() -> std::process::ExitCode { main::<SeedCli>("rnn") }
/// ```
pub fn main<C: Parser + Into<Options>>(name: &str) -> ExitCode {
    let options: Options = match parse::<C>(name) {
        Ok(cli) => cli.into(),
        Err(code) => return code,
    };
    match output(name, &options).and_then(|text| write_stdout(&text)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

#[derive(Args, Debug)]
#[command(allow_negative_numbers = true, args_override_self = true)]
pub(crate) struct TutorialArgs {
    /// The program to run (tch-rnn tutorial --list shows them).
    #[arg(value_parser = PossibleValuesParser::new(PROGRAMS), required_unless_present = "list")]
    name: Option<String>,
    /// List the programs, with their sections of the tutorial.
    #[arg(long, conflicts_with_all = ["name", "seed", "epochs", "lr"])]
    list: bool,
    #[command(flatten)]
    seed: SeedArg,
    #[command(flatten)]
    training: TrainingArgs,
}

pub(crate) fn run(args: TutorialArgs) -> Result<Done> {
    let Some(name) = args.name.filter(|_| !args.list) else {
        let mut list = String::new();
        for name in PROGRAMS {
            let (section, what) = about(name).unwrap_or_default();
            list += &format!("{name:<22} {section:<4} {what}\n");
        }
        write_stdout(&list)?;
        return Ok(Done::Success);
    };
    ensure!(
        trains(&name) || (args.training.epochs.is_none() && args.training.lr.is_none()),
        "tutorial {name} trains nothing: it takes --seed only"
    );
    write_stdout(&output(&name, &args.seed.options(args.training))?)?;
    Ok(Done::Success)
}

/// Every program with its defaults, in the tutorial's order.
pub(crate) fn run_all() -> Result<Done> {
    for name in PROGRAMS {
        let (section, what) = about(name).unwrap_or_default();
        let header = format!("=== {name} (section {section}): {what} ===\n");
        write_stdout(&(header + &output(name, &Options::default())?))?;
    }
    Ok(Done::Success)
}
