//! `tch-rnn eval`: how well a checkpoint predicts a text.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tch::Tensor;
use tch_rnn::charlm::{Checkpoint, evaluate, read_text};
use tch_rnn::device::{DeviceRequest, resolve};

use super::Done;
use super::train::parse_device;
use tch_rnn::command_line::write_stdout;

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
    /// Windows per batch [default: the run's --batch].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    batch: Option<i64>,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    device: DeviceRequest,
}

pub(crate) fn run(args: EvalArgs) -> Result<Done> {
    let device = resolve(args.device)?;
    let checkpoint = Checkpoint::open(&args.checkpoint).context("eval")?;
    let (text, source) = read_text(Some(&args.text)).context("eval")?;
    let indices = checkpoint.vocab.encode(&text).with_context(|| format!("eval: {source}"))?;
    let (_vs, mut model) = checkpoint.load_model(device).context("eval")?;
    model.train(false);
    let training = &checkpoint.config.training;
    let (seq_len, batch) = (args.seq_len.unwrap_or(training.seq_len), args.batch.unwrap_or(training.batch));
    let result = evaluate(&model, &Tensor::from_slice(&indices), seq_len, batch, device).context("eval")?;
    write_stdout(&format!(
        "{source}: loss {:.4} nats per character, {:.4} bits per character, perplexity {:.3} ({} characters predicted)\n",
        result.loss,
        result.bits_per_character(),
        result.perplexity(),
        result.predictions
    ))?;
    Ok(Done::Success)
}
