//! The module specs of the fixtures' JSON (spelled as in PyTorch) and building our modules
//! from them, exactly as scripts/export_reference.py builds PyTorch's.

use serde::Deserialize;
use tch::Tensor;

use tch_rnn::nn::{
    CrossEntropyLoss, CrossEntropyLossConfig, Embedding, EmbeddingConfig, GatedCellConfig, GruCell, Linear,
    LinearConfig, LstmCell, Mode, Nonlinearity, Recurrent, RecurrentConfig, Reduction, RnnCell, RnnCellConfig,
};

/// One module of a model, registered under `prefix` (the root when empty).
#[derive(Clone, Debug, Deserialize)]
pub struct ModelPart {
    pub prefix: String,
    pub module: ModuleSpec,
}

/// A module and its constructor arguments, spelled as in PyTorch.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModuleSpec {
    Rnn(RecurrentSpec),
    Lstm(RecurrentSpec),
    Gru(RecurrentSpec),
    RnnCell {
        input_size: i64,
        hidden_size: i64,
        bias: bool,
        nonlinearity: String,
    },
    LstmCell {
        input_size: i64,
        hidden_size: i64,
        bias: bool,
    },
    GruCell {
        input_size: i64,
        hidden_size: i64,
        bias: bool,
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

/// The arguments of `torch.nn.RNN`, `LSTM` and `GRU`, as the exporter spells them:
/// `nonlinearity` only for an RNN, `proj_size` only for an LSTM.
#[derive(Clone, Debug, Deserialize)]
pub struct RecurrentSpec {
    pub input_size: i64,
    pub hidden_size: i64,
    pub num_layers: i64,
    pub nonlinearity: Option<String>,
    pub bias: bool,
    pub batch_first: bool,
    pub dropout: f64,
    pub bidirectional: bool,
    #[serde(default)]
    pub proj_size: i64,
}

impl RecurrentSpec {
    /// The [`RecurrentConfig`] of this spec for a module of `kind` (`rnn`, `lstm`, `gru`), which
    /// the typed `RnnConfig`, `LstmConfig` and `GruConfig` convert to.
    fn config(&self, kind: &str) -> anyhow::Result<RecurrentConfig> {
        let mode = match (kind, &self.nonlinearity) {
            ("rnn", Some(nonlinearity)) => Mode::from(nonlinearity.parse::<Nonlinearity>()?),
            ("lstm", None) => Mode::Lstm,
            ("gru", None) => Mode::Gru,
            _ => anyhow::bail!("a {kind} spec with nonlinearity {:?}", self.nonlinearity),
        };
        let RecurrentSpec { num_layers, bias, batch_first, dropout, bidirectional, proj_size, .. } = *self;
        let base = RecurrentConfig::new(mode, self.input_size, self.hidden_size);
        Ok(RecurrentConfig { num_layers, bias, batch_first, dropout, bidirectional, proj_size, ..base })
    }
}

/// A module built from a [`ModuleSpec`].
#[derive(Debug)]
pub enum Module {
    /// An RNN, LSTM or GRU.
    Recurrent(Recurrent),
    RnnCell(RnnCell),
    LstmCell(LstmCell),
    GruCell(GruCell),
    Embedding(Embedding),
    Linear(Linear),
    CrossEntropy(CrossEntropyLoss),
}

impl Module {
    /// A multi-layer recurrent module's parameter names, in its flat-weight order.
    pub fn flat_weight_names(&self) -> Option<Vec<&str>> {
        match self {
            Module::Recurrent(m) => Some(m.named_parameters().map(|(n, _)| n).collect()),
            _ => None,
        }
    }

    /// Sets a multi-layer recurrent module's train/eval mode; `false` for the others.
    pub fn set_training(&mut self, training: bool) -> bool {
        match self {
            Module::Recurrent(m) => m.train(training),
            _ => return false,
        }
        true
    }
}

impl ModuleSpec {
    /// The spec's `kind` tag, as in the JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            ModuleSpec::Rnn(_) => "rnn",
            ModuleSpec::Lstm(_) => "lstm",
            ModuleSpec::Gru(_) => "gru",
            ModuleSpec::RnnCell { .. } => "rnn_cell",
            ModuleSpec::LstmCell { .. } => "lstm_cell",
            ModuleSpec::GruCell { .. } => "gru_cell",
            ModuleSpec::Embedding { .. } => "embedding",
            ModuleSpec::Linear { .. } => "linear",
            ModuleSpec::CrossEntropy { .. } => "cross_entropy",
        }
    }

    /// Whether the module takes input as `(batch, seq, feature)`.
    pub fn batch_first(&self) -> bool {
        self.recurrent().is_some_and(|spec| spec.batch_first)
    }

    /// The recurrent spec of an RNN, LSTM or GRU.
    pub fn recurrent(&self) -> Option<&RecurrentSpec> {
        match self {
            ModuleSpec::Rnn(spec) | ModuleSpec::Lstm(spec) | ModuleSpec::Gru(spec) => Some(spec),
            _ => None,
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
        Ok(match self.clone() {
            ModuleSpec::Rnn(spec) | ModuleSpec::Lstm(spec) | ModuleSpec::Gru(spec) => {
                Module::Recurrent(Recurrent::new(path, spec.config(self.kind())?)?)
            }
            ModuleSpec::RnnCell { input_size, hidden_size, bias, nonlinearity } => {
                let nonlinearity = nonlinearity.parse::<Nonlinearity>()?;
                Module::RnnCell(RnnCell::new(path, RnnCellConfig { input_size, hidden_size, bias, nonlinearity })?)
            }
            ModuleSpec::LstmCell { input_size, hidden_size, bias } => {
                Module::LstmCell(LstmCell::new(path, GatedCellConfig { input_size, hidden_size, bias })?)
            }
            ModuleSpec::GruCell { input_size, hidden_size, bias } => {
                Module::GruCell(GruCell::new(path, GatedCellConfig { input_size, hidden_size, bias })?)
            }
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
                let config = EmbeddingConfig { padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse };
                match (pretrained_freeze, pretrained) {
                    (None, None) => Module::Embedding(Embedding::new(path, num_embeddings, embedding_dim, config)?),
                    (Some(freeze), Some(table)) => {
                        Module::Embedding(Embedding::from_pretrained(path, table, freeze, config)?)
                    }
                    _ => anyhow::bail!("spec {self:?}: pretrained table given: {}", pretrained.is_some()),
                }
            }
            ModuleSpec::Linear { in_features, out_features, bias } => {
                Module::Linear(Linear::new(path, in_features, out_features, LinearConfig { bias })?)
            }
            ModuleSpec::CrossEntropy { weight, ignore_index, reduction, label_smoothing } => {
                anyhow::ensure!(
                    weight == class_weight.is_some(),
                    "spec {self:?}: class weight given: {}",
                    class_weight.is_some()
                );
                Module::CrossEntropy(CrossEntropyLoss::new(CrossEntropyLossConfig {
                    weight: class_weight,
                    ignore_index,
                    reduction: parse_reduction(&reduction)?,
                    label_smoothing,
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
