//! The process group: libtorch's c10d default group with its Gloo backend, built as
//! `torch.distributed.init_process_group("gloo")` builds it, so that Rust and PyTorch ranks can
//! share one.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Result;
use tch::Tensor;

use super::config::{Backend, GroupConfig};
use super::failure::{Cause, Failure, classify, silent_ranks, tidy};
use super::ready;
use crate::ffi::distributed::RawGroup;

/// DDP's `broadcast_bucket_size` (torch/nn/parallel/distributed.py): the largest buffer that
/// [`ProcessGroup::broadcast`] flattens several tensors into.
const BROADCAST_BUCKET_BYTES: usize = 250 * 1024 * 1024;

/// How long a rank that saw a collective fail waits for the other survivors to report, to
/// tell them from the lost (capped by the group's timeout). A survivor busy computing reports
/// only at its next collective: on a loaded machine (4 ranks on 2 cores) 2 s was measured to be
/// too short for that, and a busy survivor was named among the lost.
pub(crate) const REPORT_GRACE: Duration = Duration::from_secs(5);

/// One rank's membership of a process group: c10d's `ProcessGroup` over a `ProcessGroupGloo`
/// backend (CPU tensors; CUDA tensors through Gloo's CUDA path, staged in host memory), or with
/// [`Backend::Nccl`](super::Backend::Nccl) a `ProcessGroupNCCL` one for CUDA tensors, on a
/// `TCPStore` that rank 0 hosts, or torchrun's agent. Its store keys are PyTorch's
/// (`default_pg/0//cpu/...`), so PyTorch ranks that call `init_process_group` with the same
/// backend string and address join the same group.
///
/// Collectives run one at a time and block until done. Any failure is one line naming this
/// rank and the cause ([`Failure`]), within the timeout; after one, the group is broken and
/// every later call says so.
///
/// ```
/// use tch::Tensor;
/// use tch_rnn::distributed::{GroupConfig, ProcessGroup};
/// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
/// let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
/// let group = ProcessGroup::new(GroupConfig::new("127.0.0.1", port, 0, 1))?;
/// let x = Tensor::from_slice(&[1.0f32, 2.0]);
/// group.allreduce(&[x.shallow_clone()])?; // a world of one: the sum is x itself
/// assert_eq!(Vec::<f32>::try_from(&x)?, [1.0, 2.0]);
/// # anyhow::Ok(())
/// ```
pub struct ProcessGroup {
    config: GroupConfig,
    raw: RawGroup,
    /// The first failure's line, once the group is broken; the lock also keeps collectives in
    /// order.
    broken: Mutex<Option<String>>,
}

impl ProcessGroup {
    /// Joins the group that `config` describes: rank 0 hosts the store (unless torchrun's
    /// agent does) and every rank waits up to `config.timeout` for all the others.
    ///
    /// ```
    /// use tch_rnn::distributed::{GroupConfig, ProcessGroup};
    /// let config = GroupConfig::new("no-such-host.invalid", 29500, 0, 2);
    /// let e = ProcessGroup::new(config).err().unwrap();
    /// assert!(e.to_string().starts_with("distributed: rank 0 of 2: "));
    /// ```
    pub fn new(config: GroupConfig) -> Result<Self> {
        let refused = |cause, detail| Failure {
            rank: config.rank,
            world_size: config.world_size,
            operation: "joining".into(),
            cause,
            detail,
        };
        if let Err(missing) = ready(config.backend) {
            return Err(refused(Cause::Unavailable, missing).into());
        }
        if let Err((cause, detail)) = config.check() {
            return Err(refused(cause, detail).into());
        }
        let GroupConfig { ref master_addr, master_port, rank, world_size, agent_store, timeout, backend, .. } = config;
        let nccl = backend == Backend::Nccl;
        match RawGroup::new(master_addr, master_port, rank, world_size, agent_store, nccl, timeout) {
            Ok(raw) => Ok(ProcessGroup { config, raw, broken: Mutex::new(None) }),
            Err(message) => Err(joining_failure(&config, &message).into()),
        }
    }

    /// Joins the group torchrun describes in the environment ([`GroupConfig::from_env`]).
    ///
    /// ```
    /// # if std::env::var_os("MASTER_ADDR").is_none() {
    /// let e = tch_rnn::distributed::ProcessGroup::from_env(std::time::Duration::from_secs(60)).err().unwrap();
    /// assert!(e.to_string().contains("MASTER_ADDR is not set"));
    /// # }
    /// ```
    pub fn from_env(timeout: Duration) -> Result<Self> {
        Self::new(GroupConfig::from_env(timeout)?)
    }

    /// This process's rank in the group.
    ///
    /// ```
    /// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// # let group = tch_rnn::distributed::ProcessGroup::new(tch_rnn::distributed::GroupConfig::new("127.0.0.1", port, 0, 1))?;
    /// assert_eq!((group.rank(), group.world_size(), group.local_rank()), (0, 1, 0));
    /// # anyhow::Ok(())
    /// ```
    pub fn rank(&self) -> usize {
        self.config.rank
    }

    /// How many processes the group has.
    ///
    /// ```
    /// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// let group = tch_rnn::distributed::ProcessGroup::new(tch_rnn::distributed::GroupConfig::new("127.0.0.1", port, 0, 1))?;
    /// assert_eq!(group.world_size(), 1);
    /// # anyhow::Ok(())
    /// ```
    pub fn world_size(&self) -> usize {
        self.config.world_size
    }

    /// This process's rank on its machine (`LOCAL_RANK`): which GPU it would use.
    ///
    /// ```
    /// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// let config = tch_rnn::distributed::GroupConfig { local_rank: 0, ..tch_rnn::distributed::GroupConfig::new("127.0.0.1", port, 0, 1) };
    /// assert_eq!(tch_rnn::distributed::ProcessGroup::new(config)?.local_rank(), 0);
    /// # anyhow::Ok(())
    /// ```
    pub fn local_rank(&self) -> usize {
        self.config.local_rank
    }

    /// The configuration the group was joined with.
    ///
    /// ```
    /// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// # let group = tch_rnn::distributed::ProcessGroup::new(tch_rnn::distributed::GroupConfig::new("127.0.0.1", port, 0, 1))?;
    /// assert_eq!(group.config().master_port, port);
    /// # anyhow::Ok(())
    /// ```
    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// Sums `tensors` over all ranks, in place (`dist.all_reduce` for one tensor,
    /// `all_reduce_coalesced` for several: one Gloo allreduce over their concatenation). The
    /// tensors must be of one kind and on one device.
    ///
    /// ```
    /// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// # let group = tch_rnn::distributed::ProcessGroup::new(tch_rnn::distributed::GroupConfig::new("127.0.0.1", port, 0, 1))?;
    /// let (a, b) = (tch::Tensor::from_slice(&[1.0f32]), tch::Tensor::from_slice(&[2.0f32, 3.0]));
    /// group.allreduce(&[a.shallow_clone(), b.shallow_clone()])?;
    /// assert_eq!(Vec::<f32>::try_from(&b)?, [2.0, 3.0]);
    /// # anyhow::Ok(())
    /// ```
    pub fn allreduce(&self, tensors: &[Tensor]) -> Result<()> {
        self.check_tensors("allreduce", tensors)?;
        self.run("allreduce", |raw| raw.allreduce(tensors))
    }

    /// Copies `tensors` from rank `root` to every rank, in place (`dist.broadcast` for one
    /// tensor; for several, DDP's `_broadcast_coalesced`: flattened into buffers of up to 250 MiB).
    ///
    /// ```
    /// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// # let group = tch_rnn::distributed::ProcessGroup::new(tch_rnn::distributed::GroupConfig::new("127.0.0.1", port, 0, 1))?;
    /// let w = tch::Tensor::from_slice(&[4i64, 5]);
    /// group.broadcast(&[w.shallow_clone()], 0)?;
    /// let e = group.broadcast(&[w], 1).unwrap_err();
    /// assert_eq!(e.to_string(), "distributed: rank 0 of 1: broadcast: failed (expected a root rank in 0..1, got 1)");
    /// # anyhow::Ok(())
    /// ```
    pub fn broadcast(&self, tensors: &[Tensor], root: usize) -> Result<()> {
        self.check_tensors("broadcast", tensors)?;
        if root >= self.world_size() {
            let detail = format!("expected a root rank in 0..{}, got {root}", self.world_size());
            return Err(self.failure("broadcast", Cause::Other, detail).into());
        }
        match tensors {
            [one] => self.run("broadcast", |raw| raw.broadcast(one, root)),
            many => self.run("broadcast", |raw| raw.broadcast_coalesced(many, BROADCAST_BUCKET_BYTES, root)),
        }
    }

    /// Waits until every rank has reached this point (`dist.barrier()`).
    ///
    /// ```
    /// # if !tch_rnn::distributed::available() { return anyhow::Ok(()) }
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// # let group = tch_rnn::distributed::ProcessGroup::new(tch_rnn::distributed::GroupConfig::new("127.0.0.1", port, 0, 1))?;
    /// group.barrier()?;
    /// # anyhow::Ok(())
    /// ```
    pub fn barrier(&self) -> Result<()> {
        self.run("barrier", |raw| raw.barrier())
    }

    /// DDP's check that every rank holds parameters of rank 0's number, shapes and strides.
    pub(crate) fn verify_params(&self, params: &[Tensor]) -> Result<()> {
        self.run("verifying parameters", |raw| raw.verify_params(params))
    }

    /// Runs `collective` unless the group is broken; on failure, breaks the group and works
    /// out whom to blame.
    fn run(&self, operation: &str, collective: impl FnOnce(&RawGroup) -> Result<(), String>) -> Result<()> {
        let mut broken = self.lock();
        if let Some(first) = broken.as_ref() {
            return Err(self.failure(operation, Cause::Broken, format!("by an earlier failure: {first}")).into());
        }
        let Err(message) = collective(&self.raw) else { return Ok(()) };
        let failure = self.diagnose(operation, &message);
        *broken = Some(failure.what());
        Err(failure.into())
    }

    fn lock(&self) -> MutexGuard<'_, Option<String>> {
        self.broken.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The failure a collective's `message` means: closes this rank's connections first (so
    /// that peers waiting on it fail at once too), then, for a broken connection or a
    /// timeout, names the ranks that did not report back to the store.
    fn diagnose(&self, operation: &str, message: &str) -> Failure {
        let _ = self.raw.shutdown();
        let mut detail = tidy(message);
        let cause = match classify(message) {
            Cause::PeerLost(_) => Cause::PeerLost(self.blame(&mut detail)),
            Cause::Timeout(_) => Cause::Timeout(self.blame(&mut detail)),
            other => other,
        };
        self.failure(operation, cause, detail)
    }

    /// The ranks that did not report back after a failure. When the store is gone too, it was
    /// on rank 0 (outside torchrun), so rank 0 is lost; under torchrun's agent store, nobody
    /// can be named and `detail` says so.
    fn blame(&self, detail: &mut String) -> Vec<usize> {
        let grace = REPORT_GRACE.min(self.config.timeout);
        let hosts_store = !self.config.agent_store && self.rank() == 0;
        match silent_ranks(&self.raw, self.rank(), self.world_size(), hosts_store, grace) {
            Ok(silent) => silent,
            Err(_) if !self.config.agent_store && self.rank() != 0 => vec![0],
            Err(store) => {
                detail.push_str(&format!("; the store does not answer either: {}", tidy(&store)));
                Vec::new()
            }
        }
    }

    /// Refuses an empty list, undefined tensors, and tensors of several kinds or devices,
    /// without breaking the group.
    fn check_tensors(&self, operation: &str, tensors: &[Tensor]) -> Result<()> {
        let detail = match tensors {
            [] => Some("expected at least one tensor, got none".to_string()),
            _ if tensors.iter().any(|t| !t.defined()) => Some("expected defined tensors, got an undefined one".into()),
            [first, rest @ ..] => {
                rest.iter().find(|t| (t.kind(), t.device()) != (first.kind(), first.device())).map(|t| {
                    format!(
                        "expected tensors of one kind on one device ({:?} on {:?}), got {:?} on {:?}",
                        first.kind(),
                        first.device(),
                        t.kind(),
                        t.device()
                    )
                })
            }
        };
        match detail {
            Some(detail) => Err(self.failure(operation, Cause::Other, detail).into()),
            None => Ok(()),
        }
    }

    fn failure(&self, operation: &str, cause: Cause, detail: String) -> Failure {
        Failure { rank: self.rank(), world_size: self.world_size(), operation: operation.into(), cause, detail }
    }
}

impl std::fmt::Debug for ProcessGroup {
    /// The rank, the world and the meeting point.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (addr, port) = (&self.config.master_addr, self.config.master_port);
        write!(f, "ProcessGroup(rank {} of {} at {addr}:{port})", self.rank(), self.world_size())
    }
}

/// The failure of joining a group: the store or the peers never came within the timeout,
/// the address could not be used, or this build cannot do it.
fn joining_failure(config: &GroupConfig, message: &str) -> Failure {
    let lower = message.to_lowercase();
    let (cause, detail) = if lower.contains("client socket") {
        let host = if config.agent_store { "torchrun's agent" } else { "rank 0" };
        let (address, port, timeout) = (&config.master_addr, config.master_port, config.timeout);
        (
            Cause::StoreUnreachable,
            format!("no store answered at {address}:{port} within {timeout:?}: {host} never came or is gone"),
        )
    } else if lower.contains("eaddrinuse") || lower.contains("address already in use") {
        (Cause::BadAddress, tidy(message))
    } else {
        (classify(message), tidy(message))
    };
    Failure { rank: config.rank, world_size: config.world_size, operation: "joining".into(), cause, detail }
}
