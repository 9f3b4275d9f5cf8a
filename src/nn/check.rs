//! Shared helpers for validating inputs before they reach a native op, so that a bad shape is
//! an error naming the module, not a libtorch exception.

use anyhow::{Result, ensure};
use tch::{Kind, Tensor};

/// `[3, 1, 4]`: how shapes appear in error messages.
pub(crate) fn shape(t: &Tensor) -> String {
    format!("{:?}", t.size())
}

/// Fails unless `t` is a defined tensor (`Tensor::new()` is not): every other check, and
/// libtorch, would fail on it with a less useful message or a panic.
pub(crate) fn ensure_defined(module: &str, what: &str, t: &Tensor) -> Result<()> {
    ensure!(t.defined(), "{module}: expected {what} to be a tensor, got an undefined tensor (Tensor::new())");
    Ok(())
}

/// Fails unless `t` is defined and holds floating-point values.
pub(crate) fn ensure_float(module: &str, what: &str, t: &Tensor) -> Result<()> {
    ensure_defined(module, what, t)?;
    ensure!(
        t.is_floating_point(),
        "{module}: expected {what} to hold floating-point values, got dtype {:?} (shape {})",
        t.kind(),
        shape(t)
    );
    Ok(())
}

/// Integer dtypes that `torch.embedding` accepts as indices: Long or Int.
pub(crate) const EMBEDDING_INDEX_KINDS: &[Kind] = &[Kind::Int64, Kind::Int];
/// Integer dtypes that `cross_entropy_loss` accepts as class-index targets: Long or Byte.
pub(crate) const TARGET_INDEX_KINDS: &[Kind] = &[Kind::Int64, Kind::Uint8];

/// Fails unless `t` is defined and holds integer indices of one of the `allowed` dtypes.
pub(crate) fn ensure_index(module: &str, what: &str, t: &Tensor, allowed: &[Kind]) -> Result<()> {
    ensure_defined(module, what, t)?;
    ensure!(
        allowed.contains(&t.kind()),
        "{module}: expected {what} to hold integer indices of dtype {}, got dtype {:?} (shape {})",
        allowed.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(" or "),
        t.kind(),
        shape(t)
    );
    Ok(())
}

/// Fails unless every value of the integer tensor `t` lies in `lo..hi`, or equals `allowed`.
/// On the CPU the values are read in place (no op, no copy: this runs on every forward); on
/// another device the check runs there and only a flag comes back.
pub(crate) fn ensure_indices_in_range(
    module: &str,
    what: &str,
    t: &Tensor,
    lo: i64,
    hi: i64,
    allowed: Option<i64>,
) -> Result<()> {
    let is_bad = |x: i64| (x < lo || x >= hi) && Some(x) != allowed;
    let first_bad = match first_cpu_value(t, is_bad) {
        Some(found) => found,
        None => first_value_on_device(t, lo, hi, allowed)?,
    };
    if let Some(first_bad) = first_bad {
        let expected = match (hi > lo, allowed) {
            (true, _) => {
                format!("values in [{lo}, {}]{}", hi - 1, allowed.map_or(String::new(), |a| format!(" or {a}")))
            }
            (false, Some(a)) => format!("only {a}, as there is no valid index (the range [{lo}, {hi}) is empty)"),
            (false, None) => format!("no values at all, as there is no valid index (the range [{lo}, {hi}) is empty)"),
        };
        anyhow::bail!("{module}: {what} {first_bad} is out of range: expected {expected} (shape {})", shape(t));
    }
    Ok(())
}

/// The first value of a contiguous CPU integer tensor for which `pick` holds, read in place;
/// `None` when the tensor is not such a tensor.
fn first_cpu_value(t: &Tensor, pick: impl Fn(i64) -> bool) -> Option<Option<i64>> {
    if t.device() != tch::Device::Cpu || !t.is_contiguous() {
        return None;
    }
    let n = t.numel();
    if n == 0 {
        return Some(None);
    }
    let ptr = t.data_ptr();
    // SAFETY: a contiguous CPU tensor of `n` elements of the matched dtype starts at `ptr` and
    // stays alive (borrowed) while the slice is read.
    unsafe {
        match t.kind() {
            Kind::Int64 => Some(std::slice::from_raw_parts(ptr as *const i64, n).iter().copied().find(|&x| pick(x))),
            Kind::Int => {
                Some(std::slice::from_raw_parts(ptr as *const i32, n).iter().map(|&x| i64::from(x)).find(|&x| pick(x)))
            }
            Kind::Uint8 => {
                Some(std::slice::from_raw_parts(ptr as *const u8, n).iter().map(|&x| i64::from(x)).find(|&x| pick(x)))
            }
            _ => None,
        }
    }
}

/// The same check as tensor ops where the tensor lives; only a flag (and, on failure, the
/// first offending value) comes back.
fn first_value_on_device(t: &Tensor, lo: i64, hi: i64, allowed: Option<i64>) -> Result<Option<i64>> {
    if t.numel() == 0 {
        return Ok(None);
    }
    let t = t.f_to_kind(Kind::Int64)?;
    let mut bad = t.f_lt(lo)?.f_logical_or(&t.f_ge(hi)?)?;
    if let Some(allowed) = allowed {
        bad = bad.f_logical_and(&t.f_ne(allowed)?)?;
    }
    if bad.f_any()?.f_int64_value(&[])? == 0 {
        return Ok(None);
    }
    Ok(Some(t.f_masked_select(&bad)?.f_int64_value(&[0])?))
}

/// Fails unless `t` has the dtype `kind` of `reference` (e.g. "the weight"), as the native
/// op requires.
pub(crate) fn ensure_kind(module: &str, what: &str, t: &Tensor, kind: Kind, reference: &str) -> Result<()> {
    ensure!(
        t.kind() == kind,
        "{module}: expected {what} of dtype {kind:?} ({reference}'s), got dtype {:?}; convert it with .to_kind(Kind::{kind:?})",
        t.kind()
    );
    Ok(())
}

/// Fails unless `t` lives on `device` (where the module's parameters are).
pub(crate) fn ensure_device(module: &str, what: &str, t: &Tensor, device: tch::Device) -> Result<()> {
    ensure_device_of(module, what, t, device, "the parameters are")
}

/// Fails unless `t` lives on `device`, where `reference` (e.g. "the input is") lives.
pub(crate) fn ensure_device_of(
    module: &str,
    what: &str,
    t: &Tensor,
    device: tch::Device,
    reference: &str,
) -> Result<()> {
    ensure!(
        t.device() == device,
        "{module}: expected {what} on {device:?}, where {reference}, got it on {:?}; move it with .to_device()",
        t.device()
    );
    Ok(())
}
