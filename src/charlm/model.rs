//! The character model: Embedding -> RNN | LSTM | GRU (batch first) -> Linear, the tutorial's
//! section 3.3 model grown up, with PyTorch's parameter names (`emb.weight`, `rnn.weight_ih_l0`,
//! ..., `fc.bias`), so that `scripts/pytorch/char_model.py` holds the same model.

use std::fmt;
use std::str::FromStr;

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};
use tch::Tensor;
use tch::nn::Path;

use crate::nn::{Embedding, Linear, Mode, Recurrent, RecurrentConfig, RecurrentState};
use crate::options::{Domain, OptionError, option_group, validate};

/// The kind of a character model's recurrent layer, as `config.json` and `--cell` spell it.
///
/// ```
/// use tch_rnn::charlm::Layer;
/// assert_eq!("lstm".parse::<Layer>()?, Layer::Lstm);
/// assert_eq!(Layer::Gru.to_string(), "gru");
/// assert_eq!(Layer::Rnn.mode(), tch_rnn::nn::Mode::RnnTanh);
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// `torch.nn.RNN` (tanh).
    Rnn,
    /// `torch.nn.LSTM`.
    Lstm,
    /// `torch.nn.GRU`.
    Gru,
}

impl Layer {
    /// The recurrence of the [`Recurrent`] module this layer is.
    pub fn mode(self) -> Mode {
        match self {
            Layer::Rnn => Mode::RnnTanh,
            Layer::Lstm => Mode::Lstm,
            Layer::Gru => Mode::Gru,
        }
    }
}

impl FromStr for Layer {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "rnn" => Ok(Layer::Rnn),
            "lstm" => Ok(Layer::Lstm),
            "gru" => Ok(Layer::Gru),
            other => bail!("expected rnn, lstm or gru, got '{other}'"),
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Rnn => "rnn",
            Layer::Lstm => "lstm",
            Layer::Gru => "gru",
        })
    }
}

option_group! {
    /// The shape of a character model: the `model` group of `config.json`, and the model's
    /// flags of `tch-rnn train`. Its size in characters (`vocab_size`) is the vocabulary's.
    ///
    /// ```
    /// use tch_rnn::charlm::{Layer, ModelOptions};
    /// let options = ModelOptions { cell: Layer::Gru, hidden: 128, ..Default::default() };
    /// assert_eq!((options.layers, options.embedding), (2, 64));
    /// assert!(tch_rnn::options::validate(&ModelOptions { hidden: 1 << 30, ..options }).is_err());
    /// ```
    pub struct ModelOptions {
        /// The recurrent layer.
        cell: Layer = Layer::Lstm, Domain::Choice(&["rnn", "lstm", "gru"]), Keep;
        /// Stacked recurrent layers.
        layers: i64 = 2, Domain::Integer { min: 1 }, Keep;
        /// Hidden size of the recurrent layers.
        hidden: i64 = 256, Domain::Integer { min: 1 }, Keep;
        /// Size of each character's embedding.
        embedding: i64 = 64, Domain::Integer { min: 1 }, Keep;
        /// Dropout between recurrent layers, in training.
        dropout: f64 = 0.0, Domain::Number { min: 0.0, inclusive: true, below: Some(1.0) }, Keep;
    }
}

/// The largest size of a character model's layers, embedding and vocabulary.
pub const MAX_SIZE: i64 = 1 << 20;

impl ModelOptions {
    /// Sizes small enough to allocate.
    fn rules(&self) -> Result<()> {
        for (field, value) in [("layers", self.layers), ("hidden", self.hidden), ("embedding", self.embedding)] {
            if value > MAX_SIZE {
                return Err(OptionError::new(field, format!("{value} is too large (at most {MAX_SIZE})")).into());
            }
        }
        Ok(())
    }
}

/// Embedding -> recurrent layers -> Linear over characters, batch first.
///
/// ```
/// use tch::{nn::VarStore, Device, Tensor};
/// use tch_rnn::charlm::{CharModel, Layer, ModelOptions};
/// let vs = VarStore::new(Device::Cpu);
/// let options = ModelOptions { cell: Layer::Gru, embedding: 4, hidden: 8, ..Default::default() };
/// let model = CharModel::new(&vs.root(), &options, 5)?;
/// let (logits, _state) = model.forward(&Tensor::from_slice(&[1i64, 4, 2]).view([1, 3]), None)?;
/// assert_eq!(logits.size(), [1, 3, 5]);
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct CharModel {
    pub options: ModelOptions,
    /// Characters in the vocabulary: the embedding's rows and the output's classes.
    pub vocab_size: i64,
    emb: Embedding,
    rnn: Recurrent,
    fc: Linear,
}

impl CharModel {
    /// Builds `emb`, `rnn` and `fc` under `path`, in that order, initialised as PyTorch does,
    /// for a vocabulary of `vocab_size` characters.
    pub fn new(path: &Path, options: &ModelOptions, vocab_size: i64) -> Result<Self> {
        validate(options)?;
        ensure!(
            (1..=MAX_SIZE).contains(&vocab_size),
            "char model: the vocabulary must hold 1 to {MAX_SIZE} characters, got {vocab_size}"
        );
        let ModelOptions { cell, layers, hidden, embedding, dropout } = *options;
        let emb = Embedding::new(path / "emb", vocab_size, embedding, Default::default())?;
        let rnn = Recurrent::new(
            path / "rnn",
            RecurrentConfig {
                num_layers: layers,
                dropout,
                batch_first: true,
                ..RecurrentConfig::new(cell.mode(), embedding, hidden)
            },
        )?;
        let fc = Linear::new(path / "fc", hidden, vocab_size, Default::default())?;
        Ok(CharModel { options: options.clone(), vocab_size, emb, rnn, fc })
    }

    /// Logits `(batch, seq, vocab)` for character indices `x` `(batch, seq)`, from `state` (zeros
    /// if `None`), and the state after the last character.
    pub fn forward(&self, x: &Tensor, state: Option<&RecurrentState>) -> Result<(Tensor, RecurrentState)> {
        let embedded = self.emb.forward(x)?;
        let (output, state) = self.rnn.forward(&embedded, state).context("char model")?;
        Ok((self.fc.forward(&output)?, state))
    }

    /// The parameters with their `state_dict` names, in PyTorch's `model.parameters()` order
    /// (`emb.weight`, the recurrent layer's flat weights, `fc.weight`, `fc.bias`): the order
    /// that gradient clipping sums their norms in.
    pub fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut named = vec![("emb.weight".to_string(), self.emb.weight.shallow_clone())];
        named.extend(self.rnn.named_parameters().map(|(n, t)| (format!("rnn.{n}"), t.shallow_clone())));
        named.push(("fc.weight".to_string(), self.fc.weight.shallow_clone()));
        named.extend(self.fc.bias.as_ref().map(|b| ("fc.bias".to_string(), b.shallow_clone())));
        named
    }

    /// Training mode (dropout between layers on) or evaluation mode.
    pub fn train(&mut self, mode: bool) {
        self.rnn.train(mode);
    }
}
