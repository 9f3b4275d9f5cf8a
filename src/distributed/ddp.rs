//! Data-parallel training as PyTorch's DistributedDataParallel does it, for any model given as
//! its list of parameters.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use tch::Tensor;

use super::{ProcessGroup, buckets};
use crate::ffi::distributed::ReadyOrder;

/// `torch.nn.parallel.DistributedDataParallel` for a list of parameter tensors (any tch model),
/// with DDP's defaults: at construction, the same checks and the same broadcast of rank 0's
/// parameters; after each backward pass, [`average_gradients`](Self::average_gradients) leaves
/// every rank with DDP's averaged gradients, bit for bit, before clipping and the optimizer
/// step. Every rank calls the same methods in the same order, as with DDP.
///
/// Differences from DDP: gradients are reduced after the backward pass rather than during it
/// (same bits, less overlap of communication with computation); every parameter must get a
/// gradient in every step (DDP's `find_unused_parameters=False`); no buffers are broadcast.
///
/// ```
/// use std::sync::Arc;
/// use tch::{Kind, Tensor};
/// use tch_rnn::distributed::{DistributedDataParallel, GroupConfig, ProcessGroup};
/// use tch_rnn::optim::{Adam, AdamConfig};
/// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
/// let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
/// let group = Arc::new(ProcessGroup::new(GroupConfig::new("127.0.0.1", port, 0, 1))?);
/// let w = Tensor::from_slice(&[1.0f32, -2.0]).set_requires_grad(true);
/// let mut ddp = DistributedDataParallel::new(group, &[w.shallow_clone()])?;
/// let mut adam = Adam::new(vec![w.shallow_clone()], AdamConfig::default())?;
/// for _ in 0..3 {
///     adam.zero_grad();
///     (&w * &w).sum(Kind::Float).backward();
///     ddp.average_gradients()?; // then clip, then step
///     adam.step()?;
/// }
/// # anyhow::Ok(())
/// ```
pub struct DistributedDataParallel {
    group: Arc<ProcessGroup>,
    params: Vec<Tensor>,
    buckets: Vec<Vec<usize>>,
    /// The gradients' ready order, recorded until the buckets are rebuilt.
    ready: Option<ReadyOrder>,
    steps: usize,
}

impl DistributedDataParallel {
    /// Wraps `params` (in the model's parameter order, as `module.parameters()` lists them):
    /// checks that every rank has the same number of parameters of the same shapes, then copies
    /// rank 0's values to every rank (DDP's `_verify_param_shape_across_processes` and
    /// `_sync_module_states`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// # let group = Arc::new(tch_rnn::distributed::ProcessGroup::new(tch_rnn::distributed::GroupConfig::new("127.0.0.1", port, 0, 1))?);
    /// let frozen = tch::Tensor::from_slice(&[1.0f32]); // requires no grad
    /// let e = tch_rnn::distributed::DistributedDataParallel::new(group, &[frozen]).err().unwrap();
    /// assert_eq!(e.to_string(), "DistributedDataParallel: parameter 0: expected a defined leaf tensor that requires grad");
    /// # anyhow::Ok(())
    /// ```
    pub fn new(group: Arc<ProcessGroup>, params: &[Tensor]) -> Result<Self> {
        crate::error::guard("DistributedDataParallel", || buckets::check_params(params))?;
        let params: Vec<Tensor> = params.iter().map(Tensor::shallow_clone).collect();
        group.verify_params(&params)?;
        let detached: Vec<Tensor> = params.iter().map(Tensor::detach).collect();
        group.broadcast(&detached, 0)?;
        let buckets = guarded(buckets::initial(&params))?;
        let ready = guarded(ReadyOrder::new(&params).map_err(|e| anyhow!(e)))?;
        Ok(DistributedDataParallel { group, params, buckets, ready: Some(ready), steps: 0 })
    }

    /// Averages every parameter's gradient over the ranks as DDP does: each bucket of gradients
    /// scaled by 1/world and SUM-allreduced, in DDP's buckets (all parameters in their order
    /// for the first step; from the second on, the buckets DDP rebuilds from the order in which
    /// the first backward pass produced the gradients, as rank 0 saw it). Call it after
    /// `backward()`, before clipping and the optimizer step, on every rank.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tch::{Kind, Tensor};
    /// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// # let group = Arc::new(tch_rnn::distributed::ProcessGroup::new(tch_rnn::distributed::GroupConfig::new("127.0.0.1", port, 0, 1))?);
    /// let w = Tensor::from_slice(&[3.0f32]).set_requires_grad(true);
    /// let mut ddp = tch_rnn::distributed::DistributedDataParallel::new(group, &[w.shallow_clone()])?;
    /// let e = ddp.average_gradients().unwrap_err(); // no backward pass yet
    /// assert_eq!(e.to_string(), "DistributedDataParallel: parameter 0 has no gradient: call backward first");
    /// (&w * &w).sum(Kind::Float).backward();
    /// ddp.average_gradients()?;
    /// assert_eq!(Vec::<f32>::try_from(&w.grad())?, [6.0]); // one rank: its own gradient
    /// # anyhow::Ok(())
    /// ```
    pub fn average_gradients(&mut self) -> Result<()> {
        if self.steps == 1 {
            self.rebuild_buckets()?;
        }
        for bucket in &self.buckets {
            buckets::average(&self.group, &self.params, bucket).map_err(tidy)?;
        }
        self.steps += 1;
        Ok(())
    }

    /// The buckets in use, each a list of parameter indices, reduced in this order.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// # let group = Arc::new(tch_rnn::distributed::ProcessGroup::new(tch_rnn::distributed::GroupConfig::new("127.0.0.1", port, 0, 1))?);
    /// let (a, b) = (tch::Tensor::ones([2], tch::kind::FLOAT_CPU), tch::Tensor::ones([3], tch::kind::FLOAT_CPU));
    /// let params = [a.set_requires_grad(true), b.set_requires_grad(true)];
    /// let ddp = tch_rnn::distributed::DistributedDataParallel::new(group, &params)?;
    /// assert_eq!(ddp.buckets(), [vec![0, 1]]); // before the first step: one bucket, in order
    /// # anyhow::Ok(())
    /// ```
    pub fn buckets(&self) -> &[Vec<usize>] {
        &self.buckets
    }

    /// The process group the gradients are averaged over.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// # let group = Arc::new(tch_rnn::distributed::ProcessGroup::new(tch_rnn::distributed::GroupConfig::new("127.0.0.1", port, 0, 1))?);
    /// let w = tch::Tensor::ones([1], tch::kind::FLOAT_CPU).set_requires_grad(true);
    /// let ddp = tch_rnn::distributed::DistributedDataParallel::new(group, &[w])?;
    /// assert_eq!(ddp.group().world_size(), 1);
    /// # anyhow::Ok(())
    /// ```
    pub fn group(&self) -> &ProcessGroup {
        &self.group
    }

    /// The Reducer's `rebuild_buckets`, before the second step: buckets from this rank's ready
    /// order, then rank 0's for all (`sync_bucket_indices`); stops recording.
    fn rebuild_buckets(&mut self) -> Result<()> {
        let ready = self.ready.take().map(|r| r.read()).unwrap_or_default();
        let local = guarded(buckets::rebuilt(&self.params, &ready))?;
        self.buckets = buckets::synced(&self.group, &local).map_err(tidy)?;
        Ok(())
    }
}

/// `result` with its error prefixed `DistributedDataParallel:` (a distributed failure keeps its
/// own line, which names the rank).
fn guarded<T>(result: Result<T>) -> Result<T> {
    result.map_err(tidy)
}

fn tidy(e: anyhow::Error) -> anyhow::Error {
    if e.is::<super::Failure>() { e } else { crate::error::tidy("DistributedDataParallel", e) }
}
