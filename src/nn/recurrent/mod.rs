//! Recurrent layers. As in PyTorch, one base ([`base::RnnBase`]) creates, names, initialises and
//! validates the parameters of every multi-layer recurrent module and runs its native op, and
//! one cell base ([`cell_base::RnnCellBase`]) does the same for single-step cells; what differs
//! between RNN, LSTM and GRU is data ([`mode::Mode`]: gate count, state, names) and the public
//! types of their states.

mod base;
mod cell_base;
mod gru;
mod gru_cell;
mod lstm;
mod lstm_cell;
mod mode;
mod nonlinearity;
mod rnn;
mod rnn_cell;
mod state;

pub(crate) use base::RnnBase;
pub use gru::{Gru, GruConfig};
pub use gru_cell::GruCell;
pub use lstm::{Lstm, LstmConfig};
pub use lstm_cell::{GatedCellConfig, GruCellConfig, LstmCell, LstmCellConfig};
pub use nonlinearity::Nonlinearity;
pub use rnn::{Rnn, RnnConfig};
pub use rnn_cell::{RnnCell, RnnCellConfig};
pub(crate) use state::{pair, single};
