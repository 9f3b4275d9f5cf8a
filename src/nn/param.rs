//! Parameter registration shared by every module: PyTorch creates parameters with
//! `torch.empty` and initialises them afterwards in registration order; so do we.

use anyhow::{Result, ensure};
use tch::Tensor;
use tch::nn::Path;

/// Registers a trainable parameter `name` of shape `dims` under `path`, filled with zeros until
/// the module's initialiser draws its values. Fails if the name is already taken (tch would
/// silently rename it, breaking PyTorch's state_dict names).
pub(crate) fn new_parameter(path: &Path, module: &str, name: &str, dims: &[i64]) -> Result<Tensor> {
    ensure_free(path, module, name)?;
    Ok(path.f_zeros(name, dims)?)
}

/// Registers `value` as parameter `name` under `path`, trainable or frozen.
pub(crate) fn add_parameter(path: &Path, module: &str, name: &str, value: Tensor, trainable: bool) -> Result<Tensor> {
    ensure_free(path, module, name)?;
    Ok(path.add(name, value, trainable))
}

fn ensure_free(path: &Path, module: &str, name: &str) -> Result<()> {
    ensure!(
        path.get(name).is_none(),
        "{module}: a parameter named '{}' already exists in this VarStore; give each module its own path",
        path.path(name)
    );
    Ok(())
}
