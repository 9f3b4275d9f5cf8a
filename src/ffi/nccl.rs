//! libtorch's NCCL backend (`nccl.cpp`): a shared library of its own, `libtch_rnn_nccl.so`,
//! linked against `libtorch_cuda.so` and loaded only when a process group asks for NCCL, so
//! that nothing else ever loads CUDA. build.rs builds it when libtorch is a CUDA build and
//! nccl.h and CUDA's headers are there.

use std::os::raw::{c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::dynamic::{open, symbol};

/// The library's file name.
pub const LIBRARY: &str = "libtch_rnn_nccl.so";

/// `tch_rnn_nccl_backend_new` (nccl.cpp): a ProcessGroupNCCL for a rank of a world on a store,
/// within a timeout in milliseconds; 0 or the length of the error written into `(err, cap)`.
pub type Factory = unsafe extern "C" fn(
    store: *const c_void,
    rank: c_int,
    world: c_int,
    timeout_ms: i64,
    out: *mut *mut c_void,
    err: *mut c_char,
    cap: usize,
) -> usize;

/// The NCCL backend's factory, from the library loaded once per process (the caller loads
/// `libtorch_cuda.so` first, see [`crate::device`]); `Err` says why there is none.
pub fn factory() -> Result<Factory, String> {
    static FACTORY: OnceLock<Result<Factory, String>> = OnceLock::new();
    FACTORY.get_or_init(|| load(&library()?)).clone()
}

/// Where the library is: `TCH_RNN_NCCL_LIBRARY`, else beside the running program (as in the
/// GPU bundle), else where build.rs built it.
fn library() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("TCH_RNN_NCCL_LIBRARY") {
        return Ok(path.into());
    }
    let beside = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(LIBRARY)));
    match (beside.filter(|path| path.exists()), option_env!("TCH_RNN_NCCL_BUILT")) {
        (Some(path), _) => Ok(path),
        (None, Some(built)) => Ok(built.into()),
        (None, None) => match option_env!("TCH_RNN_NCCL_BUILD_ERROR") {
            Some(why) => Err(format!("this build has no NCCL backend: {why}")),
            None => Err(NOT_BUILT.into()),
        },
    }
}

/// Why this build has no NCCL backend, and how to get one.
const NOT_BUILT: &str = "this build has no NCCL backend (it needs a CUDA build of libtorch, nccl.h and CUDA's headers \
when it is compiled; `bash scripts/setup.sh` fetches them): use the gloo backend";

/// Loads `path` and finds the factory in it.
fn load(path: &Path) -> Result<Factory, String> {
    let handle = open(path, false).map_err(|why| format!("the NCCL backend's library could not be loaded: {why}"))?;
    let address = symbol(handle, c"tch_rnn_nccl_backend_new").map_err(|why| format!("{}: {why}", path.display()))?;
    // SAFETY: the symbol is nccl.cpp's function, of this signature.
    Ok(unsafe { std::mem::transmute::<*mut c_void, Factory>(address) })
}
