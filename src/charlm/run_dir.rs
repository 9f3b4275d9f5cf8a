//! A training run's folder and when it is written: the folder made ready (a run is never
//! overwritten), and each save in the order that makes any crash resumable.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tch::Device;
use tch::nn::VarStore;

use super::checkpoint::{self, Checkpoint, CheckpointState, Snapshot};
use super::corpus::Vocabulary;
use super::history::History;
use super::rng::rng_states;
use super::run_config::RunConfig;
use crate::nn::RecurrentState;
use crate::optim::{LrScheduler, Optimizer};

/// A new run was asked for in a folder that holds one: the command line says how to continue
/// it or where else to go.
///
/// ```
/// let e = tch_rnn::charlm::RunExists { dir: "runs/x".into(), at: "checkpoint at step 4".into() };
/// assert_eq!(e.to_string(), "runs/x already holds a training run (checkpoint at step 4)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunExists {
    pub dir: PathBuf,
    /// What is there: its step, or why its latest checkpoint does not load.
    pub at: String,
}

impl fmt::Display for RunExists {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} already holds a training run ({})", self.dir.display(), self.at)
    }
}

impl std::error::Error for RunExists {}

/// Makes `out` ready: a resumed run's folder must exist; a new run's is created and must be
/// writable and hold no run (not even one whose latest checkpoint no longer loads).
pub(super) fn prepare(out: &Path, resume: bool) -> Result<()> {
    if resume {
        anyhow::ensure!(out.is_dir(), "resume: {} is not a run's folder (it does not exist)", out.display());
        return Ok(());
    }
    if std::fs::symlink_metadata(out.join("latest")).is_ok() {
        let at = match Checkpoint::open(out) {
            Ok(checkpoint) => format!("checkpoint at step {}", checkpoint.state.step),
            Err(e) => format!("its latest checkpoint does not load: {}", crate::error::one_line(&e)),
        };
        return Err(RunExists { dir: out.to_path_buf(), at }.into());
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create the run's folder {}", out.display()))?;
    let probe = crate::fsutil::temporary_sibling(&out.join("probe"), "write-test");
    std::fs::write(&probe, b"").with_context(|| format!("the run's folder {} is not writable", out.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// What training has made so far: the model's variables, the optimizer and scheduler, and the
/// state the streams carry.
pub(super) struct Trained<'a> {
    pub vs: &'a VarStore,
    pub optimizer: &'a dyn Optimizer,
    pub scheduler: Option<&'a dyn LrScheduler>,
    pub carry: Option<&'a RecurrentState>,
}

/// What every checkpoint of a run holds besides the model, the optimizer and the step.
pub(super) struct Saver<'a> {
    pub out: &'a Path,
    pub config: &'a RunConfig,
    pub vocab: &'a Vocabulary,
    /// The parameters' names, in the optimizer's order.
    pub names: &'a [String],
    pub device: Device,
}

impl Saver<'_> {
    /// Saves the history and its plot, writes the checkpoint of `state.step` (the model, the
    /// optimizer and the scheduler as they are), points `best`
    /// (if it is, or if there is none yet) then `latest` at it, and removes the checkpoints no
    /// longer pointed at. In that order, a crash between any two steps leaves a run that
    /// resumes exactly: the history is never behind `latest` (a resume cuts it back to
    /// `latest`'s step), and `best` is never behind it.
    pub fn save(&self, trained: Trained, state: CheckpointState, is_best: bool, history: &History) -> Result<PathBuf> {
        let Trained { vs, optimizer, scheduler, carry } = trained;
        let snapshot = Snapshot {
            config: self.config,
            vocab: self.vocab,
            vs,
            optimizer,
            scheduler,
            parameter_names: self.names,
            rng: rng_states(self.device)?,
            carry,
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
