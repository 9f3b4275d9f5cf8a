//! Multi-head attention written out with elementary tensor ops (matmul, exp, sum, division and
//! explicit loops over the batch and the heads), the independent reference that
//! tests/attention_differential.rs holds `MultiheadAttention` (libtorch's `linear`, `baddbmm`,
//! `softmax`, `scaled_dot_product_attention`, `_native_multi_head_attention`) against. The
//! formulas are those of PyTorch's documentation of `nn.MultiheadAttention`.

use tch::{Kind, Tensor};

/// The module's parameters, by role.
pub struct AttentionWeights {
    pub w_q: Tensor,
    pub w_k: Tensor,
    pub w_v: Tensor,
    pub b_q: Option<Tensor>,
    pub b_k: Option<Tensor>,
    pub b_v: Option<Tensor>,
    /// `(1, 1, E)` each, with `add_bias_kv`.
    pub bias_k: Option<Tensor>,
    pub bias_v: Option<Tensor>,
    pub w_o: Tensor,
    pub b_o: Option<Tensor>,
}

fn affine(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Tensor {
    let y = x.matmul(&w.tr());
    match b {
        Some(b) => y + b,
        None => y,
    }
}

/// A zero column appended to the last dimension of an additive mask.
fn pad_column(mask: &Tensor) -> Tensor {
    let mut size = mask.size();
    *size.last_mut().expect("a mask has dimensions") = 1;
    Tensor::cat(&[mask.shallow_clone(), Tensor::zeros(size, (mask.kind(), mask.device()))], -1)
}

/// Attention of `query` `(L, N, E)` over `key` `(S, N, kdim)` and `value` `(S, N, vdim)`
/// (sequence-first, batched) with additive float masks: `key_padding_mask` `(N, S)` and
/// `attn_mask` `(L, S)` or `(N * heads, L, S)`. Returns the output `(L, N, E)` and the
/// weights of every head `(N, heads, L, S')` (`S'` counts `bias_k` and the zero attention).
#[allow(clippy::too_many_arguments)]
pub fn attention(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    w: &AttentionWeights,
    heads: i64,
    add_zero_attn: bool,
    key_padding_mask: Option<&Tensor>,
    attn_mask: Option<&Tensor>,
) -> (Tensor, Tensor) {
    let (batch, e) = (query.size()[1], query.size()[2]);
    let head_dim = e / heads;
    let mut q = affine(query, &w.w_q, w.b_q.as_ref());
    let mut k = affine(key, &w.w_k, w.b_k.as_ref());
    let mut v = affine(value, &w.w_v, w.b_v.as_ref());
    let mut kpm = key_padding_mask.map(Tensor::shallow_clone);
    let mut mask = attn_mask.map(Tensor::shallow_clone);
    if let (Some(bias_k), Some(bias_v)) = (&w.bias_k, &w.bias_v) {
        k = Tensor::cat(&[k, bias_k.expand([1, batch, e], false)], 0);
        v = Tensor::cat(&[v, bias_v.expand([1, batch, e], false)], 0);
        kpm = kpm.as_ref().map(pad_column);
        mask = mask.as_ref().map(pad_column);
    }
    if add_zero_attn {
        let zeros = |t: &Tensor| Tensor::zeros([1, batch, e], (t.kind(), t.device()));
        k = Tensor::cat(&[k.shallow_clone(), zeros(&k)], 0);
        v = Tensor::cat(&[v.shallow_clone(), zeros(&v)], 0);
        kpm = kpm.as_ref().map(pad_column);
        mask = mask.as_ref().map(pad_column);
    }
    q /= (head_dim as f64).sqrt();
    let mut outputs = Vec::new();
    let mut weights = Vec::new();
    for n in 0..batch {
        let mut heads_out = Vec::new();
        let mut heads_weights = Vec::new();
        for h in 0..heads {
            let part = |t: &Tensor| t.select(1, n).narrow(1, h * head_dim, head_dim);
            let (qh, kh, vh) = (part(&q), part(&k), part(&v));
            let mut scores = qh.matmul(&kh.tr());
            if let Some(mask) = &mask {
                scores += if mask.dim() == 2 { mask.shallow_clone() } else { mask.get(n * heads + h) };
            }
            if let Some(kpm) = &kpm {
                scores += kpm.get(n).unsqueeze(0);
            }
            let max = scores.amax([-1].as_slice(), true).detach();
            let exp = (scores - max).exp();
            let p = &exp / exp.sum_dim_intlist([-1].as_slice(), true, Kind::Double);
            heads_out.push(p.matmul(&vh));
            heads_weights.push(p);
        }
        outputs.push(affine(&Tensor::cat(&heads_out, 1), &w.w_o, w.b_o.as_ref()));
        weights.push(Tensor::stack(&heads_weights, 0));
    }
    (Tensor::stack(&outputs, 1), Tensor::stack(&weights, 0))
}
