//! Comparing tensors with PyTorch's: bit for bit, or within `torch.testing.assert_close`'s
//! default tolerances. The tolerances are defined here and nowhere else.

use tch::{Kind, Tensor};

/// Two values match when `|actual - expected| <= atol + rtol * |expected|`, the rule of
/// `torch.testing.assert_close` (NaN matches NaN here).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
}

/// `torch.testing.assert_close`'s defaults for float32.
pub const ASSERT_CLOSE_F32: Tolerance = Tolerance { rtol: 1.3e-6, atol: 1e-5 };
/// `torch.testing.assert_close`'s defaults for float64.
pub const ASSERT_CLOSE_F64: Tolerance = Tolerance { rtol: 1e-7, atol: 1e-7 };
/// No difference at all (integers, and every dtype under [`Exactness::Bits`]).
pub const EXACT: Tolerance = Tolerance { rtol: 0.0, atol: 0.0 };

/// How a test holds Rust's results against PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exactness {
    /// The same bits: Rust and PyTorch on the same machine (tests/live_parity.rs), or a
    /// computation whose code path does not depend on the CPU.
    Bits,
    /// Within `torch.testing.assert_close`'s defaults for the dtype (integers exact): results
    /// against committed fixtures that another CPU may have exported.
    Close,
}

impl Exactness {
    /// The tolerance for tensors of `kind`.
    pub fn tolerance(self, kind: Kind) -> Tolerance {
        match (self, kind) {
            (Exactness::Bits, _) => EXACT,
            (Exactness::Close, Kind::Float) => ASSERT_CLOSE_F32,
            (Exactness::Close, Kind::Double) => ASSERT_CLOSE_F64,
            (Exactness::Close, _) => EXACT,
        }
    }
}

/// What a successful comparison saw.
#[derive(Clone, Copy, Debug, Default)]
pub struct Comparison {
    pub numel: usize,
    pub max_abs: f64,
    /// Max of `|a - b| / max(|a|, |b|)` over the elements that differ.
    pub max_rel: f64,
    /// Max of `|a - b| / (atol + rtol * |b|)` for the assert_close tolerance of the dtype:
    /// how much of that tolerance the worst element used (1 = at the limit).
    pub tolerance_used: f64,
    pub bit_identical: bool,
}

/// The values of a dense floating-point or integer tensor, as f64 (exact for f32 and for
/// integers below 2^53).
pub fn values_f64(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.detach().to_kind(Kind::Double).contiguous().view(-1)).expect("tensor values")
}

fn bit_patterns(t: &Tensor) -> Vec<u64> {
    match t.kind() {
        Kind::Float => Vec::<f32>::try_from(t.detach().contiguous().view(-1))
            .expect("f32 values")
            .into_iter()
            .map(|x| u64::from(x.to_bits()))
            .collect(),
        _ => values_f64(t).into_iter().map(f64::to_bits).collect(),
    }
}

/// Compares `actual` with `expected` under `exactness`: same shape, same dtype, and every
/// element within the tolerance (with [`Exactness::Bits`], every bit pattern equal, so -0.0
/// differs from 0.0). On failure the message gives the number of bad elements, the worst one
/// and the max absolute and relative differences.
pub fn check(actual: &Tensor, expected: &Tensor, exactness: Exactness) -> Result<Comparison, String> {
    if actual.size() != expected.size() {
        return Err(format!("shape {:?}, expected {:?}", actual.size(), expected.size()));
    }
    if actual.kind() != expected.kind() {
        return Err(format!("dtype {:?}, expected {:?}", actual.kind(), expected.kind()));
    }
    if actual.is_sparse() || expected.is_sparse() {
        return Err("sparse tensors must be made dense before comparing".into());
    }
    let (a, e) = (values_f64(actual), values_f64(expected));
    let (bits_a, bits_e) = (bit_patterns(actual), bit_patterns(expected));
    let close = Exactness::Close.tolerance(actual.kind());
    let tol = exactness.tolerance(actual.kind());
    let mut c = Comparison { numel: a.len(), bit_identical: bits_a == bits_e, ..Default::default() };
    let mut bad = 0usize;
    let mut worst: Option<(usize, f64)> = None;
    for (i, (&x, &y)) in a.iter().zip(&e).enumerate() {
        if x.is_nan() && y.is_nan() {
            continue;
        }
        let abs = (x - y).abs();
        c.max_abs = c.max_abs.max(abs);
        if abs > 0.0 {
            c.max_rel = c.max_rel.max(abs / x.abs().max(y.abs()));
            let allowed = close.atol + close.rtol * y.abs();
            c.tolerance_used = c.tolerance_used.max(if allowed > 0.0 { abs / allowed } else { f64::INFINITY });
        }
        let ok = match exactness {
            Exactness::Bits => bits_a[i] == bits_e[i],
            Exactness::Close => abs <= tol.atol + tol.rtol * y.abs(),
        };
        if !ok {
            bad += 1;
            if worst.is_none_or(|(_, w)| abs > w) {
                worst = Some((i, abs));
            }
        }
    }
    match worst {
        None => Ok(c),
        Some((i, _)) => Err(format!(
            "{bad} of {} elements differ{} (max abs diff {:e}, max rel diff {:e}); worst at flat index {i}: got {:e}, expected {:e}",
            c.numel,
            if exactness == Exactness::Bits { " in their bits" } else { " beyond assert_close's tolerance" },
            c.max_abs,
            c.max_rel,
            a[i],
            e[i]
        )),
    }
}

/// Bit-for-bit equality of two tensors (shape, dtype and every bit pattern).
pub fn compare_bits(actual: &Tensor, expected: &Tensor) -> Result<(), String> {
    check(actual, expected, Exactness::Bits).map(|_| ())
}
