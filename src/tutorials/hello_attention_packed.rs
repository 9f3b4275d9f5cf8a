//! `scripts/pytorch/hello_attention_packed.py`: `hello_attention` on `packed_sequences`' four
//! words of different lengths, each to be reversed ("hello" -> "olleh"). The encoder runs over
//! the packed batch (each word over its own characters, its last state after its own last
//! character); the decoder, under teacher forcing, starts from that state; the attention gets
//! a `key_padding_mask`, so that no decoder step attends to the encoder's padded positions;
//! the loss ignores the padded labels. After training it prints each word's attention weights,
//! zero in the masked columns.

use std::io::Write;

use anyhow::{Context, Result};
use tch::nn::{Path, VarStore};
use tch::{Device, Kind, Tensor};

use super::Options;
use super::hello::{INDEX2CHAR, epoch_line};
use super::packed_sequences::WORDS;
use crate::nn::{
    AttentionOptions, CrossEntropyLoss, Embedding, Gru, GruConfig, Linear, MultiheadAttention,
    MultiheadAttentionConfig, PaddingSide, pack_padded_sequence, pad_packed_sequence, pad_sequence,
};
use crate::optim::{Adam, AdamConfig};
use crate::repr::Repr;

/// The learning rate of this program (packed_sequences').
pub const LR: f64 = 0.1;

// 1. parameters
const NUM_CLASS: i64 = 4;
const EMBEDDING_SIZE: i64 = 10;
const HIDDEN_SIZE: i64 = 8;
const NUM_LAYERS: i64 = 1;

/// The start symbol's index: 4, past the dictionary.
pub const START: i64 = NUM_CLASS;

// 3. the model
/// Embedding(5, 10) (4 characters and the start symbol) -> GRU encoder(10, 8) over the packed
/// batch, GRU decoder(10, 8) from the encoder's states -> MultiheadAttention(8, one head,
/// batch_first) over the encoder's outputs with the key padding mask -> Linear(16, 4), with
/// parameters named as in PyTorch.
///
/// ```
/// use tch::{nn::VarStore, Device, Kind, Tensor};
/// let vs = VarStore::new(Device::Cpu);
/// let net = tch_rnn::tutorials::hello_attention_packed::Model::new(&vs.root())?;
/// let x = Tensor::from_slice(&[1i64, 0, 2, 2, 3, 2, 3, 2, 0, 0]).view([2, 5]); // "hello", "lol" + padding
/// let y_in = Tensor::from_slice(&[4i64, 3, 2, 2, 0, 4, 2, 3, 0, 0]).view([2, 5]); // start + "olle", start + "lo"
/// let padding = Tensor::from_slice(&[false, false, false, false, false, false, false, false, true, true]).view([2, 5]);
/// let (logits, weights) = net.forward(&x, &y_in, &[5, 3], &padding)?;
/// assert_eq!((logits.size(), weights.size()), (vec![10, 4], vec![2, 5, 5]));
/// # anyhow::Ok(())
/// ```
pub struct Model {
    emb: Embedding,
    encoder: Gru,
    decoder: Gru,
    attn: MultiheadAttention,
    fc: Linear,
}

impl Model {
    /// Builds the layers under `path` in the program's order: emb, encoder, decoder, attn, fc.
    pub fn new(path: &Path) -> Result<Self> {
        let emb = Embedding::new(path / "emb", NUM_CLASS + 1, EMBEDDING_SIZE, Default::default())?; // +1: the start symbol
        let gru = GruConfig {
            input_size: EMBEDDING_SIZE,
            hidden_size: HIDDEN_SIZE,
            num_layers: NUM_LAYERS,
            batch_first: true,
            ..Default::default()
        };
        let encoder = Gru::new(path / "encoder", gru)?;
        let decoder = Gru::new(path / "decoder", gru)?;
        let attn = MultiheadAttention::new(
            path / "attn",
            MultiheadAttentionConfig { batch_first: true, ..MultiheadAttentionConfig::new(HIDDEN_SIZE, 1) },
        )?;
        let fc = Linear::new(path / "fc", 2 * HIDDEN_SIZE, NUM_CLASS, Default::default())?;
        Ok(Model { emb, encoder, decoder, attn, fc })
    }

    /// Logits `(batch_size * max_len, num_class)` and attention weights
    /// `(batch_size, max_len, max_len)` for padded words `x` of the given `lengths`, decoder
    /// inputs `y_in` (both `(batch_size, max_len)`) and `padding` (`true` at the padded
    /// positions of `x`).
    pub fn forward(&self, x: &Tensor, y_in: &Tensor, lengths: &[i64], padding: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = pack_padded_sequence(&self.emb.forward(x)?, lengths, true, false)?; // packed: each word runs over its own characters only
        let (encoder_outputs, hidden) = self.encoder.forward_packed(&x, None)?; // hidden: each word's state after its own last character
        let (encoder_outputs, _) = pad_packed_sequence(&encoder_outputs, true, 0.0, None)?; // (batch_size, max_len, hidden_size)
        let (decoder_outputs, _) = self.decoder.forward(&self.emb.forward(y_in)?, Some(&hidden))?; // (batch_size, max_len, hidden_size); padded steps come after each word's own, changing nothing before them
        let options = AttentionOptions { key_padding_mask: Some(padding), ..Default::default() };
        let (context, weights) = self.attn.forward(&decoder_outputs, &encoder_outputs, &encoder_outputs, &options)?; // the attention ignores the padded positions
        let x = self.fc.forward(&Tensor::f_cat(&[&decoder_outputs, &context], 2)?)?; // (batch_size, max_len, num_class)
        Ok((x.f_view([-1, NUM_CLASS])?, weights.context("attention weights were asked for")?)) // (batch_size * max_len, num_class), (batch_size, max_len, max_len)
    }
}

/// `index2char.index(c)`.
fn index(c: char) -> Result<i64> {
    let i = INDEX2CHAR.iter().position(|&d| d == c).with_context(|| format!("'{c}' is not in the dictionary"))?;
    Ok(i as i64)
}

/// Runs the program, printing to `out` what `python scripts/pytorch/hello_attention_packed.py
/// SEED` prints.
///
/// ```
/// let mut out = Vec::new();
/// tch_rnn::tutorials::hello_attention_packed::run(&Default::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.contains("Attention weights (rows: lol, columns: lol):\ntensor([["));
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
    let y_in_data: Vec<Vec<i64>> =
        y_data.iter().map(|y| [START].iter().chain(&y[..y.len() - 1]).copied().collect()).collect(); // the decoder's input: the start symbol + the previous label (teacher forcing)
    let lengths: Vec<i64> = x_data.iter().map(|x| x.len() as i64).collect(); // [5, 4, 5, 3]: not sorted, hence enforce_sorted=false

    let as_tensors = |data: &[Vec<i64>]| data.iter().map(|x| Tensor::from_slice(x)).collect::<Vec<_>>();
    let inputs = pad_sequence(&as_tensors(&x_data), true, 0.0, PaddingSide::Right)?; // (batch_size, max_len), padded with 0
    let decoder_inputs = pad_sequence(&as_tensors(&y_in_data), true, 0.0, PaddingSide::Right)?; // (batch_size, max_len)
    let labels = pad_sequence(&as_tensors(&y_data), true, -100.0, PaddingSide::Right)?; // (batch_size, max_len); -100: ignored by the loss
    let padding = Tensor::f_arange(inputs.size()[1], (Kind::Int64, Device::Cpu))?
        .f_unsqueeze(0)?
        .f_ge_tensor(&Tensor::from_slice(&lengths).f_unsqueeze(1)?)?; // (batch_size, max_len); true: a padded position

    let net = Model::new(&vs.root())?;

    // 4. loss and optimizer
    let criterion = CrossEntropyLoss::new(Default::default())?;
    let lr = options.lr.unwrap_or(LR);
    let mut optimizer = Adam::new(vs.trainable_variables(), AdamConfig { lr, ..Default::default() })?; // Adam optimizer

    // 5. training
    for epoch in 0..options.epochs {
        optimizer.zero_grad();
        let (outputs, _) = net.forward(&inputs, &decoder_inputs, &lengths, &padding)?;
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

    // 6. the attention weights: each row an output character, each column how much it looked at an input character; the padded positions are masked, their weights 0
    let (_, weights) = tch::no_grad(|| net.forward(&inputs, &decoder_inputs, &lengths, &padding))?;
    for (i, (word, &n)) in words.iter().zip(&lengths).enumerate() {
        let reversed: String = word.chars().rev().collect();
        writeln!(out, "Attention weights (rows: {reversed}, columns: {word}):")?;
        writeln!(out, "{}", Repr(&weights.f_get(i as i64)?.f_narrow(0, 0, n)?.f_round_decimals(2)?))?; // (n, max_len), two decimals
    }
    Ok(())
}
