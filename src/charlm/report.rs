//! What a training run tells its caller while it works and when it ends. The library prints
//! nothing: the caller passes a [`Reporter`] (the `tch-rnn` command's draws a progress bar).

use std::path::PathBuf;

use super::evaluate::Evaluation;

/// Receives a training run's progress.
///
/// ```
/// /// Keeps the lines, as a test might.
/// struct Lines(Vec<String>);
/// impl tch_rnn::charlm::Reporter for Lines {
///     fn line(&mut self, text: &str) { self.0.push(text.to_string()); }
/// }
/// let mut lines = Lines(Vec::new());
/// tch_rnn::charlm::Reporter::line(&mut lines, "step 10: validation loss 2.0");
/// assert_eq!(lines.0.len(), 1);
/// ```
pub trait Reporter {
    /// Training goes from step `first_step` to `total_steps`.
    fn start(&mut self, _first_step: i64, _total_steps: i64) {}

    /// Step `step` is done; `mean_loss` is the mean training loss of the recent steps.
    fn step(&mut self, _step: i64, _mean_loss: f64, _chars_per_step: i64) {}

    /// A line to show: a validation result, a sample.
    fn line(&mut self, _text: &str) {}

    /// Training is over (finished, interrupted or failed).
    fn finish(&mut self) {}
}

/// A reporter that shows nothing.
///
/// ```
/// let mut quiet = tch_rnn::charlm::Quiet;
/// tch_rnn::charlm::Reporter::line(&mut quiet, "not shown");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Quiet;

impl Reporter for Quiet {}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// All steps done.
    Finished,
    /// Stopped on request (Ctrl-C or SIGTERM in the command), after saving a checkpoint.
    Interrupted,
    /// Stopped early: `patience` evaluations without a better validation loss.
    Patience,
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
    /// The checkpoint with the lowest validation loss (where `best` points), and that loss.
    pub best: Option<(PathBuf, f64)>,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// Training characters per second of the training steps alone (not counting validation,
    /// checkpoints and samples).
    pub chars_per_second: f64,
    /// In a process group, each rank's share of its training-step time spent in the gradient
    /// and loss exchanges (communication, and waiting for slower ranks); empty alone.
    pub exchange_share: Vec<f64>,
}
