//! Choosing the device, CUDA included, from one call: [`select`].
//!
//! The linker drops `libtorch_cuda.so` from every binary that references none of its symbols
//! (`--as-needed`), and ATen decides once per process, at the first CUDA query, whether CUDA
//! exists: a query made before `libtorch_cuda.so` is loaded turns CUDA off for good. So a CPU
//! run loads nothing of CUDA (about 0.14 s and 385 MiB saved per process), and asking for
//! `cuda` or `auto` loads `libtorch_cuda.so` (from the folder of the `libtorch_cpu.so` this
//! process runs on) before anything asks about CUDA. Call [`select`] first thing, before
//! `tch::manual_seed` (which queries CUDA to seed its generators) and before any tensor work.
//!
//! ```
//! let device = tch_rnn::device::select("cpu")?;
//! assert_eq!(device, tch::Device::Cpu);
//! assert!(!tch_rnn::device::cuda_library_loaded(), "a CPU run loads nothing of CUDA");
//! # anyhow::Ok(())
//! ```

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;

use anyhow::{Result, bail};
use tch::Device;

/// A device as a user names it: `cpu`, `cuda` (GPU 0), `cuda:N` or `auto` (the first GPU if
/// there is one, else the CPU).
///
/// ```
/// use tch_rnn::device::DeviceRequest;
/// assert_eq!("cuda:1".parse::<DeviceRequest>()?, DeviceRequest::Cuda(1));
/// assert_eq!(DeviceRequest::Auto.to_string(), "auto");
/// assert!("gpu".parse::<DeviceRequest>().is_err());
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DeviceRequest {
    /// The CPU; CUDA is never loaded.
    #[default]
    Cpu,
    /// CUDA GPU number N (`cuda` is `cuda:0`); an error if there is none.
    Cuda(usize),
    /// GPU 0 if CUDA works here, else the CPU (said on stderr).
    Auto,
}

impl FromStr for DeviceRequest {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let index = |n: &str| n.parse::<usize>().ok().filter(|_| n.bytes().all(|b| b.is_ascii_digit()));
        match s {
            "cpu" => Ok(DeviceRequest::Cpu),
            "cuda" => Ok(DeviceRequest::Cuda(0)),
            "auto" => Ok(DeviceRequest::Auto),
            _ => match s.strip_prefix("cuda:").and_then(index) {
                Some(n) => Ok(DeviceRequest::Cuda(n)),
                None => bail!("device: expected cpu, cuda, cuda:N (N = 0, 1, ...) or auto, got '{s}'"),
            },
        }
    }
}

impl fmt::Display for DeviceRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceRequest::Cpu => f.write_str("cpu"),
            DeviceRequest::Cuda(n) => write!(f, "cuda:{n}"),
            DeviceRequest::Auto => f.write_str("auto"),
        }
    }
}

/// Parses `spec` (`cpu`, `cuda`, `cuda:N`, `auto`) and returns the device to run on, making
/// CUDA available first when it is asked for. See [`resolve`].
///
/// ```
/// assert_eq!(tch_rnn::device::select("cpu")?, tch::Device::Cpu);
/// assert!(tch_rnn::device::select("tpu").is_err());
/// # anyhow::Ok(())
/// ```
pub fn select(spec: &str) -> Result<Device> {
    Ok(resolve(spec.parse()?)?.device)
}

/// The device a request resolved to, and, when `auto` fell back to the CPU, why (for the
/// caller to show: the library prints nothing).
///
/// ```
/// let selection = tch_rnn::device::resolve(tch_rnn::device::DeviceRequest::Cpu)?;
/// assert_eq!((selection.device, selection.note), (tch::Device::Cpu, None));
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    pub device: Device,
    pub note: Option<String>,
}

/// The device for `request`. For `cuda`, `cuda:N` and `auto` it loads `libtorch_cuda.so`
/// (once) before any CUDA query, then:
/// - `cuda:N` is that GPU, or an error that says why not: a CPU-only libtorch, CUDA support
///   present but no GPU or driver, fewer GPUs than N + 1, or CUDA already queried in this
///   process before it could be loaded;
/// - `auto` is GPU 0, or the CPU with a note saying why.
///
/// ```
/// # use tch_rnn::device::{resolve, DeviceRequest};
/// assert_eq!(resolve(DeviceRequest::Cpu)?.device, tch::Device::Cpu);
/// # anyhow::Ok(())
/// ```
pub fn resolve(request: DeviceRequest) -> Result<Selection> {
    let index = match request {
        DeviceRequest::Cpu => return Ok(Selection { device: Device::Cpu, note: None }),
        DeviceRequest::Cuda(n) => n,
        DeviceRequest::Auto => 0,
    };
    match cuda_device(request, index) {
        Ok(device) => Ok(Selection { device, note: None }),
        Err(why) if request == DeviceRequest::Auto => {
            let note = format!("device: auto: no usable CUDA GPU ({why}); running on the CPU");
            Ok(Selection { device: Device::Cpu, note: Some(note) })
        }
        Err(why) => bail!("device: {request} is not available: {why}"),
    }
}

/// GPU `index`, after making CUDA available; the error says why it is not there.
fn cuda_device(request: DeviceRequest, index: usize) -> Result<Device, String> {
    load_cuda_library()?;
    if !crate::ffi::cuda_hooks_loaded() {
        return Err("CUDA was queried in this process before it could be loaded (by tch::manual_seed, tch::Cuda \
                    or a CUDA tensor), and libtorch keeps that answer for the life of the process: select the \
                    device before any other libtorch call"
            .into());
    }
    let (count, warnings) = crate::ffi::cuda_device_count();
    let detail = if warnings.is_empty() { String::new() } else { format!(": {}", warnings.trim()) };
    match usize::try_from(count).unwrap_or(0) {
        0 => Err(format!("CUDA support is present but no GPU or driver was found{detail}")),
        n if index >= n => Err(format!("only {n} GPU(s) were found (cuda:0 to cuda:{}) for {request}", n - 1)),
        _ => Ok(Device::Cuda(index)),
    }
}

/// Whether `libtorch_cuda.so` is loaded in this process (read from `/proc/self/maps`).
///
/// ```
/// let _ = tch_rnn::device::select("cpu")?;
/// assert!(!tch_rnn::device::cuda_library_loaded());
/// # anyhow::Ok(())
/// ```
pub fn cuda_library_loaded() -> bool {
    loaded_library("libtorch_cuda.so").is_some()
}

/// The version of the libtorch this process runs on, as `(major, minor, patch)`: the one the
/// crate was built against (2.13.0 or 2.11.0, see the library page of the docs). Where PyTorch's
/// own Python code changed between the two, the modules follow the version in use.
///
/// ```
/// let (major, minor, _) = tch_rnn::device::libtorch_version();
/// assert_eq!(major, 2);
/// assert!(minor >= 11);
/// ```
pub fn libtorch_version() -> (u32, u32, u32) {
    crate::ffi::libtorch_version()
}

/// The instruction set ATen dispatches its CPU kernels to in this process: `"DEFAULT"`,
/// `"AVX2"` or `"AVX512"` on x86-64 (the `ATEN_CPU_CAPABILITY` environment variable can lower
/// it), as Python's `torch.backends.cpu.get_cpu_capability()` reports it. Floating-point
/// results can differ in the last bits from one capability to another.
///
/// ```
/// let capability = tch_rnn::device::cpu_capability();
/// assert!(!capability.is_empty(), "DEFAULT, AVX2, AVX512, ...");
/// ```
pub fn cpu_capability() -> String {
    crate::ffi::cpu_capability()
}

/// The number of CUDA GPUs ATen sees, and the warnings libtorch raised while looking (collected
/// instead of printed, e.g. that no NVIDIA driver was found). This is a CUDA query: call
/// [`select`] with `cuda` or `auto` before it, or ATen never loads CUDA in this process (see the
/// module's documentation) and this counts 0.
///
/// ```
/// let device = tch_rnn::device::select("auto")?;
/// let (gpus, warnings) = tch_rnn::device::cuda_device_count();
/// assert_eq!(device.is_cuda(), gpus > 0, "{warnings}");
/// # anyhow::Ok(())
/// ```
pub fn cuda_device_count() -> (i64, String) {
    crate::ffi::cuda_device_count()
}

/// The path of a loaded shared library called `name`, from `/proc/self/maps`.
fn loaded_library(name: &str) -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| path.rsplit('/').next() == Some(name))
        .map(PathBuf::from)
}

/// Loads `libtorch_cuda.so` from the folder of the `libtorch_cpu.so` in use, once per process;
/// its static initialisers register ATen's CUDA hooks.
pub(crate) fn load_cuda_library() -> Result<(), String> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            if cuda_library_loaded() {
                return Ok(());
            }
            let cpu = loaded_library("libtorch_cpu.so").ok_or("libtorch_cpu.so is not loaded in this process")?;
            let folder = cpu.parent().map(PathBuf::from).unwrap_or_default();
            let cuda = folder.join("libtorch_cuda.so");
            if !cuda.exists() {
                return Err(format!(
                    "the libtorch in {} is a CPU-only build (it has no libtorch_cuda.so)",
                    folder.display()
                ));
            }
            crate::ffi::dynamic::open(&cuda, true)
                .map(drop)
                .map_err(|why| format!("libtorch's CUDA library could not be loaded: {why}"))
        })
        .clone()
}
