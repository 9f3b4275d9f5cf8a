//! Bad inputs and configurations of LSTM, GRU and their cells return one-line errors naming the
//! module and saying what was expected and what came, with PyTorch's wording where PyTorch has
//! a check, never a panic or a libtorch exception.

mod common;

use common::{check_err as check, randn};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{Gru, GruCell, GruCellConfig, GruConfig, Lstm, LstmCell, LstmCellConfig, LstmConfig};

/// `LSTM(4, 5, num_layers=2, proj_size=3)`.
fn lstm(vs: &VarStore) -> Lstm {
    let config = LstmConfig { input_size: 4, hidden_size: 5, num_layers: 2, proj_size: 3, ..Default::default() };
    Lstm::new(vs.root(), config).expect("valid config")
}

#[test]
fn lstm_checks_each_state_against_its_own_size() {
    let vs = VarStore::new(Device::Cpu);
    let lstm = lstm(&vs);
    let x = randn(&[6, 2, 4]);
    // h is projected to proj_size 3, c keeps hidden_size 5.
    let _ = lstm.forward(&x, Some((&randn(&[2, 2, 3]), &randn(&[2, 2, 5])))).expect("the right sizes");
    check("h of hidden_size", "LSTM", &["Expected hidden[0] size (2, 2, 3)", "[2, 2, 5]"], || {
        lstm.forward(&x, Some((&randn(&[2, 2, 5]), &randn(&[2, 2, 5]))))
    });
    check("c of proj_size", "LSTM", &["Expected hidden[1] size (2, 2, 5)", "[2, 2, 3]"], || {
        lstm.forward(&x, Some((&randn(&[2, 2, 3]), &randn(&[2, 2, 3]))))
    });
    check("2-D c for batched input", "LSTM", &["hx and cx should also be 3-D", "(3-D, 2-D)"], || {
        lstm.forward(&x, Some((&randn(&[2, 2, 3]), &randn(&[2, 5]))))
    });
    check("3-D states for unbatched input", "LSTM", &["unbatched 2-D", "(3-D, 3-D)"], || {
        lstm.forward(&randn(&[6, 4]), Some((&randn(&[2, 1, 3]), &randn(&[2, 1, 5]))))
    });
    check("c of another dtype", "LSTM", &["dtype", "Double", "Float"], || {
        lstm.forward(&x, Some((&randn(&[2, 2, 3]), &Tensor::zeros([2, 2, 5], (Kind::Double, Device::Cpu)))))
    });
}

#[test]
fn lstm_rejects_wrong_input() {
    let vs = VarStore::new(Device::Cpu);
    let lstm = lstm(&vs);
    check("4-D input", "LSTM", &["2D or 3D", "4D"], || lstm.forward(&randn(&[5, 2, 1, 4]), None));
    check("5 features for 4", "LSTM", &["input_size", "Expected 4, got 5"], || lstm.forward(&randn(&[5, 2, 5]), None));
    check("empty sequence", "LSTM", &["sequence length", "0"], || lstm.forward(&randn(&[0, 2, 4]), None));
}

#[test]
fn lstm_rejects_bad_projections_before_registering_anything() {
    let vs = VarStore::new(Device::Cpu);
    let config = LstmConfig { input_size: 4, hidden_size: 5, ..Default::default() };
    check("proj_size = hidden_size", "LSTM", &["proj_size has to be smaller than hidden_size", "5"], || {
        Lstm::new(vs.root(), LstmConfig { proj_size: 5, ..config })
    });
    check("negative proj_size", "LSTM", &["proj_size should be a positive integer or zero", "-1"], || {
        Lstm::new(vs.root(), LstmConfig { proj_size: -1, ..config })
    });
    check("dropout 2", "LSTM", &["dropout", "[0, 1]", "got 2"], || {
        Lstm::new(vs.root(), LstmConfig { dropout: 2.0, ..config })
    });
    assert!(vs.variables().is_empty(), "a rejected config must register no parameter");
}

#[test]
fn gru_rejects_wrong_state_and_configs() {
    let vs = VarStore::new(Device::Cpu);
    let config = GruConfig { input_size: 4, hidden_size: 3, num_layers: 2, batch_first: true, ..Default::default() };
    let gru = Gru::new(vs.root() / "gru", config).expect("valid");
    check("h0 batch of seq_len", "GRU", &["Expected hidden size (2, 6, 3)", "[2, 2, 3]"], || {
        gru.forward(&randn(&[6, 2, 4]), Some(&randn(&[2, 2, 3])))
    });
    check("2-D h0 for batched input", "GRU", &["3-D", "2-D"], || {
        gru.forward(&randn(&[6, 2, 4]), Some(&randn(&[2, 3])))
    });
    check("hidden_size 0", "GRU", &["hidden_size", "greater than zero"], || {
        Gru::new(vs.root() / "other", GruConfig { hidden_size: 0, ..config })
    });
    check("same path twice", "GRU", &["weight_ih_l0", "already exists"], || Gru::new(vs.root() / "gru", config));
}

#[test]
fn gated_cells_reject_wrong_shapes() {
    let vs = VarStore::new(Device::Cpu);
    let config = LstmCellConfig { input_size: 4, hidden_size: 3, ..Default::default() };
    let lstm = LstmCell::new(vs.root() / "lstm", config).expect("valid");
    check("3-D input", "LSTMCell", &["1D or 2D", "3D"], || lstm.forward(&randn(&[1, 2, 4]), None));
    check("3-D c", "LSTMCell", &["hx[1]", "1D or 2D", "3D"], || {
        lstm.forward(&randn(&[2, 4]), Some((&randn(&[2, 3]), &randn(&[1, 2, 3]))))
    });
    check("c of another size", "LSTMCell", &["hx[1] has inconsistent hidden_size", "got 4, expected 3"], || {
        lstm.forward(&randn(&[2, 4]), Some((&randn(&[2, 3]), &randn(&[2, 4]))))
    });
    check("h of another batch", "LSTMCell", &["batch size 2", "hx[0] batch size 5"], || {
        lstm.forward(&randn(&[2, 4]), Some((&randn(&[5, 3]), &randn(&[2, 3]))))
    });
    let gru =
        GruCell::new(vs.root() / "gru", GruCellConfig { input_size: 4, hidden_size: 3, bias: false }).expect("valid");
    check("5 features for 4", "GRUCell", &["input_size", "got 5 expected 4"], || gru.forward(&randn(&[2, 5]), None));
    check("input_size 0", "GRUCell", &["input_size", "greater than zero"], || {
        GruCell::new(vs.root() / "bad", GruCellConfig { input_size: 0, hidden_size: 3, bias: true })
    });
}
