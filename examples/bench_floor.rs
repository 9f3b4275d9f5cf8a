//! The floor of scripts/bench.py's whole-process timings: a program that loads libtorch and runs
//! one trivial op, so that a tutorial program's time above it is what the program itself costs.

fn main() {
    let one = tch::Tensor::ones([1], (tch::Kind::Float, tch::Device::Cpu));
    println!("{}", (&one + &one).double_value(&[0]));
}
