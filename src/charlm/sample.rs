//! Generating text from a character model: feed the prime, then draw one character at a time
//! from the softmax of the logits divided by the temperature (0: always the most likely),
//! optionally among the `top_k` most likely only. Runs without gradient tracking; the draws use
//! libtorch's generator (seed it for reproducible text).

use anyhow::{Context, Result, ensure};
use tch::{Device, Kind, Tensor};

use super::corpus::Vocabulary;
use super::model::CharModel;

/// Characters drawn between two copies to the host.
const SAMPLE_CHUNK: usize = 4096;

/// The most characters one call generates (they are held in memory until it returns).
pub const MAX_SAMPLE_LENGTH: usize = 100_000_000;

/// How to sample.
///
/// ```
/// let options = tch_rnn::charlm::SampleOptions { prime: "ROMEO:\n".into(), length: 200, temperature: 0.8, top_k: None };
/// assert!(options.validate().is_ok());
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
}

impl SampleOptions {
    /// A non-empty prime, at most [`MAX_SAMPLE_LENGTH`] characters to generate, a finite
    /// temperature of at least 0, a positive top-k.
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
        Ok(())
    }
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
    Ok(logits.f_softmax(-1, Kind::Float)?.f_multinomial(1, false)?)
}

/// `options.length` characters generated after `options.prime` (which is not repeated). Put
/// the model in evaluation mode first.
///
/// ```
/// use tch::{nn::VarStore, Device};
/// use tch_rnn::charlm::{sample, CharModel, ModelOptions, SampleOptions, Vocabulary};
/// let vocab = Vocabulary::from_text("hello world")?;
/// let vs = VarStore::new(Device::Cpu);
/// let options = ModelOptions { embedding: 4, hidden: 8, layers: 1, ..Default::default() };
/// let model = CharModel::new(&vs.root(), &options, vocab.len() as i64)?;
/// let options = SampleOptions { prime: "he".into(), length: 20, temperature: 1.0, top_k: Some(3) };
/// assert_eq!(sample(&model, &vocab, &options, Device::Cpu)?.chars().count(), 20);
/// # anyhow::Ok(())
/// ```
pub fn sample(model: &CharModel, vocab: &Vocabulary, options: &SampleOptions, device: Device) -> Result<String> {
    options.validate()?;
    let prime = vocab.encode(&options.prime).context("the prime")?;
    tch::no_grad(|| {
        let x = Tensor::from_slice(&prime).view([1, -1]).to_device(device);
        let (logits, mut state) = model.forward(&x, None)?;
        let mut last = logits.f_select(1, -1)?;
        // Drawn characters go to the host a chunk at a time: one copy per chunk rather than
        // one per character, and memory of 8 bytes per character rather than a tensor each.
        let mut indices = Vec::with_capacity(options.length.min(1 << 20));
        let mut drawn = Vec::with_capacity(SAMPLE_CHUNK);
        for i in 0..options.length {
            let next = pick(&last, options)?;
            let (logits, next_state) = model.forward(&next, Some(&state))?;
            (last, state) = (logits.f_select(1, 0)?, next_state);
            drawn.push(next);
            if drawn.len() == SAMPLE_CHUNK || i + 1 == options.length {
                let chunk = Tensor::f_cat(&drawn, 0)?.f_to_device(Device::Cpu)?.f_view([-1])?;
                indices.extend(Vec::<i64>::try_from(chunk)?);
                drawn.clear();
            }
        }
        Ok(vocab.decode(&indices))
    })
}
