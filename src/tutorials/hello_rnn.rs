//! Section 3.2, `scripts/pytorch/hello_rnn.py`: learn "hello" -> "ohlol" with an RNN that
//! takes the whole one-hot sequence at once.

use std::io::Write;

use anyhow::Result;
use tch::nn::{Path, VarStore};
use tch::{Device, Kind, Tensor};

use super::Options;
use super::hello::{Y_DATA, one_hot_inputs, train_whole_sequence};
use crate::nn::{Rnn, RnnConfig};

/// The tutorial's learning rate for this program.
pub const LR: f64 = 0.05;

// 3. the model
struct Model {
    num_layers: i64,
    batch_size: i64,
    hidden_size: i64,
    rnn: Rnn,
}

impl Model {
    fn new(path: &Path, input_size: i64, hidden_size: i64, batch_size: i64, num_layers: i64) -> Result<Self> {
        let rnn = Rnn::new(path / "rnn", RnnConfig { input_size, hidden_size, num_layers, ..Default::default() })?;
        Ok(Model { num_layers, batch_size, hidden_size, rnn })
    }

    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        let hidden = Tensor::zeros([self.num_layers, self.batch_size, self.hidden_size], (Kind::Float, Device::Cpu));
        let (out, _) = self.rnn.forward(input, Some(&hidden))?; // out: (seq_len, batch, hidden_size)
        Ok(out.f_view([-1, self.hidden_size])?) // to 2-D: (seqLen * batchSize, hiddenSize)
    }
}

/// Runs the program, printing to `out` what `python scripts/pytorch/hello_rnn.py SEED` prints.
///
/// ```
/// let mut out = Vec::new();
/// tch_rnn::tutorials::hello_rnn::run(&Default::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.starts_with("Predicted string:  "));
/// # anyhow::Ok(())
/// ```
pub fn run(options: &Options, out: &mut dyn Write) -> Result<()> {
    tch::manual_seed(options.seed);
    let vs = VarStore::new(Device::Cpu);

    // 1. parameters
    let seq_len = 5;
    let input_size = 4;
    let hidden_size = 4;
    let batch_size = 1;
    let num_layers = 1;

    // 2. data: "hello" as one-hot vectors, labels "ohlol"
    let inputs = one_hot_inputs().view([seq_len, batch_size, input_size]); // (seqLen, batchSize, inputSize)
    let labels = Tensor::from_slice(&Y_DATA);

    let net = Model::new(&vs.root(), input_size, hidden_size, batch_size, num_layers)?;

    // 4. loss and optimizer, 5. training
    let lr = options.lr.unwrap_or(LR);
    train_whole_sequence(&vs, |x| net.forward(x), &inputs, &labels, lr, options.epochs, out)
}
