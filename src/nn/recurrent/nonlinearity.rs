//! The activation of a vanilla (Elman) RNN: PyTorch's `nonlinearity="tanh" | "relu"`.

use std::fmt;

/// The non-linearity of [`Rnn`](crate::nn::Rnn) and [`RnnCell`](crate::nn::RnnCell).
/// PyTorch's default is `"tanh"`.
///
/// ```
/// use tch_rnn::nn::Nonlinearity;
/// assert_eq!(Nonlinearity::default(), Nonlinearity::Tanh);
/// assert_eq!(Nonlinearity::Relu.to_string(), "relu");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Nonlinearity {
    /// `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`; natives `rnn_tanh` / `rnn_tanh_cell`.
    #[default]
    Tanh,
    /// `h' = relu(W_ih x + b_ih + W_hh h + b_hh)`; natives `rnn_relu` / `rnn_relu_cell`.
    Relu,
}

impl fmt::Display for Nonlinearity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Nonlinearity::Tanh => "tanh",
            Nonlinearity::Relu => "relu",
        })
    }
}

impl std::str::FromStr for Nonlinearity {
    type Err = anyhow::Error;

    /// Parses PyTorch's spelling, `"tanh"` or `"relu"`.
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "tanh" => Ok(Nonlinearity::Tanh),
            "relu" => Ok(Nonlinearity::Relu),
            other => anyhow::bail!("Unknown nonlinearity '{other}'. Select from 'tanh' or 'relu'."),
        }
    }
}
