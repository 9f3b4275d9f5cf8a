//! `torch.nn.LSTMCell`: one step of an LSTM over libtorch's native `lstm_cell`.

use std::borrow::Borrow;
use std::fmt;

use anyhow::Result;
use tch::Tensor;
use tch::nn::Path;

use super::cell_base::{GatedCellConfig, RnnCellBase};
use super::mode::Mode;
use super::state::pair;

/// The arguments of `torch.nn.LSTMCell(...)`: [`GatedCellConfig`].
///
/// ```
/// let config = tch_rnn::nn::LstmCellConfig { input_size: 4, hidden_size: 3, bias: false };
/// assert_eq!(config.hidden_size, 3);
/// ```
pub type LstmCellConfig = GatedCellConfig;

/// An LSTM cell, `torch.nn.LSTMCell`: one step of [`Lstm`](crate::nn::Lstm)'s recurrence,
///
/// ```text
/// i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)    f = sigmoid(W_if x + b_if + W_hf h + b_hf)
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg)       o = sigmoid(W_io x + b_io + W_ho h + b_ho)
/// c' = f * c + i * g                            h' = o * tanh(c')
/// ```
///
/// Parameters, as in PyTorch's `state_dict`: `weight_ih (4 * hidden, input)`,
/// `weight_hh (4 * hidden, hidden)`, `bias_ih`, `bias_hh (4 * hidden)` (gates i, f, g, o
/// stacked), drawn in that order from U(-1/sqrt(hidden), 1/sqrt(hidden)).
///
/// # Shapes
/// - input: `(N, H_in)` or unbatched `(H_in)`
/// - `(h, c)` (optional, zeros if omitted): `(N, H_out)` each, or unbatched `(H_out)`
/// - returns `(h', c')`: like `(h, c)`.
///
/// ```
/// use tch::{nn::VarStore, Device, Kind, Tensor};
/// use tch_rnn::nn::{LstmCell, LstmCellConfig};
/// let vs = VarStore::new(Device::Cpu);
/// let cell = LstmCell::new(vs.root(), LstmCellConfig { input_size: 4, hidden_size: 2, ..Default::default() })?;
/// let (h, c) = cell.forward(&Tensor::randn([3, 4], (Kind::Float, Device::Cpu)), None)?;
/// let (h, _) = cell.forward(&Tensor::randn([3, 4], (Kind::Float, Device::Cpu)), Some((&h, &c)))?;
/// assert_eq!(h.size(), [3, 2]);
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct LstmCell {
    base: RnnCellBase,
}

impl LstmCell {
    /// Creates the cell's parameters under `path` and initialises them as PyTorch does.
    pub fn new<'a>(path: impl Borrow<Path<'a>>, config: LstmCellConfig) -> Result<Self> {
        let LstmCellConfig { input_size, hidden_size, bias } = config;
        Ok(LstmCell { base: RnnCellBase::new(path.borrow(), Mode::Lstm, input_size, hidden_size, bias)? })
    }

    /// One step: returns the next `(h, c)`. See the type's docs for shapes.
    pub fn forward(&self, input: &Tensor, hx: Option<(&Tensor, &Tensor)>) -> Result<(Tensor, Tensor)> {
        let hx = hx.map(|(h, c)| [h, c]);
        Ok(pair(self.base.forward(input, hx.as_slice().as_flattened())?))
    }
}

impl fmt::Display for LstmCell {
    /// PyTorch's module repr, e.g. `LSTMCell(4, 2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LSTMCell({})", self.base.extra_repr())
    }
}
