//! The options of [`MultiheadAttention`](crate::nn::MultiheadAttention): its constructor's
//! arguments and its forward's keyword arguments, each with PyTorch's default.

use tch::Tensor;

/// The arguments of `torch.nn.MultiheadAttention(embed_dim, num_heads, ...)`, each with
/// PyTorch's default.
///
/// `embed_dim` and `num_heads` have no default in PyTorch: [`MultiheadAttentionConfig::new`]
/// takes them, and the zeros that `Default` leaves are rejected by
/// [`MultiheadAttention::new`](crate::nn::MultiheadAttention::new).
///
/// ```
/// use tch_rnn::nn::MultiheadAttentionConfig;
/// let config = MultiheadAttentionConfig { batch_first: true, ..MultiheadAttentionConfig::new(8, 2) };
/// assert!(config.bias && config.dropout == 0.0 && config.kdim.is_none() && !config.add_zero_attn);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiheadAttentionConfig {
    /// Total dimension of the model, `E`; each head gets `embed_dim / num_heads` of it.
    /// Required.
    pub embed_dim: i64,
    /// Number of parallel attention heads; must divide `embed_dim`. Required.
    pub num_heads: i64,
    /// Dropout probability on the attention weights, applied only in training mode.
    /// Default: 0.
    pub dropout: f64,
    /// Whether the input and output projections learn biases (`in_proj_bias`,
    /// `out_proj.bias`). Default: `true`.
    pub bias: bool,
    /// Learned biases `bias_k`, `bias_v` appended to the key and value sequences (one more
    /// source position). Default: `false`.
    pub add_bias_kv: bool,
    /// A zero key and value appended to the sequences after projection (one more source
    /// position). Default: `false`.
    pub add_zero_attn: bool,
    /// Features of the key, `None` for `embed_dim`. With `kdim` or `vdim` other than
    /// `embed_dim` the projections are three separate weights (`q_proj_weight`,
    /// `k_proj_weight`, `v_proj_weight`) instead of one `in_proj_weight`. Default: `None`.
    pub kdim: Option<i64>,
    /// Features of the value, `None` for `embed_dim`. Default: `None`.
    pub vdim: Option<i64>,
    /// Input and output as `(batch, seq, feature)` instead of `(seq, batch, feature)`.
    /// Default: `false`.
    pub batch_first: bool,
}

impl MultiheadAttentionConfig {
    /// `embed_dim` features split over `num_heads` heads, every other option at PyTorch's
    /// default.
    ///
    /// ```
    /// let config = tch_rnn::nn::MultiheadAttentionConfig::new(8, 1);
    /// assert_eq!((config.embed_dim, config.num_heads, config.batch_first), (8, 1, false));
    /// ```
    pub fn new(embed_dim: i64, num_heads: i64) -> Self {
        MultiheadAttentionConfig {
            embed_dim,
            num_heads,
            dropout: 0.0,
            bias: true,
            add_bias_kv: false,
            add_zero_attn: false,
            kdim: None,
            vdim: None,
            batch_first: false,
        }
    }

    /// The key's features: `kdim`, or `embed_dim`.
    pub(crate) fn key_dim(&self) -> i64 {
        self.kdim.unwrap_or(self.embed_dim)
    }

    /// The value's features: `vdim`, or `embed_dim`.
    pub(crate) fn value_dim(&self) -> i64 {
        self.vdim.unwrap_or(self.embed_dim)
    }

    /// PyTorch's `_qkv_same_embed_dim`: one packed `in_proj_weight` when the key and value
    /// have `embed_dim` features.
    pub(crate) fn same_embed_dim(&self) -> bool {
        self.key_dim() == self.embed_dim && self.value_dim() == self.embed_dim
    }
}

impl Default for MultiheadAttentionConfig {
    /// PyTorch's defaults, with `embed_dim` and `num_heads` (required) left at 0.
    fn default() -> Self {
        MultiheadAttentionConfig::new(0, 0)
    }
}

/// The keyword arguments of `MultiheadAttention.forward(query, key, value, ...)`, each with
/// PyTorch's default.
///
/// Masks are bool (`true`: this position may not be attended to) or floating point (added to
/// the attention scores, `-inf` blocking); bool masks become `0` / `-inf` of the query's dtype,
/// as in PyTorch.
///
/// ```
/// use tch::{Device, Tensor};
/// use tch_rnn::nn::AttentionOptions;
/// let padding = Tensor::from_slice(&[false, false, true]).view([1, 3]);
/// let options = AttentionOptions { key_padding_mask: Some(&padding), ..Default::default() };
/// assert!(options.need_weights && options.average_attn_weights && !options.is_causal);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AttentionOptions<'a> {
    /// Key positions to ignore, `(N, S)` (`(S)` unbatched): `true` (or `-inf`) at padding.
    /// Default: `None`.
    pub key_padding_mask: Option<&'a Tensor>,
    /// Whether to return the attention weights; `false` takes
    /// `scaled_dot_product_attention`. Default: `true`.
    pub need_weights: bool,
    /// Positions each query may not attend to, `(L, S)` or `(N * num_heads, L, S)`.
    /// Default: `None`.
    pub attn_mask: Option<&'a Tensor>,
    /// Average the returned weights over the heads (`(N, L, S)`) instead of returning them per
    /// head (`(N, num_heads, L, S)`). Default: `true`.
    pub average_attn_weights: bool,
    /// A hint that `attn_mask` is the causal mask (it must be given too, as in PyTorch; like
    /// PyTorch's, the fused inference path ignores the hint and applies `attn_mask`).
    /// Default: `false`.
    pub is_causal: bool,
}

impl Default for AttentionOptions<'_> {
    fn default() -> Self {
        AttentionOptions {
            key_padding_mask: None,
            need_weights: true,
            attn_mask: None,
            average_attn_weights: true,
            is_causal: false,
        }
    }
}
