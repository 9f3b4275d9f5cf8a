//! What stands in for `distributed.rs` in a build without gloo's headers: the same
//! functions, every one of which refuses with [`NOT_BUILT`]. Its handle types have no values,
//! so nothing past a refused constructor can run.

use std::time::Duration;

use tch::Tensor;

/// Refuses with [`NOT_BUILT`]: this build has no distributed support.
pub fn check_available() -> Result<(), String> {
    Err(NOT_BUILT.into())
}

/// Refuses with [`NOT_BUILT`].
pub fn nccl_available() -> Result<(), String> {
    Err(NOT_BUILT.into())
}

/// Why nothing distributed works in this build, and how to get it.
pub const NOT_BUILT: &str = match option_env!("TCH_RNN_DISTRIBUTED_BUILD_ERROR") {
    Some(_) => {
        "this build has no distributed support: src/ffi/distributed.cpp did not compile against gloo's headers \
(cargo build -vv shows why)"
    }
    None => {
        "this build has no distributed support (gloo's headers were missing when it was compiled): \
run `bash scripts/setup.sh` (it fetches Debian's libgloo-dev headers into .venv/gloo) and rebuild"
    }
};

/// No process group can exist in this build.
pub enum RawGroup {}

impl RawGroup {
    /// Refuses with [`NOT_BUILT`].
    pub fn new(_: &str, _: u16, _: usize, _: usize, _: bool, _: bool, _: Duration) -> Result<Self, String> {
        Err(NOT_BUILT.into())
    }

    /// Unreachable: no group exists.
    pub fn shutdown(&self) -> Result<(), String> {
        match *self {}
    }

    /// Unreachable: no group exists.
    pub fn allreduce(&self, _: &[Tensor]) -> Result<(), String> {
        match *self {}
    }

    /// Unreachable: no group exists.
    pub fn broadcast(&self, _: &Tensor, _: usize) -> Result<(), String> {
        match *self {}
    }

    /// Unreachable: no group exists.
    pub fn broadcast_coalesced(&self, _: &[Tensor], _: usize, _: usize) -> Result<(), String> {
        match *self {}
    }

    /// Unreachable: no group exists.
    pub fn barrier(&self) -> Result<(), String> {
        match *self {}
    }

    /// Unreachable: no group exists.
    pub fn verify_params(&self, _: &[Tensor]) -> Result<(), String> {
        match *self {}
    }

    /// Unreachable: no group exists.
    pub fn store_set(&self, _: &str, _: &str) -> Result<(), String> {
        match *self {}
    }

    /// Unreachable: no group exists.
    pub fn store_check(&self, _: &str) -> Result<bool, String> {
        match *self {}
    }
}

/// Refuses with [`NOT_BUILT`].
pub fn bucket_assignment(_: &[Tensor], _: &[usize], _: Option<&[usize]>) -> Result<Vec<Vec<usize>>, String> {
    Err(NOT_BUILT.into())
}

/// Refuses with [`NOT_BUILT`].
pub fn default_bucket_bytes() -> Result<(usize, usize), String> {
    Err(NOT_BUILT.into())
}

/// No recorder can exist in this build.
pub enum ReadyOrder {}

impl ReadyOrder {
    /// Refuses with [`NOT_BUILT`].
    pub fn new(_: &[Tensor]) -> Result<Self, String> {
        Err(NOT_BUILT.into())
    }

    /// Unreachable: no recorder exists.
    pub fn read(&self) -> Vec<usize> {
        match *self {}
    }
}
