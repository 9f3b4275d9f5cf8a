//! The recurrent base passes states as lists (one tensor, or `(h, c)` for LSTM); these turn such
//! lists back into the modules' typed states.

use tch::Tensor;

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
