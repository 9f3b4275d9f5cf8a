//! One rank of a distributed job, started with torchrun's environment (MASTER_ADDR,
//! MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK): the Rust side of tests/distributed.rs and of the
//! allreduce bench. Its PyTorch twin is scripts/pytorch/ddp_worker.py (same modes, same
//! output), so Rust ranks, PyTorch ranks, or both in one group, can be compared.
//!
//! Usage: `ddp_worker MODE [--seed S] [--steps K] [--size N] [--reps R] [--timeout SECONDS]`
//! - `collectives`: allreduce (one tensor, and two coalesced), broadcast from every root (one
//!   tensor, and two coalesced), barrier; prints one JSON line of the results;
//! - `train`: trains a 2-layer LSTM + Linear with DistributedDataParallel, CrossEntropyLoss,
//!   clipping and Adam for K steps on this rank's own data; prints one JSON line with the loss
//!   and the final parameters as float bits;
//! - `allreduce-loop`: allreduces N floats until something fails; prints `ready` after the first;
//! - `stall`: joins the group, then sleeps (a peer that stopped answering);
//! - `bench`: times R allreduces of N floats after 5 warm-up ones; prints milliseconds.
//!
//! Failures print one line on stderr and exit with status 1.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::distributed::{DistributedDataParallel, ProcessGroup};
use tch_rnn::nn::{CrossEntropyLoss, Linear, Lstm, LstmConfig};
use tch_rnn::optim::{Adam, AdamConfig, clip_grad_norm_};

/// The command line: a mode and its numbers.
struct Args {
    mode: String,
    seed: i64,
    steps: usize,
    size: i64,
    reps: usize,
    timeout: Duration,
}

fn args() -> Result<Args> {
    let mut argv = std::env::args().skip(1);
    let mode = argv.next().context("expected a mode: collectives, train, allreduce-loop, stall or bench")?;
    let mut args = Args { mode, seed: 0, steps: 5, size: 1 << 20, reps: 20, timeout: Duration::from_secs(60) };
    while let Some(flag) = argv.next() {
        let value = argv.next().with_context(|| format!("{flag} expects a value"))?;
        let number = |v: &str| v.parse::<u64>().with_context(|| format!("{flag}: expected a number, got '{v}'"));
        match flag.as_str() {
            "--seed" => args.seed = number(&value)? as i64,
            "--steps" => args.steps = number(&value)? as usize,
            "--size" => args.size = number(&value)? as i64,
            "--reps" => args.reps = number(&value)? as usize,
            "--timeout" => args.timeout = Duration::from_secs_f64(value.parse()?),
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(args)
}

/// A float tensor's values as bits, for exact comparison across programs.
fn bits(t: &Tensor) -> Result<Vec<u32>> {
    Ok(Vec::<f32>::try_from(&t.detach().flatten(0, -1))?.into_iter().map(f32::to_bits).collect())
}

fn collectives(group: &ProcessGroup) -> Result<serde_json::Value> {
    let (rank, world) = (group.rank() as f32, group.world_size());
    let one = Tensor::from_slice(&[rank + 1.0, 10.0 * (rank + 1.0)]);
    group.allreduce(&[one.shallow_clone()])?;
    let two = [Tensor::from_slice(&[rank]), Tensor::from_slice(&[2.0 * rank, 0.5])];
    group.allreduce(&two)?;
    let mut broadcast = Vec::new();
    for root in 0..world {
        let mine = Tensor::from_slice(&[rank, rank * rank]);
        group.broadcast(&[mine.shallow_clone()], root)?;
        broadcast.push(Vec::<f32>::try_from(&mine)?);
    }
    let many = [Tensor::from_slice(&[rank; 3]), Tensor::from_slice(&[-rank])];
    group.broadcast(&many, world - 1)?;
    group.barrier()?;
    Ok(serde_json::json!({
        "rank": group.rank(), "world": world, "local_rank": group.local_rank(),
        "allreduce": Vec::<f32>::try_from(&one)?,
        "allreduce_coalesced": [Vec::<f32>::try_from(&two[0])?, Vec::<f32>::try_from(&two[1])?],
        "broadcast": broadcast,
        "broadcast_coalesced": [Vec::<f32>::try_from(&many[0])?, Vec::<f32>::try_from(&many[1])?],
    }))
}

fn train(group: Arc<ProcessGroup>, args: &Args) -> Result<serde_json::Value> {
    tch::manual_seed(args.seed);
    let vs = VarStore::new(Device::Cpu);
    let lstm = Lstm::new(
        vs.root() / "lstm",
        LstmConfig { input_size: 8, hidden_size: 16, num_layers: 2, ..Default::default() },
    )?;
    let fc = Linear::new(vs.root() / "fc", 16, 4, Default::default())?;
    let mut params: Vec<Tensor> = lstm.named_parameters().map(|(_, p)| p.shallow_clone()).collect();
    params.push(fc.weight.shallow_clone());
    params.extend(fc.bias.as_ref().map(Tensor::shallow_clone));
    let mut ddp = DistributedDataParallel::new(group.clone(), &params)?;
    // Each rank's own data, the same draws as the PyTorch twin's.
    tch::manual_seed(args.seed * 1000 + group.rank() as i64 + 1);
    let data: Vec<(Tensor, Tensor)> = (0..args.steps)
        .map(|_| {
            (Tensor::randn([5, 3, 8], (Kind::Float, Device::Cpu)), Tensor::randint(4, [15], (Kind::Int64, Device::Cpu)))
        })
        .collect();
    let criterion = CrossEntropyLoss::new(Default::default())?;
    let mut adam =
        Adam::new(params.iter().map(Tensor::shallow_clone).collect(), AdamConfig { lr: 0.01, ..Default::default() })?;
    let mut losses = Vec::new();
    for (x, y) in &data {
        adam.zero_grad();
        let logits = fc.forward(&lstm.forward(x, None)?.0)?.view([-1, 4]);
        let loss = criterion.forward(&logits, y)?;
        loss.f_backward()?;
        ddp.average_gradients()?;
        let _total_norm = clip_grad_norm_(&params, 1.0)?;
        adam.step()?;
        losses.extend(bits(&loss)?);
    }
    let params = params.iter().map(bits).collect::<Result<Vec<_>>>()?;
    Ok(serde_json::json!({ "rank": group.rank(), "losses": losses, "params": params, "buckets": ddp.buckets() }))
}

fn allreduce_loop(group: &ProcessGroup, size: i64) -> Result<()> {
    let mut x = Tensor::ones([size], (Kind::Float, Device::Cpu));
    group.allreduce(&[x.shallow_clone()])?;
    println!("ready");
    loop {
        let _ = x.fill_(1.0);
        group.allreduce(&[x.shallow_clone()])?;
    }
}

fn bench(group: &ProcessGroup, args: &Args) -> Result<serde_json::Value> {
    let x = Tensor::ones([args.size], (Kind::Float, Device::Cpu));
    let mut times = Vec::new();
    for i in 0..5 + args.reps {
        group.barrier()?;
        let started = Instant::now();
        group.allreduce(&[x.shallow_clone()])?;
        if i >= 5 {
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(
        serde_json::json!({ "rank": group.rank(), "world": group.world_size(), "floats": args.size, "ms_median": times[times.len() / 2], "ms_min": times[0] }),
    )
}

fn run() -> Result<()> {
    let args = args()?;
    tch::set_num_threads(1);
    let group = Arc::new(ProcessGroup::from_env(args.timeout)?);
    match args.mode.as_str() {
        "collectives" => println!("{}", collectives(&group)?),
        "train" => println!("{}", train(group.clone(), &args)?),
        "allreduce-loop" => allreduce_loop(&group, args.size)?,
        "stall" => std::thread::sleep(args.timeout * 10),
        "bench" => println!("{}", bench(&group, &args)?),
        other => bail!("unknown mode {other}: expected collectives, train, allreduce-loop, stall or bench"),
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", tch_rnn::error::one_line(&e));
            ExitCode::FAILURE
        }
    }
}
