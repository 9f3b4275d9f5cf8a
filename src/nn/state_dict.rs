//! Moving weights between PyTorch and Rust: a VarStore's variables are named exactly like
//! the PyTorch model's `state_dict()`, so safetensors files go both ways unchanged.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use tch::Tensor;
use tch::nn::VarStore;

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
    let file: Vec<(String, Tensor)> =
        Tensor::read_safetensors(path).with_context(|| format!("state_dict: cannot read {}", path.display()))?;
    let variables = vs.variables();
    let in_file: BTreeSet<&str> = file.iter().map(|(k, _)| k.as_str()).collect();
    let in_model: BTreeSet<&str> = variables.keys().map(String::as_str).collect();
    let missing: Vec<&str> = in_model.difference(&in_file).copied().collect();
    let unexpected: Vec<&str> = in_file.difference(&in_model).copied().collect();
    let mut mismatched = Vec::new();
    for (name, value) in &file {
        if let Some(var) = variables.get(name)
            && var.size() != value.size()
        {
            mismatched.push(format!(
                "size mismatch for {name}: copying a param with shape {:?} from checkpoint, the shape in current model is {:?}",
                value.size(),
                var.size()
            ));
        }
    }
    if !missing.is_empty() || !unexpected.is_empty() || !mismatched.is_empty() {
        let mut message = format!("state_dict: error(s) in loading {}:", path.display());
        if !missing.is_empty() {
            message += &format!("\n    Missing key(s) in state_dict: {}.", quoted(&missing));
        }
        if !unexpected.is_empty() {
            message += &format!("\n    Unexpected key(s) in state_dict: {}.", quoted(&unexpected));
        }
        for line in mismatched {
            message += &format!("\n    {line}.");
        }
        bail!(message);
    }
    tch::no_grad(|| -> Result<()> {
        for (name, value) in &file {
            let mut var = variables[name].shallow_clone();
            var.f_copy_(&value.to_kind(var.kind()))?;
        }
        Ok(())
    })
}

fn quoted(keys: &[&str]) -> String {
    keys.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ")
}

/// Saves every variable of `vs` as a safetensors `state_dict` that PyTorch's
/// `load_state_dict(safetensors.torch.load_file(path))` accepts. The file is written to a
/// temporary name beside `path` and renamed into place, so an existing file is never left
/// half-written.
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
    let path = path.as_ref();
    let file_name = path.file_name().with_context(|| format!("state_dict: {} names no file", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.{}.tmp.safetensors", file_name.to_string_lossy(), std::process::id()));
    let variables = vs.variables();
    let mut named: Vec<(&String, &Tensor)> = variables.iter().collect();
    named.sort_by(|a, b| a.0.cmp(b.0));
    let written = Tensor::write_safetensors(&named, &tmp)
        .with_context(|| format!("state_dict: cannot write {}", tmp.display()))
        .and_then(|()| {
            std::fs::rename(&tmp, path).with_context(|| format!("state_dict: cannot move {} into place", tmp.display()))
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
