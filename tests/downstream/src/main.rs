//! A small RNN from tch-rnn, run on a fixed input: prints the final hidden state as torch would.

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{Rnn, RnnConfig};
use tch_rnn::repr::Repr;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tch::manual_seed(0);
    let vs = VarStore::new(Device::Cpu);
    let rnn = Rnn::new(vs.root() / "rnn", RnnConfig { input_size: 3, hidden_size: 2, ..Default::default() })?;
    let x = Tensor::arange(6, (Kind::Float, Device::Cpu)).view([2, 1, 3]) / 6.0;
    let (_, h_n) = rnn.forward(&x, None)?;
    println!("h_n: {}", Repr(&h_n));
    Ok(())
}
