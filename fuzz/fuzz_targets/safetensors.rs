//! Any bytes given to the safetensors reader: an error or tensors, never a panic, an abort, a
//! hang or an allocation the bytes do not justify.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tch_rnn::safetensors::parse(data);
});
