//! Section 2.3, `scripts/pytorch/rnn_batch_first.py`: the same RNN with `batch_first=True`,
//! taking input of shape `(batch_size, seq_len, input_size)`.

use std::io::Write;

use anyhow::Result;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::Options;
use crate::nn::{Rnn, RnnConfig};
use crate::repr::{Repr, size};

/// Runs the program, printing to `out` what `python scripts/pytorch/rnn_batch_first.py SEED`
/// prints.
///
/// ```
/// let mut out = Vec::new();
/// tch_rnn::tutorials::rnn_batch_first::run(&Default::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.contains("grad_fn=<TransposeBackward1>"));
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

    // Construction of RNN, batch_first=True
    let rnn = Rnn::new(
        vs.root(),
        RnnConfig { input_size, hidden_size, num_layers, batch_first: true, ..Default::default() },
    )?;
    // the only change: Wrapping the sequence into:(batchSize,seqLen,InputSize)
    let inputs = Tensor::randn([batch_size, seq_len, input_size], (Kind::Float, Device::Cpu)); // (1,3,4)
    // Initializing the hidden to zero
    let hidden = Tensor::zeros([num_layers, batch_size, hidden_size], (Kind::Float, Device::Cpu)); // (1,1,2)

    let (output, hidden) = rnn.forward(&inputs, Some(&hidden))?; // the RNN loops inside: feed the whole sequence

    writeln!(out, "Output size: {}", size(&output))?; // now (batch_size, seq_len, hidden_size)
    writeln!(out, "Output: {}", Repr(&output))?;
    writeln!(out, "Hidden size: {}", size(&hidden))?; // (num_layers, batch_size, hidden_size)
    writeln!(out, "Hidden: {}", Repr(&hidden))?;
    Ok(())
}
