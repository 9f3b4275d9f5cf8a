//! Shared helpers for validating inputs before they reach a native op, so that a bad shape is
//! an error naming the module, not a libtorch exception.

use anyhow::{Result, ensure};
use tch::{Kind, Tensor};

/// `[3, 1, 4]`: how shapes appear in error messages.
pub(crate) fn shape(t: &Tensor) -> String {
    format!("{:?}", t.size())
}

/// Fails unless `t` holds floating-point values.
pub(crate) fn ensure_float(module: &str, what: &str, t: &Tensor) -> Result<()> {
    ensure!(
        t.is_floating_point(),
        "{module}: expected {what} to hold floating-point values, got dtype {:?} (shape {})",
        t.kind(),
        shape(t)
    );
    Ok(())
}

/// Fails unless `t` holds integer class indices (int64 or int32, as PyTorch accepts).
pub(crate) fn ensure_index(module: &str, what: &str, t: &Tensor) -> Result<()> {
    ensure!(
        matches!(t.kind(), Kind::Int64 | Kind::Int),
        "{module}: expected {what} to hold integer indices (int64 or int32), got dtype {:?} (shape {})",
        t.kind(),
        shape(t)
    );
    Ok(())
}

/// Fails unless every value of the integer tensor `t` lies in `lo..hi`, or equals `allowed`.
pub(crate) fn ensure_indices_in_range(
    module: &str,
    what: &str,
    t: &Tensor,
    lo: i64,
    hi: i64,
    allowed: Option<i64>,
) -> Result<()> {
    if t.numel() == 0 {
        return Ok(());
    }
    let values = Vec::<i64>::try_from(t.to_kind(Kind::Int64).flatten(0, -1))?;
    if let Some(bad) = values
        .iter()
        .find(|&&v| !(lo..hi).contains(&v) && Some(v) != allowed)
    {
        anyhow::bail!(
            "{module}: {what} {bad} is out of range: expected values in [{lo}, {}]{} (shape {})",
            hi - 1,
            allowed.map_or(String::new(), |a| format!(" or {a}")),
            shape(t)
        );
    }
    Ok(())
}
