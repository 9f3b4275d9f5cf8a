//! Recurrent layers. As in PyTorch, one public base, [`Recurrent`] (PyTorch's `RNNBase`),
//! creates, names, initialises and validates the parameters of every multi-layer recurrent
//! module and runs its native op, and one cell base (`RNNCellBase`) does the same for
//! single-step cells; what differs between RNN, LSTM and GRU is data ([`Mode`]: gate count,
//! state, names). `Rnn`, `Lstm` and `Gru` are typed wrappers over [`Recurrent`], with typed
//! configs declared over its shared fields and typed states.

mod base;
mod cell_base;
mod config;
mod gru;
mod gru_cell;
mod lstm;
mod lstm_cell;
mod mode;
mod nonlinearity;
mod rnn;
mod rnn_cell;
mod state;

pub use base::Recurrent;
pub use cell_base::GatedCellConfig;
pub use config::RecurrentConfig;
pub use gru::{Gru, GruConfig};
pub use gru_cell::{GruCell, GruCellConfig};
pub use lstm::{Lstm, LstmConfig};
pub use lstm_cell::{LstmCell, LstmCellConfig};
pub use mode::Mode;
pub use nonlinearity::Nonlinearity;
pub use rnn::{Rnn, RnnConfig};
pub use rnn_cell::{RnnCell, RnnCellConfig};
pub use state::RecurrentState;
pub(crate) use state::{pair, single};
