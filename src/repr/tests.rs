//! Inputs outside what torch's printer meets in tests/repr_parity.rs: whatever they are, the
//! printer answers with text and never panics.

use tch::{Kind, Tensor};

use super::{PrintOptions, repr, repr_with};

#[test]
fn undefined_tensors_print_as_undefined() {
    assert_eq!(repr(&Tensor::new()), "tensor(undefined)");
}

#[test]
fn unsupported_tensors_print_without_panicking() {
    let quantized = Tensor::from_slice(&[1.0f32, 2.0]).quantize_per_tensor(0.1, 10, Kind::QInt8);
    assert_eq!(
        repr(&quantized),
        "tensor(<unprintable: tensor kind error: expected a dtype this printer supports, got torch.qint8 \
         (quantized tensors are not printed)>)"
    );
}

#[test]
fn libtorch_refusals_print_as_one_short_line() {
    // libtorch cannot read an MKL-DNN tensor's elements: its refusal, a dispatcher message with a
    // table of every backend, is cut to its first sentence, without C++ text.
    let mkldnn = Tensor::ones([2, 2], tch::kind::FLOAT_CPU).to_mkldnn();
    let printed = repr(&mkldnn);
    assert!(printed.starts_with("tensor(<unprintable: Could not run 'aten::"), "{printed}");
    assert!(printed.ends_with(" backend.>)"), "{printed}");
    assert_eq!(printed.lines().count(), 1, "{printed}");
    assert!(!printed.contains("registered at") && !printed.contains("c10::"), "{printed}");
}

#[test]
fn extreme_print_options_never_panic() {
    let t = Tensor::arange(2 * 3 * 4, tch::kind::FLOAT_CPU).view([2, 3, 4]) / 7.0;
    let extremes = [
        PrintOptions { threshold: 0, edgeitems: usize::MAX, ..PrintOptions::default() },
        PrintOptions { threshold: 0, edgeitems: 0, ..PrintOptions::default() },
        PrintOptions { threshold: usize::MAX, linewidth: 0, ..PrintOptions::default() },
        PrintOptions { precision: 40, sci_mode: Some(true), ..PrintOptions::default() },
    ];
    for options in &extremes {
        assert!(repr_with(&t, options).starts_with("tensor(["), "{options:?}");
    }
}
