//! The random generators of a training run, saved with each checkpoint and put back on resume
//! (and around the samples shown while training, which must not change the run).

use anyhow::Result;
use tch::{Device, Tensor};

use crate::ffi::{rng_state, set_rng_state};

/// The generators' states by device name: the CPU's, and the GPU's when training on one.
pub(super) fn rng_states(device: Device) -> Result<Vec<(String, Tensor)>> {
    let mut states = vec![("cpu".to_string(), rng_state(Device::Cpu)?)];
    if let Device::Cuda(i) = device {
        states.push((format!("cuda:{i}"), rng_state(device)?));
    }
    Ok(states)
}

/// Puts back the states of the generators this run draws from (those of other devices are
/// left alone).
pub(super) fn restore_rng_states(states: &[(String, Tensor)], device: Device) -> Result<()> {
    for (name, state) in states {
        match (name.as_str(), device) {
            ("cpu", _) => set_rng_state(Device::Cpu, state)?,
            (gpu, Device::Cuda(i)) if gpu == format!("cuda:{i}") => set_rng_state(device, state)?,
            _ => {} // another device's generator: nothing of this run draws from it
        }
    }
    Ok(())
}
