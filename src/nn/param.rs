//! Parameter registration shared by every module: PyTorch creates parameters with
//! `torch.empty` and initialises them afterwards in registration order; so do we.
//!
//! Registration is all or nothing: names are checked and sizes are checked against what the
//! machine can hold before anything is allocated, every tensor is allocated before any is
//! registered, so a constructor that fails leaves the VarStore as it found it and can be
//! retried.

use anyhow::{Result, ensure};
use tch::Tensor;
use tch::nn::Path;

use crate::error::tidy;

/// What a tensor costs beyond its values (TensorImpl, storage, the VarStore's entries),
/// counted so that a config of very many tiny parameters is refused too.
const BYTES_PER_TENSOR: u128 = 512;

/// Fails, naming `module`, unless `tensors` parameters holding `elements` values in all could
/// be allocated under `path`: the counts must not overflow and, on the CPU, the bytes must
/// fit in the machine's physical memory. Runs before anything is allocated.
pub(crate) fn ensure_allocatable(
    path: &Path,
    module: &str,
    tensors: Option<u128>,
    elements: Option<u128>,
) -> Result<()> {
    let element_bytes = path.kind().elt_size_in_bytes() as u128;
    let bytes = tensors
        .zip(elements)
        .and_then(|(t, e)| e.checked_mul(element_bytes)?.checked_add(t.checked_mul(BYTES_PER_TENSOR)?));
    let Some(bytes) = bytes.filter(|&b| b <= i64::MAX as u128) else {
        anyhow::bail!(
            "{module}: the configuration asks for more parameters than can be counted (sizes overflow 64 bits)"
        );
    };
    if path.device() == tch::Device::Cpu
        && let Some(memory) = crate::memory::physical_memory()
    {
        ensure!(
            bytes <= u128::from(memory),
            "{module}: the configuration needs {} of parameters, more than this machine's {} of memory",
            human_bytes(bytes),
            human_bytes(u128::from(memory))
        );
    }
    Ok(())
}

/// `1.5 GiB`, for error messages.
fn human_bytes(bytes: u128) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} bytes") } else { format!("{value:.1} {}", units[unit]) }
}

/// The number of values of a tensor of shape `dims`, `None` when a dimension is negative or
/// the product overflows.
pub(crate) fn element_count(dims: &[i64]) -> Option<u128> {
    dims.iter().try_fold(1u128, |n, &d| n.checked_mul(u128::try_from(d).ok()?))
}

/// Registers the trainable parameters `specs` (name, shape) under `path`, in order, filled with
/// zeros until the module's initialiser draws their values. Every name is checked before any
/// is registered, so a name already taken (tch would silently rename it, breaking PyTorch's
/// state_dict names) registers nothing; so is the total size, and every tensor is allocated
/// before the first is registered.
pub(crate) fn new_parameters(path: &Path, module: &str, specs: &[(String, Vec<i64>)]) -> Result<Vec<Tensor>> {
    for (name, _) in specs {
        ensure_free(path, module, name)?;
    }
    let elements = specs.iter().try_fold(0u128, |n, (_, dims)| n.checked_add(element_count(dims)?));
    ensure_allocatable(path, module, Some(specs.len() as u128), elements)?;
    let values = specs
        .iter()
        .map(|(_, dims)| Tensor::f_zeros(dims, (path.kind(), path.device())))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tidy(module, e))?;
    Ok(specs.iter().zip(values).map(|((name, _), value)| path.add(name, value, true)).collect())
}

/// Registers one trainable parameter `name` of shape `dims` under `path`, as
/// [`new_parameters`] does.
pub(crate) fn new_parameter(path: &Path, module: &str, name: &str, dims: &[i64]) -> Result<Tensor> {
    let mut registered = new_parameters(path, module, &[(name.to_string(), dims.to_vec())])?;
    Ok(registered.remove(0))
}

/// Registers `value` as parameter `name` under `path`, trainable or frozen. Only floating-point
/// values can be trainable, as in PyTorch.
pub(crate) fn add_parameter(path: &Path, module: &str, name: &str, value: Tensor, trainable: bool) -> Result<Tensor> {
    ensure_free(path, module, name)?;
    ensure!(
        !trainable || value.is_floating_point(),
        "{module}: only tensors of floating point dtype can require gradients, got dtype {:?} for a trainable '{name}' \
         (freeze it, or convert it with .to_kind(Kind::Float))",
        value.kind()
    );
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
