//! The optimizer family and the schedulers follow torch.optim: AdamW, SGD (plain, momentum,
//! Nesterov, dampening, weight decay, maximize, two parameter groups), Adam with two groups, and
//! StepLR, ExponentialLR, CosineAnnealingLR and ReduceLROnPlateau each driving an optimizer,
//! training the tutorial's model (section 3.3): every parameter, loss and learning rate of every
//! step, the optimizer's and the scheduler's state_dict after step 7 (PyTorch's names and
//! values), and a run resumed there from PyTorch's state_dicts. Fixtures:
//! tests/fixtures/optim/optim_runs.{json,safetensors}, from scripts/export_optim.py, compared
//! within assert_close's tolerance (another CPU may have exported them); tests/live_parity.rs
//! requires the same bits against this machine's PyTorch.
//!
//! Also here: a run saved after step 7, loaded into a fresh optimizer and scheduler and
//! continued, ends on the bits of the uninterrupted run; bad hyper-parameters and bad
//! state_dicts are one-line errors that change nothing.

mod common;

use common::adam_runs::optim_runs::{OptimRuns, compare_maps, compare_optimizer_states};
use common::{Exactness, Stats, check_err, fixtures_root, report, rng_lock};
use tch::{Kind, Tensor};
use tch_rnn::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, CosineAnnealingLR, ExponentialLR, LrScheduler, MinLr, Optimizer,
    OptimizerStateDict, ReduceLROnPlateau, ReduceLROnPlateauConfig, SGD, SGDConfig, StepLR, Value,
};

fn runs() -> OptimRuns {
    OptimRuns::load(&fixtures_root().join("optim"))
}

#[test]
fn optimizers_and_schedulers_follow_pytorch() {
    let _rng = rng_lock();
    let runs = runs();
    let mut stats = Stats::default();
    let failures = runs.check_ours(Exactness::Close, &mut stats);
    report(&stats.summary(&format!("optim_parity (fixtures of torch {})", runs.torch_version())));
    assert!(failures.is_empty(), "{} mismatch(es) with torch.optim:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_run_saved_and_loaded_mid_way_continues_on_the_same_bits() {
    let _rng = rng_lock();
    let runs = runs();
    let mut stats = Stats::default();
    let failures = runs.check_round_trips(&mut stats);
    report(&stats.summary("optim_parity round trips"));
    assert!(
        failures.is_empty(),
        "{} difference(s) after a state_dict round trip:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(stats.bit_identical, stats.tensors);
}

fn param(shape: &[i64]) -> Tensor {
    Tensor::zeros(shape, (Kind::Float, tch::Device::Cpu)).set_requires_grad(true)
}

#[test]
fn invalid_hyper_parameters_are_one_line_errors() {
    let w = param(&[2]);
    let adamw = |config| AdamW::new(vec![w.shallow_clone()], config);
    for (config, needle) in [
        (AdamWConfig { lr: -1.0, ..Default::default() }, "Invalid learning rate: -1"),
        (AdamWConfig { lr: f64::NAN, ..Default::default() }, "Invalid learning rate: NaN"),
        (AdamWConfig { eps: -1e-8, ..Default::default() }, "Invalid epsilon value: -0.00000001"),
        (AdamWConfig { betas: (0.9, 1.0), ..Default::default() }, "Invalid beta parameter at index 1: 1"),
        (AdamWConfig { betas: (-0.1, 0.9), ..Default::default() }, "Invalid beta parameter at index 0: -0.1"),
        (AdamWConfig { weight_decay: -0.1, ..Default::default() }, "Invalid weight_decay value: -0.1"),
    ] {
        check_err(&format!("AdamW {config:?}"), "AdamW", &[needle], || adamw(config));
    }
    let sgd = |config| SGD::new(vec![w.shallow_clone()], config);
    for (config, needle) in [
        (SGDConfig { lr: -0.1, ..Default::default() }, "Invalid learning rate: -0.1"),
        (SGDConfig { momentum: -0.5, ..Default::default() }, "Invalid momentum value: -0.5"),
        (SGDConfig { weight_decay: -1.0, ..Default::default() }, "Invalid weight_decay value: -1"),
        (SGDConfig { dampening: f64::NAN, ..Default::default() }, "Invalid dampening value: NaN"),
        (
            SGDConfig { nesterov: true, ..Default::default() },
            "Nesterov momentum requires a momentum and zero dampening",
        ),
        (
            SGDConfig { nesterov: true, momentum: 0.9, dampening: 0.1, ..Default::default() },
            "Nesterov momentum requires a momentum and zero dampening",
        ),
    ] {
        check_err(&format!("SGD {config:?}"), "SGD", &[needle], || sgd(config));
    }
    check_err("SGD without parameters", "SGD", &["optimizer got an empty parameter list"], || {
        SGD::new(vec![], Default::default())
    });
    check_err("a parameter in two groups", "AdamW", &["parameter 1 is parameter 0 again"], || {
        AdamW::with_groups(vec![
            (vec![w.shallow_clone()], Default::default()),
            (vec![w.shallow_clone()], Default::default()),
        ])
    });
    check_err("a group with a bad lr", "Adam", &["Invalid learning rate: -2"], || {
        let bad = AdamConfig { lr: -2.0, ..Default::default() };
        Adam::with_groups(vec![(vec![w.shallow_clone()], Default::default()), (vec![param(&[1])], bad)])
    });

    let mut sgd = SGD::new(vec![w.shallow_clone()], SGDConfig { lr: 0.1, ..Default::default() }).unwrap();
    check_err("StepLR step_size 0", "StepLR", &["step_size must be at least 1, got 0"], || {
        StepLR::new(&mut sgd, 0, 0.1)
    });
    check_err("ExponentialLR gamma NaN", "ExponentialLR", &["gamma must be finite"], || {
        ExponentialLR::new(&mut sgd, f64::NAN)
    });
    check_err("CosineAnnealingLR T_max 0", "CosineAnnealingLR", &["T_max must be at least 1, got 0"], || {
        CosineAnnealingLR::new(&mut sgd, 0, 0.0)
    });
    let mut plateau = |config| ReduceLROnPlateau::new(&mut sgd, config);
    for (config, needle) in [
        (ReduceLROnPlateauConfig { factor: 1.0, ..Default::default() }, "Factor should be < 1.0."),
        (ReduceLROnPlateauConfig { factor: f64::NAN, ..Default::default() }, "Factor should be < 1.0."),
        (
            ReduceLROnPlateauConfig { min_lr: MinLr::PerGroup(vec![0.0, 0.1]), ..Default::default() },
            "expected 1 min_lrs, got 2",
        ),
        (ReduceLROnPlateauConfig { patience: -1, ..Default::default() }, "patience must not be negative"),
        (ReduceLROnPlateauConfig { cooldown: -2, ..Default::default() }, "cooldown must not be negative"),
    ] {
        check_err(&format!("ReduceLROnPlateau {config:?}"), "ReduceLROnPlateau", &[needle], || plateau(config.clone()));
    }
    // A scheduler made for one group, stepping an optimizer with two: refused, nothing changed.
    let mut scheduler = StepLR::new(&mut sgd, 1, 0.5).unwrap();
    let mut two =
        SGD::with_groups(vec![(vec![param(&[1])], SGDConfig::default()), (vec![param(&[1])], SGDConfig::default())])
            .unwrap();
    check_err("StepLR on another optimizer", "StepLR", &["the optimizer has 2 parameter group(s)"], || {
        scheduler.step(&mut two)
    });
    assert_eq!((scheduler.last_epoch(), two.param_groups()[0].lr), (0, 1e-3));
}

/// Loads `bad` into `optimizer`, expecting a one-line error naming `module` with `needles`,
/// and the optimizer's state_dict unchanged (bit for bit).
fn refused(what: &str, optimizer: &mut dyn Optimizer, bad: &OptimizerStateDict, needles: &[&str]) {
    let before = optimizer.state_dict();
    let module = optimizer.name();
    check_err(what, module, needles, || optimizer.load_state_dict(bad));
    let mut stats = Stats::default();
    let changes = compare_optimizer_states(&optimizer.state_dict(), &before, Exactness::Bits, &mut stats);
    assert!(changes.is_empty(), "{what}: a refused load changed the optimizer: {changes:?}");
}

fn alter(saved: &OptimizerStateDict, change: impl FnOnce(&mut OptimizerStateDict)) -> OptimizerStateDict {
    let mut copy = saved.copy();
    change(&mut copy);
    copy
}

#[test]
fn bad_optimizer_state_dicts_are_refused_and_change_nothing() {
    let _rng = rng_lock();
    let runs = runs();
    // Adam with two groups, the first with amsgrad; stepped twice, so that it has a state to lose.
    let (_vs, mut adam) = runs.fresh("adam_two_groups", 2);
    let (good, _) = runs.pytorch_resume_state("adam_two_groups");
    let last = *good.state.keys().last().unwrap();
    let float = |shape: &[i64]| Tensor::zeros(shape, (Kind::Float, tch::Device::Cpu));
    let cases: Vec<(&str, OptimizerStateDict, Vec<&str>)> = vec![
        (
            "a moment of the wrong shape",
            alter(&good, |s| {
                s.state.get_mut(&last).unwrap().insert("exp_avg".into(), float(&[3, 3]));
            }),
            vec!["state of parameter 10", "'exp_avg' is Float [3, 3]"],
        ),
        (
            "a moment of the wrong dtype",
            alter(&good, |s| {
                let t = s.state[&last]["exp_avg_sq"].to_kind(Kind::Double);
                s.state.get_mut(&last).unwrap().insert("exp_avg_sq".into(), t);
            }),
            vec!["'exp_avg_sq' is Double"],
        ),
        (
            "an unknown state entry",
            alter(&good, |s| {
                let t = s.state[&last]["exp_avg"].copy();
                s.state.get_mut(&last).unwrap().insert("momentum_buffer".into(), t);
            }),
            vec!["unknown state entry 'momentum_buffer'"],
        ),
        (
            "amsgrad's maximum missing",
            alter(&good, |s| {
                s.state.get_mut(&0).unwrap().remove("max_exp_avg_sq");
            }),
            vec!["state of parameter 0: missing 'max_exp_avg_sq'"],
        ),
        (
            "an int64 step",
            alter(&good, |s| {
                s.state.get_mut(&last).unwrap().insert("step".into(), Tensor::from(3i64));
            }),
            vec!["'step' must be a float32 scalar"],
        ),
        (
            "the state of no parameter",
            alter(&good, |s| {
                let entry = s.state[&last].iter().map(|(k, t)| (k.clone(), t.copy())).collect();
                s.state.insert(99, entry);
            }),
            vec!["state of parameter 99, which no param_group lists"],
        ),
        (
            "an unknown group entry",
            alter(&good, |s| {
                s.param_groups[1].insert("nesterov".into(), Value::Bool(true));
            }),
            vec!["param_groups[1]: unknown entry 'nesterov'"],
        ),
        (
            "a missing group entry",
            alter(&good, |s| {
                s.param_groups[1].remove("eps");
            }),
            vec!["param_groups[1]: missing 'eps'"],
        ),
        (
            "a group entry of the wrong type",
            alter(&good, |s| {
                s.param_groups[1].insert("amsgrad".into(), Value::Int(1));
            }),
            vec!["'amsgrad' must be a bool, got 1"],
        ),
        (
            "an invalid learning rate",
            alter(&good, |s| {
                s.param_groups[1].insert("lr".into(), Value::Float(-1.0));
            }),
            vec!["Invalid learning rate: -1 (in param_groups[1])"],
        ),
        (
            "foreach",
            alter(&good, |s| {
                s.param_groups[1].insert("foreach".into(), Value::Bool(true));
            }),
            vec!["foreach=True is not supported"],
        ),
        (
            "AdamW's state",
            alter(&good, |s| {
                s.param_groups[1].insert("decoupled_weight_decay".into(), Value::Bool(true));
            }),
            vec!["is AdamW's state; load it into AdamW"],
        ),
        (
            "one group fewer",
            alter(&good, |s| {
                s.param_groups.pop();
            }),
            vec!["loaded state dict has a different number of parameter groups (1, the optimizer has 2)"],
        ),
        (
            "a group of another size",
            alter(&good, |s| {
                s.param_groups[1].insert("params".into(), Value::List(vec![Value::Int(9)]));
            }),
            vec!["doesn't match the size of optimizer's group"],
        ),
    ];
    for (what, bad, needles) in &cases {
        refused(what, adam.as_mut(), bad, needles);
    }
    // The good one loads, and a state_dict is a copy: stepping on does not change it.
    adam.load_state_dict(&good).unwrap();
    let mut stats = Stats::default();
    assert!(compare_optimizer_states(&adam.state_dict(), &good, Exactness::Bits, &mut stats).is_empty());

    // SGD: a momentum buffer where the group keeps none.
    let (_vs, mut sgd) = runs.fresh("sgd_two_groups", 1);
    let (good, _) = runs.pytorch_resume_state("sgd_two_groups");
    let no_momentum = alter(&good, |s| {
        s.param_groups[1].insert("momentum".into(), Value::Float(0.0));
        s.param_groups[1].insert("nesterov".into(), Value::Bool(false));
    });
    refused(
        "a momentum buffer without momentum",
        sgd.as_mut(),
        &no_momentum,
        &["a momentum_buffer, but the group has no momentum"],
    );
    let nesterov_dampening = alter(&good, |s| {
        s.param_groups[1].insert("dampening".into(), Value::Float(0.5));
    });
    refused("Nesterov with dampening", sgd.as_mut(), &nesterov_dampening, &["Nesterov momentum requires"]);
    sgd.load_state_dict(&good).unwrap();

    // AdamW refuses Adam's state, Adam AdamW's.
    let (_vs, mut adamw) = runs.fresh("adamw_default", 1);
    let (adam_state, _) = runs.pytorch_resume_state("exponentiallr_adam");
    refused("Adam's state into AdamW", adamw.as_mut(), &adam_state, &["is Adam's state; load it into Adam"]);
}

#[test]
fn bad_scheduler_state_dicts_are_refused_and_change_nothing() {
    let _rng = rng_lock();
    let runs = runs();
    for (run, what, change, needle) in [
        ("steplr_sgd", "an unknown entry", ("verbose", Some(Value::Bool(false))), "unknown entry 'verbose'"),
        ("steplr_sgd", "a missing entry", ("gamma", None), "missing 'gamma'"),
        ("steplr_sgd", "step_size 0", ("step_size", Some(Value::Int(0))), "step_size must be at least 1, got 0"),
        (
            "exponentiallr_adam",
            "a float epoch",
            ("last_epoch", Some(Value::Float(7.0))),
            "'last_epoch' must be an int, got 7.0",
        ),
        (
            "cosine_adamw",
            "base_lrs not a list",
            ("base_lrs", Some(Value::Float(0.1))),
            "'base_lrs' must be a list of numbers",
        ),
        ("cosine_adamw", "T_max negative", ("T_max", Some(Value::Int(-1))), "T_max must be at least 1, got -1"),
        ("plateau_adam_max_abs", "mode median", ("mode", Some(Value::from("median"))), "mode median is unknown!"),
        (
            "plateau_adam_max_abs",
            "threshold mode",
            ("threshold_mode", Some(Value::from("x"))),
            "threshold mode x is unknown!",
        ),
        ("plateau_adam_max_abs", "factor 2", ("factor", Some(Value::Float(2.0))), "Factor should be < 1.0."),
        ("plateau_adam_max_abs", "no best", ("best", None), "missing 'best'"),
    ] {
        let (_, saved) = runs.pytorch_resume_state(run);
        let mut bad = saved.clone().expect("a scheduler");
        match change {
            (key, Some(v)) => bad.insert(key.to_string(), v),
            (key, None) => bad.remove(key),
        };
        let w = param(&[1]);
        let mut sgd = SGD::new(vec![w], SGDConfig { lr: 0.3, ..Default::default() }).unwrap();
        let mut scheduler: Box<dyn LrScheduler> = match run {
            "steplr_sgd" => Box::new(StepLR::new(&mut sgd, 3, 0.1).unwrap()),
            "exponentiallr_adam" => Box::new(ExponentialLR::new(&mut sgd, 0.9).unwrap()),
            "cosine_adamw" => Box::new(CosineAnnealingLR::new(&mut sgd, 3, 0.0).unwrap()),
            _ => Box::new(ReduceLROnPlateau::new(&mut sgd, Default::default()).unwrap()),
        };
        let before = scheduler.state_dict();
        let name = scheduler.name();
        check_err(&format!("{run}: {what}"), name, &[needle], || scheduler.load_state_dict(&bad));
        assert!(compare_maps(&scheduler.state_dict(), &before, Exactness::Bits).is_empty(), "{run}: {what}: changed");
        scheduler.load_state_dict(saved.as_ref().unwrap()).unwrap();
        assert!(compare_maps(&scheduler.state_dict(), saved.as_ref().unwrap(), Exactness::Bits).is_empty(), "{run}");
    }
}
