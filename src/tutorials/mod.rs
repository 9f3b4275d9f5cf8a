//! The six programs of the PyTorch RNN tutorial, each a line-by-line port of its Python twin in
//! `scripts/pytorch/` that prints, for the same seed, byte for byte what the twin prints.
//!
//! Each program lives once, here, as `run(options, out)`: the examples in `examples/` call it
//! with stdout, the tests with a buffer.
//!
//! | program | tutorial section | shows |
//! |---|---|---|
//! | [`rnn_cell`] | 2.1 | RNNCell stepped by hand over a sequence |
//! | [`rnn`] | 2.2 | RNN over the whole sequence at once |
//! | [`rnn_batch_first`] | 2.3 | RNN with `batch_first=True` |
//! | [`hello_rnn_cell`] | 3.1 | "hello" -> "ohlol" with RNNCell and one-hot input |
//! | [`hello_rnn`] | 3.2 | the same with RNN |
//! | [`hello_embedding`] | 3.3 | the same with Embedding + 2-layer RNN + Linear |

pub mod cli;
pub mod hello;
pub mod hello_embedding;
pub mod hello_rnn;
pub mod hello_rnn_cell;
pub mod rnn;
pub mod rnn_batch_first;
pub mod rnn_cell;

/// What every tutorial program takes: the seed its twin gets as first argument, and for the
/// training programs the number of epochs and the learning rate.
///
/// ```
/// let options = tch_rnn::tutorials::Options { seed: 7, ..Default::default() };
/// assert_eq!((options.epochs, options.lr), (15, None));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// `torch.manual_seed(seed)`. Default: 0, like the twins.
    pub seed: i64,
    /// Training epochs. Default: 15, the tutorial's.
    pub epochs: i64,
    /// Adam's learning rate; `None` takes the tutorial's (0.1 for 3.1, 0.05 for 3.2 and 3.3).
    pub lr: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options { seed: 0, epochs: 15, lr: None }
    }
}

/// The names of the six programs, as used by `examples/`, `scripts/pytorch/` and the tests.
pub const PROGRAMS: [&str; 6] =
    ["rnn_cell", "rnn", "rnn_batch_first", "hello_rnn_cell", "hello_rnn", "hello_embedding"];

/// Runs the program called `name` (one of [`PROGRAMS`]), writing what it prints to `out`.
///
/// ```
/// let mut out = Vec::new();
/// tch_rnn::tutorials::run("rnn", &Default::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.starts_with("Output size: torch.Size([3, 1, 2])\n"));
/// # anyhow::Ok(())
/// ```
pub fn run(name: &str, options: &Options, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    match name {
        "rnn_cell" => rnn_cell::run(options, out),
        "rnn" => rnn::run(options, out),
        "rnn_batch_first" => rnn_batch_first::run(options, out),
        "hello_rnn_cell" => hello_rnn_cell::run(options, out),
        "hello_rnn" => hello_rnn::run(options, out),
        "hello_embedding" => hello_embedding::run(options, out),
        other => anyhow::bail!("tutorials: no program named '{other}'; expected one of {}", PROGRAMS.join(", ")),
    }
}
