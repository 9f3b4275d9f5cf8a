//! The initialisers of `torch.nn.init` that MultiheadAttention's `_reset_parameters` uses
//! beyond [`crate::nn::init`]'s: `xavier_uniform_`, `xavier_normal_` and `constant_`, with the
//! same bounds computed with the same double arithmetic and the same ops (`uniform_`,
//! `normal_`, `fill_`), so the same seed draws the same bits.

use anyhow::Result;
use tch::Tensor;

use crate::nn::init::{fan_in_and_fan_out, normal_, uniform_};

/// `gain * sqrt(2 / (fan_in + fan_out))` with the default `gain = 1` (a product by 1.0 that
/// changes no bit), as `xavier_*_` computes it.
fn xavier_std(t: &Tensor) -> Result<f64> {
    let (fan_in, fan_out) = fan_in_and_fan_out(t)?;
    Ok((2.0 / (fan_in + fan_out) as f64).sqrt())
}

/// `torch.nn.init.xavier_uniform_(t)`: U(-a, a) with `a = sqrt(3) * std`.
pub(super) fn xavier_uniform_(t: &mut Tensor) -> Result<()> {
    let a = 3f64.sqrt() * xavier_std(t)?;
    uniform_(t, -a, a);
    Ok(())
}

/// `torch.nn.init.xavier_normal_(t)`: N(0, std²).
pub(super) fn xavier_normal_(t: &mut Tensor) -> Result<()> {
    let std = xavier_std(t)?;
    normal_(t, 0.0, std);
    Ok(())
}

/// `torch.nn.init.constant_(t, value)`.
pub(super) fn constant_(t: &mut Tensor, value: f64) -> Result<()> {
    let _ = tch::no_grad(|| t.f_fill_(value))?;
    Ok(())
}
