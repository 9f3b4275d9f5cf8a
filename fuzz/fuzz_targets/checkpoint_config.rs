//! Any bytes parsed as a checkpoint's config.json: an error or a checked config, never a
//! panic; a config that parses builds its model or says why not.
#![no_main]

use tch::{Device, nn::VarStore};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(config) = tch_rnn::charlm::parse_config(data) {
        let vs = VarStore::new(Device::Cpu);
        let _ = tch_rnn::charlm::CharModel::new(&vs.root(), config.model);
    }
});
