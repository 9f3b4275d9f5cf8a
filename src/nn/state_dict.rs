//! Moving weights between PyTorch and Rust: a VarStore's variables are named exactly like
//! the PyTorch model's `state_dict()`, so safetensors files go both ways unchanged.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Result, bail};
use tch::Tensor;
use tch::nn::VarStore;

use crate::error::{guard, tidy};

/// Loads a safetensors `state_dict` into `vs`, strictly, like PyTorch's
/// `model.load_state_dict(safetensors.torch.load_file(path), strict=True)`: every variable of
/// `vs` must be in the file with the same shape and no extra key may be there. On failure
/// nothing is copied and the error lists the missing keys, the unexpected keys and the shape
/// mismatches.
///
/// ```no_run
/// # use tch::{nn::VarStore, Device};
/// let mut vs = VarStore::new(Device::Cpu);
/// // ... build the model under vs.root() ...
/// tch_rnn::nn::load_state_dict(&mut vs, "model.safetensors")?;
/// # anyhow::Ok(())
/// ```
pub fn load_state_dict(vs: &mut VarStore, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let file = crate::safetensors::read(path).map_err(|e| tidy("state_dict", e))?;
    load_tensors(vs, &file, &path.display().to_string())
}

/// Copies `tensors` (a state_dict: name, value) into `vs`, strictly, as [`load_state_dict`]
/// does for a file; `source` names where they came from in errors. Nothing is copied unless
/// every name and shape fits.
///
/// ```
/// # use tch::{nn::VarStore, Device, Tensor};
/// let mut vs = VarStore::new(Device::Cpu);
/// let fc = tch_rnn::nn::Linear::new(vs.root(), 2, 1, Default::default())?;
/// let weight = Tensor::from_slice(&[0.5f32, -0.5]).view([1, 2]);
/// let bias = Tensor::from_slice(&[0.25f32]);
/// tch_rnn::nn::load_tensors(&mut vs, &[("weight".into(), weight), ("bias".into(), bias)], "memory")?;
/// assert_eq!(fc.bias.as_ref().unwrap().double_value(&[0]), 0.25);
/// # anyhow::Ok(())
/// ```
pub fn load_tensors(vs: &mut VarStore, tensors: &[(String, Tensor)], source: &str) -> Result<()> {
    let variables = vs.variables();
    let in_file: BTreeSet<&str> = tensors.iter().map(|(k, _)| k.as_str()).collect();
    let in_model: BTreeSet<&str> = variables.keys().map(String::as_str).collect();
    let missing: Vec<&str> = in_model.difference(&in_file).copied().collect();
    let unexpected: Vec<&str> = in_file.difference(&in_model).copied().collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("Missing key(s) in state_dict: {}.", quoted(&missing)));
    }
    if !unexpected.is_empty() {
        problems.push(format!("Unexpected key(s) in state_dict: {}.", quoted(&unexpected)));
    }
    for (name, value) in tensors {
        let Some(var) = variables.get(name) else { continue };
        if var.size() != value.size() {
            problems.push(format!(
                "size mismatch for {name}: copying a param with shape {:?} from checkpoint, the shape in current model is {:?}.",
                value.size(),
                var.size()
            ));
        } else if var.is_floating_point() != value.is_floating_point() {
            problems.push(format!(
                "dtype mismatch for {name}: copying a param of dtype {:?} from checkpoint, the dtype in current model is {:?}.",
                value.kind(),
                var.kind()
            ));
        }
    }
    if !problems.is_empty() {
        bail!("state_dict: error(s) in loading {source}: {}", problems.join(" "));
    }
    guard("state_dict", || {
        tch::no_grad(|| -> Result<()> {
            // Converted first, so that a failure leaves every variable as it was.
            let converted = tensors
                .iter()
                .map(|(name, value)| {
                    let var = &variables[name];
                    Ok((var.shallow_clone(), value.f_to_device(var.device())?.f_to_kind(var.kind())?))
                })
                .collect::<Result<Vec<_>>>()?;
            for (mut var, value) in converted {
                var.f_copy_(&value)?;
            }
            Ok(())
        })
    })
}

fn quoted(keys: &[&str]) -> String {
    keys.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ")
}

/// Saves every variable of `vs` as a safetensors `state_dict` that PyTorch's
/// `load_state_dict(safetensors.torch.load_file(path))` accepts. The file is written to a
/// unique temporary name beside `path` (beside the target when `path` is a symlink), synced
/// and renamed into place, so no reader, concurrent saver or crash sees half a file.
///
/// ```
/// # use tch::{nn::VarStore, Device};
/// let vs = VarStore::new(Device::Cpu);
/// let _fc = tch_rnn::nn::Linear::new(vs.root() / "fc", 8, 4, Default::default())?;
/// let path = std::env::temp_dir().join(format!("doc-{}.safetensors", std::process::id()));
/// tch_rnn::nn::save_state_dict(&vs, &path)?;
/// # std::fs::remove_file(path)?;
/// # anyhow::Ok(())
/// ```
pub fn save_state_dict(vs: &VarStore, path: impl AsRef<Path>) -> Result<()> {
    let variables = vs.variables();
    let named: Vec<(&str, &Tensor)> = variables.iter().map(|(name, t)| (name.as_str(), t)).collect();
    crate::safetensors::write(path.as_ref(), &named).map_err(|e| tidy("state_dict", e))
}
