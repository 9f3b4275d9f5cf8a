//! PyTorch's `torch.nn.functional.multi_head_attention_forward`, op for op, for inputs that
//! [`MultiheadAttention`] has already checked and made sequence-first: the in-projection (one
//! product for self-attention, two when the key is the value, three otherwise), `bias_k` /
//! `bias_v`, the zero attention, the merged masks, then either the explicit path that returns
//! the weights (`baddbmm`, `softmax`, dropout, `bmm`) or `scaled_dot_product_attention`, and
//! the output projection.

use anyhow::{Result, ensure};
use tch::Tensor;

use super::MultiheadAttention;

/// Python's `is` between the inputs, which decides how PyTorch projects them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Identity {
    pub query_is_key: bool,
    pub key_is_value: bool,
}

/// Query, key and value, sequence-first (`(L, N, E)`) or unbatched (`(L, E)`).
pub(super) struct MhaInputs {
    pub query: Tensor,
    pub key: Tensor,
    pub value: Tensor,
    pub identity: Identity,
}

/// `F.linear(input, weight, bias)`.
fn linear(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    Ok(input.f_linear(weight, bias)?)
}

/// `proj.unflatten(-1, (n, E)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()`: the
/// packed projections of `_in_projection_packed` split into `n` tensors, each contiguous.
fn unpack(proj: &Tensor, n: i64, e: i64) -> Result<Vec<Tensor>> {
    let proj = proj.f_unflatten(-1, [n, e])?.f_unsqueeze(0)?.f_transpose(0, -2)?.f_squeeze_dim(-2)?.f_contiguous()?;
    (0..n).map(|i| Ok(proj.f_get(i)?)).collect()
}

/// `b.chunk(3)` of an optional bias.
fn chunk3(bias: Option<&Tensor>) -> Result<[Option<Tensor>; 3]> {
    Ok(match bias {
        Some(b) => {
            let mut parts = b.f_chunk(3, 0)?.into_iter();
            let mut next = || parts.next();
            [next(), next(), next()]
        }
        None => [None, None, None],
    })
}

/// `_in_projection_packed(q, k, v, w, b)`.
fn in_projection_packed(inputs: &MhaInputs, w: &Tensor, b: Option<&Tensor>) -> Result<[Tensor; 3]> {
    let (q, k, v) = (&inputs.query, &inputs.key, &inputs.value);
    let e = q.size()[q.dim() - 1];
    let Identity { query_is_key, key_is_value } = inputs.identity;
    if key_is_value && query_is_key {
        // self-attention
        let mut proj = unpack(&linear(q, w, b)?, 3, e)?.into_iter();
        let mut next = || proj.next().expect("three projections");
        return Ok([next(), next(), next()]);
    }
    if key_is_value {
        // encoder-decoder attention
        let w = w.f_split_with_sizes([e, 2 * e], 0)?;
        let (b_q, b_kv) = match b {
            Some(b) => {
                let b = b.f_split_with_sizes([e, 2 * e], 0)?;
                (Some(b[0].shallow_clone()), Some(b[1].shallow_clone()))
            }
            None => (None, None),
        };
        let q_proj = linear(q, &w[0], b_q.as_ref())?;
        let mut kv = unpack(&linear(k, &w[1], b_kv.as_ref())?, 2, e)?.into_iter();
        let mut next = || kv.next().expect("two projections");
        return Ok([q_proj, next(), next()]);
    }
    let w = w.f_chunk(3, 0)?;
    let [b_q, b_k, b_v] = chunk3(b)?;
    Ok([linear(q, &w[0], b_q.as_ref())?, linear(k, &w[1], b_k.as_ref())?, linear(v, &w[2], b_v.as_ref())?])
}

/// `pad(mask, (0, 1))`: one more source position, not masked.
fn pad_one(mask: Option<Tensor>) -> Result<Option<Tensor>> {
    mask.map(|m| Ok(m.f_constant_pad_nd([0, 1])?)).transpose()
}

/// `F.multi_head_attention_forward(...)` with the module's parameters, for checked,
/// sequence-first inputs and canonical (float) masks. Returns the output and, with
/// `need_weights`, the weights.
pub(super) fn multi_head_attention_forward(
    module: &MultiheadAttention,
    inputs: MhaInputs,
    key_padding_mask: Option<Tensor>,
    attn_mask: Option<Tensor>,
    need_weights: bool,
    average_attn_weights: bool,
    is_causal: bool,
) -> Result<(Tensor, Option<Tensor>)> {
    let c = &module.config;
    let num_heads = c.num_heads;
    let is_batched = inputs.query.dim() == 3;
    let (inputs, mut key_padding_mask) = if is_batched {
        (inputs, key_padding_mask)
    } else {
        // unsqueeze at the batch dim (new tensors: no identity left between them)
        let unsqueeze = |t: &Tensor| t.f_unsqueeze(1);
        let inputs = MhaInputs {
            query: unsqueeze(&inputs.query)?,
            key: unsqueeze(&inputs.key)?,
            value: unsqueeze(&inputs.value)?,
            identity: Identity { query_is_key: false, key_is_value: false },
        };
        (inputs, key_padding_mask.map(|m| m.f_unsqueeze(0)).transpose()?)
    };
    let (tgt_len, bsz, embed_dim) = {
        let s = inputs.query.size();
        (s[0], s[1], s[2])
    };
    // (Only this path checks the hint: PyTorch's fused path ignores is_causal.)
    ensure!(
        !is_causal || attn_mask.is_some(),
        "MultiheadAttention: Need attn_mask if specifying the is_causal hint. You may use the Transformer module \
         method `generate_square_subsequent_mask` to create this mask."
    );
    let (mut attn_mask, mut is_causal) = (attn_mask, is_causal);
    if is_causal && key_padding_mask.is_none() && !need_weights {
        // the is_causal hint goes to scaled_dot_product_attention as it is
        attn_mask = None;
    } else if key_padding_mask.is_some() {
        // the merged mask is no longer causal
        is_causal = false;
    }
    let head_dim = embed_dim / num_heads;

    // in-projection
    let [q, k, v] = match &module.in_proj_weight {
        Some(w) => in_projection_packed(&inputs, w, module.in_proj_bias.as_ref())?,
        None => {
            let [b_q, b_k, b_v] = chunk3(module.in_proj_bias.as_ref())?;
            let weight =
                |w: &Option<Tensor>| w.as_ref().map(Tensor::shallow_clone).expect("separate projection weights");
            [
                linear(&inputs.query, &weight(&module.q_proj_weight), b_q.as_ref())?,
                linear(&inputs.key, &weight(&module.k_proj_weight), b_k.as_ref())?,
                linear(&inputs.value, &weight(&module.v_proj_weight), b_v.as_ref())?,
            ]
        }
    };

    // attention mask of 3 dimensions
    if let Some(mask) = &attn_mask
        && mask.dim() == 2
    {
        attn_mask = Some(mask.f_unsqueeze(0)?);
    }

    // bias along the batch dimension (second)
    let (mut k, mut v) = (k, v);
    if let (Some(bias_k), Some(bias_v)) = (&module.bias_k, &module.bias_v) {
        k = Tensor::f_cat(&[k, bias_k.f_repeat([1, bsz, 1])?], 0)?;
        v = Tensor::f_cat(&[v, bias_v.f_repeat([1, bsz, 1])?], 0)?;
        attn_mask = pad_one(attn_mask)?;
        key_padding_mask = pad_one(key_padding_mask)?;
    }

    // heads in the batch dimension, batch first
    let q = q.f_view([tgt_len, bsz * num_heads, head_dim])?.f_transpose(0, 1)?;
    let mut k = k.f_view([k.size()[0], bsz * num_heads, head_dim])?.f_transpose(0, 1)?;
    let mut v = v.f_view([v.size()[0], bsz * num_heads, head_dim])?.f_transpose(0, 1)?;

    // zero attention along the batch dimension (now first)
    if c.add_zero_attn {
        let zeros = |t: &Tensor| Tensor::f_zeros([bsz * num_heads, 1, head_dim], (t.kind(), t.device()));
        k = Tensor::f_cat(&[k.shallow_clone(), zeros(&k)?], 1)?;
        v = Tensor::f_cat(&[v.shallow_clone(), zeros(&v)?], 1)?;
        attn_mask = pad_one(attn_mask)?;
        key_padding_mask = pad_one(key_padding_mask)?;
    }
    let src_len = k.size()[1];

    // merge the key padding and attention masks
    if let Some(kpm) = key_padding_mask {
        let kpm = kpm.f_view([bsz, 1, 1, src_len])?.f_expand([-1, num_heads, -1, -1], false)?.f_reshape([
            bsz * num_heads,
            1,
            src_len,
        ])?;
        attn_mask = Some(match attn_mask {
            None => kpm,
            Some(mask) => mask.f_add(&kpm)?,
        });
    }
    let dropout_p = if module.training { c.dropout } else { 0.0 };

    if need_weights {
        let e = q.size()[2];
        let q_scaled = q.f_mul_scalar((1.0 / e as f64).sqrt())?;
        let k_t = k.f_transpose(-2, -1)?;
        let weights = match &attn_mask {
            Some(mask) => mask.f_baddbmm(&q_scaled, &k_t, 1, 1)?,
            None => q_scaled.f_bmm(&k_t)?,
        };
        let mut weights = weights.f_softmax(-1, None)?;
        if dropout_p > 0.0 {
            weights = weights.f_dropout(dropout_p, true)?;
        }
        let output = weights.f_bmm(&v)?.f_transpose(0, 1)?;
        let output = before_out_projection(output)?.f_reshape([tgt_len * bsz, embed_dim])?;
        let output = linear(&output, &module.out_proj.weight, module.out_proj.bias.as_ref())?;
        let output = output.f_view([tgt_len, bsz, output.size()[1]])?;
        let mut weights = weights.f_view([bsz, num_heads, tgt_len, src_len])?;
        if average_attn_weights {
            weights = weights.f_mean_dim(1, false, None)?;
        }
        if !is_batched {
            return Ok((output.f_squeeze_dim(1)?, Some(weights.f_squeeze_dim(0)?)));
        }
        Ok((output, Some(weights)))
    } else {
        // attn_mask is (1, L, S) or (N * num_heads, L or 1, S); SDPA takes (N, num_heads, L, S)
        let attn_mask = match attn_mask {
            Some(mask) if mask.size()[0] == 1 && mask.dim() == 3 => Some(mask.f_unsqueeze(0)?),
            Some(mask) => Some(mask.f_view([bsz, num_heads, -1, src_len])?),
            None => None,
        };
        let q = q.f_view([bsz, num_heads, tgt_len, head_dim])?;
        let k = k.f_view([bsz, num_heads, src_len, head_dim])?;
        let v = v.f_view([bsz, num_heads, src_len, head_dim])?;
        let output =
            Tensor::f_scaled_dot_product_attention(&q, &k, &v, attn_mask.as_ref(), dropout_p, is_causal, None, false)?;
        let output = output.f_permute([2, 0, 1, 3])?.f_reshape([bsz * tgt_len, embed_dim])?;
        let output = linear(&output, &module.out_proj.weight, module.out_proj.bias.as_ref())?;
        let output = output.f_view([tgt_len, bsz, output.size()[1]])?;
        Ok((if is_batched { output } else { output.f_squeeze_dim(1)? }, None))
    }
}

/// The heads' output as the out-projection reads it. PyTorch 2.13 reshapes the transposed
/// output, which stays a transposed view when each head has one dimension and the batch is one;
/// PyTorch 2.11 made it contiguous first. The projection's GEMM rounds differently on the two
/// layouts, so this follows the libtorch in use.
fn before_out_projection(output: Tensor) -> Result<Tensor> {
    if crate::device::libtorch_version() < (2, 13, 0) { Ok(output.f_contiguous()?) } else { Ok(output) }
}
