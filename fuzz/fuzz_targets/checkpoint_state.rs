//! Any bytes parsed as a checkpoint's state.json: an error or a state, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tch_rnn::charlm::parse_state(data);
});
