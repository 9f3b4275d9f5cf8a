//! Section 2.1, `scripts/pytorch/rnn_cell.py`: an RNNCell stepped by hand over a sequence of
//! shape `(seq_len, batch_size, input_size)`, printing each hidden state.

use std::io::Write;

use anyhow::Result;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::Options;
use crate::nn::{RnnCell, RnnCellConfig};
use crate::repr::{Repr, size};

/// Runs the program, printing to `out` what `python scripts/pytorch/rnn_cell.py SEED` prints.
///
/// ```
/// let mut out = Vec::new();
/// tch_rnn::tutorials::rnn_cell::run(&Default::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.contains("grad_fn=<TanhBackward0>"));
/// # anyhow::Ok(())
/// ```
pub fn run(options: &Options, out: &mut dyn Write) -> Result<()> {
    tch::manual_seed(options.seed);
    let vs = VarStore::new(Device::Cpu);

    let batch_size = 1;
    let seq_len = 3;
    let input_size = 4;
    let hidden_size = 2;

    // Construction of RNNCell
    let cell = RnnCell::new(vs.root(), RnnCellConfig { input_size, hidden_size, ..Default::default() })?;
    // Wrapping the sequence into:(seqLen,batchSize,InputSize)
    let dataset = Tensor::randn([seq_len, batch_size, input_size], (Kind::Float, Device::Cpu)); // (3,1,4)
    // Initializing the hidden to zero
    let mut hidden = Tensor::zeros([batch_size, hidden_size], (Kind::Float, Device::Cpu)); // (1,2)

    for (idx, input) in dataset.unbind(0).iter().enumerate() {
        writeln!(out, "{} {} {}", "=".repeat(20), idx, "=".repeat(20))?; // separator, 20 '=' signs
        writeln!(out, "Input size: {}", size(input))?; // (batch_size, input_size)
        // feed the sequence step by step: seq_len=3, so 3 iterations
        hidden = cell.forward(input, Some(&hidden))?; // the returned hidden is the next step's input

        writeln!(out, "output size: {}", size(&hidden))?; // (batch_size, hidden_size)
        writeln!(out, "{}", Repr(&hidden))?;
    }
    Ok(())
}
