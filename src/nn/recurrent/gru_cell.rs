//! `torch.nn.GRUCell`: one step of a GRU over libtorch's native `gru_cell`.

use std::borrow::Borrow;
use std::fmt;

use anyhow::Result;
use tch::Tensor;
use tch::nn::Path;

use super::cell_base::{GatedCellConfig, RnnCellBase};
use super::mode::Mode;
use super::state::single;

/// The arguments of `torch.nn.GRUCell(...)`: [`GatedCellConfig`].
///
/// ```
/// let config = tch_rnn::nn::GruCellConfig { input_size: 4, ..Default::default() };
/// assert!(config.bias);
/// ```
pub type GruCellConfig = GatedCellConfig;

/// A GRU cell, `torch.nn.GRUCell`: one step of [`Gru`](crate::nn::Gru)'s recurrence,
///
/// ```text
/// r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) h' = (1 - z) * n + z * h
/// ```
///
/// Parameters, as in PyTorch's `state_dict`: `weight_ih (3 * hidden, input)`,
/// `weight_hh (3 * hidden, hidden)`, `bias_ih`, `bias_hh (3 * hidden)` (gates r, z, n
/// stacked), drawn in that order from U(-1/sqrt(hidden), 1/sqrt(hidden)).
///
/// # Shapes
/// - input: `(N, H_in)` or unbatched `(H_in)`
/// - hidden (optional, zeros if omitted): `(N, H_out)` or unbatched `(H_out)`
/// - returns h': like hidden.
///
/// ```
/// use tch::{nn::VarStore, Device, Kind, Tensor};
/// use tch_rnn::nn::{GruCell, GruCellConfig};
/// let vs = VarStore::new(Device::Cpu);
/// let cell = GruCell::new(vs.root(), GruCellConfig { input_size: 4, hidden_size: 2, ..Default::default() })?;
/// let hidden = cell.forward(&Tensor::randn([4], (Kind::Float, Device::Cpu)), None)?;
/// assert_eq!(hidden.size(), [2]);
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct GruCell {
    base: RnnCellBase,
}

impl GruCell {
    /// Creates the cell's parameters under `path` and initialises them as PyTorch does.
    pub fn new<'a>(path: impl Borrow<Path<'a>>, config: GruCellConfig) -> Result<Self> {
        let GruCellConfig { input_size, hidden_size, bias } = config;
        Ok(GruCell { base: RnnCellBase::new(path.borrow(), Mode::Gru, input_size, hidden_size, bias)? })
    }

    /// One step: returns the next hidden state. See the type's docs for shapes.
    pub fn forward(&self, input: &Tensor, hx: Option<&Tensor>) -> Result<Tensor> {
        Ok(single(self.base.forward(input, hx.as_slice())?))
    }
}

impl fmt::Display for GruCell {
    /// PyTorch's module repr, e.g. `GRUCell(4, 2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GRUCell({})", self.base.extra_repr())
    }
}
