//! Parameter registration shared by every module: PyTorch creates parameters with
//! `torch.empty` and initialises them afterwards in registration order; so do we.

use anyhow::{Result, ensure};
use tch::Tensor;
use tch::nn::Path;

/// Registers the trainable parameters `specs` (name, shape) under `path`, in order, filled with
/// zeros until the module's initialiser draws their values. Every name is checked before any
/// is registered, so a name already taken (tch would silently rename it, breaking PyTorch's
/// state_dict names) registers nothing.
pub(crate) fn new_parameters(path: &Path, module: &str, specs: &[(String, Vec<i64>)]) -> Result<Vec<Tensor>> {
    for (name, _) in specs {
        ensure_free(path, module, name)?;
    }
    specs.iter().map(|(name, dims)| Ok(path.f_zeros(name, dims)?)).collect()
}

/// Registers one trainable parameter `name` of shape `dims` under `path`, as
/// [`new_parameters`] does.
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
