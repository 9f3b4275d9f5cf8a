//! Packing follows PyTorch's rules where users trip, with PyTorch's messages prefixed by the
//! function's name: lengths are a slice or a 1-D CPU integer tensor, every length is positive
//! and no longer than the input, sorted when `enforce_sorted`, one per sequence; `total_length`
//! is at least the longest; an empty batch is an error. Where PyTorch reads past the input
//! (a length longer than the padded sequences), we refuse.

mod common;

use common::{check_err as check, randn};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{
    Lstm, LstmConfig, PaddingSide, pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence,
};

#[test]
fn lengths_must_be_positive_sorted_and_one_per_sequence() {
    let x = randn(&[4, 3, 2]); // (T, B, features)
    let f = "pack_padded_sequence";
    check("a zero length", f, &["Length of all samples has to be greater than 0"], || {
        pack_padded_sequence(&x, &[4, 2, 0], false, true)
    });
    check("unsorted lengths", f, &["must be sorted in decreasing order", "enforce_sorted=False"], || {
        pack_padded_sequence(&x, &[2, 4, 1], false, true)
    });
    check(
        "two lengths for three sequences",
        f,
        &["Expected `len(lengths)` to be equal to batch_size", "got 2 (batch_size=3)"],
        || pack_padded_sequence(&x, &[4, 2], false, true),
    );
    check("longer than the input", f, &["lengths[0] = 5", "4 steps"], || {
        pack_padded_sequence(&x, &[5, 2, 1], false, true)
    });
    check("batch_first swaps T and B", f, &["batch_size=4"], || pack_padded_sequence(&x, &[4, 2, 1], true, true));
    pack_padded_sequence(&x, &[2, 4, 1], false, false).expect("unsorted lengths are fine without enforce_sorted");
}

#[test]
fn lengths_tensors_are_1d_cpu_integers() {
    let x = randn(&[4, 2, 2]);
    let f = "pack_padded_sequence";
    check("float lengths", f, &["'lengths' argument should be a 1D CPU int64 tensor", "Float"], || {
        pack_padded_sequence(&x, &Tensor::from_slice(&[4.0f32, 2.0]), false, true)
    });
    check("2-D lengths", f, &["1D CPU int64 tensor", "2D"], || {
        pack_padded_sequence(&x, &Tensor::from_slice(&[4i64, 2]).view([1, 2]), false, true)
    });
    let int32 = Tensor::from_slice(&[4i32, 2]);
    let packed = pack_padded_sequence(&x, &int32, false, true).expect("int32 lengths are converted, as in PyTorch");
    assert_eq!(Vec::<i64>::try_from(packed.batch_sizes()).unwrap(), [2, 2, 1, 1]);
}

#[test]
fn empty_batches_and_short_total_lengths_are_errors() {
    check("empty tensor", "pack_padded_sequence", &["Cannot pack empty tensors"], || {
        pack_padded_sequence(&randn(&[0, 2, 3]), &[1, 1], false, true)
    });
    check("no sequences", "pack_sequence", &["received an empty list of sequences"], || pack_sequence(&[], true));
    check("no sequences", "pad_sequence", &["received an empty list of sequences"], || {
        pad_sequence(&[], false, 0.0, PaddingSide::Right)
    });
    check("trailing shapes differ", "pad_sequence", &["trailing shape", "sequence 1"], || {
        pad_sequence(&[randn(&[2, 3]), randn(&[3, 4])], false, 0.0, PaddingSide::Right)
    });
    let packed = pack_padded_sequence(&randn(&[4, 2, 3]), &[4, 2], false, true).unwrap();
    check(
        "total_length below the longest",
        "pad_packed_sequence",
        &["total_length=3", "max sequence length being 4"],
        || pad_packed_sequence(&packed, false, 0.0, Some(3)),
    );
}

#[test]
fn modules_check_packed_input_and_states() {
    let vs = VarStore::new(Device::Cpu);
    let lstm = Lstm::new(vs.root(), LstmConfig { input_size: 3, hidden_size: 4, ..Default::default() }).unwrap();
    let packed = pack_padded_sequence(&randn(&[4, 2, 5]), &[4, 2], false, true).unwrap();
    check("5 features for 3", "LSTM", &["input_size", "Expected 3, got 5"], || lstm.forward_packed(&packed, None));
    let packed = pack_padded_sequence(&randn(&[4, 2, 3]), &[4, 2], false, true).unwrap();
    check("states for 3 sequences", "LSTM", &["Expected hidden[0] size (1, 2, 4)", "[1, 3, 4]"], || {
        lstm.forward_packed(&packed, Some((&randn(&[1, 3, 4]), &randn(&[1, 3, 4]))))
    });
    let doubles =
        pack_padded_sequence(&Tensor::zeros([4, 2, 3], (Kind::Double, Device::Cpu)), &[4, 2], false, true).unwrap();
    check("float64 data", "LSTM", &["dtype", "Double"], || lstm.forward_packed(&doubles, None));
}
