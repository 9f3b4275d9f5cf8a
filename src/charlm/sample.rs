//! Generating text from a character model. The prime is read first, in windows of the run's
//! `seq_len` with the state carried (so a prime of any length works); then either one
//! character at a time is drawn from the softmax of the logits divided by the temperature (0:
//! always the most likely), among the `top_k` most likely and within the nucleus of
//! probability `top_p` if asked ([`sample`], [`sample_streaming`]); or a beam search keeps the
//! `beam_width` most probable continuations and returns the best ([`beam_search`]). Runs without
//! gradient tracking; the draws use libtorch's generator (seed it for reproducible text).

use anyhow::{Context, Result, ensure};
use tch::{Device, Kind, Tensor};

use super::corpus::Vocabulary;
use super::model::CharModel;
use crate::nn::RecurrentState;

/// The most characters one call generates.
pub const MAX_SAMPLE_LENGTH: usize = 100_000_000;

/// How to sample.
///
/// ```
/// let options = tch_rnn::charlm::SampleOptions { prime: "ROMEO:\n".into(), length: 200, temperature: 0.8, ..Default::default() };
/// assert!(options.validate().is_ok());
/// assert!(tch_rnn::charlm::SampleOptions { top_p: Some(1.5), ..options }.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SampleOptions {
    /// Text the model reads before generating (every character must be in its vocabulary).
    pub prime: String,
    /// Characters to generate.
    pub length: usize,
    /// Divides the logits; 0 means argmax.
    pub temperature: f64,
    /// Draw among the k most likely characters only.
    pub top_k: Option<i64>,
    /// Draw within the nucleus: the most likely characters whose probabilities add up to at
    /// least p, in (0, 1].
    pub top_p: Option<f64>,
    /// The prime is read in windows of this many characters, the state carried (the run's
    /// `seq_len`); `None` reads it in one pass.
    pub window: Option<i64>,
}

impl Default for SampleOptions {
    /// A new line as prime, 500 characters, temperature 1, no top-k or top-p, one pass.
    fn default() -> Self {
        SampleOptions { prime: "\n".into(), length: 500, temperature: 1.0, top_k: None, top_p: None, window: None }
    }
}

impl SampleOptions {
    /// A non-empty prime, at most [`MAX_SAMPLE_LENGTH`] characters to generate, a finite
    /// temperature of at least 0, a positive top-k, a top-p in (0, 1], a positive window.
    pub fn validate(&self) -> Result<()> {
        ensure!(!self.prime.is_empty(), "the prime must not be empty");
        ensure!(
            self.length <= MAX_SAMPLE_LENGTH,
            "the length must be at most {MAX_SAMPLE_LENGTH} characters, got {}",
            self.length
        );
        ensure!(
            self.temperature.is_finite() && self.temperature >= 0.0,
            "the temperature must be a finite number >= 0, got {}",
            self.temperature
        );
        if let Some(k) = self.top_k {
            ensure!(k >= 1, "top-k must be at least 1, got {k}");
        }
        if let Some(p) = self.top_p {
            ensure!(p > 0.0 && p <= 1.0, "top-p must be in (0, 1], got {p}");
        }
        if let Some(window) = self.window {
            ensure!(window >= 1, "the prime's window must be at least 1, got {window}");
        }
        Ok(())
    }
}

/// The logits `(1, vocab)` after reading `prime` (at least one index), in windows of `window`
/// characters with the state carried, and the state then.
fn read_prime(
    model: &CharModel,
    prime: &[i64],
    window: Option<i64>,
    device: Device,
) -> Result<(Tensor, RecurrentState)> {
    let x = Tensor::from_slice(prime).view([1, -1]).to_device(device);
    let length = prime.len() as i64;
    let window = window.unwrap_or(length);
    let mut state = None;
    let mut last = None;
    for start in (0..length).step_by(window as usize) {
        let (logits, next) = model.forward(&x.f_narrow(1, start, window.min(length - start))?, state.as_ref())?;
        (last, state) = (Some(logits.f_select(1, -1)?), Some(next));
    }
    Ok((last.context("an empty prime")?, state.context("an empty prime")?))
}

/// The next character, `(1, 1)`, from the logits `(1, vocab)` of the last step.
fn pick(logits: &Tensor, options: &SampleOptions) -> Result<Tensor> {
    if options.temperature == 0.0 {
        return Ok(logits.f_argmax(-1, true)?);
    }
    let mut logits = logits.f_div_scalar(options.temperature)?;
    if let Some(k) = options.top_k {
        let k = k.min(logits.size()[1]);
        let (top, _) = logits.f_topk(k, -1, true, true)?;
        let threshold = top.f_narrow(1, k - 1, 1)?;
        logits = logits.f_masked_fill(&logits.f_lt_tensor(&threshold)?, f64::NEG_INFINITY)?;
    }
    if let Some(p) = options.top_p {
        // The nucleus: the most likely characters until their probabilities reach p (the
        // first always kept), the rest masked.
        let (sorted, order) = logits.f_sort(-1, true)?;
        let probs = sorted.f_softmax(-1, Kind::Float)?;
        let outside = (probs.f_cumsum(-1, Kind::Float)? - &probs).f_gt(p)?;
        let sorted = sorted.f_masked_fill(&outside, f64::NEG_INFINITY)?;
        logits = sorted.f_scatter(-1, &order, &sorted)?;
    }
    Ok(logits.f_softmax(-1, Kind::Float)?.f_multinomial(1, false)?)
}

/// Generates `options.length` characters after `options.prime` (which is not repeated),
/// handing them to `out` as they come: every character on the CPU, every 64 on a GPU (one copy
/// to the host each). Put the model in evaluation mode first.
///
/// ```
/// use tch::{nn::VarStore, Device};
/// use tch_rnn::charlm::{sample_streaming, CharModel, ModelOptions, SampleOptions, Vocabulary};
/// let vocab = Vocabulary::from_text("hello world")?;
/// let vs = VarStore::new(Device::Cpu);
/// let model = CharModel::new(&vs.root(), &ModelOptions { embedding: 4, hidden: 8, layers: 1, ..Default::default() }, vocab.len() as i64)?;
/// let options = SampleOptions { prime: "he".into(), length: 20, ..Default::default() };
/// let mut pieces = Vec::new();
/// sample_streaming(&model, &vocab, &options, Device::Cpu, &mut |text| Ok(pieces.push(text.to_string())))?;
/// assert_eq!(pieces.len(), 20);
/// # anyhow::Ok(())
/// ```
pub fn sample_streaming(
    model: &CharModel,
    vocab: &Vocabulary,
    options: &SampleOptions,
    device: Device,
    out: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<()> {
    options.validate()?;
    let prime = vocab.encode(&options.prime).context("the prime")?;
    let chunk = if device.is_cuda() { 64 } else { 1 };
    tch::no_grad(|| {
        let (mut last, mut state) = read_prime(model, &prime, options.window, device)?;
        let mut drawn = Vec::with_capacity(chunk);
        for i in 0..options.length {
            let next = pick(&last, options)?;
            let (logits, next_state) = model.forward(&next, Some(&state))?;
            (last, state) = (logits.f_select(1, 0)?, next_state);
            drawn.push(next);
            if drawn.len() == chunk || i + 1 == options.length {
                let indices = Tensor::f_cat(&drawn, 0)?.f_to_device(Device::Cpu)?.f_view([-1])?;
                out(&vocab.decode(&Vec::<i64>::try_from(indices)?))?;
                drawn.clear();
            }
        }
        Ok(())
    })
}

/// [`sample_streaming`], collected: the `options.length` characters generated after the prime.
///
/// ```
/// use tch::{nn::VarStore, Device};
/// use tch_rnn::charlm::{sample, CharModel, ModelOptions, SampleOptions, Vocabulary};
/// let vocab = Vocabulary::from_text("hello world")?;
/// let vs = VarStore::new(Device::Cpu);
/// let options = ModelOptions { embedding: 4, hidden: 8, layers: 1, ..Default::default() };
/// let model = CharModel::new(&vs.root(), &options, vocab.len() as i64)?;
/// let options = SampleOptions { prime: "he".into(), length: 20, top_k: Some(3), ..Default::default() };
/// assert_eq!(sample(&model, &vocab, &options, Device::Cpu)?.chars().count(), 20);
/// # anyhow::Ok(())
/// ```
pub fn sample(model: &CharModel, vocab: &Vocabulary, options: &SampleOptions, device: Device) -> Result<String> {
    let mut text = String::new();
    sample_streaming(model, vocab, options, device, &mut |piece| {
        text.push_str(piece);
        Ok(())
    })?;
    Ok(text)
}

/// The continuation of `length` characters after `prime` that a beam search of `width` finds
/// most probable, and its log-probability under the model (natural log). Each step extends
/// every beam by every character and keeps the `width` best; width 1 is the greedy choice
/// (temperature 0). `window` is the prime's, as in [`SampleOptions`]. A wider beam usually
/// finds a more probable text, though nothing guarantees it.
///
/// ```
/// use tch::{nn::VarStore, Device};
/// use tch_rnn::charlm::{beam_search, CharModel, ModelOptions, Vocabulary};
/// let vocab = Vocabulary::from_text("hello world")?;
/// let vs = VarStore::new(Device::Cpu);
/// let model = CharModel::new(&vs.root(), &ModelOptions { embedding: 4, hidden: 8, layers: 1, ..Default::default() }, vocab.len() as i64)?;
/// let (text, log_probability) = beam_search(&model, &vocab, "he", 12, 4, None, Device::Cpu)?;
/// assert_eq!(text.chars().count(), 12);
/// assert!(log_probability < 0.0);
/// # anyhow::Ok(())
/// ```
pub fn beam_search(
    model: &CharModel,
    vocab: &Vocabulary,
    prime: &str,
    length: usize,
    width: i64,
    window: Option<i64>,
    device: Device,
) -> Result<(String, f64)> {
    ensure!(width >= 1, "the beam width must be at least 1, got {width}");
    ensure!(!prime.is_empty(), "the prime must not be empty");
    ensure!(length <= MAX_SAMPLE_LENGTH, "the length must be at most {MAX_SAMPLE_LENGTH} characters, got {length}");
    let prime = vocab.encode(prime).context("the prime")?;
    tch::no_grad(|| {
        let (last, state) = read_prime(model, &prime, window, device)?;
        let mut beams = Beams::start(&last, state)?;
        for _ in 0..length {
            beams = beams.extend(model, width)?;
        }
        beams.best(vocab)
    })
}

/// The beams of a search: their scores (float64 sums of log-probabilities), the characters
/// each has generated (`(beams, steps)`, int64), and the state after their last character.
struct Beams {
    scores: Tensor,
    history: Tensor,
    state: RecurrentState,
    /// The log-probabilities of the next character of each beam, `(beams, vocab)`.
    next: Tensor,
}

impl Beams {
    /// One beam: the prime, with nothing generated.
    fn start(last: &Tensor, state: RecurrentState) -> Result<Self> {
        let device = last.device();
        Ok(Beams {
            scores: Tensor::f_zeros([1], (Kind::Double, device))?,
            history: Tensor::f_zeros([1, 0], (Kind::Int64, device))?,
            state,
            next: last.f_log_softmax(-1, Kind::Double)?,
        })
    }

    /// Every beam extended by every character, the `width` best kept, and run one step.
    fn extend(self, model: &CharModel, width: i64) -> Result<Self> {
        let vocab = self.next.size()[1];
        let candidates = (self.scores.f_unsqueeze(1)? + &self.next).f_view([-1])?;
        let (scores, flat) = candidates.f_topk(width.min(candidates.size()[0]), 0, true, true)?;
        let parents = flat.f_floor_divide_scalar(vocab)?;
        let chars = flat.f_remainder(vocab)?;
        let history = Tensor::f_cat(&[self.history.f_index_select(0, &parents)?, chars.f_unsqueeze(1)?], 1)?;
        let state = self.state.try_map(|t| t.f_index_select(1, &parents))?;
        let (logits, state) = model.forward(&chars.f_unsqueeze(1)?, Some(&state))?;
        let next = logits.f_select(1, 0)?.f_log_softmax(-1, Kind::Double)?;
        Ok(Beams { scores, history, state, next })
    }

    /// The best beam's text and score.
    fn best(&self, vocab: &Vocabulary) -> Result<(String, f64)> {
        let best = self.scores.f_argmax(0, false)?.f_int64_value(&[])?;
        let chars = Vec::<i64>::try_from(self.history.f_get(best)?.f_to_device(Device::Cpu)?)?;
        Ok((vocab.decode(&chars), self.scores.f_double_value(&[best])?))
    }
}

/// The log-probability (natural log) the model gives `text` after `prime`: the sum over its
/// characters of the log-softmax of the logits at each, read in one pass. What
/// [`beam_search`] reports for the text it returns.
///
/// ```
/// use tch::{nn::VarStore, Device};
/// use tch_rnn::charlm::{log_probability, CharModel, ModelOptions, Vocabulary};
/// let vocab = Vocabulary::from_text("hello world")?;
/// let vs = VarStore::new(Device::Cpu);
/// let model = CharModel::new(&vs.root(), &ModelOptions { embedding: 4, hidden: 8, layers: 1, ..Default::default() }, vocab.len() as i64)?;
/// assert!(log_probability(&model, &vocab, "he", "llo", Device::Cpu)? < 0.0);
/// # anyhow::Ok(())
/// ```
pub fn log_probability(model: &CharModel, vocab: &Vocabulary, prime: &str, text: &str, device: Device) -> Result<f64> {
    let (prime, text) = (vocab.encode(prime).context("the prime")?, vocab.encode(text).context("the text")?);
    ensure!(!prime.is_empty(), "the prime must not be empty");
    if text.is_empty() {
        return Ok(0.0);
    }
    let all: Vec<i64> = prime.iter().chain(&text).copied().collect();
    tch::no_grad(|| {
        let x = Tensor::from_slice(&all[..all.len() - 1]).view([1, -1]).to_device(device);
        let (logits, _) = model.forward(&x, None)?;
        let predicted =
            logits.f_narrow(1, prime.len() as i64 - 1, text.len() as i64)?.f_log_softmax(-1, Kind::Double)?;
        let targets = Tensor::from_slice(&text).view([1, -1, 1]).to_device(device);
        Ok(predicted.f_gather(-1, &targets, false)?.f_sum(Kind::Double)?.f_double_value(&[])?)
    })
}
