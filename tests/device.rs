//! The device entry point, `tch_rnn::device::select`. A CPU run loads nothing of CUDA; asking
//! for `cuda` loads libtorch's CUDA library first and, without a GPU, is a clear error; `auto`
//! falls back to the CPU and says so; and asking for `cuda` after libtorch has already answered
//! "no CUDA" in the same process is explained. Each case that depends on process-wide state
//! runs in a process of its own (`common::run_isolated` reruns the `#[ignore]`d scenario).

mod common;

use common::run_isolated;
use tch::{Device, Kind, Tensor};
use tch_rnn::device::{DeviceRequest, cuda_library_loaded, select};
use tch_rnn::tutorials::{Options, run};

#[test]
fn device_names_parse_strictly() {
    for (spec, request) in [
        ("cpu", DeviceRequest::Cpu),
        ("cuda", DeviceRequest::Cuda(0)),
        ("cuda:0", DeviceRequest::Cuda(0)),
        ("cuda:3", DeviceRequest::Cuda(3)),
        ("auto", DeviceRequest::Auto),
    ] {
        assert_eq!(spec.parse::<DeviceRequest>().unwrap(), request, "{spec}");
    }
    for bad in ["", "gpu", "CUDA", "cuda:", "cuda:-1", "cuda:x", "cuda:+1", "cuda 1", "cpu:0"] {
        let err = bad.parse::<DeviceRequest>().unwrap_err().to_string();
        assert!(err.starts_with("device: expected cpu, cuda, cuda:N") && err.contains(&format!("'{bad}'")), "{err}");
    }
}

#[test]
fn a_cpu_run_loads_nothing_of_cuda() {
    let (stdout, _) = run_isolated("scenario_cpu_run");
    assert!(stdout.contains("libtorch_cuda.so loaded: false"), "{stdout}");
}

#[test]
#[ignore = "process-wide state: run by a_cpu_run_loads_nothing_of_cuda"]
fn scenario_cpu_run() {
    assert_eq!(select("cpu").unwrap(), Device::Cpu);
    for program in ["rnn", "hello_embedding", "hello_lstm", "packed_sequences"] {
        run(program, &Options::default(), &mut Vec::new()).unwrap();
    }
    let loaded = cuda_library_loaded();
    println!("libtorch_cuda.so loaded: {loaded}");
    assert!(!loaded, "a CPU run loaded libtorch_cuda.so");
}

#[test]
fn cuda_is_made_available_or_clearly_missing() {
    let (stdout, _) = run_isolated("scenario_cuda");
    assert!(stdout.contains("libtorch_cuda.so loaded: true"), "{stdout}");
}

#[test]
#[ignore = "process-wide state: run by cuda_is_made_available_or_clearly_missing"]
fn scenario_cuda() {
    let selected = select("cuda");
    println!("libtorch_cuda.so loaded: {}", cuda_library_loaded());
    match selected {
        Ok(device) => {
            // A GPU: CUDA really works, and our modules say so when an input is left on the CPU.
            assert_eq!(device, Device::Cuda(0));
            let x = Tensor::ones([2, 2], (Kind::Float, device));
            assert_eq!((&x + &x).sum(Kind::Float).double_value(&[]), 8.0);
        }
        Err(e) => {
            let message = format!("{e:#}");
            assert!(
                message.starts_with(
                    "device: cuda:0 is not available: CUDA support is present but no GPU or driver was found"
                ),
                "{message}"
            );
            assert!(!message.contains("Could not run"), "libtorch's raw error leaked: {message}");
        }
    }
}

#[test]
fn auto_falls_back_to_the_cpu_and_says_so() {
    let (stdout, stderr) = run_isolated("scenario_auto");
    if stdout.contains("selected: Cpu") {
        assert!(stderr.contains("device: auto: no usable CUDA GPU"), "{stderr}");
        assert!(stderr.contains("running on the CPU"), "{stderr}");
    } else {
        assert!(stdout.contains("selected: Cuda(0)"), "{stdout}");
    }
}

#[test]
#[ignore = "process-wide state: run by auto_falls_back_to_the_cpu_and_says_so"]
fn scenario_auto() {
    let selection = tch_rnn::device::resolve(DeviceRequest::Auto).unwrap();
    eprintln!("{}", selection.note.unwrap_or_default());
    println!("selected: {:?}", selection.device);
}

#[test]
fn cuda_after_a_cpu_start_is_explained() {
    let (stdout, _) = run_isolated("scenario_cuda_after_cpu_start");
    assert!(stdout.contains("explained"), "{stdout}");
}

#[test]
#[ignore = "process-wide state: run by cuda_after_a_cpu_start_is_explained"]
fn scenario_cuda_after_cpu_start() {
    tch::manual_seed(0); // seeds the CUDA generators too, so it asks libtorch whether CUDA exists
    let message = format!("{:#}", select("cuda").unwrap_err());
    assert!(message.contains("CUDA was queried in this process before it could be loaded"), "{message}");
    assert!(message.contains("select the device before any other libtorch call"), "{message}");
    println!("explained: {message}");
}
