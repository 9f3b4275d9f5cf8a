//! Any bytes loaded as the state_dict of a small LSTM: an error that leaves the model as it
//! was, or a load of tensors that fit it.
#![no_main]

use tch::{Device, nn::VarStore};
use tch_rnn::nn::{Lstm, LstmConfig, load_tensors};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(tensors) = tch_rnn::safetensors::parse(data) else { return };
    let mut vs = VarStore::new(Device::Cpu);
    let config = LstmConfig { input_size: 3, hidden_size: 4, num_layers: 2, proj_size: 2, ..Default::default() };
    let _lstm = Lstm::new(vs.root(), config).expect("a valid config");
    let before: Vec<_> = vs.variables().into_iter().map(|(n, t)| (n, t.copy())).collect();
    if load_tensors(&mut vs, &tensors, "fuzz").is_err() {
        let after = vs.variables();
        for (name, value) in before {
            assert!(after[&name].equal(&value), "a failed load changed {name}");
        }
    }
});
