//! Data-parallel training on libtorch's own distributed engine, c10d, as PyTorch runs it:
//! a process group from torchrun's environment (or explicit values), its collectives, and
//! [`DistributedDataParallel`], which averages gradients exactly as PyTorch's DDP does.
//!
//! | here | PyTorch |
//! |---|---|
//! | [`GroupConfig::from_env`], [`ProcessGroup::new`] | `init_process_group("gloo")` (env://: `MASTER_ADDR`, `MASTER_PORT`, `RANK`, `WORLD_SIZE`) |
//! | [`GroupConfig::with_backend`]`(`[`Backend::Nccl`]`)` | `init_process_group("cpu:gloo,cuda:nccl")` |
//! | [`ProcessGroup::allreduce`] | `dist.all_reduce` (SUM), `all_reduce_coalesced` for several tensors |
//! | [`ProcessGroup::broadcast`] | `dist.broadcast`, DDP's `_broadcast_coalesced` for several tensors |
//! | [`ProcessGroup::barrier`] | `dist.barrier()` |
//! | [`DistributedDataParallel`] | `torch.nn.parallel.DistributedDataParallel` with its defaults |
//!
//! Everything is c10d's, through the crate's C++ shim: `TCPStore`, the `PrefixStore`s that
//! `init_process_group` wraps it in (`default_pg`, the group name `0/`, the device `cpu/`),
//! `ProcessGroup` with a `ProcessGroupGloo` backend (and `ProcessGroupNCCL` for CUDA tensors
//! when asked), DDP's parameter verification, `broadcast_coalesced` and bucket assignment. So
//! a group may mix Rust and PyTorch ranks.
//!
//! Devices ([`Backend`]): with Gloo (the default, `init_process_group("gloo")`), Gloo serves
//! CPU tensors, and CUDA tensors through its CUDA path (staged through pinned host memory;
//! libtorch_cuda.so registers it once [`crate::device::select`] has loaded CUDA), so ranks may
//! share a GPU. With NCCL (`init_process_group("cpu:gloo,cuda:nccl")`), `ProcessGroupNCCL`
//! moves CUDA tensors GPU to GPU, one GPU per rank, and Gloo the CPU tensors. NCCL lives in
//! libtorch_cuda.so, so its part of the shim is a library of its own, loaded only when a group
//! asks for it ([`nccl_available`]); see docs/distributed.md. Neither CUDA path has run on a GPU
//! yet.
//!
//! Failures are one line naming the rank and the cause ([`Failure`], [`Cause`]): a lost peer
//! ends every survivor's collective at once and names the ranks that did not report back; a
//! stalled peer, a rank 0 that never comes or a store that is gone end it within the timeout;
//! a bad address before anything connects. After any failure the group is broken.
//!
//! Available when the crate was built with gloo's headers (`bash scripts/setup.sh` fetches
//! them); otherwise every entry point says so in one line ([`available`]).
//!
//! ```no_run
//! // Started by `torchrun --nproc-per-node 2 --no-python ./my-trainer` (or any launcher that
//! // sets torchrun's variables), every rank runs:
//! use std::sync::Arc;
//! use tch_rnn::distributed::{DistributedDataParallel, ProcessGroup};
//! # fn parameters() -> Vec<tch::Tensor> { vec![] }
//! let group = Arc::new(ProcessGroup::from_env(std::time::Duration::from_secs(300))?);
//! let mut ddp = DistributedDataParallel::new(group.clone(), &parameters())?;
//! // each step: forward on this rank's share of the batch, backward, then
//! ddp.average_gradients()?;
//! // then clip and step the optimizer, as in one process
//! # anyhow::Ok(())
//! ```

mod buckets;
mod config;
mod ddp;
mod failure;
mod group;

pub use config::{Backend, DEFAULT_TIMEOUT, GroupConfig};
pub use ddp::DistributedDataParallel;
pub use failure::{Cause, Failure};
pub use group::ProcessGroup;
pub(crate) use group::REPORT_GRACE;

/// Whether this build has distributed support (it was compiled with gloo's headers, which
/// `bash scripts/setup.sh` fetches). Without it every entry point fails with one line saying
/// how to get it.
///
/// ```
/// use tch_rnn::distributed::{GroupConfig, ProcessGroup};
/// if !tch_rnn::distributed::available() {
///     let e = ProcessGroup::new(GroupConfig::new("127.0.0.1", 29500, 0, 1)).err().unwrap();
///     assert!(e.to_string().contains("bash scripts/setup.sh"));
/// }
/// ```
pub fn available() -> bool {
    crate::ffi::distributed::check_available().is_ok()
}

/// Whether this build can give a group [`Backend::Nccl`]: it has distributed support, a CUDA
/// build of libtorch, and NCCL's backend library, which this call loads (with libtorch's CUDA
/// library). `Err` says why not, in one line.
///
/// ```
/// if let Err(why) = tch_rnn::distributed::nccl_available() {
///     assert!(!why.to_string().contains('\n'), "{why}");
/// }
/// ```
pub fn nccl_available() -> anyhow::Result<()> {
    ready(Backend::Nccl).map_err(|why| anyhow::anyhow!("distributed: NCCL: {why}"))
}

/// Whether this build can make a group on `backend`: distributed support, and for NCCL
/// libtorch's CUDA library and NCCL's backend library, loaded here; `Err` says why not.
fn ready(backend: Backend) -> Result<(), String> {
    crate::ffi::distributed::check_available()?;
    if backend == Backend::Nccl {
        crate::device::load_cuda_library()?;
        crate::ffi::distributed::nccl_available()?;
    }
    Ok(())
}
