//! MultiheadAttention in tch's world: its parameters live in a `tch::nn::VarStore` like any tch
//! layer's (freeze, dtype changes, tch's own save / load / copy, tch's optimizers), and it is a
//! `tch::nn::Module` (self-attention, as `TransformerEncoderLayer` calls it) that composes with
//! tch's `Sequential` and our layers.

use tch::nn::{Module, OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{AttentionOptions, Linear, MultiheadAttention, MultiheadAttentionConfig};

fn config() -> MultiheadAttentionConfig {
    MultiheadAttentionConfig { batch_first: true, ..MultiheadAttentionConfig::new(8, 2) }
}

#[test]
fn the_module_call_is_self_attention_without_weights() {
    tch::manual_seed(1);
    let vs = VarStore::new(Device::Cpu);
    let attn = MultiheadAttention::new(vs.root() / "attn", config()).unwrap();
    let x = Tensor::randn([3, 5, 8], (Kind::Float, Device::Cpu));
    let options = AttentionOptions { need_weights: false, ..Default::default() };
    let (expected, weights) = attn.forward(&x, &x, &x, &options).unwrap();
    assert!(weights.is_none());
    assert!(x.apply(&attn).equal(&expected));
}

#[test]
fn it_composes_with_tchs_sequential() {
    tch::manual_seed(2);
    let vs = VarStore::new(Device::Cpu);
    let root = vs.root();
    let fc = Linear::new(&root / "fc", 4, 8, Default::default()).unwrap();
    let attn = MultiheadAttention::new(&root / "attn", config()).unwrap();
    let x = Tensor::randn([2, 6, 4], (Kind::Float, Device::Cpu));
    let h = x.apply(&fc);
    let options = AttentionOptions { need_weights: false, ..Default::default() };
    let expected = attn.forward(&h, &h, &h, &options).unwrap().0.relu();
    let model = tch::nn::seq().add(fc).add(attn).add_fn(|xs| xs.relu());
    assert!(model.forward(&x).equal(&expected));
}

#[test]
fn its_parameters_are_the_var_stores() {
    tch::manual_seed(3);
    let mut vs = VarStore::new(Device::Cpu);
    let attn = MultiheadAttention::new(vs.root() / "attn", MultiheadAttentionConfig { add_bias_kv: true, ..config() })
        .unwrap();
    let mut names: Vec<String> = vs.variables().into_keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "attn.bias_k",
            "attn.bias_v",
            "attn.in_proj_bias",
            "attn.in_proj_weight",
            "attn.out_proj.bias",
            "attn.out_proj.weight"
        ]
    );
    assert_eq!(vs.trainable_variables().len(), 6);
    vs.freeze();
    assert!(attn.named_parameters().iter().all(|(_, t)| !t.requires_grad()), "freeze reaches the module's tensors");
    vs.unfreeze();
    vs.set_kind(Kind::Double);
    assert!(
        attn.named_parameters().iter().all(|(_, t)| t.kind() == Kind::Double),
        "set_kind reaches the module's tensors"
    );
    let x = Tensor::randn([2, 4, 8], (Kind::Double, Device::Cpu));
    let (y, _) = attn.forward(&x, &x, &x, &AttentionOptions::default()).unwrap();
    assert_eq!(y.kind(), Kind::Double);
}

#[test]
fn tchs_save_load_and_copy_carry_it() {
    let x = Tensor::randn([2, 4, 8], (Kind::Float, Device::Cpu));
    tch::manual_seed(4);
    let vs = VarStore::new(Device::Cpu);
    let attn = MultiheadAttention::new(vs.root(), config()).unwrap();
    let dir = std::env::temp_dir().join(format!("tch-rnn-attention-drop-in-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("attn.safetensors");
    vs.save(&path).unwrap();

    tch::manual_seed(5);
    let mut loaded = VarStore::new(Device::Cpu);
    let other = MultiheadAttention::new(loaded.root(), config()).unwrap();
    let output = |a: &MultiheadAttention| a.forward(&x, &x, &x, &AttentionOptions::default()).unwrap().0;
    assert!(!output(&other).equal(&output(&attn)));
    loaded.load(&path).unwrap();
    assert!(output(&other).equal(&output(&attn)), "tch's load");

    tch::manual_seed(6);
    let mut copied = VarStore::new(Device::Cpu);
    let third = MultiheadAttention::new(copied.root(), config()).unwrap();
    copied.copy(&vs).unwrap();
    assert!(output(&third).equal(&output(&attn)), "tch's copy");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tchs_optimizers_train_it() {
    tch::manual_seed(7);
    let vs = VarStore::new(Device::Cpu);
    let attn = MultiheadAttention::new(vs.root(), config()).unwrap();
    let mut optimizer = tch::nn::Adam::default().build(&vs, 0.05).unwrap();
    let (x, target) =
        (Tensor::randn([4, 5, 8], (Kind::Float, Device::Cpu)), Tensor::randn([4, 5, 8], (Kind::Float, Device::Cpu)));
    let loss = || (x.apply(&attn) - &target).square().mean(Kind::Float);
    let first = loss().double_value(&[]);
    for _ in 0..30 {
        optimizer.backward_step(&loss());
    }
    let last = loss().double_value(&[]);
    assert!(last < 0.8 * first, "30 Adam steps took the loss from {first} to {last}");
}
