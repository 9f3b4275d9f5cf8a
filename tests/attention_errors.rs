//! MultiheadAttention's bad configurations and bad inputs return `Err` on one line that names
//! the module and says what was expected and what came (PyTorch's message where PyTorch has
//! one), never a panic or libtorch's text; a failed constructor registers nothing.

mod common;

use common::{check_err as check, randn};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tch_rnn::nn::{AttentionOptions, MultiheadAttention, MultiheadAttentionConfig};

const CPU: Device = Device::Cpu;
const MODULE: &str = "MultiheadAttention";

fn attention(vs: &VarStore, config: MultiheadAttentionConfig) -> MultiheadAttention {
    MultiheadAttention::new(vs.root(), config).expect("valid config")
}

/// `MultiheadAttention(8, 2)`, sequence-first.
fn default_attention(vs: &VarStore) -> MultiheadAttention {
    attention(vs, MultiheadAttentionConfig::new(8, 2))
}

fn forward(
    attn: &MultiheadAttention,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    options: AttentionOptions,
) -> anyhow::Result<(Tensor, Option<Tensor>)> {
    attn.forward(q, k, v, &options)
}

#[test]
fn bad_configurations_are_refused() {
    let new = |config| {
        let vs = VarStore::new(CPU);
        let result = MultiheadAttention::new(vs.root(), config).map(|_| ());
        assert_eq!(vs.len(), 0, "a failed constructor registered parameters");
        result
    };
    let c = MultiheadAttentionConfig::new;
    check(
        "embed_dim 0",
        MODULE,
        &["embed_dim and num_heads must be greater than 0, got embed_dim=0 and num_heads=2 instead"],
        || new(c(0, 2)),
    );
    check("num_heads 0", MODULE, &["got embed_dim=8 and num_heads=0"], || new(c(8, 0)));
    check("negative heads", MODULE, &["num_heads=-2"], || new(c(8, -2)));
    check("Default leaves the required sizes at 0", MODULE, &["must be greater than 0"], || new(Default::default()));
    check(
        "heads do not divide",
        MODULE,
        &["embed_dim must be divisible by num_heads", "embed_dim=6 and num_heads=4"],
        || new(c(6, 4)),
    );
    check("kdim 0", MODULE, &["kdim must be greater than 0, got 0"], || {
        new(MultiheadAttentionConfig { kdim: Some(0), ..c(4, 1) })
    });
    check("vdim negative", MODULE, &["vdim must be greater than 0, got -3"], || {
        new(MultiheadAttentionConfig { vdim: Some(-3), ..c(4, 1) })
    });
    check("dropout 1.5", MODULE, &["dropout probability has to be between 0 and 1, but got 1.5"], || {
        new(MultiheadAttentionConfig { dropout: 1.5, ..c(4, 1) })
    });
    check("dropout NaN", MODULE, &["dropout probability", "NaN"], || {
        new(MultiheadAttentionConfig { dropout: f64::NAN, ..c(4, 1) })
    });
    check("sizes overflow", MODULE, &["overflow"], || new(c(i64::MAX / 2, 1)));
}

#[test]
fn a_taken_name_registers_nothing() {
    let vs = VarStore::new(CPU);
    let _first = attention(&vs, MultiheadAttentionConfig::new(4, 1));
    let before = vs.len();
    check("same path twice", MODULE, &["'out_proj.weight' already exists"], || {
        MultiheadAttention::new(
            vs.root(),
            MultiheadAttentionConfig { bias: false, ..MultiheadAttentionConfig::new(4, 1) },
        )
    });
    assert_eq!(vs.len(), before);
    // Only the module's own name is taken: out_proj (drawn first) must not be registered either.
    let vs = VarStore::new(CPU);
    let _ = vs.root().sub("attn").zeros("in_proj_weight", &[1]);
    check("own name taken", MODULE, &["'attn.in_proj_weight' already exists"], || {
        MultiheadAttention::new(vs.root() / "attn", MultiheadAttentionConfig::new(4, 1))
    });
    assert_eq!(vs.len(), 1, "out_proj was registered by a failed constructor");
    let vs = VarStore::new(CPU);
    let _ = vs.root().sub("attn").sub("out_proj").zeros("bias", &[1]);
    check("out_proj name taken", MODULE, &["'attn.out_proj.bias' already exists"], || {
        MultiheadAttention::new(vs.root() / "attn", MultiheadAttentionConfig::new(4, 1))
    });
    assert_eq!(vs.len(), 1);
}

#[test]
fn inputs_of_the_wrong_rank_are_refused() {
    let vs = VarStore::new(CPU);
    let attn = default_attention(&vs);
    let d = AttentionOptions::default;
    let x4 = randn(&[2, 3, 4, 8]);
    check(
        "4-D query",
        MODULE,
        &["query should be unbatched 2D or batched 3D tensor but received 4-D query tensor", "[2, 3, 4, 8]"],
        || forward(&attn, &x4, &x4, &x4, d()),
    );
    let x1 = randn(&[8]);
    check("1-D query", MODULE, &["received 1-D query tensor"], || forward(&attn, &x1, &x1, &x1, d()));
    let (q, k2) = (randn(&[4, 2, 8]), randn(&[5, 8]));
    check(
        "batched query, 2-D key",
        MODULE,
        &["For batched (3-D) `query`, expected `key` and `value` to be 3-D but found 2-D and 3-D tensors respectively"],
        || forward(&attn, &q, &k2, &randn(&[5, 2, 8]), d()),
    );
    let q2 = randn(&[4, 8]);
    check(
        "unbatched query, 3-D value",
        MODULE,
        &[
            "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found 2-D and 3-D tensors respectively",
        ],
        || forward(&attn, &q2, &k2, &randn(&[5, 2, 8]), d()),
    );
}

#[test]
fn inputs_of_the_wrong_size_are_refused() {
    let vs = VarStore::new(CPU);
    let attn = default_attention(&vs);
    let d = AttentionOptions::default;
    let (q, kv) = (randn(&[4, 2, 6]), randn(&[5, 2, 8]));
    check("query features", MODULE, &["was expecting embedding dimension of 8, but got 6", "[4, 2, 6]"], || {
        forward(&attn, &q, &kv, &kv, d())
    });
    let q = randn(&[4, 2, 8]);
    check(
        "key and value shapes",
        MODULE,
        &["key shape torch.Size([5, 2, 8]) does not match value shape torch.Size([3, 2, 8])"],
        || forward(&attn, &q, &kv, &randn(&[3, 2, 8]), d()),
    );
    let k6 = randn(&[5, 2, 6]);
    check("key features", MODULE, &["expected key.size(-1) == kdim = 8, got 6"], || forward(&attn, &q, &k6, &k6, d()));
    let k3 = randn(&[5, 3, 8]);
    check("batch sizes", MODULE, &["expected key and value of the query's batch size 2, got 3"], || {
        forward(&attn, &q, &k3, &k3, d())
    });

    let vs = VarStore::new(CPU);
    let separate = attention(
        &vs,
        MultiheadAttentionConfig {
            kdim: Some(3),
            vdim: Some(5),
            batch_first: true,
            ..MultiheadAttentionConfig::new(8, 2)
        },
    );
    let q = randn(&[2, 4, 8]);
    check(
        "separate: sequence lengths",
        MODULE,
        &["key's sequence and batch dims torch.Size([2, 5]) do not match value's torch.Size([2, 6])"],
        || forward(&separate, &q, &randn(&[2, 5, 3]), &randn(&[2, 6, 5]), d()),
    );
    check("separate: value features", MODULE, &["expected value.size(-1) == vdim = 5, got 4"], || {
        forward(&separate, &q, &randn(&[2, 5, 3]), &randn(&[2, 5, 4]), d())
    });
    check("separate: key features", MODULE, &["expected key.size(-1) == kdim = 3, got 8"], || {
        forward(&separate, &q, &randn(&[2, 5, 8]), &randn(&[2, 5, 5]), d())
    });
    check("batch_first batch sizes", MODULE, &["batch size 2, got 1"], || {
        forward(&separate, &q, &randn(&[1, 5, 3]), &randn(&[1, 5, 5]), d())
    });
}

#[test]
fn inputs_of_the_wrong_dtype_or_undefined_are_refused() {
    let vs = VarStore::new(CPU);
    let attn = default_attention(&vs);
    let d = AttentionOptions::default;
    let x = randn(&[4, 2, 8]);
    let ints = Tensor::zeros([4, 2, 8], (Kind::Int64, CPU));
    check("integer query", MODULE, &["expected query to hold floating-point values, got dtype Int64"], || {
        forward(&attn, &ints, &x, &x, d())
    });
    let double = x.to_kind(Kind::Double);
    check("double key", MODULE, &["expected key of dtype Float (the module's), got dtype Double"], || {
        forward(&attn, &x, &double, &x, d())
    });
    check("undefined value", MODULE, &["expected value to be a tensor, got an undefined tensor"], || {
        forward(&attn, &x, &x, &Tensor::new(), d())
    });
    let undefined = Tensor::new();
    check("undefined mask", MODULE, &["expected attn_mask to be a tensor, got an undefined tensor"], || {
        forward(&attn, &x, &x, &x, AttentionOptions { attn_mask: Some(&undefined), ..d() })
    });
}

#[test]
fn masks_of_the_wrong_dtype_are_refused() {
    let vs = VarStore::new(CPU);
    let attn = default_attention(&vs);
    let d = AttentionOptions::default;
    let (q, kv) = (randn(&[4, 2, 8]), randn(&[5, 2, 8]));
    let int_padding = Tensor::zeros([2, 5], (Kind::Int64, CPU));
    check(
        "integer key_padding_mask",
        MODULE,
        &["only bool and floating types of key_padding_mask are supported, got dtype Int64"],
        || forward(&attn, &q, &kv, &kv, AttentionOptions { key_padding_mask: Some(&int_padding), ..d() }),
    );
    let byte_mask = Tensor::zeros([4, 5], (Kind::Uint8, CPU));
    check(
        "byte attn_mask",
        MODULE,
        &["only bool and floating types of attn_mask are supported, got dtype Uint8"],
        || forward(&attn, &q, &kv, &kv, AttentionOptions { attn_mask: Some(&byte_mask), ..d() }),
    );
    let double_mask = Tensor::zeros([4, 5], (Kind::Double, CPU));
    check(
        "double attn_mask",
        MODULE,
        &["expected a float attn_mask of dtype Float (the query's), got dtype Double"],
        || forward(&attn, &q, &kv, &kv, AttentionOptions { attn_mask: Some(&double_mask), ..d() }),
    );
}

#[test]
fn masks_of_the_wrong_shape_are_refused() {
    let vs = VarStore::new(CPU);
    let attn = default_attention(&vs);
    let d = AttentionOptions::default;
    let (q, kv) = (randn(&[4, 2, 8]), randn(&[5, 2, 8]));
    let bools = |shape: &[i64]| Tensor::zeros(shape, (Kind::Bool, CPU));
    let run = |kpm: Option<&Tensor>, mask: Option<&Tensor>| {
        forward(&attn, &q, &kv, &kv, AttentionOptions { key_padding_mask: kpm, attn_mask: mask, ..d() })
    };
    check(
        "3-D key_padding_mask",
        MODULE,
        &["For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but found 3-D tensor instead"],
        || run(Some(&bools(&[2, 5, 1])), None),
    );
    check("key_padding_mask batch", MODULE, &["Expected key_padded_mask.shape[0] to be 2, but got 3"], || {
        run(Some(&bools(&[3, 5])), None)
    });
    check("key_padding_mask length", MODULE, &["Expected key_padded_mask.shape[1] to be 5, but got 4"], || {
        run(Some(&bools(&[2, 4])), None)
    });
    check(
        "1-D attn_mask",
        MODULE,
        &["expected `attn_mask` to be `None`, 2-D or 3-D but found 1-D tensor instead"],
        || run(None, Some(&bools(&[5]))),
    );
    check(
        "2-D attn_mask",
        MODULE,
        &["The shape of the 2D attn_mask is torch.Size([4, 4]), but should be (4, 5)."],
        || run(None, Some(&bools(&[4, 4]))),
    );
    check(
        "3-D attn_mask for one head",
        MODULE,
        &["The shape of the 3D attn_mask is torch.Size([2, 4, 5]), but should be (4, 4, 5)."],
        || run(None, Some(&bools(&[2, 4, 5]))),
    );
    // Unbatched: a 1-D padding mask, and a 3-D attention mask of (num_heads, L, S).
    let (q1, kv1) = (randn(&[4, 8]), randn(&[5, 8]));
    check(
        "unbatched 2-D key_padding_mask",
        MODULE,
        &["For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but found 2-D tensor instead"],
        || forward(&attn, &q1, &kv1, &kv1, AttentionOptions { key_padding_mask: Some(&bools(&[1, 5])), ..d() }),
    );
    check(
        "unbatched 3-D attn_mask",
        MODULE,
        &["Expected `attn_mask` shape to be (2, 4, 5) but got torch.Size([1, 4, 5])"],
        || forward(&attn, &q1, &kv1, &kv1, AttentionOptions { attn_mask: Some(&bools(&[1, 4, 5])), ..d() }),
    );
    // With bias_k and a zero attention, PyTorch checks the padded mask: its message counts both.
    let vs = VarStore::new(CPU);
    let padded = attention(
        &vs,
        MultiheadAttentionConfig { add_bias_kv: true, add_zero_attn: true, ..MultiheadAttentionConfig::new(8, 2) },
    );
    check("padded key_padding_mask", MODULE, &["Expected key_padded_mask.shape[1] to be 7, but got 6"], || {
        padded.forward(&q, &kv, &kv, &AttentionOptions { key_padding_mask: Some(&bools(&[2, 4])), ..d() })
    });
}

#[test]
fn the_causal_hint_needs_a_mask() {
    let vs = VarStore::new(CPU);
    let attn = default_attention(&vs);
    let x = randn(&[4, 2, 8]);
    check("is_causal without attn_mask", MODULE, &["Need attn_mask if specifying the is_causal hint"], || {
        forward(&attn, &x, &x, &x, AttentionOptions { is_causal: true, ..Default::default() })
    });
}

/// The `tch::nn::Module` call cannot return an error: it panics with the same one line.
#[test]
fn the_module_trait_panics_with_the_one_line_message() {
    use tch::nn::Module;
    let vs = VarStore::new(CPU);
    let attn = default_attention(&vs);
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Module::forward(&attn, &randn(&[4, 2, 6]))))
        .expect_err("a bad input must panic through the trait");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.starts_with("MultiheadAttention: was expecting embedding dimension of 8, but got 6"), "{message}");
    assert_eq!(message.lines().count(), 1);
}
