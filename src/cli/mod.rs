//! Every command line of the project, in one place: the `tch-rnn` command (the tutorial
//! programs, and character models trained, sampled and evaluated), the tutorial examples'
//! ([`tutorial`]), and what every program does at its edges ([`program`]). Errors end the
//! process with one line on stderr: exit code 2 for a bad command line, 1 for anything else,
//! 130 when training was interrupted (after saving). The library below prints nothing; options
//! are declared once in it and their flags derived here ([`options`]).

pub mod device;
mod eval;
pub mod options;
pub mod program;
pub mod progress;
pub mod ranks;
mod sample;
mod train;
pub mod tutorial;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Recurrent networks on libtorch: the PyTorch RNN tutorial in Rust, and character-level
/// language models trained, sampled and evaluated like karpathy/char-rnn, exchanged with
/// PyTorch. Without a subcommand it runs every tutorial program in order.
#[derive(Parser, Debug)]
#[command(
    name = "tch-rnn",
    version,
    about = "Recurrent networks on libtorch: the PyTorch RNN tutorial in Rust, and character models trained, \
             sampled and evaluated like char-rnn, exchanged with PyTorch. Without a command: every tutorial program."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one tutorial program (it prints what its PyTorch twin prints), or --list them.
    Tutorial(tutorial::TutorialArgs),
    /// Train a character-level language model on a text (Shakespeare by default).
    Train(train::TrainArgs),
    /// Generate text from a trained model.
    Sample(sample::SampleArgs),
    /// Measure a trained model on a text: loss, bits per character, perplexity.
    Eval(eval::EvalArgs),
}

/// What a subcommand's success means for the exit code.
pub(crate) enum Done {
    Success,
    Interrupted,
}

/// The `tch-rnn` command: parses the command line and runs it.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     tch_rnn::cli::main()
/// }
/// ```
pub fn main() -> ExitCode {
    let cli: Cli = match program::parse("tch-rnn") {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    if matches!(cli.command, Some(Command::Train(_) | Command::Sample(_) | Command::Eval(_))) {
        crate::allocator::retain_freed_memory();
    }
    let result = match cli.command {
        None => tutorial::run_all(),
        Some(Command::Tutorial(args)) => tutorial::run(args),
        Some(Command::Train(args)) => train::run(args),
        Some(Command::Sample(args)) => sample::run(args),
        Some(Command::Eval(args)) => eval::run(args),
    };
    match result {
        Ok(Done::Success) => ExitCode::SUCCESS,
        Ok(Done::Interrupted) => ExitCode::from(130),
        // Another rank failed and said why: this one stops without repeating it.
        Err(e) if e.chain().any(|cause| cause.is::<crate::charlm::RankFailed>()) => ExitCode::FAILURE,
        Err(e) => program::fail_with(&e, options::tell),
    }
}
