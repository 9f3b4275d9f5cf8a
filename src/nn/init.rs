//! In-place initialisers that draw from libtorch's generator exactly as `torch.nn.init` does:
//! same op (`uniform_` / `normal_`), same bounds computed with the same double arithmetic, so
//! that after `tch::manual_seed(s)` the parameters equal PyTorch's bit for bit.

use anyhow::{Result, ensure};
use tch::Tensor;

/// `torch.nn.init.uniform_(t, a, b)`: fills `t` with draws from U(a, b), without recording grad.
///
/// ```
/// tch::manual_seed(0);
/// let mut w = tch::Tensor::zeros([2, 3], (tch::Kind::Float, tch::Device::Cpu));
/// tch_rnn::nn::init::uniform_(&mut w, -0.5, 0.5);
/// assert!(w.abs().max().double_value(&[]) <= 0.5);
/// ```
pub fn uniform_(t: &mut Tensor, a: f64, b: f64) {
    tch::no_grad(|| {
        let _ = t.uniform_(a, b);
    });
}

/// `torch.nn.init.normal_(t, mean, std)`: fills `t` with draws from N(mean, std²).
///
/// ```
/// tch::manual_seed(0);
/// let mut w = tch::Tensor::zeros([4, 10], (tch::Kind::Float, tch::Device::Cpu));
/// tch_rnn::nn::init::normal_(&mut w, 0.0, 1.0);
/// assert!(w.std(true).double_value(&[]) > 0.5);
/// ```
pub fn normal_(t: &mut Tensor, mean: f64, std: f64) {
    tch::no_grad(|| {
        let _ = t.normal_(mean, std);
    });
}

/// `torch.nn.init._calculate_fan_in_and_fan_out(t)`: `(fan_in, fan_out)` of a weight of
/// shape `(out, in, *receptive_field)`.
///
/// ```
/// let w = tch::Tensor::zeros([8, 10], (tch::Kind::Float, tch::Device::Cpu));
/// assert_eq!(tch_rnn::nn::init::fan_in_and_fan_out(&w).unwrap(), (10, 8));
/// ```
pub fn fan_in_and_fan_out(t: &Tensor) -> Result<(i64, i64)> {
    let size = t.size();
    ensure!(
        size.len() >= 2,
        "init: fan in and fan out can not be computed for tensor with fewer than 2 dimensions (shape {size:?})"
    );
    let receptive_field: i64 = size[2..].iter().product();
    Ok((size[1] * receptive_field, size[0] * receptive_field))
}

/// `torch.nn.init.calculate_gain("leaky_relu", negative_slope)`.
///
/// ```
/// let gain = tch_rnn::nn::init::leaky_relu_gain(5f64.sqrt());
/// assert!((gain - (1.0f64 / 3.0).sqrt()).abs() < 1e-12);
/// ```
pub fn leaky_relu_gain(negative_slope: f64) -> f64 {
    (2.0 / (1.0 + negative_slope.powi(2))).sqrt()
}

/// `torch.nn.init.kaiming_uniform_(t, a)` with PyTorch's defaults `mode="fan_in"`,
/// `nonlinearity="leaky_relu"`: U(-bound, bound) with `bound = sqrt(3) * gain / sqrt(fan_in)`.
/// A tensor with no elements is left as it is, as in PyTorch.
///
/// ```
/// tch::manual_seed(0);
/// let mut w = tch::Tensor::zeros([4, 8], (tch::Kind::Float, tch::Device::Cpu));
/// tch_rnn::nn::init::kaiming_uniform_(&mut w, 5f64.sqrt()).unwrap();
/// assert!(w.abs().max().double_value(&[]) <= 1.0 / 8f64.sqrt());
/// ```
pub fn kaiming_uniform_(t: &mut Tensor, a: f64) -> Result<()> {
    if t.numel() == 0 {
        return Ok(());
    }
    let (fan_in, _) = fan_in_and_fan_out(t)?;
    let std = leaky_relu_gain(a) / (fan_in as f64).sqrt();
    let bound = 3f64.sqrt() * std;
    uniform_(t, -bound, bound);
    Ok(())
}
