//! `tch-rnn train`: trains a character model on a text, as karpathy/char-rnn does, on our
//! modules and Adam. Each step draws `batch` windows of `seq_len` characters at random places
//! of the training part (libtorch's generator, so PyTorch draws the same after the same seed),
//! runs them from a zero state, takes the mean cross entropy of every next character, clips
//! the gradients' norm and steps. Every `eval_every` steps (and at the end) it measures the
//! validation loss and writes a checkpoint; every `sample_every` steps it shows a sample.
//! Sampling puts the generators back as they were, so it never changes the training.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use tch::nn::VarStore;
use tch::{Device, Tensor};

use super::checkpoint::{Checkpoint, CheckpointState};
use super::corpus::{Batches, Batching, Corpus, StreamPosition, Vocabulary, read_text};
use super::data_parallel::Shard;
use super::evaluate::{Evaluation, evaluate};
use super::history::History;
use super::model::CharModel;
use super::optimization::train_step;
use super::report::{Outcome, Report, Reporter};
use super::rng::{restore_rng_states, rng_states};
use super::run_config::{RunConfig, TextRecord};
use super::run_dir::{self, Saver, Trained};
use super::sample::{SampleOptions, sample};
use crate::distributed::ProcessGroup;
use crate::nn::RecurrentState;
use crate::optim::{LrScheduler, Optimizer};
use crate::options::{OptionError, Overrides};

/// Characters of the samples shown while training.
pub const SAMPLE_LENGTH: usize = 200;
/// Temperature of the samples shown while training.
pub const SAMPLE_TEMPERATURE: f64 = 0.8;

/// A training run to make: the options given (the rest take their defaults, or a resumed
/// run's values), its folder, whether to continue the run there, the device, and the process
/// group it is shared with, if any (data-parallel, as PyTorch's DDP: every rank calls
/// [`train`] with the same job; see [`crate::distributed`]).
///
/// ```
/// use tch_rnn::options::Overrides;
/// let job = tch_rnn::charlm::TrainJob::new("runs/example".into()).given(Overrides::default().set("hidden", 128));
/// assert!(!job.resume && job.device == tch::Device::Cpu && job.group.is_none());
/// ```
#[derive(Clone, Debug)]
pub struct TrainJob {
    pub given: Overrides,
    pub out: PathBuf,
    pub resume: bool,
    pub device: Device,
    pub group: Option<Arc<ProcessGroup>>,
}

impl TrainJob {
    /// A new run with every default, in `out`, on the CPU.
    pub fn new(out: PathBuf) -> Self {
        TrainJob { given: Overrides::default(), out, resume: false, device: Device::Cpu, group: None }
    }

    /// This job with `given` options.
    pub fn given(self, given: Overrides) -> Self {
        TrainJob { given, ..self }
    }
}

/// What a run is made of before its first step: its config, the text cut for training, where
/// it ends, and the checkpoint it resumes.
struct Setup {
    config: RunConfig,
    corpus: Corpus,
    total_steps: i64,
    resumed: Option<Checkpoint>,
}

impl Setup {
    fn new(job: &TrainJob, shard: &Shard) -> Result<Self> {
        let resumed = if job.resume {
            run_dir::prepare(&job.out, true)?;
            Some(Checkpoint::open(&job.out).context("resume")?)
        } else {
            None
        };
        let (config, text, vocab) = match &resumed {
            None => {
                let given_text = job.given.get("text").and_then(|v| v.as_str()).map(PathBuf::from);
                let (text, source) = read_text(given_text.as_deref())?;
                let config = RunConfig::new(&job.given, TextRecord::of(&text, &source))?;
                let vocab = Vocabulary::from_text(&text)?;
                (config, text, vocab)
            }
            Some(checkpoint) => {
                let config = checkpoint.config.resumed(&job.given, &checkpoint.dir)?;
                let (text, source) = read_text(config.data.text.as_deref())?;
                anyhow::ensure!(
                    TextRecord::of(&text, &source).sha256 == config.text.sha256,
                    "resume: the text {source} is not the one the run was trained on ({})",
                    config.text.source
                );
                (config, text, checkpoint.vocab.clone())
            }
        };
        let corpus = match &config.data.val_text {
            None => Corpus::with_vocabulary(&text, config.data.seq_len, vocab)?,
            Some(path) => {
                let (validation, _) = read_text(Some(path)).context("val_text")?;
                Corpus::with_validation_text(&text, &validation, config.data.seq_len, vocab)?
            }
        };
        shard.check_batch(config.data.batch)?;
        if resumed.is_none() && shard.is_leader() {
            // Only now, every option and text checked: a refused run leaves nothing behind.
            run_dir::prepare(&job.out, false)?;
        }
        let chars_per_step = config.data.batch * config.data.seq_len;
        let total_steps = config.run.total_steps(corpus.train.size()[0], chars_per_step);
        Ok(Setup { config, corpus, total_steps, resumed })
    }
}

/// Where a run stands: the step, the losses so far, the last checkpoint, the time spent in
/// training steps.
#[derive(Default)]
struct Progress {
    step: i64,
    best: Option<f64>,
    validation: Option<Evaluation>,
    history: History,
    last_checkpoint: PathBuf,
    /// The step of the last checkpoint (the same on every rank; only rank 0 writes it).
    saved_at: Option<i64>,
    step_seconds: f64,
    /// Steps taken by this process (not counting a resumed run's earlier ones).
    steps_taken: i64,
    /// Evaluations since the best validation loss (for `patience`).
    since_best: i64,
    /// With `--batching streams`: where the streams stand, and the state they carry (this
    /// rank's share of the streams).
    position: Option<StreamPosition>,
    carry: Option<RecurrentState>,
    /// The last training losses, for the running mean shown.
    recent: Vec<f64>,
}

impl Progress {
    /// A resumed run's progress: its step, best loss, history and checkpoint, and this rank's
    /// share of the state its streams carry.
    fn resumed(
        checkpoint: &Checkpoint,
        out: &std::path::Path,
        total_steps: i64,
        device: Device,
        shard: &Shard,
    ) -> Result<Self> {
        let step = checkpoint.state.step;
        if step >= total_steps {
            let message = format!("the run is already at step {step}; ask for more steps than {step}");
            return Err(OptionError::new("steps", message).into());
        }
        let mut history = History::read(&out.join("history.csv"))?;
        history.truncate(step);
        // Evaluations after the first of the lowest validation losses.
        let losses: Vec<f64> = history.rows().iter().filter_map(|r| r.validation_loss).collect();
        let best_at = losses.iter().enumerate().fold(None, |best: Option<(usize, f64)>, (i, &l)| match best {
            Some((_, b)) if b <= l => best,
            _ => Some((i, l)),
        });
        let since_best = best_at.map_or(0, |(i, _)| (losses.len() - 1 - i) as i64);
        Ok(Progress {
            step,
            best: checkpoint.state.best_validation_loss,
            history,
            last_checkpoint: checkpoint.dir.clone(),
            saved_at: Some(step),
            since_best,
            position: checkpoint.state.stream,
            carry: checkpoint.carry(device)?.map(|carry| shard.share_state(&carry)).transpose()?,
            ..Default::default()
        })
    }

    /// Records a training loss; returns the mean of the last 50.
    fn record(&mut self, loss: f64) -> f64 {
        self.history.record_train(self.step, loss);
        self.recent.push(loss);
        if self.recent.len() > 50 {
            self.recent.remove(0);
        }
        self.recent.iter().sum::<f64>() / self.recent.len() as f64
    }

    /// The checkpoint state of this step.
    fn state(&self, validation_loss: Option<f64>) -> CheckpointState {
        let (step, best_validation_loss, stream) = (self.step, self.best, self.position);
        CheckpointState { step, validation_loss, best_validation_loss, stream, ..Default::default() }
    }

    /// The error that stops a run whose loss is no longer a number: it names the checkpoint
    /// kept.
    fn diverged(&self, which: &str, loss: f64) -> anyhow::Error {
        let kept = if self.last_checkpoint.as_os_str().is_empty() {
            "no checkpoint was saved before".to_string()
        } else {
            format!("the last good checkpoint, {}, is kept", self.last_checkpoint.display())
        };
        anyhow::anyhow!(
            "the {which} loss is {loss} at step {}: training stopped, and {kept}; try a lower lr or a clip",
            self.step
        )
    }
}

/// Trains as `job` says, until the steps are done or `stop` is set (then it saves and returns
/// [`Outcome::Interrupted`]), telling `reporter` how it goes. A loss that is not finite stops
/// the run with an error and keeps the last checkpoint, which was saved before it.
///
/// In a process group (`job.group`), every rank runs this with the same job: each draws the
/// same windows as the one-process run and trains on its contiguous share of them, gradients
/// are averaged as DDP averages them, and rank 0 alone evaluates, writes and reports (give the
/// others [`super::Quiet`]). A failure that one rank meets is said by that rank; the others
/// return [`super::RankFailed`].
pub fn train(job: &TrainJob, reporter: &mut dyn Reporter, stop: &AtomicBool) -> Result<Report> {
    let mut shard = Shard::new(job.group.clone());
    let started = shard.agree(Started::new(job, &shard))?;
    let Started { setup, vs, mut model, names, optimizer, scheduler, mut progress } = started;
    shard.wrap(optimizer.params())?;
    let (config, device) = (&setup.config, job.device);
    let saver = Saver { out: &job.out, config, vocab: &setup.corpus.vocab, names: &names, device };
    let mut run = Loop { setup: &setup, saver, device, stop, optimizer, scheduler, shard };

    reporter.start(progress.step, setup.total_steps);
    let started = Instant::now();
    let outcome = run.steps(&mut model, &vs, &mut progress, reporter);
    reporter.finish();
    let exchange_share = match &outcome {
        Ok(_) => run.shard.finish(progress.step_seconds)?,
        Err(_) => Vec::new(),
    };
    let chars_per_step = (config.data.batch * config.data.seq_len) as f64;
    let best = std::fs::canonicalize(job.out.join("best")).ok().zip(progress.best);
    Ok(Report {
        outcome: outcome?,
        step: progress.step,
        validation: progress.validation,
        checkpoint: progress.last_checkpoint.clone(),
        best,
        seconds: started.elapsed().as_secs_f64(),
        chars_per_second: progress.steps_taken as f64 * chars_per_step / progress.step_seconds.max(1e-9),
        exchange_share,
    })
}

/// A run ready for its first step: the setup, the model and the optimizer drawn from the seed
/// as PyTorch draws them, and, when resuming, everything restored from the checkpoint.
struct Started {
    setup: Setup,
    vs: VarStore,
    model: CharModel,
    names: Vec<String>,
    optimizer: Box<dyn Optimizer>,
    scheduler: Option<Box<dyn LrScheduler>>,
    progress: Progress,
}

impl Started {
    fn new(job: &TrainJob, shard: &Shard) -> Result<Self> {
        let setup = Setup::new(job, shard)?;
        let (config, device) = (&setup.config, job.device);
        tch::manual_seed(config.run.seed);
        let mut vs = VarStore::new(device);
        let model = CharModel::new(&vs.root(), &config.model, setup.corpus.vocab.len() as i64)?;
        let (names, params): (Vec<String>, Vec<Tensor>) = model.named_parameters().into_iter().unzip();
        let mut optimizer = config.optim.optimizer(params)?;
        let evaluations = (setup.total_steps + config.run.eval_every - 1) / config.run.eval_every;
        let mut scheduler = config.optim.scheduler(optimizer.as_mut(), evaluations)?;
        let mut progress = Progress::default();
        if let Some(checkpoint) = &setup.resumed {
            progress = Progress::resumed(checkpoint, &job.out, setup.total_steps, device, shard)?;
            checkpoint.load_weights(&mut vs)?;
            checkpoint.restore_optimizer(optimizer.as_mut(), &names)?;
            if let Some(scheduler) = scheduler.as_deref_mut() {
                checkpoint.restore_scheduler(scheduler)?;
            }
            let states: Vec<(String, Tensor)> = checkpoint.rng()?.into_iter().collect();
            restore_rng_states(&states, device)?;
        }
        Ok(Started { setup, vs, model, names, optimizer, scheduler, progress })
    }
}

/// The training loop and what it needs.
struct Loop<'a> {
    setup: &'a Setup,
    saver: Saver<'a>,
    device: Device,
    stop: &'a AtomicBool,
    optimizer: Box<dyn Optimizer>,
    scheduler: Option<Box<dyn LrScheduler>>,
    shard: Shard,
}

impl Loop<'_> {
    /// Steps until the end or a stop: train, then evaluate and save, then show a sample, each
    /// when its time comes.
    fn steps(
        &mut self,
        model: &mut CharModel,
        vs: &VarStore,
        progress: &mut Progress,
        reporter: &mut dyn Reporter,
    ) -> Result<Outcome> {
        let (data, run) = (&self.setup.config.data, &self.setup.config.run);
        let total = self.setup.total_steps;
        let batches = Batches {
            train: &self.setup.corpus.train,
            batch: data.batch,
            seq_len: data.seq_len,
            batching: data.batching,
        };
        // In a group, the ranks agree after each step on whether to stop.
        let mut stopping = false;
        loop {
            if progress.step >= total {
                return Ok(Outcome::Finished);
            }
            if stopping || (self.shard.world() == 1 && self.stop.load(Ordering::SeqCst)) {
                self.save_on_stop(vs, progress)?;
                return Ok(Outcome::Interrupted);
            }
            let loss;
            (loss, stopping) = self.step(model, &batches, progress)?;
            if !loss.is_finite() {
                return Err(self.shard.said_by_leader(progress.diverged("training", loss)));
            }
            let mean = progress.record(loss);
            reporter.step(progress.step, mean, data.batch * data.seq_len);
            if progress.step % run.eval_every == 0 || progress.step == total {
                self.evaluate_and_save(model, vs, progress, reporter)?;
                if run.patience.is_some_and(|patience| progress.since_best >= patience) {
                    reporter.line(&format!(
                        "step {}: no better validation loss in {} evaluations: stopping",
                        progress.step, progress.since_best
                    ));
                    return Ok(Outcome::Patience);
                }
            }
            if run.sample_every > 0 && progress.step % run.sample_every == 0 && self.shard.is_leader() {
                self.show_sample(model, progress.step, reporter)?;
            }
        }
    }

    /// One training step on this rank's share of the next batch: the mean loss over the ranks,
    /// and whether any rank was asked to stop.
    fn step(&mut self, model: &mut CharModel, batches: &Batches, progress: &mut Progress) -> Result<(f64, bool)> {
        let started = Instant::now();
        let (x, y) = batches.next(&mut progress.position, &mut progress.carry)?;
        let share = |t: &Tensor| -> Result<Tensor> { Ok(self.shard.share(t, 0)?.f_to_device(self.device)?) };
        let batch = (&share(&x)?, &share(&y)?);
        model.train(true);
        let (clip, shard) = (self.setup.config.optim.clip, &mut self.shard);
        let average = || shard.average_gradients();
        let (rank_loss, carry) =
            train_step(model, self.optimizer.as_mut(), average, clip, batch, progress.carry.as_ref())?;
        if batches.batching == Batching::Streams {
            progress.carry = Some(carry);
        }
        let agreed = self.shard.mean_loss_and_stop(rank_loss, self.stop.load(Ordering::SeqCst))?;
        progress.step += 1;
        progress.steps_taken += 1;
        progress.step_seconds += started.elapsed().as_secs_f64();
        Ok(agreed)
    }

    /// Measures the validation loss (rank 0), steps the schedule with it, saves a checkpoint
    /// (the best so far if it is) and says so.
    fn evaluate_and_save(
        &mut self,
        model: &mut CharModel,
        vs: &VarStore,
        progress: &mut Progress,
        reporter: &mut dyn Reporter,
    ) -> Result<()> {
        let carry = self.shard.gather_state(progress.carry.as_ref())?;
        let data = &self.setup.config.data;
        let mut evaluation = None;
        let measured = self.shard.is_leader().then(|| {
            model.train(false);
            let result = evaluate(model, &self.setup.corpus.validation, data.seq_len, data.batch, self.device);
            result.map(|result| *evaluation.insert(result)).map(|result| result.loss)
        });
        let loss = self.shard.leader_value(measured)?;
        if !loss.is_finite() {
            return Err(self.shard.said_by_leader(progress.diverged("validation", loss)));
        }
        progress.history.record_validation(progress.step, loss);
        let is_best = progress.best.is_none_or(|b| loss < b);
        if is_best {
            progress.best = Some(loss);
        }
        progress.since_best = if is_best { 0 } else { progress.since_best + 1 };
        if let Some(scheduler) = self.scheduler.as_deref_mut() {
            scheduler.step_epoch(self.optimizer.as_mut(), loss)?;
        }
        self.save(vs, progress, carry.as_ref(), Some(loss), is_best)?;
        if let Some(result) = evaluation {
            reporter.line(&format!(
                "step {}: validation loss {:.4} ({:.3} bits per character){}",
                progress.step,
                result.loss,
                result.bits_per_character(),
                if is_best { ", the best so far" } else { "" }
            ));
            progress.validation = Some(result);
        }
        Ok(())
    }

    /// Saves the current step, unless its checkpoint was just written.
    fn save_on_stop(&self, vs: &VarStore, progress: &mut Progress) -> Result<()> {
        if progress.saved_at != Some(progress.step) {
            let carry = self.shard.gather_state(progress.carry.as_ref())?;
            self.save(vs, progress, carry.as_ref(), None, false)?;
        }
        Ok(())
    }

    /// A checkpoint of the model, the optimizer, the scheduler and the streams' state
    /// (`carry`, every rank's) as they are: rank 0 writes it while the others wait for its word.
    fn save(
        &self,
        vs: &VarStore,
        progress: &mut Progress,
        carry: Option<&RecurrentState>,
        validation_loss: Option<f64>,
        is_best: bool,
    ) -> Result<()> {
        let written = self.shard.is_leader().then(|| {
            let scheduler = self.scheduler.as_deref();
            let trained = Trained { vs, optimizer: self.optimizer.as_ref(), scheduler, carry };
            self.saver.save(trained, progress.state(validation_loss), is_best, &progress.history)
        });
        if let Some(dir) = self.shard.leader_done(written)? {
            progress.last_checkpoint = dir;
        }
        progress.saved_at = Some(progress.step);
        Ok(())
    }

    /// Shows a sample, putting the generators back as they were so that training is unchanged.
    fn show_sample(&self, model: &mut CharModel, step: i64, reporter: &mut dyn Reporter) -> Result<()> {
        let vocab = &self.setup.corpus.vocab;
        model.train(false);
        let states = rng_states(self.device)?;
        let prime = if vocab.contains('\n') { "\n".to_string() } else { vocab.chars()[0].to_string() };
        let window = Some(self.setup.config.data.seq_len);
        let options = SampleOptions {
            prime,
            length: SAMPLE_LENGTH,
            temperature: SAMPLE_TEMPERATURE,
            window,
            ..Default::default()
        };
        let text = sample(model, vocab, &options, self.device);
        restore_rng_states(&states, self.device)?;
        reporter.line(&format!("--- sample at step {} ---\n{}\n---", step, text?.trim_end()));
        Ok(())
    }
}
