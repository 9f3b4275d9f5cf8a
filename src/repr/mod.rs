//! PyTorch-style printing of tch tensors: [`repr`] gives exactly what Python's `repr(tensor)`,
//! `str(tensor)` and `print(tensor)` show in torch 2.13 (default print options), and [`Size`]
//! what `tensor.shape` shows.
//!
//! The code ports torch/_tensor_str.py piece by piece: [`PrintOptions`] is `PRINT_OPTS`, the
//! formatter module `_Formatter`, the layout module `_tensor_str_with_formatter` and
//! `_vector_str`, the summarize module `get_summarized_data`, and the tensor_repr module
//! `_str_intern` (torch's internal `__str__`) with its suffixes (`dtype=`, `device=`,
//! `grad_fn=`, `requires_grad=`).
//! tests/repr_parity.rs compares it with torch's own output, exported by
//! scripts/export_repr.py.
//!
//! ```
//! use tch::Tensor;
//! use tch_rnn::repr::Repr;
//! let t = Tensor::from_slice(&[1.0f32, 2.5, -3.0]).view([3, 1]).set_requires_grad(true).tanh();
//! assert_eq!(
//!     format!("Output: {}", Repr(&t)),
//!     "Output: tensor([[ 0.7616],\n        [ 0.9866],\n        [-0.9951]], grad_fn=<TanhBackward0>)"
//! );
//! ```

mod dtype;
mod element;
mod formatter;
mod layout;
mod options;
mod python_format;
mod size;
mod summarize;
mod tensor_repr;
mod values;

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use tch::Tensor;

pub use options::PrintOptions;
pub use size::Size;

/// Python's `repr(tensor)` with torch's default print options.
///
/// ```
/// use tch::{Kind, Tensor};
/// use tch_rnn::repr::repr;
/// assert_eq!(repr(&Tensor::from_slice(&[1.0f32, 2.0])), "tensor([1., 2.])");
/// assert_eq!(repr(&Tensor::from(1.5f64)), "tensor(1.5000, dtype=torch.float64)");
/// assert_eq!(repr(&Tensor::from_slice(&[true, false])), "tensor([ True, False])");
/// assert_eq!(repr(&Tensor::zeros([0, 3], (Kind::Int, tch::Device::Cpu))), "tensor([], size=(0, 3), dtype=torch.int32)");
/// ```
pub fn repr(tensor: &Tensor) -> String {
    repr_with(tensor, &PrintOptions::default())
}

/// Python's `repr(tensor)` under `torch.set_printoptions(**options)`.
///
/// Never panics: an undefined tensor prints as `tensor(undefined)`, and a tensor torch's
/// printer could not handle through tch (a dtype tch does not know, say) as
/// `tensor(<unprintable: reason>)`.
///
/// ```
/// use tch::Tensor;
/// use tch_rnn::repr::{PrintOptions, repr_with};
/// let options = PrintOptions { threshold: 5, ..PrintOptions::default() };
/// assert_eq!(repr_with(&Tensor::arange(10, tch::kind::INT64_CPU), &options), "tensor([0, 1, 2,  ..., 7, 8, 9])");
/// assert_eq!(repr_with(&Tensor::new(), &options), "tensor(undefined)");
/// ```
pub fn repr_with(tensor: &Tensor, options: &PrintOptions) -> String {
    if !tensor.defined() {
        return "tensor(undefined)".to_owned();
    }
    if options.precision > usize::from(u16::MAX) {
        // Rust's formatter takes at most u16::MAX digits, and panics past that.
        return format!("tensor(<unprintable: precision {} is more than {} digits>)", options.precision, u16::MAX);
    }
    // Like torch, print under no_grad; catch_unwind guards against tch accessors that panic
    // where libtorch throws.
    let printed = catch_unwind(AssertUnwindSafe(|| tch::no_grad(|| tensor_repr::str_intern(tensor, options))));
    match printed {
        Ok(Ok(text)) => text,
        Ok(Err(error)) => format!("tensor(<unprintable: {}>)", unprintable_reason(error)),
        Err(_) => "tensor(<unprintable>)".to_owned(),
    }
}

/// Why the printer could not print a tensor, on one short line: libtorch's message without its
/// C++ trace, and without the table of every backend that its dispatcher appends when an
/// operator has no kernel for the tensor's backend (a hundred lines of `registered at ...`).
fn unprintable_reason(error: tch::TchError) -> String {
    let line = crate::error::one_line(&error.into());
    match line.find(" This could be because the operator doesn't exist for this backend") {
        Some(end) => line[..end].to_owned(),
        None => line,
    }
}

/// The shape of `tensor` as Python prints `tensor.shape` or `tensor.size()`.
///
/// ```
/// let t = tch::Tensor::zeros([3, 1, 2], tch::kind::FLOAT_CPU);
/// assert_eq!(tch_rnn::repr::size(&t).to_string(), "torch.Size([3, 1, 2])");
/// ```
pub fn size(tensor: &Tensor) -> Size {
    Size::from(tensor)
}

/// A [`Display`](fmt::Display) adapter that prints a tensor like Python's `print(tensor)`, so
/// that callers can write `println!("Output: {}", Repr(&t))`.
///
/// ```
/// use tch_rnn::repr::Repr;
/// let t = tch::Tensor::from_slice(&[1i64, -20, 300]);
/// assert_eq!(format!("{}", Repr(&t)), "tensor([  1, -20, 300])");
/// ```
#[derive(Clone, Copy)]
pub struct Repr<'a>(pub &'a Tensor);

impl fmt::Display for Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&repr(self.0))
    }
}

#[cfg(test)]
mod tests;
