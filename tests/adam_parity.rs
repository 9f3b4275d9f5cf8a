//! Training the tutorial's model (section 3.3) with `tch_rnn::optim::Adam` follows
//! `torch.optim.Adam`: the same loss every epoch and the same final parameters, for the
//! tutorial's settings and for runs using weight_decay, amsgrad, maximize, other betas and
//! eps. Fixture: tests/fixtures/optim/adam_hello_embedding.safetensors, from
//! scripts/export_optim.py, compared within assert_close's tolerance (another CPU may have
//! exported it); tests/live_parity.rs requires the same bits against this machine's PyTorch and
//! measures libtorch's C++ Adam there.

mod common;

use common::adam_runs::AdamRuns;
use common::{Exactness, Stats, fixtures_root, report, rng_lock};
use tch_rnn::optim::{Adam, AdamConfig};

#[test]
fn adam_follows_pytorchs_trajectory() {
    let _rng = rng_lock();
    let runs = AdamRuns::load(&fixtures_root().join("optim"));
    let mut stats = Stats::default();
    let failures = runs.check_ours(Exactness::Close, &mut stats);
    report(&stats.summary("adam_parity (fixtures)"));
    assert!(failures.is_empty(), "{} mismatch(es) with torch.optim.Adam:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn invalid_hyper_parameters_are_errors() {
    for (config, needle) in [
        (AdamConfig { lr: -1.0, ..Default::default() }, "Invalid learning rate: -1"),
        (AdamConfig { betas: (1.0, 0.999), ..Default::default() }, "Invalid beta parameter at index 0: 1"),
        (AdamConfig { eps: -1e-8, ..Default::default() }, "Invalid epsilon value"),
        (AdamConfig { weight_decay: -0.1, ..Default::default() }, "Invalid weight_decay value: -0.1"),
    ] {
        let err = Adam::new(Vec::new(), config).err().expect("an invalid config").to_string();
        assert!(err.starts_with("Adam: ") && err.contains(needle), "{err}");
    }
}
