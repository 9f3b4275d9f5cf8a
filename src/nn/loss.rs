//! `torch.nn.CrossEntropyLoss` over libtorch's native `cross_entropy_loss`.

use std::fmt;

use anyhow::{Result, bail, ensure};
use tch::Tensor;

use crate::error::guard;
use crate::nn::check::{
    TARGET_INDEX_KINDS, ensure_defined, ensure_device_of, ensure_float, ensure_index, ensure_indices_in_range,
    ensure_kind, shape,
};

/// How per-element losses are reduced: PyTorch's `reduction='none' | 'mean' | 'sum'`.
///
/// ```
/// assert_eq!(tch_rnn::nn::Reduction::default(), tch_rnn::nn::Reduction::Mean);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// One loss per element.
    None,
    /// The (weighted) mean over the non-ignored elements. PyTorch's default.
    #[default]
    Mean,
    /// The sum over the elements.
    Sum,
}

impl From<Reduction> for tch::Reduction {
    fn from(r: Reduction) -> Self {
        match r {
            Reduction::None => tch::Reduction::None,
            Reduction::Mean => tch::Reduction::Mean,
            Reduction::Sum => tch::Reduction::Sum,
        }
    }
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reduction::None => "none",
            Reduction::Mean => "mean",
            Reduction::Sum => "sum",
        })
    }
}

/// The arguments of `torch.nn.CrossEntropyLoss(...)`, each with PyTorch's default.
///
/// ```
/// use tch_rnn::nn::{CrossEntropyLossConfig, Reduction};
/// let config = CrossEntropyLossConfig::default();
/// assert_eq!((config.ignore_index, config.reduction, config.label_smoothing), (-100, Reduction::Mean, 0.0));
/// ```
#[derive(Debug)]
pub struct CrossEntropyLossConfig {
    /// A manual rescaling weight per class, shape `(C)`. Default: `None`.
    pub weight: Option<Tensor>,
    /// A class-index target value that contributes nothing (class-index targets only).
    /// Default: -100.
    pub ignore_index: i64,
    /// Default: [`Reduction::Mean`].
    pub reduction: Reduction,
    /// Amount of smoothing in `[0, 1]` mixing the target with the uniform distribution.
    /// Default: 0.
    pub label_smoothing: f64,
}

impl Default for CrossEntropyLossConfig {
    fn default() -> Self {
        CrossEntropyLossConfig { weight: None, ignore_index: -100, reduction: Reduction::Mean, label_smoothing: 0.0 }
    }
}

/// The cross entropy between logits and a target, `torch.nn.CrossEntropyLoss`.
///
/// # Shapes
/// - input (logits): `(C)`, `(N, C)` or `(N, C, d1, ..., dK)`
/// - target, class indices (int64 or uint8): `()`, `(N)` or `(N, d1, ..., dK)`, values in `[0, C)` or
///   `ignore_index`; or class probabilities (float): the same shape as input.
/// - output: a scalar, or the target's shape with [`Reduction::None`].
///
/// ```
/// use tch::Tensor;
/// use tch_rnn::nn::CrossEntropyLoss;
/// let criterion = CrossEntropyLoss::new(Default::default())?;
/// let logits = Tensor::from_slice(&[2.0f32, 0.5, 0.1, 0.3]).view([1, 4]);
/// let loss = criterion.forward(&logits, &Tensor::from_slice(&[0i64]))?;
/// assert!(loss.double_value(&[]) < 0.5);
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct CrossEntropyLoss {
    config: CrossEntropyLossConfig,
}

impl CrossEntropyLoss {
    /// Checks the options (label smoothing in `[0, 1]`, a 1-D weight).
    pub fn new(config: CrossEntropyLossConfig) -> Result<Self> {
        ensure!(
            (0.0..=1.0).contains(&config.label_smoothing),
            "CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got {}",
            config.label_smoothing
        );
        if let Some(w) = &config.weight {
            ensure_defined("CrossEntropyLoss", "weight", w)?;
            ensure!(w.dim() == 1, "CrossEntropyLoss: expected a 1-D class weight, got shape {}", shape(w));
            ensure_float("CrossEntropyLoss", "weight", w)?;
        }
        Ok(CrossEntropyLoss { config })
    }

    /// The loss of `input` (logits) against `target` (class indices or probabilities).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        guard("CrossEntropyLoss", || {
            self.check(input, target)?;
            let c = &self.config;
            Ok(input.f_cross_entropy_loss(
                target,
                c.weight.as_ref(),
                c.reduction.into(),
                c.ignore_index,
                c.label_smoothing,
            )?)
        })
    }

    fn check(&self, input: &Tensor, target: &Tensor) -> Result<()> {
        const M: &str = "CrossEntropyLoss";
        ensure_float(M, "input", input)?;
        ensure!(input.dim() >= 1, "{M}: expected input of shape (C), (N, C) or (N, C, d1, ...), got a 0-d tensor");
        let classes = input.size()[if input.dim() == 1 { 0 } else { 1 }];
        if let Some(w) = &self.config.weight {
            ensure!(
                w.size() == [classes],
                "{M}: expected a weight of shape [{classes}] (one per class), got {}",
                shape(w)
            );
            ensure_kind(M, "weight", w, input.kind(), "the input")?;
            ensure_device_of(M, "weight", w, input.device(), "the input is")?;
        }
        ensure_defined(M, "target", target)?;
        ensure_device_of(M, "target", target, input.device(), "the input is")?;
        if target.is_floating_point() {
            ensure!(
                target.size() == input.size(),
                "{M}: expected class-probability target of the input's shape {}, got {}",
                shape(input),
                shape(target)
            );
            return ensure_kind(M, "class-probability target", target, input.kind(), "the input");
        }
        ensure_index(M, "target", target, TARGET_INDEX_KINDS)?;
        let mut expected = input.size();
        expected.remove(if input.dim() == 1 { 0 } else { 1 });
        if target.size() != expected {
            bail!(
                "{M}: expected class-index target of shape {expected:?} for input of shape {}, got {}",
                shape(input),
                shape(target)
            );
        }
        ensure_indices_in_range(M, "target", target, 0, classes, Some(self.config.ignore_index))
    }
}
