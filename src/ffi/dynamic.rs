//! Loading a shared library at run time (`dlopen`), for what the crate loads only when asked:
//! libtorch's CUDA library ([`crate::device`]) and the NCCL backend ([`super::nccl`]).

use std::ffi::{CStr, CString};
use std::os::raw::c_void;
use std::path::Path;

/// Loads `path` (resolving every symbol now); with `global`, its symbols serve the libraries
/// loaded after it. `Err` holds the loader's message.
pub fn open(path: &Path, global: bool) -> Result<*mut c_void, String> {
    let name = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    let flags = libc::RTLD_NOW | if global { libc::RTLD_GLOBAL } else { libc::RTLD_LOCAL };
    // SAFETY: a valid C string; dlerror is read right after the failed call.
    let handle = unsafe { libc::dlopen(name.as_ptr(), flags) };
    if handle.is_null() { Err(last_error()) } else { Ok(handle) }
}

/// The address of `symbol` in the library `handle`.
#[cfg_attr(not(tch_rnn_distributed), allow(dead_code))]
pub fn symbol(handle: *mut c_void, symbol: &CStr) -> Result<*mut c_void, String> {
    // SAFETY: a handle from `open` and a valid C string.
    let address = unsafe { libc::dlsym(handle, symbol.as_ptr()) };
    if address.is_null() { Err(last_error()) } else { Ok(address) }
}

/// dlerror's message.
fn last_error() -> String {
    // SAFETY: dlerror returns null or a C string valid until the next dl call of this thread.
    let why = unsafe { libc::dlerror() };
    if why.is_null() { "unknown error".into() } else { unsafe { CStr::from_ptr(why) }.to_string_lossy().into_owned() }
}
