//! `torch.nn.MultiheadAttention`: scaled dot-product attention over several heads, with
//! PyTorch's parameters, names, initialisation, checks and computation.
//!
//! The module's forward is PyTorch's, step for step: the masks are made canonical (bool to
//! `0` / `-inf`), then either the fused native op `_native_multi_head_attention` runs (PyTorch's
//! inference fast path, taken under exactly PyTorch's conditions) or the functional
//! `multi_head_attention_forward` does (see `functional.rs`), with the same libtorch ops in the
//! same order, so the same inputs give the same bits.

mod config;
mod functional;
mod init;

use std::borrow::Borrow;
use std::fmt;

use anyhow::{Result, bail, ensure};
use tch::nn::Path;
use tch::{Kind, Tensor};

pub use config::{AttentionOptions, MultiheadAttentionConfig};

use crate::error::guard;
use crate::ffi::same_tensor;
use crate::nn::check::{ensure_defined, ensure_device, ensure_float, ensure_kind, shape};
use crate::nn::param::{element_count, ensure_allocatable, new_parameters};
use crate::nn::{Linear, LinearConfig};
use functional::{Identity, MhaInputs};

/// The name errors start with.
const MODULE: &str = "MultiheadAttention";

/// Multi-head attention, `torch.nn.MultiheadAttention`:
///
/// ```text
/// MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,   head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)
/// Attention(q, k, v) = softmax(q k^T / sqrt(head_dim) + mask) v
/// ```
///
/// Parameters, as in PyTorch's `state_dict` and `named_parameters()` order: `in_proj_weight`
/// `(3 * E, E)` (the q, k, v projections stacked), or, when `kdim` or `vdim` differs from
/// `embed_dim`, `q_proj_weight (E, E)`, `k_proj_weight (E, kdim)`, `v_proj_weight (E, vdim)`;
/// `in_proj_bias (3 * E)` with `bias`; `bias_k`, `bias_v` `(1, 1, E)` with `add_bias_kv`;
/// `out_proj.weight (E, E)` and `out_proj.bias (E)`. Initialised in PyTorch's order, so the
/// same seed draws the same values: `out_proj` as a `Linear` (its bias then set to 0),
/// `xavier_uniform_` for the projection weights, 0 for `in_proj_bias`, `xavier_normal_` for
/// `bias_k` and `bias_v`.
///
/// # Shapes
/// - query `(L, N, E)`, `(N, L, E)` with `batch_first`, or unbatched `(L, E)`; key `(S, N, kdim)`
///   and value `(S, N, vdim)` likewise;
/// - `key_padding_mask` `(N, S)` (`(S)` unbatched); `attn_mask` `(L, S)` or `(N * num_heads, L, S)`;
/// - output: like the query, with `E` features; weights (with `need_weights`): `(N, L, S)`
///   averaged over the heads, `(N, num_heads, L, S)` per head (without the `N` unbatched).
///
/// ```
/// use tch::{nn::VarStore, Device, Kind, Tensor};
/// use tch_rnn::nn::{AttentionOptions, MultiheadAttention, MultiheadAttentionConfig};
/// let vs = VarStore::new(Device::Cpu);
/// let attn = MultiheadAttention::new(vs.root() / "attn", MultiheadAttentionConfig { batch_first: true, ..MultiheadAttentionConfig::new(8, 2) })?;
/// let (decoder, encoder) = (Tensor::randn([3, 4, 8], (Kind::Float, Device::Cpu)), Tensor::randn([3, 6, 8], (Kind::Float, Device::Cpu)));
/// let (output, weights) = attn.forward(&decoder, &encoder, &encoder, &AttentionOptions::default())?;
/// assert_eq!((output.size(), weights.unwrap().size()), (vec![3, 4, 8], vec![3, 4, 6]));
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct MultiheadAttention {
    /// `(3 * embed_dim, embed_dim)`, when the key and value have `embed_dim` features.
    pub in_proj_weight: Option<Tensor>,
    /// `(embed_dim, embed_dim)`, when `kdim` or `vdim` differs from `embed_dim`.
    pub q_proj_weight: Option<Tensor>,
    /// `(embed_dim, kdim)`, when `kdim` or `vdim` differs from `embed_dim`.
    pub k_proj_weight: Option<Tensor>,
    /// `(embed_dim, vdim)`, when `kdim` or `vdim` differs from `embed_dim`.
    pub v_proj_weight: Option<Tensor>,
    /// `(3 * embed_dim)`, with `bias`.
    pub in_proj_bias: Option<Tensor>,
    /// `(1, 1, embed_dim)`, with `add_bias_kv`.
    pub bias_k: Option<Tensor>,
    /// `(1, 1, embed_dim)`, with `add_bias_kv`.
    pub bias_v: Option<Tensor>,
    /// The output projection, `Linear(embed_dim, embed_dim, bias)` (PyTorch's
    /// `NonDynamicallyQuantizableLinear`).
    pub out_proj: Linear,
    config: MultiheadAttentionConfig,
    /// Train/eval mode: dropout on the weights acts only in training (PyTorch's default mode).
    training: bool,
}

impl MultiheadAttention {
    /// Creates the module's parameters under `path` and initialises them as PyTorch does, in
    /// PyTorch's order, so that the random draws match. Nothing is registered when it fails.
    ///
    /// ```
    /// use tch_rnn::nn::{MultiheadAttention, MultiheadAttentionConfig};
    /// let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    /// let attn = MultiheadAttention::new(vs.root() / "attn", MultiheadAttentionConfig::new(8, 2))?;
    /// assert_eq!(attn.in_proj_weight.as_ref().map(|w| w.size()), Some(vec![24, 8]));
    /// assert!(MultiheadAttention::new(vs.root() / "bad", MultiheadAttentionConfig::new(8, 3)).is_err());
    /// # anyhow::Ok(())
    /// ```
    pub fn new<'a>(path: impl Borrow<Path<'a>>, config: MultiheadAttentionConfig) -> Result<Self> {
        let path = path.borrow();
        guard(MODULE, || Self::build(path, config))
    }

    fn build(path: &Path, config: MultiheadAttentionConfig) -> Result<Self> {
        let c = &config;
        ensure!(
            c.embed_dim > 0 && c.num_heads > 0,
            "{MODULE}: embed_dim and num_heads must be greater than 0, got embed_dim={} and num_heads={} instead",
            c.embed_dim,
            c.num_heads
        );
        ensure!(
            c.embed_dim % c.num_heads == 0,
            "{MODULE}: embed_dim must be divisible by num_heads (got embed_dim={} and num_heads={})",
            c.embed_dim,
            c.num_heads
        );
        for (what, dim) in [("kdim", c.kdim), ("vdim", c.vdim)] {
            if let Some(dim) = dim {
                ensure!(dim > 0, "{MODULE}: {what} must be greater than 0, got {dim}");
            }
        }
        ensure!(
            (0.0..=1.0).contains(&c.dropout),
            "{MODULE}: dropout probability has to be between 0 and 1, but got {}",
            c.dropout
        );
        let e = c.embed_dim;
        ensure!(
            e <= i64::MAX / 3,
            "{MODULE}: the configuration asks for more parameters than can be counted (sizes overflow 64 bits)"
        );
        let mut own = Vec::new();
        if c.same_embed_dim() {
            own.push(("in_proj_weight".to_string(), vec![3 * e, e]));
        } else {
            own.push(("q_proj_weight".to_string(), vec![e, e]));
            own.push(("k_proj_weight".to_string(), vec![e, c.key_dim()]));
            own.push(("v_proj_weight".to_string(), vec![e, c.value_dim()]));
        }
        if c.bias {
            own.push(("in_proj_bias".to_string(), vec![3 * e]));
        }
        if c.add_bias_kv {
            own.push(("bias_k".to_string(), vec![1, 1, e]));
            own.push(("bias_v".to_string(), vec![1, 1, e]));
        }
        // All or nothing: every name free and the whole size allocatable before the first
        // parameter (out_proj's, drawn first as in PyTorch) is registered.
        let out_proj_path = path / "out_proj";
        let out_proj_names: &[&str] = if c.bias { &["weight", "bias"] } else { &["weight"] };
        for name in out_proj_names {
            ensure!(
                out_proj_path.get(name).is_none(),
                "{MODULE}: a parameter named '{}' already exists in this VarStore; give each module its own path",
                out_proj_path.path(name)
            );
        }
        for (name, _) in &own {
            ensure!(
                path.get(name).is_none(),
                "{MODULE}: a parameter named '{}' already exists in this VarStore; give each module its own path",
                path.path(name)
            );
        }
        let out_proj_elements = element_count(&[e, e]).and_then(|w| w.checked_add(if c.bias { e as u128 } else { 0 }));
        let elements = out_proj_elements
            .and_then(|start| own.iter().try_fold(start, |n, (_, dims)| n.checked_add(element_count(dims)?)));
        let tensors = (own.len() + out_proj_names.len()) as u128;
        ensure_allocatable(path, MODULE, Some(tensors), elements)?;

        // PyTorch: the parameters are created empty, then `out_proj = NonDynamicallyQuantizableLinear(...)`
        // initialises itself (kaiming_uniform_ weight, uniform_ bias), then `_reset_parameters`.
        let out_proj = Linear::new(&out_proj_path, e, e, LinearConfig { bias: c.bias })?;
        let mut registered = new_parameters(path, MODULE, &own)?.into_iter();
        let mut take = |present: bool| if present { registered.next() } else { None };
        let same = c.same_embed_dim();
        let in_proj_weight = take(same);
        let (q_proj_weight, k_proj_weight, v_proj_weight) = (take(!same), take(!same), take(!same));
        let in_proj_bias = take(c.bias);
        let (bias_k, bias_v) = (take(c.add_bias_kv), take(c.add_bias_kv));
        let mut module = MultiheadAttention {
            in_proj_weight,
            q_proj_weight,
            k_proj_weight,
            v_proj_weight,
            in_proj_bias,
            bias_k,
            bias_v,
            out_proj,
            config,
            training: true,
        };
        module.reset_parameters()?;
        Ok(module)
    }

    /// PyTorch's `_reset_parameters`: `xavier_uniform_` for `in_proj_weight` (or the q, k, v
    /// weights, in that order), 0 for `in_proj_bias` and `out_proj.bias`, `xavier_normal_` for
    /// `bias_k` then `bias_v`. (`out_proj.weight` keeps its `Linear` initialisation.)
    fn reset_parameters(&mut self) -> Result<()> {
        if let Some(w) = &mut self.in_proj_weight {
            init::xavier_uniform_(w)?;
        }
        for w in [&mut self.q_proj_weight, &mut self.k_proj_weight, &mut self.v_proj_weight].into_iter().flatten() {
            init::xavier_uniform_(w)?;
        }
        if let Some(b) = &mut self.in_proj_bias {
            init::constant_(b, 0.0)?;
            if let Some(out_bias) = &mut self.out_proj.bias {
                init::constant_(out_bias, 0.0)?;
            }
        }
        for b in [&mut self.bias_k, &mut self.bias_v].into_iter().flatten() {
            init::xavier_normal_(b)?;
        }
        Ok(())
    }

    /// The module's options.
    ///
    /// ```
    /// use tch_rnn::nn::{MultiheadAttention, MultiheadAttentionConfig};
    /// let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    /// let attn = MultiheadAttention::new(vs.root(), MultiheadAttentionConfig::new(6, 3))?;
    /// assert_eq!(attn.config().num_heads, 3);
    /// # anyhow::Ok(())
    /// ```
    pub fn config(&self) -> &MultiheadAttentionConfig {
        &self.config
    }

    /// Each head's features, `embed_dim / num_heads`.
    ///
    /// ```
    /// use tch_rnn::nn::{MultiheadAttention, MultiheadAttentionConfig};
    /// let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    /// assert_eq!(MultiheadAttention::new(vs.root(), MultiheadAttentionConfig::new(8, 2))?.head_dim(), 4);
    /// # anyhow::Ok(())
    /// ```
    pub fn head_dim(&self) -> i64 {
        self.config.embed_dim / self.config.num_heads
    }

    /// Sets training mode (`true`, the default) or evaluation mode (`false`), like
    /// `module.train(mode)`: dropout on the attention weights acts only in training, and only
    /// evaluation mode may take the fused inference path.
    ///
    /// ```
    /// use tch_rnn::nn::{MultiheadAttention, MultiheadAttentionConfig};
    /// let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    /// let mut attn = MultiheadAttention::new(vs.root(), MultiheadAttentionConfig { dropout: 0.1, ..MultiheadAttentionConfig::new(4, 2) })?;
    /// attn.train(false);
    /// assert!(!attn.is_training());
    /// # anyhow::Ok(())
    /// ```
    pub fn train(&mut self, mode: bool) {
        self.training = mode;
    }

    /// Evaluation mode, like `module.eval()`.
    ///
    /// ```
    /// use tch_rnn::nn::{MultiheadAttention, MultiheadAttentionConfig};
    /// let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    /// let mut attn = MultiheadAttention::new(vs.root(), MultiheadAttentionConfig::new(4, 2))?;
    /// attn.eval();
    /// assert!(!attn.is_training());
    /// # anyhow::Ok(())
    /// ```
    pub fn eval(&mut self) {
        self.train(false);
    }

    /// Whether the module is in training mode.
    ///
    /// ```
    /// use tch_rnn::nn::{MultiheadAttention, MultiheadAttentionConfig};
    /// let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    /// assert!(MultiheadAttention::new(vs.root(), MultiheadAttentionConfig::new(4, 1))?.is_training());
    /// # anyhow::Ok(())
    /// ```
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// The parameters with their `state_dict` names, in PyTorch's `named_parameters()` order
    /// (the module's own, then `out_proj`'s).
    ///
    /// ```
    /// use tch_rnn::nn::{MultiheadAttention, MultiheadAttentionConfig};
    /// let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    /// let attn = MultiheadAttention::new(vs.root(), MultiheadAttentionConfig { kdim: Some(3), add_bias_kv: true, ..MultiheadAttentionConfig::new(4, 2) })?;
    /// let names: Vec<&str> = attn.named_parameters().into_iter().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k", "bias_v", "out_proj.weight", "out_proj.bias"]);
    /// # anyhow::Ok(())
    /// ```
    pub fn named_parameters(&self) -> Vec<(&'static str, &Tensor)> {
        let own = [
            ("in_proj_weight", &self.in_proj_weight),
            ("q_proj_weight", &self.q_proj_weight),
            ("k_proj_weight", &self.k_proj_weight),
            ("v_proj_weight", &self.v_proj_weight),
            ("in_proj_bias", &self.in_proj_bias),
            ("bias_k", &self.bias_k),
            ("bias_v", &self.bias_v),
            ("out_proj.weight", &None),
            ("out_proj.bias", &self.out_proj.bias),
        ];
        own.into_iter()
            .filter_map(|(name, t)| match name {
                "out_proj.weight" => Some((name, &self.out_proj.weight)),
                _ => t.as_ref().map(|t| (name, t)),
            })
            .collect()
    }

    /// Attends from `query` over `key` / `value` with `options` (PyTorch's keyword arguments):
    /// returns the output and, with `need_weights`, the attention weights. See the type's docs
    /// for shapes.
    ///
    /// Passing the same tensor as query, key and value is self-attention, as `attn(x, x, x)` in
    /// PyTorch: like PyTorch, the module then projects them with one matrix product (and the
    /// key and value with one when they are the same tensor), and in evaluation mode without
    /// gradients it takes libtorch's fused `_native_multi_head_attention` under PyTorch's
    /// conditions (batched `batch_first` input, an even number of heads, `bias`, neither
    /// `add_bias_kv` nor `add_zero_attn`, no float mask).
    ///
    /// ```
    /// use tch::{nn::VarStore, Device, Kind, Tensor};
    /// use tch_rnn::nn::{AttentionOptions, MultiheadAttention, MultiheadAttentionConfig};
    /// let vs = VarStore::new(Device::Cpu);
    /// let attn = MultiheadAttention::new(vs.root(), MultiheadAttentionConfig::new(4, 2))?;
    /// let x = Tensor::randn([5, 4], (Kind::Float, Device::Cpu)); // unbatched (L, E)
    /// let causal = Tensor::ones([5, 5], (Kind::Bool, Device::Cpu)).triu(1);
    /// let options = AttentionOptions { attn_mask: Some(&causal), is_causal: true, average_attn_weights: false, ..Default::default() };
    /// let (output, weights) = attn.forward(&x, &x, &x, &options)?;
    /// assert_eq!((output.size(), weights.unwrap().size()), (vec![5, 4], vec![2, 5, 5]));
    /// # anyhow::Ok(())
    /// ```
    pub fn forward(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
        options: &AttentionOptions,
    ) -> Result<(Tensor, Option<Tensor>)> {
        guard(MODULE, || self.forward_checked(query, key, value, options))
    }

    fn forward_checked(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
        options: &AttentionOptions,
    ) -> Result<(Tensor, Option<Tensor>)> {
        self.validate(query, key, value, options)?;
        let float_mask =
            [options.attn_mask, options.key_padding_mask].into_iter().flatten().any(|m| m.is_floating_point());
        let is_batched = query.dim() == 3;
        let key_padding_mask = canonical_mask(options.key_padding_mask, query.kind())?;
        let attn_mask = canonical_mask(options.attn_mask, query.kind())?;

        if !float_mask && self.fast_path_allowed(query, key, value, is_batched) {
            let (mask, mask_type) = self.merge_masks(attn_mask.as_ref(), key_padding_mask.as_ref(), query)?;
            if let (Some(in_proj_weight), Some(in_proj_bias), Some(out_proj_bias)) =
                (&self.in_proj_weight, &self.in_proj_bias, &self.out_proj.bias)
            {
                let (output, weights) = Tensor::f_internal_native_multi_head_attention(
                    query,
                    key,
                    value,
                    self.config.embed_dim,
                    self.config.num_heads,
                    in_proj_weight,
                    in_proj_bias,
                    &self.out_proj.weight,
                    out_proj_bias,
                    mask.as_ref(),
                    options.need_weights,
                    options.average_attn_weights,
                    mask_type,
                )?;
                return Ok((output, weights.defined().then_some(weights)));
            }
        }

        // Identity, as Python's `is`: it decides how the projections are computed.
        let identity = Identity { query_is_key: same_tensor(query, key), key_is_value: same_tensor(key, value) };
        let transpose = self.config.batch_first && is_batched;
        let seq_first =
            |t: &Tensor| -> Result<Tensor> { Ok(if transpose { t.f_transpose(1, 0)? } else { t.shallow_clone() }) };
        let inputs = MhaInputs { query: seq_first(query)?, key: seq_first(key)?, value: seq_first(value)?, identity };
        let (output, weights) = functional::multi_head_attention_forward(
            self,
            inputs,
            key_padding_mask,
            attn_mask,
            options.need_weights,
            options.average_attn_weights,
            options.is_causal,
        )?;
        let output = if transpose { output.f_transpose(1, 0)? } else { output };
        Ok((output, weights))
    }

    /// PyTorch's conditions for the fused inference path, but for the float masks (checked by
    /// the caller) and the dtypes (checked before). PyTorch also stays off it under CUDA
    /// autocast (`torch.is_autocast_enabled()`); libtorch's only query of that flag that tch
    /// reaches is deprecated and prints a warning on every call, so it is not consulted here
    /// (in Rust only `tch::autocast` sets it, and it changes nothing on the CPU).
    fn fast_path_allowed(&self, query: &Tensor, key: &Tensor, value: &Tensor, is_batched: bool) -> bool {
        let c = &self.config;
        let structural = is_batched
            && same_tensor(query, key)
            && same_tensor(key, value)
            && self.in_proj_weight.is_some()
            && !self.training
            && c.num_heads % 2 == 0
            && c.batch_first
            && self.bias_k.is_none()
            && self.bias_v.is_none()
            && !c.add_zero_attn;
        if !structural {
            return false;
        }
        let arguments = [Some(query), Some(key), Some(value), self.in_proj_weight.as_ref(), self.in_proj_bias.as_ref()]
            .into_iter()
            .chain([Some(&self.out_proj.weight), self.out_proj.bias.as_ref()]);
        !(grad_enabled() && arguments.flatten().any(Tensor::requires_grad))
    }

    /// PyTorch's `merge_masks` for the fused path: the key padding mask alone (type 1), or the
    /// attention mask expanded to `(N, num_heads, L, L)`, plus the padding mask (type 2).
    fn merge_masks(
        &self,
        attn_mask: Option<&Tensor>,
        key_padding_mask: Option<&Tensor>,
        query: &Tensor,
    ) -> Result<(Option<Tensor>, Option<i64>)> {
        let heads = self.config.num_heads;
        let (mut merged, mut mask_type) = (key_padding_mask.map(Tensor::shallow_clone), key_padding_mask.map(|_| 1));
        if let Some(attn_mask) = attn_mask {
            let (batch, seq_len) = (query.size()[0], query.size()[1]);
            mask_type = Some(2);
            let expanded = if attn_mask.dim() == 3 {
                attn_mask.f_view([batch, -1, seq_len, seq_len])?
            } else {
                attn_mask.f_view([1, 1, seq_len, seq_len])?.f_expand([batch, heads, -1, -1], false)?
            };
            merged = Some(match key_padding_mask {
                Some(kpm) => {
                    expanded.f_add(&kpm.f_view([batch, 1, 1, seq_len])?.f_expand([-1, heads, -1, -1], false)?)?
                }
                None => expanded,
            });
        }
        Ok((merged, mask_type))
    }

    /// Every check PyTorch's forward makes (and those its ops would fail on with libtorch's
    /// less helpful messages), before anything is computed.
    fn validate(&self, query: &Tensor, key: &Tensor, value: &Tensor, o: &AttentionOptions) -> Result<()> {
        let c = &self.config;
        for (what, t) in [("query", query), ("key", key), ("value", value)] {
            ensure_float(MODULE, what, t)?;
        }
        let weight = &self.out_proj.weight;
        for (what, t) in [("query", query), ("key", key), ("value", value)] {
            ensure_kind(MODULE, what, t, weight.kind(), "the module")?;
            ensure_device(MODULE, what, t, weight.device())?;
        }
        for (name, mask) in [("key_padding_mask", o.key_padding_mask), ("attn_mask", o.attn_mask)] {
            let Some(mask) = mask else { continue };
            ensure_defined(MODULE, name, mask)?;
            ensure!(
                mask.kind() == Kind::Bool || mask.is_floating_point(),
                "{MODULE}: only bool and floating types of {name} are supported, got dtype {:?}",
                mask.kind()
            );
            if mask.is_floating_point() {
                ensure_kind(MODULE, &format!("a float {name}"), mask, query.kind(), "the query")?;
            }
            ensure_device(MODULE, name, mask, weight.device())?;
        }

        // _mha_shape_check
        let (kpm, attn_mask) = (o.key_padding_mask, o.attn_mask);
        let is_batched = match query.dim() {
            3 => {
                ensure!(
                    key.dim() == 3 && value.dim() == 3,
                    "{MODULE}: For batched (3-D) `query`, expected `key` and `value` to be 3-D but found {}-D and {}-D tensors respectively",
                    key.dim(),
                    value.dim()
                );
                if let Some(kpm) = kpm {
                    ensure!(
                        kpm.dim() == 2,
                        "{MODULE}: For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but found {}-D tensor instead",
                        kpm.dim()
                    );
                }
                if let Some(mask) = attn_mask {
                    ensure!(
                        matches!(mask.dim(), 2 | 3),
                        "{MODULE}: For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found {}-D tensor instead",
                        mask.dim()
                    );
                }
                true
            }
            2 => {
                ensure!(
                    key.dim() == 2 && value.dim() == 2,
                    "{MODULE}: For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found {}-D and {}-D tensors respectively",
                    key.dim(),
                    value.dim()
                );
                if let Some(kpm) = kpm {
                    ensure!(
                        kpm.dim() == 1,
                        "{MODULE}: For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but found {}-D tensor instead",
                        kpm.dim()
                    );
                }
                if let Some(mask) = attn_mask {
                    ensure!(
                        matches!(mask.dim(), 2 | 3),
                        "{MODULE}: For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found {}-D tensor instead",
                        mask.dim()
                    );
                    let expected = vec![c.num_heads, query.size()[0], key.size()[0]];
                    ensure!(
                        mask.dim() == 2 || mask.size() == expected,
                        "{MODULE}: Expected `attn_mask` shape to be ({}) but got {}",
                        join(&expected),
                        torch_size(mask)
                    );
                }
                false
            }
            d => bail!(
                "{MODULE}: query should be unbatched 2D or batched 3D tensor but received {d}-D query tensor (shape {})",
                shape(query)
            ),
        };

        // Sizes, seen as (seq, batch, features) (batched) or (seq, features).
        let (q, k, v) = (query.size(), key.size(), value.size());
        let embed_dim = q[q.len() - 1];
        ensure!(
            embed_dim == c.embed_dim,
            "{MODULE}: was expecting embedding dimension of {}, but got {embed_dim} (query shape {})",
            c.embed_dim,
            shape(query)
        );
        if c.same_embed_dim() {
            ensure!(k == v, "{MODULE}: key shape {} does not match value shape {}", torch_size(key), torch_size(value));
        } else {
            let lead = k.len() - 1;
            ensure!(
                k[..lead] == v[..lead],
                "{MODULE}: key's sequence and batch dims {} do not match value's {}",
                python_size(&k[..lead]),
                python_size(&v[..lead])
            );
        }
        for (what, dims, expected, weight) in [("key", &k, c.key_dim(), "kdim"), ("value", &v, c.value_dim(), "vdim")] {
            let got = dims[dims.len() - 1];
            ensure!(
                got == expected,
                "{MODULE}: expected {what}.size(-1) == {weight} = {expected}, got {got} ({what} shape {:?})",
                dims
            );
        }
        let (seq_dim, batch_dim) = if is_batched && c.batch_first { (1, 0) } else { (0, 1) };
        let (tgt_len, src_len) = (q[seq_dim], k[seq_dim]);
        let bsz = if is_batched { q[batch_dim] } else { 1 };
        if is_batched {
            ensure!(
                k[batch_dim] == bsz,
                "{MODULE}: expected key and value of the query's batch size {bsz}, got {} (query shape {}, key shape {})",
                k[batch_dim],
                shape(query),
                shape(key)
            );
        }

        if let Some(mask) = attn_mask {
            if mask.dim() == 2 {
                ensure!(
                    mask.size() == [tgt_len, src_len],
                    "{MODULE}: The shape of the 2D attn_mask is {}, but should be ({tgt_len}, {src_len}).",
                    torch_size(mask)
                );
            } else {
                let expected = [bsz * c.num_heads, tgt_len, src_len];
                ensure!(
                    mask.size() == expected,
                    "{MODULE}: The shape of the 3D attn_mask is {}, but should be ({}).",
                    torch_size(mask),
                    join(&expected)
                );
            }
        }
        if let Some(kpm) = kpm {
            // PyTorch checks the mask after padding it for bias_k/bias_v and the zero attention.
            let extra = i64::from(c.add_bias_kv) + i64::from(c.add_zero_attn);
            let size = if is_batched { kpm.size() } else { vec![1, kpm.size()[0]] };
            ensure!(
                size[0] == bsz,
                "{MODULE}: Expected key_padded_mask.shape[0] to be {bsz}, but got {} (key_padding_mask shape {})",
                size[0],
                shape(kpm)
            );
            ensure!(
                size[1] == src_len,
                "{MODULE}: Expected key_padded_mask.shape[1] to be {}, but got {} (key_padding_mask shape {})",
                src_len + extra,
                size[1] + extra,
                shape(kpm)
            );
        }
        Ok(())
    }
}

/// PyTorch's `_canonical_mask`: a bool mask becomes `0` where false and `-inf` where true, of
/// the query's dtype; a float mask stays as it is.
fn canonical_mask(mask: Option<&Tensor>, kind: Kind) -> Result<Option<Tensor>> {
    let Some(mask) = mask else { return Ok(None) };
    if mask.is_floating_point() {
        return Ok(Some(mask.shallow_clone()));
    }
    let mut canonical = Tensor::f_zeros(mask.size(), (kind, mask.device()))?;
    let _ = canonical.f_masked_fill_(mask, f64::NEG_INFINITY)?;
    Ok(Some(canonical))
}

/// Whether autograd records operations (`torch.is_grad_enabled()`).
fn grad_enabled() -> bool {
    // SAFETY: setting and restoring the thread-local grad mode; the call cannot fail.
    unsafe {
        let previous = torch_sys::at_grad_set_enabled(1);
        torch_sys::at_grad_set_enabled(previous);
        previous != 0
    }
}

/// `3, 4, 5`.
fn join(dims: &[i64]) -> String {
    dims.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// `torch.Size([3, 4])`, as PyTorch writes a shape in its messages.
fn torch_size(t: &Tensor) -> String {
    python_size(&t.size())
}

fn python_size(dims: &[i64]) -> String {
    format!("torch.Size([{}])", join(dims))
}

impl fmt::Display for MultiheadAttention {
    /// PyTorch's module repr, which shows only the output projection:
    /// `MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)\n)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let linear = self.out_proj.to_string();
        let linear = linear.strip_prefix("Linear").unwrap_or(&linear);
        write!(f, "MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear{linear}\n)")
    }
}
