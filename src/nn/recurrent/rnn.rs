//! `torch.nn.RNN`: a multi-layer Elman RNN over libtorch's native `rnn_tanh` / `rnn_relu`.

use std::fmt;

use anyhow::Result;
use std::borrow::Borrow;
use tch::Tensor;

use tch::nn::Path;

use super::base::{BaseConfig, RnnBase};
use super::nonlinearity::Nonlinearity;

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
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnConfig {
    /// The number of expected features in the input `x`. Required.
    pub input_size: i64,
    /// The number of features in the hidden state `h`. Required.
    pub hidden_size: i64,
    /// Number of stacked recurrent layers. Default: 1.
    pub num_layers: i64,
    /// `tanh` or `relu`. Default: [`Nonlinearity::Tanh`].
    pub nonlinearity: Nonlinearity,
    /// Whether the layers use the biases `b_ih` and `b_hh`. Default: `true`.
    pub bias: bool,
    /// Input and output as `(batch, seq, feature)` instead of `(seq, batch, feature)`; the
    /// hidden state keeps `(layers * directions, batch, hidden)`. Default: `false`.
    pub batch_first: bool,
    /// Dropout probability on the outputs of each layer but the last, applied only in training
    /// mode. Default: 0.
    pub dropout: f64,
    /// A second, reverse-direction pass per layer. Default: `false`.
    pub bidirectional: bool,
}

impl Default for RnnConfig {
    fn default() -> Self {
        RnnConfig {
            input_size: 0,
            hidden_size: 0,
            num_layers: 1,
            nonlinearity: Nonlinearity::Tanh,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
        }
    }
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
/// - input: `(L, N, H_in)`, `(N, L, H_in)` with `batch_first`, or unbatched `(L, H_in)`
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
    base: RnnBase,
    nonlinearity: Nonlinearity,
}

impl Rnn {
    /// Creates the layer's parameters under `path` and initialises them as PyTorch does.
    pub fn new<'a>(path: impl Borrow<Path<'a>>, config: RnnConfig) -> Result<Self> {
        let path = path.borrow();
        let base_config = BaseConfig {
            input_size: config.input_size,
            hidden_size: config.hidden_size,
            num_layers: config.num_layers,
            bias: config.bias,
            batch_first: config.batch_first,
            dropout: config.dropout,
            bidirectional: config.bidirectional,
        };
        let base = RnnBase::new(path, "RNN", 1, base_config)?;
        Ok(Rnn { base, nonlinearity: config.nonlinearity })
    }

    /// Runs the whole sequence: returns `(output, h_n)`. See the type's docs for shapes.
    pub fn forward(&self, input: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let base = &self.base;
        let c = &base.config;
        let p = base.prepare(input, h0, c.hidden_size)?;
        let native = match self.nonlinearity {
            Nonlinearity::Tanh => Tensor::f_rnn_tanh::<Tensor>,
            Nonlinearity::Relu => Tensor::f_rnn_relu::<Tensor>,
        };
        let (output, h_n) = native(
            &p.input,
            &p.hx,
            &base.flat_weights,
            c.bias,
            c.num_layers,
            c.dropout,
            base.training,
            c.bidirectional,
            c.batch_first,
        )?;
        base.finish(&p, output, h_n)
    }

    /// Sets training mode (`true`, the default) or evaluation mode (`false`), like
    /// `module.train(mode)`; dropout between layers acts only in training mode.
    pub fn train(&mut self, mode: bool) {
        self.base.training = mode;
    }

    /// Evaluation mode, like `module.eval()`.
    pub fn eval(&mut self) {
        self.train(false);
    }

    /// Whether the module is in training mode.
    pub fn is_training(&self) -> bool {
        self.base.training
    }

    /// The parameters in PyTorch's `_flat_weights` order, with their `state_dict` names.
    pub fn named_parameters(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.base.flat_weight_names.iter().map(String::as_str).zip(&self.base.flat_weights)
    }
}

impl fmt::Display for Rnn {
    /// PyTorch's module repr, e.g. `RNN(4, 2, num_layers=2, batch_first=True)` (which, as in
    /// PyTorch, does not show the nonlinearity).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RNN({})", self.base.extra_repr())
    }
}
