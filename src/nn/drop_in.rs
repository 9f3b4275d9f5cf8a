//! tch's own traits, so that code written for tch's layers runs on ours by changing only the
//! constructor: [`Linear`] and [`Embedding`] are `tch::nn::Module`s (and
//! [`MultiheadAttention`] one as self-attention, which tch lacks), and [`Rnn`], [`Lstm`] and
//! [`Gru`] are `tch::nn::RNN`s with tch's state types (`LSTMState` for the LSTM, the one-tensor
//! `GRUState` for the GRU and the RNN). The trait methods cannot return errors: where ours would,
//! they panic with the same one-line message, as tch's own modules do.

use tch::Tensor;
use tch::nn::{GRUState, LSTMState, Module, RNN};

use crate::nn::recurrent::{pair, single};
use crate::nn::{AttentionOptions, Embedding, Gru, Linear, Lstm, MultiheadAttention, Recurrent, RecurrentState, Rnn};

/// Unwraps a result the way tch's modules fail: a panic with the error's one-line message.
fn or_panic<T>(result: anyhow::Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{e:#}"))
}

impl Module for Linear {
    /// [`Linear::forward`]; panics with its message on bad input.
    fn forward(&self, xs: &Tensor) -> Tensor {
        or_panic(Linear::forward(self, xs))
    }
}

impl Module for Embedding {
    /// [`Embedding::forward`]; panics with its message on bad input.
    fn forward(&self, xs: &Tensor) -> Tensor {
        or_panic(Embedding::forward(self, xs))
    }
}

/// Zeros `(layers * directions, batch, size)` for each state tensor, of the parameters' dtype
/// and device.
fn zeros(base: &Recurrent, batch: i64) -> Vec<Tensor> {
    or_panic(base.zero_state(batch)).tensors().into_iter().map(Tensor::shallow_clone).collect()
}

/// One time step `(batch, features)` as a sequence of length one, in the module's layout.
fn one_step(base: &Recurrent, input: &Tensor) -> Tensor {
    input.unsqueeze(if base.config.batch_first { 1 } else { 0 })
}

impl RNN for Lstm {
    type State = LSTMState;

    fn zero_state(&self, batch_dim: i64) -> LSTMState {
        LSTMState(pair(zeros(&self.base, batch_dim)))
    }

    fn step(&self, input: &Tensor, state: &LSTMState) -> LSTMState {
        self.seq_init(&one_step(&self.base, input), state).1
    }

    /// Runs the sequence from zeros, in the module's layout (`batch_first` as configured).
    fn seq(&self, input: &Tensor) -> (Tensor, LSTMState) {
        let (output, state) = or_panic(self.forward(input, None));
        (output, LSTMState(state))
    }

    fn seq_init(&self, input: &Tensor, state: &LSTMState) -> (Tensor, LSTMState) {
        let LSTMState((h, c)) = state;
        let (output, state) = or_panic(self.forward(input, Some((h, c))));
        (output, LSTMState(state))
    }
}

/// `tch::nn::RNN` for a module with a one-tensor state, over its `forward`.
macro_rules! single_state_rnn {
    ($module:ty) => {
        impl RNN for $module {
            type State = GRUState;

            fn zero_state(&self, batch_dim: i64) -> GRUState {
                GRUState(single(zeros(&self.base, batch_dim)))
            }

            fn step(&self, input: &Tensor, state: &GRUState) -> GRUState {
                self.seq_init(&one_step(&self.base, input), state).1
            }

            /// Runs the sequence from zeros, in the module's layout (`batch_first` as configured).
            fn seq(&self, input: &Tensor) -> (Tensor, GRUState) {
                let (output, h) = or_panic(self.forward(input, None));
                (output, GRUState(h))
            }

            fn seq_init(&self, input: &Tensor, state: &GRUState) -> (Tensor, GRUState) {
                let (output, h) = or_panic(self.forward(input, Some(&state.0)));
                (output, GRUState(h))
            }
        }
    };
}

single_state_rnn!(Gru);
single_state_rnn!(Rnn);

impl RNN for Recurrent {
    type State = RecurrentState;

    fn zero_state(&self, batch_dim: i64) -> RecurrentState {
        or_panic(Recurrent::zero_state(self, batch_dim))
    }

    fn step(&self, input: &Tensor, state: &RecurrentState) -> RecurrentState {
        self.seq_init(&one_step(self, input), state).1
    }

    /// Runs the sequence from zeros, in the module's layout (`batch_first` as configured).
    fn seq(&self, input: &Tensor) -> (Tensor, RecurrentState) {
        or_panic(self.forward(input, None))
    }

    fn seq_init(&self, input: &Tensor, state: &RecurrentState) -> (Tensor, RecurrentState) {
        or_panic(self.forward(input, Some(state)))
    }
}

impl Module for MultiheadAttention {
    /// Self-attention as `torch.nn.TransformerEncoderLayer` calls it: `attn(xs, xs, xs,
    /// need_weights=False)[0]`, in the module's layout (`batch_first` as configured) and
    /// train/eval mode; panics with [`MultiheadAttention::forward`]'s message on bad input.
    fn forward(&self, xs: &Tensor) -> Tensor {
        let options = AttentionOptions { need_weights: false, ..Default::default() };
        or_panic(MultiheadAttention::forward(self, xs, xs, xs, &options)).0
    }
}
