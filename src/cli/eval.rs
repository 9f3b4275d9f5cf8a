//! `tch-rnn eval`: how well a checkpoint predicts a text.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tch::Tensor;

use super::Done;
use super::device::DeviceArgs;
use super::program::write_stdout;
use crate::charlm::{Checkpoint, evaluate, evaluate_windows, read_text};

#[derive(Args, Debug)]
#[command(allow_negative_numbers = true, args_override_self = true)]
pub(crate) struct EvalArgs {
    /// A run's folder (its latest checkpoint), or a checkpoint folder such as RUN/best.
    #[arg(long, value_name = "DIR")]
    checkpoint: PathBuf,
    /// The text to measure, UTF-8; its characters must be in the model's vocabulary.
    #[arg(long, value_name = "FILE")]
    text: PathBuf,
    /// Characters per window [default: the run's --seq-len].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    seq_len: Option<i64>,
    /// Contiguous streams run side by side, each carrying its state from window to window
    /// [default: the run's --batch].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    batch: Option<i64>,
    /// Start every window from a zero state instead of carrying the state (worse: a window's
    /// first characters have no context).
    #[arg(long)]
    reset_state: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

pub(crate) fn run(args: EvalArgs) -> Result<Done> {
    let device = args.device.resolve()?;
    let checkpoint = Checkpoint::open(&args.checkpoint).context("eval")?;
    let (text, source) = read_text(Some(&args.text)).context("eval")?;
    let indices = checkpoint.vocab.encode(&text).with_context(|| format!("eval: {source}"))?;
    let (_vs, mut model) = checkpoint.load_model(device).context("eval")?;
    model.train(false);
    let data = &checkpoint.config.data;
    let (seq_len, batch) = (args.seq_len.unwrap_or(data.seq_len), args.batch.unwrap_or(data.batch));
    let measure = if args.reset_state { evaluate_windows } else { evaluate };
    let result = measure(&model, &Tensor::from_slice(&indices), seq_len, batch, device).context("eval")?;
    write_stdout(&format!(
        "{source}: loss {:.4} nats per character, {:.4} bits per character, perplexity {:.3} ({} characters predicted)\n",
        result.loss,
        result.bits_per_character(),
        result.perplexity(),
        result.predictions
    ))?;
    Ok(Done::Success)
}
