//! The character model: Embedding -> RNN | LSTM | GRU (batch first) -> Linear, the tutorial's
//! section 3.3 model grown up, with PyTorch's parameter names (`emb.weight`, `rnn.weight_ih_l0`,
//! ..., `fc.bias`), so that `scripts/pytorch/char_model.py` holds the same model.

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail, ensure};
use serde::{Deserialize, Serialize};
use tch::Tensor;
use tch::nn::Path;

use crate::nn::{Embedding, Gru, GruConfig, Linear, Lstm, LstmConfig, Rnn, RnnConfig};

/// The recurrent layer of a character model.
///
/// ```
/// use tch_rnn::charlm::Cell;
/// assert_eq!("lstm".parse::<Cell>()?, Cell::Lstm);
/// assert_eq!(Cell::Gru.to_string(), "gru");
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Cell {
    /// `torch.nn.RNN` (tanh).
    Rnn,
    /// `torch.nn.LSTM`.
    Lstm,
    /// `torch.nn.GRU`.
    Gru,
}

impl FromStr for Cell {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "rnn" => Ok(Cell::Rnn),
            "lstm" => Ok(Cell::Lstm),
            "gru" => Ok(Cell::Gru),
            other => bail!("expected rnn, lstm or gru, got '{other}'"),
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cell::Rnn => "rnn",
            Cell::Lstm => "lstm",
            Cell::Gru => "gru",
        })
    }
}

/// The shape of a character model, as a checkpoint's `config.json` stores it.
///
/// ```
/// use tch_rnn::charlm::{Cell, ModelConfig};
/// let config = ModelConfig { cell: Cell::Lstm, vocab_size: 65, embedding: 64, hidden: 256, layers: 2, dropout: 0.0 };
/// assert!(config.validate().is_ok());
/// assert!(ModelConfig { hidden: 0, ..config }.validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub cell: Cell,
    /// Characters in the vocabulary: the embedding's rows and the output's classes.
    pub vocab_size: i64,
    /// The size of each character's embedding.
    pub embedding: i64,
    /// The recurrent layers' hidden size.
    pub hidden: i64,
    /// Stacked recurrent layers.
    pub layers: i64,
    /// Dropout between recurrent layers, in training.
    pub dropout: f64,
}

impl ModelConfig {
    /// Sizes are positive (and small enough to allocate), dropout is in [0, 1).
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("vocab size", self.vocab_size),
            ("embedding", self.embedding),
            ("hidden", self.hidden),
            ("layers", self.layers),
        ] {
            ensure!(value > 0, "{name} must be positive, got {value}");
            ensure!(value <= 1 << 20, "{name} {value} is too large (at most {})", 1 << 20);
        }
        ensure!((0.0..1.0).contains(&self.dropout), "dropout must be in [0, 1), got {}", self.dropout);
        Ok(())
    }
}

/// The recurrent layer, whichever it is.
#[derive(Debug)]
enum Recurrent {
    Rnn(Rnn),
    Lstm(Lstm),
    Gru(Gru),
}

/// The recurrent state carried from one call to the next (when sampling): `h`, or `(h, c)`.
#[derive(Debug)]
pub enum State {
    Hidden(Tensor),
    HiddenAndCell(Tensor, Tensor),
}

/// Embedding -> recurrent layers -> Linear over characters, batch first.
///
/// ```
/// use tch::{nn::VarStore, Device, Tensor};
/// use tch_rnn::charlm::{CharModel, Cell, ModelConfig};
/// let vs = VarStore::new(Device::Cpu);
/// let config = ModelConfig { cell: Cell::Gru, vocab_size: 5, embedding: 4, hidden: 8, layers: 2, dropout: 0.0 };
/// let model = CharModel::new(&vs.root(), config)?;
/// let (logits, _state) = model.forward(&Tensor::from_slice(&[1i64, 4, 2]).view([1, 3]), None)?;
/// assert_eq!(logits.size(), [1, 3, 5]);
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct CharModel {
    pub config: ModelConfig,
    emb: Embedding,
    rnn: Recurrent,
    fc: Linear,
}

impl CharModel {
    /// Builds `emb`, `rnn` and `fc` under `path`, in that order, initialised as PyTorch does.
    pub fn new(path: &Path, config: ModelConfig) -> Result<Self> {
        config.validate()?;
        let ModelConfig { cell, vocab_size, embedding, hidden, layers, dropout } = config;
        let emb = Embedding::new(path / "emb", vocab_size, embedding, Default::default())?;
        let rnn_path = path / "rnn";
        let rnn = match cell {
            Cell::Rnn => Recurrent::Rnn(Rnn::new(
                rnn_path,
                RnnConfig {
                    input_size: embedding,
                    hidden_size: hidden,
                    num_layers: layers,
                    dropout,
                    batch_first: true,
                    ..Default::default()
                },
            )?),
            Cell::Lstm => Recurrent::Lstm(Lstm::new(
                rnn_path,
                LstmConfig {
                    input_size: embedding,
                    hidden_size: hidden,
                    num_layers: layers,
                    dropout,
                    batch_first: true,
                    ..Default::default()
                },
            )?),
            Cell::Gru => Recurrent::Gru(Gru::new(
                rnn_path,
                GruConfig {
                    input_size: embedding,
                    hidden_size: hidden,
                    num_layers: layers,
                    dropout,
                    batch_first: true,
                    ..Default::default()
                },
            )?),
        };
        let fc = Linear::new(path / "fc", hidden, vocab_size, Default::default())?;
        Ok(CharModel { config, emb, rnn, fc })
    }

    /// Logits `(batch, seq, vocab)` for character indices `x` `(batch, seq)`, from `state` (zeros
    /// if `None`), and the state after the last character.
    pub fn forward(&self, x: &Tensor, state: Option<&State>) -> Result<(Tensor, State)> {
        let embedded = self.emb.forward(x)?;
        let (output, state) = match (&self.rnn, state) {
            (Recurrent::Rnn(rnn), None) => rnn.forward(&embedded, None).map(|(o, h)| (o, State::Hidden(h)))?,
            (Recurrent::Rnn(rnn), Some(State::Hidden(h))) => {
                rnn.forward(&embedded, Some(h)).map(|(o, h)| (o, State::Hidden(h)))?
            }
            (Recurrent::Gru(gru), None) => gru.forward(&embedded, None).map(|(o, h)| (o, State::Hidden(h)))?,
            (Recurrent::Gru(gru), Some(State::Hidden(h))) => {
                gru.forward(&embedded, Some(h)).map(|(o, h)| (o, State::Hidden(h)))?
            }
            (Recurrent::Lstm(lstm), None) => {
                lstm.forward(&embedded, None).map(|(o, (h, c))| (o, State::HiddenAndCell(h, c)))?
            }
            (Recurrent::Lstm(lstm), Some(State::HiddenAndCell(h, c))) => {
                lstm.forward(&embedded, Some((h, c))).map(|(o, (h, c))| (o, State::HiddenAndCell(h, c)))?
            }
            (_, Some(_)) => {
                bail!("char model: a {} state does not fit a {} layer", state_kind(state), self.config.cell)
            }
        };
        Ok((self.fc.forward(&output)?, state))
    }

    /// The parameters with their `state_dict` names, in PyTorch's `model.parameters()` order
    /// (`emb.weight`, the recurrent layer's flat weights, `fc.weight`, `fc.bias`): the order
    /// that gradient clipping sums their norms in.
    pub fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut named = vec![("emb.weight".to_string(), self.emb.weight.shallow_clone())];
        let rnn: Vec<(&str, &Tensor)> = match &self.rnn {
            Recurrent::Rnn(m) => m.named_parameters().collect(),
            Recurrent::Lstm(m) => m.named_parameters().collect(),
            Recurrent::Gru(m) => m.named_parameters().collect(),
        };
        named.extend(rnn.into_iter().map(|(n, t)| (format!("rnn.{n}"), t.shallow_clone())));
        named.push(("fc.weight".to_string(), self.fc.weight.shallow_clone()));
        named.extend(self.fc.bias.as_ref().map(|b| ("fc.bias".to_string(), b.shallow_clone())));
        named
    }

    /// Training mode (dropout between layers on) or evaluation mode.
    pub fn train(&mut self, mode: bool) {
        match &mut self.rnn {
            Recurrent::Rnn(m) => m.train(mode),
            Recurrent::Lstm(m) => m.train(mode),
            Recurrent::Gru(m) => m.train(mode),
        }
    }
}

fn state_kind(state: Option<&State>) -> &'static str {
    match state {
        Some(State::HiddenAndCell(..)) => "(h, c)",
        _ => "one-tensor",
    }
}
