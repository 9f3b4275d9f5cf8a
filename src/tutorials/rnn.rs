//! Section 2.2, `scripts/pytorch/rnn.py`: an RNN that runs the whole sequence at once and
//! returns every step's output and the last hidden state.

use std::io::Write;

use anyhow::Result;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::Options;
use crate::nn::{Rnn, RnnConfig};
use crate::repr::{Repr, size};

/// Runs the program, printing to `out` what `python scripts/pytorch/rnn.py SEED` prints.
///
/// ```
/// let mut out = Vec::new();
/// tch_rnn::tutorials::rnn::run(&Default::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.contains("grad_fn=<StackBackward0>"));
/// # anyhow::Ok(())
/// ```
pub fn run(options: &Options, out: &mut dyn Write) -> Result<()> {
    tch::manual_seed(options.seed);
    let vs = VarStore::new(Device::Cpu);

    let batch_size = 1;
    let seq_len = 3;
    let input_size = 4;
    let hidden_size = 2;
    let num_layers = 1; // number of RNN layers

    // Construction of RNN
    let rnn = Rnn::new(vs.root(), RnnConfig { input_size, hidden_size, num_layers, ..Default::default() })?;
    // Wrapping the sequence into:(seqLen,batchSize,InputSize)
    let inputs = Tensor::randn([seq_len, batch_size, input_size], (Kind::Float, Device::Cpu)); // (3,1,4)
    // Initializing the hidden to zero
    let hidden = Tensor::zeros([num_layers, batch_size, hidden_size], (Kind::Float, Device::Cpu)); // (1,1,2)

    let (output, hidden) = rnn.forward(&inputs, Some(&hidden))?; // the RNN loops inside: feed the whole sequence

    writeln!(out, "Output size: {}", size(&output))?; // (seq_len, batch_size, hidden_size)
    writeln!(out, "Output: {}", Repr(&output))?;
    writeln!(out, "Hidden size: {}", size(&hidden))?; // (num_layers, batch_size, hidden_size)
    writeln!(out, "Hidden: {}", Repr(&hidden))?;
    Ok(())
}
