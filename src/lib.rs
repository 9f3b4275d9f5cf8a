//! PyTorch-faithful recurrent networks on tch (libtorch), and a one-to-one Rust port of a
//! PyTorch RNN tutorial.
//!
//! - [`allocator`]: keeping freed memory for reuse in training processes (a quarter of a
//!   `tch-rnn train` step otherwise goes to page faults).
//! - [`charlm`]: character-level language models (Embedding -> RNN | LSTM | GRU -> Linear):
//!   training with exact resume, checkpoints shared with PyTorch, sampling, evaluation; what
//!   the `tch-rnn` command runs.
//! - [`cli`]: every command line of the project: the `tch-rnn` command, the tutorial
//!   examples', and what every program does at its edges (one-line errors, exit codes).
//! - [`device`]: `cpu`, `cuda`, `cuda:N` or `auto` to a `tch::Device`, loading libtorch's CUDA
//!   library only when CUDA is asked for; ATen's CPU capability and GPU count.
//! - [`distributed`]: data-parallel training on libtorch's c10d (Gloo), torchrun-compatible:
//!   process groups, collectives, and `DistributedDataParallel` with PyTorch DDP's bits.
//! - [`error`]: errors as one line, libtorch's C++ frames removed.
//! - [`grad_fn_name`]: the autograd node that produced a tensor, as `grad_fn=<...>` names it
//!   (through the crate's small C++ shim for the few libtorch calls tch does not expose).
//! - [`memory`]: how much memory the machine has.
//! - [`nn`]: `Recurrent` (PyTorch's `RNNBase`, any recurrent kind), `Rnn`, `Lstm`, `Gru`, their
//!   cells, packed sequences, `Embedding`, `Linear`,
//!   `CrossEntropyLoss` with PyTorch's defaults, initialisation draws, `state_dict` names and
//!   native ops, and strict `load_state_dict` / atomic `save_state_dict` for safetensors files
//!   shared with PyTorch; they also implement tch's `Module` and `RNN` traits.
//! - [`optim`]: `Adam`, replaying `torch.optim.Adam` op for op.
//! - [`options`]: options declared once (default, help, domain, resume rule), from which
//!   checkpoints, validation, resume comparisons and the command line's flags all come.
//! - [`repr`]: tensors printed exactly as torch prints them, `grad_fn=<...>` included.
//! - [`safetensors`]: the file format shared with PyTorch, every header checked before a byte
//!   of data is trusted, and files written atomically.
//! - [`tutorials`]: the tutorial's programs and those of its section 4, each printing what its
//!   PyTorch twin prints.
//!
//! ```
//! use tch::{nn::VarStore, Device, Kind, Tensor};
//! use tch_rnn::nn::{Rnn, RnnConfig};
//! use tch_rnn::repr::{Repr, size};
//!
//! tch::manual_seed(0);
//! let vs = VarStore::new(Device::Cpu);
//! let rnn = Rnn::new(
//!     vs.root() / "rnn",
//!     RnnConfig { input_size: 4, hidden_size: 2, num_layers: 2, batch_first: true, ..Default::default() },
//! )?;
//! let (output, h_n) = rnn.forward(&Tensor::randn([1, 3, 4], (Kind::Float, Device::Cpu)), None)?;
//! assert_eq!(size(&h_n).to_string(), "torch.Size([2, 1, 2])");
//! assert!(Repr(&output).to_string().ends_with("grad_fn=<TransposeBackward1>)"));
//! # anyhow::Ok(())
//! ```

pub mod allocator;
pub mod charlm;
pub mod cli;
pub mod device;
pub mod distributed;
pub mod error;
pub(crate) mod ffi;
mod fsutil;
pub mod memory;
pub mod nn;
pub mod optim;
pub mod options;
pub mod repr;
pub mod safetensors;
mod sha256;
pub mod tutorials;

pub use ffi::grad_fn_name;
