//! The public library API against inputs nobody chose: for every module and function, every
//! kind of bad value (undefined tensors, wrong dtypes, wrong ranks, sizes that cannot be
//! allocated, out-of-range indices, optimizer misuse). Each case must return `Err` with one
//! line that names the module, and no libtorch C++ text; never panic, abort or run away. A
//! constructor that fails must leave its VarStore as it was, so that a retry works.

mod common;

use common::{LIBTORCH_TEXT, check_err, randn, rng_lock};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{
    CrossEntropyLoss, CrossEntropyLossConfig, Embedding, EmbeddingConfig, GatedCellConfig, Gru, GruCell, GruConfig,
    Linear, LinearConfig, Lstm, LstmCell, LstmConfig, Rnn, RnnCell, RnnCellConfig, RnnConfig, pack_padded_sequence,
    pack_sequence, pad_packed_sequence, pad_sequence,
};
use tch_rnn::optim::{Adam, AdamConfig, AdamState, clip_grad_norm_};

const CPU: Device = Device::Cpu;

/// Runs one bad call: it must fail with one clean, short line starting with `module:`.
fn bad<T>(what: &str, module: &str, f: impl FnOnce() -> anyhow::Result<T>) -> String {
    let message = check_err(what, module, &[], f);
    assert!(message.len() < 600, "{what}: a message of {} characters:\n{message}", message.len());
    message
}

fn undefined() -> Tensor {
    Tensor::new()
}

fn int64(shape: &[i64]) -> Tensor {
    Tensor::zeros(shape, (Kind::Int64, CPU))
}

fn double(shape: &[i64]) -> Tensor {
    Tensor::zeros(shape, (Kind::Double, CPU))
}

/// Builds with `bad_config` (which must fail naming `module`), checks the VarStore is left
/// empty, then builds with `good` on the same path.
fn constructor<T, U>(
    what: &str,
    module: &str,
    bad_config: impl FnOnce(&VarStore) -> anyhow::Result<T>,
    good: impl FnOnce(&VarStore) -> anyhow::Result<U>,
) {
    let vs = VarStore::new(CPU);
    bad(what, module, || bad_config(&vs));
    assert!(vs.variables().is_empty(), "{what}: the failed constructor registered {:?}", vs.variables().keys());
    good(&vs).unwrap_or_else(|e| panic!("{what}: a retry with a valid config failed: {e:#}"));
}

/// One of every module, small, on the CPU.
struct Zoo {
    linear: Linear,
    emb: Embedding,
    rnn: Rnn,
    lstm: Lstm,
    gru: Gru,
    rnn_cell: RnnCell,
    lstm_cell: LstmCell,
    gru_cell: GruCell,
    ce: CrossEntropyLoss,
}

impl Zoo {
    fn new(vs: &VarStore) -> Zoo {
        let recurrent = RnnConfig { input_size: 4, hidden_size: 3, ..Default::default() };
        let cell_config = GatedCellConfig { input_size: 4, hidden_size: 3, bias: true };
        Zoo {
            linear: Linear::new(vs.root() / "fc", 4, 3, Default::default()).unwrap(),
            emb: Embedding::new(vs.root() / "emb", 5, 3, Default::default()).unwrap(),
            rnn: Rnn::new(vs.root() / "rnn", recurrent).unwrap(),
            lstm: Lstm::new(vs.root() / "lstm", LstmConfig { input_size: 4, hidden_size: 3, ..Default::default() })
                .unwrap(),
            gru: Gru::new(vs.root() / "gru", GruConfig { input_size: 4, hidden_size: 3, ..Default::default() })
                .unwrap(),
            rnn_cell: RnnCell::new(
                vs.root() / "c1",
                RnnCellConfig { input_size: 4, hidden_size: 3, ..Default::default() },
            )
            .unwrap(),
            lstm_cell: LstmCell::new(vs.root() / "c2", cell_config).unwrap(),
            gru_cell: GruCell::new(vs.root() / "c3", cell_config).unwrap(),
            ce: CrossEntropyLoss::new(Default::default()).unwrap(),
        }
    }
}

#[test]
fn undefined_tensors_are_refused_everywhere() {
    let _rng = rng_lock();
    let vs = VarStore::new(CPU);
    let Zoo { linear, emb, rnn, lstm, gru, rnn_cell, lstm_cell, gru_cell, ce } = Zoo::new(&vs);
    let (x, h, c) = (randn(&[2, 1, 4]), randn(&[1, 1, 3]), randn(&[1, 1, 3]));

    bad("Linear input", "Linear", || linear.forward(&undefined()));
    bad("Embedding input", "Embedding", || emb.forward(&undefined()));
    bad("from_pretrained table", "Embedding", || {
        Embedding::from_pretrained(vs.root() / "pre", &undefined(), true, Default::default())
    });
    bad("CrossEntropyLoss input", "CrossEntropyLoss", || ce.forward(&undefined(), &int64(&[2])));
    bad("CrossEntropyLoss target", "CrossEntropyLoss", || ce.forward(&randn(&[2, 3]), &undefined()));
    bad("CrossEntropyLoss weight", "CrossEntropyLoss", || {
        CrossEntropyLoss::new(CrossEntropyLossConfig { weight: Some(undefined()), ..Default::default() })
    });
    bad("RNN input", "RNN", || rnn.forward(&undefined(), None));
    bad("RNN h0", "RNN", || rnn.forward(&x, Some(&undefined())));
    bad("LSTM input", "LSTM", || lstm.forward(&undefined(), None));
    bad("LSTM h0", "LSTM", || lstm.forward(&x, Some((&undefined(), &c))));
    bad("LSTM c0", "LSTM", || lstm.forward(&x, Some((&h, &undefined()))));
    bad("GRU input", "GRU", || gru.forward(&undefined(), None));
    bad("GRU h0", "GRU", || gru.forward(&x, Some(&undefined())));
    let packed = pack_sequence(&[randn(&[2, 4])], true).unwrap();
    bad("RNN packed h0", "RNN", || rnn.forward_packed(&packed, Some(&undefined())));
    bad("LSTM packed c0", "LSTM", || lstm.forward_packed(&packed, Some((&h, &undefined()))));
    bad("GRU packed h0", "GRU", || gru.forward_packed(&packed, Some(&undefined())));
    bad("RNNCell input", "RNNCell", || rnn_cell.forward(&undefined(), None));
    bad("RNNCell hx", "RNNCell", || rnn_cell.forward(&randn(&[1, 4]), Some(&undefined())));
    bad("LSTMCell input", "LSTMCell", || lstm_cell.forward(&undefined(), None));
    bad("LSTMCell cx", "LSTMCell", || lstm_cell.forward(&randn(&[1, 4]), Some((&randn(&[1, 3]), &undefined()))));
    bad("GRUCell input", "GRUCell", || gru_cell.forward(&undefined(), None));
    bad("GRUCell hx", "GRUCell", || gru_cell.forward(&randn(&[1, 4]), Some(&undefined())));
    bad("pack_padded_sequence input", "pack_padded_sequence", || pack_padded_sequence(&undefined(), &[1], false, true));
    bad("pack_padded_sequence lengths", "pack_padded_sequence", || {
        pack_padded_sequence(&randn(&[2, 1, 4]), &undefined(), false, true)
    });
    bad("pad_sequence sequence", "pad_sequence", || {
        pad_sequence(&[randn(&[2, 4]), undefined()], false, 0.0, Default::default())
    });
    bad("pack_sequence sequence", "pack_sequence", || pack_sequence(&[undefined()], true));
    bad("clip_grad_norm_ parameter", "clip_grad_norm_", || clip_grad_norm_(&[undefined()], 1.0));
    bad("Adam parameter", "Adam", || Adam::new(vec![undefined()], Default::default()));
}

#[test]
fn wrong_dtypes_name_what_was_expected() {
    let _rng = rng_lock();
    let vs = VarStore::new(CPU);
    let Zoo { linear, emb, rnn, lstm, gru, lstm_cell, gru_cell, ce, .. } = Zoo::new(&vs);

    bad("Linear float64 input", "Linear", || linear.forward(&double(&[2, 4])));
    bad("Linear int64 input", "Linear", || linear.forward(&int64(&[2, 4])));
    bad("Embedding float indices", "Embedding", || emb.forward(&randn(&[2])));
    bad("Embedding bool indices", "Embedding", || emb.forward(&Tensor::from_slice(&[true])));
    bad("RNN float64 input", "RNN", || rnn.forward(&double(&[2, 1, 4]), None));
    bad("RNN int64 input", "RNN", || rnn.forward(&int64(&[2, 1, 4]), None));
    bad("LSTM float64 input", "LSTM", || lstm.forward(&double(&[2, 1, 4]), None));
    bad("GRU float64 h0", "GRU", || gru.forward(&randn(&[2, 1, 4]), Some(&double(&[1, 1, 3]))));
    bad("LSTMCell float64 input", "LSTMCell", || lstm_cell.forward(&double(&[1, 4]), None));
    bad("GRUCell int64 input", "GRUCell", || gru_cell.forward(&int64(&[1, 4]), None));
    bad("CrossEntropyLoss float64 weight", "CrossEntropyLoss", || {
        let ce = CrossEntropyLoss::new(CrossEntropyLossConfig { weight: Some(double(&[3])), ..Default::default() })?;
        ce.forward(&randn(&[2, 3]), &int64(&[2]))
    });
    bad("CrossEntropyLoss float64 probabilities", "CrossEntropyLoss", || ce.forward(&randn(&[2, 3]), &double(&[2, 3])));
    bad("CrossEntropyLoss int32 target", "CrossEntropyLoss", || {
        ce.forward(&randn(&[2, 3]), &Tensor::zeros([2], (Kind::Int, CPU)))
    });
    bad("CrossEntropyLoss int64 input", "CrossEntropyLoss", || ce.forward(&int64(&[2, 3]), &int64(&[2])));
    bad("pack_padded_sequence float lengths", "pack_padded_sequence", || {
        pack_padded_sequence(&randn(&[2, 1, 4]), &randn(&[1]), false, true)
    });
    bad("trainable int64 embeddings", "Embedding", || {
        Embedding::from_pretrained(vs.root() / "pre", &int64(&[3, 2]), false, Default::default())
    });
    let frozen = Embedding::from_pretrained(vs.root() / "frozen", &int64(&[3, 2]), true, Default::default());
    assert!(frozen.is_ok(), "PyTorch accepts a frozen int64 table; so do we");
}

#[test]
fn sizes_that_cannot_be_allocated_are_refused_before_allocating() {
    let _rng = rng_lock();
    let rnn = |c: RnnConfig| move |vs: &VarStore| Rnn::new(vs.root(), c);
    let small = RnnConfig { input_size: 2, hidden_size: 2, ..Default::default() };
    let huge = [
        ("2^40 layers", RnnConfig { num_layers: 1 << 40, ..small }),
        ("2^62 hidden units", RnnConfig { hidden_size: 1 << 62, ..small }),
        ("i64::MAX inputs", RnnConfig { input_size: i64::MAX, ..small }),
        ("2^20 x 2^20 weights", RnnConfig { input_size: 1 << 20, hidden_size: 1 << 20, ..small }),
    ];
    for (what, config) in huge {
        constructor(&format!("RNN with {what}"), "RNN", rnn(config), rnn(small));
    }
    let lstm = |c: LstmConfig| move |vs: &VarStore| Lstm::new(vs.root(), c);
    let small_lstm = LstmConfig { input_size: 2, hidden_size: 3, ..Default::default() };
    constructor(
        "LSTM with 2^61 hidden units and projections",
        "LSTM",
        lstm(LstmConfig { hidden_size: 1 << 61, proj_size: 2, num_layers: 3, ..small_lstm }),
        lstm(small_lstm),
    );
    constructor(
        "bidirectional GRU with 2^40 layers",
        "GRU",
        |vs: &VarStore| {
            Gru::new(
                vs.root(),
                GruConfig {
                    input_size: 2,
                    hidden_size: 2,
                    num_layers: 1 << 40,
                    bidirectional: true,
                    ..Default::default()
                },
            )
        },
        |vs: &VarStore| Gru::new(vs.root(), GruConfig { input_size: 2, hidden_size: 2, ..Default::default() }),
    );
    let cell = |input_size, hidden_size| {
        move |vs: &VarStore| LstmCell::new(vs.root(), GatedCellConfig { input_size, hidden_size, bias: true })
    };
    constructor("LSTMCell with i64::MAX / 2 hidden units", "LSTMCell", cell(2, i64::MAX / 2), cell(2, 2));
    constructor("LSTMCell with 2^40 inputs", "LSTMCell", cell(1 << 40, 1 << 10), cell(2, 2));
    constructor(
        "GRUCell with 2^62 hidden units",
        "GRUCell",
        |vs: &VarStore| GruCell::new(vs.root(), GatedCellConfig { input_size: 2, hidden_size: 1 << 62, bias: false }),
        |vs: &VarStore| GruCell::new(vs.root(), GatedCellConfig { input_size: 2, hidden_size: 2, bias: false }),
    );
    constructor(
        "RNNCell with 2^40 x 2^40 weights",
        "RNNCell",
        |vs: &VarStore| {
            RnnCell::new(vs.root(), RnnCellConfig { input_size: 1 << 40, hidden_size: 1 << 40, ..Default::default() })
        },
        |vs: &VarStore| RnnCell::new(vs.root(), RnnCellConfig { input_size: 2, hidden_size: 2, ..Default::default() }),
    );
    constructor(
        "Linear 2^40 x 2^40",
        "Linear",
        |vs: &VarStore| Linear::new(vs.root(), 1 << 40, 1 << 40, LinearConfig::default()),
        |vs: &VarStore| Linear::new(vs.root(), 2, 2, LinearConfig::default()),
    );
    constructor(
        "Linear i64::MAX x 2",
        "Linear",
        |vs: &VarStore| Linear::new(vs.root(), i64::MAX, 2, LinearConfig::default()),
        |vs: &VarStore| Linear::new(vs.root(), 2, 2, LinearConfig::default()),
    );
    constructor(
        "Embedding 2^40 x 2^40",
        "Embedding",
        |vs: &VarStore| Embedding::new(vs.root(), 1 << 40, 1 << 40, EmbeddingConfig::default()),
        |vs: &VarStore| Embedding::new(vs.root(), 2, 2, EmbeddingConfig::default()),
    );
}

#[test]
fn a_constructor_that_fails_half_way_registers_nothing() {
    let _rng = rng_lock();
    // The second parameter's name is taken: the first must not stay registered.
    let vs = VarStore::new(CPU);
    let _taken = vs.root().zeros("bias", &[1]);
    bad("Linear over a taken 'bias'", "Linear", || Linear::new(vs.root(), 2, 1, Default::default()));
    assert_eq!(vs.variables().len(), 1, "the failed Linear left {:?} behind", vs.variables().keys());
    let vs = VarStore::new(CPU);
    let _taken = vs.root().zeros("weight_hh_l1", &[1]);
    bad("2-layer RNN over a taken weight_hh_l1", "RNN", || {
        Rnn::new(vs.root(), RnnConfig { input_size: 2, hidden_size: 2, num_layers: 2, ..Default::default() })
    });
    assert_eq!(vs.variables().len(), 1, "the failed RNN left {:?} behind", vs.variables().keys());
}

#[test]
fn bad_configurations_are_refused() {
    let _rng = rng_lock();
    let vs = VarStore::new(CPU);
    let base = RnnConfig { input_size: 2, hidden_size: 2, ..Default::default() };
    for (what, config) in [
        ("zero hidden units", RnnConfig { hidden_size: 0, ..base }),
        ("negative inputs", RnnConfig { input_size: -3, ..base }),
        ("zero layers", RnnConfig { num_layers: 0, ..base }),
        ("negative layers", RnnConfig { num_layers: -1, ..base }),
        ("NaN dropout", RnnConfig { dropout: f64::NAN, ..base }),
        ("dropout 2", RnnConfig { dropout: 2.0, ..base }),
        ("infinite dropout", RnnConfig { dropout: f64::INFINITY, ..base }),
    ] {
        bad(&format!("RNN with {what}"), "RNN", || Rnn::new(vs.root() / what, config));
    }
    let lstm = LstmConfig { input_size: 2, hidden_size: 3, ..Default::default() };
    bad("LSTM with proj_size = hidden_size", "LSTM", || {
        Lstm::new(vs.root() / "p1", LstmConfig { proj_size: 3, ..lstm })
    });
    bad("LSTM with negative proj_size", "LSTM", || Lstm::new(vs.root() / "p2", LstmConfig { proj_size: -1, ..lstm }));
    bad("Linear with negative sizes", "Linear", || Linear::new(vs.root() / "l", -1, 2, Default::default()));
    bad("Embedding with negative sizes", "Embedding", || Embedding::new(vs.root() / "e", 3, -2, Default::default()));
    bad("Embedding padding_idx out of range", "Embedding", || {
        Embedding::new(vs.root() / "e2", 3, 2, EmbeddingConfig { padding_idx: Some(3), ..Default::default() })
    });
    bad("GRUCell with zero inputs", "GRUCell", || {
        GruCell::new(vs.root() / "g", GatedCellConfig { input_size: 0, hidden_size: 2, bias: true })
    });
    bad("CrossEntropyLoss label_smoothing NaN", "CrossEntropyLoss", || {
        CrossEntropyLoss::new(CrossEntropyLossConfig { label_smoothing: f64::NAN, ..Default::default() })
    });
    bad("CrossEntropyLoss 2-D weight", "CrossEntropyLoss", || {
        CrossEntropyLoss::new(CrossEntropyLossConfig { weight: Some(randn(&[2, 2])), ..Default::default() })
    });
}

#[test]
fn out_of_range_values_say_what_range_was_expected() {
    let _rng = rng_lock();
    let vs = VarStore::new(CPU);
    let empty = Embedding::new(vs.root() / "empty", 0, 3, Default::default()).unwrap();
    let message = bad("an index into an empty table", "Embedding", || empty.forward(&int64(&[1])));
    assert!(message.contains("no valid index") && !message.contains("-1]"), "{message}");
    let emb = Embedding::new(vs.root() / "emb", 4, 3, Default::default()).unwrap();
    bad("a negative index", "Embedding", || emb.forward(&Tensor::from_slice(&[-1i64])));
    bad("index 4 of 4 rows", "Embedding", || emb.forward(&Tensor::from_slice(&[4i64])));
    bad("int32 index i32::MAX", "Embedding", || emb.forward(&Tensor::from_slice(&[i32::MAX])));
    let ce = CrossEntropyLoss::new(Default::default()).unwrap();
    bad("target class 3 of 3", "CrossEntropyLoss", || ce.forward(&randn(&[1, 3]), &Tensor::from_slice(&[3i64])));
    bad("target class -2", "CrossEntropyLoss", || ce.forward(&randn(&[1, 3]), &Tensor::from_slice(&[-2i64])));
    let padded = randn(&[3, 2, 4]);
    bad("a length longer than the input", "pack_padded_sequence", || {
        pack_padded_sequence(&padded, &[4, 1], false, false)
    });
    bad("a zero length", "pack_padded_sequence", || pack_padded_sequence(&padded, &[3, 0], false, false));
    bad("a negative length", "pack_padded_sequence", || pack_padded_sequence(&padded, &[3, -1], false, false));
    bad("lengths of another batch", "pack_padded_sequence", || pack_padded_sequence(&padded, &[3], false, false));
    let packed = pack_padded_sequence(&padded, &[3, 2], false, true).unwrap();
    bad("total_length below the longest", "pad_packed_sequence", || pad_packed_sequence(&packed, false, 0.0, Some(2)));
    bad("total_length negative", "pad_packed_sequence", || pad_packed_sequence(&packed, false, 0.0, Some(-5)));
    bad("no sequences", "pad_sequence", || pad_sequence(&[], false, 0.0, Default::default()));
    bad("sequences of different feature sizes", "pack_sequence", || {
        pack_sequence(&[randn(&[2, 3]), randn(&[2, 4])], false)
    });
    bad("a 0-d sequence", "pad_sequence", || pad_sequence(&[Tensor::from(1.0f32)], false, 0.0, Default::default()));
}

#[test]
fn adam_follows_pytorch_rules_for_parameters() {
    let _rng = rng_lock();
    let vs = VarStore::new(CPU);
    let w = vs.root().randn_standard("w", &[3]);
    bad("an empty parameter list", "Adam", || Adam::new(vec![], Default::default()));
    let message = bad("a non-leaf tensor", "Adam", || Adam::new(vec![&w * 2], Default::default()));
    assert!(message.contains("non-leaf") && message.contains("MulBackward"), "{message}");
    bad("a parameter listed twice", "Adam", || {
        Adam::new(vec![w.shallow_clone(), w.shallow_clone()], Default::default())
    });
    for (what, config) in [
        ("lr NaN", AdamConfig { lr: f64::NAN, ..Default::default() }),
        ("lr inf", AdamConfig { lr: f64::INFINITY, ..Default::default() }),
        ("lr -1", AdamConfig { lr: -1.0, ..Default::default() }),
        ("beta1 1", AdamConfig { betas: (1.0, 0.999), ..Default::default() }),
        ("beta2 NaN", AdamConfig { betas: (0.9, f64::NAN), ..Default::default() }),
        ("eps -1", AdamConfig { eps: -1.0, ..Default::default() }),
        ("weight_decay NaN", AdamConfig { weight_decay: f64::NAN, ..Default::default() }),
    ] {
        bad(&format!("Adam with {what}"), "Adam", || Adam::new(vec![w.shallow_clone()], config));
    }
    // Sparse gradients, from a sparse Embedding: PyTorch's Adam refuses them at step().
    let emb =
        Embedding::new(vs.root() / "sparse", 4, 2, EmbeddingConfig { sparse: true, ..Default::default() }).unwrap();
    let mut adam = Adam::new(vec![emb.weight.shallow_clone()], Default::default()).unwrap();
    emb.forward(&Tensor::from_slice(&[1i64, 2])).unwrap().sum(Kind::Float).backward();
    let before = emb.weight.copy();
    bad("a sparse gradient", "Adam", || adam.step());
    assert!(emb.weight.equal(&before), "a refused step changed the parameter");
    // State of the wrong shape, and a parameter index that does not exist: nothing is set.
    let mut adam = Adam::new(vec![w.shallow_clone()], Default::default()).unwrap();
    let state = |shape: &[i64]| AdamState {
        step: 1.0,
        exp_avg: Tensor::zeros(shape, (Kind::Float, CPU)),
        exp_avg_sq: Tensor::zeros(shape, (Kind::Float, CPU)),
        max_exp_avg_sq: None,
    };
    bad("state of the wrong shape", "Adam", || adam.set_state(0, state(&[4])));
    bad("state of a missing parameter", "Adam", || adam.set_states(vec![(0, state(&[3])), (1, state(&[3]))]));
    assert!(adam.state(0).is_none(), "a refused set_states set part of the state");
    bad("clip_grad_norm_ to NaN", "clip_grad_norm_", || clip_grad_norm_(&[w.shallow_clone()], f64::NAN));
    bad("clip_grad_norm_ to -1", "clip_grad_norm_", || clip_grad_norm_(&[w.shallow_clone()], -1.0));
}

#[test]
fn tensors_the_printer_cannot_read_print_one_line_without_libtorch_text() {
    use tch_rnn::repr::Repr;
    let quantized = Tensor::from_slice(&[1.0f32, 2.0]).quantize_per_tensor(0.1, 10, Kind::QUInt8);
    let mkldnn = Tensor::ones([2, 2], (Kind::Float, CPU)).to_mkldnn();
    for (what, tensor, needle) in [("quantized", &quantized, "got torch.quint8"), ("MKL-DNN", &mkldnn, "'MkldnnCPU'")] {
        let printed = format!("{}", Repr(tensor));
        assert!(printed.starts_with("tensor(<unprintable: ") && printed.contains(needle), "{what}: {printed}");
        assert_eq!(printed.lines().count(), 1, "{what}: not one line:\n{printed}");
        assert!(printed.len() < 300, "{what}: {} characters:\n{printed}", printed.len());
        for raw in LIBTORCH_TEXT {
            assert!(!printed.contains(raw), "{what}: libtorch's text leaked into the repr:\n{printed}");
        }
    }
}

#[test]
fn print_options_past_what_can_be_formatted_print_without_a_panic() {
    let (_, stderr) = common::run_isolated("print_with_precision_65536");
    assert!(!stderr.contains("panicked"), "a panic message reached stderr:\n{stderr}");
}

#[test]
#[ignore = "run in its own process by print_options_past_what_can_be_formatted_print_without_a_panic"]
fn print_with_precision_65536() {
    use tch_rnn::repr::{PrintOptions, repr_with};
    let options = PrintOptions { precision: 65536, ..PrintOptions::default() };
    let printed = repr_with(&Tensor::from_slice(&[1.5f32]), &options);
    assert!(printed.starts_with("tensor(<unprintable: precision 65536"), "{printed}");
}
