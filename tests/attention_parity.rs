//! `tch_rnn::nn::MultiheadAttention` against PyTorch 2.13.0's `torch.nn.MultiheadAttention`, on
//! the cases that scripts/export_reference.py stored in tests/fixtures/attention/ (a missing
//! fixture fails); the runner is tests/common/attention_grid.rs:
//! - a covering grid of the options (heads, batched / unbatched, `batch_first`, bias,
//!   `add_bias_kv`, `add_zero_attn`, `kdim` / `vdim`, self-, encoder-decoder and general
//!   attention, bool and float key padding and attention masks of 2 and 3 dimensions,
//!   `need_weights`, `average_attn_weights`), the causal hint, seeded dropout in training, and
//!   inference without gradients both on PyTorch's fused fast path and off it for each of its
//!   conditions: outputs, weights and the gradients of every parameter and input;
//! - initialisation after the same seed, with PyTorch's names and order.
//!
//! As for the recurrent modules, values are held to torch.testing.assert_close's tolerances (the
//! fixtures may come from another CPU); tests/live_parity.rs wants the bits against this
//! machine's PyTorch.

mod common;

use std::collections::BTreeSet;

use common::attention_grid::{AttentionFixture, check_init, run_all};
use common::init_check::init_exactness;
use common::{Exactness, Stats, report, rng_lock};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{AttentionOptions, MultiheadAttention, MultiheadAttentionConfig};

#[test]
fn multihead_attention_matches_pytorch() {
    let _rng = rng_lock();
    let (fixture, file) = AttentionFixture::load();
    let (stats, failures) = run_all(&fixture, &file, Exactness::Close);
    report(&stats.summary("attention_parity multihead_attention (fixtures)"));
    assert!(failures.is_empty(), "{} mismatch(es) with PyTorch:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn multihead_attention_initialises_like_pytorch() {
    let _rng = rng_lock();
    let (fixture, file) = AttentionFixture::load();
    let running = tch_rnn::device::cpu_capability();
    let exactness = init_exactness(&fixture.cpu_capability, &running);
    let mut stats = Stats::default();
    let failures = check_init(&fixture, &file, exactness, &mut stats);
    report(&stats.summary(&format!(
        "attention_parity init ({exactness:?}; exported on {}, running {running})",
        fixture.cpu_capability
    )));
    assert!(failures.is_empty(), "{} mismatch(es) with PyTorch:\n{}", failures.len(), failures.join("\n"));
}

/// The fixture is the one these tests were written for, and every value of every option the
/// grid promises appears in some case.
#[test]
fn attention_fixture_covers_the_grid() {
    let (fixture, _) = AttentionFixture::load();
    assert_eq!(fixture.generator, "scripts/export_reference.py");
    assert_eq!(fixture.torch_version, "2.13.0", "fixtures were exported with another PyTorch");
    let names: BTreeSet<&str> = fixture.parity.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), fixture.parity.len(), "duplicate case names");
    let mut seen = BTreeSet::new();
    for case in &fixture.parity {
        let m = &case.module;
        let o = &case.options;
        let unbatched = !case.name.contains("_b") || case.name.contains("unbatched");
        for note in [
            format!("heads={}", m.num_heads),
            format!("bias={}", m.bias),
            format!("batch_first={}", m.batch_first),
            format!("add_bias_kv={}", m.add_bias_kv),
            format!("add_zero_attn={}", m.add_zero_attn),
            format!("separate={}", m.kdim.is_some() || m.vdim.is_some()),
            format!("identity={}", case.identity),
            format!("key_padding_mask={:?}", o.key_padding_mask),
            format!("attn_mask={:?}", o.attn_mask),
            format!("need_weights={}", o.need_weights),
            format!("average={}", o.average_attn_weights),
            format!("is_causal={}", o.is_causal),
            format!("training={} dropout={}", case.training, m.dropout > 0.0),
            format!("no_grad={} fast_path={}", case.no_grad, case.fast_path),
            format!("unbatched={unbatched}"),
        ] {
            seen.insert(note);
        }
    }
    let mut expected: Vec<String> =
        ["heads=1", "heads=2", "heads=3", "heads=4", "bias=true", "bias=false"].into_iter().map(String::from).collect();
    for flag in ["batch_first", "add_bias_kv", "add_zero_attn", "separate", "need_weights", "average", "is_causal"] {
        expected.push(format!("{flag}=true"));
        expected.push(format!("{flag}=false"));
    }
    expected.extend(["identity=self", "identity=kv", "identity=none"].map(String::from));
    for mask in ["None", "Some(\"bool\")", "Some(\"float\")"] {
        expected.push(format!("key_padding_mask={mask}"));
    }
    for mask in ["None", "bool_2d", "float_2d", "bool_3d", "float_3d", "bool_causal"] {
        expected
            .push(format!("attn_mask={}", if mask == "None" { mask.to_string() } else { format!("Some(\"{mask}\")") }));
    }
    expected.extend(
        [
            "training=true dropout=true",
            "training=false dropout=true",
            "training=false dropout=false",
            "no_grad=true fast_path=true",
            "no_grad=true fast_path=false",
            "no_grad=false fast_path=false",
            "unbatched=true",
            "unbatched=false",
        ]
        .map(String::from),
    );
    let missing: Vec<&String> = expected.iter().filter(|e| !seen.contains(*e)).collect();
    assert!(
        missing.is_empty(),
        "no case with {missing:?}; regenerate with `.venv/bin/python scripts/export_reference.py --only attention`"
    );
}

/// Dropout on the attention weights is random in training: the same seed gives the same masks
/// (so the parity cases mean something), another seed others, and evaluation mode none.
#[test]
fn training_dropout_is_seeded_and_eval_has_none() {
    let _rng = rng_lock();
    let vs = VarStore::new(Device::Cpu);
    let config = MultiheadAttentionConfig { dropout: 0.5, ..MultiheadAttentionConfig::new(4, 2) };
    let mut attn = MultiheadAttention::new(vs.root(), config).expect("attention");
    let x = Tensor::ones([3, 2, 4], (Kind::Float, Device::Cpu));
    let y = Tensor::arange(24, (Kind::Float, Device::Cpu)).view([3, 2, 4]) / 24.0;
    let run = |attn: &MultiheadAttention, seed: i64| {
        tch::manual_seed(seed);
        attn.forward(&x, &y, &y, &AttentionOptions::default()).expect("forward").1.expect("weights")
    };
    let (a, b, c) = (run(&attn, 5), run(&attn, 5), run(&attn, 6));
    assert!(a.equal(&b), "same seed, different dropout masks");
    assert!(!a.equal(&c), "different seeds, same dropout masks");
    attn.eval();
    assert!(run(&attn, 5).equal(&run(&attn, 6)), "dropout acted in evaluation mode");
}

#[test]
fn display_is_pytorchs_repr() {
    let _rng = rng_lock();
    let vs = VarStore::new(Device::Cpu);
    let attn = MultiheadAttention::new(
        vs.root(),
        MultiheadAttentionConfig { bias: false, ..MultiheadAttentionConfig::new(8, 2) },
    )
    .expect("attention");
    assert_eq!(
        attn.to_string(),
        "MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=False)\n)"
    );
}
