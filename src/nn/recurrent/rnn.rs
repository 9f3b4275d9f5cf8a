//! `torch.nn.RNN`: a multi-layer Elman RNN over libtorch's native `rnn_tanh` / `rnn_relu`
//! (and their packed forms).

use std::borrow::Borrow;

use anyhow::Result;
use tch::Tensor;
use tch::nn::Path;

use super::base::{Recurrent, recurrent_module_methods};
use super::config::typed_recurrent_config;
use super::nonlinearity::Nonlinearity;
use super::state::single;
use crate::nn::packed::PackedSequence;

typed_recurrent_config! {
    /// The arguments of `torch.nn.RNN(...)`, each with PyTorch's default.
    ///
    /// `input_size` and `hidden_size` have no default in PyTorch: set them (the zero that
    /// `Default` leaves is rejected by [`Rnn::new`]).
    ///
    /// ```
    /// use tch_rnn::nn::RnnConfig;
    /// let config = RnnConfig { input_size: 4, hidden_size: 2, num_layers: 2, ..Default::default() };
    /// assert!(config.bias && !config.batch_first && !config.bidirectional);
    /// ```
    RnnConfig {
        /// `tanh` or `relu`. Default: [`Nonlinearity::Tanh`].
        nonlinearity: Nonlinearity = Nonlinearity::Tanh,
    }
    |c| mode: c.nonlinearity.into(), proj_size: 0
}

/// A multi-layer Elman RNN, `torch.nn.RNN`:
/// `h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)` (or relu) for each layer, the
/// outputs of one layer being the inputs of the next.
///
/// Parameters, as in PyTorch's `state_dict`: `weight_ih_l{k}` `(hidden, input or
/// hidden * directions)`, `weight_hh_l{k}` `(hidden, hidden)`, `bias_ih_l{k}`, `bias_hh_l{k}`
/// `(hidden)`, with a `_reverse` suffix for the second direction; all drawn from
/// U(-1/sqrt(hidden), 1/sqrt(hidden)) in that order.
///
/// # Shapes
/// - input: `(L, N, H_in)`, `(N, L, H_in)` with `batch_first`, or unbatched `(L, H_in)`; or a
///   [`PackedSequence`] with [`forward_packed`](Self::forward_packed)
/// - h0 (optional, zeros if omitted): `(D * num_layers, N, H_out)` or unbatched
///   `(D * num_layers, H_out)`
/// - output: `(L, N, D * H_out)` (`(N, L, D * H_out)` with `batch_first`, `(L, D * H_out)`
///   unbatched); h_n: like h0.
///
/// ```
/// use tch::{nn::VarStore, Device, Kind, Tensor};
/// use tch_rnn::nn::{Rnn, RnnConfig};
/// let vs = VarStore::new(Device::Cpu);
/// let rnn = Rnn::new(vs.root() / "rnn", RnnConfig { input_size: 4, hidden_size: 2, num_layers: 2, batch_first: true, ..Default::default() })?;
/// let (output, h_n) = rnn.forward(&Tensor::randn([1, 3, 4], (Kind::Float, Device::Cpu)), None)?;
/// assert_eq!((output.size(), h_n.size()), (vec![1, 3, 2], vec![2, 1, 2]));
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct Rnn {
    pub(crate) base: Recurrent,
}

impl Rnn {
    /// Creates the layer's parameters under `path` and initialises them as PyTorch does.
    pub fn new<'a>(path: impl Borrow<Path<'a>>, config: RnnConfig) -> Result<Self> {
        Ok(Rnn { base: Recurrent::new(path, config.into())? })
    }

    /// Runs the whole sequence: returns `(output, h_n)`. See the type's docs for shapes.
    pub fn forward(&self, input: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let (output, state) = self.base.forward_padded(input, h0.as_slice())?;
        Ok((output, single(state)))
    }

    /// Runs a packed batch of sequences of different lengths: returns the output, packed
    /// the same way, and `h_n` `(D * num_layers, N, H_out)`, the state after each sequence's
    /// own last step, in the batch order the sequences were given in (as `h0`).
    ///
    /// ```
    /// use tch::{nn::VarStore, Device, Kind, Tensor};
    /// use tch_rnn::nn::{pack_sequence, Rnn, RnnConfig};
    /// let vs = VarStore::new(Device::Cpu);
    /// let rnn = Rnn::new(vs.root(), RnnConfig { input_size: 4, hidden_size: 2, ..Default::default() })?;
    /// let words = [5, 3].map(|len| Tensor::randn([len, 4], (Kind::Float, Device::Cpu)));
    /// let (output, h_n) = rnn.forward_packed(&pack_sequence(&words, true)?, None)?;
    /// assert_eq!((output.data().size(), h_n.size()), (vec![8, 2], vec![1, 2, 2]));
    /// # anyhow::Ok(())
    /// ```
    pub fn forward_packed(&self, input: &PackedSequence, h0: Option<&Tensor>) -> Result<(PackedSequence, Tensor)> {
        let (output, state) = self.base.forward_packed_list(input, h0.as_slice())?;
        Ok((output, single(state)))
    }
}

recurrent_module_methods!(Rnn);
