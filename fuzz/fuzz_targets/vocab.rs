//! Any bytes parsed as a checkpoint's vocab.json: an error or a vocabulary, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tch_rnn::charlm::parse_vocab(data);
});
