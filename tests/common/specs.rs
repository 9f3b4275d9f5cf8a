//! The module specs of the fixtures' JSON (spelled as in PyTorch) and building our modules
//! from them, exactly as scripts/export_reference.py builds PyTorch's.

use serde::Deserialize;
use tch::Tensor;

use tch_rnn::nn::{
    CrossEntropyLoss, CrossEntropyLossConfig, Embedding, EmbeddingConfig, Linear, LinearConfig, Nonlinearity,
    Reduction, Rnn, RnnCell, RnnCellConfig, RnnConfig,
};

/// One module of a model, registered under `prefix` (the root when empty).
#[derive(Debug, Deserialize)]
pub struct ModelPart {
    pub prefix: String,
    pub module: ModuleSpec,
}

/// A module and its constructor arguments, spelled as in PyTorch.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModuleSpec {
    Rnn {
        input_size: i64,
        hidden_size: i64,
        num_layers: i64,
        nonlinearity: String,
        bias: bool,
        batch_first: bool,
        dropout: f64,
        bidirectional: bool,
    },
    RnnCell {
        input_size: i64,
        hidden_size: i64,
        bias: bool,
        nonlinearity: String,
    },
    Embedding {
        num_embeddings: i64,
        embedding_dim: i64,
        padding_idx: Option<i64>,
        max_norm: Option<f64>,
        norm_type: f64,
        scale_grad_by_freq: bool,
        sparse: bool,
        /// `Some(freeze)`: built with `Embedding.from_pretrained(weight, freeze)`.
        pretrained_freeze: Option<bool>,
    },
    Linear {
        in_features: i64,
        out_features: i64,
        bias: bool,
    },
    CrossEntropy {
        /// Whether a class `weight` tensor is given.
        weight: bool,
        ignore_index: i64,
        reduction: String,
        label_smoothing: f64,
    },
}

/// A module built from a [`ModuleSpec`].
#[derive(Debug)]
pub enum Module {
    Rnn(Rnn),
    RnnCell(RnnCell),
    Embedding(Embedding),
    Linear(Linear),
    CrossEntropy(CrossEntropyLoss),
}

impl ModuleSpec {
    /// The spec's `kind` tag, as in the JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            ModuleSpec::Rnn { .. } => "rnn",
            ModuleSpec::RnnCell { .. } => "rnn_cell",
            ModuleSpec::Embedding { .. } => "embedding",
            ModuleSpec::Linear { .. } => "linear",
            ModuleSpec::CrossEntropy { .. } => "cross_entropy",
        }
    }

    /// Builds the module under `path`. `pretrained` is the table for
    /// `Embedding::from_pretrained`, `class_weight` CrossEntropyLoss's `weight`; each must be
    /// given exactly when the spec asks for it.
    pub fn build(
        &self,
        path: &tch::nn::Path,
        pretrained: Option<&Tensor>,
        class_weight: Option<Tensor>,
    ) -> anyhow::Result<Module> {
        Ok(match self {
            ModuleSpec::Rnn {
                input_size,
                hidden_size,
                num_layers,
                nonlinearity,
                bias,
                batch_first,
                dropout,
                bidirectional,
            } => Module::Rnn(Rnn::new(
                path,
                RnnConfig {
                    input_size: *input_size,
                    hidden_size: *hidden_size,
                    num_layers: *num_layers,
                    nonlinearity: nonlinearity.parse::<Nonlinearity>()?,
                    bias: *bias,
                    batch_first: *batch_first,
                    dropout: *dropout,
                    bidirectional: *bidirectional,
                },
            )?),
            ModuleSpec::RnnCell { input_size, hidden_size, bias, nonlinearity } => Module::RnnCell(RnnCell::new(
                path,
                RnnCellConfig {
                    input_size: *input_size,
                    hidden_size: *hidden_size,
                    bias: *bias,
                    nonlinearity: nonlinearity.parse::<Nonlinearity>()?,
                },
            )?),
            ModuleSpec::Embedding {
                num_embeddings,
                embedding_dim,
                padding_idx,
                max_norm,
                norm_type,
                scale_grad_by_freq,
                sparse,
                pretrained_freeze,
            } => {
                let config = EmbeddingConfig {
                    padding_idx: *padding_idx,
                    max_norm: *max_norm,
                    norm_type: *norm_type,
                    scale_grad_by_freq: *scale_grad_by_freq,
                    sparse: *sparse,
                };
                match (pretrained_freeze, pretrained) {
                    (None, None) => Module::Embedding(Embedding::new(path, *num_embeddings, *embedding_dim, config)?),
                    (Some(freeze), Some(table)) => {
                        Module::Embedding(Embedding::from_pretrained(path, table, *freeze, config)?)
                    }
                    _ => anyhow::bail!("spec {self:?}: pretrained table given: {}", pretrained.is_some()),
                }
            }
            ModuleSpec::Linear { in_features, out_features, bias } => {
                Module::Linear(Linear::new(path, *in_features, *out_features, LinearConfig { bias: *bias })?)
            }
            ModuleSpec::CrossEntropy { weight, ignore_index, reduction, label_smoothing } => {
                anyhow::ensure!(
                    *weight == class_weight.is_some(),
                    "spec {self:?}: class weight given: {}",
                    class_weight.is_some()
                );
                Module::CrossEntropy(CrossEntropyLoss::new(CrossEntropyLossConfig {
                    weight: class_weight,
                    ignore_index: *ignore_index,
                    reduction: parse_reduction(reduction)?,
                    label_smoothing: *label_smoothing,
                })?)
            }
        })
    }
}

/// PyTorch's `reduction=` spelling.
pub fn parse_reduction(s: &str) -> anyhow::Result<Reduction> {
    Ok(match s {
        "none" => Reduction::None,
        "mean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        other => anyhow::bail!("unknown reduction '{other}'"),
    })
}

/// Builds the parts of a model in order (as PyTorch's constructor would), each under its
/// prefix; for models of plain modules only (no pretrained table or class weight).
pub fn build_model(vs: &tch::nn::VarStore, parts: &[ModelPart]) -> anyhow::Result<Vec<Module>> {
    parts
        .iter()
        .map(|part| {
            let path = if part.prefix.is_empty() { vs.root() } else { vs.root() / part.prefix.as_str() };
            part.module.build(&path, None, None)
        })
        .collect()
}
