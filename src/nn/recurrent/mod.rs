//! Recurrent layers. As in PyTorch, one base ([`base::RnnBase`]) creates, names, initialises and
//! validates the parameters of every multi-layer recurrent module, and one cell base
//! ([`cell_base::RnnCellBase`]) does the same for single-step cells; the public modules differ
//! only in their gate count and the native op they call.

mod base;
mod cell_base;
mod nonlinearity;
mod rnn;
mod rnn_cell;

pub use nonlinearity::Nonlinearity;
pub use rnn::{Rnn, RnnConfig};
pub use rnn_cell::{RnnCell, RnnCellConfig};
