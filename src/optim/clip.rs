//! `torch.nn.utils.clip_grad_norm_`, replayed op for op (norm type 2, the per-tensor path that
//! PyTorch takes on the CPU), so that clipped training stays on PyTorch's parameters.

use anyhow::{Result, bail, ensure};
use tch::Tensor;

use crate::error::guard;
use crate::ffi::vector_norm;

/// Scales the gradients of `parameters` in place so that their total 2-norm is at most
/// `max_norm`, and returns that total norm (before clipping), as
/// `torch.nn.utils.clip_grad_norm_(parameters, max_norm)`: the norm of the per-gradient norms,
/// then every gradient multiplied by `min(max_norm / (total + 1e-6), 1)`. Parameters without a
/// gradient are skipped; with none, the norm is 0.
///
/// ```
/// use tch::{Kind, Tensor};
/// let w = Tensor::from_slice(&[3.0f32, 4.0]).set_requires_grad(true);
/// (&w * &w).sum(Kind::Float).backward(); // gradient (6, 8), norm 10
/// let norm = tch_rnn::optim::clip_grad_norm_(&[w.shallow_clone()], 5.0)?;
/// assert_eq!(norm.double_value(&[]), 10.0);
/// assert!((w.grad().double_value(&[0]) - 3.0).abs() < 1e-5);
/// # anyhow::Ok(())
/// ```
pub fn clip_grad_norm_(parameters: &[Tensor], max_norm: f64) -> Result<Tensor> {
    const F: &str = "clip_grad_norm_";
    guard(F, || {
        ensure!(max_norm >= 0.0, "{F}: expected max_norm >= 0, got {max_norm}");
        if let Some(i) = parameters.iter().position(|p| !p.defined()) {
            bail!("{F}: parameter {i} is an undefined tensor (Tensor::new())");
        }
        let grads = parameters.iter().map(Tensor::f_grad).collect::<Result<Vec<_>, _>>()?;
        clip(grads.into_iter().filter(Tensor::defined).collect(), max_norm)
    })
}

fn clip(grads: Vec<Tensor>, max_norm: f64) -> Result<Tensor> {
    if grads.is_empty() {
        return Ok(Tensor::from(0.0f32));
    }
    tch::no_grad(|| {
        let norms = grads.iter().map(|g| vector_norm(g, 2.0)).collect::<Result<Vec<_>>>()?;
        let total = vector_norm(&Tensor::f_stack(&norms, 0)?, 2.0)?;
        // max_norm / (total + 1e-6): Python's float / tensor is tensor.reciprocal() * float.
        let coef = total.f_add_scalar(1e-6)?.f_reciprocal()?.f_mul_scalar(max_norm)?.f_clamp_max(1.0)?;
        for mut grad in grads {
            let _ = grad.f_mul_(&coef)?;
        }
        Ok(total)
    })
}
