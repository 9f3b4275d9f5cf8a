//! Differential test of MultiheadAttention: random configurations (heads and head sizes, `kdim`
//! / `vdim`, bias, `add_bias_kv`, `add_zero_attn`, `batch_first`, batched and unbatched input,
//! self-, encoder-decoder and general attention, bool and float key padding and attention
//! masks of 2 and 3 dimensions, the causal hint, `need_weights`, `average_attn_weights`, and
//! inference without gradients, where PyTorch's fused path may run) against the elementary-op
//! reference of tests/common/attention_reference.rs, in float64: the output, the weights and
//! the gradients of every parameter and input must agree within `torch.testing.assert_close`'s
//! float64 tolerance.
//!
//! `TCH_RNN_PROPTEST_CASES=N` sets the number of configurations (default 256); a failure prints
//! the configuration and proptest's seed to replay it.

mod common;

use common::attention_reference::{AttentionWeights, attention};
use common::{Exactness, check, rng_lock};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{AttentionOptions, MultiheadAttention, MultiheadAttentionConfig};

fn cases() -> u32 {
    std::env::var("TCH_RNN_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

/// Which of the inputs are one tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Identity {
    SelfAttention,
    KeyIsValue,
    Distinct,
}

/// A mask's form: none, bool, or float (additive, `-inf` where blocked).
#[derive(Clone, Copy, Debug, PartialEq)]
enum MaskKind {
    None,
    Bool,
    Float,
}

#[derive(Clone, Debug)]
struct Case {
    heads: i64,
    head_dim: i64,
    kdim: Option<i64>,
    vdim: Option<i64>,
    bias: bool,
    add_bias_kv: bool,
    add_zero_attn: bool,
    batch_first: bool,
    /// `None`: unbatched.
    batch: Option<i64>,
    tgt_len: i64,
    src_len: i64,
    identity: Identity,
    key_padding_mask: MaskKind,
    attn_mask: MaskKind,
    attn_mask_3d: bool,
    /// A causal bool attn_mask with the is_causal hint (replaces `attn_mask`).
    causal: bool,
    need_weights: bool,
    average: bool,
    /// Eval mode under no_grad (PyTorch's fast path where its conditions hold); no gradients.
    inference: bool,
    seed: i64,
}

fn mask_kind() -> impl Strategy<Value = MaskKind> {
    prop_oneof![Just(MaskKind::None), Just(MaskKind::Bool), Just(MaskKind::Float)]
}

prop_compose! {
    fn case()(
        heads in 1i64..=3,
        head_dim in 1i64..=3,
        kdim_draw in 0i64..4,
        vdim_draw in 0i64..4,
        bias in any::<bool>(),
        add_bias_kv in any::<bool>(),
        add_zero_attn in any::<bool>(),
        batch_first in any::<bool>(),
        batch_draw in 0i64..4,
        tgt_len in 1i64..=4,
        src_len in 1i64..=4,
        identity_draw in 0u8..3,
        key_padding_mask in mask_kind(),
        attn_mask in mask_kind(),
        attn_mask_3d in any::<bool>(),
        causal in proptest::bool::weighted(0.15),
        need_weights in any::<bool>(),
        average in any::<bool>(),
        inference in proptest::bool::weighted(0.3),
        seed in 0i64..1_000_000,
    ) -> Case {
        let kdim = (kdim_draw > 0).then_some(kdim_draw);
        let vdim = (vdim_draw > 0).then_some(vdim_draw);
        let e = heads * head_dim;
        let (k, v) = (kdim.unwrap_or(e), vdim.unwrap_or(e));
        let mut identity = [Identity::SelfAttention, Identity::KeyIsValue, Identity::Distinct][identity_draw as usize];
        // Self-attention also makes the source the target; the causal mask is square.
        if identity == Identity::SelfAttention && (k != e || v != e) {
            identity = Identity::KeyIsValue;
        }
        if identity == Identity::KeyIsValue && k != v {
            identity = Identity::Distinct;
        }
        let src_len = if identity == Identity::SelfAttention || causal { tgt_len } else { src_len };
        // PyTorch drops a causal attn_mask for scaled_dot_product_attention's own causal mask,
        // which does not extend over bias_k or the zero attention as the padded mask would.
        let (add_bias_kv, add_zero_attn) = if causal { (false, false) } else { (add_bias_kv, add_zero_attn) };
        Case {
            heads, head_dim, kdim, vdim, bias, add_bias_kv, add_zero_attn, batch_first,
            batch: (batch_draw > 0).then_some(batch_draw), tgt_len, src_len, identity, key_padding_mask,
            attn_mask, attn_mask_3d, causal, need_weights, average, inference, seed,
        }
    }
}

/// A bool mask of `shape` blocking about a third of the positions, never the first source
/// position (so no row is blocked whole).
fn blocked(shape: &[i64]) -> Tensor {
    let b = Tensor::rand(shape, (Kind::Double, Device::Cpu)).lt(0.35);
    let _ = b.narrow(-1, 0, 1).fill_(0);
    b
}

/// `blocked` as the module takes it (bool, or float scores with -inf) and as the reference
/// does (additive float64).
fn mask(kind: MaskKind, shape: &[i64]) -> Option<(Tensor, Tensor)> {
    let b = match kind {
        MaskKind::None => return None,
        _ => blocked(shape),
    };
    let additive = Tensor::zeros(shape, (Kind::Double, Device::Cpu)).masked_fill(&b, f64::NEG_INFINITY);
    Some(match kind {
        MaskKind::Bool => (b, additive),
        _ => {
            let scores = Tensor::randn(shape, (Kind::Double, Device::Cpu)) * 0.5 + &additive;
            (scores.shallow_clone(), scores)
        }
    })
}

fn agree(what: &str, actual: &Tensor, expected: &Tensor) -> Result<(), TestCaseError> {
    check(actual, expected, Exactness::Close).map(|_| ()).map_err(|e| TestCaseError::fail(format!("{what}: {e}")))
}

fn check_case(c: &Case) -> Result<(), TestCaseError> {
    let _rng = rng_lock();
    tch::manual_seed(c.seed);
    let e = c.heads * c.head_dim;
    let (kdim, vdim) = (c.kdim.unwrap_or(e), c.vdim.unwrap_or(e));
    let mut vs = VarStore::new(Device::Cpu);
    vs.set_kind(Kind::Double);
    let config = MultiheadAttentionConfig {
        bias: c.bias,
        add_bias_kv: c.add_bias_kv,
        add_zero_attn: c.add_zero_attn,
        kdim: c.kdim,
        vdim: c.vdim,
        batch_first: c.batch_first,
        ..MultiheadAttentionConfig::new(e, c.heads)
    };
    let mut module = MultiheadAttention::new(vs.root(), config).expect("valid config");
    if c.inference {
        module.eval();
    }
    // Larger projections than xavier's, so that the weights are far from uniform.
    tch::no_grad(|| {
        for (_, p) in module.named_parameters() {
            p.shallow_clone().copy_(&(Tensor::randn(p.size(), (Kind::Double, Device::Cpu)) * 0.8));
        }
    });

    // Inputs, sequence-first and batched for the reference; what the module sees is derived.
    let batch = c.batch.unwrap_or(1);
    let leaf = |len: i64, features: i64| {
        Tensor::randn([len, batch, features], (Kind::Double, Device::Cpu)).set_requires_grad(!c.inference)
    };
    let query = leaf(c.tgt_len, e);
    let key = if c.identity == Identity::SelfAttention { query.shallow_clone() } else { leaf(c.src_len, kdim) };
    let value = if c.identity == Identity::Distinct { leaf(c.src_len, vdim) } else { key.shallow_clone() };
    let kpm = mask(c.key_padding_mask, &[batch, c.src_len]);
    let am_shape: Vec<i64> =
        if c.attn_mask_3d { vec![batch * c.heads, c.tgt_len, c.src_len] } else { vec![c.tgt_len, c.src_len] };
    let am = if c.causal {
        let b = Tensor::ones([c.tgt_len, c.src_len], (Kind::Bool, Device::Cpu)).triu(1);
        let additive =
            Tensor::zeros([c.tgt_len, c.src_len], (Kind::Double, Device::Cpu)).masked_fill(&b, f64::NEG_INFINITY);
        Some((b, additive))
    } else {
        mask(c.attn_mask, &am_shape)
    };
    // An unbatched 3-D attn_mask has (heads, L, S), which is what batch 1 gives.
    let layout = |t: &Tensor| match c.batch {
        None => t.squeeze_dim(1),
        Some(_) if c.batch_first => t.transpose(0, 1),
        Some(_) => t.shallow_clone(),
    };
    let (q_in, k_in, v_in) = (layout(&query), layout(&key), layout(&value));
    let k_ref = if c.identity == Identity::SelfAttention { &q_in } else { &k_in };
    let v_ref = if c.identity == Identity::Distinct { &v_in } else { k_ref };
    let kpm_in = kpm.as_ref().map(|(m, _)| if c.batch.is_none() { m.squeeze_dim(0) } else { m.shallow_clone() });
    let options = AttentionOptions {
        key_padding_mask: kpm_in.as_ref(),
        attn_mask: am.as_ref().map(|(m, _)| m),
        need_weights: c.need_weights,
        average_attn_weights: c.average,
        is_causal: c.causal,
    };
    let forward = || module.forward(&q_in, k_ref, v_ref, &options);
    let result = if c.inference { tch::no_grad(forward) } else { forward() };
    let (output, weights) = result.map_err(|e| TestCaseError::fail(format!("the module failed: {e:#}")))?;
    let output = match c.batch {
        None => output.unsqueeze(1),
        Some(_) if c.batch_first => output.transpose(0, 1),
        Some(_) => output,
    };

    // The reference, from the module's parameters.
    let named = module.named_parameters();
    let get = |name: &str| named.iter().find(|(n, _)| *n == name).map(|(_, t)| t.shallow_clone());
    let (w_q, w_k, w_v) = match get("in_proj_weight") {
        Some(w) => (w.narrow(0, 0, e), w.narrow(0, e, e), w.narrow(0, 2 * e, e)),
        None => (get("q_proj_weight").unwrap(), get("k_proj_weight").unwrap(), get("v_proj_weight").unwrap()),
    };
    let b = get("in_proj_bias");
    let part = |i: i64| b.as_ref().map(|b| b.narrow(0, i * e, e));
    let weights_ref = AttentionWeights {
        w_q,
        w_k,
        w_v,
        b_q: part(0),
        b_k: part(1),
        b_v: part(2),
        bias_k: get("bias_k"),
        bias_v: get("bias_v"),
        w_o: get("out_proj.weight").unwrap(),
        b_o: get("out_proj.bias"),
    };
    let (ref_out, ref_weights) = attention(
        &query,
        &key,
        &value,
        &weights_ref,
        c.heads,
        c.add_zero_attn,
        kpm.as_ref().map(|(_, a)| a),
        am.as_ref().map(|(_, a)| a),
    );
    agree("output", &output, &ref_out)?;
    match (&weights, c.need_weights) {
        (Some(w), true) => {
            let expected = if c.average {
                ref_weights.mean_dim([1].as_slice(), false, Kind::Double)
            } else {
                ref_weights.shallow_clone()
            };
            let expected = if c.batch.is_none() { expected.squeeze_dim(0) } else { expected };
            agree("weights", w, &expected)?;
        }
        (None, false) => {}
        (w, _) => {
            return Err(TestCaseError::fail(format!(
                "weights returned: {}, asked for: {}",
                w.is_some(),
                c.need_weights
            )));
        }
    }
    if c.inference {
        return Ok(());
    }

    // Gradients of every parameter and input for sum(output * r) (+ sum(weights * r')).
    let r_out = Tensor::randn(ref_out.size(), (Kind::Double, Device::Cpu));
    let mut loss = (&output * &r_out).sum(Kind::Double);
    let mut ref_loss = (&ref_out * &r_out).sum(Kind::Double);
    if let Some(w) = &weights {
        let r_w = Tensor::randn(w.size(), (Kind::Double, Device::Cpu));
        let expected = if c.average { ref_weights.mean_dim([1].as_slice(), false, Kind::Double) } else { ref_weights };
        let expected = if c.batch.is_none() { expected.squeeze_dim(0) } else { expected };
        loss += (w * &r_w).sum(Kind::Double);
        ref_loss += (&expected * &r_w).sum(Kind::Double);
    }
    let mut inputs: Vec<(String, Tensor)> = named.iter().map(|(n, t)| (n.to_string(), t.shallow_clone())).collect();
    inputs.push(("query".into(), query.shallow_clone()));
    if c.identity != Identity::SelfAttention {
        inputs.push(("key".into(), key.shallow_clone()));
    }
    if c.identity == Identity::Distinct {
        inputs.push(("value".into(), value.shallow_clone()));
    }
    let tensors: Vec<Tensor> = inputs.iter().map(|(_, t)| t.shallow_clone()).collect();
    let ours = Tensor::run_backward(&[loss], &tensors, true, false);
    let theirs = Tensor::run_backward(&[ref_loss], &tensors, false, false);
    for ((name, _), (g, r)) in inputs.iter().zip(ours.iter().zip(&theirs)) {
        agree(&format!("gradient of {name}"), g, r)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn multihead_attention_matches_the_elementary_reference(case in case()) {
        check_case(&case)?;
    }
}
