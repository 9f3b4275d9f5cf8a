//! How well a character model predicts a text: the mean cross entropy of every next-character
//! prediction, in nats, with bits per character and perplexity. Runs without gradient
//! tracking, the model in evaluation mode.

use std::f64::consts::LN_2;

use anyhow::{Result, ensure};
use tch::{Device, Kind, Tensor};

use super::corpus::windows;
use super::model::CharModel;
use crate::nn::{CrossEntropyLoss, CrossEntropyLossConfig, Reduction};

/// The result of [`evaluate`].
///
/// ```
/// let e = tch_rnn::charlm::Evaluation { loss: std::f64::consts::LN_2, predictions: 10 };
/// assert!((e.bits_per_character() - 1.0).abs() < 1e-12 && (e.perplexity() - 2.0).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean cross entropy per predicted character, in nats.
    pub loss: f64,
    /// How many characters were predicted (all but the first).
    pub predictions: i64,
}

impl Evaluation {
    /// The loss in bits.
    pub fn bits_per_character(&self) -> f64 {
        self.loss / LN_2
    }

    /// `exp(loss)`: how many characters the model hesitates between, on average.
    pub fn perplexity(&self) -> f64 {
        self.loss.exp()
    }
}

/// The model's mean loss on predicting every character of `data` (1-D int64 indices, at least
/// two) from those before it, in consecutive windows of `seq_len` characters, `batch` windows
/// at a time, each window from a zero state. Switch the model to evaluation mode first.
pub fn evaluate(model: &CharModel, data: &Tensor, seq_len: i64, batch: i64, device: Device) -> Result<Evaluation> {
    let n = data.size().first().copied().unwrap_or(0);
    ensure!(n >= 2, "evaluate: the text must have at least two characters, got {n}");
    ensure!(seq_len > 0 && batch > 0, "evaluate: seq_len and batch must be positive");
    let predictions = n - 1;
    let criterion = CrossEntropyLoss::new(CrossEntropyLossConfig { reduction: Reduction::Sum, ..Default::default() })?;
    let vocab = model.vocab_size;
    tch::no_grad(|| {
        let mut total = 0.0;
        // The full windows, then the remainder as one shorter window.
        let full = predictions / seq_len;
        let mut batches = Vec::new();
        let mut start = 0;
        while start < full {
            let count = batch.min(full - start);
            batches.push((start * seq_len, count, seq_len));
            start += count;
        }
        let rest = predictions % seq_len;
        if rest > 0 {
            batches.push((full * seq_len, 1, rest));
        }
        for (first, count, len) in batches {
            let starts = Tensor::f_arange(count, (Kind::Int64, Device::Cpu))? * len + first;
            let (x, y) = windows(data, &starts, len)?;
            let (x, y) = (x.f_to_device(device)?, y.f_to_device(device)?);
            let (logits, _) = model.forward(&x, None)?;
            let loss = criterion.forward(&logits.f_reshape([-1, vocab])?, &y.f_reshape([-1])?)?;
            total += loss.f_double_value(&[])?;
        }
        Ok(Evaluation { loss: total / predictions as f64, predictions })
    })
}
