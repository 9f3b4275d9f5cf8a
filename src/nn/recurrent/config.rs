//! The options of the multi-layer recurrent modules, written once: [`RecurrentConfig`], the one
//! config of [`Recurrent`](crate::nn::Recurrent) (PyTorch's `RNNBase` arguments), and the
//! macro that declares the typed configs of `Rnn`, `Lstm` and `Gru` over the same fields,
//! defaults and documentation.

use super::mode::Mode;

/// The arguments of PyTorch's `RNNBase(mode, ...)`: the recurrence and every option the
/// multi-layer modules share, each with PyTorch's default.
///
/// `input_size` and `hidden_size` have no default in PyTorch, so [`RecurrentConfig::new`]
/// takes them with the mode; the rest follow by struct update.
///
/// ```
/// use tch_rnn::nn::{Mode, RecurrentConfig};
/// let config = RecurrentConfig { num_layers: 2, batch_first: true, ..RecurrentConfig::new(Mode::Gru, 10, 8) };
/// assert!(config.bias && config.dropout == 0.0 && !config.bidirectional && config.proj_size == 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecurrentConfig {
    /// The recurrence: RNN (tanh or relu), LSTM or GRU.
    pub mode: Mode,
    /// The number of expected features in the input `x`. Required.
    pub input_size: i64,
    /// The number of features in the hidden state `h` (and the LSTM's cell state `c`).
    /// Required.
    pub hidden_size: i64,
    /// Number of stacked layers. Default: 1.
    pub num_layers: i64,
    /// Whether the layers use the biases `b_ih` and `b_hh`. Default: `true`.
    pub bias: bool,
    /// Input and output as `(batch, seq, feature)` instead of `(seq, batch, feature)`; the
    /// states keep `(layers * directions, batch, size)`. Default: `false`.
    pub batch_first: bool,
    /// Dropout probability on the outputs of each layer but the last, applied only in
    /// training mode. Default: 0.
    pub dropout: f64,
    /// A second, reverse-direction pass per layer. Default: `false`.
    pub bidirectional: bool,
    /// LSTM only: if `> 0`, `h` is projected to this size by a learned `weight_hr_l{k}`
    /// `(proj_size, hidden_size)` after each step (must be below `hidden_size`). Default: 0.
    pub proj_size: i64,
}

impl RecurrentConfig {
    /// A `mode` module of `input_size` features in and `hidden_size` out, every other option
    /// at PyTorch's default.
    ///
    /// ```
    /// let config = tch_rnn::nn::RecurrentConfig::new(tch_rnn::nn::Mode::Lstm, 4, 8);
    /// assert_eq!((config.num_layers, config.bias, config.proj_size), (1, true, 0));
    /// ```
    pub fn new(mode: Mode, input_size: i64, hidden_size: i64) -> Self {
        RecurrentConfig {
            mode,
            input_size,
            hidden_size,
            num_layers: 1,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
            proj_size: 0,
        }
    }

    /// 2 when bidirectional, else 1.
    pub(crate) fn num_directions(&self) -> i64 {
        if self.bidirectional { 2 } else { 1 }
    }

    /// The size of `h`: `proj_size` when projecting, else `hidden_size`.
    pub(crate) fn real_hidden_size(&self) -> i64 {
        if self.proj_size > 0 { self.proj_size } else { self.hidden_size }
    }
}

/// Declares the config of a typed multi-layer module (`RnnConfig`, `LstmConfig`, `GruConfig`):
/// the shared options of [`RecurrentConfig`], documented here once, plus the module's own
/// fields, a `Default` taken from [`RecurrentConfig::new`], and the conversion to
/// [`RecurrentConfig`] (`mode` and `proj_size` computed from the typed config `$c`).
macro_rules! typed_recurrent_config {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$field_meta:meta])* $field:ident: $ty:ty = $default:expr, )*
        }
        |$c:ident| mode: $mode:expr, proj_size: $proj_size:expr
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            /// The number of expected features in the input `x`. Required.
            pub input_size: i64,
            /// The number of features in the hidden state `h`. Required.
            pub hidden_size: i64,
            /// Number of stacked layers. Default: 1.
            pub num_layers: i64,
            $( $(#[$field_meta])* pub $field: $ty, )*
            /// Whether the layers use the biases `b_ih` and `b_hh`. Default: `true`.
            pub bias: bool,
            /// Input and output as `(batch, seq, feature)` instead of `(seq, batch, feature)`;
            /// the states keep `(layers * directions, batch, size)`. Default: `false`.
            pub batch_first: bool,
            /// Dropout probability on the outputs of each layer but the last, applied only in
            /// training mode. Default: 0.
            pub dropout: f64,
            /// A second, reverse-direction pass per layer. Default: `false`.
            pub bidirectional: bool,
        }

        impl Default for $name {
            fn default() -> Self {
                let d = $crate::nn::RecurrentConfig::new($crate::nn::Mode::RnnTanh, 0, 0);
                $name {
                    input_size: d.input_size,
                    hidden_size: d.hidden_size,
                    num_layers: d.num_layers,
                    $( $field: $default, )*
                    bias: d.bias,
                    batch_first: d.batch_first,
                    dropout: d.dropout,
                    bidirectional: d.bidirectional,
                }
            }
        }

        impl From<$name> for $crate::nn::RecurrentConfig {
            fn from($c: $name) -> Self {
                $crate::nn::RecurrentConfig {
                    mode: $mode,
                    input_size: $c.input_size,
                    hidden_size: $c.hidden_size,
                    num_layers: $c.num_layers,
                    bias: $c.bias,
                    batch_first: $c.batch_first,
                    dropout: $c.dropout,
                    bidirectional: $c.bidirectional,
                    proj_size: $proj_size,
                }
            }
        }
    };
}
pub(crate) use typed_recurrent_config;
