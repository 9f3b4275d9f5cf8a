//! [`Size`], a tensor's shape as Python prints `torch.Size`, and the tuple spelling that
//! `size=(2, 3)` suffixes use.

use std::fmt;

use tch::Tensor;

/// A tensor's shape, printed like Python's `torch.Size`.
///
/// ```
/// use tch_rnn::repr::Size;
/// assert_eq!(Size(vec![3, 1, 2]).to_string(), "torch.Size([3, 1, 2])");
/// assert_eq!(Size(vec![]).to_string(), "torch.Size([])");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Size(pub Vec<i64>);

impl fmt::Display for Size {
    /// `str(torch.Size(shape))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "torch.Size([{}])", join(&self.0))
    }
}

impl From<&Tensor> for Size {
    /// The shape of `tensor`, `tensor.shape` in Python; an undefined tensor has the shape `[]`.
    ///
    /// ```
    /// let t = tch::Tensor::zeros([2, 0, 4], (tch::Kind::Float, tch::Device::Cpu));
    /// assert_eq!(tch_rnn::repr::Size::from(&t).to_string(), "torch.Size([2, 0, 4])");
    /// ```
    fn from(tensor: &Tensor) -> Self {
        Size(if tensor.defined() { tensor.size() } else { Vec::new() })
    }
}

/// `str(tuple(shape))`: `()`, `(3,)`, `(2, 3)`.
pub(crate) fn python_tuple(shape: &[i64]) -> String {
    match shape {
        [single] => format!("({single},)"),
        _ => format!("({})", join(shape)),
    }
}

fn join(dims: &[i64]) -> String {
    dims.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_spell_one_element_with_a_trailing_comma() {
        assert_eq!(python_tuple(&[]), "()");
        assert_eq!(python_tuple(&[0]), "(0,)");
        assert_eq!(python_tuple(&[2, 0, 4]), "(2, 0, 4)");
    }
}
