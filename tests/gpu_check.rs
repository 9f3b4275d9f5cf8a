//! The checks of scripts/gpu-check.sh, for a machine with a GPU: device detection, nn parity on
//! CUDA against PyTorch on CUDA (cuDNN on both sides) within the fixture tolerance, a short
//! training run of the tutorial model, the device-mismatch errors, and a group of one on c10d's
//! NCCL backend (on the CPU: its one-line refusal). `#[ignore]`d: the script
//! runs them (`--ignored`) against a fresh export of the parity grid on the same device
//! (`TCH_RNN_FIXTURES`), on `TCH_RNN_GPU_CHECK_DEVICE` (cuda; `cpu` dry-runs the same code).
//! The tests are numbered so that they run in order, one thread, in one process. The GPU bundle
//! (scripts/gpu-bundle.sh) ships this test binary and runs each test in a process of its own
//! (`--exact`), each with its own timeout.

mod common;

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::Instant;

use common::adam_runs::train_on;
use common::{Exactness, Fixture, report};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{Embedding, Linear, Lstm, LstmConfig};
use tch_rnn::optim::{Adam, AdamConfig};
use tch_rnn::tutorials::hello_embedding::{LR, Model};

/// The device under check, selected before any other libtorch call of the process.
fn device() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    *DEVICE.get_or_init(|| {
        let spec = std::env::var("TCH_RNN_GPU_CHECK_DEVICE").unwrap_or_else(|_| "cuda".into());
        tch_rnn::device::select(&spec).unwrap_or_else(|e| panic!("{e:#}"))
    })
}

#[test]
#[ignore = "needs a GPU: run scripts/gpu-check.sh"]
fn gpu_1_device_detection() {
    let device = device();
    let loaded = tch_rnn::device::cuda_library_loaded();
    let (gpus, warnings) = if device.is_cuda() { tch_rnn::device::cuda_device_count() } else { (0, String::new()) };
    let cudnn = device.is_cuda() && tch::Cuda::cudnn_is_available();
    report(&format!(
        "gpu-check device: {device:?}; libtorch_cuda.so loaded: {loaded}; GPUs: {gpus}; cuDNN: {cudnn} {warnings}"
    ));
    if device.is_cuda() {
        assert!(loaded && gpus > 0 && tch::Cuda::is_available(), "CUDA selected but not usable");
    }
}

#[test]
#[ignore = "needs a GPU: run scripts/gpu-check.sh"]
fn gpu_2_nn_parity_against_pytorch_on_the_same_device() {
    let device = device();
    let (fixture, file) = Fixture::load();
    let expected_device = if device.is_cuda() { "cuda:0" } else { "cpu" };
    assert_eq!(fixture.device, expected_device, "export the grid on the same device (TCH_RNN_FIXTURES)");
    let mut failures = Vec::new();
    let (mut tensors, mut bits) = (0, 0);
    for kind in common::nn_grid::kinds(&fixture) {
        let (stats, mismatches) = common::nn_grid::run_kind(&fixture, &file, kind, Exactness::Close, device);
        report(&stats.summary(&format!("gpu-check nn {kind} on {device:?}")));
        (tensors, bits) = (tensors + stats.tensors, bits + stats.bit_identical);
        failures.extend(mismatches);
    }
    report(&format!("gpu-check nn: {bits} of {tensors} tensors bit-identical with PyTorch on {device:?}"));
    assert!(failures.is_empty(), "{} mismatch(es):\n{}", failures.len(), failures.join("\n"));
}

/// The tutorial's model (section 3.3) trained for 15 epochs on the device and on the CPU from
/// the same parameters: the losses agree, and training lowers them.
#[test]
#[ignore = "needs a GPU: run scripts/gpu-check.sh"]
fn gpu_3_training_of_the_tutorial_model() {
    let device = device();
    let train = |device: Device| {
        tch::manual_seed(0);
        let vs = VarStore::new(device);
        let net = Model::new(&vs.root()).unwrap();
        let adam =
            RefCell::new(Adam::new(vs.trainable_variables(), AdamConfig { lr: LR, ..Default::default() }).unwrap());
        let started = Instant::now();
        let losses = train_on(&net, device, || adam.borrow_mut().zero_grad(), || adam.borrow_mut().step().unwrap());
        (losses.into_iter().map(f64::from).collect::<Vec<f64>>(), started.elapsed().as_secs_f64())
    };
    let ((on_device, seconds), (on_cpu, _)) = (train(device), train(Device::Cpu));
    let worst = on_device.iter().zip(&on_cpu).map(|(a, b)| (a - b).abs() / b.abs()).fold(0.0, f64::max);
    report(&format!(
        "gpu-check training on {device:?}: 15 epochs in {seconds:.3} s, loss {:.4} -> {:.4}; CPU run: {:.4} -> {:.4}; worst relative difference {worst:.2e}",
        on_device[0], on_device[14], on_cpu[0], on_cpu[14]
    ));
    assert!(on_device[14] < on_device[0], "training on {device:?} did not lower the loss: {on_device:?}");
    assert!(worst < 1e-3, "the {device:?} run strays from the CPU run: {on_device:?} vs {on_cpu:?}");
}

#[test]
#[ignore = "needs a GPU: run scripts/gpu-check.sh"]
fn gpu_4_device_mismatch_errors() {
    let device = device();
    if !device.is_cuda() {
        report("gpu-check device mismatch: nothing to mismatch on the CPU (dry run)");
        return;
    }
    let vs = VarStore::new(device);
    let lstm =
        Lstm::new(vs.root() / "lstm", LstmConfig { input_size: 3, hidden_size: 4, ..Default::default() }).unwrap();
    let emb = Embedding::new(vs.root() / "emb", 5, 3, Default::default()).unwrap();
    let fc = Linear::new(vs.root() / "fc", 4, 2, Default::default()).unwrap();
    let cpu_input = Tensor::randn([2, 1, 3], (Kind::Float, Device::Cpu));
    let messages = [
        format!("{:#}", lstm.forward(&cpu_input, None).unwrap_err()),
        format!("{:#}", emb.forward(&Tensor::from_slice(&[1i64, 2])).unwrap_err()),
        format!("{:#}", fc.forward(&Tensor::zeros([1, 4], (Kind::Float, Device::Cpu))).unwrap_err()),
    ];
    for message in &messages {
        report(&format!("gpu-check device mismatch: {message}"));
        assert!(message.contains("expected input on Cuda(0)") && message.contains("got it on Cpu"), "{message}");
    }
}

#[test]
#[ignore = "needs a GPU: run scripts/gpu-check.sh"]
fn gpu_5_nccl_group_of_one() {
    report(&format!("gpu-check {}", common::nccl::check_group_of_one(device())));
}
