//! Live bit-exact parity with the PyTorch that scripts/setup.sh installed, on this machine, with
//! its default numerics (no variable pinned): one Python process (scripts/live_reference.py)
//! exports afresh what the fixture tests hold against committed files, and Rust must match it
//! bit for bit:
//! - every tutorial program prints the same bytes as its twin, for 8 fixed seeds and 4 drawn
//!   afresh on each run (printed, to replay a failure with `TCH_RNN_LIVE_SEEDS`);
//! - the nn grid's outputs and gradients, and every module's initial parameters, are
//!   bit-identical (one thread on both sides), MultiheadAttention's grid and initialisation
//!   included (tests/common/attention_grid.rs);
//! - the Adam training runs end on the same bits, and libtorch's C++ Adam's distance from
//!   torch.optim.Adam is measured and reported;
//! - the runs of AdamW, SGD (plain, momentum, Nesterov, dampening, weight decay, maximize, two
//!   groups), Adam with two groups and the four schedulers (StepLR, ExponentialLR,
//!   CosineAnnealingLR, ReduceLROnPlateau) take the same bits at every step (parameters, losses,
//!   learning rates), their state_dicts after step 7 are PyTorch's, and runs resumed from
//!   PyTorch's state_dicts there continue on PyTorch's bits.
//!
//! Without the project's Python the test fails with one line saying to run scripts/setup.sh,
//! unless TCH_RNN_SKIP_LIVE=1 is set, in which case it says on stderr that it skipped.

mod common;

use std::time::Instant;

use common::adam_runs::AdamRuns;
use common::adam_runs::optim_runs::OptimRuns;
use common::attention_grid::AttentionFixture;
use common::printed::compare_bytes;
use common::{Exactness, Fixture, Stats, TempDir, live, report, rng_lock};
use tch::Device;
use tch_rnn::tutorials::{Options, PROGRAMS, run};

/// Seeds checked on every run; more are drawn afresh each time.
const FIXED_SEEDS: [i64; 8] = [0, 1, 2, 3, 7, 17, 27, 42];
const FRESH_SEEDS: usize = 4;

#[test]
fn rust_and_this_machines_pytorch_agree_bit_for_bit() {
    let _rng = rng_lock();
    let Some(python) = live::python("live_parity") else {
        return;
    };
    let default_threads = tch::get_num_threads();
    let fresh = live::fresh_seeds(FRESH_SEEDS);
    let seeds: Vec<i64> = FIXED_SEEDS.iter().copied().chain(fresh.iter().copied()).collect();
    let seed_list = seeds.iter().map(i64::to_string).collect::<Vec<_>>().join(",");

    let started = Instant::now();
    let dir = TempDir::new("live-parity");
    let exported = live::run_script(
        &python,
        "scripts/live_reference.py",
        &["--out".as_ref(), dir.path().as_os_str(), "--seeds".as_ref(), seed_list.as_ref()],
    );
    report(&format!("live_parity: {}", exported.trim()));
    let mut failures = Vec::new();

    // Tutorials, at the default thread count, as the twins and the programs run.
    tch::set_num_threads(default_threads);
    let mut outputs = 0;
    for program in PROGRAMS {
        for &seed in &seeds {
            let path = dir.path().join(format!("tutorials/{program}/seed_{seed}.txt"));
            let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mut printed = Vec::new();
            if let Err(e) = run(program, &Options { seed, ..Default::default() }, &mut printed) {
                failures.push(format!("{program} seed {seed}: {e:#}"));
                continue;
            }
            outputs += 1;
            if let Err(diff) = compare_bytes(&expected, &String::from_utf8_lossy(&printed)) {
                failures.push(format!("{program} seed {seed} (- PyTorch, + Rust):\n{diff}"));
            }
        }
    }
    report(&format!(
        "live_parity tutorials: {outputs} outputs of {} programs x {} seeds compared byte for byte",
        PROGRAMS.len(),
        seeds.len()
    ));

    // The nn grid and initialisation, one thread.
    let (fixture, file) = Fixture::load_from(&dir.path().join("nn"));
    for kind in common::nn_grid::kinds(&fixture) {
        let (stats, mismatches) = common::nn_grid::run_kind(&fixture, &file, kind, Exactness::Bits, Device::Cpu);
        report(&stats.summary(&format!("live_parity nn {kind}")));
        failures.extend(mismatches);
    }
    let mut init_stats = Stats::default();
    failures.extend(common::init_check::check_all(&fixture, &file, Exactness::Bits, &mut init_stats));
    report(&init_stats.summary("live_parity init"));

    // MultiheadAttention's grid and initialisation, one thread.
    let (attention, attention_file) = AttentionFixture::load_from(&dir.path().join("attention"));
    let (stats, mismatches) = common::attention_grid::run_all(&attention, &attention_file, Exactness::Bits);
    report(&stats.summary("live_parity nn multihead_attention"));
    failures.extend(mismatches);
    let mut attention_init = Stats::default();
    failures.extend(common::attention_grid::check_init(
        &attention,
        &attention_file,
        Exactness::Bits,
        &mut attention_init,
    ));
    report(&attention_init.summary("live_parity init multihead_attention"));

    // Adam, one thread.
    let runs = AdamRuns::load(&dir.path().join("optim"));
    let mut adam_stats = Stats::default();
    failures.extend(runs.check_ours(Exactness::Bits, &mut adam_stats));
    report(&adam_stats.summary("live_parity adam"));
    for (run, distance) in runs.cpp_adam_distances() {
        report(&format!(
            "live_parity adam {run}: libtorch's C++ Adam (tch::nn::Adam) ends {distance:.3e} (max abs) from torch.optim.Adam"
        ));
    }

    // AdamW, SGD and the schedulers, one thread.
    let optim_runs = OptimRuns::load(&dir.path().join("optim"));
    let mut optim_stats = Stats::default();
    failures.extend(optim_runs.check_ours(Exactness::Bits, &mut optim_stats));
    report(&optim_stats.summary(&format!(
        "live_parity optim ({} runs of AdamW, SGD, Adam and the schedulers)",
        optim_runs.names().len()
    )));
    tch::set_num_threads(default_threads);
    report(&format!("live_parity: done in {:.1} s", started.elapsed().as_secs_f64()));

    let fresh_list = fresh.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    assert!(
        failures.is_empty(),
        "{} difference(s) from this machine's PyTorch (seeds {seed_list}; replay the fresh ones with {}={fresh_list}):\n{}",
        failures.len(),
        live::SEEDS_ENV,
        failures.join("\n")
    );
}
