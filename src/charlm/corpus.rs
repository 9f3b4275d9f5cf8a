//! The text a character model learns from: its vocabulary (the distinct characters, sorted), and
//! the split into the part it trains on and the 5% at the end held out for validation.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use tch::{Device, Kind, Tensor};

use crate::fsutil::read_regular_file;
use crate::options::{Domain, OptionError, option_group};
use crate::sha256::sha256_hex;

option_group! {
    /// What a character model learns from and in what pieces: the `data` group of
    /// `config.json`, and the data flags of `tch-rnn train`.
    ///
    /// ```
    /// let data = tch_rnn::charlm::DataOptions::default();
    /// assert_eq!((data.text, data.seq_len, data.batch), (None, 64, 32));
    /// ```
    pub struct DataOptions {
        /// The text to learn, UTF-8 (nine plays of Shakespeare, embedded, if none).
        text: Option<PathBuf> = None, Domain::Path, Change;
        /// Characters per training window (and truncated back-propagation).
        seq_len: i64 = 64, Domain::Integer { min: 1 }, Keep;
        /// Windows per step.
        batch: i64 = 32, Domain::Integer { min: 1 }, Keep;
        /// How steps cut the text: random windows from a zero state, or batch contiguous
        /// streams in consecutive windows with the state carried (char-rnn's).
        batching: Batching = Batching::Random, Domain::Choice(&["random", "streams"]), Keep;
        /// A separate text to validate on (default: the text's last 5%, held out).
        val_text: Option<PathBuf> = None, Domain::Path, Change;
    }
}

/// How training steps cut the text.
///
/// ```
/// let batching: tch_rnn::charlm::Batching = serde_json::from_str("\"streams\"")?;
/// assert_eq!(batching, tch_rnn::charlm::Batching::Streams);
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Batching {
    /// Each step draws `batch` windows at random places and runs them from a zero state.
    Random,
    /// The text is cut into `batch` contiguous streams, each epoch at a random offset below
    /// `seq_len`; steps run consecutive windows of them, the state carried (and detached)
    /// from one step to the next: truncated back-propagation through time.
    Streams,
}

/// Where the streams scheme stands: the epoch's offset and its next window.
///
/// ```
/// let at = tch_rnn::charlm::StreamPosition { offset: 3, window: 0 };
/// assert_eq!(serde_json::to_string(&at)?, r#"{"offset":3,"window":0}"#);
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamPosition {
    pub offset: i64,
    pub window: i64,
}

/// The most characters one step may take (`seq_len x batch`).
pub const MAX_STEP_CHARACTERS: i64 = 1 << 31;

impl DataOptions {
    /// A step's characters fit in memory.
    fn rules(&self) -> Result<()> {
        let chars = self.seq_len.saturating_mul(self.batch);
        if chars > MAX_STEP_CHARACTERS {
            let message = format!("seq_len x batch is too large ({chars}; at most {MAX_STEP_CHARACTERS})");
            return Err(OptionError::new("batch", message).into());
        }
        Ok(())
    }
}

/// The text `tch-rnn train` learns when given none: nine plays of Shakespeare in the style of
/// tinyshakespeare, 1.1 MB of ASCII (see data/README.md for its source and licence).
pub const SHAKESPEARE: &str = include_str!("../../data/shakespeare.txt");

/// The share of a text held out, at its end, for validation.
pub const VALIDATION_FRACTION: f64 = 0.05;

/// The distinct characters of a text, sorted, each standing for its index.
///
/// ```
/// use tch_rnn::charlm::Vocabulary;
/// let vocab = Vocabulary::from_text("hello")?;
/// assert_eq!(vocab.chars(), ['e', 'h', 'l', 'o']); // the tutorial's dictionary
/// assert_eq!(vocab.encode("hello")?, [1, 0, 2, 2, 3]);
/// assert_eq!(vocab.decode(&[3, 1, 2, 3, 2]), "ohlol");
/// assert!(vocab.encode("help").is_err());
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    chars: Vec<char>,
    index: HashMap<char, i64>,
}

impl Vocabulary {
    /// The sorted distinct characters of `text` (which must not be empty).
    pub fn from_text(text: &str) -> Result<Self> {
        let chars: BTreeSet<char> = text.chars().collect();
        Self::from_chars(chars.into_iter().collect())
    }

    /// A vocabulary of `chars`, in that order (as a checkpoint stores it): non-empty, no
    /// character twice.
    pub fn from_chars(chars: Vec<char>) -> Result<Self> {
        ensure!(!chars.is_empty(), "vocabulary: no characters");
        let index: HashMap<char, i64> = chars.iter().enumerate().map(|(i, &c)| (c, i as i64)).collect();
        ensure!(index.len() == chars.len(), "vocabulary: a character appears twice");
        Ok(Vocabulary { chars, index })
    }

    /// The characters, index by index.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// How many characters there are.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Never: a vocabulary has at least one character.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Whether `c` is one of the characters.
    pub fn contains(&self, c: char) -> bool {
        self.index.contains_key(&c)
    }

    /// The indices of the characters of `text`; an error naming the characters the vocabulary
    /// does not have.
    pub fn encode(&self, text: &str) -> Result<Vec<i64>> {
        let unknown: BTreeSet<char> = text.chars().filter(|c| !self.index.contains_key(c)).collect();
        if !unknown.is_empty() {
            let shown: Vec<String> = unknown.iter().take(10).map(|c| format!("{c:?}")).collect();
            bail!(
                "{} character(s) not in the model's vocabulary of {}: {}{}",
                unknown.len(),
                self.chars.len(),
                shown.join(", "),
                if unknown.len() > 10 { ", ..." } else { "" }
            );
        }
        Ok(text.chars().map(|c| self.index[&c]).collect())
    }

    /// The characters of `indices` (indices outside the vocabulary are skipped).
    pub fn decode(&self, indices: &[i64]) -> String {
        indices.iter().filter_map(|&i| usize::try_from(i).ok().and_then(|i| self.chars.get(i))).collect()
    }
}

/// Reads the text at `path` as UTF-8, or returns the embedded Shakespeare when `path` is
/// `None`; also returns where it came from, for messages and the run's config.
///
/// ```
/// let (text, source) = tch_rnn::charlm::read_text(None)?;
/// assert!(text.starts_with("BERNARDO:") && source == "<embedded Shakespeare>");
/// # anyhow::Ok(())
/// ```
pub fn read_text(path: Option<&Path>) -> Result<(String, String)> {
    let Some(path) = path else {
        return Ok((SHAKESPEARE.to_string(), "<embedded Shakespeare>".into()));
    };
    let shown = path.display();
    // Checked as opened (a FIFO or device put in its place cannot hang the read); no size limit
    // beyond what a String can hold.
    let bytes = read_regular_file(path, "the text", isize::MAX as u64)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!("the text {shown} is not UTF-8 (invalid byte at offset {})", e.utf8_error().valid_up_to())
    })?;
    ensure!(!text.is_empty(), "the text {shown} is empty");
    Ok((text, shown.to_string()))
}

/// The SHA-256 of a text, in hex: how a checkpoint remembers the text it was trained on.
///
/// ```
/// assert_eq!(tch_rnn::charlm::text_sha256("").len(), 64);
/// ```
pub fn text_sha256(text: &str) -> String {
    sha256_hex(text.as_bytes())
}

/// A text ready for training: its vocabulary and its characters as indices (int64, CPU), split
/// into the first 95% to train on and the last 5% for validation.
///
/// ```
/// let corpus = tch_rnn::charlm::Corpus::new(&"abcd".repeat(100), 16)?;
/// assert_eq!((corpus.train.size(), corpus.validation.size()), (vec![380], vec![20]));
/// assert!(tch_rnn::charlm::Corpus::new("abc", 16).is_err());
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct Corpus {
    pub vocab: Vocabulary,
    pub train: Tensor,
    pub validation: Tensor,
}

impl Corpus {
    /// Splits `text` for windows of `seq_len` characters: the training part must hold at least
    /// one window and its next character, the validation part at least two characters.
    pub fn new(text: &str, seq_len: i64) -> Result<Self> {
        Self::with_vocabulary(text, seq_len, Vocabulary::from_text(text)?)
    }

    /// The whole of `text` to train on and `validation` to validate on (at least two
    /// characters, all in `vocab`, the training text's or an earlier run's).
    ///
    /// ```
    /// let vocab = tch_rnn::charlm::Vocabulary::from_text("abcd")?;
    /// let corpus = tch_rnn::charlm::Corpus::with_validation_text(&"abcd".repeat(10), "dcba", 8, vocab)?;
    /// assert_eq!((corpus.train.size(), corpus.validation.size()), (vec![40], vec![4]));
    /// # anyhow::Ok(())
    /// ```
    pub fn with_validation_text(text: &str, validation: &str, seq_len: i64, vocab: Vocabulary) -> Result<Self> {
        let train = Tensor::from_slice(&vocab.encode(text)?);
        let validation = Tensor::from_slice(
            &vocab.encode(validation).context("the validation text, in the training text's characters")?,
        );
        let n = train.size()[0];
        if n <= seq_len {
            let message = format!("{seq_len} is too long for a text of {n} characters, too few to train on");
            return Err(OptionError::new("seq_len", message).into());
        }
        let m = validation.size()[0];
        if m < 2 {
            return Err(OptionError::new(
                "val_text",
                format!("the validation text has {m} character(s), fewer than 2"),
            )
            .into());
        }
        Ok(Corpus { vocab, train, validation })
    }

    /// As [`Corpus::new`], with the vocabulary of an earlier run (which must cover `text`).
    pub fn with_vocabulary(text: &str, seq_len: i64, vocab: Vocabulary) -> Result<Self> {
        let indices = vocab.encode(text)?;
        let n = indices.len() as i64;
        let validation_len = ((n as f64 * VALIDATION_FRACTION).round() as i64).max(2);
        let train_len = n - validation_len;
        if train_len <= seq_len {
            let message = format!(
                "{seq_len} is too long for a text of {n} characters, too few: windows of {seq_len} need at least {} \
                 characters to train on, after the {validation_len} held out for validation (a shorter seq_len, or a \
                 longer text)",
                seq_len + 1
            );
            return Err(OptionError::new("seq_len", message).into());
        }
        let all = Tensor::from_slice(&indices);
        Ok(Corpus { vocab, train: all.narrow(0, 0, train_len), validation: all.narrow(0, train_len, validation_len) })
    }
}

/// Cuts training batches from `train` as `data.batching` says; for the streams scheme it
/// keeps its position, and starts each epoch (a new offset, drawn, and a zero state).
pub(super) struct Batches<'a> {
    pub train: &'a Tensor,
    pub batch: i64,
    pub seq_len: i64,
    pub batching: Batching,
}

impl Batches<'_> {
    /// The next batch of inputs and next characters, `(batch, seq_len)` each. For the streams
    /// scheme, `position` moves on (a new epoch when the streams are used up: `carry` is then
    /// cleared, the state starting from zero).
    pub fn next<S>(&self, position: &mut Option<StreamPosition>, carry: &mut Option<S>) -> Result<(Tensor, Tensor)> {
        if self.batching == Batching::Random {
            return random_batch(self.train, self.batch, self.seq_len);
        }
        let at = match *position {
            Some(at) if at.window < self.windows_per_epoch(at.offset) => at,
            _ => {
                *carry = None;
                let offset = Tensor::f_randint(self.seq_len, [1], (Kind::Int64, Device::Cpu))?.f_int64_value(&[0])?;
                ensure!(
                    self.windows_per_epoch(offset) > 0,
                    "the text is too short for {} streams of windows of {} characters",
                    self.batch,
                    self.seq_len
                );
                StreamPosition { offset, window: 0 }
            }
        };
        let stream_length = (self.train.size()[0] - at.offset - 1) / self.batch;
        let starts = Tensor::f_arange(self.batch, (Kind::Int64, Device::Cpu))? * stream_length
            + (at.offset + at.window * self.seq_len);
        *position = Some(StreamPosition { window: at.window + 1, ..at });
        windows(self.train, &starts, self.seq_len)
    }

    /// The full windows of each stream in an epoch cut at `offset`.
    fn windows_per_epoch(&self, offset: i64) -> i64 {
        (self.train.size()[0] - offset - 1) / self.batch / self.seq_len
    }
}

/// A training batch: `batch` windows of `seq_len` characters drawn at random places of `train`
/// (libtorch's generator, as `torch.randint`), as inputs and next characters, each
/// `(batch, seq_len)`.
pub(super) fn random_batch(train: &Tensor, batch: i64, seq_len: i64) -> Result<(Tensor, Tensor)> {
    let starts = Tensor::f_randint(train.size()[0] - seq_len, [batch], (Kind::Int64, Device::Cpu))?;
    windows(train, &starts, seq_len)
}

/// The windows of `len + 1` characters of `data` (1-D, on the CPU) that start at `starts`, one
/// per row, split into inputs (the first `len`) and next characters (the last `len`).
pub(super) fn windows(data: &Tensor, starts: &Tensor, len: i64) -> Result<(Tensor, Tensor)> {
    let index = starts.f_unsqueeze(1)? + Tensor::f_arange(len + 1, (Kind::Int64, Device::Cpu))?;
    let chunk = data.f_index_select(0, &index.f_view([-1])?)?.f_view([starts.size()[0], len + 1])?;
    Ok((chunk.f_narrow(1, 0, len)?, chunk.f_narrow(1, 1, len)?))
}
