//! Autograd internals tch does not expose (`autograd.cpp`): grad_fn names, clearing a
//! gradient, tensor identity.

use std::os::raw::{c_char, c_void};

use tch::Tensor;

use super::{ptr, read_string};

unsafe extern "C" {
    fn tch_rnn_grad_fn_name(tensor: *const c_void, buf: *mut c_char, cap: usize) -> usize;
    fn tch_rnn_clear_grad(tensor: *mut c_void);
    fn tch_rnn_tensor_impl(tensor: *const c_void) -> *const c_void;
}

/// The name of the autograd node that produced `tensor`, as Python shows it in
/// `grad_fn=<TanhBackward0>`; `None` for leaves and tensors that do not require grad.
///
/// ```
/// let x = tch::Tensor::ones([2], (tch::Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
/// assert_eq!(tch_rnn::grad_fn_name(&x), None);
/// assert_eq!(tch_rnn::grad_fn_name(&x.tanh()).as_deref(), Some("TanhBackward0"));
/// ```
pub fn grad_fn_name(tensor: &Tensor) -> Option<String> {
    let tensor = ptr(tensor);
    let name = read_string(|buf, cap| unsafe { tch_rnn_grad_fn_name(tensor, buf, cap) });
    (!name.is_empty()).then_some(name)
}

/// `tensor.grad = None`: what `optimizer.zero_grad()` does in PyTorch (`set_to_none=True`).
/// The next backward stores its gradient rather than adding it to a zeroed one (tch's
/// `zero_grad` keeps the old gradient and zeroes it: a memset and an addition more per step).
pub fn clear_grad(tensor: &mut Tensor) {
    unsafe { tch_rnn_clear_grad(tensor.as_mut_ptr() as *mut c_void) }
}

/// Whether `a` and `b` are the same tensor (not merely equal, nor views of one storage):
/// Python's `a is b` for parameters. tch's `shallow_clone` gives another handle to the same
/// tensor.
pub fn same_tensor(a: &Tensor, b: &Tensor) -> bool {
    // SAFETY: both handles are live tensors; only their TensorImpl pointers are read.
    unsafe { tch_rnn_tensor_impl(ptr(a)) == tch_rnn_tensor_impl(ptr(b)) }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::*;

    #[test]
    fn clear_grad_leaves_no_gradient() {
        let mut w = Tensor::ones([2], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        w.sum(Kind::Float).backward();
        assert!(w.grad().defined());
        clear_grad(&mut w);
        assert!(!w.grad().defined());
    }

    #[test]
    fn same_tensor_is_identity_not_equality() {
        let w = Tensor::ones([2], tch::kind::FLOAT_CPU);
        assert!(same_tensor(&w, &w.shallow_clone()));
        assert!(!same_tensor(&w, &w.view([2])));
        assert!(!same_tensor(&w, &w.copy()));
    }

    #[test]
    fn undefined_tensors_have_no_grad_fn() {
        assert_eq!(grad_fn_name(&Tensor::new()), None);
    }
}
