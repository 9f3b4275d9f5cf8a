//! How often a wider beam finds a more probable continuation than the greedy one (width 1),
//! and by how much: for PRIMES primes cut from TEXT at regular places, the log-probability of
//! the continuation of LENGTH characters that beam search of each width returns.
//! Run: `cargo run --release --example beam_report -- CHECKPOINT TEXT [PRIMES] [LENGTH]`.

use anyhow::{Context, Result};
use tch::Device;
use tch_rnn::charlm::{Checkpoint, beam_search, read_text};

const WIDTHS: [i64; 4] = [1, 2, 4, 8];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [checkpoint, text, rest @ ..] = &args[..] else {
        anyhow::bail!("usage: beam_report CHECKPOINT TEXT [PRIMES] [LENGTH]");
    };
    let primes: usize = rest.first().map_or(Ok(40), |s| s.parse()).context("PRIMES")?;
    let length: usize = rest.get(1).map_or(Ok(100), |s| s.parse()).context("LENGTH")?;
    let checkpoint = Checkpoint::open(checkpoint.as_ref())?;
    let (_vs, mut model) = checkpoint.load_model(Device::Cpu)?;
    model.train(false);
    let (text, _) = read_text(Some(text.as_ref()))?;
    let chars: Vec<char> = text.chars().collect();
    let window = Some(checkpoint.config.data.seq_len);
    let mut scores = vec![Vec::new(); WIDTHS.len()];
    for i in 0..primes {
        let start = i * (chars.len() - 200) / primes;
        let prime: String = chars[start..start + 100].iter().collect();
        for (w, width) in WIDTHS.iter().enumerate() {
            scores[w].push(beam_search(&model, &checkpoint.vocab, &prime, length, *width, window, Device::Cpu)?.1);
        }
    }
    println!("| width | beats width 1 | ties | mean gain (nats) | mean log-probability of {length} characters |");
    println!("|---|---|---|---|---|");
    for (w, width) in WIDTHS.iter().enumerate() {
        let gains: Vec<f64> = scores[w].iter().zip(&scores[0]).map(|(s, g)| s - g).collect();
        let better = gains.iter().filter(|g| **g > 1e-9).count();
        let ties = gains.iter().filter(|g| g.abs() <= 1e-9).count();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        println!("| {width} | {better}/{primes} | {ties} | {:.3} | {:.3} |", mean(&gains), mean(&scores[w]));
    }
    Ok(())
}
