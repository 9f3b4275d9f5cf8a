//! SHA-256 digests as the lowercase hex text that checkpoints (`state.json`) and sealed
//! state_dicts (their safetensors metadata) record.

use sha2::{Digest, Sha256};

/// Lowercase hex digits of `bytes` (a finished digest).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `bytes`, in lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
