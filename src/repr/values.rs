//! The printed elements, read out of a tensor as the Python scalars `tensor.tolist()` yields.

use tch::{Kind, TchError, Tensor};

use super::dtype::{is_complex, is_floating_point};

/// One real-valued column of printed elements, flat in row-major order.
pub(crate) enum Values {
    /// A bool tensor's elements.
    Bool(Vec<bool>),
    /// An integer tensor's elements (every integer kind fits in an `i64`).
    Int(Vec<i64>),
    /// A floating point tensor's elements, converted exactly to `f64` like Python's `float`.
    Float(Vec<f64>),
}

impl Values {
    /// Reads every element of a real (not complex) tensor.
    fn read(tensor: &Tensor) -> Result<Self, TchError> {
        let kind = tensor.f_kind()?;
        let flat = tensor.f_reshape([-1])?;
        Ok(if kind == Kind::Bool {
            Values::Bool(Vec::try_from(&flat)?)
        } else if is_floating_point(kind) {
            Values::Float(Vec::try_from(&flat.f_to_kind(Kind::Double)?)?)
        } else {
            Values::Int(Vec::try_from(&flat.f_to_kind(Kind::Int64)?)?)
        })
    }
}

/// The printed elements of a tensor: their real parts, and for complex tensors their
/// imaginary parts (torch formats the two with separate formatters).
pub(crate) struct PrintedValues {
    /// The elements, or the real parts of complex elements.
    pub real: Values,
    /// The imaginary parts of complex elements; `None` for real tensors.
    pub imag: Option<Values>,
}

impl PrintedValues {
    /// Reads every element of `tensor` (which holds only what will be printed).
    pub(crate) fn read(tensor: &Tensor) -> Result<Self, TchError> {
        if is_complex(tensor.f_kind()?) {
            Ok(Self { real: Values::read(&tensor.f_real()?)?, imag: Some(Values::read(&tensor.f_imag()?)?) })
        } else {
            Ok(Self { real: Values::read(tensor)?, imag: None })
        }
    }
}
