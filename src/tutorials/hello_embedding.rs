//! Section 3.3, `scripts/pytorch/hello_embedding.py`: learn "hello" -> "ohlol" with
//! Embedding + a 2-layer batch-first RNN + Linear.

use std::io::Write;

use anyhow::Result;
use tch::nn::{Path, VarStore};
use tch::{Device, Kind, Tensor};

use super::Options;
use super::hello::{X_DATA, Y_DATA, train_whole_sequence};
use crate::nn::{Embedding, Linear, Rnn, RnnConfig};

/// The tutorial's learning rate for this program.
pub const LR: f64 = 0.05;

// 1. parameters (module-level, as the model reads them like the tutorial's globals)
const NUM_CLASS: i64 = 4;
const HIDDEN_SIZE: i64 = 8;
const EMBEDDING_SIZE: i64 = 10;
const NUM_LAYERS: i64 = 2;

// 3. the model
/// The tutorial's model: Embedding(4, 10) -> RNN(10, 8, num_layers=2, batch_first=True) ->
/// Linear(8, 4), with parameters named as in PyTorch (`emb.weight`, `rnn.weight_ih_l0`, ...).
///
/// ```
/// use tch::{nn::VarStore, Device, Tensor};
/// let vs = VarStore::new(Device::Cpu);
/// let net = tch_rnn::tutorials::hello_embedding::Model::new(&vs.root())?;
/// let logits = net.forward(&Tensor::from_slice(&[1i64, 0, 2, 2, 3]).view([1, 5]))?;
/// assert_eq!(logits.size(), [5, 4]);
/// # anyhow::Ok(())
/// ```
pub struct Model {
    emb: Embedding,
    rnn: Rnn,
    fc: Linear,
}

impl Model {
    /// Builds the layers under `path` in the tutorial's order: emb, rnn, fc.
    pub fn new(path: &Path) -> Result<Self> {
        let emb = Embedding::new(path / "emb", NUM_CLASS, EMBEDDING_SIZE, Default::default())?;
        let rnn = Rnn::new(
            path / "rnn",
            RnnConfig {
                input_size: EMBEDDING_SIZE,
                hidden_size: HIDDEN_SIZE,
                num_layers: NUM_LAYERS,
                batch_first: true,
                ..Default::default()
            },
        )?;
        let fc = Linear::new(path / "fc", HIDDEN_SIZE, NUM_CLASS, Default::default())?;
        Ok(Model { emb, rnn, fc })
    }

    /// Logits `(batch_size * seq_len, num_class)` for indices `x` `(batch_size, seq_len)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let hidden = Tensor::zeros([NUM_LAYERS, x.size()[0], HIDDEN_SIZE], (Kind::Float, x.device())); // (num_layers, batch_size, hidden_size)
        let x = self.emb.forward(x)?; // (batch_size, seq_len, embedding_size)
        let (x, _) = self.rnn.forward(&x, Some(&hidden))?; // (batch_size, seq_len, hidden_size)
        let x = self.fc.forward(&x)?; // (batch_size, seq_len, num_class)
        Ok(x.f_view([-1, NUM_CLASS])?) // (batch_size * seq_len, num_class)
    }
}

/// Runs the program, printing to `out` what `python scripts/pytorch/hello_embedding.py SEED`
/// prints.
///
/// ```
/// let mut out = Vec::new();
/// tch_rnn::tutorials::hello_embedding::run(&Default::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.lines().last().unwrap().contains("Epoch [15/15]"));
/// # anyhow::Ok(())
/// ```
pub fn run(options: &Options, out: &mut dyn Write) -> Result<()> {
    tch::manual_seed(options.seed);
    let vs = VarStore::new(Device::Cpu);

    // 2. data
    let x_data = [X_DATA]; // (batch_size, seq_len): "hello" as dictionary indices
    let y_data = Y_DATA; // (batch_size * seq_len): labels "ohlol"

    let inputs = Tensor::from_slice(&x_data.concat()).view([x_data.len() as i64, -1]); // (batch_size, seq_len)
    let labels = Tensor::from_slice(&y_data); // (batch_size * seq_len)

    let net = Model::new(&vs.root())?;

    // 4. loss and optimizer, 5. training
    let lr = options.lr.unwrap_or(LR);
    train_whole_sequence(&vs, |x| net.forward(x), &inputs, &labels, lr, options.epochs, out)
}
