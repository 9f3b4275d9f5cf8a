//! Differential tests: random configurations of every recurrent module (sizes, layers,
//! directions, `batch_first`, bias, nonlinearity, `proj_size`, packed lengths, batched and
//! unbatched input, given or zero initial state) against the elementary-op reference of
//! tests/common/reference.rs. Outputs, final states and the gradients of every parameter, of
//! the input and of the initial state must agree within `torch.testing.assert_close`'s float64
//! tolerance (the modules run in float64 here, so any formula error shows far above it).
//!
//! `TCH_RNN_PROPTEST_CASES=N` sets the number of configurations per property (default 256: the
//! suite's budget); a failure prints the configuration and proptest's seed to replay it.

mod common;

use common::reference::{Recurrence, Weights, network, probe, step};
use common::{Exactness, check, rng_lock};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{
    GatedCellConfig, GruCell, LstmCell, Mode, Nonlinearity, Recurrent, RecurrentConfig, RecurrentState, RnnCell,
    RnnCellConfig, pack_padded_sequence, pad_packed_sequence,
};

fn cases() -> u32 {
    std::env::var("TCH_RNN_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

fn recurrence() -> impl Strategy<Value = Recurrence> {
    prop_oneof![Just(Recurrence::Tanh), Just(Recurrence::Relu), Just(Recurrence::Lstm), Just(Recurrence::Gru)]
}

/// One configuration of a stacked module and of its input.
#[derive(Clone, Debug)]
struct NetworkCase {
    kind: Recurrence,
    input_size: i64,
    hidden_size: i64,
    num_layers: i64,
    bidirectional: bool,
    batch_first: bool,
    bias: bool,
    proj_size: i64,
    seq_len: i64,
    /// `Some(lengths)`: packed, one length per batch entry; `None`: every sequence is full.
    packed: Option<Vec<i64>>,
    batch: i64,
    unbatched: bool,
    given_state: bool,
    seed: i64,
}

prop_compose! {
    fn network_case()(
        kind in recurrence(),
        input_size in 1i64..=4,
        hidden_size in 1i64..=4,
        num_layers in 1i64..=3,
        bidirectional in any::<bool>(),
        batch_first in any::<bool>(),
        bias in any::<bool>(),
        proj_draw in 0i64..4,
        seq_len in 1i64..=5,
        batch in 1i64..=3,
        shape in 0u8..3, // 0: padded, 1: packed, 2: unbatched
        length_draws in proptest::collection::vec(0i64..5, 3),
        given_state in any::<bool>(),
        seed in 0i64..1_000_000,
    ) -> NetworkCase {
        let proj_size = if kind == Recurrence::Lstm { proj_draw % hidden_size } else { 0 };
        let packed = (shape == 1).then(|| length_draws[..batch as usize].iter().map(|d| 1 + d % seq_len).collect());
        let batch = if shape == 2 { 1 } else { batch };
        NetworkCase {
            kind, input_size, hidden_size, num_layers, bidirectional, batch_first, bias, proj_size, seq_len, packed,
            batch, unbatched: shape == 2, given_state, seed,
        }
    }
}

fn double_randn(shape: &[i64]) -> Tensor {
    Tensor::randn(shape, (Kind::Double, Device::Cpu)).set_requires_grad(true)
}

/// Holds `actual` against `expected` (float64 assert_close), naming `what`.
fn agree(what: &str, actual: &Tensor, expected: &Tensor) -> Result<(), TestCaseError> {
    check(actual, expected, Exactness::Close).map(|_| ()).map_err(|e| TestCaseError::fail(format!("{what}: {e}")))
}

/// Gradients of `sum(output * r_o) + sum(h_n * r_h) (+ sum(c_n * r_c))` for `inputs`.
fn gradients(outputs: &[(&Tensor, &Tensor)], inputs: &[Tensor]) -> Vec<Tensor> {
    let loss = outputs.iter().map(|(t, r)| (*t * *r).sum(Kind::Double)).fold(Tensor::from(0.0f64), |a, b| a + b);
    Tensor::run_backward(&[loss], inputs, false, false)
}

/// The module of `case`, in float64, and its parameters by name.
fn build(vs: &VarStore, c: &NetworkCase) -> (Recurrent, Vec<(String, Tensor)>) {
    let mode = match c.kind {
        Recurrence::Tanh => Mode::RnnTanh,
        Recurrence::Relu => Mode::RnnRelu,
        Recurrence::Lstm => Mode::Lstm,
        Recurrence::Gru => Mode::Gru,
    };
    let config = RecurrentConfig {
        num_layers: c.num_layers,
        bias: c.bias,
        batch_first: c.batch_first,
        bidirectional: c.bidirectional,
        proj_size: c.proj_size,
        ..RecurrentConfig::new(mode, c.input_size, c.hidden_size)
    };
    let module = Recurrent::new(vs.root(), config).expect("valid config");
    let named = module.named_parameters().map(|(n, t)| (n.to_string(), t.shallow_clone())).collect();
    (module, named)
}

/// The state's `h` and, for an LSTM, `c`.
fn split(state: RecurrentState) -> (Tensor, Option<Tensor>) {
    match state {
        RecurrentState::Hidden(h) => (h, None),
        RecurrentState::HiddenAndCell(h, c) => (h, Some(c)),
    }
}

fn check_network(c: &NetworkCase) -> Result<(), TestCaseError> {
    let _rng = rng_lock();
    tch::manual_seed(c.seed);
    let mut vs = VarStore::new(Device::Cpu);
    vs.set_kind(Kind::Double);
    let (module, named) = build(&vs, c);
    let directions = if c.bidirectional { 2 } else { 1 };
    let real_hidden = if c.proj_size > 0 { c.proj_size } else { c.hidden_size };
    let states = c.num_layers * directions;
    let weights: Vec<Weights> = (0..c.num_layers)
        .flat_map(|l| (0..directions).map(move |d| format!("_l{l}{}", if d == 1 { "_reverse" } else { "" })))
        .map(|suffix| Weights::find(&named, &suffix))
        .collect();

    // The input, time-major; what the module sees is derived from it.
    let x = double_randn(&[c.seq_len, c.batch, c.input_size]);
    let h0 = c.given_state.then(|| double_randn(&[states, c.batch, real_hidden]));
    let c0 = (c.given_state && c.kind == Recurrence::Lstm).then(|| double_randn(&[states, c.batch, c.hidden_size]));
    let lengths = c.packed.clone().unwrap_or_else(|| vec![c.seq_len; c.batch as usize]);

    // The module.
    let major = |t: &Tensor| if c.batch_first { t.transpose(0, 1) } else { t.shallow_clone() };
    let squeeze = |t: &Tensor| if c.unbatched { t.squeeze_dim(1) } else { t.shallow_clone() };
    let unsqueeze = |t: Tensor| if c.unbatched { t.unsqueeze(1) } else { t };
    let state = h0.as_ref().map(|h| match &c0 {
        Some(c) => RecurrentState::HiddenAndCell(squeeze(h), squeeze(c)),
        None => RecurrentState::Hidden(squeeze(h)),
    });
    let result = if c.packed.is_some() {
        pack_padded_sequence(&major(&x), &lengths, c.batch_first, false)
            .and_then(|p| module.forward_packed(&p, state.as_ref()))
            .and_then(|(o, state)| Ok((pad_packed_sequence(&o, c.batch_first, 0.0, Some(c.seq_len))?.0, state)))
    } else {
        let input = if c.unbatched { x.squeeze_dim(1) } else { major(&x) };
        module.forward(&input, state.as_ref())
    };
    let (out, state) = result.map_err(|e| TestCaseError::fail(format!("the module failed: {e:#}")))?;
    let (h_n, c_n) = split(state);
    let out = if c.unbatched { out.unsqueeze(1) } else { major(&out) };
    let (h_n, c_n) = (unsqueeze(h_n), c_n.map(unsqueeze));

    // The reference.
    let zeros = |size: i64| Tensor::zeros([states, c.batch, size], (Kind::Double, Device::Cpu));
    let ref_h0 = h0.as_ref().map_or_else(|| zeros(real_hidden), Tensor::shallow_clone);
    let ref_c0 =
        (c.kind == Recurrence::Lstm).then(|| c0.as_ref().map_or_else(|| zeros(c.hidden_size), Tensor::shallow_clone));
    let (ref_out, ref_h, ref_c) =
        network(c.kind, &x, &lengths, &ref_h0, ref_c0.as_ref(), &weights, c.num_layers, directions);

    agree("output", &out, &ref_out)?;
    agree("h_n", &h_n, &ref_h)?;
    if let (Some(c_n), Some(ref_c)) = (&c_n, &ref_c) {
        agree("c_n", c_n, ref_c)?;
    }

    // Gradients of every parameter, the input and the given state.
    let (r_out, r_h) = (probe(&ref_out), probe(&ref_h));
    let r_c = ref_c.as_ref().map(probe);
    let mut inputs: Vec<Tensor> = named.iter().map(|(_, t)| t.shallow_clone()).collect();
    inputs.push(x.shallow_clone());
    inputs.extend(h0.iter().chain(c0.iter()).map(Tensor::shallow_clone));
    let mut ours = vec![(&out, &r_out), (&h_n, &r_h)];
    let mut theirs = vec![(&ref_out, &r_out), (&ref_h, &r_h)];
    if let (Some(c_n), Some(ref_c), Some(r_c)) = (&c_n, &ref_c, &r_c) {
        ours.push((c_n, r_c));
        theirs.push((ref_c, r_c));
    }
    let (g_ours, g_ref) = (gradients(&ours, &inputs), gradients(&theirs, &inputs));
    let names: Vec<String> =
        named.iter().map(|(n, _)| n.clone()).chain(["input".into(), "h0".into(), "c0".into()]).collect();
    for ((name, g), r) in names.iter().zip(&g_ours).zip(&g_ref) {
        agree(&format!("gradient of {name}"), g, r)?;
    }
    Ok(())
}

/// One configuration of a cell and of its input.
#[derive(Clone, Debug)]
struct CellCase {
    kind: Recurrence,
    input_size: i64,
    hidden_size: i64,
    bias: bool,
    batch: i64,
    unbatched: bool,
    given_state: bool,
    seed: i64,
}

prop_compose! {
    fn cell_case()(
        kind in recurrence(),
        input_size in 1i64..=5,
        hidden_size in 1i64..=5,
        bias in any::<bool>(),
        batch in 1i64..=4,
        unbatched in any::<bool>(),
        given_state in any::<bool>(),
        seed in 0i64..1_000_000,
    ) -> CellCase {
        CellCase { kind, input_size, hidden_size, bias, batch: if unbatched { 1 } else { batch }, unbatched, given_state, seed }
    }
}

fn check_cell(c: &CellCase) -> Result<(), TestCaseError> {
    let _rng = rng_lock();
    tch::manual_seed(c.seed);
    let mut vs = VarStore::new(Device::Cpu);
    vs.set_kind(Kind::Double);
    let (i, h, bias) = (c.input_size, c.hidden_size, c.bias);
    let x = double_randn(&[c.batch, i]);
    let h0 = c.given_state.then(|| double_randn(&[c.batch, h]));
    let c0 = (c.given_state && c.kind == Recurrence::Lstm).then(|| double_randn(&[c.batch, h]));
    let squeeze = |t: &Tensor| if c.unbatched { t.squeeze_dim(0) } else { t.shallow_clone() };
    let (xs, hs, cs) = (squeeze(&x), h0.as_ref().map(squeeze), c0.as_ref().map(squeeze));
    let gated = GatedCellConfig { input_size: i, hidden_size: h, bias };
    let fail = |e: anyhow::Error| TestCaseError::fail(format!("the cell failed: {e:#}"));
    let (named, h1, c1): (Vec<(String, Tensor)>, Tensor, Option<Tensor>) = match c.kind {
        Recurrence::Tanh | Recurrence::Relu => {
            let nonlinearity = if c.kind == Recurrence::Tanh { Nonlinearity::Tanh } else { Nonlinearity::Relu };
            let cell = RnnCell::new(vs.root(), RnnCellConfig { input_size: i, hidden_size: h, bias, nonlinearity })
                .expect("valid config");
            let h1 = cell.forward(&xs, hs.as_ref()).map_err(fail)?;
            (vs.variables().into_iter().collect(), h1, None)
        }
        Recurrence::Lstm => {
            let cell = LstmCell::new(vs.root(), gated).expect("valid config");
            let (h1, c1) = cell.forward(&xs, hs.as_ref().zip(cs.as_ref())).map_err(fail)?;
            (vs.variables().into_iter().collect(), h1, Some(c1))
        }
        Recurrence::Gru => {
            let cell = GruCell::new(vs.root(), gated).expect("valid config");
            let h1 = cell.forward(&xs, hs.as_ref()).map_err(fail)?;
            (vs.variables().into_iter().collect(), h1, None)
        }
    };
    let unsqueeze = |t: Tensor| if c.unbatched { t.unsqueeze(0) } else { t };
    let (h1, c1) = (unsqueeze(h1), c1.map(unsqueeze));
    let zeros = || Tensor::zeros([c.batch, h], (Kind::Double, Device::Cpu));
    let ref_h0 = h0.as_ref().map_or_else(zeros, Tensor::shallow_clone);
    let ref_c0 = (c.kind == Recurrence::Lstm).then(|| c0.as_ref().map_or_else(zeros, Tensor::shallow_clone));
    let (ref_h, ref_c) = step(c.kind, &x, &ref_h0, ref_c0.as_ref(), &Weights::find(&named, ""));
    agree("h'", &h1, &ref_h)?;
    if let (Some(c1), Some(ref_c)) = (&c1, &ref_c) {
        agree("c'", c1, ref_c)?;
    }
    let r_h = probe(&ref_h);
    let r_c = ref_c.as_ref().map(probe);
    let mut inputs: Vec<Tensor> = named.iter().map(|(_, t)| t.shallow_clone()).collect();
    inputs.push(x.shallow_clone());
    inputs.extend(h0.iter().chain(c0.iter()).map(Tensor::shallow_clone));
    let mut ours = vec![(&h1, &r_h)];
    let mut theirs = vec![(&ref_h, &r_h)];
    if let (Some(c1), Some(ref_c), Some(r_c)) = (&c1, &ref_c, &r_c) {
        ours.push((c1, r_c));
        theirs.push((ref_c, r_c));
    }
    let (g_ours, g_ref) = (gradients(&ours, &inputs), gradients(&theirs, &inputs));
    let names: Vec<String> =
        named.iter().map(|(n, _)| n.clone()).chain(["input".into(), "hx".into(), "cx".into()]).collect();
    for ((name, g), r) in names.iter().zip(&g_ours).zip(&g_ref) {
        agree(&format!("gradient of {name}"), g, r)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn stacked_modules_match_the_elementary_reference(case in network_case()) {
        check_network(&case)?;
    }

    #[test]
    fn cells_match_the_elementary_reference(case in cell_case()) {
        check_cell(&case)?;
    }
}
