//! The recurrence a module or cell runs, PyTorch's `mode`: everything that differs between RNN,
//! LSTM and GRU beyond the native op is data here (gate count, state size, names).

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, ensure};

use super::nonlinearity::Nonlinearity;

/// The recurrence a [`Recurrent`](crate::nn::Recurrent) module runs: PyTorch's `RNNBase(mode)`,
/// spelled as PyTorch spells it (`"RNN_TANH"`, `"RNN_RELU"`, `"LSTM"`, `"GRU"`), so that a
/// layer can be picked by name as `word_language_model` picks it.
///
/// ```
/// use tch_rnn::nn::Mode;
/// assert_eq!("LSTM".parse::<Mode>()?, Mode::Lstm);
/// assert_eq!(Mode::RnnRelu.to_string(), "RNN_RELU");
/// assert_eq!((Mode::Gru.gate_count(), Mode::Lstm.state_count()), (3, 2));
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `torch.nn.RNN(nonlinearity="tanh")`: native `rnn_tanh`.
    RnnTanh,
    /// `torch.nn.RNN(nonlinearity="relu")`: native `rnn_relu`.
    RnnRelu,
    /// `torch.nn.LSTM`: native `lstm`, state `(h, c)`.
    Lstm,
    /// `torch.nn.GRU`: native `gru`.
    Gru,
}

impl Mode {
    /// Gate blocks per layer: the rows of `weight_ih` are `gate_count * hidden_size`.
    pub fn gate_count(self) -> i64 {
        match self {
            Mode::RnnTanh | Mode::RnnRelu => 1,
            Mode::Lstm => 4,
            Mode::Gru => 3,
        }
    }

    /// The multi-layer module's name in messages and reprs: `RNN`, `LSTM` or `GRU`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::RnnTanh | Mode::RnnRelu => "RNN",
            Mode::Lstm => "LSTM",
            Mode::Gru => "GRU",
        }
    }

    /// The cell's name in messages and reprs.
    pub(crate) fn cell_name(self) -> &'static str {
        match self {
            Mode::RnnTanh | Mode::RnnRelu => "RNNCell",
            Mode::Lstm => "LSTMCell",
            Mode::Gru => "GRUCell",
        }
    }

    /// How many tensors the state holds: 2, `(h, c)`, for LSTM; 1, `h`, otherwise.
    pub fn state_count(self) -> usize {
        if self == Mode::Lstm { 2 } else { 1 }
    }

    /// A state is either absent or whole (`given` tensors); anything else is refused for
    /// `module`.
    pub(crate) fn ensure_state_count(self, module: &str, given: usize) -> Result<()> {
        let expected = self.state_count();
        ensure!(given == 0 || given == expected, "{module}: expected {expected} state tensor(s), got {given}");
        Ok(())
    }
}

impl From<Nonlinearity> for Mode {
    fn from(nonlinearity: Nonlinearity) -> Self {
        match nonlinearity {
            Nonlinearity::Tanh => Mode::RnnTanh,
            Nonlinearity::Relu => Mode::RnnRelu,
        }
    }
}

impl fmt::Display for Mode {
    /// PyTorch's spelling of the mode.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::RnnTanh => "RNN_TANH",
            Mode::RnnRelu => "RNN_RELU",
            Mode::Lstm => "LSTM",
            Mode::Gru => "GRU",
        })
    }
}

impl FromStr for Mode {
    type Err = anyhow::Error;

    /// Parses PyTorch's spelling, with PyTorch's message for anything else.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "RNN_TANH" => Ok(Mode::RnnTanh),
            "RNN_RELU" => Ok(Mode::RnnRelu),
            "LSTM" => Ok(Mode::Lstm),
            "GRU" => Ok(Mode::Gru),
            other => anyhow::bail!("RNN: Unrecognized RNN mode: {other} (expected RNN_TANH, RNN_RELU, LSTM or GRU)"),
        }
    }
}
