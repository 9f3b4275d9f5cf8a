//! The single-step cell base shared by RNNCell (and, later, LSTMCell and GRUCell), as PyTorch's
//! `RNNCellBase(num_chunks)`: parameters `weight_ih (chunks * hidden, input)`,
//! `weight_hh (chunks * hidden, hidden)` and optional biases, all from
//! U(-1/sqrt(hidden), 1/sqrt(hidden)); plus the checks and batching every cell forward does.

use anyhow::{Result, bail, ensure};
use tch::Tensor;
use tch::nn::Path;

use crate::nn::check::{ensure_device, shape};
use crate::nn::init;
use crate::nn::param::new_parameter;

/// Parameters and validation of a recurrent cell (PyTorch's `RNNCellBase`).
#[derive(Debug)]
pub(crate) struct RnnCellBase {
    /// Module name used in error messages ("RNNCell", "LSTMCell", "GRUCell").
    pub module: &'static str,
    pub input_size: i64,
    pub hidden_size: i64,
    pub weight_ih: Tensor,
    pub weight_hh: Tensor,
    pub bias_ih: Option<Tensor>,
    pub bias_hh: Option<Tensor>,
}

/// A cell's input and state made batched, and whether to squeeze the result back.
pub(crate) struct PreparedStep {
    pub input: Tensor,
    pub hx: Tensor,
    pub is_batched: bool,
}

impl RnnCellBase {
    /// Registers `weight_ih`, `weight_hh` (and `bias_ih`, `bias_hh`) with `num_chunks` gate
    /// blocks, then draws them in that order as PyTorch's `reset_parameters` does.
    pub fn new(
        path: &Path,
        module: &'static str,
        input_size: i64,
        hidden_size: i64,
        bias: bool,
        num_chunks: i64,
    ) -> Result<Self> {
        ensure!(input_size > 0, "{module}: input_size must be greater than zero, got {input_size}");
        ensure!(hidden_size > 0, "{module}: hidden_size must be greater than zero, got {hidden_size}");
        let gates = num_chunks * hidden_size;
        let weight_ih = new_parameter(path, module, "weight_ih", &[gates, input_size])?;
        let weight_hh = new_parameter(path, module, "weight_hh", &[gates, hidden_size])?;
        let (bias_ih, bias_hh) = if bias {
            (
                Some(new_parameter(path, module, "bias_ih", &[gates])?),
                Some(new_parameter(path, module, "bias_hh", &[gates])?),
            )
        } else {
            (None, None)
        };
        let mut cell = RnnCellBase { module, input_size, hidden_size, weight_ih, weight_hh, bias_ih, bias_hh };
        cell.reset_parameters();
        Ok(cell)
    }

    /// Every parameter in registration order (weight_ih, weight_hh, bias_ih, bias_hh).
    pub fn parameters_mut(&mut self) -> impl Iterator<Item = &mut Tensor> {
        [Some(&mut self.weight_ih), Some(&mut self.weight_hh), self.bias_ih.as_mut(), self.bias_hh.as_mut()]
            .into_iter()
            .flatten()
    }

    fn reset_parameters(&mut self) {
        let stdv = 1.0 / (self.hidden_size as f64).sqrt();
        for weight in self.parameters_mut() {
            init::uniform_(weight, -stdv, stdv);
        }
    }

    /// PyTorch's cell forward preamble (1-D or 2-D input, optional state, zeros if omitted),
    /// plus the size checks that libtorch would otherwise raise as exceptions.
    pub fn prepare(&self, input: &Tensor, hx: Option<&Tensor>) -> Result<PreparedStep> {
        let module = self.module;
        if !(1..=2).contains(&input.dim()) {
            bail!("{module}: Expected input to be 1D or 2D, got {}D instead (shape {})", input.dim(), shape(input));
        }
        if let Some(h) = hx
            && !(1..=2).contains(&h.dim())
        {
            bail!("{module}: Expected hidden to be 1D or 2D, got {}D instead (shape {})", h.dim(), shape(h));
        }
        let is_batched = input.dim() == 2;
        let input = if is_batched { input.shallow_clone() } else { input.f_unsqueeze(0)? };
        let hx = match hx {
            None => Tensor::f_zeros([input.size()[0], self.hidden_size], (input.kind(), input.device()))?,
            Some(h) if !is_batched => h.f_unsqueeze(0)?,
            Some(h) => h.shallow_clone(),
        };
        ensure!(
            hx.dim() == 2,
            "{module}: Expected hidden to be 1D for 1D input (2D for 2D input), got hidden shape {} for input shape {}",
            shape(&hx),
            shape(&input)
        );
        let (batch, features) = (input.size()[0], input.size()[1]);
        ensure!(
            features == self.input_size,
            "{module}: input has inconsistent input_size: got {features} expected {} (input shape {})",
            self.input_size,
            shape(&input)
        );
        ensure!(
            hx.size()[1] == self.hidden_size,
            "{module}: hidden has inconsistent hidden_size: got {}, expected {} (hidden shape {})",
            hx.size()[1],
            self.hidden_size,
            shape(&hx)
        );
        ensure!(
            hx.size()[0] == batch,
            "{module}: Input batch size {batch} doesn't match hidden batch size {} (input shape {}, hidden shape {})",
            hx.size()[0],
            shape(&input),
            shape(&hx)
        );
        ensure_device(module, "input", &input, self.weight_ih.device())?;
        ensure_device(module, "hidden", &hx, self.weight_ih.device())?;
        let weight_kind = self.weight_ih.kind();
        ensure!(
            input.kind() == weight_kind && hx.kind() == weight_kind,
            "{module}: expected input and hidden of dtype {weight_kind:?}, got {:?} and {:?}",
            input.kind(),
            hx.kind()
        );
        Ok(PreparedStep { input, hx, is_batched })
    }

    /// `ret.squeeze(0)` for unbatched input, as PyTorch does.
    pub fn finish(&self, step: &PreparedStep, ret: Tensor) -> Result<Tensor> {
        if step.is_batched { Ok(ret) } else { Ok(ret.f_squeeze_dim(0)?) }
    }

    /// PyTorch's `extra_repr`: `input, hidden[, bias=False]`.
    pub fn extra_repr(&self) -> String {
        let mut s = format!("{}, {}", self.input_size, self.hidden_size);
        if self.bias_ih.is_none() {
            s += ", bias=False";
        }
        s
    }
}
