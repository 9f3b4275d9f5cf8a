//! The single-step cell base shared by RNNCell, LSTMCell and GRUCell, as PyTorch's
//! `RNNCellBase(num_chunks)`: parameters `weight_ih (chunks * hidden, input)`,
//! `weight_hh (chunks * hidden, hidden)` and optional biases, all from
//! U(-1/sqrt(hidden), 1/sqrt(hidden)); plus the checks and batching every cell forward does, for
//! a state that is one tensor or an `(h, c)` pair, and the native call.

use anyhow::{Result, bail, ensure};
use tch::Tensor;
use tch::nn::Path;

use super::mode::Mode;
use crate::error::guard;
use crate::nn::check::{ensure_defined, ensure_device, shape};
use crate::nn::init;
use crate::nn::param::new_parameters;

/// The arguments of `torch.nn.LSTMCell(...)` (and of `torch.nn.GRUCell(...)`), each with
/// PyTorch's default.
///
/// `input_size` and `hidden_size` have no default in PyTorch: set them (the zero that
/// `Default` leaves is rejected by the constructors).
///
/// ```
/// use tch_rnn::nn::GatedCellConfig;
/// let config = GatedCellConfig { input_size: 4, hidden_size: 4, ..Default::default() };
/// assert!(config.bias);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatedCellConfig {
    /// The number of expected features in the input `x`. Required.
    pub input_size: i64,
    /// The number of features in the hidden state `h` (and, for LSTM, the cell state `c`).
    /// Required.
    pub hidden_size: i64,
    /// Whether the cell uses the biases `b_ih` and `b_hh`. Default: `true`.
    pub bias: bool,
}

impl Default for GatedCellConfig {
    fn default() -> Self {
        GatedCellConfig { input_size: 0, hidden_size: 0, bias: true }
    }
}

/// Parameters and validation of a recurrent cell (PyTorch's `RNNCellBase`).
#[derive(Debug)]
pub(crate) struct RnnCellBase {
    pub mode: Mode,
    pub input_size: i64,
    pub hidden_size: i64,
    pub weight_ih: Tensor,
    pub weight_hh: Tensor,
    pub bias_ih: Option<Tensor>,
    pub bias_hh: Option<Tensor>,
}

impl RnnCellBase {
    /// Registers `weight_ih`, `weight_hh` (and `bias_ih`, `bias_hh`) with the mode's gate
    /// blocks, then draws them in that order as PyTorch's `reset_parameters` does.
    pub fn new(path: &Path, mode: Mode, input_size: i64, hidden_size: i64, bias: bool) -> Result<Self> {
        guard(mode.cell_name(), || Self::build(path, mode, input_size, hidden_size, bias))
    }

    fn build(path: &Path, mode: Mode, input_size: i64, hidden_size: i64, bias: bool) -> Result<Self> {
        let module = mode.cell_name();
        ensure!(input_size > 0, "{module}: input_size must be greater than zero, got {input_size}");
        ensure!(hidden_size > 0, "{module}: hidden_size must be greater than zero, got {hidden_size}");
        let Some(gates) = mode.gate_count().checked_mul(hidden_size) else {
            anyhow::bail!("{module}: hidden_size {hidden_size} is too large: its gates overflow 64 bits");
        };
        let mut specs =
            vec![("weight_ih".to_string(), vec![gates, input_size]), ("weight_hh".into(), vec![gates, hidden_size])];
        if bias {
            specs.push(("bias_ih".into(), vec![gates]));
            specs.push(("bias_hh".into(), vec![gates]));
        }
        let mut params = new_parameters(path, module, &specs)?.into_iter();
        let (weight_ih, weight_hh) = (params.next().expect("weight_ih"), params.next().expect("weight_hh"));
        let (bias_ih, bias_hh) = (params.next(), params.next());
        let mut cell = RnnCellBase { mode, input_size, hidden_size, weight_ih, weight_hh, bias_ih, bias_hh };
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

    /// How the state's tensors are named in messages: `hidden`, or `hx[0]`, `hx[1]` for LSTM.
    fn state_label(&self, i: usize) -> &'static str {
        if self.mode == Mode::Lstm { ["hx[0]", "hx[1]"][i] } else { "hidden" }
    }

    /// One step, as PyTorch's cell forward: 1-D or 2-D input, a state (empty for zeros; one
    /// tensor, or `(h, c)` for LSTM) of the same batching, the size checks that libtorch would
    /// otherwise raise as exceptions, the native op, and the next state.
    pub fn forward(&self, input: &Tensor, hx: &[&Tensor]) -> Result<Vec<Tensor>> {
        guard(self.mode.cell_name(), || self.step(input, hx))
    }

    fn step(&self, input: &Tensor, hx: &[&Tensor]) -> Result<Vec<Tensor>> {
        let module = self.mode.cell_name();
        let state_count = self.mode.state_count();
        self.mode.ensure_state_count(module, hx.len())?;
        ensure_defined(module, "input", input)?;
        for (i, h) in hx.iter().enumerate() {
            ensure_defined(module, self.state_label(i), h)?;
        }
        if !(1..=2).contains(&input.dim()) {
            bail!("{module}: Expected input to be 1D or 2D, got {}D instead (shape {})", input.dim(), shape(input));
        }
        for (i, h) in hx.iter().enumerate() {
            if !(1..=2).contains(&h.dim()) {
                let label = self.state_label(i);
                bail!("{module}: Expected {label} to be 1D or 2D, got {}D instead (shape {})", h.dim(), shape(h));
            }
        }
        let is_batched = input.dim() == 2;
        let input = if is_batched { input.shallow_clone() } else { input.f_unsqueeze(0)? };
        let hx: Vec<Tensor> = if hx.is_empty() {
            let zeros = Tensor::f_zeros([input.size()[0], self.hidden_size], (input.kind(), input.device()))?;
            (0..state_count).map(|_| zeros.shallow_clone()).collect()
        } else if is_batched {
            hx.iter().map(|h| h.shallow_clone()).collect()
        } else {
            hx.iter().map(|h| h.f_unsqueeze(0)).collect::<Result<_, _>>()?
        };
        self.check(&input, &hx)?;
        let (w_ih, w_hh, b_ih, b_hh) = (&self.weight_ih, &self.weight_hh, self.bias_ih.as_ref(), self.bias_hh.as_ref());
        let next = match self.mode {
            Mode::RnnTanh => vec![input.f_rnn_tanh_cell(&hx[0], w_ih, w_hh, b_ih, b_hh)?],
            Mode::RnnRelu => vec![input.f_rnn_relu_cell(&hx[0], w_ih, w_hh, b_ih, b_hh)?],
            Mode::Gru => vec![input.f_gru_cell(&hx[0], w_ih, w_hh, b_ih, b_hh)?],
            Mode::Lstm => {
                let (b_ih, b_hh) = (b_ih.map(Tensor::shallow_clone), b_hh.map(Tensor::shallow_clone));
                let (h, c) = input.f_lstm_cell(&hx, w_ih, w_hh, b_ih, b_hh)?;
                vec![h, c]
            }
        };
        if is_batched { Ok(next) } else { next.iter().map(|t| Ok(t.f_squeeze_dim(0)?)).collect() }
    }

    /// The checks of libtorch's `check_rnn_cell_forward_input` / `_hidden`, plus device and
    /// dtype, on the batched input and state.
    fn check(&self, input: &Tensor, hx: &[Tensor]) -> Result<()> {
        let module = self.mode.cell_name();
        let (batch, features) = (input.size()[0], input.size()[1]);
        ensure!(
            features == self.input_size,
            "{module}: input has inconsistent input_size: got {features} expected {} (input shape {})",
            self.input_size,
            shape(input)
        );
        let device = self.weight_ih.device();
        ensure_device(module, "input", input, device)?;
        let weight_kind = self.weight_ih.kind();
        for (i, h) in hx.iter().enumerate() {
            let label = self.state_label(i);
            let size = h.size();
            ensure!(
                h.dim() == 2,
                "{module}: Expected {label} to be 1D for 1D input (2D for 2D input), got {label} shape {} for input shape {}",
                shape(h),
                shape(input)
            );
            ensure!(
                size[1] == self.hidden_size,
                "{module}: {label} has inconsistent hidden_size: got {}, expected {} ({label} shape {})",
                size[1],
                self.hidden_size,
                shape(h)
            );
            ensure!(
                size[0] == batch,
                "{module}: Input batch size {batch} doesn't match {label} batch size {} (input shape {}, {label} shape {})",
                size[0],
                shape(input),
                shape(h)
            );
            ensure_device(module, label, h, device)?;
            ensure!(
                h.kind() == weight_kind,
                "{module}: expected input and {label} of dtype {weight_kind:?}, got {:?} and {:?}",
                input.kind(),
                h.kind()
            );
        }
        ensure!(
            input.kind() == weight_kind,
            "{module}: expected input and hidden of dtype {weight_kind:?}, got {:?}",
            input.kind()
        );
        Ok(())
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
