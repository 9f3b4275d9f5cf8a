//! `tch-rnn sample`: text from a checkpoint, on any device (a GPU-trained model samples on the
//! CPU too).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::Done;
use super::device::DeviceArgs;
use super::program::{note, write_stdout};
use crate::charlm::{Checkpoint, SampleOptions, beam_search, sample_streaming};
use crate::options::Domain;

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
    /// Draw only within the nucleus: the most likely characters whose probabilities add up to P,
    /// in (0, 1].
    #[arg(long, value_name = "P", allow_hyphen_values = true, value_parser = probability)]
    top_p: Option<f64>,
    /// Instead of drawing, search with a beam of K and print the most probable continuation
    /// found (no temperature, top-k or top-p; printed when found, not as it is generated).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(i64).range(1..),
          conflicts_with_all = ["temperature", "top_k", "top_p"])]
    beam_width: Option<i64>,
    /// With --beam-width: print the continuation's log-probability under the model on stderr.
    #[arg(long, requires = "beam_width")]
    verbose: bool,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    seed: i64,
    #[command(flatten)]
    device: DeviceArgs,
}

/// A finite number >= 0.
fn non_negative(s: &str) -> Result<f64, String> {
    Domain::Number { min: 0.0, inclusive: true, below: None }.parse(s).map(|v| v.as_f64().unwrap_or_default())
}

/// A number in (0, 1].
fn probability(s: &str) -> Result<f64, String> {
    let p = Domain::Number { min: 0.0, inclusive: false, below: None }.parse(s)?.as_f64().unwrap_or_default();
    if p <= 1.0 { Ok(p) } else { Err(format!("expected a number in (0, 1], got {s}")) }
}

pub(crate) fn run(args: SampleArgs) -> Result<Done> {
    let device = args.device.resolve()?;
    let checkpoint = Checkpoint::open(&args.checkpoint).context("sample")?;
    let (_vs, mut model) = checkpoint.load_model(device).context("sample")?;
    model.train(false);
    tch::manual_seed(args.seed);
    let prime = args.prime.unwrap_or_else(|| "\n".into());
    // The prime is read in windows of the run's own.
    let window = Some(checkpoint.config.data.seq_len);
    let vocab = &checkpoint.vocab;
    if let Some(width) = args.beam_width {
        let (text, log_probability) =
            beam_search(&model, vocab, &prime, args.length, width, window, device).context("sample")?;
        write_stdout(&format!("{prime}{text}\n"))?;
        if args.verbose {
            note(&format!("log-probability {log_probability:.6} ({} characters, beam width {width})", args.length));
        }
        return Ok(Done::Success);
    }
    let options = SampleOptions {
        prime,
        length: args.length,
        temperature: args.temperature,
        top_k: args.top_k,
        top_p: args.top_p,
        window,
    };
    // The prime goes out with the first characters, so that nothing is printed when the
    // options or the prime are refused.
    let mut started = false;
    let mut print = |text: &str| {
        if !std::mem::replace(&mut started, true) {
            write_stdout(&options.prime)?;
        }
        write_stdout(text)
    };
    sample_streaming(&model, vocab, &options, device, &mut print).context("sample")?;
    print("\n")?;
    Ok(Done::Success)
}
