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

/// Integer dtypes that `torch.embedding` accepts as indices: Long or Int.
pub(crate) const EMBEDDING_INDEX_KINDS: &[Kind] = &[Kind::Int64, Kind::Int];
/// Integer dtypes that `cross_entropy_loss` accepts as class-index targets: Long or Byte.
pub(crate) const TARGET_INDEX_KINDS: &[Kind] = &[Kind::Int64, Kind::Uint8];

/// Fails unless `t` holds integer indices of one of the `allowed` dtypes.
pub(crate) fn ensure_index(module: &str, what: &str, t: &Tensor, allowed: &[Kind]) -> Result<()> {
    ensure!(
        allowed.contains(&t.kind()),
        "{module}: expected {what} to hold integer indices of dtype {}, got dtype {:?} (shape {})",
        allowed
            .iter()
            .map(|k| format!("{k:?}"))
            .collect::<Vec<_>>()
            .join(" or "),
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
