//! Variable-length batches, as PyTorch's `torch.nn.utils.rnn`: a [`PackedSequence`] holds the
//! time steps of sequences of different lengths without padding, sorted by length, and
//! [`Rnn`](crate::nn::Rnn), [`Lstm`](crate::nn::Lstm) and [`Gru`](crate::nn::Gru) run over it
//! (`forward_packed`) through the natives' `data, batch_sizes` forms, so no padding step is ever
//! computed. [`pack_padded_sequence`], [`pad_packed_sequence`], [`pack_sequence`] and
//! [`pad_sequence`] go between packed and padded batches over libtorch's own
//! `_pack_padded_sequence`, `_pad_packed_sequence` and `pad_sequence`.

use anyhow::{Result, bail, ensure};
use tch::{Device, Kind, Tensor};

use crate::error::guard;
use crate::nn::check::{ensure_defined, shape};

/// Sequence lengths: a slice, or a 1-D CPU tensor of integers (converted to int64, as PyTorch
/// does).
///
/// ```
/// use tch_rnn::nn::Lengths;
/// let from_slice: Lengths = (&[3i64, 2][..]).into();
/// let lengths = tch::Tensor::from_slice(&[3i64, 2]);
/// let from_tensor: Lengths = (&lengths).into();
/// # let _ = (from_slice, from_tensor);
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Lengths<'a> {
    Slice(&'a [i64]),
    Tensor(&'a Tensor),
}

impl<'a> From<&'a [i64]> for Lengths<'a> {
    fn from(lengths: &'a [i64]) -> Self {
        Lengths::Slice(lengths)
    }
}

impl<'a, const N: usize> From<&'a [i64; N]> for Lengths<'a> {
    fn from(lengths: &'a [i64; N]) -> Self {
        Lengths::Slice(lengths)
    }
}

impl<'a> From<&'a Vec<i64>> for Lengths<'a> {
    fn from(lengths: &'a Vec<i64>) -> Self {
        Lengths::Slice(lengths)
    }
}

impl<'a> From<&'a Tensor> for Lengths<'a> {
    fn from(lengths: &'a Tensor) -> Self {
        Lengths::Tensor(lengths)
    }
}

impl Lengths<'_> {
    /// The lengths as PyTorch's `_pack_padded_sequence` wants them: a 1-D CPU int64 tensor.
    fn to_tensor(self, function: &str) -> Result<Tensor> {
        match self {
            Lengths::Slice(values) => Ok(Tensor::from_slice(values)),
            Lengths::Tensor(t) => {
                ensure_defined(function, "lengths", t)?;
                ensure!(
                    t.dim() == 1 && t.device() == Device::Cpu && !t.is_floating_point() && t.kind() != Kind::Bool,
                    "{function}: 'lengths' argument should be a 1D CPU int64 tensor, but got {}D {:?} {:?} tensor",
                    t.dim(),
                    t.device(),
                    t.kind()
                );
                Ok(t.f_to_kind(Kind::Int64)?)
            }
        }
    }
}

/// A batch of sequences of different lengths, packed time step by time step: PyTorch's
/// `PackedSequence`. Made by [`pack_padded_sequence`] and [`pack_sequence`], and returned by
/// the recurrent modules' `forward_packed`; read back with [`pad_packed_sequence`].
///
/// - `data`: `(sum of lengths, *)`, the first time step of every sequence, then the second of
///   every sequence that has one, and so on;
/// - `batch_sizes`: a CPU int64 tensor, how many sequences have each time step;
/// - `sorted_indices`: the order (longest first) the sequences were packed in, when
///   `enforce_sorted` was false; `unsorted_indices` its inverse.
///
/// ```
/// use tch::{Kind, Device, Tensor};
/// use tch_rnn::nn::pack_sequence;
/// let a = Tensor::ones([3, 2], (Kind::Float, Device::Cpu));
/// let b = Tensor::ones([1, 2], (Kind::Float, Device::Cpu));
/// let packed = pack_sequence(&[a, b], true)?;
/// assert_eq!(Vec::<i64>::try_from(packed.batch_sizes())?, [2, 1, 1]);
/// assert_eq!(packed.data().size(), [4, 2]);
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct PackedSequence {
    data: Tensor,
    batch_sizes: Tensor,
    /// `batch_sizes[0]`, read once.
    max_batch_size: i64,
    sorted_indices: Option<Tensor>,
    unsorted_indices: Option<Tensor>,
}

impl PackedSequence {
    fn new(data: Tensor, batch_sizes: Tensor, sorted_indices: Option<Tensor>) -> Result<Self> {
        let max_batch_size = batch_sizes.f_int64_value(&[0])?;
        let unsorted_indices = sorted_indices.as_ref().map(invert_permutation).transpose()?;
        Ok(PackedSequence { data, batch_sizes, max_batch_size, sorted_indices, unsorted_indices })
    }

    /// The packed time steps, `(sum of lengths, *)`.
    pub fn data(&self) -> &Tensor {
        &self.data
    }

    /// How many sequences have each time step (CPU, int64), non-increasing.
    pub fn batch_sizes(&self) -> &Tensor {
        &self.batch_sizes
    }

    /// The batch positions of the packed sequences, longest first (when they were sorted).
    pub fn sorted_indices(&self) -> Option<&Tensor> {
        self.sorted_indices.as_ref()
    }

    /// The inverse of [`sorted_indices`](Self::sorted_indices).
    pub fn unsorted_indices(&self) -> Option<&Tensor> {
        self.unsorted_indices.as_ref()
    }

    /// The same sequences with `data` and the indices on `device` (`batch_sizes` stays on the
    /// CPU, as libtorch requires).
    pub fn to_device(&self, device: Device) -> Result<PackedSequence> {
        guard("PackedSequence", || {
            let move_to = |t: &Tensor| t.f_to_device(device);
            Ok(PackedSequence {
                data: move_to(&self.data)?,
                batch_sizes: self.batch_sizes.shallow_clone(),
                max_batch_size: self.max_batch_size,
                sorted_indices: self.sorted_indices.as_ref().map(move_to).transpose()?,
                unsorted_indices: self.unsorted_indices.as_ref().map(move_to).transpose()?,
            })
        })
    }

    /// The largest batch, that of the first time step.
    pub(crate) fn max_batch_size(&self) -> i64 {
        self.max_batch_size
    }

    /// Another `data` with the same lengths and order (a recurrent module's output).
    pub(crate) fn with_data(&self, data: Tensor) -> PackedSequence {
        PackedSequence {
            data,
            batch_sizes: self.batch_sizes.shallow_clone(),
            max_batch_size: self.max_batch_size,
            sorted_indices: self.sorted_indices.as_ref().map(Tensor::shallow_clone),
            unsorted_indices: self.unsorted_indices.as_ref().map(Tensor::shallow_clone),
        }
    }

    /// A state `(layers, batch, *)` given in the caller's batch order, in packing order.
    pub(crate) fn sort_state(&self, state: &Tensor) -> Result<Tensor> {
        permute_batch(state, self.sorted_indices.as_ref())
    }

    /// A state in packing order, back in the caller's batch order.
    pub(crate) fn unsort_state(&self, state: &Tensor) -> Result<Tensor> {
        permute_batch(state, self.unsorted_indices.as_ref())
    }
}

/// PyTorch's `_apply_permutation(state, permutation, dim=1)`.
fn permute_batch(state: &Tensor, permutation: Option<&Tensor>) -> Result<Tensor> {
    match permutation {
        Some(p) if state.dim() >= 2 => Ok(state.f_index_select(1, p)?),
        Some(_) => bail!("expected a state of shape (layers, batch, size), got {}", shape(state)),
        None => Ok(state.shallow_clone()),
    }
}

/// PyTorch's `invert_permutation`: `output[permutation[i]] = i`.
fn invert_permutation(permutation: &Tensor) -> Result<Tensor> {
    let positions = Tensor::f_arange(permutation.numel() as i64, (Kind::Int64, permutation.device()))?;
    Ok(permutation.f_empty_like()?.f_scatter_(0, permutation, &positions)?)
}

/// Packs a padded batch of sequences: PyTorch's `pack_padded_sequence(input, lengths,
/// batch_first, enforce_sorted)`.
///
/// `input` is `(T, B, *)` (`(B, T, *)` with `batch_first`), `lengths` the length of each of the
/// `B` sequences, all in `1..=T`. With `enforce_sorted` they must be non-increasing; otherwise
/// they are sorted here and the order is remembered, so that outputs and states come back in
/// the caller's order.
///
/// ```
/// use tch::{Kind, Device, Tensor};
/// use tch_rnn::nn::pack_padded_sequence;
/// let padded = Tensor::zeros([4, 3, 2], (Kind::Float, Device::Cpu)); // (T, B, features)
/// let packed = pack_padded_sequence(&padded, &[2, 4, 1], false, false)?;
/// assert_eq!(Vec::<i64>::try_from(packed.batch_sizes())?, [3, 2, 1, 1]);
/// assert!(pack_padded_sequence(&padded, &[2, 4, 1], false, true).is_err()); // not sorted
/// # anyhow::Ok(())
/// ```
pub fn pack_padded_sequence<'a>(
    input: &Tensor,
    lengths: impl Into<Lengths<'a>>,
    batch_first: bool,
    enforce_sorted: bool,
) -> Result<PackedSequence> {
    const F: &str = "pack_padded_sequence";
    let lengths = lengths.into();
    guard(F, || pack_padded(input, lengths, batch_first, enforce_sorted))
}

fn pack_padded(input: &Tensor, lengths: Lengths, batch_first: bool, enforce_sorted: bool) -> Result<PackedSequence> {
    const F: &str = "pack_padded_sequence";
    let lengths = lengths.to_tensor(F)?;
    ensure_defined(F, "input", input)?;
    ensure!(
        input.dim() >= 2,
        "{F}: expected input of shape (T, B, *) or, with batch_first, (B, T, *), got {}",
        shape(input)
    );
    ensure!(input.numel() > 0, "{F}: Cannot pack empty tensors (input shape {}).", shape(input));
    let (batch_dim, seq_dim) = if batch_first { (0, 1) } else { (1, 0) };
    let (batch, seq_len) = (input.size()[batch_dim], input.size()[seq_dim]);
    let values = Vec::<i64>::try_from(&lengths)?;
    ensure!(
        values.len() as i64 == batch,
        "{F}: Expected `len(lengths)` to be equal to batch_size, but got {} (batch_size={batch})",
        values.len()
    );
    ensure!(
        values.iter().all(|&l| l > 0),
        "{F}: Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0 (lengths {values:?})"
    );
    if let Some((i, &longest)) = values.iter().enumerate().find(|&(_, &l)| l > seq_len) {
        bail!(
            "{F}: lengths[{i}] = {longest} is longer than the sequences of input, {seq_len} steps (shape {})",
            shape(input)
        );
    }
    let (input, lengths, sorted_indices) = if enforce_sorted {
        ensure!(
            values.windows(2).all(|w| w[0] >= w[1]),
            "{F}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass \
             `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if you \
             do not need ONNX exportability (lengths {values:?})."
        );
        (input.shallow_clone(), lengths, None)
    } else {
        let (sorted, indices) = lengths.f_sort(0, true)?;
        let indices = indices.f_to_device(input.device())?;
        (input.f_index_select(batch_dim as i64, &indices)?, sorted, Some(indices))
    };
    let (data, batch_sizes) = input.f_internal_pack_padded_sequence(&lengths, batch_first)?;
    PackedSequence::new(data, batch_sizes, sorted_indices)
}

/// Pads a packed batch back into a tensor: PyTorch's `pad_packed_sequence(sequence,
/// batch_first, padding_value, total_length)`. Returns the padded batch, `(T, B, *)` (or
/// `(B, T, *)`), in the caller's original order, and the lengths (CPU int64). `T` is the
/// longest length, or `total_length` when given (it may not be shorter).
///
/// ```
/// use tch::{Kind, Device, Tensor};
/// use tch_rnn::nn::{pack_padded_sequence, pad_packed_sequence};
/// let padded = Tensor::ones([4, 3, 2], (Kind::Float, Device::Cpu));
/// let packed = pack_padded_sequence(&padded, &[2, 4, 1], false, false)?;
/// let (again, lengths) = pad_packed_sequence(&packed, false, 0.0, Some(5))?;
/// assert_eq!((again.size(), Vec::<i64>::try_from(lengths)?), (vec![5, 3, 2], vec![2, 4, 1]));
/// # anyhow::Ok(())
/// ```
pub fn pad_packed_sequence(
    sequence: &PackedSequence,
    batch_first: bool,
    padding_value: f64,
    total_length: Option<i64>,
) -> Result<(Tensor, Tensor)> {
    guard("pad_packed_sequence", || pad_packed(sequence, batch_first, padding_value, total_length))
}

fn pad_packed(
    sequence: &PackedSequence,
    batch_first: bool,
    padding_value: f64,
    total_length: Option<i64>,
) -> Result<(Tensor, Tensor)> {
    let longest = sequence.batch_sizes.size()[0];
    let length = match total_length {
        Some(total) if total < longest => bail!(
            "pad_packed_sequence: Expected total_length to be at least the length of the longest sequence in input, \
             but got total_length={total} and max sequence length being {longest}"
        ),
        Some(total) => total,
        None => longest,
    };
    let (padded, lengths) = Tensor::f_internal_pad_packed_sequence(
        &sequence.data,
        &sequence.batch_sizes,
        batch_first,
        padding_value,
        length,
    )?;
    match &sequence.unsorted_indices {
        Some(unsorted) => {
            let batch_dim = if batch_first { 0 } else { 1 };
            Ok((
                padded.f_index_select(batch_dim, unsorted)?,
                lengths.f_index_select(0, &unsorted.f_to_device(Device::Cpu)?)?,
            ))
        }
        None => Ok((padded, lengths)),
    }
}

/// Where [`pad_sequence`] puts the padding: PyTorch's `padding_side`.
///
/// ```
/// assert_eq!(tch_rnn::nn::PaddingSide::default(), tch_rnn::nn::PaddingSide::Right);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PaddingSide {
    /// After each sequence (PyTorch's default).
    #[default]
    Right,
    /// Before each sequence.
    Left,
}

/// Stacks sequences of different lengths into one padded batch: PyTorch's
/// `pad_sequence(sequences, batch_first, padding_value, padding_side)`. Each sequence is
/// `(L_i, *)` with the same trailing shape `*`; the result is `(max L_i, B, *)` (or `(B, max L_i,
/// *)`), in the dtype of the first sequence.
///
/// ```
/// use tch::{Kind, Device, Tensor};
/// use tch_rnn::nn::{pad_sequence, PaddingSide};
/// let a = Tensor::ones([3], (Kind::Float, Device::Cpu));
/// let b = Tensor::ones([1], (Kind::Float, Device::Cpu));
/// let padded = pad_sequence(&[a, b], true, -1.0, PaddingSide::Right)?;
/// assert_eq!(Vec::<f32>::try_from(padded.flatten(0, -1))?, [1.0, 1.0, 1.0, 1.0, -1.0, -1.0]);
/// # anyhow::Ok(())
/// ```
pub fn pad_sequence(
    sequences: &[Tensor],
    batch_first: bool,
    padding_value: f64,
    padding_side: PaddingSide,
) -> Result<Tensor> {
    const F: &str = "pad_sequence";
    guard(F, || {
        check_sequences(F, sequences)?;
        pad(sequences, batch_first, padding_value, padding_side)
    })
}

/// libtorch's `pad_sequence` on sequences [`check_sequences`] accepted.
fn pad(sequences: &[Tensor], batch_first: bool, padding_value: f64, padding_side: PaddingSide) -> Result<Tensor> {
    let side = match padding_side {
        PaddingSide::Right => "right",
        PaddingSide::Left => "left",
    };
    Ok(Tensor::f_pad_sequence(sequences, batch_first, padding_value, side)?)
}

/// Packs sequences of different lengths: PyTorch's `pack_sequence(sequences,
/// enforce_sorted)`, i.e. [`pad_sequence`] then [`pack_padded_sequence`] with their lengths.
///
/// ```
/// use tch::{Kind, Device, Tensor};
/// let seqs = [1, 3, 2].map(|l| Tensor::ones([l, 4], (Kind::Float, Device::Cpu)));
/// let packed = tch_rnn::nn::pack_sequence(&seqs, false)?;
/// assert_eq!(Vec::<i64>::try_from(packed.sorted_indices().unwrap())?, [1, 2, 0]);
/// # anyhow::Ok(())
/// ```
pub fn pack_sequence(sequences: &[Tensor], enforce_sorted: bool) -> Result<PackedSequence> {
    guard("pack_sequence", || {
        check_sequences("pack_sequence", sequences)?;
        let lengths: Vec<i64> = sequences.iter().map(|s| s.size()[0]).collect();
        let padded = pad(sequences, false, 0.0, PaddingSide::Right)?;
        pack_padded_sequence(&padded, &lengths, false, enforce_sorted)
    })
}

/// A non-empty list of sequences `(L_i, *)` with one trailing shape, on one device.
fn check_sequences(function: &str, sequences: &[Tensor]) -> Result<()> {
    let Some(first) = sequences.first() else {
        bail!("{function}: received an empty list of sequences");
    };
    for (i, s) in sequences.iter().enumerate() {
        ensure_defined(function, &format!("sequence {i}"), s)?;
        ensure!(s.dim() >= 1, "{function}: sequence {i} is a 0-d tensor; expected (L, *)");
        ensure!(
            s.size()[1..] == first.size()[1..] && s.device() == first.device(),
            "{function}: every sequence must have the trailing shape and device of the first ({} on {:?}), \
             got {} on {:?} for sequence {i}",
            shape(first),
            first.device(),
            shape(s),
            s.device()
        );
    }
    Ok(())
}
