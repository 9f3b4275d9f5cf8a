//! `torch.nn.Linear`: `y = x W^T + b` over libtorch's native `linear`.

use std::fmt;

use anyhow::{Result, ensure};
use std::borrow::Borrow;
use tch::Tensor;

use tch::nn::Path;

use crate::error::guard;
use crate::nn::check::{ensure_device, ensure_float, ensure_kind, shape};
use crate::nn::init;
use crate::nn::param::new_parameters;

/// The keyword arguments of `torch.nn.Linear(in_features, out_features, ...)`.
///
/// ```
/// assert!(tch_rnn::nn::LinearConfig::default().bias);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearConfig {
    /// Whether the layer learns an additive bias. Default: `true`.
    pub bias: bool,
}

impl Default for LinearConfig {
    fn default() -> Self {
        LinearConfig { bias: true }
    }
}

/// A fully connected layer, `torch.nn.Linear`.
///
/// Parameters: `weight (out_features, in_features)` from kaiming_uniform_(a=sqrt(5)), i.e.
/// U(-1/sqrt(in), 1/sqrt(in)), then `bias (out_features)` from U(-1/sqrt(in), 1/sqrt(in)).
///
/// # Shapes
/// - input: `(*, in_features)`; output: `(*, out_features)`.
///
/// ```
/// use tch::{nn::VarStore, Device, Kind, Tensor};
/// use tch_rnn::nn::Linear;
/// let vs = VarStore::new(Device::Cpu);
/// let fc = Linear::new(vs.root() / "fc", 8, 4, Default::default())?;
/// assert_eq!(fc.forward(&Tensor::zeros([1, 5, 8], (Kind::Float, Device::Cpu)))?.size(), [1, 5, 4]);
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct Linear {
    /// `(out_features, in_features)`.
    pub weight: Tensor,
    /// `(out_features)`, if the layer has a bias.
    pub bias: Option<Tensor>,
    in_features: i64,
    out_features: i64,
}

impl Linear {
    /// Creates `weight` (and `bias`) under `path`, initialised as PyTorch does.
    pub fn new<'a>(
        path: impl Borrow<Path<'a>>,
        in_features: i64,
        out_features: i64,
        config: LinearConfig,
    ) -> Result<Self> {
        let path = path.borrow();
        guard("Linear", || {
            ensure!(
                in_features >= 0 && out_features >= 0,
                "Linear: expected non-negative in_features and out_features, got {in_features} and {out_features}"
            );
            let mut specs = vec![("weight".to_string(), vec![out_features, in_features])];
            if config.bias {
                specs.push(("bias".to_string(), vec![out_features]));
            }
            let mut params = new_parameters(path, "Linear", &specs)?.into_iter();
            let (mut weight, mut bias) = (params.next().expect("weight registered"), params.next());
            init::kaiming_uniform_(&mut weight, 5f64.sqrt())?;
            if let Some(bias) = &mut bias {
                let (fan_in, _) = init::fan_in_and_fan_out(&weight)?;
                let bound = if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 };
                init::uniform_(bias, -bound, bound);
            }
            Ok(Linear { weight, bias, in_features, out_features })
        })
    }

    /// `x W^T + b`. See the type's docs for shapes.
    pub fn forward(&self, input: &Tensor) -> Result<Tensor> {
        guard("Linear", || {
            ensure_float("Linear", "input", input)?;
            ensure!(input.dim() >= 1, "Linear: expected input of at least 1 dimension, got a 0-d tensor");
            ensure_kind("Linear", "input", input, self.weight.kind(), "the weight")?;
            ensure_device("Linear", "input", input, self.weight.device())?;
            let features = *input.size().last().unwrap_or(&0);
            ensure!(
                features == self.in_features,
                "Linear: expected input.size(-1) == in_features = {}, got {features} (input shape {})",
                self.in_features,
                shape(input)
            );
            Ok(input.f_linear(&self.weight, self.bias.as_ref())?)
        })
    }
}

impl fmt::Display for Linear {
    /// PyTorch's module repr: `Linear(in_features=8, out_features=4, bias=True)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bias = if self.bias.is_some() { "True" } else { "False" };
        write!(f, "Linear(in_features={}, out_features={}, bias={bias})", self.in_features, self.out_features)
    }
}
