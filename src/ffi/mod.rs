//! Safe wrappers over the C++ shim (`autograd_shim.cpp`) for the few libtorch calls that tch
//! does not expose.

use std::os::raw::{c_char, c_void};

use anyhow::{Result, bail};
use tch::Tensor;

unsafe extern "C" {
    fn tch_rnn_grad_fn_name(tensor: *const c_void, buf: *mut c_char, cap: usize) -> usize;
    fn tch_rnn_cpu_capability(buf: *mut c_char, cap: usize) -> usize;
    fn tch_rnn_cuda_hooks_loaded() -> i32;
    fn tch_rnn_clear_grad(tensor: *mut c_void);
    fn tch_rnn_tensor_impl(tensor: *const c_void) -> *const c_void;
    fn tch_rnn_vector_norm(this: *const c_void, ord: f64, out: *mut *mut c_void, err: *mut c_char, cap: usize)
    -> usize;
    fn tch_rnn_rng_get_state(cuda: i32, index: i32, out: *mut *mut c_void, err: *mut c_char, cap: usize) -> usize;
    fn tch_rnn_rng_set_state(cuda: i32, index: i32, state: *const c_void, err: *mut c_char, cap: usize) -> usize;
    fn tch_rnn_cuda_device_count(buf: *mut c_char, cap: usize, len: *mut usize) -> i64;
    fn tch_rnn_addcmul_(
        this: *mut c_void,
        t1: *const c_void,
        t2: *const c_void,
        value: f64,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_add_alpha(
        this: *const c_void,
        other: *const c_void,
        alpha: f64,
        out: *mut *mut c_void,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
    fn tch_rnn_addcdiv_(
        this: *mut c_void,
        t1: *const c_void,
        t2: *const c_void,
        value: f64,
        err: *mut c_char,
        cap: usize,
    ) -> usize;
}

/// Calls a shim function that writes a string of unknown length into a buffer and returns its
/// full length, retrying once with a buffer large enough.
fn read_string(mut call: impl FnMut(*mut c_char, usize) -> usize) -> String {
    let mut buf = vec![0u8; 128];
    let mut len = call(buf.as_mut_ptr().cast(), buf.len());
    if len > buf.len() {
        buf.resize(len, 0);
        len = call(buf.as_mut_ptr().cast(), buf.len());
    }
    buf.truncate(len.min(buf.len()));
    String::from_utf8_lossy(&buf).into_owned()
}

/// The name of the autograd node that produced `tensor`, as Python shows it in
/// `grad_fn=<TanhBackward0>`; `None` for leaves and tensors that do not require grad.
///
/// ```
/// let x = tch::Tensor::ones([2], (tch::Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
/// assert_eq!(tch_rnn::grad_fn_name(&x), None);
/// assert_eq!(tch_rnn::grad_fn_name(&x.tanh()).as_deref(), Some("TanhBackward0"));
/// ```
pub fn grad_fn_name(tensor: &Tensor) -> Option<String> {
    let ptr = tensor.as_ptr() as *const c_void;
    let name = read_string(|buf, cap| unsafe { tch_rnn_grad_fn_name(ptr, buf, cap) });
    (!name.is_empty()).then_some(name)
}

/// The instruction set ATen dispatches its CPU kernels to in this process: `"DEFAULT"`,
/// `"AVX2"` or `"AVX512"` on x86-64 (the `ATEN_CPU_CAPABILITY` environment variable can lower
/// it), as Python's `torch.backends.cpu.get_cpu_capability()` reports it. Floating-point
/// results can differ in the last bits from one capability to another.
///
/// ```
/// let capability = tch_rnn::ffi::cpu_capability();
/// assert!(!capability.is_empty());
/// ```
pub fn cpu_capability() -> String {
    read_string(|buf, cap| unsafe { tch_rnn_cpu_capability(buf, cap) })
}

/// Whether ATen's CUDA hooks are libtorch_cuda's. ATen fixes them at the first CUDA query of the
/// process (this call is one): if `libtorch_cuda.so` was not loaded by then, CUDA stays off for
/// good. Use [`crate::device`] rather than this.
///
/// ```no_run
/// assert!(!tch_rnn::ffi::cuda_hooks_loaded()); // in a CPU-only process
/// ```
pub fn cuda_hooks_loaded() -> bool {
    unsafe { tch_rnn_cuda_hooks_loaded() != 0 }
}

/// The number of CUDA GPUs ATen sees, and the warnings libtorch raised while looking (collected
/// instead of printed, e.g. that no NVIDIA driver was found).
///
/// ```no_run
/// let (gpus, warnings) = tch_rnn::ffi::cuda_device_count();
/// println!("{gpus} GPU(s) {warnings}");
/// ```
pub fn cuda_device_count() -> (i64, String) {
    let mut count = 0;
    let warnings = read_string(|buf, cap| {
        let mut len = 0;
        count = unsafe { tch_rnn_cuda_device_count(buf, cap, &mut len) };
        len
    });
    (count, warnings)
}

/// `torch.linalg.vector_norm(t, ord)` over all elements, which tch does not expose.
///
/// ```
/// let t = tch::Tensor::from_slice(&[3.0f32, 4.0]);
/// assert_eq!(tch_rnn::ffi::vector_norm(&t, 2.0)?.double_value(&[]), 5.0);
/// # anyhow::Ok(())
/// ```
pub fn vector_norm(t: &Tensor, ord: f64) -> Result<Tensor> {
    let this = t.as_ptr() as *const c_void;
    let mut result: *mut c_void = std::ptr::null_mut();
    let message = read_string(|err, cap| unsafe { tch_rnn_vector_norm(this, ord, &mut result, err, cap) });
    if !message.is_empty() || result.is_null() {
        bail!("vector_norm: {}", message.lines().next().unwrap_or_default());
    }
    // SAFETY: the shim returns a heap-allocated at::Tensor that nobody else owns.
    Ok(unsafe { Tensor::from_ptr(result.cast()) })
}

/// `tensor.grad = None`: what `optimizer.zero_grad()` does in PyTorch (`set_to_none=True`).
/// The next backward stores its gradient rather than adding it to a zeroed one (tch's
/// `zero_grad` keeps the old gradient and zeroes it: a memset and an addition more per step).
///
/// ```
/// use tch::{Kind, Tensor};
/// let mut w = Tensor::ones([2], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
/// w.sum(Kind::Float).backward();
/// tch_rnn::ffi::clear_grad(&mut w);
/// assert!(!w.grad().defined());
/// ```
pub fn clear_grad(tensor: &mut Tensor) {
    unsafe { tch_rnn_clear_grad(tensor.as_mut_ptr() as *mut c_void) }
}

/// Whether `a` and `b` are the same tensor (not merely equal, nor views of one storage):
/// Python's `a is b` for parameters. tch's `shallow_clone` gives another handle to the same
/// tensor.
///
/// ```
/// let w = tch::Tensor::ones([2], tch::kind::FLOAT_CPU);
/// assert!(tch_rnn::ffi::same_tensor(&w, &w.shallow_clone()));
/// assert!(!tch_rnn::ffi::same_tensor(&w, &w.view([2])));
/// ```
pub fn same_tensor(a: &Tensor, b: &Tensor) -> bool {
    // SAFETY: both handles are live tensors; only their TensorImpl pointers are read.
    unsafe { tch_rnn_tensor_impl(a.as_ptr() as *const c_void) == tch_rnn_tensor_impl(b.as_ptr() as *const c_void) }
}

/// `(cuda, index)` for the shim's generator functions; only the CPU and CUDA have one here.
fn generator_of(device: tch::Device) -> Result<(i32, i32)> {
    match device {
        tch::Device::Cpu => Ok((0, 0)),
        tch::Device::Cuda(index) => Ok((1, index as i32)),
        other => bail!("rng state: no default generator for {other:?} here"),
    }
}

/// The state of `device`'s default random generator, a uint8 tensor: `torch.get_rng_state()`
/// for the CPU, `torch.cuda.get_rng_state(i)` for `Cuda(i)`.
///
/// ```
/// use tch::{Device, Kind, Tensor};
/// tch::manual_seed(3);
/// let state = tch_rnn::ffi::rng_state(Device::Cpu)?;
/// let a = Tensor::rand([4], (Kind::Float, Device::Cpu));
/// tch_rnn::ffi::set_rng_state(Device::Cpu, &state)?;
/// assert!(a.equal(&Tensor::rand([4], (Kind::Float, Device::Cpu))));
/// # anyhow::Ok(())
/// ```
pub fn rng_state(device: tch::Device) -> Result<Tensor> {
    let (cuda, index) = generator_of(device)?;
    let mut result: *mut c_void = std::ptr::null_mut();
    let message = read_string(|err, cap| unsafe { tch_rnn_rng_get_state(cuda, index, &mut result, err, cap) });
    if !message.is_empty() || result.is_null() {
        bail!("rng state of {device:?}: {message}");
    }
    // SAFETY: the shim returns a heap-allocated at::Tensor that nobody else owns.
    Ok(unsafe { Tensor::from_ptr(result.cast()) })
}

/// Restores a state taken by [`rng_state`] into `device`'s default generator (an error, not a
/// crash, when the state is not one).
///
/// ```
/// use tch::Device;
/// let state = tch_rnn::ffi::rng_state(Device::Cpu)?;
/// tch_rnn::ffi::set_rng_state(Device::Cpu, &state)?;
/// assert!(tch_rnn::ffi::set_rng_state(Device::Cpu, &tch::Tensor::from_slice(&[1u8, 2])).is_err());
/// # anyhow::Ok(())
/// ```
pub fn set_rng_state(device: tch::Device, state: &Tensor) -> Result<()> {
    let (cuda, index) = generator_of(device)?;
    let state_ptr = state.as_ptr() as *const c_void;
    let message = read_string(|err, cap| unsafe { tch_rnn_rng_set_state(cuda, index, state_ptr, err, cap) });
    if !message.is_empty() {
        bail!("rng state of {device:?}: {}", message.lines().next().unwrap_or_default());
    }
    Ok(())
}

type PointwiseFn = unsafe extern "C" fn(*mut c_void, *const c_void, *const c_void, f64, *mut c_char, usize) -> usize;

fn pointwise_(op: PointwiseFn, name: &str, this: &mut Tensor, t1: &Tensor, t2: &Tensor, value: f64) -> Result<()> {
    let (this, t1, t2) = (this.as_mut_ptr() as *mut c_void, t1.as_ptr() as *const c_void, t2.as_ptr() as *const c_void);
    let message = read_string(|err, cap| unsafe { op(this, t1, t2, value, err, cap) });
    if !message.is_empty() {
        bail!("{name}: {message}");
    }
    Ok(())
}

/// In place `this += value * t1 * t2`, libtorch's `addcmul_` with its `value` argument.
///
/// ```
/// use tch::{Kind, Device, Tensor};
/// let mut acc = Tensor::zeros([2], (Kind::Float, Device::Cpu));
/// let two = Tensor::from_slice(&[2.0f32, 2.0]);
/// tch_rnn::ffi::addcmul_(&mut acc, &two, &two, 0.5).unwrap();
/// assert_eq!(Vec::<f32>::try_from(&acc).unwrap(), [2.0, 2.0]);
/// ```
pub fn addcmul_(this: &mut Tensor, t1: &Tensor, t2: &Tensor, value: f64) -> Result<()> {
    pointwise_(tch_rnn_addcmul_, "addcmul_", this, t1, t2, value)
}

/// In place `this += value * t1 / t2`, libtorch's `addcdiv_` with its `value` argument.
///
/// ```
/// use tch::{Kind, Device, Tensor};
/// let mut acc = Tensor::zeros([2], (Kind::Float, Device::Cpu));
/// let (six, two) = (Tensor::from_slice(&[6.0f32, 6.0]), Tensor::from_slice(&[2.0f32, 2.0]));
/// tch_rnn::ffi::addcdiv_(&mut acc, &six, &two, -1.0).unwrap();
/// assert_eq!(Vec::<f32>::try_from(&acc).unwrap(), [-3.0, -3.0]);
/// ```
pub fn addcdiv_(this: &mut Tensor, t1: &Tensor, t2: &Tensor, value: f64) -> Result<()> {
    pointwise_(tch_rnn_addcdiv_, "addcdiv_", this, t1, t2, value)
}

/// `this + alpha * other` as a new tensor: libtorch's `add(other, alpha=alpha)`, a single kernel
/// (tch's `add` has no `alpha`, and `this + other * alpha` rounds differently).
///
/// ```
/// use tch::Tensor;
/// let (a, b) = (Tensor::from_slice(&[1.0f32, 2.0]), Tensor::from_slice(&[10.0f32, 20.0]));
/// let sum = tch_rnn::ffi::add_alpha(&a, &b, 0.5).unwrap();
/// assert_eq!(Vec::<f32>::try_from(&sum).unwrap(), [6.0, 12.0]);
/// ```
pub fn add_alpha(this: &Tensor, other: &Tensor, alpha: f64) -> Result<Tensor> {
    let (this, other) = (this.as_ptr() as *const c_void, other.as_ptr() as *const c_void);
    let mut result: *mut c_void = std::ptr::null_mut();
    let message = read_string(|err, cap| unsafe { tch_rnn_add_alpha(this, other, alpha, &mut result, err, cap) });
    if !message.is_empty() || result.is_null() {
        bail!("add: {message}");
    }
    // SAFETY: the shim returns a heap-allocated at::Tensor that nobody else owns.
    Ok(unsafe { Tensor::from_ptr(result.cast()) })
}
