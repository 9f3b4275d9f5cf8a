//! Distributed jobs on loopback for the tests: N ranks of examples/ddp_worker.rs (Rust) or
//! scripts/pytorch/ddp_worker.py (PyTorch), in any mix, started with torchrun's environment
//! on a free port, each writing its stdout and stderr to files, all bounded in time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::TempDir;

/// Which program a rank runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Rust,
    PyTorch,
}

/// A port nobody listens on now, below the system's ephemeral range: the ports that
/// connections and `bind(0)` take come from that range, so no socket of a running job (Gloo
/// opens many) can take this one between the check here and the rank that binds it. Each call
/// of the process tries the next port, from a start that depends on the process id.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const FIRST: u32 = 10_000;
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    if low <= FIRST + 1000 {
        // An ephemeral range reaching down here leaves no such ports: the system picks.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        return listener.local_addr().expect("local address").port();
    }
    let span = low - FIRST;
    let start = std::process::id().wrapping_mul(7919) % span;
    for _ in 0..span {
        let port = (FIRST + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {FIRST}..{low}");
}

/// Fails the test when build.rs found gloo's headers but the distributed shim did not compile
/// against them: the distributed tests must not pass on the refusal of a broken build.
pub fn assert_no_distributed_build_error() {
    if let Some(why) = option_env!("TCH_RNN_DISTRIBUTED_BUILD_ERROR") {
        panic!("gloo's headers were there but distributed support did not build: {why}");
    }
}

/// examples/ddp_worker, built by `cargo test` (or `cargo build --release --examples`).
pub fn rust_worker() -> PathBuf {
    // target/<profile>/deps/<this test> -> target/<profile>/examples
    let exe = std::env::current_exe().expect("the test binary");
    let worker = exe.parent().and_then(Path::parent).expect("target/<profile>").join("examples/ddp_worker");
    assert!(worker.is_file(), "{} is not built: run cargo test, which builds the examples", worker.display());
    worker
}

/// One started rank and where its output goes.
pub struct Rank {
    pub rank: usize,
    pub child: Child,
    out: PathBuf,
    err: PathBuf,
}

/// A finished rank: its exit status, stdout and stderr, and when it ended.
#[derive(Debug)]
pub struct Finished {
    pub rank: usize,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub ended: Instant,
}

/// Python run as `python -c THIS script args...`: runs the script as `python script args...`
/// would, then fails if Gloo threads outlive it. Left running into the interpreter's exit, a Gloo
/// thread letting go of a Python tensor can abort the process (pytorch/pytorch#190489): the race
/// is rare, this check of its cause is not. (A joined thread can stay listed for a moment while
/// the kernel ends it, hence a second's grace; a group left alive keeps its threads for good.)
pub const THEN_NO_GLOO_THREADS: &str = r#"
import os, runpy, sys, time
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
def gloo_threads():
    names = []
    for t in os.listdir("/proc/self/task"):
        try:
            names.append(open(f"/proc/self/task/{t}/comm").read().strip())
        except OSError:  # ended while listed
            pass
    return [name for name in names if "gloo" in name]
deadline = time.monotonic() + 1
while gloo_threads() and time.monotonic() < deadline:
    time.sleep(0.01)
left = gloo_threads()
sys.exit(f"{sys.argv[0]}: Gloo threads still running at exit: {left}" if left else 0)
"#;

/// Starts rank `rank` of `world` (LOCAL_RANK `local_rank`) running `side`'s worker with `args`
/// (its mode and flags), meeting at 127.0.0.1:`port`. PyTorch ranks need `python`.
#[allow(clippy::too_many_arguments)]
pub fn spawn_rank(
    dir: &TempDir,
    side: Side,
    rank: usize,
    world: usize,
    local_rank: usize,
    args: &[&str],
    port: u16,
    python: Option<&Path>,
) -> Rank {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = match side {
        Side::Rust => Command::new(rust_worker()),
        Side::PyTorch => {
            let mut c = Command::new(python.expect("PyTorch ranks need the project's Python"));
            c.args(["-c", THEN_NO_GLOO_THREADS]).arg(root.join("scripts/pytorch/ddp_worker.py"));
            c.env("PYTHONWARNINGS", "ignore");
            c
        }
    };
    let (out, err) = (dir.path().join(format!("{port}-{rank}.out")), dir.path().join(format!("{port}-{rank}.err")));
    command
        .args(args)
        .env("MASTER_ADDR", "127.0.0.1")
        .env("MASTER_PORT", port.to_string())
        .env("RANK", rank.to_string())
        .env("WORLD_SIZE", world.to_string())
        .env("LOCAL_RANK", local_rank.to_string())
        .env_remove("TORCHELASTIC_USE_AGENT_STORE")
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"));
    let child = command.spawn().unwrap_or_else(|e| panic!("cannot start rank {rank} ({side:?}): {e}"));
    Rank { rank, child, out, err }
}

/// Starts one rank per entry of `sides`, all with `args`; `local` gives each rank's LOCAL_RANK.
pub fn spawn(
    dir: &TempDir,
    sides: &[Side],
    args: &[&str],
    port: u16,
    python: Option<&Path>,
    local: impl Fn(usize) -> usize,
) -> Vec<Rank> {
    let world = sides.len();
    sides
        .iter()
        .enumerate()
        .map(|(rank, &side)| spawn_rank(dir, side, rank, world, local(rank), args, port, python))
        .collect()
}

impl Rank {
    /// What the rank has printed on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }
}

/// Waits for every rank, at most until `deadline` (then kills them all and panics).
pub fn finish(ranks: Vec<Rank>, deadline: Instant) -> Vec<Finished> {
    let mut pending: Vec<Rank> = ranks;
    let mut done = Vec::new();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for mut rank in pending {
            match rank.child.try_wait().expect("wait for a rank") {
                Some(status) => done.push(finished(rank, status)),
                None => still.push(rank),
            }
        }
        pending = still;
        if !pending.is_empty() && Instant::now() > deadline {
            let stuck: Vec<usize> = pending.iter().map(|r| r.rank).collect();
            for rank in &mut pending {
                let _ = rank.child.kill();
                let _ = rank.child.wait();
            }
            let logs: Vec<String> = done.iter().map(|f: &Finished| format!("rank {}: {}", f.rank, f.stderr)).collect();
            panic!("ranks {stuck:?} did not finish in time; the others said:\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done.sort_by_key(|f| f.rank);
    done
}

fn finished(rank: Rank, status: ExitStatus) -> Finished {
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    Finished { rank: rank.rank, status, stdout: read(&rank.out), stderr: read(&rank.err), ended: Instant::now() }
}

/// Runs a job to its end (bounded by `limit`) and returns each rank's stdout, parsed as JSON;
/// panics with every rank's stderr when one fails.
pub fn run_job(
    dir: &TempDir,
    sides: &[Side],
    args: &[&str],
    python: Option<&Path>,
    limit: Duration,
) -> Vec<serde_json::Value> {
    let ranks = spawn(dir, sides, args, free_port(), python, |rank| rank);
    let finished = finish(ranks, Instant::now() + limit);
    let failed: Vec<String> = finished
        .iter()
        .filter(|f| !f.status.success())
        .map(|f| format!("rank {} ({:?}, {}): {}", f.rank, sides[f.rank], f.status, f.stderr.trim()))
        .collect();
    assert!(failed.is_empty(), "{sides:?} {args:?} failed:\n{}", failed.join("\n"));
    finished
        .iter()
        .map(|f| {
            serde_json::from_str(f.stdout.trim())
                .unwrap_or_else(|e| panic!("rank {} printed no JSON ({e}):\n{}", f.rank, f.stdout))
        })
        .collect()
}
