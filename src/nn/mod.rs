//! PyTorch-faithful layers: same defaults, same initialisation draws, same parameter names and
//! the same libtorch native ops as `torch.nn`, so the same seed gives the same numbers.
//!
//! Constructors take a [`tch::nn::Path`] and register their parameters there under PyTorch's
//! `state_dict` names; forward methods return [`anyhow::Result`] with an error that names the
//! module, what it expected and what it got.

mod check;
mod drop_in;
mod embedding;
pub mod init;
mod linear;
mod loss;
mod packed;
mod param;
mod recurrent;
mod state_dict;

pub use embedding::{Embedding, EmbeddingConfig};
pub use linear::{Linear, LinearConfig};
pub use loss::{CrossEntropyLoss, CrossEntropyLossConfig, Reduction};
pub use packed::{
    Lengths, PackedSequence, PaddingSide, pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence,
};
pub use recurrent::{
    GatedCellConfig, Gru, GruCell, GruCellConfig, GruConfig, Lstm, LstmCell, LstmCellConfig, LstmConfig, Nonlinearity,
    Rnn, RnnCell, RnnCellConfig, RnnConfig,
};
pub use state_dict::{load_state_dict, save_state_dict};
