//! `tch-rnn train`: every option of the run's groups (each flag derived from its field, see
//! [`super::options`]), the device, the run's folder, and Ctrl-C / SIGTERM turned into "save a
//! checkpoint and stop".

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::Args;

use super::Done;
use super::device::DeviceArgs;
use super::options::GivenOptions;
use super::program::{note, write_stdout};
use super::progress::{Progress, format_duration};
use crate::charlm::{Outcome, TrainJob, train};

#[derive(Args, Debug)]
#[command(
    allow_negative_numbers = true,
    args_override_self = true,
    after_help = "Defaults follow karpathy/char-rnn (2-layer LSTM, learning rate 2e-3, gradient clip 5, \
                  5% held out) sized to give readable samples on 2 CPU cores in minutes; see docs/command.md."
)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    options: GivenOptions,
    #[command(flatten)]
    device: DeviceArgs,
    /// The run's folder: checkpoints (latest, best), history.csv, loss.png.
    #[arg(long, value_name = "DIR", default_value = "runs/char-model")]
    out: PathBuf,
    /// Continue the run in --out exactly where it stopped.
    #[arg(long)]
    resume: bool,
}

/// Set by Ctrl-C or SIGTERM: the training loop saves and stops after its current step.
static STOP: AtomicBool = AtomicBool::new(false);

pub(crate) fn run(args: TrainArgs) -> Result<Done> {
    // The device first: nothing may ask libtorch about CUDA before it is loaded.
    let device = args.device.resolve()?;
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            note("tch-rnn: stopping now, without saving");
            std::process::exit(130);
        }
        note("tch-rnn: stopping after this step, saving a checkpoint (again to stop at once)");
    })
    .context("cannot handle Ctrl-C")?;
    let job = TrainJob { given: args.options.0, out: args.out, resume: args.resume, device };
    let report = train(&job, &mut Progress::default(), &STOP).context("train")?;
    let validation = report.validation.map_or(String::new(), |v| {
        format!(": validation loss {:.4} ({:.3} bits per character)", v.loss, v.bits_per_character())
    });
    let what = match report.outcome {
        Outcome::Finished => "trained to",
        Outcome::Patience => "stopped early (--patience) at",
        Outcome::Interrupted => "interrupted at",
    };
    let best = report
        .best
        .as_ref()
        .map_or(String::new(), |(dir, loss)| format!("; the best, validation loss {loss:.4}, is {}", dir.display()));
    write_stdout(&format!(
        "{what} step {} in {} ({:.0} chars/s){validation}; checkpoint {} (resume with --resume){best}\n",
        report.step,
        format_duration(report.seconds),
        report.chars_per_second,
        report.checkpoint.display()
    ))?;
    Ok(match report.outcome {
        Outcome::Finished | Outcome::Patience => Done::Success,
        Outcome::Interrupted => Done::Interrupted,
    })
}
