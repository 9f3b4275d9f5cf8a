//! `Rnn`, `Lstm` and `Gru` are thin typed wrappers over `Recurrent`: built after the same seed
//! from the same options, each has the same parameter names and values, and gives the same
//! outputs and states, bit for bit, padded and packed, as the `Recurrent` its config converts
//! to; and the typed configs' defaults are `RecurrentConfig::new`'s.

mod common;

use common::rng_lock;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{
    Gru, GruConfig, Lstm, LstmConfig, Mode, Nonlinearity, Recurrent, RecurrentConfig, RecurrentState, Rnn, RnnConfig,
    pack_sequence,
};

/// A typed module and the `Recurrent` built from the same seed and config.
fn pair<T>(seed: i64, build: impl Fn(&VarStore) -> T, config: RecurrentConfig) -> (T, Recurrent) {
    tch::manual_seed(seed);
    let typed = build(&VarStore::new(Device::Cpu));
    tch::manual_seed(seed);
    let recurrent = Recurrent::new(VarStore::new(Device::Cpu).root(), config).expect("recurrent");
    (typed, recurrent)
}

fn same(what: &str, a: &Tensor, b: &Tensor) {
    assert!(a.size() == b.size() && a.equal(b), "{what}: the typed module and Recurrent differ");
}

fn same_parameters<'a>(
    typed: impl Iterator<Item = (&'a str, &'a Tensor)>,
    recurrent: impl Iterator<Item = (&'a str, &'a Tensor)>,
) {
    let (typed, recurrent): (Vec<_>, Vec<_>) = (typed.collect(), recurrent.collect());
    assert_eq!(
        typed.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        recurrent.iter().map(|(n, _)| *n).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in typed.iter().zip(&recurrent) {
        same(name, a, b);
    }
}

fn input(batch_first: bool) -> (Tensor, Vec<Tensor>) {
    let padded = Tensor::randn(if batch_first { [3, 5, 4] } else { [5, 3, 4] }, (Kind::Float, Device::Cpu));
    let words = [5, 2, 4].map(|len| Tensor::randn([len, 4], (Kind::Float, Device::Cpu)));
    (padded, words.into())
}

#[test]
fn rnn_is_recurrent_with_its_nonlinearity() {
    let _rng = rng_lock();
    for (nonlinearity, mode) in [(Nonlinearity::Tanh, Mode::RnnTanh), (Nonlinearity::Relu, Mode::RnnRelu)] {
        let typed = RnnConfig {
            input_size: 4,
            hidden_size: 3,
            num_layers: 2,
            nonlinearity,
            bidirectional: true,
            batch_first: true,
            ..Default::default()
        };
        let config = RecurrentConfig::from(typed);
        assert_eq!(
            config,
            RecurrentConfig {
                num_layers: 2,
                bidirectional: true,
                batch_first: true,
                ..RecurrentConfig::new(mode, 4, 3)
            }
        );
        let (rnn, recurrent) = pair(1, |vs| Rnn::new(vs.root(), typed).expect("rnn"), config);
        same_parameters(rnn.named_parameters(), recurrent.named_parameters());
        assert_eq!(rnn.to_string(), recurrent.to_string());
        let (x, words) = input(true);
        let h0 = Tensor::randn([4, 3, 3], (Kind::Float, Device::Cpu));
        let (out, h_n) = rnn.forward(&x, Some(&h0)).expect("rnn forward");
        let (out2, state) = recurrent.forward(&x, Some(&RecurrentState::Hidden(h0.shallow_clone()))).expect("forward");
        same("output", &out, &out2);
        same("h_n", &h_n, state.h());
        let packed = pack_sequence(&words, false).expect("pack");
        let (out, h_n) = rnn.forward_packed(&packed, None).expect("rnn packed");
        let (out2, state) = recurrent.forward_packed(&packed, None).expect("packed");
        same("packed output", out.data(), out2.data());
        same("packed h_n", &h_n, state.h());
    }
}

#[test]
fn lstm_is_recurrent_with_projections() {
    let _rng = rng_lock();
    let typed = LstmConfig { input_size: 4, hidden_size: 5, proj_size: 2, num_layers: 2, ..Default::default() };
    let config = RecurrentConfig::from(typed);
    assert_eq!(config, RecurrentConfig { num_layers: 2, proj_size: 2, ..RecurrentConfig::new(Mode::Lstm, 4, 5) });
    let (lstm, recurrent) = pair(2, |vs| Lstm::new(vs.root(), typed).expect("lstm"), config);
    same_parameters(lstm.named_parameters(), recurrent.named_parameters());
    assert_eq!(lstm.to_string(), recurrent.to_string());
    let (x, words) = input(false);
    let (out, (h_n, c_n)) = lstm.forward(&x, None).expect("lstm forward");
    let (out2, state) = recurrent.forward(&x, None).expect("forward");
    let RecurrentState::HiddenAndCell(h, c) = state else { panic!("an LSTM's state is (h, c)") };
    same("output", &out, &out2);
    same("h_n", &h_n, &h);
    same("c_n", &c_n, &c);
    let packed = pack_sequence(&words, false).expect("pack");
    let (out, (h_n, _)) = lstm.forward_packed(&packed, Some((&h, &c))).expect("lstm packed");
    let (out2, state) = recurrent.forward_packed(&packed, Some(&RecurrentState::HiddenAndCell(h, c))).expect("packed");
    same("packed output", out.data(), out2.data());
    same("packed h_n", &h_n, state.h());
}

#[test]
fn gru_is_recurrent() {
    let _rng = rng_lock();
    let typed =
        GruConfig { input_size: 4, hidden_size: 6, bias: false, dropout: 0.5, num_layers: 2, ..Default::default() };
    let config = RecurrentConfig::from(typed);
    assert_eq!(
        config,
        RecurrentConfig { num_layers: 2, bias: false, dropout: 0.5, ..RecurrentConfig::new(Mode::Gru, 4, 6) }
    );
    let (mut gru, mut recurrent) = pair(3, |vs| Gru::new(vs.root(), typed).expect("gru"), config);
    same_parameters(gru.named_parameters(), recurrent.named_parameters());
    // Seeded dropout in training mode draws the same masks.
    let (x, _) = input(false);
    tch::manual_seed(4);
    let (out, h_n) = gru.forward(&x, None).expect("gru forward");
    tch::manual_seed(4);
    let (out2, state) = recurrent.forward(&x, None).expect("forward");
    same("output", &out, &out2);
    same("h_n", &h_n, state.h());
    gru.eval();
    recurrent.eval();
    assert!(!gru.is_training() && !recurrent.is_training());
    same("eval output", &gru.forward(&x, None).expect("gru").0, &recurrent.forward(&x, None).expect("forward").0);
}

#[test]
fn a_state_of_the_wrong_kind_is_one_line_naming_the_module() {
    let _rng = rng_lock();
    let vs = VarStore::new(Device::Cpu);
    let lstm = Recurrent::new(vs.root() / "lstm", RecurrentConfig::new(Mode::Lstm, 2, 3)).expect("lstm");
    let gru = Recurrent::new(vs.root() / "gru", RecurrentConfig::new(Mode::Gru, 2, 3)).expect("gru");
    let x = Tensor::zeros([4, 1, 2], (Kind::Float, Device::Cpu));
    let h = RecurrentState::Hidden(Tensor::zeros([1, 1, 3], (Kind::Float, Device::Cpu)));
    let err = lstm.forward(&x, Some(&h)).expect_err("h alone for an LSTM").to_string();
    assert!(err.starts_with("LSTM: expected the state (h, c)") && !err.contains('\n'), "{err}");
    let hc = RecurrentState::HiddenAndCell(h.h().shallow_clone(), h.h().shallow_clone());
    let err = gru.forward(&x, Some(&hc)).expect_err("(h, c) for a GRU").to_string();
    assert!(err.starts_with("GRU: expected the state h, got (h, c)") && !err.contains('\n'), "{err}");
    let config = RecurrentConfig { proj_size: 1, ..RecurrentConfig::new(Mode::Gru, 2, 3) };
    let err = Recurrent::new(vs.root() / "bad", config).expect_err("proj_size on a GRU").to_string();
    assert!(err.contains("GRU: proj_size argument is only supported for LSTM"), "{err}");
    let err = "LSTMX".parse::<Mode>().expect_err("unknown mode").to_string();
    assert!(err.contains("Unrecognized RNN mode: LSTMX"), "{err}");
}
