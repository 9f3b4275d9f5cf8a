//! [`Recurrent`], the multi-layer recurrent base shared by RNN, LSTM and GRU, as PyTorch's
//! `RNNBase`: it creates the flat weight list with PyTorch's names and order (projections
//! included), initialises it with U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), validates
//! inputs and states with PyTorch's checks, makes batched, unbatched and packed input and the
//! initial state fit the native op, and calls it. `Rnn`, `Lstm` and `Gru` are typed wrappers
//! over it that differ only in their [`Mode`] and in how they type their state.

use std::borrow::Borrow;

use anyhow::{Result, bail, ensure};
use tch::nn::Path;
use tch::{Kind, Tensor};

use super::config::RecurrentConfig;
use super::mode::Mode;
use super::state::RecurrentState;
use crate::error::guard;
use crate::nn::check::{ensure_defined, ensure_device, shape};
use crate::nn::init;
use crate::nn::packed::PackedSequence;
use crate::nn::param::{ensure_allocatable, new_parameters};

/// Any multi-layer recurrent module, PyTorch's `RNNBase(mode, ...)`: an RNN (tanh or relu), an
/// LSTM (with projections) or a GRU, chosen by [`RecurrentConfig::mode`], with the parameters,
/// names, initialisation, checks and native op of the typed [`Rnn`](crate::nn::Rnn),
/// [`Lstm`](crate::nn::Lstm) and [`Gru`](crate::nn::Gru) (which wrap it) and their bits. Use
/// it where the kind of layer is data, as `word_language_model` picks `getattr(nn, rnn_type)`.
///
/// # Shapes
/// As the typed modules': input `(L, N, H_in)` (`(N, L, H_in)` with `batch_first`, `(L, H_in)`
/// unbatched) or a [`PackedSequence`]; the state `(D * num_layers, N, H_out)` for `h` and
/// `(D * num_layers, N, hidden_size)` for an LSTM's `c`, zeros when omitted.
///
/// ```
/// use tch::{nn::VarStore, Device, Kind, Tensor};
/// use tch_rnn::nn::{Mode, Recurrent, RecurrentConfig, RecurrentState};
/// let vs = VarStore::new(Device::Cpu);
/// let mode: Mode = "LSTM".parse()?;
/// let lstm = Recurrent::new(vs.root() / "rnn", RecurrentConfig { num_layers: 2, ..RecurrentConfig::new(mode, 4, 8) })?;
/// let (output, state) = lstm.forward(&Tensor::randn([5, 3, 4], (Kind::Float, Device::Cpu)), None)?;
/// assert_eq!(output.size(), [5, 3, 8]);
/// assert!(matches!(state, RecurrentState::HiddenAndCell(..)));
/// let (_, state) = lstm.forward(&Tensor::randn([2, 3, 4], (Kind::Float, Device::Cpu)), Some(&state.detach()))?;
/// assert_eq!(state.h().size(), [2, 3, 8]);
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct Recurrent {
    pub(crate) mode: Mode,
    pub(crate) config: RecurrentConfig,
    /// The weights in PyTorch's `_flat_weights` order: per layer, per direction,
    /// `weight_ih, weight_hh[, bias_ih, bias_hh][, weight_hr]`.
    pub(crate) flat_weights: Vec<Tensor>,
    flat_weight_names: Vec<String>,
    /// Train/eval mode: dropout between layers acts only while training (PyTorch's default).
    training: bool,
}

impl Recurrent {
    /// Creates the module's parameters under `path` and initialises them as PyTorch does, in
    /// PyTorch's order, so that the random draws match.
    pub fn new<'a>(path: impl Borrow<Path<'a>>, config: RecurrentConfig) -> Result<Self> {
        let mode = config.mode;
        guard(mode.name(), || Self::build(path.borrow(), mode, config))
    }

    fn build(path: &Path, mode: Mode, config: RecurrentConfig) -> Result<Self> {
        Self::validate(mode.name(), &config)?;
        let (tensors, elements) = Self::parameter_count(mode, &config);
        ensure_allocatable(path, mode.name(), tensors, elements)?;
        let c = &config;
        let gate_size = mode.gate_count() * c.hidden_size;
        let directions = c.num_directions();
        let real_hidden_size = c.real_hidden_size();
        let mut specs = Vec::new();
        for layer in 0..c.num_layers {
            for direction in 0..directions {
                let layer_input_size = if layer == 0 { c.input_size } else { real_hidden_size * directions };
                let suffix = if direction == 1 { "_reverse" } else { "" };
                let mut shapes = vec![
                    ("weight_ih", vec![gate_size, layer_input_size]),
                    ("weight_hh", vec![gate_size, real_hidden_size]),
                ];
                if c.bias {
                    shapes.push(("bias_ih", vec![gate_size]));
                    shapes.push(("bias_hh", vec![gate_size]));
                }
                if c.proj_size > 0 {
                    shapes.push(("weight_hr", vec![c.proj_size, c.hidden_size]));
                }
                specs.extend(shapes.into_iter().map(|(stem, dims)| (format!("{stem}_l{layer}{suffix}"), dims)));
            }
        }
        let flat_weights = new_parameters(path, mode.name(), &specs)?;
        let flat_weight_names = specs.into_iter().map(|(name, _)| name).collect();
        let mut base = Recurrent { mode, config, flat_weights, flat_weight_names, training: true };
        base.reset_parameters();
        base.flatten_parameters()?;
        Ok(base)
    }

    /// PyTorch's `flatten_parameters`: on a CUDA device with cuDNN, rebinds the weights as views
    /// of one contiguous buffer in cuDNN's layout, so that cuDNN uses them without a copy on
    /// every call (and without warning that "RNN module weights are not part of single
    /// contiguous chunk of memory"). Elsewhere it does nothing.
    pub fn flatten_parameters(&self) -> Result<()> {
        let first = &self.flat_weights[0];
        let same = self.flat_weights.iter().all(|w| w.kind() == first.kind() && w.device() == first.device());
        let cudnn_kind = matches!(first.kind(), Kind::Half | Kind::Float | Kind::Double);
        if !first.device().is_cuda() || !same || !cudnn_kind || !tch::Cuda::cudnn_is_available() {
            return Ok(());
        }
        let c = &self.config;
        let weight_stride0 = if c.bias { 4 } else { 2 } + i64::from(c.proj_size > 0);
        // cuDNN's modes, as torch.backends.cudnn.rnn.get_cudnn_mode numbers them.
        let cudnn_mode = match self.mode {
            Mode::RnnRelu => 0,
            Mode::RnnTanh => 1,
            Mode::Lstm => 2,
            Mode::Gru => 3,
        };
        // The weights now view the returned buffer, which they keep alive.
        let _buffer = tch::no_grad(|| {
            Tensor::f_internal_cudnn_rnn_flatten_weight(
                &self.flat_weights,
                weight_stride0,
                c.input_size,
                cudnn_mode,
                c.hidden_size,
                c.proj_size,
                c.num_layers,
                c.batch_first,
                c.bidirectional,
            )
        })?;
        Ok(())
    }

    fn validate(module: &str, c: &RecurrentConfig) -> Result<()> {
        ensure!(
            c.proj_size == 0 || c.mode == Mode::Lstm,
            "{module}: proj_size argument is only supported for LSTM, not RNN or GRU (got proj_size {})",
            c.proj_size
        );
        ensure!(
            (0.0..=1.0).contains(&c.dropout),
            "{module}: dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got {}",
            c.dropout
        );
        ensure!(c.input_size > 0, "{module}: input_size must be greater than zero, got {}", c.input_size);
        ensure!(c.hidden_size > 0, "{module}: hidden_size must be greater than zero, got {}", c.hidden_size);
        ensure!(c.num_layers > 0, "{module}: num_layers must be greater than zero, got {}", c.num_layers);
        ensure!(
            c.proj_size >= 0,
            "{module}: proj_size should be a positive integer or zero to disable projections, got {}",
            c.proj_size
        );
        ensure!(
            c.proj_size < c.hidden_size,
            "{module}: proj_size has to be smaller than hidden_size, got proj_size {} and hidden_size {}",
            c.proj_size,
            c.hidden_size
        );
        Ok(())
    }

    /// How many parameter tensors, and values in all, `c` registers (`None` when a count
    /// overflows), computed without building them: a config of 2^40 layers is refused, not
    /// enumerated.
    fn parameter_count(mode: Mode, c: &RecurrentConfig) -> (Option<u128>, Option<u128>) {
        let n = |x: i64| u128::try_from(x).ok();
        let (bias, projecting) = (u128::from(c.bias), c.proj_size > 0);
        let directions = n(c.num_directions());
        let per_direction = 2 + 2 * bias + u128::from(projecting);
        let tensors = n(c.num_layers).zip(directions).and_then(|(l, d)| l.checked_mul(d)?.checked_mul(per_direction));
        let elements = (|| {
            let (hidden, layers, directions) = (n(c.hidden_size)?, n(c.num_layers)?, directions?);
            let gate = n(mode.gate_count())?.checked_mul(hidden)?;
            let real_hidden = n(c.real_hidden_size())?;
            // weight_ih (layer input) + weight_hh + the biases + weight_hr, for one direction.
            let layer = |input: u128| -> Option<u128> {
                let weights = gate.checked_mul(input.checked_add(real_hidden)?)?;
                let biases = 2 * bias * gate;
                let projection = if projecting { n(c.proj_size)?.checked_mul(hidden)? } else { 0 };
                weights.checked_add(biases)?.checked_add(projection)
            };
            let first = layer(n(c.input_size)?)?;
            let others = layer(real_hidden.checked_mul(directions)?)?.checked_mul(layers - 1)?;
            directions.checked_mul(first.checked_add(others)?)
        })();
        (tensors, elements)
    }

    /// PyTorch's `reset_parameters`: every parameter, in registration order, from
    /// U(-stdv, stdv) with `stdv = 1 / sqrt(hidden_size)`.
    pub fn reset_parameters(&mut self) {
        let stdv = 1.0 / (self.config.hidden_size as f64).sqrt();
        for weight in &mut self.flat_weights {
            init::uniform_(weight, -stdv, stdv);
        }
    }

    /// The feature size of each state tensor: `h`, and `c` for LSTM (`h` projected to
    /// `proj_size` when set, which only an LSTM can be).
    fn state_sizes(&self) -> impl Iterator<Item = i64> {
        let c = &self.config;
        [c.real_hidden_size(), c.hidden_size].into_iter().take(self.mode.state_count())
    }

    /// Zeros for every state tensor, `(layers * directions, batch, size)`.
    pub(crate) fn zeros(&self, batch: i64, kind: Kind, device: tch::Device) -> Result<Vec<Tensor>> {
        let layers = self.config.num_layers * self.config.num_directions();
        self.state_sizes().map(|size| Ok(Tensor::f_zeros([layers, batch, size], (kind, device))?)).collect()
    }

    /// The module's options.
    pub fn config(&self) -> &RecurrentConfig {
        &self.config
    }

    /// The zero state for a batch of `batch` sequences, of the parameters' dtype and device
    /// (what a forward without a state starts from).
    ///
    /// ```
    /// use tch_rnn::nn::{Mode, Recurrent, RecurrentConfig};
    /// let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    /// let gru = Recurrent::new(vs.root(), RecurrentConfig { num_layers: 3, ..RecurrentConfig::new(Mode::Gru, 2, 5) })?;
    /// assert_eq!(gru.zero_state(4)?.h().size(), [3, 4, 5]);
    /// # anyhow::Ok(())
    /// ```
    pub fn zero_state(&self, batch: i64) -> Result<RecurrentState> {
        let weight = &self.flat_weights[0];
        let zeros = guard(self.mode.name(), || self.zeros(batch, weight.kind(), weight.device()))?;
        Ok(RecurrentState::from_tensors(self.mode, zeros))
    }

    /// Runs the whole sequence from `hx` (zeros if `None`): returns the output and the final
    /// state. See the type's docs for shapes; an `hx` of the wrong kind (`h` for an LSTM) is an
    /// error.
    pub fn forward(&self, input: &Tensor, hx: Option<&RecurrentState>) -> Result<(Tensor, RecurrentState)> {
        let hx = hx.map(|state| state.tensors_for(self.mode)).transpose()?.unwrap_or_default();
        let (output, state) = self.forward_padded(input, &hx)?;
        Ok((output, RecurrentState::from_tensors(self.mode, state)))
    }

    /// Runs a packed batch of sequences of different lengths from `hx` (zeros if `None`):
    /// returns the output, packed the same way, and the state after each sequence's own last
    /// step, in the batch order the sequences were given in.
    ///
    /// ```
    /// use tch::{nn::VarStore, Device, Kind, Tensor};
    /// use tch_rnn::nn::{pack_sequence, Mode, Recurrent, RecurrentConfig};
    /// let vs = VarStore::new(Device::Cpu);
    /// let rnn = Recurrent::new(vs.root(), RecurrentConfig::new(Mode::RnnRelu, 4, 2))?;
    /// let words = [5, 3].map(|len| Tensor::randn([len, 4], (Kind::Float, Device::Cpu)));
    /// let (output, state) = rnn.forward_packed(&pack_sequence(&words, true)?, None)?;
    /// assert_eq!((output.data().size(), state.h().size()), (vec![8, 2], vec![1, 2, 2]));
    /// # anyhow::Ok(())
    /// ```
    pub fn forward_packed(
        &self,
        input: &PackedSequence,
        hx: Option<&RecurrentState>,
    ) -> Result<(PackedSequence, RecurrentState)> {
        let hx = hx.map(|state| state.tensors_for(self.mode)).transpose()?.unwrap_or_default();
        let (output, state) = self.forward_packed_list(input, &hx)?;
        Ok((output, RecurrentState::from_tensors(self.mode, state)))
    }

    /// The module's forward on a padded sequence, as PyTorch's: checks `input` and the initial
    /// state `hx` (empty for zeros; one tensor, or `(h, c)` for LSTM), runs the native op and
    /// returns the output and the final state.
    pub(crate) fn forward_padded(&self, input: &Tensor, hx: &[&Tensor]) -> Result<(Tensor, Vec<Tensor>)> {
        guard(self.mode.name(), || self.padded(input, hx))
    }

    fn padded(&self, input: &Tensor, hx: &[&Tensor]) -> Result<(Tensor, Vec<Tensor>)> {
        self.mode.ensure_state_count(self.mode.name(), hx.len())?;
        self.ensure_defined(input, hx)?;
        let hx = (!hx.is_empty()).then_some(hx);
        let module = self.mode.name();
        let dim = input.dim();
        if dim != 2 && dim != 3 {
            bail!("{module}: Expected input to be 2D or 3D, got {dim}D tensor instead (shape {})", shape(input));
        }
        let is_batched = dim == 3;
        let batch_dim = if self.config.batch_first { 0 } else { 1 };
        if let Some(hx) = hx {
            let state_dim = if is_batched { 3 } else { 2 };
            if hx.iter().any(|h| h.dim() != state_dim) {
                let dims: Vec<String> = hx.iter().map(|h| format!("{}-D", h.dim())).collect();
                let shapes: Vec<String> = hx.iter().map(|h| shape(h)).collect();
                let (kind, what) = if is_batched { ("batched 3-D", "3-D") } else { ("unbatched 2-D", "2-D") };
                if self.mode == Mode::Lstm {
                    bail!(
                        "{module}: For {kind} input, hx and cx should also be {what} but got ({}) tensors (shapes {})",
                        dims.join(", "),
                        shapes.join(", ")
                    );
                }
                bail!(
                    "{module}: For {kind} input, hx should also be {what} but got {} tensor (shape {})",
                    dims[0],
                    shapes[0]
                );
            }
        }
        let input = if is_batched { input.shallow_clone() } else { input.f_unsqueeze(batch_dim)? };
        let hx = match hx {
            Some(hx) if is_batched => hx.iter().map(|h| h.shallow_clone()).collect(),
            Some(hx) => hx.iter().map(|h| h.f_unsqueeze(1)).collect::<Result<Vec<_>, _>>()?,
            None => self.zeros(input.size()[batch_dim as usize], input.kind(), input.device())?,
        };
        let seq_dim = 1 - batch_dim;
        ensure!(
            input.size()[seq_dim as usize] > 0,
            "{module}: Expected sequence length to be larger than 0, got input shape {}",
            shape(&input)
        );
        self.check_forward_args(&input, &hx, None)?;
        let (output, state) = self.native(&input, None, &hx)?;
        if is_batched {
            Ok((output, state))
        } else {
            let state = state.iter().map(|s| s.f_squeeze_dim(1)).collect::<Result<Vec<_>, _>>()?;
            Ok((output.f_squeeze_dim(batch_dim)?, state))
        }
    }

    /// The module's forward on a packed sequence, as PyTorch's: the given state is reordered
    /// into packing order for the native op, and the final state back into the caller's order.
    pub(crate) fn forward_packed_list(
        &self,
        packed: &PackedSequence,
        hx: &[&Tensor],
    ) -> Result<(PackedSequence, Vec<Tensor>)> {
        guard(self.mode.name(), || self.packed(packed, hx))
    }

    fn packed(&self, packed: &PackedSequence, hx: &[&Tensor]) -> Result<(PackedSequence, Vec<Tensor>)> {
        self.mode.ensure_state_count(self.mode.name(), hx.len())?;
        self.ensure_defined(packed.data(), hx)?;
        let data = packed.data();
        let hx = if hx.is_empty() {
            self.zeros(packed.max_batch_size(), data.kind(), data.device())?
        } else {
            // Each batch entry of the given state belongs to the sequence the user put there.
            hx.iter().map(|h| packed.sort_state(h)).collect::<Result<Vec<_>>>()?
        };
        self.check_forward_args(data, &hx, Some(packed.max_batch_size()))?;
        let (output, state) = self.native(data, Some(packed.batch_sizes()), &hx)?;
        let state = state.iter().map(|s| packed.unsort_state(s)).collect::<Result<Vec<_>>>()?;
        Ok((packed.with_data(output), state))
    }

    /// Fails on an undefined input or state tensor (`Tensor::new()`).
    fn ensure_defined(&self, input: &Tensor, hx: &[&Tensor]) -> Result<()> {
        let module = self.mode.name();
        ensure_defined(module, "input", input)?;
        for (i, h) in hx.iter().enumerate() {
            ensure_defined(module, if i == 0 { "hx" } else { "cx" }, h)?;
        }
        Ok(())
    }

    /// PyTorch's `check_input` and `check_hidden_size` for a (batched) input, or a packed
    /// sequence's data (2-D, `packed_batch` its largest batch), and the state.
    fn check_forward_args(&self, input: &Tensor, hx: &[Tensor], packed_batch: Option<i64>) -> Result<()> {
        let module = self.mode.name();
        let device = self.flat_weights[0].device();
        ensure_device(module, "input", input, device)?;
        let weight_kind = self.flat_weights[0].kind();
        ensure!(
            input.kind() == weight_kind,
            "{module}: input dtype ({:?}) does not match weight dtype ({weight_kind:?}); convert the input or the model",
            input.kind()
        );
        let expected_dim = if packed_batch.is_some() { 2 } else { 3 };
        ensure!(
            input.dim() == expected_dim,
            "{module}: input must have {expected_dim} dimensions, got {} (shape {})",
            input.dim(),
            shape(input)
        );
        let features = input.size()[expected_dim - 1];
        ensure!(
            features == self.config.input_size,
            "{module}: input.size(-1) must be equal to input_size. Expected {}, got {features} (input shape {})",
            self.config.input_size,
            shape(input)
        );
        let batch = packed_batch.unwrap_or_else(|| input.size()[if self.config.batch_first { 0 } else { 1 }]);
        let layers = self.config.num_layers * self.config.num_directions();
        for (i, (h, size)) in hx.iter().zip(self.state_sizes()).enumerate() {
            let label = if self.mode == Mode::Lstm { ["hidden[0] size", "hidden[1] size"][i] } else { "hidden size" };
            ensure_device(module, if i == 0 { "hx" } else { "cx" }, h, device)?;
            ensure!(
                h.size() == [layers, batch, size],
                "{module}: Expected {label} ({layers}, {batch}, {size}), got {}",
                shape(h)
            );
            ensure!(
                h.kind() == input.kind(),
                "{module}: hx dtype ({:?}) does not match input dtype ({:?})",
                h.kind(),
                input.kind()
            );
        }
        Ok(())
    }

    /// The native op of the mode, on padded input or (with `batch_sizes`) on packed data.
    fn native(&self, input: &Tensor, batch_sizes: Option<&Tensor>, hx: &[Tensor]) -> Result<(Tensor, Vec<Tensor>)> {
        let (c, w, train) = (&self.config, &self.flat_weights, self.training);
        let (layers, dropout, bi, bias) = (c.num_layers, c.dropout, c.bidirectional, c.bias);
        let single = |native: SingleStateNative, native_data: SingleStateNativeData| -> Result<(Tensor, Vec<Tensor>)> {
            let (output, h) = match batch_sizes {
                None => native(input, &hx[0], w, bias, layers, dropout, train, bi, c.batch_first)?,
                Some(sizes) => native_data(input, sizes, &hx[0], w, bias, layers, dropout, train, bi)?,
            };
            Ok((output, vec![h]))
        };
        match self.mode {
            Mode::RnnTanh => single(Tensor::f_rnn_tanh::<Tensor>, Tensor::f_rnn_tanh_data::<Tensor>),
            Mode::RnnRelu => single(Tensor::f_rnn_relu::<Tensor>, Tensor::f_rnn_relu_data::<Tensor>),
            Mode::Gru => single(Tensor::f_gru::<Tensor>, Tensor::f_gru_data::<Tensor>),
            Mode::Lstm => {
                let (output, h, cell) = match batch_sizes {
                    None => input.f_lstm(hx, w, bias, layers, dropout, train, bi, c.batch_first)?,
                    Some(sizes) => Tensor::f_lstm_data(input, sizes, hx, w, bias, layers, dropout, train, bi)?,
                };
                Ok((output, vec![h, cell]))
            }
        }
    }

    /// Sets training mode (`true`, the default) or evaluation mode (`false`), like
    /// `module.train(mode)`; dropout between layers acts only in training mode.
    pub fn train(&mut self, mode: bool) {
        self.training = mode;
    }

    /// Evaluation mode, like `module.eval()`.
    pub fn eval(&mut self) {
        self.train(false);
    }

    /// Whether the module is in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// The parameters in PyTorch's `_flat_weights` order, with their `state_dict` names.
    ///
    /// ```
    /// use tch_rnn::nn::{Mode, Recurrent, RecurrentConfig};
    /// let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    /// let gru = Recurrent::new(vs.root(), RecurrentConfig { bias: false, ..RecurrentConfig::new(Mode::Gru, 2, 5) })?;
    /// let names: Vec<&str> = gru.named_parameters().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["weight_ih_l0", "weight_hh_l0"]);
    /// # anyhow::Ok(())
    /// ```
    pub fn named_parameters(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.flat_weight_names.iter().map(String::as_str).zip(&self.flat_weights)
    }

    /// PyTorch's `extra_repr`: the sizes, then only the options that differ from the defaults.
    fn extra_repr(&self) -> String {
        let c = &self.config;
        let mut s = format!("{}, {}", c.input_size, c.hidden_size);
        if c.proj_size != 0 {
            s += &format!(", proj_size={}", c.proj_size);
        }
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

/// `rnn_tanh`, `rnn_relu` and `gru` on padded input.
type SingleStateNative =
    fn(&Tensor, &Tensor, &[Tensor], bool, i64, f64, bool, bool, bool) -> Result<(Tensor, Tensor), tch::TchError>;

/// `rnn_tanh`, `rnn_relu` and `gru` on packed data (`data, batch_sizes, hx, ...`).
type SingleStateNativeData =
    fn(&Tensor, &Tensor, &Tensor, &[Tensor], bool, i64, f64, bool, bool) -> Result<(Tensor, Tensor), tch::TchError>;

impl std::fmt::Display for Recurrent {
    /// PyTorch's module repr, e.g. `LSTM(4, 8, proj_size=2, num_layers=2)` (which, as in
    /// PyTorch, shows no nonlinearity).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.mode.name(), self.extra_repr())
    }
}

/// The methods every typed multi-layer module ([`Rnn`](crate::nn::Rnn),
/// [`Lstm`](crate::nn::Lstm), [`Gru`](crate::nn::Gru)) takes from the [`Recurrent`] it wraps
/// in a field `base`, written once.
macro_rules! recurrent_module_methods {
    ($module:ty) => {
        impl $module {
            /// Sets training mode (`true`, the default) or evaluation mode (`false`), like
            /// `module.train(mode)`; dropout between layers acts only in training mode.
            pub fn train(&mut self, mode: bool) {
                self.base.train(mode);
            }

            /// Evaluation mode, like `module.eval()`.
            pub fn eval(&mut self) {
                self.base.eval();
            }

            /// Whether the module is in training mode.
            pub fn is_training(&self) -> bool {
                self.base.is_training()
            }

            /// The parameters in PyTorch's `_flat_weights` order, with their `state_dict` names.
            pub fn named_parameters(&self) -> impl Iterator<Item = (&str, &Tensor)> {
                self.base.named_parameters()
            }

            /// PyTorch's `flatten_parameters()`: on CUDA with cuDNN, lays the weights out in
            /// one contiguous cuDNN buffer (done at construction; call it again after moving
            /// the VarStore to a GPU). Elsewhere it does nothing.
            pub fn flatten_parameters(&self) -> anyhow::Result<()> {
                self.base.flatten_parameters()
            }

            /// The [`Recurrent`](crate::nn::Recurrent) module this one wraps.
            pub fn as_recurrent(&self) -> &$crate::nn::Recurrent {
                &self.base
            }
        }

        impl std::fmt::Display for $module {
            /// PyTorch's module repr, e.g. `LSTM(4, 8, proj_size=2, num_layers=2)`.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.base.fmt(f)
            }
        }
    };
}
pub(crate) use recurrent_module_methods;
