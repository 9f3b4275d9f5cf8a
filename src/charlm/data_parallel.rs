//! A run shared among the ranks of a process group, as PyTorch's DDP recipe shares it: every
//! rank draws the same windows and takes its contiguous share of the rows, gradients are
//! averaged by [`DistributedDataParallel`], the logged loss is the mean over the ranks, and
//! rank 0 alone evaluates and writes while the others wait for its word. Alone (no group),
//! every method is the one-process run's no-op.
//!
//! The collectives, in the order every rank (Rust or `char_model.py`) makes them: at the
//! start, one allreduce of who failed to set up, then DDP's parameter check and broadcast;
//! each step, DDP's gradient buckets and one allreduce of `[loss / world, stop]`; at each
//! checkpoint, one broadcast per rank of its streams' state (with `--batching streams`), then
//! rank 0's broadcast of `[validation loss, failed]` and of whether its save worked; at the
//! end, an allreduce of each rank's share of its step time spent exchanging, and a barrier.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tch::{Kind, Tensor};

use crate::distributed::{DistributedDataParallel, ProcessGroup};
use crate::nn::RecurrentState;

/// Another rank failed and said why on its own stderr: this rank stops without repeating it.
///
/// ```
/// let e = tch_rnn::charlm::RankFailed { rank: 0 };
/// assert_eq!(e.to_string(), "rank 0 failed (it says why)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RankFailed {
    pub rank: usize,
}

impl fmt::Display for RankFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rank {} failed (it says why)", self.rank)
    }
}

impl std::error::Error for RankFailed {}

/// This process's part of a run: the whole of it, or rank `r`'s share in a group.
pub(super) struct Shard {
    group: Option<Arc<ProcessGroup>>,
    ddp: Option<DistributedDataParallel>,
    /// Time spent in the gradient and loss exchanges.
    exchanging: Duration,
}

impl Shard {
    pub(super) fn new(group: Option<Arc<ProcessGroup>>) -> Self {
        Shard { group, ddp: None, exchanging: Duration::ZERO }
    }

    pub(super) fn rank(&self) -> usize {
        self.group.as_ref().map_or(0, |g| g.rank())
    }

    pub(super) fn world(&self) -> usize {
        self.group.as_ref().map_or(1, |g| g.world_size())
    }

    /// Rank 0, which evaluates, writes and reports.
    pub(super) fn is_leader(&self) -> bool {
        self.rank() == 0
    }

    /// A global batch this world can share: a multiple of the world size.
    pub(super) fn check_batch(&self, batch: i64) -> Result<()> {
        let world = self.world() as i64;
        if batch % world != 0 {
            let message = format!("must be a multiple of the {world} ranks (each takes an equal share), got {batch}");
            return Err(crate::options::OptionError::new("batch", message).into());
        }
        Ok(())
    }

    /// `setup` as every rank agrees on it: if any rank failed, the lowest such rank returns its
    /// error and the others [`RankFailed`], so that one line says why.
    pub(super) fn agree<T>(&self, setup: Result<T>) -> Result<T> {
        let Some(group) = &self.group else { return setup };
        let failed = Tensor::zeros([self.world() as i64], (Kind::Double, tch::Device::Cpu));
        if setup.is_err() {
            let _ = failed.get(self.rank() as i64).fill_(1.0);
        }
        group.allreduce(&[failed.shallow_clone()])?;
        let flags = Vec::<f64>::try_from(&failed)?;
        match flags.iter().position(|&f| f != 0.0) {
            Some(first) if first != self.rank() => Err(RankFailed { rank: first }.into()),
            _ => setup,
        }
    }

    /// Wraps the model's parameters in DDP: checks them on every rank and copies rank 0's.
    pub(super) fn wrap(&mut self, params: &[Tensor]) -> Result<()> {
        if let Some(group) = &self.group {
            self.ddp = Some(DistributedDataParallel::new(group.clone(), params)?);
        }
        Ok(())
    }

    /// DDP's gradient averaging, after the backward pass.
    pub(super) fn average_gradients(&mut self) -> Result<()> {
        let started = Instant::now();
        let averaged = self.ddp.as_mut().map_or(Ok(()), DistributedDataParallel::average_gradients);
        self.exchanging += started.elapsed();
        averaged
    }

    /// This rank's contiguous share of `t`'s rows along `dim` (all of them alone).
    pub(super) fn share(&self, t: &Tensor, dim: i64) -> Result<Tensor> {
        let (rank, world) = (self.rank() as i64, self.world() as i64);
        let rows = t.size()[dim as usize] / world;
        Ok(t.f_narrow(dim, rank * rows, rows)?)
    }

    /// This rank's share of the streams of a state `(layers, batch, hidden)`.
    pub(super) fn share_state(&self, state: &RecurrentState) -> Result<RecurrentState> {
        let (rank, world) = (self.rank() as i64, self.world() as i64);
        state.try_map(|t| {
            let rows = t.size()[1] / world;
            t.f_narrow(1, rank * rows, rows)?.f_contiguous()
        })
    }

    /// The mean of the ranks' losses (summed as `loss / world`), and whether any rank was
    /// asked to stop.
    pub(super) fn mean_loss_and_stop(&mut self, loss: f64, stop: bool) -> Result<(f64, bool)> {
        let Some(group) = &self.group else { return Ok((loss, stop)) };
        let values = Tensor::from_slice(&[loss / self.world() as f64, f64::from(u8::from(stop))]);
        let started = Instant::now();
        group.allreduce(&[values.shallow_clone()])?;
        self.exchanging += started.elapsed();
        let values = Vec::<f64>::try_from(&values)?;
        Ok((values[0], values[1] != 0.0))
    }

    /// Every rank's streams put together (rank order), from each rank's share.
    pub(super) fn gather_state(&self, state: Option<&RecurrentState>) -> Result<Option<RecurrentState>> {
        let (Some(_), Some(state)) = (&self.group, state) else {
            return Ok(state.map(|s| s.map(Tensor::shallow_clone)));
        };
        Ok(Some(match state {
            RecurrentState::Hidden(h) => RecurrentState::Hidden(self.gather(h)?),
            RecurrentState::HiddenAndCell(h, c) => RecurrentState::HiddenAndCell(self.gather(h)?, self.gather(c)?),
        }))
    }

    /// Every rank's `share` put together along dim 1: one broadcast from each rank in turn.
    fn gather(&self, share: &Tensor) -> Result<Tensor> {
        let group = self.group.as_ref().expect("gather is only called in a group");
        let mut shares = Vec::new();
        for root in 0..self.world() {
            let part = if root == self.rank() { share.f_contiguous()? } else { share.f_empty_like()? };
            group.broadcast(&[part.shallow_clone()], root)?;
            shares.push(part);
        }
        Ok(Tensor::f_cat(&shares, 1)?)
    }

    /// Rank 0's `value` on every rank (the others pass `None` and wait for it). When rank 0
    /// failed, it returns its error and the others [`RankFailed`].
    pub(super) fn leader_value(&self, value: Option<Result<f64>>) -> Result<f64> {
        let Some(group) = &self.group else {
            return value.unwrap_or_else(|| bail!("a run of one process is its own rank 0"));
        };
        let (word, error) = match value {
            Some(Ok(v)) => ([v, 0.0], None),
            Some(Err(e)) => ([f64::NAN, 1.0], Some(e)),
            None => ([0.0, 0.0], None),
        };
        let word = Tensor::from_slice(&word);
        group.broadcast(&[word.shallow_clone()], 0)?;
        let word = Vec::<f64>::try_from(&word)?;
        match (error, word[1] != 0.0) {
            (Some(e), _) => Err(e),
            (None, true) => Err(RankFailed { rank: 0 }.into()),
            (None, false) => Ok(word[0]),
        }
    }

    /// Rank 0's `result` (the others pass `None`): its value there, `None` elsewhere, once every
    /// rank knows that it worked.
    pub(super) fn leader_done<T>(&self, result: Option<Result<T>>) -> Result<Option<T>> {
        let mut kept = None;
        self.leader_value(result.map(|r| r.map(|value| kept = Some(value)).map(|()| 0.0)))?;
        Ok(kept)
    }

    /// Each rank's share of its `step_seconds` spent exchanging (empty alone), then a barrier,
    /// so that no rank leaves while another still needs it (rank 0 may host the store).
    pub(super) fn finish(&self, step_seconds: f64) -> Result<Vec<f64>> {
        let Some(group) = &self.group else { return Ok(Vec::new()) };
        let shares = Tensor::zeros([self.world() as i64], (Kind::Double, tch::Device::Cpu));
        let _ = shares.get(self.rank() as i64).fill_(self.exchanging.as_secs_f64() / step_seconds.max(1e-9));
        group.allreduce(&[shares.shallow_clone()])?;
        group.barrier()?;
        Ok(Vec::<f64>::try_from(&shares)?)
    }

    /// An error every rank meets alike (a loss that is not a number): rank 0 says it, the
    /// others stop with [`RankFailed`].
    pub(super) fn said_by_leader(&self, e: anyhow::Error) -> anyhow::Error {
        if self.is_leader() { e } else { RankFailed { rank: 0 }.into() }
    }
}
