//! `torch.nn.LSTM`: a multi-layer long short-term memory network, optionally with projections,
//! over libtorch's native `lstm` (and its packed form).

use std::borrow::Borrow;

use anyhow::Result;
use tch::Tensor;
use tch::nn::Path;

use super::base::{Recurrent, recurrent_module_methods};
use super::config::typed_recurrent_config;
use super::mode::Mode;
use super::state::pair;
use crate::nn::packed::PackedSequence;

typed_recurrent_config! {
    /// The arguments of `torch.nn.LSTM(...)`, each with PyTorch's default.
    ///
    /// `input_size` and `hidden_size` have no default in PyTorch: set them (the zero that
    /// `Default` leaves is rejected by [`Lstm::new`]).
    ///
    /// ```
    /// use tch_rnn::nn::LstmConfig;
    /// let config = LstmConfig { input_size: 10, hidden_size: 8, num_layers: 2, ..Default::default() };
    /// assert!(config.bias && !config.batch_first && config.proj_size == 0);
    /// ```
    LstmConfig {
        /// If `> 0`, `h` is projected to this size by a learned `weight_hr_l{k}`
        /// `(proj_size, hidden_size)` after each step (must be below `hidden_size`). Default: 0.
        proj_size: i64 = 0,
    }
    |c| mode: Mode::Lstm, proj_size: c.proj_size
}

/// A multi-layer LSTM, `torch.nn.LSTM`. Each layer computes, for every time step,
///
/// ```text
/// i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)     input gate
/// f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)     forget gate
/// g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)        cell candidate
/// o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)     output gate
/// c_t = f_t * c_{t-1} + i_t * g_t
/// h_t = o_t * tanh(c_t)                                    (then h_t = W_hr h_t with proj_size)
/// ```
///
/// the outputs of one layer (after dropout, in training) being the inputs of the next.
///
/// Parameters, as in PyTorch's `state_dict`: `weight_ih_l{k}` `(4 * hidden, input or
/// H_out * directions)` (gates i, f, g, o stacked), `weight_hh_l{k}` `(4 * hidden, H_out)`,
/// `bias_ih_l{k}`, `bias_hh_l{k}` `(4 * hidden)`, `weight_hr_l{k}` `(proj_size, hidden)` with
/// projections, and a `_reverse` suffix for the second direction; all drawn from
/// U(-1/sqrt(hidden), 1/sqrt(hidden)) in that order.
///
/// # Shapes
/// `H_out` is `proj_size` if set, else `hidden_size`; `D` is 2 if bidirectional, else 1.
/// - input: `(L, N, H_in)`, `(N, L, H_in)` with `batch_first`, or unbatched `(L, H_in)`; or a
///   [`PackedSequence`] with [`forward_packed`](Self::forward_packed)
/// - `(h0, c0)` (optional, zeros if omitted): `(D * num_layers, N, H_out)` and
///   `(D * num_layers, N, hidden_size)`, or unbatched without `N`
/// - output: `(L, N, D * H_out)` (`(N, L, D * H_out)` with `batch_first`, `(L, D * H_out)`
///   unbatched); `(h_n, c_n)`: like `(h0, c0)`.
///
/// ```
/// use tch::{nn::VarStore, Device, Kind, Tensor};
/// use tch_rnn::nn::{Lstm, LstmConfig};
/// let vs = VarStore::new(Device::Cpu);
/// let lstm = Lstm::new(vs.root() / "lstm", LstmConfig { input_size: 10, hidden_size: 20, num_layers: 2, ..Default::default() })?;
/// let input = Tensor::randn([5, 3, 10], (Kind::Float, Device::Cpu));
/// let (h0, c0) = (Tensor::randn([2, 3, 20], (Kind::Float, Device::Cpu)), Tensor::randn([2, 3, 20], (Kind::Float, Device::Cpu)));
/// let (output, (h_n, c_n)) = lstm.forward(&input, Some((&h0, &c0)))?;
/// assert_eq!((output.size(), h_n.size(), c_n.size()), (vec![5, 3, 20], vec![2, 3, 20], vec![2, 3, 20]));
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct Lstm {
    pub(crate) base: Recurrent,
}

impl Lstm {
    /// Creates the layer's parameters under `path` and initialises them as PyTorch does.
    pub fn new<'a>(path: impl Borrow<Path<'a>>, config: LstmConfig) -> Result<Self> {
        Ok(Lstm { base: Recurrent::new(path, config.into())? })
    }

    /// Runs the whole sequence: returns `(output, (h_n, c_n))`. See the type's docs for shapes.
    pub fn forward(&self, input: &Tensor, hx: Option<(&Tensor, &Tensor)>) -> Result<(Tensor, (Tensor, Tensor))> {
        let hx = hx.map(|(h, c)| [h, c]);
        let (output, state) = self.base.forward_padded(input, hx.as_slice().as_flattened())?;
        Ok((output, pair(state)))
    }

    /// Runs a packed batch of sequences of different lengths: returns the output, packed the
    /// same way, and `(h_n, c_n)`, the states after each sequence's own last step, in the
    /// batch order the sequences were given in (as `(h0, c0)`).
    ///
    /// ```
    /// use tch::{nn::VarStore, Device, Kind, Tensor};
    /// use tch_rnn::nn::{pack_sequence, Lstm, LstmConfig};
    /// let vs = VarStore::new(Device::Cpu);
    /// let lstm = Lstm::new(vs.root(), LstmConfig { input_size: 4, hidden_size: 3, proj_size: 2, ..Default::default() })?;
    /// let words = [2, 5].map(|len| Tensor::randn([len, 4], (Kind::Float, Device::Cpu)));
    /// let (output, (h_n, c_n)) = lstm.forward_packed(&pack_sequence(&words, false)?, None)?;
    /// assert_eq!((output.data().size(), h_n.size(), c_n.size()), (vec![7, 2], vec![1, 2, 2], vec![1, 2, 3]));
    /// # anyhow::Ok(())
    /// ```
    pub fn forward_packed(
        &self,
        input: &PackedSequence,
        hx: Option<(&Tensor, &Tensor)>,
    ) -> Result<(PackedSequence, (Tensor, Tensor))> {
        let hx = hx.map(|(h, c)| [h, c]);
        let (output, state) = self.base.forward_packed_list(input, hx.as_slice().as_flattened())?;
        Ok((output, pair(state)))
    }
}

recurrent_module_methods!(Lstm);
