//! The programs of the PyTorch RNN tutorial and of its next step (LSTM, GRU, sequences of
//! different lengths), each a port of its Python twin in `scripts/pytorch/` that prints, for the
//! same seed on the same machine, byte for byte what the twin prints.
//!
//! Each program lives once, here, as `run(options, out)`: the examples in `examples/` call it
//! with stdout, the tests with a buffer. What the "hello" programs share (data, loss, optimizer
//! and training loop) is written once in [`hello`].
//!
//! | program | tutorial section | shows |
//! |---|---|---|
//! | [`rnn_cell`] | 2.1 | RNNCell stepped by hand over a sequence |
//! | [`rnn`] | 2.2 | RNN over the whole sequence at once |
//! | [`rnn_batch_first`] | 2.3 | RNN with `batch_first=True` |
//! | [`hello_rnn_cell`] | 3.1 | "hello" -> "ohlol" with RNNCell and one-hot input |
//! | [`hello_rnn`] | 3.2 | the same with RNN |
//! | [`hello_embedding`] | 3.3 | the same with Embedding + 2-layer RNN + Linear |
//! | [`hello_lstm`] | 4 | 3.3 with an LSTM |
//! | [`hello_gru`] | 4 | 3.3 with a GRU |
//! | [`hello_lstm_cell`] | 4 | 3.1 with an LSTMCell and its `(hidden, cell)` state |
//! | [`hello_gru_cell`] | 4 | 3.1 with a GRUCell |
//! | [`packed_sequences`] | 4 | words of different lengths packed into one batch |
//! | [`hello_attention`] | 4 | "hello" -> "ohlol" by a GRU encoder-decoder with attention |
//! | [`hello_attention_packed`] | 4 | words of different lengths reversed with attention and a key padding mask |

pub mod hello;
pub mod hello_attention;
pub mod hello_attention_packed;
pub mod hello_embedding;
pub mod hello_gru;
pub mod hello_gru_cell;
pub mod hello_lstm;
pub mod hello_lstm_cell;
pub mod hello_rnn;
pub mod hello_rnn_cell;
pub mod packed_sequences;
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
    /// Adam's learning rate; `None` takes the program's own (0.1 for the cell programs,
    /// packed_sequences and hello_attention_packed, 0.05 for the others).
    pub lr: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options { seed: 0, epochs: 15, lr: None }
    }
}

/// A program's entry point.
type Run = fn(&Options, &mut dyn std::io::Write) -> anyhow::Result<()>;

/// A program's row: its name, the tutorial's section, what it shows, whether it trains (and so
/// takes `epochs` and `lr`), and its `run`.
type Row = (&'static str, &'static str, &'static str, bool, Run);

/// Every program, in the tutorial's order: the one list the functions below read.
const TABLE: [Row; 13] = [
    ("rnn_cell", "2.1", "RNNCell stepped by hand over a (seq, batch, input) sequence", false, rnn_cell::run),
    ("rnn", "2.2", "RNN over the whole sequence: output and hidden", false, rnn::run),
    ("rnn_batch_first", "2.3", "the same with batch_first=True", false, rnn_batch_first::run),
    ("hello_rnn_cell", "3.1", "\"hello\" -> \"ohlol\" with RNNCell and one-hot input", true, hello_rnn_cell::run),
    ("hello_rnn", "3.2", "the same with RNN", true, hello_rnn::run),
    ("hello_embedding", "3.3", "the same with Embedding + 2-layer RNN + Linear", true, hello_embedding::run),
    ("hello_lstm", "4", "3.3 with an LSTM", true, hello_lstm::run),
    ("hello_gru", "4", "3.3 with a GRU", true, hello_gru::run),
    ("hello_lstm_cell", "4", "3.1 with an LSTMCell and its (hidden, cell) state", true, hello_lstm_cell::run),
    ("hello_gru_cell", "4", "3.1 with a GRUCell", true, hello_gru_cell::run),
    ("packed_sequences", "4", "words of different lengths reversed over one packed batch", true, packed_sequences::run),
    (
        "hello_attention",
        "4",
        "\"hello\" -> \"ohlol\" by a GRU encoder-decoder with attention",
        true,
        hello_attention::run,
    ),
    (
        "hello_attention_packed",
        "4",
        "words of different lengths reversed with attention and a key padding mask",
        true,
        hello_attention_packed::run,
    ),
];

/// The row of program `name`.
fn program(name: &str) -> Option<&'static Row> {
    TABLE.iter().find(|&&(program, ..)| program == name)
}

/// The names of the programs, in the tutorial's order, as used by `examples/`,
/// `scripts/pytorch/` and the tests.
///
/// ```
/// assert_eq!(tch_rnn::tutorials::PROGRAMS[..2], ["rnn_cell", "rnn"]);
/// ```
pub const PROGRAMS: [&str; TABLE.len()] = {
    let mut names = [""; TABLE.len()];
    let mut i = 0;
    while i < TABLE.len() {
        names[i] = TABLE[i].0;
        i += 1;
    }
    names
};

/// Each program's section of the tutorial and what it shows.
///
/// ```
/// let (section, what) = tch_rnn::tutorials::about("hello_lstm").unwrap();
/// assert_eq!((section, what), ("4", "3.3 with an LSTM"));
/// ```
pub fn about(name: &str) -> Option<(&'static str, &'static str)> {
    program(name).map(|&(_, section, shows, _, _)| (section, shows))
}

/// Whether program `name` trains (and so takes `epochs` and `lr`).
///
/// ```
/// assert!(tch_rnn::tutorials::trains("hello_gru") && !tch_rnn::tutorials::trains("rnn"));
/// ```
pub fn trains(name: &str) -> bool {
    program(name).is_some_and(|&(.., trains, _)| trains)
}

/// Runs the program called `name` (one of [`PROGRAMS`]), writing what it prints to `out`.
///
/// ```
/// let mut out = Vec::new();
/// tch_rnn::tutorials::run("rnn", &Default::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.starts_with("Output size: torch.Size([3, 1, 2])\n"));
/// # anyhow::Ok(())
/// ```
pub fn run(name: &str, options: &Options, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let Some(&(.., run)) = program(name) else {
        anyhow::bail!("tutorials: no program named '{name}'; expected one of {}", PROGRAMS.join(", "));
    };
    run(options, out)
}

/// What the program called `name` prints with `options`, as text.
///
/// ```
/// let text = tch_rnn::tutorials::output("rnn_cell", &Default::default())?;
/// assert!(text.starts_with("==================== 0 ====================\n"));
/// # anyhow::Ok(())
/// ```
pub fn output(name: &str, options: &Options) -> anyhow::Result<String> {
    let mut out = Vec::new();
    run(name, options, &mut out)?;
    Ok(String::from_utf8(out)?)
}
