//! `tch-rnn train`: the options, each with the default that `tch_rnn::charlm::defaults` holds,
//! and Ctrl-C / SIGTERM turned into "save a checkpoint and stop".

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::Args;
use tch_rnn::charlm::{Cell, Length, Outcome, TrainOptions, format_duration, train};
use tch_rnn::device::DeviceRequest;

use super::Done;
use tch_rnn::command_line::{note, write_stdout};

#[derive(Args, Debug)]
#[command(
    allow_negative_numbers = true,
    args_override_self = true,
    after_help = "Defaults follow karpathy/char-rnn (2-layer LSTM, learning rate 2e-3, gradient clip 5, \
                        5% held out) sized to give readable samples on 2 CPU cores in minutes; see the README."
)]
pub(crate) struct TrainArgs {
    /// The text to learn, UTF-8 [default: nine plays of Shakespeare, embedded].
    #[arg(long, value_name = "FILE")]
    text: Option<PathBuf>,
    /// The recurrent layer [default: lstm].
    #[arg(long, value_enum)]
    cell: Option<Cell>,
    /// Stacked recurrent layers [default: 2].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    layers: Option<i64>,
    /// Hidden size of the recurrent layers [default: 256].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    hidden: Option<i64>,
    /// Size of each character's embedding [default: 64].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    embedding: Option<i64>,
    /// Dropout between recurrent layers, in [0, 1) [default: 0].
    #[arg(long, allow_hyphen_values = true, value_parser = probability)]
    dropout: Option<f64>,
    /// Characters per training window (and truncated back-propagation) [default: 64].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    seq_len: Option<i64>,
    /// Windows per step [default: 32].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    batch: Option<i64>,
    /// Optimizer steps in all, earlier runs included [default: 2000].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..), conflicts_with = "epochs")]
    steps: Option<i64>,
    /// Passes over the training text instead of --steps.
    #[arg(long, allow_hyphen_values = true, value_parser = positive)]
    epochs: Option<f64>,
    /// Adam's learning rate [default: 0.002].
    #[arg(long, allow_hyphen_values = true, value_parser = positive)]
    lr: Option<f64>,
    /// Clip the gradients' norm to this; 0 for no clipping [default: 5].
    #[arg(long, allow_hyphen_values = true, value_parser = non_negative)]
    clip: Option<f64>,
    /// Seed of the initial weights and of the batches [default: 0].
    #[arg(long, allow_hyphen_values = true)]
    seed: Option<i64>,
    /// cpu, cuda, cuda:N or auto (a GPU if there is one).
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    device: DeviceRequest,
    /// Intra-op CPU threads [default: libtorch's, one per core].
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    threads: Option<i32>,
    /// The run's folder: checkpoints (latest, best), history.csv, loss.png.
    #[arg(long, value_name = "DIR", default_value = "runs/char-model")]
    out: PathBuf,
    /// Continue the run in --out exactly where it stopped.
    #[arg(long)]
    resume: bool,
    /// Measure the validation loss and save a checkpoint every this many steps [default: 250].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    eval_every: Option<i64>,
    /// Show a sample every this many steps; 0 for none [default: 500].
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..))]
    sample_every: Option<i64>,
}

pub(crate) fn parse_device(s: &str) -> Result<DeviceRequest, String> {
    s.parse().map_err(|e: anyhow::Error| e.to_string())
}

/// A number `s`, finite, for which `ok` holds (`what` says which numbers are).
pub(crate) fn number(s: &str, what: &str, ok: impl Fn(f64) -> bool) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && ok(x) => Ok(x),
        _ => Err(format!("expected {what}, got '{s}'")),
    }
}

fn positive(s: &str) -> Result<f64, String> {
    number(s, "a positive number", |x| x > 0.0)
}

pub(crate) fn non_negative(s: &str) -> Result<f64, String> {
    number(s, "a number >= 0", |x| x >= 0.0)
}

fn probability(s: &str) -> Result<f64, String> {
    number(s, "a number in [0, 1)", |x| (0.0..1.0).contains(&x))
}

/// Set by Ctrl-C or SIGTERM: the training loop saves and stops after its current step.
static STOP: AtomicBool = AtomicBool::new(false);

pub(crate) fn run(args: TrainArgs) -> Result<Done> {
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            note("tch-rnn: stopping now, without saving");
            std::process::exit(130);
        }
        note("tch-rnn: stopping after this step, saving a checkpoint (again to stop at once)");
    })
    .context("cannot handle Ctrl-C")?;
    let options = TrainOptions {
        text: args.text,
        cell: args.cell,
        layers: args.layers,
        hidden: args.hidden,
        embedding: args.embedding,
        dropout: args.dropout,
        seq_len: args.seq_len,
        batch: args.batch,
        lr: args.lr,
        clip: args.clip,
        seed: args.seed,
        length: args.steps.map(Length::Steps).or(args.epochs.map(Length::Epochs)),
        device: args.device,
        threads: args.threads,
        out: args.out,
        resume: args.resume,
        eval_every: args.eval_every,
        sample_every: args.sample_every,
    };
    let report = train(&options, &STOP).context("train")?;
    let validation = report.validation.map_or(String::new(), |v| {
        format!(": validation loss {:.4} ({:.3} bits per character)", v.loss, v.bits_per_character())
    });
    let what = match report.outcome {
        Outcome::Finished => "trained to",
        Outcome::Interrupted => "interrupted at",
    };
    write_stdout(&format!(
        "{what} step {} in {} ({:.0} chars/s){validation}; checkpoint {} (resume with --resume)\n",
        report.step,
        format_duration(report.seconds),
        report.chars_per_second,
        report.checkpoint.display()
    ))?;
    Ok(match report.outcome {
        Outcome::Finished => Done::Success,
        Outcome::Interrupted => Done::Interrupted,
    })
}
