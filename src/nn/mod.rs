//! PyTorch-faithful layers: same defaults, same initialisation draws, same parameter names and
//! the same libtorch native ops as `torch.nn`, so the same seed gives the same numbers.
//!
//! Constructors take a [`tch::nn::Path`] and register their parameters there under PyTorch's
//! `state_dict` names; forward methods return [`anyhow::Result`] with an error that names the
//! module, what it expected and what it got.
//!
//! For code written against tch's own layers, [`Linear`] and [`Embedding`] implement
//! `tch::nn::Module` ([`MultiheadAttention`] too, as self-attention), and [`Rnn`], [`Lstm`] and
//! [`Gru`] implement `tch::nn::RNN` with tch's `LSTMState` / `GRUState`: changing the
//! constructor is enough. Trait methods cannot return
//! errors, so where ours would they panic with the same one-line message, as tch's do.
//!
//! ```
//! use tch::nn::{Module, RNN, VarStore};
//! use tch::{Device, Kind, Tensor};
//! use tch_rnn::nn::{Linear, Lstm, LstmConfig};
//!
//! let vs = VarStore::new(Device::Cpu);
//! // Was: tch::nn::lstm(vs.root() / "lstm", 4, 8, Default::default()) (tch's default is batch_first).
//! let lstm = Lstm::new(vs.root() / "lstm", LstmConfig { input_size: 4, hidden_size: 8, batch_first: true, ..Default::default() })?;
//! let fc = Linear::new(vs.root() / "fc", 8, 2, Default::default())?;
//! let (output, state) = lstm.seq(&Tensor::randn([3, 5, 4], (Kind::Float, Device::Cpu)));
//! assert_eq!((output.apply(&fc).size(), state.h().size()), (vec![3, 5, 2], vec![1, 3, 8]));
//! # anyhow::Ok(())
//! ```

mod attention;
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

pub use attention::{AttentionOptions, MultiheadAttention, MultiheadAttentionConfig};
pub use embedding::{Embedding, EmbeddingConfig};
pub use linear::{Linear, LinearConfig};
pub use loss::{CrossEntropyLoss, CrossEntropyLossConfig, Reduction};
pub use packed::{
    Lengths, PackedSequence, PaddingSide, pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence,
};
pub use recurrent::{
    GatedCellConfig, Gru, GruCell, GruCellConfig, GruConfig, Lstm, LstmCell, LstmCellConfig, LstmConfig, Mode,
    Nonlinearity, Recurrent, RecurrentConfig, RecurrentState, Rnn, RnnCell, RnnCellConfig, RnnConfig,
};
pub use state_dict::{load_state_dict, load_tensors, save_state_dict};
