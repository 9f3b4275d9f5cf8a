//! PyTorch-faithful layers: same defaults, same initialisation draws, same parameter names and
//! the same libtorch native ops as `torch.nn`, so the same seed gives the same numbers.
//!
//! Constructors take a [`tch::nn::Path`] and register their parameters there under PyTorch's
//! `state_dict` names; forward methods return [`anyhow::Result`] with an error that names the
//! module, what it expected and what it got.

mod check;
mod embedding;
pub mod init;
mod linear;
mod loss;
mod param;
mod recurrent;
mod state_dict;

pub use embedding::{Embedding, EmbeddingConfig};
pub use linear::{Linear, LinearConfig};
pub use loss::{CrossEntropyLoss, CrossEntropyLossConfig, Reduction};
pub use recurrent::{Nonlinearity, Rnn, RnnCell, RnnCellConfig, RnnConfig};
pub use state_dict::{load_state_dict, save_state_dict};
