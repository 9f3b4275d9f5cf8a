//! Tensor operations with arguments tch drops (`tensor_ops.cpp`): `torch.linalg.vector_norm`,
//! and `addcmul_`, `addcdiv_` and `add` with their `value` / `alpha` scalars, which
//! `torch.optim.Adam` and `clip_grad_norm_` need. Errors are one line naming the operation.

use std::os::raw::{c_char, c_void};

use anyhow::Result;
use tch::Tensor;

use super::{call, call_for_tensor, ptr, require_defined};

type PointwiseFn = unsafe extern "C" fn(*mut c_void, *const c_void, *const c_void, f64, *mut c_char, usize) -> usize;

unsafe extern "C" {
    fn tch_rnn_vector_norm(this: *const c_void, ord: f64, out: *mut *mut c_void, err: *mut c_char, cap: usize)
    -> usize;
    fn tch_rnn_addcmul_(
        this: *mut c_void,
        t1: *const c_void,
        t2: *const c_void,
        value: f64,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_addcdiv_(
        this: *mut c_void,
        t1: *const c_void,
        t2: *const c_void,
        value: f64,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_add_alpha(
        this: *const c_void,
        other: *const c_void,
        alpha: f64,
        out: *mut *mut c_void,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
}

/// `torch.linalg.vector_norm(t, ord)` over all elements, which tch does not expose.
pub fn vector_norm(t: &Tensor, ord: f64) -> Result<Tensor> {
    const NAME: &str = "vector_norm";
    require_defined(NAME, &[("input", t)])?;
    let t = ptr(t);
    call_for_tensor(NAME, |out, err, cap| unsafe { tch_rnn_vector_norm(t, ord, out, err, cap) })
}

fn pointwise_(op: PointwiseFn, name: &str, this: &mut Tensor, t1: &Tensor, t2: &Tensor, value: f64) -> Result<()> {
    require_defined(name, &[("self", this), ("tensor1", t1), ("tensor2", t2)])?;
    let (this, t1, t2) = (this.as_mut_ptr() as *mut c_void, ptr(t1), ptr(t2));
    call(name, |err, cap| unsafe { op(this, t1, t2, value, err, cap) })
}

/// In place `this += value * t1 * t2`, libtorch's `addcmul_` with its `value` argument.
pub fn addcmul_(this: &mut Tensor, t1: &Tensor, t2: &Tensor, value: f64) -> Result<()> {
    pointwise_(tch_rnn_addcmul_, "addcmul_", this, t1, t2, value)
}

/// In place `this += value * t1 / t2`, libtorch's `addcdiv_` with its `value` argument.
pub fn addcdiv_(this: &mut Tensor, t1: &Tensor, t2: &Tensor, value: f64) -> Result<()> {
    pointwise_(tch_rnn_addcdiv_, "addcdiv_", this, t1, t2, value)
}

/// `this + alpha * other` as a new tensor: libtorch's `add(other, alpha=alpha)`, a single kernel
/// (tch's `add` has no `alpha`, and `this + other * alpha` rounds differently).
pub fn add_alpha(this: &Tensor, other: &Tensor, alpha: f64) -> Result<Tensor> {
    const NAME: &str = "add";
    require_defined(NAME, &[("self", this), ("other", other)])?;
    let (this, other) = (ptr(this), ptr(other));
    call_for_tensor(NAME, |out, err, cap| unsafe { tch_rnn_add_alpha(this, other, alpha, out, err, cap) })
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::*;
    use crate::ffi::tests::assert_one_clean_line;

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(t).unwrap()
    }

    #[test]
    fn the_ops_compute_what_libtorch_does() {
        let t = Tensor::from_slice(&[3.0f32, 4.0]);
        assert_eq!(vector_norm(&t, 2.0).unwrap().double_value(&[]), 5.0);

        let mut acc = Tensor::zeros([2], (Kind::Float, Device::Cpu));
        let two = Tensor::from_slice(&[2.0f32, 2.0]);
        addcmul_(&mut acc, &two, &two, 0.5).unwrap();
        assert_eq!(values(&acc), [2.0, 2.0]);

        let mut acc = Tensor::zeros([2], (Kind::Float, Device::Cpu));
        addcdiv_(&mut acc, &Tensor::from_slice(&[6.0f32, 6.0]), &two, -1.0).unwrap();
        assert_eq!(values(&acc), [-3.0, -3.0]);

        let (a, b) = (Tensor::from_slice(&[1.0f32, 2.0]), Tensor::from_slice(&[10.0f32, 20.0]));
        assert_eq!(values(&add_alpha(&a, &b, 0.5).unwrap()), [6.0, 12.0]);
    }

    #[test]
    fn mismatched_shapes_are_one_line() {
        let (three, two) = (Tensor::ones([3], tch::kind::FLOAT_CPU), Tensor::ones([2], tch::kind::FLOAT_CPU));
        let e = addcmul_(&mut Tensor::zeros([3], tch::kind::FLOAT_CPU), &three, &two, 1.0).unwrap_err();
        assert_one_clean_line(&e, "addcmul_: The size of tensor");
        let e = addcdiv_(&mut Tensor::zeros([3], tch::kind::FLOAT_CPU), &two, &two, 1.0).unwrap_err();
        assert_one_clean_line(&e, "addcdiv_: ");
        let e = add_alpha(&three, &two, 0.5).unwrap_err();
        assert_one_clean_line(&e, "add: The size of tensor a (3) must match the size of tensor b (2)");
    }

    #[test]
    fn undefined_tensors_are_named() {
        let one = Tensor::ones([1], tch::kind::FLOAT_CPU);
        let e = addcdiv_(&mut Tensor::new(), &one, &one, 1.0).unwrap_err();
        assert_one_clean_line(&e, "addcdiv_: expected a defined tensor as self, got an undefined one");
        let e = addcmul_(&mut one.copy(), &one, &Tensor::new(), 1.0).unwrap_err();
        assert_one_clean_line(&e, "addcmul_: expected a defined tensor as tensor2, got an undefined one");
        let e = add_alpha(&one, &Tensor::new(), 1.0).unwrap_err();
        assert_one_clean_line(&e, "add: expected a defined tensor as other, got an undefined one");
        let e = vector_norm(&Tensor::new(), 2.0).unwrap_err();
        assert_one_clean_line(&e, "vector_norm: expected a defined tensor as input, got an undefined one");
    }

    #[test]
    fn libtorch_errors_lose_their_trace_in_the_shim() {
        // Past the Rust-side checks: a dtype libtorch refuses for an in-place result.
        let mut ints = Tensor::zeros([2], (Kind::Int64, Device::Cpu));
        let floats = Tensor::ones([2], tch::kind::FLOAT_CPU);
        let e = addcdiv_(&mut ints, &floats, &floats, 1.0).unwrap_err();
        assert_one_clean_line(&e, "addcdiv_: ");
        let e = vector_norm(&Tensor::from_slice(&[1i64, 2]), 2.0).unwrap_err();
        assert_one_clean_line(&e, "vector_norm: ");
    }
}
