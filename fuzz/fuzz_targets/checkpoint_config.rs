//! Any bytes parsed as a checkpoint's config.json: an error or a checked config, never a
//! panic; a config that parses builds its model (for a vocabulary of the config's first
//! byte's size) or says why not.
#![no_main]

use tch::{Device, nn::VarStore};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(config) = tch_rnn::charlm::parse_config(data) {
        let vs = VarStore::new(Device::Cpu);
        let vocab_size = i64::from(data.first().copied().unwrap_or(0));
        let _ = tch_rnn::charlm::CharModel::new(&vs.root(), &config.model, vocab_size);
    }
});
