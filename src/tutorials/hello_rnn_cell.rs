//! Section 3.1, `scripts/pytorch/hello_rnn_cell.py`: learn "hello" -> "ohlol" with an RNNCell
//! fed one one-hot character at a time, printing the prediction and loss of every epoch.

use std::io::Write;

use anyhow::Result;
use tch::nn::{Path, VarStore};
use tch::{Device, Kind, Tensor};

use super::Options;
use super::hello::{Y_DATA, one_hot_inputs, train_step_by_step};
use crate::nn::{RnnCell, RnnCellConfig};

/// The tutorial's learning rate for this program.
pub const LR: f64 = 0.1;

// 3. the model
struct Model {
    batch_size: i64,
    hidden_size: i64,
    rnncell: RnnCell,
}

impl Model {
    fn new(path: &Path, input_size: i64, hidden_size: i64, batch_size: i64) -> Result<Self> {
        let rnncell = RnnCell::new(path / "rnncell", RnnCellConfig { input_size, hidden_size, ..Default::default() })?;
        Ok(Model { batch_size, hidden_size, rnncell })
    }

    fn forward(&self, input: &Tensor, hidden: &Tensor) -> Result<Tensor> {
        let hidden = self.rnncell.forward(input, Some(hidden))?;
        Ok(hidden)
    }

    fn init_hidden(&self) -> Tensor {
        // initialise the hidden state; needs batch_size
        Tensor::zeros([self.batch_size, self.hidden_size], (Kind::Float, Device::Cpu))
    }
}

/// Runs the program, printing to `out` what `python scripts/pytorch/hello_rnn_cell.py SEED`
/// prints.
///
/// ```
/// let mut out = Vec::new();
/// tch_rnn::tutorials::hello_rnn_cell::run(&Default::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.starts_with("Predicted string:"));
/// # anyhow::Ok(())
/// ```
pub fn run(options: &Options, out: &mut dyn Write) -> Result<()> {
    tch::manual_seed(options.seed);
    let vs = VarStore::new(Device::Cpu);

    // 1. parameters
    let input_size = 4;
    let hidden_size = 4;
    let batch_size = 1;

    // 2. data: "hello" as one-hot vectors, labels "ohlol"
    let inputs = one_hot_inputs().view([-1, batch_size, input_size]); // (seqLen, batchSize, inputSize)
    let labels = Tensor::from_slice(&Y_DATA).view([-1, 1]); // (seqLen*batchSize, 1)

    let net = Model::new(&vs.root(), input_size, hidden_size, batch_size)?;

    // 4. loss and optimizer, 5. training
    let lr = options.lr.unwrap_or(LR);
    let step = |input: &Tensor, hidden: Tensor| net.forward(input, &hidden);
    train_step_by_step(&vs, || net.init_hidden(), step, |hidden| hidden, &inputs, &labels, lr, options.epochs, out)
}
