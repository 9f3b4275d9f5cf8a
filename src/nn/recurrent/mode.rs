//! The recurrence a module or cell runs, PyTorch's `mode`: everything that differs between RNN,
//! LSTM and GRU beyond the native op is data here (gate count, state size, names).

use anyhow::{Result, ensure};

use super::nonlinearity::Nonlinearity;

/// The recurrence a module runs: PyTorch's `mode`, as data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    RnnTanh,
    RnnRelu,
    Lstm,
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

    /// The multi-layer module's name in messages and reprs.
    pub fn name(self) -> &'static str {
        match self {
            Mode::RnnTanh | Mode::RnnRelu => "RNN",
            Mode::Lstm => "LSTM",
            Mode::Gru => "GRU",
        }
    }

    /// The cell's name in messages and reprs.
    pub fn cell_name(self) -> &'static str {
        match self {
            Mode::RnnTanh | Mode::RnnRelu => "RNNCell",
            Mode::Lstm => "LSTMCell",
            Mode::Gru => "GRUCell",
        }
    }

    /// How many tensors the state holds: `(h, c)` for LSTM, `h` otherwise.
    pub fn state_count(self) -> usize {
        if self == Mode::Lstm { 2 } else { 1 }
    }

    /// The typed public APIs pass no state or a whole one (`given` tensors); anything else is a
    /// bug of this crate, reported for `module`.
    pub fn ensure_state_count(self, module: &str, given: usize) -> Result<()> {
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
