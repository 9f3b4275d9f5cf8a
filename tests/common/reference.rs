//! Recurrent networks written out with elementary tensor ops (matmul, tanh, sigmoid, relu and
//! an explicit loop over time), the independent reference that tests/differential.rs holds the
//! modules' native ops (`rnn_tanh`, `lstm`, `gru`, their cells and packed forms) against. The
//! formulas are those of PyTorch's documentation for `nn.RNN`, `nn.LSTM` (with `proj_size`)
//! and `nn.GRU`.

use tch::{Kind, Tensor};

/// Which recurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recurrence {
    Tanh,
    Relu,
    Lstm,
    Gru,
}

/// The parameters of one layer in one direction (or of a cell).
pub struct Weights {
    pub w_ih: Tensor,
    pub w_hh: Tensor,
    pub b_ih: Option<Tensor>,
    pub b_hh: Option<Tensor>,
    /// LSTM's projection of `h`, with `proj_size > 0`.
    pub w_hr: Option<Tensor>,
}

impl Weights {
    /// Looks the parameters of `suffix` (e.g. `_l1_reverse`, or `` for a cell) up by name.
    pub fn find(named: &[(String, Tensor)], suffix: &str) -> Weights {
        let get =
            |stem: &str| named.iter().find(|(n, _)| *n == format!("{stem}{suffix}")).map(|(_, t)| t.shallow_clone());
        Weights {
            w_ih: get("weight_ih").expect("weight_ih"),
            w_hh: get("weight_hh").expect("weight_hh"),
            b_ih: get("bias_ih"),
            b_hh: get("bias_hh"),
            w_hr: get("weight_hr"),
        }
    }
}

fn affine(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Tensor {
    let y = x.matmul(&w.tr());
    match b {
        Some(b) => y + b,
        None => y,
    }
}

/// One step from `x` `(B, I)` and the state `h` `(B, H')` (and `c` `(B, H)` for LSTM): the
/// next `h` and `c`.
pub fn step(kind: Recurrence, x: &Tensor, h: &Tensor, c: Option<&Tensor>, w: &Weights) -> (Tensor, Option<Tensor>) {
    let gi = affine(x, &w.w_ih, w.b_ih.as_ref());
    let gh = affine(h, &w.w_hh, w.b_hh.as_ref());
    match kind {
        Recurrence::Tanh => ((gi + gh).tanh(), None),
        Recurrence::Relu => ((gi + gh).relu(), None),
        Recurrence::Lstm => {
            let gates = (gi + gh).chunk(4, 1);
            let (i, f, g, o) = (gates[0].sigmoid(), gates[1].sigmoid(), gates[2].tanh(), gates[3].sigmoid());
            let c_next = f * c.expect("LSTM needs c") + i * g;
            let h_next = o * c_next.tanh();
            let h_next = match &w.w_hr {
                Some(w_hr) => h_next.matmul(&w_hr.tr()),
                None => h_next,
            };
            (h_next, Some(c_next))
        }
        Recurrence::Gru => {
            let (i, hh) = (gi.chunk(3, 1), gh.chunk(3, 1));
            let r = (&i[0] + &hh[0]).sigmoid();
            let z = (&i[1] + &hh[1]).sigmoid();
            let n = (&i[2] + r * &hh[2]).tanh();
            ((1.0 - &z) * n + z * h, None)
        }
    }
}

/// One direction of one layer over `x` `(T, B, I)`, time-major, where sequence `b` has
/// `lengths[b]` steps (the rest is padding: the state does not move there and the output is
/// zero). Returns the output `(T, B, H')` and the final state.
pub fn direction(
    kind: Recurrence,
    x: &Tensor,
    lengths: &[i64],
    h0: &Tensor,
    c0: Option<&Tensor>,
    w: &Weights,
    reverse: bool,
) -> (Tensor, Tensor, Option<Tensor>) {
    let steps = x.size()[0];
    let lengths_t = Tensor::from_slice(lengths).to_kind(x.kind()).to_device(x.device());
    let (mut h, mut c) = (h0.shallow_clone(), c0.map(Tensor::shallow_clone));
    let mut outputs: Vec<Option<Tensor>> = (0..steps).map(|_| None).collect();
    let order: Vec<i64> = if reverse { (0..steps).rev().collect() } else { (0..steps).collect() };
    for t in order {
        // 1 where step t belongs to the sequence, 0 in its padding: (B, 1).
        let live = lengths_t.gt(t as f64).to_kind(x.kind()).unsqueeze(1);
        let (h_next, c_next) = step(kind, &x.get(t), &h, c.as_ref(), w);
        h = &live * &h_next + (1.0 - &live) * &h;
        if let (Some(c_prev), Some(c_next)) = (&c, &c_next) {
            c = Some(&live * c_next + (1.0 - &live) * c_prev);
        }
        outputs[t as usize] = Some(&live * h_next);
    }
    let outputs: Vec<Tensor> = outputs.into_iter().map(|o| o.expect("every step")).collect();
    (Tensor::stack(&outputs, 0), h, c)
}

/// A whole stacked network over `x` `(T, B, I)`: `weights[layer * directions + direction]`,
/// the initial state `h0` `(L * D, B, H')` (and `c0` `(L * D, B, H)`). Returns the output
/// `(T, B, D * H')`, `h_n` and `c_n`, as `nn.RNN` / `nn.LSTM` / `nn.GRU` do.
#[allow(clippy::too_many_arguments)]
pub fn network(
    kind: Recurrence,
    x: &Tensor,
    lengths: &[i64],
    h0: &Tensor,
    c0: Option<&Tensor>,
    weights: &[Weights],
    layers: i64,
    directions: i64,
) -> (Tensor, Tensor, Option<Tensor>) {
    let mut input = x.shallow_clone();
    let (mut h_n, mut c_n) = (Vec::new(), Vec::new());
    for layer in 0..layers {
        let mut outputs = Vec::new();
        for d in 0..directions {
            let i = layer * directions + d;
            let c = c0.map(|c0| c0.get(i));
            let (out, h, c) = direction(kind, &input, lengths, &h0.get(i), c.as_ref(), &weights[i as usize], d == 1);
            outputs.push(out);
            h_n.push(h);
            c_n.extend(c);
        }
        input = Tensor::cat(&outputs, 2);
    }
    let c_n = (!c_n.is_empty()).then(|| Tensor::stack(&c_n, 0));
    (input, Tensor::stack(&h_n, 0), c_n)
}

/// Random weights for the gradients' test loss `sum(t * r)`, as a double tensor like `t`.
pub fn probe(t: &Tensor) -> Tensor {
    Tensor::randn(t.size(), (Kind::Double, t.device()))
}
