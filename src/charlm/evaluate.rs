//! How well a character model predicts a text: the mean cross entropy of every next-character
//! prediction, in nats, with bits per character and perplexity. Runs without gradient
//! tracking, the model in evaluation mode.
//!
//! [`evaluate`] measures it as char-rnn, torch-rnn and `word_language_model` do, and as
//! published bits-per-character figures are: the text is split into `batch` contiguous streams
//! run in consecutive windows of `seq_len`, each stream's state carried from one window to the
//! next. [`evaluate_windows`] starts every window from a zero state instead (`--reset-state`),
//! which is worse: a window's first characters are predicted without context.

use std::f64::consts::LN_2;

use anyhow::{Result, ensure};
use tch::{Device, Kind, Tensor};

use super::corpus::windows;
use super::model::CharModel;
use crate::nn::RecurrentState;
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
/// two) from all those before it: `data` is cut into `batch` contiguous streams (fewer if it is
/// short), run side by side in consecutive windows of `seq_len` characters, each stream's
/// state carried from window to window; the characters the streams leave at the end continue
/// the last stream, so every character but the first is predicted once. With `batch` 1 it is
/// one pass over the whole text. Switch the model to evaluation mode first.
///
/// ```
/// use tch::{nn::VarStore, Device, Tensor};
/// use tch_rnn::charlm::{evaluate, CharModel, ModelOptions};
/// let vs = VarStore::new(Device::Cpu);
/// let model = CharModel::new(&vs.root(), &ModelOptions { hidden: 8, embedding: 4, ..Default::default() }, 5)?;
/// let data = Tensor::from_slice(&[0i64, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2]);
/// let result = evaluate(&model, &data, 3, 2, Device::Cpu)?;
/// assert_eq!(result.predictions, 10);
/// # anyhow::Ok(())
/// ```
pub fn evaluate(model: &CharModel, data: &Tensor, seq_len: i64, batch: i64, device: Device) -> Result<Evaluation> {
    let predictions = check(data, seq_len, batch)?;
    let streams = batch.min(predictions);
    let length = predictions / streams;
    let rest = predictions - streams * length;
    tch::no_grad(|| {
        // Inputs and next characters of each stream, `(streams, length)`.
        let x = data.f_narrow(0, 0, streams * length)?.f_view([streams, length])?;
        let y = data.f_narrow(0, 1, streams * length)?.f_view([streams, length])?;
        let (mut total, state) = loss_in_windows(model, &x, &y, seq_len, None, device)?;
        if rest > 0 {
            let last = state.map(|s| s.try_map(|t| t.f_narrow(1, streams - 1, 1))).transpose()?;
            let x = data.f_narrow(0, streams * length, rest)?.f_view([1, rest])?;
            let y = data.f_narrow(0, streams * length + 1, rest)?.f_view([1, rest])?;
            total += loss_in_windows(model, &x, &y, seq_len, last, device)?.0;
        }
        Ok(Evaluation { loss: total / predictions as f64, predictions })
    })
}

/// The number of predictions in `data`, after checking the arguments.
fn check(data: &Tensor, seq_len: i64, batch: i64) -> Result<i64> {
    let n = data.size().first().copied().unwrap_or(0);
    ensure!(n >= 2, "evaluate: the text must have at least two characters, got {n}");
    ensure!(seq_len > 0 && batch > 0, "evaluate: seq_len and batch must be positive");
    Ok(n - 1)
}

/// The summed cross entropy of next characters `y` given inputs `x` (both `(streams, length)`),
/// run in consecutive windows of `seq_len` from `state`; and the state after the last window.
fn loss_in_windows(
    model: &CharModel,
    x: &Tensor,
    y: &Tensor,
    seq_len: i64,
    mut state: Option<RecurrentState>,
    device: Device,
) -> Result<(f64, Option<RecurrentState>)> {
    let criterion = CrossEntropyLoss::new(CrossEntropyLossConfig { reduction: Reduction::Sum, ..Default::default() })?;
    let length = x.size()[1];
    let mut total = 0.0;
    for start in (0..length).step_by(seq_len as usize) {
        let width = seq_len.min(length - start);
        let (xs, ys) =
            (x.f_narrow(1, start, width)?.f_to_device(device)?, y.f_narrow(1, start, width)?.f_to_device(device)?);
        let (logits, next) = model.forward(&xs, state.as_ref())?;
        let loss = criterion.forward(&logits.f_reshape([-1, model.vocab_size])?, &ys.f_reshape([-1])?)?;
        total += loss.f_double_value(&[])?;
        state = Some(next);
    }
    Ok((total, state))
}

/// As [`evaluate`], but every window of `seq_len` starts from a zero state (`tch-rnn eval
/// --reset-state`): the windows are consecutive, `batch` at a time, the remainder one shorter
/// window. Switch the model to evaluation mode first.
///
/// ```
/// use tch::{nn::VarStore, Device, Tensor};
/// use tch_rnn::charlm::{evaluate_windows, CharModel, ModelOptions};
/// let vs = VarStore::new(Device::Cpu);
/// let model = CharModel::new(&vs.root(), &ModelOptions { hidden: 8, embedding: 4, ..Default::default() }, 5)?;
/// let data = Tensor::from_slice(&[0i64, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2]);
/// assert_eq!(evaluate_windows(&model, &data, 3, 2, Device::Cpu)?.predictions, 10);
/// # anyhow::Ok(())
/// ```
pub fn evaluate_windows(
    model: &CharModel,
    data: &Tensor,
    seq_len: i64,
    batch: i64,
    device: Device,
) -> Result<Evaluation> {
    let predictions = check(data, seq_len, batch)?;
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
