//! How one `tch-rnn train` becomes many: `--nproc N` starts N local ranks of itself, as
//! `torchrun --nproc-per-node N` would, and watches them; a rank started by a launcher (torchrun's
//! environment: `RANK`, `WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`) joins its process group.

use std::ffi::OsString;
use std::process::{Child, Command, ExitStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::Done;
use crate::charlm::RankFailed;
use crate::device::DeviceRequest;
use crate::distributed::{Backend, GroupConfig, ProcessGroup, REPORT_GRACE, nccl_available};

/// `--nproc`, `--backend` and `--timeout`: data-parallel training on this machine, the c10d
/// backend, and how long any rank waits for the others.
///
/// ```
/// use clap::Parser;
/// use tch_rnn::cli::ranks::BackendChoice;
/// #[derive(Parser)]
/// struct Cli { #[command(flatten)] ranks: tch_rnn::cli::ranks::RankArgs }
/// let cli = Cli::parse_from(["prog", "--nproc", "4"]);
/// assert_eq!((cli.ranks.nproc, cli.ranks.backend, cli.ranks.timeout), (Some(4), BackendChoice::Auto, 1800));
/// ```
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct RankArgs {
    /// Train data-parallel in N local processes (Gloo), each on its contiguous share of every
    /// --batch, with the threads divided among them unless --threads says otherwise. Under
    /// torchrun, leave it out: torchrun's environment is enough.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub nproc: Option<u16>,
    /// The ranks' c10d backend: gloo (CPU and CUDA tensors; ranks may share a GPU), nccl (CUDA
    /// tensors GPU to GPU, one GPU per rank), or auto: nccl when training on CUDA with a GPU
    /// for each rank of this machine and NCCL in this build, else gloo.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Seconds a rank waits for the others (joining, and each exchange) before failing.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

/// `--backend`: a c10d backend, or `auto`.
///
/// ```
/// use clap::ValueEnum;
/// use tch_rnn::cli::ranks::BackendChoice;
/// assert_eq!(BackendChoice::from_str("nccl", false), Ok(BackendChoice::Nccl));
/// ```
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// NCCL when training on CUDA with a GPU per local rank and NCCL in this build, else Gloo.
    Auto,
    /// Gloo for CPU and CUDA tensors (Backend::Gloo).
    Gloo,
    /// NCCL for CUDA tensors, Gloo for CPU tensors (Backend::Nccl).
    Nccl,
}

impl BackendChoice {
    /// The backend for ranks training on `device`, `local_ranks` of them on this machine.
    ///
    /// ```
    /// use tch_rnn::cli::ranks::BackendChoice;
    /// use tch_rnn::distributed::Backend;
    /// assert_eq!(BackendChoice::Auto.resolve(tch::Device::Cpu, 2)?, Backend::Gloo);
    /// let e = BackendChoice::Nccl.resolve(tch::Device::Cpu, 2).unwrap_err();
    /// assert_eq!(e.to_string(), "--backend nccl: expected --device cuda (NCCL moves CUDA tensors only), got cpu");
    /// # anyhow::Ok(())
    /// ```
    pub fn resolve(self, device: tch::Device, local_ranks: usize) -> Result<Backend> {
        let gpus = if device.is_cuda() { tch::Cuda::device_count() as usize } else { 0 };
        match self {
            BackendChoice::Gloo => Ok(Backend::Gloo),
            BackendChoice::Auto if device.is_cuda() && gpus >= local_ranks && nccl_available().is_ok() => {
                Ok(Backend::Nccl)
            }
            BackendChoice::Auto => Ok(Backend::Gloo),
            BackendChoice::Nccl if !device.is_cuda() => {
                bail!("--backend nccl: expected --device cuda (NCCL moves CUDA tensors only), got cpu")
            }
            BackendChoice::Nccl if gpus < local_ranks => bail!(
                "--backend nccl: expected a GPU for each of this machine's {local_ranks} ranks, got {gpus} GPU(s) \
                 (--backend gloo lets ranks share a GPU)"
            ),
            BackendChoice::Nccl => nccl_available().map(|()| Backend::Nccl),
        }
    }
}

impl RankArgs {
    /// The group this process is a rank of, training on `device`: the one torchrun's
    /// environment describes (`RANK` and `WORLD_SIZE` set), or none.
    pub fn join(&self, device: tch::Device) -> Result<Option<Arc<ProcessGroup>>> {
        if std::env::var_os("RANK").is_none() || std::env::var_os("WORLD_SIZE").is_none() {
            return Ok(None);
        }
        let config = GroupConfig::from_env(Duration::from_secs(self.timeout))?;
        // torchrun's LOCAL_WORLD_SIZE: the ranks on this machine, each wanting a GPU of its own.
        let local_ranks = std::env::var("LOCAL_WORLD_SIZE").ok().and_then(|n| n.parse().ok());
        let backend = self.backend.resolve(device, local_ranks.unwrap_or(config.local_rank + 1))?;
        Ok(Some(Arc::new(ProcessGroup::new(config.with_backend(backend))?)))
    }
}

/// Starts `nproc` ranks of this very command line (without `--nproc`) on a free loopback
/// port, each with its share of the cores as `--threads` unless `threads` is given, and waits
/// for them (after refusing, once, `--backend nccl` on the CPU `device`). Ctrl-C or SIGTERM is
/// passed on to every rank as SIGTERM (they save and stop); a rank that dies takes the others
/// down within [`STOP_GRACE`] (or `--timeout`, if shorter), and the launcher says which.
pub(crate) fn launch(nproc: u16, ranks: RankArgs, device: DeviceRequest, threads: Option<i32>) -> Result<Done> {
    crate::ffi::distributed::check_available().map_err(|missing| anyhow::anyhow!("--nproc: {missing}"))?;
    if ranks.backend == BackendChoice::Nccl && device == DeviceRequest::Cpu {
        // Said once here rather than by every rank.
        BackendChoice::Nccl.resolve(tch::Device::Cpu, usize::from(nproc))?;
    }
    if std::env::var_os("RANK").is_some() {
        bail!("--nproc: this process is already a rank (RANK is set): a launcher started it; leave --nproc out");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = threads.unwrap_or((cores / usize::from(nproc)).max(1) as i32);
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let args = worker_args(std::env::args_os().skip(1).collect(), threads);
    let mut started = Vec::new();
    for rank in 0..usize::from(nproc) {
        started
            .push(start(&args, rank, usize::from(nproc), port).with_context(|| format!("cannot start rank {rank}"))?);
    }
    let pids: Vec<i32> = started.iter().map(|child| child.id() as i32).collect();
    ctrlc::set_handler(move || {
        for &pid in &pids {
            // SAFETY: kill(2) with a pid this process started and a valid signal number.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
    })
    .context("cannot handle Ctrl-C")?;
    supervise(started, Duration::from_secs(ranks.timeout))
}

/// This command line for a rank: without `--nproc`, with `--threads`.
fn worker_args(args: Vec<OsString>, threads: i32) -> Vec<OsString> {
    let mut kept = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--nproc" {
            args.next();
        } else if !arg.to_string_lossy().starts_with("--nproc=") {
            kept.push(arg);
        }
    }
    if !kept.iter().any(|a| a == "--threads" || a.to_string_lossy().starts_with("--threads=")) {
        kept.extend(["--threads".into(), threads.to_string().into()]);
    }
    kept
}

/// Rank `rank` of `world`, meeting on 127.0.0.1:`port`, in its own process group (Ctrl-C
/// reaches it through the launcher) and told SIGTERM if the launcher dies.
fn start(args: &[OsString], rank: usize, world: usize, port: u16) -> Result<Child> {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(args)
        .env("MASTER_ADDR", "127.0.0.1")
        .env("MASTER_PORT", port.to_string())
        .env("RANK", rank.to_string())
        .env("LOCAL_RANK", rank.to_string())
        .env("WORLD_SIZE", world.to_string())
        .env("LOCAL_WORLD_SIZE", world.to_string())
        .env_remove("TORCHELASTIC_USE_AGENT_STORE")
        .process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(2) is async-signal-safe, as a pre_exec hook requires.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(command.spawn()?)
}

/// How long the other ranks get, after one failed, to say so themselves before the launcher
/// stops them, as torchrun stops the rest of a job: twice the [`REPORT_GRACE`] a rank whose
/// ring neighbour died takes to name the lost rank. A rank waiting on a peer that is still
/// alive would only notice at the group's timeout.
const STOP_GRACE: Duration = Duration::from_secs(2 * REPORT_GRACE.as_secs());

/// Waits for every rank. After the first failure the others have [`STOP_GRACE`] (capped by
/// `timeout`) to end, then are killed. The result: success if all succeeded, interrupted if
/// they were stopped; else the first failure, said in one line if the rank could not say it
/// itself (it was killed by a signal).
fn supervise(mut ranks: Vec<Child>, timeout: Duration) -> Result<Done> {
    let grace = STOP_GRACE.min(timeout);
    let mut ended: Vec<Option<ExitStatus>> = vec![None; ranks.len()];
    let mut first_failure: Option<(usize, ExitStatus, Instant)> = None;
    while ended.iter().any(Option::is_none) {
        for (rank, child) in ranks.iter_mut().enumerate() {
            if ended[rank].is_none() {
                ended[rank] = child.try_wait().context("cannot wait for a rank")?;
            }
            if let Some(status) = ended[rank].filter(|s| !ok(s)) {
                first_failure.get_or_insert((rank, status, Instant::now()));
            }
        }
        if first_failure.is_some_and(|(_, _, at)| at.elapsed() > grace) {
            for (rank, child) in ranks.iter_mut().enumerate() {
                if ended[rank].is_none() {
                    let _ = child.kill();
                    ended[rank] = child.wait().ok();
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    match first_failure {
        None if ended.iter().flatten().all(ExitStatus::success) => Ok(Done::Success),
        None => Ok(Done::Interrupted),
        Some((rank, status, _)) => Err(lost(rank, status)),
    }
}

/// Whether a rank ended well: done, or stopped after saving (exit code 130).
fn ok(status: &ExitStatus) -> bool {
    status.success() || status.code() == Some(130)
}

/// The launcher's error for rank `rank` ending with `status`: a line if a signal killed it;
/// otherwise the rank said why itself, and [`RankFailed`] keeps the launcher quiet.
fn lost(rank: usize, status: ExitStatus) -> anyhow::Error {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(signal) => anyhow::anyhow!("rank {rank} was killed by signal {signal}; the other ranks stopped"),
        None => RankFailed { rank }.into(),
    }
}
