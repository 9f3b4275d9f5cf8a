//! Bad inputs and bad configurations return `Err` (never panic, never a raw libtorch
//! exception) with a message that names the module and says what was expected and what was
//! got.

mod common;

use common::{check_err as check, randn};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{
    CrossEntropyLoss, CrossEntropyLossConfig, Embedding, EmbeddingConfig, Linear, Rnn, RnnCell, RnnCellConfig,
    RnnConfig,
};

const CPU: Device = Device::Cpu;

/// `RNN(4, 3, num_layers=2)`, optionally batch_first.
fn rnn(vs: &VarStore, batch_first: bool) -> Rnn {
    Rnn::new(vs.root(), RnnConfig { input_size: 4, hidden_size: 3, num_layers: 2, batch_first, ..Default::default() })
        .expect("valid config")
}

// RNN -----------------------------------------------------------------------------------------

#[test]
fn rnn_rejects_wrong_rank() {
    let vs = VarStore::new(CPU);
    let rnn = rnn(&vs, false);
    check("4-D input", "RNN", &["2D or 3D", "4D", "[5, 2, 1, 4]"], || rnn.forward(&randn(&[5, 2, 1, 4]), None));
    check("1-D input", "RNN", &["2D or 3D", "1D", "[4]"], || rnn.forward(&randn(&[4]), None));
}

#[test]
fn rnn_rejects_wrong_feature_size() {
    let vs = VarStore::new(CPU);
    let rnn = rnn(&vs, false);
    check("batched", "RNN", &["input_size", "Expected 4, got 5", "[6, 2, 5]"], || {
        rnn.forward(&randn(&[6, 2, 5]), None)
    });
    check("unbatched", "RNN", &["input_size", "Expected 4, got 3"], || rnn.forward(&randn(&[6, 3]), None));
}

#[test]
fn rnn_rejects_h0_of_the_wrong_shape() {
    let vs = VarStore::new(CPU);
    let rnn = rnn(&vs, false);
    let x = randn(&[6, 2, 4]);
    check("h0 with too few layers", "RNN", &["Expected hidden size (2, 2, 3)", "[1, 2, 3]"], || {
        rnn.forward(&x, Some(&randn(&[1, 2, 3])))
    });
    check("h0 with the wrong hidden size", "RNN", &["Expected hidden size (2, 2, 3)", "[2, 2, 5]"], || {
        rnn.forward(&x, Some(&randn(&[2, 2, 5])))
    });
    check("2-D h0 for batched input", "RNN", &["3-D", "2-D", "[2, 3]"], || rnn.forward(&x, Some(&randn(&[2, 3]))));
    check("3-D h0 for unbatched input", "RNN", &["2-D", "3-D", "[2, 1, 3]"], || {
        rnn.forward(&randn(&[6, 4]), Some(&randn(&[2, 1, 3])))
    });
    check("h0 of another dtype", "RNN", &["dtype", "Double", "Float"], || {
        rnn.forward(&x, Some(&Tensor::zeros([2, 2, 3], (Kind::Double, CPU))))
    });
}

#[test]
fn rnn_rejects_batch_mismatch() {
    let vs = VarStore::new(CPU);
    let seq_first = rnn(&vs, false);
    check("seq-first", "RNN", &["Expected hidden size (2, 2, 3)", "[2, 5, 3]"], || {
        seq_first.forward(&randn(&[6, 2, 4]), Some(&randn(&[2, 5, 3])))
    });
    let vs = VarStore::new(CPU);
    let batch_first = rnn(&vs, true);
    check("batch_first", "RNN", &["Expected hidden size (2, 6, 3)", "[2, 2, 3]"], || {
        batch_first.forward(&randn(&[6, 2, 4]), Some(&randn(&[2, 2, 3])))
    });
}

#[test]
fn rnn_rejects_input_of_another_dtype() {
    let vs = VarStore::new(CPU);
    let rnn = rnn(&vs, false);
    check("double input", "RNN", &["dtype", "Double", "Float"], || {
        rnn.forward(&Tensor::zeros([6, 2, 4], (Kind::Double, CPU)), None)
    });
}

#[test]
fn rnn_rejects_bad_configs() {
    let config = RnnConfig { input_size: 4, hidden_size: 3, ..Default::default() };
    let vs = VarStore::new(CPU);
    check("hidden_size 0", "RNN", &["hidden_size", "greater than zero", "got 0"], || {
        Rnn::new(vs.root(), RnnConfig { hidden_size: 0, ..config })
    });
    check("num_layers 0", "RNN", &["num_layers", "greater than zero", "got 0"], || {
        Rnn::new(vs.root(), RnnConfig { num_layers: 0, ..config })
    });
    check("dropout 1.5", "RNN", &["dropout", "[0, 1]", "got 1.5"], || {
        Rnn::new(vs.root(), RnnConfig { dropout: 1.5, ..config })
    });
    check("dropout -0.1", "RNN", &["dropout", "[0, 1]", "got -0.1"], || {
        Rnn::new(vs.root(), RnnConfig { dropout: -0.1, ..config })
    });
    assert!(vs.variables().is_empty(), "a rejected config must register no parameter");
}

#[test]
fn rnn_rejects_a_second_module_at_the_same_path() {
    let vs = VarStore::new(CPU);
    let config = RnnConfig { input_size: 4, hidden_size: 3, ..Default::default() };
    Rnn::new(vs.root(), config).expect("first");
    check("same path twice", "RNN", &["weight_ih_l0", "already exists"], || Rnn::new(vs.root(), config));
}

// RNNCell -------------------------------------------------------------------------------------

fn cell(vs: &VarStore) -> RnnCell {
    RnnCell::new(vs.root(), RnnCellConfig { input_size: 4, hidden_size: 3, ..Default::default() })
        .expect("valid config")
}

#[test]
fn rnn_cell_rejects_wrong_input_size() {
    let vs = VarStore::new(CPU);
    let cell = cell(&vs);
    check("batched", "RNNCell", &["input_size", "got 5 expected 4", "[2, 5]"], || cell.forward(&randn(&[2, 5]), None));
    check("unbatched", "RNNCell", &["input_size", "got 2 expected 4"], || cell.forward(&randn(&[2]), None));
    check("3-D input", "RNNCell", &["1D or 2D", "3D"], || cell.forward(&randn(&[1, 2, 4]), None));
    check("wrong hidden size", "RNNCell", &["hidden_size", "got 5, expected 3"], || {
        cell.forward(&randn(&[2, 4]), Some(&randn(&[2, 5])))
    });
}

#[test]
fn rnn_cell_rejects_batch_mismatch() {
    let vs = VarStore::new(CPU);
    let cell = cell(&vs);
    check("batch 2 vs 5", "RNNCell", &["batch size 2", "hidden batch size 5"], || {
        cell.forward(&randn(&[2, 4]), Some(&randn(&[5, 3])))
    });
    check("1-D input, 2-D hidden", "RNNCell", &["hidden", "[1, 1, 3]"], || {
        cell.forward(&randn(&[4]), Some(&randn(&[1, 3])))
    });
}

#[test]
fn rnn_cell_rejects_bad_configs() {
    let vs = VarStore::new(CPU);
    check("hidden_size 0", "RNNCell", &["hidden_size", "greater than zero", "got 0"], || {
        RnnCell::new(vs.root(), RnnCellConfig { input_size: 4, hidden_size: 0, ..Default::default() })
    });
    check("input_size 0", "RNNCell", &["input_size", "greater than zero", "got 0"], || {
        RnnCell::new(vs.root(), RnnCellConfig { input_size: 0, hidden_size: 3, ..Default::default() })
    });
}

// Embedding -----------------------------------------------------------------------------------

#[test]
fn embedding_rejects_index_out_of_vocabulary() {
    let vs = VarStore::new(CPU);
    let emb = Embedding::new(vs.root(), 5, 3, EmbeddingConfig::default()).expect("valid");
    check("index 5 of 5", "Embedding", &["5", "out of range", "[0, 4]"], || {
        emb.forward(&Tensor::from_slice(&[0i64, 5, 1]))
    });
    check("negative index", "Embedding", &["-1", "out of range", "[0, 4]"], || {
        emb.forward(&Tensor::from_slice(&[-1i64]))
    });
    // With max_norm the renorm would write out of bounds: the check must come first.
    let vs = VarStore::new(CPU);
    let renorm = EmbeddingConfig { max_norm: Some(1.0), ..Default::default() };
    let emb = Embedding::new(vs.root(), 5, 3, renorm).expect("valid");
    check("max_norm, index 9", "Embedding", &["9", "out of range"], || emb.forward(&Tensor::from_slice(&[9i64])));
}

#[test]
fn embedding_rejects_wrong_dtype() {
    let vs = VarStore::new(CPU);
    let emb = Embedding::new(vs.root(), 5, 3, EmbeddingConfig::default()).expect("valid");
    check("float indices", "Embedding", &["integer", "Float"], || emb.forward(&Tensor::from_slice(&[1.0f32, 2.0])));
}

#[test]
fn embedding_rejects_bad_configs() {
    let vs = VarStore::new(CPU);
    check("padding_idx 5 of 5", "Embedding", &["padding_idx", "[-5, 4]", "got 5"], || {
        Embedding::new(vs.root(), 5, 3, EmbeddingConfig { padding_idx: Some(5), ..Default::default() })
    });
    check("padding_idx -6 of 5", "Embedding", &["padding_idx", "got -6"], || {
        Embedding::new(vs.root(), 5, 3, EmbeddingConfig { padding_idx: Some(-6), ..Default::default() })
    });
    check("1-D pretrained table", "Embedding", &["2-dimensional", "[4]"], || {
        Embedding::from_pretrained(vs.root(), &randn(&[4]), true, EmbeddingConfig::default())
    });
}

// CrossEntropyLoss ----------------------------------------------------------------------------

#[test]
fn cross_entropy_rejects_label_out_of_range() {
    let loss = CrossEntropyLoss::new(CrossEntropyLossConfig::default()).expect("valid");
    let logits = randn(&[3, 4]);
    check("label 4 of 4 classes", "CrossEntropyLoss", &["target 4", "out of range", "[0, 3]", "-100"], || {
        loss.forward(&logits, &Tensor::from_slice(&[0i64, 4, 1]))
    });
    check("label -1", "CrossEntropyLoss", &["target -1", "out of range"], || {
        loss.forward(&logits, &Tensor::from_slice(&[0i64, -1, 1]))
    });
    // ignore_index itself is accepted.
    let _ = loss.forward(&logits, &Tensor::from_slice(&[0i64, -100, 1])).expect("ignore_index is a valid target");
}

#[test]
fn cross_entropy_rejects_wrong_target_shape() {
    let loss = CrossEntropyLoss::new(CrossEntropyLossConfig::default()).expect("valid");
    check(
        "target batch 2 for input batch 3",
        "CrossEntropyLoss",
        &["expected class-index target of shape [3]", "[2]"],
        || loss.forward(&randn(&[3, 4]), &Tensor::from_slice(&[0i64, 1])),
    );
    check("probability target of another shape", "CrossEntropyLoss", &["probability", "[3, 4]", "[3, 5]"], || {
        loss.forward(&randn(&[3, 4]), &randn(&[3, 5]).softmax(1, Kind::Float))
    });
    check("1-D input with a 1-D target", "CrossEntropyLoss", &["shape []", "[1]"], || {
        loss.forward(&randn(&[4]), &Tensor::from_slice(&[1i64]))
    });
    check("integer logits", "CrossEntropyLoss", &["floating-point", "Int64"], || {
        loss.forward(&Tensor::from_slice(&[1i64, 2]).view([1, 2]), &Tensor::from_slice(&[1i64]))
    });
}

#[test]
fn cross_entropy_rejects_bad_configs() {
    check("label_smoothing 1.5", "CrossEntropyLoss", &["label_smoothing", "1.5"], || {
        CrossEntropyLoss::new(CrossEntropyLossConfig { label_smoothing: 1.5, ..Default::default() })
    });
    let loss = CrossEntropyLoss::new(CrossEntropyLossConfig { weight: Some(randn(&[3]).abs()), ..Default::default() })
        .expect("valid");
    check("3 class weights for 4 classes", "CrossEntropyLoss", &["weight", "[4]", "[3]"], || {
        loss.forward(&randn(&[2, 4]), &Tensor::from_slice(&[0i64, 1]))
    });
}

// Linear --------------------------------------------------------------------------------------

#[test]
fn linear_rejects_wrong_feature_size() {
    let vs = VarStore::new(CPU);
    let fc = Linear::new(vs.root(), 8, 4, Default::default()).expect("valid");
    check("7 features for 8", "Linear", &["in_features = 8", "got 7", "[2, 7]"], || fc.forward(&randn(&[2, 7])));
    check("0-d input", "Linear", &["0-d"], || fc.forward(&Tensor::from(1.0f32)));
    check("integer input", "Linear", &["floating-point", "Int64"], || fc.forward(&Tensor::from_slice(&[1i64; 8])));
}

// Regression tests --------------------------------------------------------------------------

/// PyTorch's `cross_entropy` takes class-index targets of dtype int64 or uint8 ("expected
/// target dtype to be Long or Byte") and refuses int32: so does `CrossEntropyLoss`, with its
/// own message rather than libtorch's exception.
#[test]
fn cross_entropy_target_dtypes_follow_pytorch() {
    let loss = CrossEntropyLoss::new(CrossEntropyLossConfig::default()).expect("valid");
    let logits = randn(&[3, 4]);
    let target = Tensor::from_slice(&[0i64, 1, 2]);
    let expected = loss.forward(&logits, &target).expect("int64 target");
    let byte = loss.forward(&logits, &target.to_kind(Kind::Uint8)).expect("PyTorch accepts uint8 targets");
    assert!(byte.equal(&expected));
    check("int32 target", "CrossEntropyLoss", &["target", "Int"], || loss.forward(&logits, &target.to_kind(Kind::Int)));
}

/// PyTorch refuses a sequence of length 0 ("Expected sequence length to be larger than 0 in
/// RNN"); `Rnn::forward` says so in an error naming the module, not with libtorch's exception.
#[test]
fn rnn_rejects_an_empty_sequence_with_its_own_message() {
    let vs = VarStore::new(CPU);
    let rnn = rnn(&vs, false);
    check("seq_len 0", "RNN", &["sequence length", "0"], || rnn.forward(&randn(&[0, 2, 4]), None));
}
