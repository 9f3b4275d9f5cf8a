//! `torch.nn.RNNCell`: one step of an Elman RNN over libtorch's native `rnn_tanh_cell` /
//! `rnn_relu_cell`.

use std::borrow::Borrow;
use std::fmt;

use anyhow::Result;
use tch::Tensor;
use tch::nn::Path;

use super::cell_base::RnnCellBase;
use super::mode::Mode;
use super::nonlinearity::Nonlinearity;
use super::state::single;

/// The arguments of `torch.nn.RNNCell(...)`, each with PyTorch's default.
///
/// `input_size` and `hidden_size` have no default in PyTorch: set them (the zero that
/// `Default` leaves is rejected by [`RnnCell::new`]).
///
/// ```
/// use tch_rnn::nn::{Nonlinearity, RnnCellConfig};
/// let config = RnnCellConfig { input_size: 4, hidden_size: 2, ..Default::default() };
/// assert!(config.bias && config.nonlinearity == Nonlinearity::Tanh);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnCellConfig {
    /// The number of expected features in the input `x`. Required.
    pub input_size: i64,
    /// The number of features in the hidden state `h`. Required.
    pub hidden_size: i64,
    /// Whether the cell uses the biases `b_ih` and `b_hh`. Default: `true`.
    pub bias: bool,
    /// `tanh` or `relu`. Default: [`Nonlinearity::Tanh`].
    pub nonlinearity: Nonlinearity,
}

impl Default for RnnCellConfig {
    fn default() -> Self {
        RnnCellConfig { input_size: 0, hidden_size: 0, bias: true, nonlinearity: Nonlinearity::Tanh }
    }
}

/// An Elman RNN cell, `torch.nn.RNNCell`: `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)` (or relu).
///
/// Parameters, as in PyTorch's `state_dict`: `weight_ih (hidden, input)`,
/// `weight_hh (hidden, hidden)`, `bias_ih`, `bias_hh (hidden)`, drawn in that order from
/// U(-1/sqrt(hidden), 1/sqrt(hidden)).
///
/// # Shapes
/// - input: `(N, H_in)` or unbatched `(H_in)`
/// - hidden (optional, zeros if omitted): `(N, H_out)` or unbatched `(H_out)`
/// - returns h': like hidden.
///
/// ```
/// use tch::{nn::VarStore, Device, Kind, Tensor};
/// use tch_rnn::nn::{RnnCell, RnnCellConfig};
/// let vs = VarStore::new(Device::Cpu);
/// let cell = RnnCell::new(vs.root(), RnnCellConfig { input_size: 4, hidden_size: 2, ..Default::default() })?;
/// let hidden = cell.forward(&Tensor::randn([1, 4], (Kind::Float, Device::Cpu)), None)?;
/// assert_eq!(hidden.size(), [1, 2]);
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct RnnCell {
    base: RnnCellBase,
}

impl RnnCell {
    /// Creates the cell's parameters under `path` and initialises them as PyTorch does.
    pub fn new<'a>(path: impl Borrow<Path<'a>>, config: RnnCellConfig) -> Result<Self> {
        let RnnCellConfig { input_size, hidden_size, bias, nonlinearity } = config;
        Ok(RnnCell { base: RnnCellBase::new(path.borrow(), nonlinearity.into(), input_size, hidden_size, bias)? })
    }

    /// One step: returns the next hidden state. See the type's docs for shapes.
    pub fn forward(&self, input: &Tensor, hx: Option<&Tensor>) -> Result<Tensor> {
        Ok(single(self.base.forward(input, hx.as_slice())?))
    }
}

impl fmt::Display for RnnCell {
    /// PyTorch's module repr, e.g. `RNNCell(4, 2)` or `RNNCell(4, 2, nonlinearity=relu)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RNNCell({}", self.base.extra_repr())?;
        if self.base.mode == Mode::RnnRelu {
            write!(f, ", nonlinearity={}", Nonlinearity::Relu)?;
        }
        f.write_str(")")
    }
}
