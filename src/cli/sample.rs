//! `tch-rnn sample`: text from a checkpoint, on any device (a GPU-trained model samples on the
//! CPU too).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::Done;
use super::device::DeviceArgs;
use super::program::write_stdout;
use crate::charlm::{Checkpoint, SampleOptions, sample};

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
    #[command(flatten)]
    device: DeviceArgs,
}

/// A finite number >= 0.
fn non_negative(s: &str) -> Result<f64, String> {
    crate::options::Domain::Number { min: 0.0, inclusive: true, below: None }
        .parse(s)
        .map(|v| v.as_f64().unwrap_or_default())
}

pub(crate) fn run(args: SampleArgs) -> Result<Done> {
    let prime = args.prime.unwrap_or_else(|| "\n".into());
    let options = SampleOptions { prime, length: args.length, temperature: args.temperature, top_k: args.top_k };
    let device = args.device.resolve()?;
    let checkpoint = Checkpoint::open(&args.checkpoint).context("sample")?;
    let (_vs, mut model) = checkpoint.load_model(device).context("sample")?;
    model.train(false);
    tch::manual_seed(args.seed);
    let text = sample(&model, &checkpoint.vocab, &options, device).context("sample")?;
    write_stdout(&format!("{}{text}\n", options.prime))?;
    Ok(Done::Success)
}
