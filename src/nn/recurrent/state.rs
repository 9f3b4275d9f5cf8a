//! The state of a multi-layer recurrent module: `h`, or `(h, c)` for an LSTM. The base passes
//! states as lists of tensors; [`RecurrentState`] is the public form, and [`single`] and
//! [`pair`] give the typed modules theirs.

use anyhow::{Result, bail};
use tch::Tensor;

use super::mode::Mode;

/// The state a [`Recurrent`](crate::nn::Recurrent) module takes and returns: `h` for RNN and
/// GRU, `(h, c)` for LSTM, each `(D * num_layers, N, size)` (no `N` for unbatched input).
///
/// ```
/// use tch_rnn::nn::RecurrentState;
/// let state = RecurrentState::HiddenAndCell(tch::Tensor::zeros([1, 2, 3], tch::kind::FLOAT_CPU), tch::Tensor::zeros([1, 2, 4], tch::kind::FLOAT_CPU));
/// assert_eq!(state.h().size(), [1, 2, 3]);
/// assert_eq!(state.tensors().len(), 2);
/// ```
#[derive(Debug)]
pub enum RecurrentState {
    /// `h` of an RNN or a GRU.
    Hidden(Tensor),
    /// `(h, c)` of an LSTM.
    HiddenAndCell(Tensor, Tensor),
}

impl RecurrentState {
    /// `h`, the hidden state (projected, for an LSTM with `proj_size`).
    pub fn h(&self) -> &Tensor {
        match self {
            RecurrentState::Hidden(h) | RecurrentState::HiddenAndCell(h, _) => h,
        }
    }

    /// The state's tensors in PyTorch's order: `[h]` or `[h, c]`.
    pub fn tensors(&self) -> Vec<&Tensor> {
        match self {
            RecurrentState::Hidden(h) => vec![h],
            RecurrentState::HiddenAndCell(h, c) => vec![h, c],
        }
    }

    /// The same state cut from the graph that made it (`repackage_hidden` in PyTorch's
    /// `word_language_model`), for truncated back-propagation through time.
    ///
    /// ```
    /// let h = tch::Tensor::ones([1, 1, 2], tch::kind::FLOAT_CPU).set_requires_grad(true) * 2;
    /// let state = tch_rnn::nn::RecurrentState::Hidden(h).detach();
    /// assert!(!state.h().requires_grad());
    /// ```
    pub fn detach(&self) -> RecurrentState {
        self.map(Tensor::detach)
    }

    /// Applies `f` to every tensor of the state, keeping its kind.
    pub fn map(&self, f: impl Fn(&Tensor) -> Tensor) -> RecurrentState {
        match self {
            RecurrentState::Hidden(h) => RecurrentState::Hidden(f(h)),
            RecurrentState::HiddenAndCell(h, c) => RecurrentState::HiddenAndCell(f(h), f(c)),
        }
    }

    /// The state of a `mode` module from the list the base returns (one tensor, or two for
    /// LSTM).
    pub(crate) fn from_tensors(mode: Mode, state: Vec<Tensor>) -> RecurrentState {
        if mode == Mode::Lstm {
            let (h, c) = pair(state);
            RecurrentState::HiddenAndCell(h, c)
        } else {
            RecurrentState::Hidden(single(state))
        }
    }

    /// Applies the fallible `f` (a `tch` `f_` method) to every tensor of the state, keeping its
    /// kind.
    ///
    /// ```
    /// let state = tch_rnn::nn::RecurrentState::Hidden(tch::Tensor::zeros([2, 3, 4], tch::kind::FLOAT_CPU));
    /// let last = state.try_map(|t| t.f_narrow(1, 2, 1))?;
    /// assert_eq!(last.h().size(), [2, 1, 4]);
    /// # anyhow::Ok(())
    /// ```
    pub fn try_map(&self, f: impl Fn(&Tensor) -> Result<Tensor, tch::TchError>) -> Result<RecurrentState> {
        Ok(match self {
            RecurrentState::Hidden(h) => RecurrentState::Hidden(f(h)?),
            RecurrentState::HiddenAndCell(h, c) => RecurrentState::HiddenAndCell(f(h)?, f(c)?),
        })
    }

    /// The state as the list a `mode` module takes, or a one-line error naming the module when
    /// its kind does not fit.
    pub(crate) fn tensors_for(&self, mode: Mode) -> Result<Vec<&Tensor>> {
        match (self, mode) {
            (RecurrentState::HiddenAndCell(..), Mode::Lstm) => Ok(self.tensors()),
            (RecurrentState::Hidden(_), m) if m != Mode::Lstm => Ok(self.tensors()),
            (RecurrentState::Hidden(_), _) => {
                bail!("LSTM: expected the state (h, c), got one tensor h (RecurrentState::Hidden)")
            }
            (RecurrentState::HiddenAndCell(..), m) => {
                bail!("{}: expected the state h, got (h, c) (RecurrentState::HiddenAndCell)", m.name())
            }
        }
    }
}

/// The one tensor of a one-tensor state.
pub(crate) fn single(state: Vec<Tensor>) -> Tensor {
    let [h]: [Tensor; 1] = state.try_into().expect("the base returns one state tensor for this mode");
    h
}

/// The `(h, c)` of an LSTM state.
pub(crate) fn pair(state: Vec<Tensor>) -> (Tensor, Tensor) {
    let [h, c]: [Tensor; 2] = state.try_into().expect("the base returns (h, c) for LSTM");
    (h, c)
}
