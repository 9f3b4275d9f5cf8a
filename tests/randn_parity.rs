//! tch's `Tensor::randn` after `tch::manual_seed(s)` equals PyTorch's
//! `torch.manual_seed(s); torch.randn(3, 1, 4)` bit for bit.
//! Fixture: tests/fixtures/randn.safetensors, from scripts/export_randn.py.

mod common;

use tch::{Device, Kind, Tensor};

#[test]
fn randn_matches_pytorch_bit_for_bit() {
    let path = common::fixtures_root().join("randn.safetensors");
    assert!(
        path.exists(),
        "missing fixture {}: run scripts/regenerate-fixtures.sh (scripts/export_randn.py)",
        path.display()
    );
    let expected = Tensor::read_safetensors(&path).expect("readable fixture");
    assert!(expected.len() >= 3, "the fixture should hold several seeds, got {}", expected.len());
    for (name, want) in expected {
        let seed: i64 = name.strip_prefix("seed_").and_then(|s| s.parse().ok()).expect("key seed_<s>");
        tch::manual_seed(seed);
        let got = Tensor::randn([3, 1, 4], (Kind::Float, Device::Cpu));
        assert_eq!(got.size(), want.size(), "seed {seed}: shape");
        let (got, want) =
            (Vec::<f32>::try_from(got.flatten(0, -1)).unwrap(), Vec::<f32>::try_from(want.flatten(0, -1)).unwrap());
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want), "seed {seed}: randn differs from PyTorch");
    }
}
