//! `scripts/pytorch/packed_sequences.py`, after section 4 of the tutorial (sequences of
//! different lengths): four words of different lengths in one batch, each to be reversed
//! ("hello" -> "olleh"). The words are padded into one tensor, packed for a bidirectional LSTM
//! so that each word runs over its own characters only (the reverse direction starts at each
//! word's own last character, not at padding), padded back for the Linear layer, and the
//! padded positions are ignored by the loss.

use std::io::Write;

use anyhow::{Context, Result};
use tch::nn::{Path, VarStore};
use tch::{Device, Tensor};

use super::Options;
use super::hello::{INDEX2CHAR, epoch_line};
use crate::nn::{
    CrossEntropyLoss, Embedding, Linear, Lstm, LstmConfig, PaddingSide, pack_padded_sequence, pad_packed_sequence,
    pad_sequence,
};
use crate::optim::{Adam, AdamConfig};

/// The learning rate of this program.
pub const LR: f64 = 0.1;

// 1. parameters
const NUM_CLASS: i64 = 4;
const EMBEDDING_SIZE: i64 = 10;
const HIDDEN_SIZE: i64 = 8;
const NUM_LAYERS: i64 = 1;

/// The words of the batch, of lengths 5, 4, 5 and 3.
pub const WORDS: [&str; 4] = ["hello", "hell", "ohlol", "lol"];

// 3. the model
/// Embedding(4, 10) -> LSTM(10, 8, batch_first=True, bidirectional=True) over the packed batch ->
/// Linear(16, 4), with parameters named as in PyTorch.
///
/// ```
/// use tch::{nn::VarStore, Device, Tensor};
/// let vs = VarStore::new(Device::Cpu);
/// let net = tch_rnn::tutorials::packed_sequences::Model::new(&vs.root())?;
/// let words = Tensor::from_slice(&[1i64, 0, 2, 2, 3, 2, 3, 2, 0, 0]).view([2, 5]); // "hello", "lol" + padding
/// assert_eq!(net.forward(&words, &[5, 3])?.size(), [10, 4]);
/// # anyhow::Ok(())
/// ```
pub struct Model {
    emb: Embedding,
    rnn: Lstm,
    fc: Linear,
}

impl Model {
    /// Builds the layers under `path` in the program's order: emb, rnn, fc.
    pub fn new(path: &Path) -> Result<Self> {
        let emb = Embedding::new(path / "emb", NUM_CLASS, EMBEDDING_SIZE, Default::default())?;
        let rnn = Lstm::new(
            path / "rnn",
            LstmConfig {
                input_size: EMBEDDING_SIZE,
                hidden_size: HIDDEN_SIZE,
                num_layers: NUM_LAYERS,
                batch_first: true,
                bidirectional: true,
                ..Default::default()
            },
        )?;
        let fc = Linear::new(path / "fc", 2 * HIDDEN_SIZE, NUM_CLASS, Default::default())?;
        Ok(Model { emb, rnn, fc })
    }

    /// Logits `(batch_size * max_len, num_class)` for padded words `x` `(batch_size, max_len)`
    /// of the given `lengths`; zeros-based logits at the padded positions.
    pub fn forward(&self, x: &Tensor, lengths: &[i64]) -> Result<Tensor> {
        let x = self.emb.forward(x)?; // (batch_size, max_len, embedding_size)
        let x = pack_padded_sequence(&x, lengths, true, false)?; // packed: each word runs over its own characters only
        let (x, _) = self.rnn.forward_packed(&x, None)?; // the reverse LSTM starts at each word's own last character
        let (x, _) = pad_packed_sequence(&x, true, 0.0, None)?; // (batch_size, max_len, 2 * hidden_size)
        let x = self.fc.forward(&x)?; // (batch_size, max_len, num_class)
        Ok(x.f_view([-1, NUM_CLASS])?) // (batch_size * max_len, num_class)
    }
}

/// `index2char.index(c)`.
fn index(c: char) -> Result<i64> {
    let i = INDEX2CHAR.iter().position(|&d| d == c).with_context(|| format!("'{c}' is not in the dictionary"))?;
    Ok(i as i64)
}

/// Runs the program, printing to `out` what `python scripts/pytorch/packed_sequences.py SEED`
/// prints.
///
/// ```
/// let mut out = Vec::new();
/// tch_rnn::tutorials::packed_sequences::run(&Default::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.starts_with("Predicted strings:  "));
/// # anyhow::Ok(())
/// ```
pub fn run(options: &Options, out: &mut dyn Write) -> Result<()> {
    tch::manual_seed(options.seed);
    let vs = VarStore::new(Device::Cpu);

    // 2. data: four words of different lengths, each to be reversed ("hello" -> "olleh")
    let index2char = INDEX2CHAR; // the dictionary
    let words = WORDS;
    let x_data: Vec<Vec<i64>> = words.iter().map(|w| w.chars().map(index).collect()).collect::<Result<_>>()?; // each word as dictionary indices
    let y_data: Vec<Vec<i64>> = words.iter().map(|w| w.chars().rev().map(index).collect()).collect::<Result<_>>()?; // labels: the reversed words
    let lengths: Vec<i64> = x_data.iter().map(|x| x.len() as i64).collect(); // [5, 4, 5, 3]: not sorted, hence enforce_sorted=false

    let as_tensors = |data: &[Vec<i64>]| data.iter().map(|x| Tensor::from_slice(x)).collect::<Vec<_>>();
    let inputs = pad_sequence(&as_tensors(&x_data), true, 0.0, PaddingSide::Right)?; // (batch_size, max_len), padded with 0
    let labels = pad_sequence(&as_tensors(&y_data), true, -100.0, PaddingSide::Right)?; // (batch_size, max_len); -100: ignored by the loss

    let net = Model::new(&vs.root())?;

    // 4. loss and optimizer
    let criterion = CrossEntropyLoss::new(Default::default())?;
    let lr = options.lr.unwrap_or(LR);
    let mut optimizer = Adam::new(vs.trainable_variables(), AdamConfig { lr, ..Default::default() })?; // Adam optimizer

    // 5. training
    for epoch in 0..options.epochs {
        optimizer.zero_grad();
        let outputs = net.forward(&inputs, &lengths)?;
        let loss = criterion.forward(&outputs, &labels.f_view(-1)?)?;
        loss.f_backward()?;
        optimizer.step()?;

        let (_, idx) = outputs.f_max_dim(1, false)?;
        let idx = Vec::<Vec<i64>>::try_from(idx.f_view([words.len() as i64, -1])?)?;
        let predicted: Vec<String> = idx
            .iter()
            .zip(&lengths)
            .map(|(row, &n)| row[..n as usize].iter().map(|&x| index2char[x as usize]).collect())
            .collect(); // each word up to its own length
        write!(out, "Predicted strings:  {}", predicted.join(" "))?;
        writeln!(out, "{}", epoch_line(epoch + 1, options.epochs, loss.f_double_value(&[])?))?;
    }
    Ok(())
}
