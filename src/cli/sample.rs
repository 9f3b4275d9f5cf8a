//! `tch-rnn sample`: text from a checkpoint, on any device (a GPU-trained model samples on the
//! CPU too).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tch_rnn::charlm::{Checkpoint, SampleOptions, sample};
use tch_rnn::device::{DeviceRequest, resolve};

use super::Done;
use super::train::{non_negative, parse_device};
use tch_rnn::command_line::write_stdout;

#[derive(Args, Debug)]
#[command(allow_negative_numbers = true, args_override_self = true)]
pub(crate) struct SampleArgs {
    /// A run's folder (its latest checkpoint), or a checkpoint folder such as RUN/best.
    #[arg(long, value_name = "DIR")]
    checkpoint: PathBuf,
    /// Text to start from; printed, then continued [default: a new line].
    #[arg(long, allow_hyphen_values = true)]
    prime: Option<String>,
    /// Characters to generate.
    #[arg(long, default_value_t = 500)]
    length: usize,
    /// Divides the logits: lower is safer, higher is wilder; 0 always takes the most likely.
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true, value_parser = non_negative)]
    temperature: f64,
    /// Draw only among the K most likely characters.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(i64).range(1..))]
    top_k: Option<i64>,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    seed: i64,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    device: DeviceRequest,
}

pub(crate) fn run(args: SampleArgs) -> Result<Done> {
    let device = resolve(args.device)?;
    let checkpoint = Checkpoint::open(&args.checkpoint).context("sample")?;
    let prime = args.prime.unwrap_or_else(|| "\n".into());
    let options = SampleOptions { prime, length: args.length, temperature: args.temperature, top_k: args.top_k };
    options.validate().context("sample")?;
    let (_vs, mut model) = checkpoint.load_model(device).context("sample")?;
    model.train(false);
    tch::manual_seed(args.seed);
    let text = sample(&model, &checkpoint.vocab, &options, device).context("sample: --prime")?;
    write_stdout(&format!("{}{text}\n", options.prime))?;
    Ok(Done::Success)
}
