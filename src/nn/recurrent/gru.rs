//! `torch.nn.GRU`: a multi-layer gated recurrent unit network over libtorch's native `gru` (and
//! its packed form).

use std::borrow::Borrow;

use anyhow::Result;
use tch::Tensor;
use tch::nn::Path;

use super::base::{Recurrent, recurrent_module_methods};
use super::config::typed_recurrent_config;
use super::mode::Mode;
use super::state::single;
use crate::nn::packed::PackedSequence;

typed_recurrent_config! {
    /// The arguments of `torch.nn.GRU(...)`, each with PyTorch's default.
    ///
    /// `input_size` and `hidden_size` have no default in PyTorch: set them (the zero that
    /// `Default` leaves is rejected by [`Gru::new`]).
    ///
    /// ```
    /// use tch_rnn::nn::GruConfig;
    /// let config = GruConfig { input_size: 10, hidden_size: 8, batch_first: true, ..Default::default() };
    /// assert!(config.bias && config.num_layers == 1 && !config.bidirectional);
    /// ```
    GruConfig {
    }
    |c| mode: Mode::Gru, proj_size: 0
}

/// A multi-layer GRU, `torch.nn.GRU`. Each layer computes, for every time step,
///
/// ```text
/// r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)         reset gate
/// z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)         update gate
/// n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))    new state candidate
/// h_t = (1 - z_t) * n_t + z_t * h_{t-1}
/// ```
///
/// the outputs of one layer (after dropout, in training) being the inputs of the next.
///
/// Parameters, as in PyTorch's `state_dict`: `weight_ih_l{k}` `(3 * hidden, input or
/// hidden * directions)` (gates r, z, n stacked), `weight_hh_l{k}` `(3 * hidden, hidden)`,
/// `bias_ih_l{k}`, `bias_hh_l{k}` `(3 * hidden)`, with a `_reverse` suffix for the second
/// direction; all drawn from U(-1/sqrt(hidden), 1/sqrt(hidden)) in that order.
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
/// use tch_rnn::nn::{Gru, GruConfig};
/// let vs = VarStore::new(Device::Cpu);
/// let gru = Gru::new(vs.root() / "gru", GruConfig { input_size: 10, hidden_size: 20, num_layers: 2, ..Default::default() })?;
/// let (output, h_n) = gru.forward(&Tensor::randn([5, 3, 10], (Kind::Float, Device::Cpu)), None)?;
/// assert_eq!((output.size(), h_n.size()), (vec![5, 3, 20], vec![2, 3, 20]));
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct Gru {
    pub(crate) base: Recurrent,
}

impl Gru {
    /// Creates the layer's parameters under `path` and initialises them as PyTorch does.
    pub fn new<'a>(path: impl Borrow<Path<'a>>, config: GruConfig) -> Result<Self> {
        Ok(Gru { base: Recurrent::new(path, config.into())? })
    }

    /// Runs the whole sequence: returns `(output, h_n)`. See the type's docs for shapes.
    pub fn forward(&self, input: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let (output, state) = self.base.forward_padded(input, h0.as_slice())?;
        Ok((output, single(state)))
    }

    /// Runs a packed batch of sequences of different lengths: returns the output, packed the
    /// same way, and `h_n`, the state after each sequence's own last step, in the batch order
    /// the sequences were given in (as `h0`).
    ///
    /// ```
    /// use tch::{nn::VarStore, Device, Kind, Tensor};
    /// use tch_rnn::nn::{pack_sequence, Gru, GruConfig};
    /// let vs = VarStore::new(Device::Cpu);
    /// let gru = Gru::new(vs.root(), GruConfig { input_size: 4, hidden_size: 2, ..Default::default() })?;
    /// let words = [5, 3].map(|len| Tensor::randn([len, 4], (Kind::Float, Device::Cpu)));
    /// let (output, h_n) = gru.forward_packed(&pack_sequence(&words, true)?, None)?;
    /// assert_eq!((output.data().size(), h_n.size()), (vec![8, 2], vec![1, 2, 2]));
    /// # anyhow::Ok(())
    /// ```
    pub fn forward_packed(&self, input: &PackedSequence, h0: Option<&Tensor>) -> Result<(PackedSequence, Tensor)> {
        let (output, state) = self.base.forward_packed_list(input, h0.as_slice())?;
        Ok((output, single(state)))
    }
}

recurrent_module_methods!(Gru);
