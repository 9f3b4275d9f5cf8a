//! What `tch-rnn train` shows while it works, on stderr: a progress bar (step, loss, characters
//! per second, time left) when stderr is a terminal, plain lines at intervals when it is not
//! (a log file, CI), and the validation losses and samples as lines either way.

use crate::charlm::Reporter;
use crate::cli::program::note;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// The training run's report to the user, on stderr.
///
/// ```
/// let mut progress = tch_rnn::cli::progress::Progress::default();
/// tch_rnn::charlm::Reporter::start(&mut progress, 0, 10);
/// tch_rnn::charlm::Reporter::finish(&mut progress);
/// ```
#[derive(Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
    first_step: i64,
    total_steps: i64,
    started: Option<Instant>,
    /// Plain mode: a line every this many steps.
    every: i64,
}

impl Progress {
    /// Training characters per second since the start of this run.
    fn rate(&self, step: i64, chars_per_step: i64) -> f64 {
        let elapsed = self.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
        (step - self.first_step) as f64 * chars_per_step as f64 / elapsed.max(1e-9)
    }
}

impl Reporter for Progress {
    /// A bar of steps `first_step + 1 ..= total_steps` when stderr is a terminal.
    fn start(&mut self, first_step: i64, total_steps: i64) {
        self.bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total_steps as u64).with_position(first_step as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} step {pos}/{len}  loss {msg}  {elapsed} elapsed, ETA {eta}")
                    .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        self.every = ((total_steps - first_step) / 20).clamp(1, 100);
        (self.first_step, self.total_steps, self.started) = (first_step, total_steps, Some(Instant::now()));
    }

    /// After `step`, with the running mean of the training loss.
    fn step(&mut self, step: i64, loss: f64, chars_per_step: i64) {
        let rate = self.rate(step, chars_per_step);
        match &self.bar {
            Some(bar) => {
                bar.set_position(step as u64);
                bar.set_message(format!("{loss:.4}  {rate:.0} chars/s"));
            }
            None if step % self.every == 0 || step == self.total_steps => {
                let done = (step - self.first_step) as f64;
                let left = (self.total_steps - step) as f64;
                let elapsed = self.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
                let eta = elapsed / done.max(1.0) * left;
                note(&format!(
                    "step {step}/{}  loss {loss:.4}  {rate:.0} chars/s  ETA {}",
                    self.total_steps,
                    format_duration(eta)
                ));
            }
            None => {}
        }
    }

    /// A line above the bar (or on its own without one).
    fn line(&mut self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => note(line),
        }
    }

    /// Removes the bar.
    fn finish(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `3m02s`, `1h05m`, `12s`.
///
/// ```
/// assert_eq!(tch_rnn::cli::progress::format_duration(182.4), "3m02s");
/// assert_eq!(tch_rnn::cli::progress::format_duration(3900.0), "1h05m");
/// ```
pub fn format_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}
