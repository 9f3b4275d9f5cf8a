//! Section 3.1, `scripts/pytorch/hello_rnn_cell.py`: learn "hello" -> "ohlol" with an RNNCell
//! fed one one-hot character at a time, printing the prediction and loss of every epoch.

use std::io::Write;

use anyhow::Result;
use tch::nn::{Path, VarStore};
use tch::{Device, Kind, Tensor};

use super::Options;
use super::hello::{INDEX2CHAR, ONE_HOT_LOOKUP, X_DATA, Y_DATA, epoch_line};
use crate::nn::{CrossEntropyLoss, RnnCell, RnnCellConfig};
use crate::optim::{Adam, AdamConfig};

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

    // 2. data
    let index2char = INDEX2CHAR; // the dictionary
    let x_data = X_DATA; // "hello" as dictionary indices
    let y_data = Y_DATA; // labels: "ohlol"

    let one_hot_lookup = ONE_HOT_LOOKUP; // table to turn x_data into one-hot vectors
    let x_one_hot: Vec<f32> = x_data.iter().flat_map(|&x| one_hot_lookup[x as usize]).collect(); // x_data as one-hot vectors
    let inputs = Tensor::from_slice(&x_one_hot).view([-1, batch_size, input_size]); // (seqLen, batchSize, inputSize)
    let labels = Tensor::from_slice(&y_data).view([-1, 1]); // (seqLen*batchSize, 1)

    let net = Model::new(&vs.root(), input_size, hidden_size, batch_size)?;

    // 4. loss and optimizer
    let criterion = CrossEntropyLoss::new(Default::default())?;
    let lr = options.lr.unwrap_or(LR);
    let mut optimizer = Adam::new(vs.trainable_variables(), AdamConfig { lr, ..Default::default() })?; // Adam optimizer

    // 5. training
    for epoch in 0..options.epochs {
        let mut loss = Tensor::zeros([], (Kind::Float, Device::Cpu));
        optimizer.zero_grad(); // clear the gradients
        let mut hidden = net.init_hidden(); // initialise the hidden state
        write!(out, "Predicted string:")?;
        for (input, label) in inputs.unbind(0).iter().zip(labels.unbind(0).iter()) {
            // one character at a time, in sequence order
            hidden = net.forward(input, &hidden)?;
            loss += criterion.forward(&hidden, label)?; // no item(): backward comes later
            let (_, idx) = hidden.f_max_dim(1, false)?; // index of the largest value
            write!(out, "{}", index2char[idx.f_int64_value(&[0])? as usize])?; // the predicted character
        }
        loss.f_backward()?; // back-propagation
        optimizer.step()?; // update the parameters
        writeln!(out, "{}", epoch_line(epoch + 1, options.epochs, loss.f_double_value(&[])?))?;
    }
    Ok(())
}
