//! tch_rnn::distributed on loopback, 2 and 4 ranks, each a process (examples/ddp_worker.rs, or
//! its PyTorch twin scripts/pytorch/ddp_worker.py), ports chosen free, everything bounded in
//! time: collectives and torchrun's environment; DistributedDataParallel against PyTorch's DDP
//! bit for bit, alone and in groups mixing Rust and PyTorch ranks; failures (a peer killed, a
//! peer stalled, a rank 0 that never comes, a bad address, a broken group), each one line
//! naming the rank and the cause, within the timeout.
//!
//! The live parts need the project's Python (scripts/setup.sh; `TCH_RNN_SKIP_LIVE=1` skips
//! them, saying so). A build without gloo's headers checks only that every entry point refuses
//! in one line saying how to get distributed support. One job runs at a time (2 cores).

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use common::ranks::{Rank, Side, finish, free_port, run_job, spawn, spawn_rank};
use common::{LIBTORCH_TEXT, TempDir, check_err, live, run_isolated};
use serde_json::Value;
use tch::Tensor;
use tch_rnn::distributed::{Cause, Failure, GroupConfig, ProcessGroup, available};

use Side::{PyTorch, Rust};

/// Live jobs start Python ranks (a few seconds each on 2 busy cores).
const LIVE_LIMIT: Duration = Duration::from_secs(180);

/// One multi-process job at a time: ranks compete for 2 cores, and timings must hold.
fn one_job() -> MutexGuard<'static, ()> {
    static JOBS: Mutex<()> = Mutex::new(());
    JOBS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether this build has distributed support; without it, checks that joining a group says in
/// one line how to get it (and says on stderr that the rest was not run).
fn gloo_build(what: &str) -> bool {
    common::ranks::assert_no_distributed_build_error();
    if available() {
        return true;
    }
    let config = GroupConfig::new("127.0.0.1", free_port(), 0, 1);
    check_err(what, "distributed", &["rank 0 of 1: joining: not available", "bash scripts/setup.sh"], || {
        ProcessGroup::new(config)
    });
    eprintln!("{what}: this build has no distributed support (no gloo headers): only its one-line refusal was checked");
    false
}

/// The project's Python for a live check, or `None` (said on stderr) with TCH_RNN_SKIP_LIVE=1.
fn python(what: &str) -> Option<PathBuf> {
    if gloo_build(what) { live::python(what) } else { None }
}

/// The sums and copies a collectives run of `world` ranks must print, derived from what each
/// rank contributes (see examples/ddp_worker.rs).
fn expected_collectives(rank: usize, world: usize, local_rank: usize) -> Value {
    let ranks = || (0..world).map(|r| r as f64);
    let (sum, sum_plus_one) = (ranks().sum::<f64>(), ranks().map(|r| r + 1.0).sum::<f64>());
    let last = (world - 1) as f64;
    serde_json::json!({
        "rank": rank, "world": world, "local_rank": local_rank,
        "allreduce": [sum_plus_one, 10.0 * sum_plus_one],
        "allreduce_coalesced": [[sum], [2.0 * sum, 0.5 * world as f64]],
        "broadcast": ranks().map(|root| vec![root, root * root]).collect::<Vec<_>>(),
        "broadcast_coalesced": [[last, last, last], [-last]],
    })
}

#[test]
fn collectives_give_sums_and_copies_on_2_and_4_ranks_from_torchruns_variables() {
    if !gloo_build("collectives") {
        return;
    }
    let _job = one_job();
    let dir = TempDir::new("dist-collectives");
    for world in [2, 4] {
        // LOCAL_RANK as torchrun sets it for 2 machines of world / 2 ranks each.
        let local = |rank: usize| rank % (world / 2);
        let ranks = spawn(&dir, &vec![Rust; world], &["collectives", "--timeout", "20"], free_port(), None, local);
        for f in finish(ranks, Instant::now() + Duration::from_secs(60)) {
            assert!(f.status.success(), "rank {} of {world}: {}", f.rank, f.stderr);
            let got: Value = serde_json::from_str(f.stdout.trim()).expect("one JSON line");
            assert_eq!(got, expected_collectives(f.rank, world, local(f.rank)), "rank {} of {world}", f.rank);
        }
    }
}

#[test]
fn collectives_in_a_group_of_rust_and_pytorch_ranks() {
    let Some(python) = python("mixed collectives") else { return };
    let _job = one_job();
    let dir = TempDir::new("dist-mixed-collectives");
    let sides = [Rust, PyTorch, PyTorch, Rust];
    let out = run_job(&dir, &sides, &["collectives", "--timeout", "60"], Some(&python), LIVE_LIMIT);
    for (rank, got) in out.iter().enumerate() {
        assert_eq!(got, &expected_collectives(rank, 4, rank), "rank {rank} ({:?})", sides[rank]);
    }
}

#[test]
fn torchrun_starts_rust_ranks_on_its_agent_store() {
    let Some(python) = python("torchrun") else { return };
    let torchrun = python.with_file_name("torchrun");
    assert!(torchrun.is_file(), "torchrun: no {}: run `bash scripts/setup.sh`", torchrun.display());
    let _job = one_job();
    let worker = common::ranks::rust_worker();
    let output = std::process::Command::new(&torchrun)
        .args(["--standalone", "--nproc-per-node", "2", "--no-python"])
        .arg(&worker)
        .args(["collectives", "--timeout", "30"])
        .output()
        .expect("run torchrun");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "torchrun failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let mut lines: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).expect("a rank's JSON line")).collect();
    lines.sort_by_key(|v| v["rank"].as_u64());
    let expected: Vec<Value> = (0..2).map(|rank| expected_collectives(rank, 2, rank)).collect();
    assert_eq!(lines, expected);
}

/// The seed of this run's DDP checks: fresh each run (TCH_RNN_LIVE_SEEDS replays one).
fn seed() -> String {
    static SEED: OnceLock<i64> = OnceLock::new();
    SEED.get_or_init(|| live::fresh_seeds(1)[0] % 10_000).to_string()
}

/// What the ranks of a DDP training job end on (one JSON value per rank), the all-PyTorch runs
/// computed once per world size.
fn train(sides: &[Side], python: &Path) -> Vec<Value> {
    static PYTORCH: Mutex<Vec<(usize, Vec<Value>)>> = Mutex::new(Vec::new());
    let all_pytorch = sides.iter().all(|&s| s == PyTorch);
    if all_pytorch && let Some((_, out)) = PYTORCH.lock().unwrap().iter().find(|(n, _)| *n == sides.len()) {
        return out.clone();
    }
    let _job = one_job();
    let dir = TempDir::new("dist-train");
    let args = ["train", "--seed", &seed(), "--steps", "6", "--timeout", "60"];
    let out = run_job(&dir, sides, &args, Some(python), LIVE_LIMIT);
    if all_pytorch {
        PYTORCH.lock().unwrap().push((sides.len(), out.clone()));
    }
    out
}

/// Asserts that every rank of `got` ended on the bits of every rank of `reference`.
fn assert_same_bits(what: &str, got: &[Value], reference: &[Value]) {
    let count =
        reference[0]["params"].as_array().map_or(0, |p| p.iter().map(|t| t.as_array().map_or(0, Vec::len)).sum());
    assert!(count > 1000, "{what}: the reference holds too few parameters ({count})");
    for (rank, out) in got.iter().enumerate() {
        assert_eq!(out["losses"], reference[rank]["losses"], "{what}: rank {rank}'s losses (float bits, step by step)");
        assert_eq!(out["params"], reference[0]["params"], "{what}: rank {rank}'s final parameters (float bits)");
    }
    eprintln!("{what}: {} ranks, {count} parameters and 6 losses per rank bit for bit (seed {})", got.len(), seed());
}

#[test]
fn ddp_training_ends_on_pytorch_ddps_bits_on_2_and_4_ranks() {
    let Some(python) = python("DDP bits") else { return };
    for world in [2, 4] {
        let reference = train(&vec![PyTorch; world], &python);
        assert_same_bits(&format!("PyTorch DDP, {world} ranks, among themselves"), &reference, &reference);
        let rust = train(&vec![Rust; world], &python);
        assert_same_bits(&format!("Rust DDP against PyTorch DDP, {world} ranks"), &rust, &reference);
        assert_eq!(
            rust[0]["buckets"].as_array().map(Vec::len),
            Some(1),
            "one bucket after the rebuild: {}",
            rust[0]["buckets"]
        );
    }
}

#[test]
fn a_group_of_rust_and_pytorch_ranks_trains_on_the_all_pytorch_bits() {
    let Some(python) = python("mixed DDP") else { return };
    for sides in [vec![Rust, PyTorch], vec![PyTorch, Rust], vec![Rust, PyTorch, PyTorch, Rust]] {
        let reference = train(&vec![PyTorch; sides.len()], &python);
        let mixed = train(&sides, &python);
        assert_same_bits(&format!("mixed group {sides:?}"), &mixed, &reference);
    }
}

/// Asserts that `stderr` is one line starting with `start`, without libtorch's text.
fn assert_one_line(what: &str, stderr: &str, start: &str) {
    let line = stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{what}: expected one line, got:\n{stderr}");
    assert!(line.starts_with(start), "{what}: expected a line starting with {start:?}, got:\n{line}");
    for raw in LIBTORCH_TEXT {
        assert!(!line.contains(raw), "{what}: libtorch's text leaked:\n{line}");
    }
}

#[test]
fn a_killed_peer_is_named_by_every_survivor_within_the_timeout() {
    if !gloo_build("killed peer") {
        return;
    }
    let timeout = Duration::from_secs(10);
    for (world, victim) in [(2, 1), (4, 2), (4, 0)] {
        let _job = one_job();
        let dir = TempDir::new("dist-kill");
        let args = ["allreduce-loop", "--size", "1048576", "--timeout", "10"];
        let mut ranks = spawn(&dir, &vec![Rust; world], &args, free_port(), None, |r| r);
        wait_until_ready(&mut ranks);
        let mut killed = ranks.remove(victim);
        let t0 = Instant::now();
        killed.child.kill().expect("SIGKILL");
        let _ = killed.child.wait();
        let mut slowest = Duration::ZERO;
        for f in finish(ranks, t0 + timeout + Duration::from_secs(5)) {
            let (what, after) = (format!("{world} ranks, rank {victim} killed: rank {}", f.rank), f.ended - t0);
            assert_eq!(f.status.code(), Some(1), "{what}: {}", f.stderr);
            assert!(after < timeout, "{what}: failed after {after:?}, beyond the {timeout:?} timeout");
            let start = format!("distributed: rank {} of {world}: allreduce: peer lost: rank {victim} (", f.rank);
            assert_one_line(&what, &f.stderr, &start);
            slowest = slowest.max(after);
        }
        eprintln!("killed peer: {world} ranks, rank {victim} killed: every survivor named it within {slowest:?}");
    }
}

/// Waits until every rank of an allreduce loop printed `ready` (its first allreduce is done).
fn wait_until_ready(ranks: &mut [Rank]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ranks.iter().all(|r| r.stdout().contains("ready")) {
        if Instant::now() > deadline || ranks.iter_mut().any(|r| r.child.try_wait().ok().flatten().is_some()) {
            for r in ranks.iter_mut() {
                let _ = r.child.kill();
                let _ = r.child.wait();
            }
            panic!("the allreduce loop did not start on all {} ranks", ranks.len());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_stalled_peer_fails_the_others_at_the_timeout_naming_it() {
    if !gloo_build("stalled peer") {
        return;
    }
    let _job = one_job();
    let dir = TempDir::new("dist-stall");
    let (port, timeout) = (free_port(), Duration::from_secs(3));
    let t0 = Instant::now();
    // Rank 1 joins the group, then never calls a collective; the others start allreducing.
    let mode = |rank| if rank == 1 { "stall" } else { "allreduce-loop" };
    let mut ranks: Vec<Rank> = (0..4)
        .map(|r| spawn_rank(&dir, Rust, r, 4, r, &[mode(r), "--size", "1000", "--timeout", "3"], port, None))
        .collect();
    let mut stalled = ranks.remove(1);
    let finished = finish(ranks, t0 + timeout * 3 + Duration::from_secs(10));
    let _ = stalled.child.kill();
    let _ = stalled.child.wait();
    for f in finished {
        let (what, after) = (format!("4 ranks, rank 1 stalled: rank {}", f.rank), f.ended - t0);
        assert_eq!(f.status.code(), Some(1), "{what}: {}", f.stderr);
        assert!(after >= timeout, "{what}: failed after {after:?}, before the {timeout:?} timeout");
        assert_one_line(&what, &f.stderr, &format!("distributed: rank {} of 4: allreduce: ", f.rank));
        let named =
            f.stderr.contains("allreduce: timeout: rank 1 (") || f.stderr.contains("allreduce: peer lost: rank 1 (");
        assert!(named, "{what}: expected rank 1 named as timed out or lost, got:\n{}", f.stderr);
        eprintln!("stalled peer: rank {} failed {after:?} after the ranks started (timeout {timeout:?})", f.rank);
    }
}

/// `f`'s error as our [`Failure`], and how long `f` took.
fn failure<T>(f: impl FnOnce() -> anyhow::Result<T>) -> (Failure, Duration) {
    let t0 = Instant::now();
    let e = f().err().expect("expected a failure");
    (e.downcast_ref::<Failure>().unwrap_or_else(|| panic!("not a Failure: {e}")).clone(), t0.elapsed())
}

#[test]
fn a_rank_0_that_never_comes_fails_at_the_stores_timeout() {
    if !gloo_build("rank 0 never comes") {
        return;
    }
    let timeout = Duration::from_secs(2);
    let config = GroupConfig::new("127.0.0.1", free_port(), 1, 2).with_timeout(timeout);
    let line = check_err("rank 0 never comes", "distributed", &["rank 1 of 2: joining: store unreachable"], || {
        ProcessGroup::new(config.clone())
    });
    let (f, took) = failure(|| ProcessGroup::new(config.clone()));
    assert_eq!(f.cause, Cause::StoreUnreachable, "{line}");
    assert!(
        took >= timeout / 2 && took < timeout * 2,
        "rank 0 never comes: failed after {took:?} for a {timeout:?} timeout"
    );
    eprintln!("rank 0 never comes: {took:?} for a {timeout:?} timeout: {line}");
}

#[test]
fn a_bad_address_fails_at_once_in_one_line() {
    if !gloo_build("bad address") {
        return;
    }
    let cases = [
        (
            GroupConfig::new("no-such-host.invalid", 29500, 1, 2),
            "rank 1 of 2: joining: bad address (no-such-host.invalid:29500: ",
        ),
        (
            GroupConfig::new("192.0.2.1", 29500, 0, 2),
            "rank 0 of 2: joining: bad address (192.0.2.1:29500 is not an address of this machine",
        ),
    ];
    for (config, needle) in cases {
        let line = check_err("bad address", "distributed", &[needle], || ProcessGroup::new(config.clone()));
        let (f, took) = failure(|| ProcessGroup::new(config.clone()));
        assert_eq!(f.cause, Cause::BadAddress, "{line}");
        assert!(took < Duration::from_secs(10), "bad address: took {took:?}: {line}");
    }
}

#[test]
fn after_a_failure_the_group_says_it_is_broken() {
    if !gloo_build("broken group") {
        return;
    }
    let _job = one_job();
    let dir = TempDir::new("dist-broken");
    let port = free_port();
    let mut peer =
        spawn_rank(&dir, Rust, 1, 2, 1, &["allreduce-loop", "--size", "1000", "--timeout", "10"], port, None);
    let group = ProcessGroup::new(GroupConfig::new("127.0.0.1", port, 0, 2).with_timeout(Duration::from_secs(10)))
        .expect("join");
    let x = Tensor::ones([1000], tch::kind::FLOAT_CPU);
    group.allreduce(&[x.shallow_clone()]).expect("first allreduce");
    assert_eq!(x.double_value(&[0]), 2.0, "1 + 1 over two ranks");
    peer.child.kill().expect("SIGKILL");
    let _ = peer.child.wait();
    let lost = check_err(
        "lost peer",
        "distributed",
        &["rank 0 of 2: allreduce: peer lost: rank 1 ("],
        || -> anyhow::Result<()> {
            loop {
                group.allreduce(&[x.shallow_clone()])?;
            }
        },
    );
    let again = check_err(
        "broken group",
        "distributed",
        &["rank 0 of 2: barrier: group already broken (by an earlier failure: "],
        || group.barrier(),
    );
    let first = lost.strip_prefix("distributed: rank 0 of 2: ").expect("the rank named");
    assert!(
        again.ends_with(&format!("(by an earlier failure: {first})")),
        "the broken group should repeat the first failure:\n{again}\n{lost}"
    );
}

/// c10d's NCCL backend on this machine's device (common::nccl): on a GPU, a group of one
/// through it; on the CPU, its library loads and ProcessGroupNCCL refuses in one line. In a
/// process of its own, since it loads libtorch's CUDA library.
#[test]
fn nccl_works_on_a_gpu_and_refuses_in_one_line_without() {
    if !gloo_build("nccl") {
        return;
    }
    let (stdout, _) = run_isolated("isolated_nccl_group_of_one");
    let line = stdout.lines().find_map(|line| line.find("nccl: ").map(|at| &line[at..]));
    eprintln!("{}", line.expect("the check's line"));
}

#[test]
#[ignore = "run in a process of its own by nccl_works_on_a_gpu_and_refuses_in_one_line_without"]
fn isolated_nccl_group_of_one() {
    let device = tch_rnn::device::select("auto").expect("a device");
    println!("{}", common::nccl::check_group_of_one(device));
}
