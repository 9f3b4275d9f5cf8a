//! How a character model is optimized: the `optim` group of options, the optimizer they build
//! and one training step (forward, loss, backward, clipping, update).

use anyhow::Result;
use tch::Tensor;

use super::model::CharModel;
use crate::nn::CrossEntropyLoss;
use crate::optim::{Adam, AdamConfig, clip_grad_norm_};
use crate::options::{Domain, option_group};

option_group! {
    /// The optimization of a run: the `optim` group of `config.json`, and the optimizer's
    /// flags of `tch-rnn train`. Defaults follow karpathy/char-rnn.
    ///
    /// ```
    /// let optim = tch_rnn::charlm::OptimOptions::default();
    /// assert_eq!((optim.lr, optim.clip), (2e-3, 5.0));
    /// ```
    pub struct OptimOptions {
        /// Adam's learning rate.
        lr: f64 = 2e-3, Domain::Number { min: 0.0, inclusive: false, below: None }, Keep;
        /// Clip the gradients' norm to this; 0 for no clipping.
        clip: f64 = 5.0, Domain::Number { min: 0.0, inclusive: true, below: None }, Keep;
    }
}

impl OptimOptions {
    fn rules(&self) -> Result<()> {
        Ok(())
    }

    /// The optimizer of `params` (in `model.parameters()` order) these options describe.
    pub fn optimizer(&self, params: Vec<Tensor>) -> Result<Adam> {
        Adam::new(params, AdamConfig { lr: self.lr, ..Default::default() })
    }
}

/// One training step on inputs `x` and next characters `y` `(batch, seq_len)`, from a zero
/// state: the mean cross entropy of every next character, its gradients, clipped to
/// `options.clip` (if positive), and the optimizer's update. Returns the loss.
pub(super) fn train_step(
    model: &CharModel,
    optimizer: &mut Adam,
    options: &OptimOptions,
    x: &Tensor,
    y: &Tensor,
) -> Result<f64> {
    let criterion = CrossEntropyLoss::new(Default::default())?;
    let (logits, _) = model.forward(x, None)?;
    let loss = criterion.forward(&logits.f_view([-1, model.vocab_size])?, &y.f_reshape([-1])?)?;
    optimizer.zero_grad();
    loss.f_backward()?;
    if options.clip > 0.0 {
        let _total_norm = clip_grad_norm_(optimizer.params(), options.clip)?;
    }
    optimizer.step()?;
    Ok(loss.f_double_value(&[])?)
}
