//! The multi-layer recurrent base shared by RNN (and, later, LSTM and GRU), as PyTorch's
//! `RNNBase`: it creates the flat weight list with PyTorch's names and order, initialises it
//! with U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), validates inputs with PyTorch's checks and
//! prepares batched/unbatched input and the initial state for the native op.

use anyhow::{Result, bail, ensure};
use tch::Tensor;
use tch::nn::Path;

use crate::nn::check::{ensure_device, shape};
use crate::nn::init;
use crate::nn::param::new_parameter;

/// The options every multi-layer recurrent module shares, with PyTorch's meanings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct BaseConfig {
    pub input_size: i64,
    pub hidden_size: i64,
    pub num_layers: i64,
    pub bias: bool,
    pub batch_first: bool,
    pub dropout: f64,
    pub bidirectional: bool,
}

impl BaseConfig {
    pub fn num_directions(&self) -> i64 {
        if self.bidirectional { 2 } else { 1 }
    }
}

/// Input and initial state in the layout the native op expects (always batched).
pub(crate) struct Prepared {
    pub input: Tensor,
    pub hx: Tensor,
    pub is_batched: bool,
    pub batch_dim: i64,
}

/// Parameters and validation of a multi-layer recurrent module (PyTorch's `RNNBase`).
#[derive(Debug)]
pub(crate) struct RnnBase {
    /// Module name used in error messages ("RNN", "LSTM", "GRU").
    pub module: &'static str,
    pub config: BaseConfig,
    /// The weights in PyTorch's `_flat_weights` order: per layer, per direction,
    /// `weight_ih, weight_hh[, bias_ih, bias_hh]`.
    pub flat_weights: Vec<Tensor>,
    pub flat_weight_names: Vec<String>,
    /// Train/eval mode: dropout between layers acts only while training (PyTorch's default).
    pub training: bool,
}

impl RnnBase {
    /// Registers and initialises the parameters of a module with `gate_count` gates per layer
    /// (1 for RNN, 3 for GRU, 4 for LSTM), in PyTorch's order so that the random draws match.
    pub fn new(path: &Path, module: &'static str, gate_count: i64, config: BaseConfig) -> Result<Self> {
        Self::validate(module, &config)?;
        let gate_size = gate_count * config.hidden_size;
        let directions = config.num_directions();
        let mut flat_weights = Vec::new();
        let mut flat_weight_names = Vec::new();
        for layer in 0..config.num_layers {
            for direction in 0..directions {
                let layer_input_size = if layer == 0 { config.input_size } else { config.hidden_size * directions };
                let suffix = if direction == 1 { "_reverse" } else { "" };
                let mut shapes = vec![
                    ("weight_ih", vec![gate_size, layer_input_size]),
                    ("weight_hh", vec![gate_size, config.hidden_size]),
                ];
                if config.bias {
                    shapes.push(("bias_ih", vec![gate_size]));
                    shapes.push(("bias_hh", vec![gate_size]));
                }
                for (stem, dims) in shapes {
                    let name = format!("{stem}_l{layer}{suffix}");
                    flat_weights.push(new_parameter(path, module, &name, &dims)?);
                    flat_weight_names.push(name);
                }
            }
        }
        let mut base = RnnBase { module, config, flat_weights, flat_weight_names, training: true };
        base.reset_parameters();
        Ok(base)
    }

    fn validate(module: &str, c: &BaseConfig) -> Result<()> {
        ensure!(
            (0.0..=1.0).contains(&c.dropout),
            "{module}: dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got {}",
            c.dropout
        );
        ensure!(c.input_size > 0, "{module}: input_size must be greater than zero, got {}", c.input_size);
        ensure!(c.hidden_size > 0, "{module}: hidden_size must be greater than zero, got {}", c.hidden_size);
        ensure!(c.num_layers > 0, "{module}: num_layers must be greater than zero, got {}", c.num_layers);
        Ok(())
    }

    /// PyTorch's `reset_parameters`: every parameter, in registration order, from
    /// U(-stdv, stdv) with `stdv = 1 / sqrt(hidden_size)`.
    pub fn reset_parameters(&mut self) {
        let stdv = 1.0 / (self.config.hidden_size as f64).sqrt();
        for weight in &mut self.flat_weights {
            init::uniform_(weight, -stdv, stdv);
        }
    }

    /// PyTorch's forward preamble: accepts batched (3-D) or unbatched (2-D) input, checks the
    /// given initial state or makes a zero one of `state_size` features, and runs
    /// `check_forward_args`.
    pub fn prepare(&self, input: &Tensor, hx: Option<&Tensor>, state_size: i64) -> Result<Prepared> {
        let module = self.module;
        let dim = input.dim();
        if dim != 2 && dim != 3 {
            bail!("{module}: Expected input to be 2D or 3D, got {dim}D tensor instead (shape {})", shape(input));
        }
        let is_batched = dim == 3;
        let batch_dim = if self.config.batch_first { 0 } else { 1 };
        let (input, hx) = if is_batched {
            if let Some(h) = hx {
                ensure!(
                    h.dim() == 3,
                    "{module}: For batched 3-D input, hx should also be 3-D but got {}-D tensor (shape {})",
                    h.dim(),
                    shape(h)
                );
            }
            (input.shallow_clone(), hx.map(Tensor::shallow_clone))
        } else {
            let hx = match hx {
                Some(h) if h.dim() != 2 => bail!(
                    "{module}: For unbatched 2-D input, hx should also be 2-D but got {}-D tensor (shape {})",
                    h.dim(),
                    shape(h)
                ),
                Some(h) => Some(h.f_unsqueeze(1)?),
                None => None,
            };
            (input.f_unsqueeze(batch_dim)?, hx)
        };
        let seq_dim = if self.config.batch_first { 1 } else { 0 };
        ensure!(
            input.size()[seq_dim] > 0,
            "{module}: Expected sequence length to be larger than 0, got input shape {}",
            shape(&input)
        );
        let max_batch_size = input.size()[batch_dim as usize];
        let hx = match hx {
            Some(h) => h,
            None => Tensor::f_zeros(
                [self.config.num_layers * self.config.num_directions(), max_batch_size, state_size],
                (input.kind(), input.device()),
            )?,
        };
        self.check_forward_args(&input, &hx, state_size)?;
        Ok(Prepared { input, hx, is_batched, batch_dim })
    }

    /// PyTorch's `check_input` and `check_hidden_size` for a (batched) input and state.
    fn check_forward_args(&self, input: &Tensor, hx: &Tensor, state_size: i64) -> Result<()> {
        let module = self.module;
        let device = self.flat_weights[0].device();
        ensure_device(module, "input", input, device)?;
        ensure_device(module, "hx", hx, device)?;
        let weight_kind = self.flat_weights[0].kind();
        ensure!(
            input.kind() == weight_kind,
            "{module}: input dtype ({:?}) does not match weight dtype ({weight_kind:?}); convert the input or the model",
            input.kind()
        );
        let features = input.size()[2];
        ensure!(
            features == self.config.input_size,
            "{module}: input.size(-1) must be equal to input_size. Expected {}, got {features} (input shape {})",
            self.config.input_size,
            shape(input)
        );
        let batch = input.size()[if self.config.batch_first { 0 } else { 1 }];
        let expected = [self.config.num_layers * self.config.num_directions(), batch, state_size];
        ensure!(
            hx.size() == expected,
            "{module}: Expected hidden size ({}, {}, {}), got {}",
            expected[0],
            expected[1],
            expected[2],
            shape(hx)
        );
        ensure!(
            hx.kind() == input.kind(),
            "{module}: hx dtype ({:?}) does not match input dtype ({:?})",
            hx.kind(),
            input.kind()
        );
        Ok(())
    }

    /// Undoes the batching that [`prepare`](Self::prepare) added to unbatched input:
    /// `output.squeeze(batch_dim)`, `state.squeeze(1)`, exactly as PyTorch does.
    pub fn finish(&self, prepared: &Prepared, output: Tensor, state: Tensor) -> Result<(Tensor, Tensor)> {
        if prepared.is_batched {
            Ok((output, state))
        } else {
            Ok((output.f_squeeze_dim(prepared.batch_dim)?, state.f_squeeze_dim(1)?))
        }
    }

    /// PyTorch's `extra_repr`: the sizes, then only the options that differ from the defaults.
    pub fn extra_repr(&self) -> String {
        let c = &self.config;
        let mut s = format!("{}, {}", c.input_size, c.hidden_size);
        if c.num_layers != 1 {
            s += &format!(", num_layers={}", c.num_layers);
        }
        if !c.bias {
            s += ", bias=False";
        }
        if c.batch_first {
            s += ", batch_first=True";
        }
        if c.dropout != 0.0 {
            s += &format!(", dropout={}", c.dropout);
        }
        if c.bidirectional {
            s += ", bidirectional=True";
        }
        s
    }
}
