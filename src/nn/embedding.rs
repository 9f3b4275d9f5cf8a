//! `torch.nn.Embedding`: a lookup table over libtorch's native `embedding`.

use std::fmt;

use anyhow::{Result, ensure};
use std::borrow::Borrow;
use tch::Tensor;

use tch::nn::Path;

use crate::error::guard;
use crate::nn::check::{
    EMBEDDING_INDEX_KINDS, ensure_defined, ensure_device, ensure_index, ensure_indices_in_range, shape,
};
use crate::nn::init;
use crate::nn::param::{add_parameter, new_parameter};

/// The keyword arguments of `torch.nn.Embedding(num_embeddings, embedding_dim, ...)`.
///
/// ```
/// use tch_rnn::nn::EmbeddingConfig;
/// let config = EmbeddingConfig { padding_idx: Some(0), ..Default::default() };
/// assert_eq!((config.norm_type, config.sparse), (2.0, false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EmbeddingConfig {
    /// Row whose entries get no gradient (and start at zero); negative values count from the
    /// end, as in PyTorch. Default: `None`.
    pub padding_idx: Option<i64>,
    /// Rows looked up with a norm above this are renormalised in place to `max_norm`.
    /// Default: `None`.
    pub max_norm: Option<f64>,
    /// The p of the p-norm used with `max_norm`. Default: 2.
    pub norm_type: f64,
    /// Scale gradients by the inverse frequency of the indices in the mini-batch.
    /// Default: `false`.
    pub scale_grad_by_freq: bool,
    /// Produce a sparse gradient for `weight`. Default: `false`.
    pub sparse: bool,
}

impl Default for EmbeddingConfig {
    fn default() -> Self {
        EmbeddingConfig { padding_idx: None, max_norm: None, norm_type: 2.0, scale_grad_by_freq: false, sparse: false }
    }
}

/// A lookup table of `num_embeddings` vectors of size `embedding_dim`, `torch.nn.Embedding`.
///
/// Parameter: `weight (num_embeddings, embedding_dim)` from N(0, 1), the `padding_idx` row
/// then zeroed.
///
/// # Shapes
/// - input: integer indices of any shape `(*)`; output: `(*, embedding_dim)`.
///
/// ```
/// use tch::{nn::VarStore, Device, Tensor};
/// use tch_rnn::nn::Embedding;
/// let vs = VarStore::new(Device::Cpu);
/// let emb = Embedding::new(vs.root() / "emb", 4, 10, Default::default())?;
/// assert_eq!(emb.forward(&Tensor::from_slice(&[1i64, 0, 2, 2, 3]).view([1, 5]))?.size(), [1, 5, 10]);
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct Embedding {
    /// `(num_embeddings, embedding_dim)`.
    pub weight: Tensor,
    num_embeddings: i64,
    embedding_dim: i64,
    config: EmbeddingConfig,
}

impl Embedding {
    /// Creates `weight` under `path`, drawn from N(0, 1) as PyTorch does.
    pub fn new<'a>(
        path: impl Borrow<Path<'a>>,
        num_embeddings: i64,
        embedding_dim: i64,
        config: EmbeddingConfig,
    ) -> Result<Self> {
        let path = path.borrow();
        guard("Embedding", || {
            let config = Self::normalized(num_embeddings, embedding_dim, config)?;
            let mut weight = new_parameter(path, "Embedding", "weight", &[num_embeddings, embedding_dim])?;
            init::normal_(&mut weight, 0.0, 1.0);
            if let Some(row) = config.padding_idx {
                let _ = tch::no_grad(|| weight.get(row).fill_(0.0));
            }
            Ok(Embedding { weight, num_embeddings, embedding_dim, config })
        })
    }

    /// `torch.nn.Embedding.from_pretrained(embeddings, freeze, ...)`: uses a copy of
    /// `embeddings` `(num_embeddings, embedding_dim)` as `weight`, trainable unless `freeze`.
    /// The padding row is kept as given, as in PyTorch.
    ///
    /// ```
    /// use tch::{nn::VarStore, Device, Tensor};
    /// use tch_rnn::nn::Embedding;
    /// let vs = VarStore::new(Device::Cpu);
    /// let table = Tensor::from_slice(&[1.0f32, 2.3, 3.0, 4.0, 5.1, 6.3]).view([2, 3]);
    /// let emb = Embedding::from_pretrained(vs.root(), &table, true, Default::default())?;
    /// assert!(!emb.weight.requires_grad());
    /// # anyhow::Ok(())
    /// ```
    pub fn from_pretrained<'a>(
        path: impl Borrow<Path<'a>>,
        embeddings: &Tensor,
        freeze: bool,
        config: EmbeddingConfig,
    ) -> Result<Self> {
        let path = path.borrow();
        guard("Embedding", || {
            ensure_defined("Embedding", "embeddings", embeddings)?;
            ensure!(
                embeddings.dim() == 2,
                "Embedding: Embeddings parameter is expected to be 2-dimensional, got shape {}",
                shape(embeddings)
            );
            let (num_embeddings, embedding_dim) = (embeddings.size()[0], embeddings.size()[1]);
            let config = Self::normalized(num_embeddings, embedding_dim, config)?;
            let value = embeddings.f_to_device(path.device())?.f_detach_copy()?;
            let weight = add_parameter(path, "Embedding", "weight", value, !freeze)?;
            Ok(Embedding { weight, num_embeddings, embedding_dim, config })
        })
    }

    /// Checks the sizes and turns a negative `padding_idx` into a row number, as PyTorch does.
    fn normalized(num_embeddings: i64, embedding_dim: i64, mut config: EmbeddingConfig) -> Result<EmbeddingConfig> {
        ensure!(
            num_embeddings >= 0 && embedding_dim >= 0,
            "Embedding: expected non-negative num_embeddings and embedding_dim, got {num_embeddings} and {embedding_dim}"
        );
        if let Some(idx) = config.padding_idx {
            ensure!(
                (-num_embeddings..num_embeddings).contains(&idx),
                "Embedding: padding_idx must be within num_embeddings: expected a value in [{}, {}], got {idx}",
                -num_embeddings,
                num_embeddings - 1
            );
            config.padding_idx = Some(if idx < 0 { num_embeddings + idx } else { idx });
        }
        Ok(config)
    }

    /// Looks up the rows named by `input` (renormalising them first when `max_norm` is set).
    pub fn forward(&self, input: &Tensor) -> Result<Tensor> {
        guard("Embedding", || {
            ensure_index("Embedding", "input", input, EMBEDDING_INDEX_KINDS)?;
            ensure_device("Embedding", "input", input, self.weight.device())?;
            ensure_indices_in_range("Embedding", "index", input, 0, self.num_embeddings, None)?;
            let c = &self.config;
            let input = if let Some(max_norm) = c.max_norm {
                let input = input.f_contiguous()?;
                let mut weight = self.weight.shallow_clone();
                let _ = tch::no_grad(|| weight.f_embedding_renorm_(&input, max_norm, c.norm_type))?;
                input
            } else {
                input.shallow_clone()
            };
            let padding_idx = c.padding_idx.unwrap_or(-1);
            Ok(Tensor::f_embedding(&self.weight, &input, padding_idx, c.scale_grad_by_freq, c.sparse)?)
        })
    }
}

impl fmt::Display for Embedding {
    /// PyTorch's module repr, e.g. `Embedding(4, 10, padding_idx=0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        write!(f, "Embedding({}, {}", self.num_embeddings, self.embedding_dim)?;
        if let Some(p) = c.padding_idx {
            write!(f, ", padding_idx={p}")?;
        }
        if let Some(m) = c.max_norm {
            write!(f, ", max_norm={m:?}")?;
        }
        if c.norm_type != 2.0 {
            write!(f, ", norm_type={:?}", c.norm_type)?;
        }
        if c.scale_grad_by_freq {
            write!(f, ", scale_grad_by_freq=True")?;
        }
        if c.sparse {
            write!(f, ", sparse=True")?;
        }
        f.write_str(")")
    }
}
