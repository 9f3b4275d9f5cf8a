//! Character-level language models, the tutorial's third model grown up: Embedding -> RNN |
//! LSTM | GRU -> Linear over the characters of a text, trained, checkpointed, sampled and
//! evaluated by the `tch-rnn` command, and exchanged with PyTorch
//! (`scripts/pytorch/char_model.py` holds the same model, loop and checkpoint layout).

mod checkpoint;
mod corpus;
mod evaluate;
mod history;
mod model;
mod progress;
mod sample;
mod train;

pub use checkpoint::{
    Checkpoint, CheckpointState, FORMAT, RunConfig, TrainingConfig, UNSEALED, parse_config, parse_state, parse_vocab,
};
pub use corpus::{Corpus, SHAKESPEARE, VALIDATION_FRACTION, Vocabulary, read_text, text_sha256};
pub use evaluate::{Evaluation, evaluate};
pub use history::{History, Row};
pub use model::{Cell, CharModel, ModelConfig, State};
pub use progress::{Progress, format_duration};
pub use sample::{MAX_SAMPLE_LENGTH, SampleOptions, sample};
pub use train::{Length, Outcome, Report, TrainOptions, defaults, train};
