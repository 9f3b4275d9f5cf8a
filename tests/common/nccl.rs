//! c10d's NCCL backend as far as the machine allows, for tests/distributed.rs (on every machine)
//! and tests/gpu_check.rs (on the GPU): on a GPU, a group of one on NCCL sums, broadcasts and
//! waits with CUDA tensors (and with CPU tensors through its Gloo side), and DDP averages
//! gradients through it; on the CPU, the backend's library loads and ProcessGroupNCCL itself
//! refuses, in one line, for want of a GPU. Loads libtorch's CUDA library: run it in a process
//! that selected its device first.

use std::sync::Arc;
use std::time::Duration;

use tch::{Device, Kind, Tensor};
use tch_rnn::distributed::{Backend, DistributedDataParallel, GroupConfig, ProcessGroup, available, nccl_available};

use super::check_err;
use super::ranks::free_port;

/// Checks NCCL on `device` (see the module) and returns what was checked, in one line.
pub fn check_group_of_one(device: Device) -> String {
    let config = GroupConfig::new("127.0.0.1", free_port(), 0, 1)
        .with_backend(Backend::Nccl)
        .with_timeout(Duration::from_secs(60));
    if !available() {
        return "nccl: this build has no distributed support".into();
    }
    if let Some(why) = option_env!("TCH_RNN_NCCL_BUILD_ERROR") {
        panic!("the NCCL backend's headers were there but it did not build: {why}");
    }
    if let Err(why) = nccl_available() {
        // A build without NCCL's backend (no CUDA build of libtorch, or no headers): joining
        // says so in one line.
        assert!(!device.is_cuda(), "NCCL must be there on a GPU: {why}");
        check_err("nccl", "distributed", &["joining: ", "use the gloo backend"], || ProcessGroup::new(config));
        return format!("nccl: not in this build ({why})");
    }
    if !device.is_cuda() {
        let line = check_err("nccl", "distributed", &["rank 0 of 1: joining: ", "no GPUs found"], || {
            ProcessGroup::new(config)
        });
        return format!("nccl: the backend's library loads; without a GPU: {line}");
    }
    let group = Arc::new(ProcessGroup::new(config).expect("a group of one on NCCL"));
    collectives(&group, device);
    average_gradients(group, device);
    format!("nccl: a group of one on {device:?}: allreduce, broadcast, barrier and DDP through NCCL")
}

/// Sums and copies of a world of one leave CUDA tensors (NCCL) and CPU tensors (Gloo) as
/// they were.
fn collectives(group: &ProcessGroup, device: Device) {
    let values = [1.5f32, -2.0, 3.25];
    for device in [device, Device::Cpu] {
        let (a, b) = (Tensor::from_slice(&values).to(device), Tensor::from_slice(&values[..1]).to(device));
        group.allreduce(&[a.shallow_clone()]).expect("allreduce");
        group.allreduce(&[a.shallow_clone(), b.shallow_clone()]).expect("coalesced allreduce");
        group.broadcast(&[a.shallow_clone()], 0).expect("broadcast");
        group.broadcast(&[a.shallow_clone(), b.shallow_clone()], 0).expect("coalesced broadcast");
        assert_eq!(Vec::<f32>::try_from(&a.to(Device::Cpu)).unwrap(), values, "on {device:?}");
        assert_eq!(Vec::<f32>::try_from(&b.to(Device::Cpu)).unwrap(), values[..1], "on {device:?}");
    }
    group.barrier().expect("barrier");
}

/// DDP over a world of one: the gradients come back as they were.
fn average_gradients(group: Arc<ProcessGroup>, device: Device) {
    let weight = Tensor::randn([4, 3], (Kind::Float, device)).set_requires_grad(true);
    let mut ddp = DistributedDataParallel::new(group, &[weight.shallow_clone()]).expect("DDP over NCCL");
    weight.square().sum(Kind::Float).backward();
    let before = weight.grad().copy();
    ddp.average_gradients().expect("averaging over NCCL");
    assert!(weight.grad().equal(&before), "a world of one averages to the gradient itself");
}
