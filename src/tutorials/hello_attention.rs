//! `scripts/pytorch/hello_attention.py`, after section 4 of the tutorial (remedy 2, "添加注意力机制":
//! add an attention mechanism): "hello" -> "ohlol" as a sequence-to-sequence model. A GRU
//! encoder reads "hello"; a GRU decoder, started from the encoder's last state, is fed the
//! previous label at each step (teacher forcing, from a start symbol); at every decoder step a
//! one-head `MultiheadAttention` weighs the encoder's outputs, and the prediction reads the
//! decoder's output beside that weighted context. After training it prints the attention
//! weights: which input character each output character looked at.

use std::io::Write;

use anyhow::{Context, Result};
use tch::nn::{Path, VarStore};
use tch::{Device, Tensor};

use super::Options;
use super::hello::{X_DATA, Y_DATA, train_whole_sequence};
use crate::nn::{AttentionOptions, Embedding, Gru, GruConfig, Linear, MultiheadAttention, MultiheadAttentionConfig};
use crate::repr::Repr;

/// The learning rate of this program (3.3's).
pub const LR: f64 = 0.05;

// 1. parameters
const NUM_CLASS: i64 = 4;
const HIDDEN_SIZE: i64 = 8;
const EMBEDDING_SIZE: i64 = 10;
const NUM_LAYERS: i64 = 1;

/// The start symbol's index: 4, past the dictionary.
pub const START: i64 = NUM_CLASS;

// 3. the model
/// Embedding(5, 10) shared by both sides (4 characters and the start symbol) ->
/// GRU encoder(10, 8) and GRU decoder(10, 8) (batch_first) -> MultiheadAttention(8, one head,
/// batch_first) from the decoder's outputs over the encoder's -> Linear(16, 4) on
/// `[decoder output, context]`, with parameters named as in PyTorch (`emb.weight`,
/// `encoder.weight_ih_l0`, `attn.in_proj_weight`, `attn.out_proj.weight`, `fc.bias`, ...).
///
/// ```
/// use tch::{nn::VarStore, Device, Tensor};
/// let vs = VarStore::new(Device::Cpu);
/// let net = tch_rnn::tutorials::hello_attention::Model::new(&vs.root())?;
/// let x = Tensor::from_slice(&[1i64, 0, 2, 2, 3]).view([1, 5]); // "hello"
/// let y_in = Tensor::from_slice(&[4i64, 3, 1, 2, 3]).view([1, 5]); // start symbol + "ohlo"
/// let (logits, weights) = net.forward(&x, &y_in)?;
/// assert_eq!((logits.size(), weights.size()), (vec![5, 4], vec![1, 5, 5]));
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

    /// Logits `(batch_size * seq_len, num_class)` and attention weights
    /// `(batch_size, seq_len, seq_len)` for inputs `x` and decoder inputs `y_in`, both
    /// `(batch_size, seq_len)`.
    pub fn forward(&self, x: &Tensor, y_in: &Tensor) -> Result<(Tensor, Tensor)> {
        let (encoder_outputs, hidden) = self.encoder.forward(&self.emb.forward(x)?, None)?; // (batch_size, seq_len, hidden_size), the encoder's last state
        let (decoder_outputs, _) = self.decoder.forward(&self.emb.forward(y_in)?, Some(&hidden))?; // (batch_size, seq_len, hidden_size), from the encoder's state
        let (context, weights) =
            self.attn.forward(&decoder_outputs, &encoder_outputs, &encoder_outputs, &AttentionOptions::default())?; // every decoder step attends over the encoder's outputs
        let x = self.fc.forward(&Tensor::f_cat(&[&decoder_outputs, &context], 2)?)?; // (batch_size, seq_len, num_class)
        Ok((x.f_view([-1, NUM_CLASS])?, weights.context("attention weights were asked for")?)) // (batch_size * seq_len, num_class), (batch_size, seq_len, seq_len)
    }
}

/// Runs the program, printing to `out` what `python scripts/pytorch/hello_attention.py SEED`
/// prints.
///
/// ```
/// let mut out = Vec::new();
/// tch_rnn::tutorials::hello_attention::run(&Default::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.contains("Attention weights (rows: ohlol, columns: hello):\ntensor([["));
/// # anyhow::Ok(())
/// ```
pub fn run(options: &Options, out: &mut dyn Write) -> Result<()> {
    tch::manual_seed(options.seed);
    let vs = VarStore::new(Device::Cpu);

    // 2. data
    let x_data = [X_DATA]; // (batch_size, seq_len): "hello" as dictionary indices
    let y_data = Y_DATA; // (batch_size * seq_len): labels "ohlol"
    let y_in_data = [[START, y_data[0], y_data[1], y_data[2], y_data[3]]]; // (batch_size, seq_len): the decoder's input, the start symbol + the previous label (teacher forcing)

    let inputs = Tensor::from_slice(&x_data.concat()).view([x_data.len() as i64, -1]); // (batch_size, seq_len)
    let decoder_inputs = Tensor::from_slice(&y_in_data.concat()).view([y_in_data.len() as i64, -1]); // (batch_size, seq_len)
    let labels = Tensor::from_slice(&y_data); // (batch_size * seq_len)

    let net = Model::new(&vs.root())?;

    // 4. loss and optimizer, 5. training
    let lr = options.lr.unwrap_or(LR);
    let forward = |x: &Tensor| -> Result<Tensor> { Ok(net.forward(x, &decoder_inputs)?.0) };
    train_whole_sequence(&vs, forward, &inputs, &labels, lr, options.epochs, out)?;

    // 6. the attention weights: each row an output character, each column how much it looked at an input character
    let (_, weights) = tch::no_grad(|| net.forward(&inputs, &decoder_inputs))?;
    writeln!(out, "Attention weights (rows: ohlol, columns: hello):")?;
    writeln!(out, "{}", Repr(&weights.f_get(0)?.f_round_decimals(2)?))?; // (seq_len, seq_len), two decimals
    Ok(())
}
