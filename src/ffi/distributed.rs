//! libtorch's distributed engine, c10d (`distributed.cpp`): a process group as
//! `init_process_group("gloo")` (or `"cpu:gloo,cuda:nccl"`) builds it, its collectives, its
//! store, and the pieces of DistributedDataParallel that libtorch exports. Errors come back as
//! libtorch's message, for [`crate::distributed`] to classify and put on one line. Compiled
//! when build.rs found gloo's headers (`cfg(tch_rnn_distributed)`); `distributed_off.rs` stands
//! in otherwise.

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr::NonNull;
use std::time::Duration;

use tch::Tensor;

use super::nccl::Factory;
use super::{ptr, read_string};

unsafe extern "C" {
    fn tch_rnn_dist_group_new(
        host: *const c_char,
        port: c_int,
        rank: c_int,
        world: c_int,
        agent_store: c_int,
        timeout_ms: i64,
        nccl: Option<Factory>,
        out: *mut *mut c_void,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_dist_group_shutdown(group: *mut c_void, err: *mut c_char, cap: usize) -> usize;
    fn tch_rnn_dist_group_free(group: *mut c_void, err: *mut c_char, cap: usize) -> usize;
    fn tch_rnn_dist_allreduce(
        group: *mut c_void,
        ts: *const *const c_void,
        n: usize,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_dist_broadcast(group: *mut c_void, t: *const c_void, root: c_int, err: *mut c_char, cap: usize)
    -> usize;
    fn tch_rnn_dist_broadcast_coalesced(
        group: *mut c_void,
        ts: *const *const c_void,
        n: usize,
        buffer_bytes: usize,
        root: c_int,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_dist_barrier(group: *mut c_void, err: *mut c_char, cap: usize) -> usize;
    fn tch_rnn_dist_verify_params(
        group: *mut c_void,
        ts: *const *const c_void,
        n: usize,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_dist_store_set(
        group: *mut c_void,
        key: *const c_char,
        value: *const c_char,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_dist_store_check(
        group: *mut c_void,
        key: *const c_char,
        present: *mut c_int,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_dist_bucket_assignment(
        ts: *const *const c_void,
        n: usize,
        limits: *const usize,
        n_limits: usize,
        indices: *const i64,
        out_indices: *mut i64,
        out_lengths: *mut i64,
        buckets: *mut usize,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_dist_default_bucket_bytes(first: *mut i64, others: *mut i64);
    fn tch_rnn_dist_ready_order_new(
        ts: *const *const c_void,
        n: usize,
        out: *mut *mut c_void,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_dist_ready_order_read(recorder: *mut c_void, out: *mut i64, n: usize) -> usize;
    fn tch_rnn_dist_ready_order_free(recorder: *mut c_void);
}

/// `Ok`: this build has distributed support.
pub fn check_available() -> Result<(), String> {
    Ok(())
}

/// `Ok` when NCCL's backend library loads (libtorch's CUDA library loaded first).
pub fn nccl_available() -> Result<(), String> {
    super::nccl::factory().map(drop)
}

/// Runs a shim call; `Err` holds libtorch's message.
fn run(f: impl FnMut(*mut c_char, usize) -> usize) -> Result<(), String> {
    let message = read_string(f);
    if message.is_empty() { Ok(()) } else { Err(message) }
}

/// A C string, or the error of a text holding a NUL byte.
fn c_string(what: &str, text: &str) -> Result<CString, String> {
    CString::new(text).map_err(|_| format!("{what} {text:?} holds a NUL byte"))
}

/// The shim's handles of `tensors`.
fn handles(tensors: &[Tensor]) -> Vec<*const c_void> {
    tensors.iter().map(ptr).collect()
}

/// The default process group of this process (c10d::ProcessGroup with a ProcessGroupGloo
/// backend, and a ProcessGroupNCCL one for CUDA tensors when asked) and the
/// TCPStore it was built on.
pub struct RawGroup(NonNull<c_void>);

// SAFETY: c10d's process groups and stores are used from any thread in PyTorch; the callers
// serialise the collectives.
unsafe impl Send for RawGroup {}
unsafe impl Sync for RawGroup {}

impl RawGroup {
    /// Connects to (or, as rank 0 outside torchrun, hosts) the store at `host:port` and builds
    /// the group, with NCCL for CUDA tensors if `nccl` (its library loaded first, see
    /// [`nccl_available`]), bounded by `timeout`.
    pub fn new(
        host: &str,
        port: u16,
        rank: usize,
        world: usize,
        agent_store: bool,
        nccl: bool,
        timeout: Duration,
    ) -> Result<Self, String> {
        let nccl = if nccl { Some(super::nccl::factory()?) } else { None };
        let host = c_string("host", host)?;
        let (rank, world) = (rank as c_int, world as c_int);
        let timeout_ms = timeout.as_millis().min(i64::MAX as u128) as i64;
        let mut out: *mut c_void = std::ptr::null_mut();
        run(|err, cap| unsafe {
            tch_rnn_dist_group_new(
                host.as_ptr(),
                port.into(),
                rank,
                world,
                agent_store.into(),
                timeout_ms,
                nccl,
                &mut out,
                err,
                cap,
            )
        })?;
        NonNull::new(out).map(RawGroup).ok_or_else(|| "libtorch returned no process group".into())
    }

    /// Closes the group's connections (its peers see it at once), keeping the store usable.
    pub fn shutdown(&self) -> Result<(), String> {
        run(|err, cap| unsafe { tch_rnn_dist_group_shutdown(self.0.as_ptr(), err, cap) })
    }

    /// SUM allreduce in place (coalesced over several tensors).
    pub fn allreduce(&self, tensors: &[Tensor]) -> Result<(), String> {
        let ts = handles(tensors);
        run(|err, cap| unsafe { tch_rnn_dist_allreduce(self.0.as_ptr(), ts.as_ptr(), ts.len(), err, cap) })
    }

    /// Broadcast of one tensor from `root`.
    pub fn broadcast(&self, tensor: &Tensor, root: usize) -> Result<(), String> {
        run(|err, cap| unsafe { tch_rnn_dist_broadcast(self.0.as_ptr(), ptr(tensor), root as c_int, err, cap) })
    }

    /// DDP's `_broadcast_coalesced` of `tensors` from `root`, in buffers of `buffer_bytes`.
    pub fn broadcast_coalesced(&self, tensors: &[Tensor], buffer_bytes: usize, root: usize) -> Result<(), String> {
        let ts = handles(tensors);
        run(|err, cap| unsafe {
            tch_rnn_dist_broadcast_coalesced(
                self.0.as_ptr(),
                ts.as_ptr(),
                ts.len(),
                buffer_bytes,
                root as c_int,
                err,
                cap,
            )
        })
    }

    /// `dist.barrier()`.
    pub fn barrier(&self) -> Result<(), String> {
        run(|err, cap| unsafe { tch_rnn_dist_barrier(self.0.as_ptr(), err, cap) })
    }

    /// DDP's `_verify_params_across_processes`.
    pub fn verify_params(&self, tensors: &[Tensor]) -> Result<(), String> {
        let ts = handles(tensors);
        run(|err, cap| unsafe { tch_rnn_dist_verify_params(self.0.as_ptr(), ts.as_ptr(), ts.len(), err, cap) })
    }

    /// `store.set(key, value)`.
    pub fn store_set(&self, key: &str, value: &str) -> Result<(), String> {
        let (key, value) = (c_string("store key", key)?, c_string("store value", value)?);
        run(|err, cap| unsafe { tch_rnn_dist_store_set(self.0.as_ptr(), key.as_ptr(), value.as_ptr(), err, cap) })
    }

    /// `store.check([key])`: whether `key` is set, without waiting.
    pub fn store_check(&self, key: &str) -> Result<bool, String> {
        let key = c_string("store key", key)?;
        let mut present: c_int = 0;
        run(|err, cap| unsafe { tch_rnn_dist_store_check(self.0.as_ptr(), key.as_ptr(), &mut present, err, cap) })?;
        Ok(present != 0)
    }
}

impl Drop for RawGroup {
    fn drop(&mut self) {
        // A group whose peers are gone still frees; nothing is left to report to.
        let _ = run(|err, cap| unsafe { tch_rnn_dist_group_free(self.0.as_ptr(), err, cap) });
    }
}

/// `dist._compute_bucket_assignment_by_size(tensors, limits, indices)`: DDP's buckets, as lists
/// of tensor indices. With `order`, the tensors are taken in that order (the gradients' ready
/// order) and the buckets are left in it; without, buckets are sorted by their first index.
pub fn bucket_assignment(
    tensors: &[Tensor],
    limits: &[usize],
    order: Option<&[usize]>,
) -> Result<Vec<Vec<usize>>, String> {
    let ts = handles(tensors);
    let order: Option<Vec<i64>> = order.map(|o| o.iter().map(|&i| i as i64).collect());
    let (mut indices, mut lengths, mut buckets) = (vec![0i64; ts.len()], vec![0i64; ts.len()], 0usize);
    run(|err, cap| unsafe {
        tch_rnn_dist_bucket_assignment(
            ts.as_ptr(),
            ts.len(),
            limits.as_ptr(),
            limits.len(),
            order.as_ref().map_or(std::ptr::null(), |o| o.as_ptr()),
            indices.as_mut_ptr(),
            lengths.as_mut_ptr(),
            &mut buckets,
            err,
            cap,
        )
    })?;
    let mut rest = indices.iter().map(|&i| i as usize);
    Ok(lengths[..buckets].iter().map(|&n| rest.by_ref().take(n as usize).collect()).collect())
}

/// DDP's default bucket caps in bytes: the first bucket's (1 MiB) and the others' (25 MiB).
pub fn default_bucket_bytes() -> Result<(usize, usize), String> {
    let (mut first, mut others) = (0i64, 0i64);
    unsafe { tch_rnn_dist_default_bucket_bytes(&mut first, &mut others) };
    Ok((first as usize, others as usize))
}

/// The order in which the gradients of some leaf tensors become ready in backward passes, as
/// DDP's Reducer records it (post hooks on their gradient accumulators); each index once.
pub struct ReadyOrder(NonNull<c_void>);

// SAFETY: the recorder guards its state with a mutex (hooks may run on autograd's threads).
unsafe impl Send for ReadyOrder {}
unsafe impl Sync for ReadyOrder {}

impl ReadyOrder {
    /// Starts recording for `tensors` (leaves that require grad).
    pub fn new(tensors: &[Tensor]) -> Result<Self, String> {
        let ts = handles(tensors);
        let mut out: *mut c_void = std::ptr::null_mut();
        run(|err, cap| unsafe { tch_rnn_dist_ready_order_new(ts.as_ptr(), ts.len(), &mut out, err, cap) })?;
        NonNull::new(out).map(ReadyOrder).ok_or_else(|| "libtorch returned no recorder".into())
    }

    /// The indices recorded so far, in the order their gradients became ready.
    pub fn read(&self) -> Vec<usize> {
        let mut out = vec![0i64; 64];
        loop {
            let n = unsafe { tch_rnn_dist_ready_order_read(self.0.as_ptr(), out.as_mut_ptr(), out.len()) };
            if n <= out.len() {
                return out[..n].iter().map(|&i| i as usize).collect();
            }
            out.resize(n, 0);
        }
    }
}

impl Drop for ReadyOrder {
    fn drop(&mut self) {
        unsafe { tch_rnn_dist_ready_order_free(self.0.as_ptr()) }
    }
}
