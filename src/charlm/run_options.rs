//! The `run` group of options: how long a run trains and what it does on the way.

use anyhow::Result;

use crate::options::{Domain, option_group};

option_group! {
    /// How long a run trains and what it does on the way: the `run` group of `config.json`,
    /// and the run's flags of `tch-rnn train`.
    ///
    /// ```
    /// let run = tch_rnn::charlm::RunOptions::default();
    /// assert_eq!((run.seed, run.steps, run.epochs, run.eval_every, run.sample_every), (0, 2000, None, 250, 500));
    /// ```
    pub struct RunOptions {
        /// Seed of the initial weights and of the batches.
        seed: i64 = 0, Domain::AnyInteger, Keep;
        /// Optimizer steps in all, earlier runs included.
        steps: i64 = 2000, Domain::Integer { min: 1 }, Change;
        /// Passes over the training text, instead of steps.
        epochs: Option<f64> = None, Domain::Number { min: 0.0, inclusive: false, below: None }, Change;
        /// Measure the validation loss and save a checkpoint every this many steps.
        eval_every: i64 = 250, Domain::Integer { min: 1 }, Change;
        /// Show a sample every this many steps; 0 for none.
        sample_every: i64 = 500, Domain::Integer { min: 0 }, Change;
        /// Stop after this many evaluations without a better validation loss (default: never).
        patience: Option<i64> = None, Domain::Integer { min: 1 }, Change;
    }
}

impl RunOptions {
    fn rules(&self) -> Result<()> {
        Ok(())
    }

    /// The step a run ends at: `steps`, or `epochs` passes over `train_chars` characters in
    /// steps of `chars_per_step`.
    pub(super) fn total_steps(&self, train_chars: i64, chars_per_step: i64) -> i64 {
        match self.epochs {
            Some(epochs) => (epochs * (train_chars as f64 / chars_per_step as f64).ceil()).ceil() as i64,
            None => self.steps,
        }
    }
}
