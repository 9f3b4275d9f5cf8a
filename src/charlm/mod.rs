//! Character-level language models, the tutorial's third model grown up: Embedding -> RNN |
//! LSTM | GRU -> Linear over the characters of a text, trained, checkpointed, sampled and
//! evaluated by the `tch-rnn` command, and exchanged with PyTorch
//! (`scripts/pytorch/char_model.py` holds the same model, loop and checkpoint layout).
//!
//! Every option is declared once, in its group: [`ModelOptions`], [`DataOptions`],
//! [`OptimOptions`], [`RunOptions`] (see [`crate::options`]); a checkpoint stores them all
//! ([`RunConfig`]). Training reads as a page ([`train`]): batches ([`corpus`](Corpus)), one
//! step, evaluation ([`evaluate`]), the checkpoint policy, and a [`Reporter`] the caller
//! passes in, since the library prints nothing.

mod checkpoint;
mod corpus;
mod data_parallel;
mod evaluate;
mod history;
mod model;
mod optimization;
mod optimizer_files;
mod report;
mod rng;
mod run_config;
mod run_dir;
mod run_options;
mod sample;
mod train;

pub use checkpoint::{Checkpoint, CheckpointState, UNSEALED, parse_config, parse_state, parse_vocab};
pub use corpus::{
    Batching, Corpus, DataOptions, SHAKESPEARE, StreamPosition, VALIDATION_FRACTION, Vocabulary, read_text, text_sha256,
};
pub use data_parallel::RankFailed;
pub use evaluate::{Evaluation, evaluate, evaluate_windows};
pub use history::{History, Row};
pub use model::{CharModel, Layer, MAX_SIZE, ModelOptions};
pub use optimization::{LrSchedule, OptimOptions, OptimizerKind};
pub use report::{Outcome, Quiet, Report, Reporter};
pub use run_config::{FORMAT, ResumeConflicts, RunConfig, TextRecord, all_fields};
pub use run_dir::RunExists;
pub use run_options::RunOptions;
pub use sample::{MAX_SAMPLE_LENGTH, SampleOptions, beam_search, log_probability, sample, sample_streaming};
pub use train::{SAMPLE_LENGTH, SAMPLE_TEMPERATURE, TrainJob, train};
