//! `tch-rnn train`: trains a character model on a text, as karpathy/char-rnn does, on our
//! modules and Adam: each step draws `batch` windows of `seq_len` characters at random places
//! of the training part (libtorch's generator, so PyTorch draws the same after the same seed),
//! runs them from a zero state, takes the mean cross entropy of every next character, clips
//! the gradients' norm and steps. Every `eval_every` steps (and at the end) it measures the
//! validation loss and writes a checkpoint; every `sample_every` steps it shows a sample.
//! Sampling puts the generators back as they were, so it never changes the training.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::checkpoint::{self, Checkpoint, CheckpointState, FORMAT, RunConfig, Snapshot, TrainingConfig};
use super::corpus::{Corpus, Vocabulary, read_text, text_sha256, windows};
use super::evaluate::{Evaluation, evaluate};
use super::history::History;
use super::model::{Cell, CharModel, ModelConfig};
use super::progress::Progress;
use super::sample::{SampleOptions, sample};
use crate::device::{DeviceRequest, resolve};
use crate::ffi::{rng_state, set_rng_state};
use crate::nn::CrossEntropyLoss;
use crate::optim::{Adam, AdamConfig, clip_grad_norm_};

/// The defaults of `tch-rnn train`; the README says why each.
pub mod defaults {
    use super::Cell;
    pub const CELL: Cell = Cell::Lstm;
    pub const LAYERS: i64 = 2;
    pub const HIDDEN: i64 = 256;
    pub const EMBEDDING: i64 = 64;
    pub const DROPOUT: f64 = 0.0;
    pub const SEQ_LEN: i64 = 64;
    pub const BATCH: i64 = 32;
    pub const LR: f64 = 2e-3;
    pub const CLIP: f64 = 5.0;
    pub const SEED: i64 = 0;
    pub const STEPS: i64 = 2000;
    pub const EVAL_EVERY: i64 = 250;
    pub const SAMPLE_EVERY: i64 = 500;
    /// Characters of the samples shown while training.
    pub const SAMPLE_LENGTH: usize = 200;
    pub const SAMPLE_TEMPERATURE: f64 = 0.8;
}

/// How long to train.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Length {
    /// Until this many optimizer steps in all (a resumed run counts its earlier steps).
    Steps(i64),
    /// This many passes over the training characters, in steps of `batch * seq_len`.
    Epochs(f64),
}

/// What `tch-rnn train` was asked. `None` takes the default, or, with `resume`, the
/// checkpoint's value (a given value must then equal it).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    pub text: Option<PathBuf>,
    pub cell: Option<Cell>,
    pub layers: Option<i64>,
    pub hidden: Option<i64>,
    pub embedding: Option<i64>,
    pub dropout: Option<f64>,
    pub seq_len: Option<i64>,
    pub batch: Option<i64>,
    pub lr: Option<f64>,
    pub clip: Option<f64>,
    pub seed: Option<i64>,
    pub length: Option<Length>,
    pub device: DeviceRequest,
    pub threads: Option<i32>,
    pub out: PathBuf,
    pub resume: bool,
    pub eval_every: Option<i64>,
    pub sample_every: Option<i64>,
}

impl TrainOptions {
    /// The defaults, writing to `out`.
    ///
    /// ```
    /// let options = tch_rnn::charlm::TrainOptions::new("runs/example".into());
    /// assert!(!options.resume && options.cell.is_none());
    /// ```
    pub fn new(out: PathBuf) -> Self {
        TrainOptions {
            text: None,
            cell: None,
            layers: None,
            hidden: None,
            embedding: None,
            dropout: None,
            seq_len: None,
            batch: None,
            lr: None,
            clip: None,
            seed: None,
            length: None,
            device: DeviceRequest::Cpu,
            threads: None,
            out,
            resume: false,
            eval_every: None,
            sample_every: None,
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// All steps done.
    Finished,
    /// Stopped by Ctrl-C or SIGTERM, after saving a checkpoint.
    Interrupted,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Report {
    pub outcome: Outcome,
    /// Steps taken in all, earlier runs included.
    pub step: i64,
    /// The last validation result.
    pub validation: Option<Evaluation>,
    /// The checkpoint written last.
    pub checkpoint: PathBuf,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// Training characters per second of the training steps alone (not counting validation,
    /// checkpoints and samples).
    pub chars_per_second: f64,
}

/// The run's folder is usable: creatable, writable, and holding no run unless resuming.
fn prepare_out(out: &Path, resume: bool) -> Result<()> {
    if resume {
        ensure!(out.is_dir(), "--resume: {} is not a run's folder (it does not exist)", out.display());
        return Ok(());
    }
    // A run is never overwritten, even one whose latest checkpoint no longer loads.
    if std::fs::symlink_metadata(out.join("latest")).is_ok() {
        let at = match Checkpoint::open(out) {
            Ok(checkpoint) => format!("checkpoint at step {}", checkpoint.state.step),
            Err(e) => format!("its latest checkpoint does not load: {}", crate::error::one_line(&e)),
        };
        bail!("{} already holds a training run ({at}): pass --resume to continue it, or another --out", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create --out {}", out.display()))?;
    let probe = crate::fsutil::temporary_sibling(&out.join("probe"), "write-test");
    std::fs::write(&probe, b"").with_context(|| format!("--out {} is not writable", out.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The run's config: from the options and the text, or, resuming, the checkpoint's, which
/// the options may not contradict.
fn run_config(
    options: &TrainOptions,
    text: &str,
    source: &str,
    resumed: Option<&Checkpoint>,
) -> Result<(RunConfig, Vocabulary)> {
    let Some(checkpoint) = resumed else {
        let vocab = Vocabulary::from_text(text)?;
        let model = ModelConfig {
            cell: options.cell.unwrap_or(defaults::CELL),
            vocab_size: vocab.len() as i64,
            embedding: options.embedding.unwrap_or(defaults::EMBEDDING),
            hidden: options.hidden.unwrap_or(defaults::HIDDEN),
            layers: options.layers.unwrap_or(defaults::LAYERS),
            dropout: options.dropout.unwrap_or(defaults::DROPOUT),
        };
        model.validate()?;
        let training = TrainingConfig {
            text: source.to_string(),
            text_sha256: text_sha256(text),
            seq_len: options.seq_len.unwrap_or(defaults::SEQ_LEN),
            batch: options.batch.unwrap_or(defaults::BATCH),
            lr: options.lr.unwrap_or(defaults::LR),
            clip: options.clip.unwrap_or(defaults::CLIP),
            seed: options.seed.unwrap_or(defaults::SEED),
        };
        validate_training(&training)?;
        return Ok((RunConfig { format: FORMAT.into(), model, training }, vocab));
    };
    let (m, t) = (&checkpoint.config.model, &checkpoint.config.training);
    let mut conflicts = Vec::new();
    let mut compare = |name: &str, given: Option<String>, saved: String| {
        if let Some(given) = given.filter(|g| *g != saved) {
            conflicts.push(format!("--{name} {given} (the run has {saved})"));
        }
    };
    compare("cell", options.cell.map(|c| c.to_string()), m.cell.to_string());
    compare("layers", options.layers.map(|v| v.to_string()), m.layers.to_string());
    compare("hidden", options.hidden.map(|v| v.to_string()), m.hidden.to_string());
    compare("embedding", options.embedding.map(|v| v.to_string()), m.embedding.to_string());
    compare("dropout", options.dropout.map(|v| v.to_string()), m.dropout.to_string());
    compare("seq-len", options.seq_len.map(|v| v.to_string()), t.seq_len.to_string());
    compare("batch", options.batch.map(|v| v.to_string()), t.batch.to_string());
    compare("lr", options.lr.map(|v| v.to_string()), t.lr.to_string());
    compare("clip", options.clip.map(|v| v.to_string()), t.clip.to_string());
    compare("seed", options.seed.map(|v| v.to_string()), t.seed.to_string());
    ensure!(
        conflicts.is_empty(),
        "--resume: the checkpoint in {} was trained otherwise: {}",
        checkpoint.dir.display(),
        conflicts.join(", ")
    );
    ensure!(
        text_sha256(text) == t.text_sha256,
        "--resume: the text {source} is not the one the run was trained on ({})",
        t.text
    );
    Ok((checkpoint.config.clone(), checkpoint.vocab.clone()))
}

fn validate_training(t: &TrainingConfig) -> Result<()> {
    ensure!(t.seq_len > 0, "--seq-len must be positive, got {}", t.seq_len);
    ensure!(t.batch > 0, "--batch must be positive, got {}", t.batch);
    ensure!(t.seq_len.saturating_mul(t.batch) <= 1 << 31, "--seq-len x --batch is too large");
    ensure!(t.lr.is_finite() && t.lr > 0.0, "--lr must be a positive number, got {}", t.lr);
    ensure!(t.clip.is_finite() && t.clip >= 0.0, "--clip must be a number >= 0 (0: no clipping), got {}", t.clip);
    Ok(())
}

/// The generators' states: the CPU's, and the GPU's when training on one.
fn rng_states(device: Device) -> Result<Vec<(String, Tensor)>> {
    let mut states = vec![("cpu".to_string(), rng_state(Device::Cpu)?)];
    if let Device::Cuda(i) = device {
        states.push((format!("cuda:{i}"), rng_state(device)?));
    }
    Ok(states)
}

fn restore_rng_states(states: &[(String, Tensor)], device: Device) -> Result<()> {
    for (name, state) in states {
        match (name.as_str(), device) {
            ("cpu", _) => set_rng_state(Device::Cpu, state)?,
            (gpu, Device::Cuda(i)) if gpu == format!("cuda:{i}") => set_rng_state(device, state)?,
            _ => {} // another device's generator: nothing of this run draws from it
        }
    }
    Ok(())
}

/// A prime for the samples shown while training: a new line if the text has one.
fn sample_prime(vocab: &Vocabulary) -> String {
    if vocab.contains('\n') { "\n".into() } else { vocab.chars()[0].to_string() }
}

/// The error that stops a run whose loss is no longer a number: it names the checkpoint kept.
fn diverged(which: &str, loss: f64, step: i64, last_checkpoint: &Path) -> anyhow::Error {
    let kept = if last_checkpoint.as_os_str().is_empty() {
        "no checkpoint was saved before".to_string()
    } else {
        format!("the last good checkpoint, {}, is kept", last_checkpoint.display())
    };
    anyhow::anyhow!(
        "the {which} loss is {loss} at step {step}: training stopped, and {kept}; try a lower --lr or a --clip"
    )
}

/// What a checkpoint of this run needs besides the model and the optimizer.
struct Run<'a> {
    out: &'a Path,
    config: &'a RunConfig,
    vocab: &'a Vocabulary,
    names: &'a [String],
    device: Device,
}

impl Run<'_> {
    /// Saves the history and its plot, writes the checkpoint of `state.step`, points `best`
    /// (if it is, or if there is none yet) then `latest` at it, and removes the checkpoints no
    /// longer pointed at. In that order, a crash between any two steps leaves a run that
    /// resumes exactly: the history is never behind `latest` (a resume cuts it back to
    /// `latest`'s step), and `best` is never behind it.
    fn save(
        &self,
        vs: &VarStore,
        optimizer: &Adam,
        state: CheckpointState,
        is_best: bool,
        history: &History,
    ) -> Result<PathBuf> {
        let snapshot = Snapshot {
            config: self.config,
            vocab: self.vocab,
            vs,
            optimizer,
            parameter_names: self.names,
            rng: rng_states(self.device)?,
            state,
        };
        history.save(self.out)?;
        let dir = checkpoint::write(self.out, snapshot)?;
        if is_best || !self.out.join("best").exists() {
            checkpoint::point(self.out, "best", &dir)?;
        }
        checkpoint::point(self.out, "latest", &dir)?;
        checkpoint::prune(self.out)?;
        Ok(dir)
    }
}

/// Trains as `options` say, until the steps are done or `stop` is set (then it saves and
/// returns [`Outcome::Interrupted`]). A loss that is not finite stops the run with an error
/// and keeps the last checkpoint, which was saved before it.
pub fn train(options: &TrainOptions, stop: &AtomicBool) -> Result<Report> {
    // The device first: nothing may ask libtorch about CUDA before it is loaded.
    let device = resolve(options.device)?;
    if let Some(threads) = options.threads {
        ensure!(threads >= 1, "--threads must be at least 1, got {threads}");
        tch::set_num_threads(threads);
    }
    let (text, source) = read_text(options.text.as_deref())?;
    let out = &options.out;
    prepare_out(out, options.resume)?;
    let resumed = if options.resume { Some(Checkpoint::open(out).context("--resume")?) } else { None };
    let (config, vocab) = run_config(options, &text, &source, resumed.as_ref())?;
    let t = config.training.clone();
    let corpus = Corpus::with_vocabulary(&text, t.seq_len, vocab)?;
    let chars_per_step = t.batch * t.seq_len;
    let total_steps = match options.length.unwrap_or(Length::Steps(defaults::STEPS)) {
        Length::Steps(steps) => steps,
        Length::Epochs(epochs) => {
            ensure!(epochs.is_finite() && epochs > 0.0, "--epochs must be a positive number, got {epochs}");
            let per_epoch = (corpus.train.size()[0] as f64 / chars_per_step as f64).ceil();
            (epochs * per_epoch).ceil() as i64
        }
    };
    ensure!(total_steps > 0, "--steps must be positive, got {total_steps}");
    let eval_every = options.eval_every.unwrap_or(defaults::EVAL_EVERY);
    let sample_every = options.sample_every.unwrap_or(defaults::SAMPLE_EVERY);
    ensure!(eval_every > 0, "--eval-every must be positive, got {eval_every}");
    ensure!(sample_every >= 0, "--sample-every must be >= 0 (0: no samples), got {sample_every}");

    // The model and the optimizer, drawn from the seed as PyTorch draws them.
    tch::manual_seed(t.seed);
    let mut vs = VarStore::new(device);
    let mut model = CharModel::new(&vs.root(), config.model)?;
    let named = model.named_parameters();
    let names: Vec<String> = named.iter().map(|(n, _)| n.clone()).collect();
    let params: Vec<Tensor> = named.into_iter().map(|(_, p)| p).collect();
    let mut optimizer = Adam::new(params, AdamConfig { lr: t.lr, ..Default::default() })?;
    let mut history = History::default();
    let (mut step, mut best) = (0, None);
    let mut validation = None;
    let mut last_checkpoint = PathBuf::new();
    if let Some(checkpoint) = &resumed {
        checkpoint.load_weights(&mut vs)?;
        checkpoint.restore_optimizer(&mut optimizer, &names)?;
        let states: Vec<(String, Tensor)> = checkpoint.rng()?.into_iter().collect();
        restore_rng_states(&states, device)?;
        (step, best) = (checkpoint.state.step, checkpoint.state.best_validation_loss);
        history = History::read(&out.join("history.csv"))?;
        history.truncate(step);
        last_checkpoint = checkpoint.dir.clone();
        ensure!(step < total_steps, "--resume: the run is already at step {step}; ask for more (--steps above {step})");
    }

    let criterion = CrossEntropyLoss::new(Default::default())?;
    let vocab_size = config.model.vocab_size;
    let high = corpus.train.size()[0] - t.seq_len;
    let mut progress = Progress::new(step, total_steps);
    let (started, first_step) = (Instant::now(), step);
    let mut step_seconds = 0.0;
    let mut recent: Vec<f64> = Vec::new();
    let run = Run { out, config: &config, vocab: &corpus.vocab, names: &names, device };

    let outcome = loop {
        if step >= total_steps {
            break Outcome::Finished;
        }
        if stop.load(Ordering::SeqCst) {
            if last_checkpoint.file_name() != Some(checkpoint::step_dir_name(step).as_ref()) {
                let state = CheckpointState { step, best_validation_loss: best, ..Default::default() };
                last_checkpoint = run.save(&vs, &optimizer, state, false, &history)?;
            }
            break Outcome::Interrupted;
        }
        let step_started = Instant::now();
        let starts = Tensor::f_randint(high, [t.batch], (Kind::Int64, Device::Cpu))?;
        let (x, y) = windows(&corpus.train, &starts, t.seq_len)?;
        let (x, y) = (x.f_to_device(device)?, y.f_to_device(device)?);
        model.train(true);
        let (logits, _) = model.forward(&x, None)?;
        let loss = criterion.forward(&logits.f_view([-1, vocab_size])?, &y.f_reshape([-1])?)?;
        optimizer.zero_grad();
        loss.f_backward()?;
        if t.clip > 0.0 {
            let _total_norm = clip_grad_norm_(optimizer.params(), t.clip)?;
        }
        optimizer.step()?;
        step += 1;
        let value = loss.f_double_value(&[])?;
        step_seconds += step_started.elapsed().as_secs_f64();
        if !value.is_finite() {
            progress.finish();
            return Err(diverged("training", value, step, &last_checkpoint));
        }
        history.record_train(step, value);
        recent.push(value);
        if recent.len() > 50 {
            recent.remove(0);
        }
        progress.step(step, recent.iter().sum::<f64>() / recent.len() as f64, chars_per_step);

        if step % eval_every == 0 || step == total_steps {
            model.train(false);
            let result = evaluate(&model, &corpus.validation, t.seq_len, t.batch, device)?;
            if !result.loss.is_finite() {
                progress.finish();
                return Err(diverged("validation", result.loss, step, &last_checkpoint));
            }
            history.record_validation(step, result.loss);
            let is_best = best.is_none_or(|b| result.loss < b);
            if is_best {
                best = Some(result.loss);
            }
            let state = CheckpointState {
                step,
                validation_loss: Some(result.loss),
                best_validation_loss: best,
                ..Default::default()
            };
            last_checkpoint = run.save(&vs, &optimizer, state, is_best, &history)?;
            progress.println(&format!(
                "step {step}: validation loss {:.4} ({:.3} bits per character){}",
                result.loss,
                result.bits_per_character(),
                if is_best { ", the best so far" } else { "" }
            ));
            validation = Some(result);
        }
        if sample_every > 0 && step % sample_every == 0 {
            model.train(false);
            let states = rng_states(device)?;
            let options = SampleOptions {
                prime: sample_prime(&corpus.vocab),
                length: defaults::SAMPLE_LENGTH,
                temperature: defaults::SAMPLE_TEMPERATURE,
                top_k: None,
            };
            let text = sample(&model, &corpus.vocab, &options, device);
            restore_rng_states(&states, device)?;
            progress.println(&format!("--- sample at step {step} ---\n{}\n---", text?.trim_end()));
        }
    };
    progress.finish();
    let seconds = started.elapsed().as_secs_f64();
    let chars_per_second = (step - first_step) as f64 * chars_per_step as f64 / step_seconds.max(1e-9);
    Ok(Report { outcome, step, validation, checkpoint: last_checkpoint, seconds, chars_per_second })
}
