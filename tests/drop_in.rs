//! Drop-in for tch users: a model written against tch's own traits (`tch::nn::Module` for the
//! embedding and output layers, `tch::nn::RNN` for the recurrent layer) runs on tch's layers
//! and on ours, changing only the constructors, and with the same weights computes the same
//! bits (both call the same libtorch natives). Where a trait method cannot return an error it
//! panics with our one-line message, as tch's modules do.

use tch::nn::{self, Module, RNN, VarStore};
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{Embedding, Gru, GruConfig, Linear, Lstm, LstmConfig};

const VOCABULARY: i64 = 7;
const EMBEDDING: i64 = 5;
const HIDDEN: i64 = 6;

/// A character model that knows only tch's traits.
struct CharModel<R: RNN> {
    emb: Box<dyn Module>,
    rnn: R,
    fc: Box<dyn Module>,
}

impl<R: RNN> CharModel<R> {
    /// Logits for a batch of sequences `(batch, seq)`, and the final state.
    fn forward(&self, x: &Tensor) -> (Tensor, R::State) {
        let (out, state) = self.rnn.seq(&self.emb.forward(x));
        (self.fc.forward(&out), state)
    }

    /// The same sequence fed one step at a time, from `zero_state`.
    fn last_state_by_steps(&self, x: &Tensor) -> R::State {
        let embedded = self.emb.forward(x);
        let mut state = self.rnn.zero_state(x.size()[0]);
        for t in 0..x.size()[1] {
            state = self.rnn.step(&embedded.select(1, t), &state);
        }
        state
    }
}

fn tch_lstm_model(vs: &VarStore) -> CharModel<nn::LSTM> {
    let root = vs.root();
    CharModel {
        emb: Box::new(nn::embedding(&root / "emb", VOCABULARY, EMBEDDING, Default::default())),
        rnn: nn::lstm(&root / "rnn", EMBEDDING, HIDDEN, Default::default()),
        fc: Box::new(nn::linear(&root / "fc", HIDDEN, VOCABULARY, Default::default())),
    }
}

/// The same model on tch-rnn's layers: only the constructors differ (tch's recurrent layers
/// are batch-first by default, PyTorch's are not, so ours say it).
fn our_lstm_model(vs: &VarStore) -> CharModel<Lstm> {
    let root = vs.root();
    let config = LstmConfig { input_size: EMBEDDING, hidden_size: HIDDEN, batch_first: true, ..Default::default() };
    CharModel {
        emb: Box::new(Embedding::new(&root / "emb", VOCABULARY, EMBEDDING, Default::default()).unwrap()),
        rnn: Lstm::new(&root / "rnn", config).unwrap(),
        fc: Box::new(Linear::new(&root / "fc", HIDDEN, VOCABULARY, Default::default()).unwrap()),
    }
}

fn tch_gru_model(vs: &VarStore) -> CharModel<nn::GRU> {
    let root = vs.root();
    CharModel {
        emb: Box::new(nn::embedding(&root / "emb", VOCABULARY, EMBEDDING, Default::default())),
        rnn: nn::gru(&root / "rnn", EMBEDDING, HIDDEN, Default::default()),
        fc: Box::new(nn::linear(&root / "fc", HIDDEN, VOCABULARY, Default::default())),
    }
}

fn our_gru_model(vs: &VarStore) -> CharModel<Gru> {
    let root = vs.root();
    let config = GruConfig { input_size: EMBEDDING, hidden_size: HIDDEN, batch_first: true, ..Default::default() };
    CharModel {
        emb: Box::new(Embedding::new(&root / "emb", VOCABULARY, EMBEDDING, Default::default()).unwrap()),
        rnn: Gru::new(&root / "rnn", config).unwrap(),
        fc: Box::new(Linear::new(&root / "fc", HIDDEN, VOCABULARY, Default::default()).unwrap()),
    }
}

/// Copies every variable of `from` into `to`, which must have the same names and shapes.
fn copy_weights(from: &VarStore, to: &VarStore) {
    let (source, target) = (from.variables(), to.variables());
    let names = |m: &std::collections::HashMap<String, Tensor>| {
        let mut names: Vec<String> = m.keys().cloned().collect();
        names.sort();
        names
    };
    assert_eq!(names(&source), names(&target), "tch's layers and ours name their parameters alike");
    tch::no_grad(|| {
        for (name, mut var) in target {
            var.copy_(&source[&name]);
        }
    });
}

fn input() -> Tensor {
    Tensor::from_slice(&[1i64, 0, 2, 2, 3, 6, 5, 4, 3, 1]).view([2, 5])
}

fn assert_bits(what: &str, a: &Tensor, b: &Tensor) {
    assert_eq!(a.size(), b.size(), "{what}: shape");
    assert!(a.equal(b), "{what}: tch's layers and ours differ");
}

#[test]
fn an_lstm_model_written_for_tch_runs_on_ours_unchanged() {
    let (theirs_vs, ours_vs) = (VarStore::new(Device::Cpu), VarStore::new(Device::Cpu));
    let (theirs, ours) = (tch_lstm_model(&theirs_vs), our_lstm_model(&ours_vs));
    copy_weights(&theirs_vs, &ours_vs);
    let x = input();
    let ((logits_a, state_a), (logits_b, state_b)) = (theirs.forward(&x), ours.forward(&x));
    assert_eq!(logits_b.size(), [2, 5, VOCABULARY]);
    assert_bits("logits", &logits_a, &logits_b);
    assert_bits("h", &state_a.h(), &state_b.h());
    assert_bits("c", &state_a.c(), &state_b.c());
    let (steps_a, steps_b) = (theirs.last_state_by_steps(&x), ours.last_state_by_steps(&x));
    assert_bits("h by steps", &steps_a.h(), &steps_b.h());
    assert_bits("c by steps", &steps_a.c(), &steps_b.c());
    assert!(steps_b.h().allclose(&state_b.h(), 1e-6, 1e-6, false), "steps and seq reach the same state");
}

#[test]
fn a_gru_model_written_for_tch_runs_on_ours_unchanged() {
    let (theirs_vs, ours_vs) = (VarStore::new(Device::Cpu), VarStore::new(Device::Cpu));
    let (theirs, ours) = (tch_gru_model(&theirs_vs), our_gru_model(&ours_vs));
    copy_weights(&theirs_vs, &ours_vs);
    let x = input();
    let ((logits_a, state_a), (logits_b, state_b)) = (theirs.forward(&x), ours.forward(&x));
    assert_bits("logits", &logits_a, &logits_b);
    assert_bits("h", &state_a.value(), &state_b.value());
    let (steps_a, steps_b) = (theirs.last_state_by_steps(&x), ours.last_state_by_steps(&x));
    assert_bits("h by steps", &steps_a.value(), &steps_b.value());
}

/// PyTorch's layout (`batch_first: false`) works through the traits too: `seq` and `step`
/// follow the module's own layout.
#[test]
fn the_traits_follow_the_modules_layout() {
    let vs = VarStore::new(Device::Cpu);
    let lstm = Lstm::new(vs.root(), LstmConfig { input_size: 3, hidden_size: 4, ..Default::default() }).unwrap();
    let x = Tensor::randn([5, 2, 3], (Kind::Float, Device::Cpu)); // (seq, batch, features)
    let (output, state) = lstm.seq(&x);
    assert_eq!((output.size(), state.h().size()), (vec![5, 2, 4], vec![1, 2, 4]));
    let stepped = (0..5).fold(lstm.zero_state(2), |s, t| lstm.step(&x.get(t), &s));
    assert!(stepped.h().allclose(&state.h(), 1e-6, 1e-6, false));
}

#[test]
fn trait_methods_panic_with_our_message() {
    let vs = VarStore::new(Device::Cpu);
    let fc = Linear::new(vs.root() / "fc", 8, 4, Default::default()).unwrap();
    let payload = std::panic::catch_unwind(|| Module::forward(&fc, &Tensor::zeros([2, 5], (Kind::Float, Device::Cpu))))
        .expect_err("a bad input must panic through the trait");
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.starts_with("Linear: expected input.size(-1) == in_features = 8, got 5"), "{message}");
    assert_eq!(message.lines().count(), 1, "one line: {message}");
}
