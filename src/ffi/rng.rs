//! The default random generators' states (`rng.cpp`): `torch.get_rng_state()`,
//! `torch.set_rng_state()` and their `torch.cuda` twins.

use std::os::raw::{c_char, c_void};

use anyhow::{Result, bail};
use tch::{Device, Tensor};

use super::{call, call_for_tensor, ptr, require_defined};

unsafe extern "C" {
    fn tch_rnn_rng_get_state(cuda: i32, index: i32, out: *mut *mut c_void, err: *mut c_char, cap: usize) -> usize;
    fn tch_rnn_rng_set_state(cuda: i32, index: i32, state: *const c_void, err: *mut c_char, cap: usize) -> usize;
}

/// `(cuda, index)` for the shim's generator functions; only the CPU and CUDA have one here.
fn generator_of(device: Device) -> Result<(i32, i32)> {
    match device {
        Device::Cpu => Ok((0, 0)),
        Device::Cuda(index) => Ok((1, index as i32)),
        other => bail!("rng state: no default generator for {other:?} here"),
    }
}

/// The state of `device`'s default random generator, a uint8 tensor: `torch.get_rng_state()`
/// for the CPU, `torch.cuda.get_rng_state(i)` for `Cuda(i)`.
pub fn rng_state(device: Device) -> Result<Tensor> {
    let (cuda, index) = generator_of(device)?;
    call_for_tensor(&format!("rng state of {device:?}"), |out, err, cap| unsafe {
        tch_rnn_rng_get_state(cuda, index, out, err, cap)
    })
}

/// Restores a state taken by [`rng_state`] into `device`'s default generator (an error, not a
/// crash, when the state is not one).
pub fn set_rng_state(device: Device, state: &Tensor) -> Result<()> {
    let (cuda, index) = generator_of(device)?;
    let name = format!("rng state of {device:?}");
    require_defined(&name, &[("the state", state)])?;
    let state = ptr(state);
    call(&name, |err, cap| unsafe { tch_rnn_rng_set_state(cuda, index, state, err, cap) })
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::*;
    use crate::ffi::tests::assert_one_clean_line;

    #[test]
    fn a_restored_state_replays_the_same_draws() {
        // No other unit test of the crate draws from the CPU generator in parallel.
        tch::manual_seed(3);
        let state = rng_state(Device::Cpu).unwrap();
        let a = Tensor::rand([4], (Kind::Float, Device::Cpu));
        set_rng_state(Device::Cpu, &state).unwrap();
        assert!(a.equal(&Tensor::rand([4], (Kind::Float, Device::Cpu))));
    }

    #[test]
    fn a_state_that_is_not_one_is_an_error() {
        let e = set_rng_state(Device::Cpu, &Tensor::from_slice(&[1u8, 2])).unwrap_err();
        assert_one_clean_line(&e, "rng state of Cpu:");
        let e = set_rng_state(Device::Cpu, &Tensor::new()).unwrap_err();
        assert_one_clean_line(&e, "rng state of Cpu: expected a defined tensor as the state");
    }
}
