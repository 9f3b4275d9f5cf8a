//! `tch-rnn tutorial NAME [--seed N] [--epochs N] [--lr LR]`, `tch-rnn tutorial --list`, and
//! `tch-rnn` alone, which runs every program in order, each under a one-line header.

use anyhow::{Result, ensure};
use clap::Args;
use clap::builder::PossibleValuesParser;
use tch_rnn::tutorials::{Options, PROGRAMS, about, output, trains};

use super::Done;
use tch_rnn::command_line::write_stdout;

#[derive(Args, Debug)]
#[command(allow_negative_numbers = true, args_override_self = true)]
pub(crate) struct TutorialArgs {
    /// The program to run (tch-rnn tutorial --list shows them).
    #[arg(value_parser = PossibleValuesParser::new(PROGRAMS), required_unless_present = "list")]
    name: Option<String>,
    /// List the programs, with their sections of the tutorial.
    #[arg(long, conflicts_with_all = ["name", "seed", "epochs", "lr"])]
    list: bool,
    /// Seed for torch.manual_seed (the PyTorch twin's first argument) [default: 0].
    #[arg(long, allow_hyphen_values = true)]
    seed: Option<i64>,
    /// Training epochs, for the training programs [default: 15].
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..))]
    epochs: Option<i64>,
    /// Adam's learning rate, for the training programs [default: the program's].
    #[arg(long, allow_hyphen_values = true)]
    lr: Option<f64>,
}

pub(crate) fn run(args: TutorialArgs) -> Result<Done> {
    if args.list {
        let mut list = String::new();
        for name in PROGRAMS {
            let (section, what) = about(name).unwrap_or_default();
            list += &format!("{name:<17} {section:<4} {what}\n");
        }
        write_stdout(&list)?;
        return Ok(Done::Success);
    }
    let name = args.name.expect("clap requires a name without --list");
    ensure!(
        trains(&name) || (args.epochs.is_none() && args.lr.is_none()),
        "tutorial {name} trains nothing: it takes --seed only"
    );
    let defaults = Options::default();
    let options = Options {
        seed: args.seed.unwrap_or(defaults.seed),
        epochs: args.epochs.unwrap_or(defaults.epochs),
        lr: args.lr,
    };
    write_stdout(&output(&name, &options)?)?;
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
