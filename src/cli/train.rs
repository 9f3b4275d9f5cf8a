//! `tch-rnn train`: every option of the run's groups (each flag derived from its field, see
//! [`super::options`]), the device, the run's folder, the ranks ([`super::ranks`]), and
//! Ctrl-C / SIGTERM turned into "save a checkpoint and stop".

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::Args;

use super::Done;
use super::device::DeviceArgs;
use super::options::GivenOptions;
use super::program::{note, write_stdout};
use super::progress::{Progress, format_duration};
use super::ranks::{RankArgs, launch};
use crate::charlm::{Outcome, Quiet, Reporter, TrainJob, train};

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
    #[command(flatten)]
    ranks: RankArgs,
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
    if let Some(nproc) = args.ranks.nproc {
        return launch(nproc, args.ranks, args.device.device, args.device.threads);
    }
    // The device first: nothing may ask libtorch about CUDA before it is loaded.
    let device = args.device.resolve()?;
    let group = args.ranks.join(device)?;
    // A rank on a GPU machine takes the GPU of its LOCAL_RANK, as torchrun's ranks do.
    let device = match (&group, device) {
        (Some(group), tch::Device::Cuda(0)) => {
            tch::Device::Cuda(group.local_rank() % tch::Cuda::device_count() as usize)
        }
        _ => device,
    };
    let leader = group.as_ref().is_none_or(|group| group.rank() == 0);
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            note("tch-rnn: stopping now, without saving");
            std::process::exit(130);
        }
        note("tch-rnn: stopping after this step, saving a checkpoint (again to stop at once)");
    })
    .context("cannot handle Ctrl-C")?;
    let job = TrainJob { given: args.options.0, out: args.out, resume: args.resume, device, group };
    let (mut progress, mut quiet) = (Progress::default(), Quiet);
    let reporter: &mut dyn Reporter = if leader { &mut progress } else { &mut quiet };
    let report = train(&job, reporter, &STOP).context("train")?;
    let done = match report.outcome {
        Outcome::Finished | Outcome::Patience => Done::Success,
        Outcome::Interrupted => Done::Interrupted,
    };
    if !leader {
        return Ok(done);
    }
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
    let ranks = match report.exchange_share.as_slice() {
        [] => String::new(),
        shares => format!(
            ", {} ranks, exchanging {}% of the step time",
            shares.len(),
            shares.iter().map(|share| format!("{:.0}", share * 100.0)).collect::<Vec<_>>().join("/")
        ),
    };
    write_stdout(&format!(
        "{what} step {} in {} ({:.0} chars/s{ranks}){validation}; checkpoint {} (resume with --resume){best}\n",
        report.step,
        format_duration(report.seconds),
        report.chars_per_second,
        report.checkpoint.display()
    ))?;
    Ok(done)
}
