//! One workload of the Rust side of scripts/bench.py, timed inside the process (its PyTorch twin
//! is scripts/pytorch/bench_worker.py, which runs the same workloads the same way). Prints one
//! JSON line: `{"workload": ..., "seconds_per_unit": ..., "unit": ...}`.
//!
//! Usage: `bench_worker WORKLOAD THREADS SCALE`, SCALE multiplying the measured repetitions:
//! - `step:PROGRAM`: one training epoch (= step) of a tutorial program in steady state, from
//!   the difference between a run of 10 epochs and one of 10 + 100 * SCALE;
//! - `kernel:lstm`, `kernel:gru`, `kernel:rnn`: forward + backward + Adam of a 2-layer network,
//!   input 256, hidden 512, batch 32, sequence 64; `kernel:lstm-eval`: its forward only, in
//!   evaluation mode without gradients;
//! - `train`: `tch-rnn train`'s default model and loop, per training step (as the run itself
//!   times them, without validation and checkpoints), over 20 + 40 * SCALE steps;
//! - `sample`: sampling from the default model, per character (1000 * SCALE characters).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::charlm::{self, CharModel, DataOptions, ModelOptions, Quiet, SampleOptions, TrainJob, Vocabulary};
use tch_rnn::nn::{Gru, GruConfig, Lstm, LstmConfig, Nonlinearity, Rnn, RnnConfig};
use tch_rnn::optim::{Adam, AdamConfig};
use tch_rnn::options::Overrides;
use tch_rnn::tutorials::{Options, run};

fn seconds(f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let started = Instant::now();
    f()?;
    Ok(started.elapsed().as_secs_f64())
}

/// Seconds per training epoch of tutorial `program` in steady state.
fn tutorial_step(program: &str, scale: f64) -> Result<f64> {
    let epochs = |n: i64| Options { seed: 0, epochs: n, lr: None };
    let extra = (100.0 * scale).round() as i64;
    run(program, &epochs(10), &mut std::io::sink())?; // warm-up
    let short = seconds(|| run(program, &epochs(10), &mut std::io::sink()))?;
    let long = seconds(|| run(program, &epochs(10 + extra), &mut std::io::sink()))?;
    Ok((long - short) / extra as f64)
}

/// A network's forward pass, its output.
type Forward = Box<dyn Fn(&Tensor) -> Result<Tensor>>;

/// Seconds per iteration of the kernel-bound workload `kind`.
fn kernel(kind: &str, scale: f64) -> Result<f64> {
    tch::manual_seed(0);
    let vs = VarStore::new(Device::Cpu);
    let (input, hidden, layers) = (256, 512, 2);
    let x = Tensor::randn([64, 32, input], (Kind::Float, Device::Cpu));
    let forward: Forward = match kind {
        "lstm" | "lstm-eval" => {
            let mut lstm = Lstm::new(
                vs.root(),
                LstmConfig { input_size: input, hidden_size: hidden, num_layers: layers, ..Default::default() },
            )?;
            if kind == "lstm-eval" {
                lstm.eval();
            }
            Box::new(move |x| Ok(lstm.forward(x, None)?.0))
        }
        "gru" => {
            let gru = Gru::new(
                vs.root(),
                GruConfig { input_size: input, hidden_size: hidden, num_layers: layers, ..Default::default() },
            )?;
            Box::new(move |x| Ok(gru.forward(x, None)?.0))
        }
        "rnn" => {
            let config = RnnConfig {
                input_size: input,
                hidden_size: hidden,
                num_layers: layers,
                nonlinearity: Nonlinearity::Tanh,
                ..Default::default()
            };
            let rnn = Rnn::new(vs.root(), config)?;
            Box::new(move |x| Ok(rnn.forward(x, None)?.0))
        }
        other => bail!("no kernel workload '{other}'"),
    };
    let mut adam = Adam::new(vs.trainable_variables(), AdamConfig::default())?;
    let mut iteration = || -> Result<()> {
        if kind == "lstm-eval" {
            tch::no_grad(|| forward(&x).map(|_| ()))
        } else {
            adam.zero_grad();
            forward(&x)?.sum(Kind::Float).f_backward()?;
            adam.step()
        }
    };
    for _ in 0..2 {
        iteration()?; // warm-up
    }
    let n = (10.0 * scale).round().max(1.0) as usize;
    Ok(seconds(|| (0..n).try_for_each(|_| iteration()))? / n as f64)
}

/// Seconds per training step of `tch-rnn train` with its defaults (the steps alone, as the
/// run reports them: validation and checkpoints are not counted), over 20 + 40 * SCALE steps.
fn train_step(scale: f64) -> Result<f64> {
    let dir = std::env::temp_dir().join(format!("tch-rnn-bench-{}", std::process::id()));
    let steps = 20 + (40.0 * scale).round() as i64;
    let given = Overrides::default().set("steps", steps).set("eval_every", 1_000_000).set("sample_every", 0);
    let job = TrainJob::new(dir.clone()).given(given);
    let report = charlm::train(&job, &mut Quiet, &AtomicBool::new(false));
    let _ = std::fs::remove_dir_all(&dir);
    let data = DataOptions::default();
    Ok((data.seq_len * data.batch) as f64 / report?.chars_per_second)
}

/// Seconds per sampled character with the default model.
fn sample_char(scale: f64) -> Result<f64> {
    let vocab = Vocabulary::from_text(charlm::SHAKESPEARE)?;
    tch::manual_seed(0);
    let vs = VarStore::new(Device::Cpu);
    let mut model = CharModel::new(&vs.root(), &ModelOptions::default(), vocab.len() as i64)?;
    model.train(false);
    let options = |length| SampleOptions { prime: "\n".into(), length, temperature: 1.0, ..Default::default() };
    charlm::sample(&model, &vocab, &options(50), Device::Cpu)?; // warm-up
    let n = (1000.0 * scale).round() as usize;
    Ok(seconds(|| charlm::sample(&model, &vocab, &options(n), Device::Cpu).map(|_| ()))? / n as f64)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [workload, threads, scale] = &args[..] else {
        bail!("usage: bench_worker WORKLOAD THREADS SCALE");
    };
    tch::set_num_threads(threads.parse().context("THREADS")?);
    let scale: f64 = scale.parse().context("SCALE")?;
    if workload == "train" || workload == "sample" {
        // As the tch-rnn command does for these.
        tch_rnn::allocator::retain_freed_memory();
    }
    let (per_unit, unit) = match workload.split_once(':') {
        Some(("step", program)) => (tutorial_step(program, scale)?, "step"),
        Some(("kernel", kind)) => (kernel(kind, scale)?, "iteration"),
        None if workload == "train" => (train_step(scale)?, "step"),
        None if workload == "sample" => (sample_char(scale)?, "character"),
        _ => bail!("no workload '{workload}'"),
    };
    println!("{{\"workload\": \"{workload}\", \"seconds_per_unit\": {per_unit:e}, \"unit\": \"{unit}\"}}");
    Ok(())
}
