#!/usr/bin/env python3
"""Exports the reference for the Rust port of torch's tensor printing (src/repr/).

Run with the project's Python:  .venv/bin/python scripts/export_repr.py [--root DIR]

Writes, atomically and deterministically (running it twice gives byte-identical files):

* tests/fixtures/repr/cases.safetensors (or under --root DIR): the tensors of every case, keyed "<case>.<input>".
* tests/fixtures/repr/expected.json: for every case, Python's exact ``repr(tensor)`` and how to
  rebuild the printed tensor from the stored inputs:

  - ``"recipe": null``: the printed tensor is the stored input ``x`` itself;
  - ``"recipe": "<name>"``: the printed tensor is ``RECIPES[name]`` evaluated over the stored
    inputs (the source of every recipe is written under "recipes"), which tests/repr_parity.rs
    replays with the same tch ops. Recipes rebuild autograd graphs (``grad_fn=<...>``), leaves
    that require grad, and tensors that safetensors cannot hold (complex, float8, sparse).

  ``"print_options"`` holds the ``torch.set_printoptions`` arguments the repr was made with
  (null for the defaults); every such case is followed by a reset to the defaults. "sizes" maps
  shapes to ``str(torch.Size(shape))``.
"""

import json
import sys

import torch
import torch.nn.functional as F
from fixture_io import argument_parser, save_tensors, write_atomically

NAN, INF = float("nan"), float("inf")

# Each recipe turns the stored inputs (x, y, idx) into the printed tensor. `leaf(t)` marks a
# stored input as a leaf that requires grad. tests/repr_parity.rs replays each one with tch.
RECIPES = {
    "leaf_requires_grad": "leaf(x)",
    "tanh": "leaf(x).tanh()",
    "sigmoid": "leaf(x).sigmoid()",
    "relu": "leaf(x).relu()",
    "add": "leaf(x) + leaf(y)",
    "mul": "leaf(x) * leaf(y)",
    "stack": "torch.stack([leaf(x), leaf(y)])",
    "cat": "torch.cat([leaf(x), leaf(y)])",
    "transpose": "leaf(x).transpose(0, 1)",
    "t": "leaf(x).t()",
    "view": "leaf(x).view(-1)",
    "sum": "leaf(x).sum()",
    "sum_dim": "leaf(x).sum(1)",
    "mean": "leaf(x).mean()",
    "matmul": "leaf(x) @ leaf(y)",
    "linear": "F.linear(leaf(x), leaf(y), leaf(b))",
    "squeeze": "leaf(x).squeeze(0)",
    "unsqueeze": "leaf(x).unsqueeze(1)",
    "select": "leaf(x)[0]",
    "narrow": "leaf(x).narrow(0, 1, 2)",
    "log_softmax": "F.log_softmax(leaf(x), dim=1)",
    "embedding": "F.embedding(idx, leaf(x))",
    "index_select": "leaf(x).index_select(0, idx)",
    "complex": "torch.complex(x, y)",
    "to_float8_e4m3fn": "x.to(torch.float8_e4m3fn)",
    "to_float8_e5m2": "x.to(torch.float8_e5m2)",
    "to_sparse": "x.to_sparse()",
    "transpose_no_grad": "x.transpose(0, 1)",
    "expand_no_grad": "x.expand(3, 4)",
}


STORAGE_NOTE = (
    "cases.safetensors holds the inputs of every case, keyed '<case>.<input>'; bool, 0-d and "
    "empty tensors round-trip through it. Complex, float8 and sparse tensors, which tch's "
    "safetensors reader (safetensors 0.3) cannot hold, are rebuilt from stored float inputs by "
    "the recipes 'complex', 'to_float8_*' and 'to_sparse'; autograd graphs and leaves that "
    "require grad by the other recipes, since safetensors stores no autograd state."
)


def leaf(t):
    return t.requires_grad_()


class Cases:
    """Collects the cases: their inputs (stored) and Python's repr of the printed tensor."""

    def __init__(self):
        self.tensors = {}
        self.cases = {}

    def add(self, name, x, recipe=None, print_options=None, **others):
        if name in self.cases:
            raise ValueError(f"duplicate case {name}")
        inputs = {"x": x, **others}
        for key, tensor in inputs.items():
            self.tensors[f"{name}.{key}"] = tensor.detach().clone().contiguous()
        # The printed tensor is built from fresh copies, so that leaf() never touches the stored
        # inputs.
        env = {k: v.detach().clone() for k, v in inputs.items()}
        printed = eval(RECIPES[recipe], {"torch": torch, "F": F, "leaf": leaf}, env) if recipe else env["x"]
        if print_options:
            torch.set_printoptions(**print_options)
        try:
            text = repr(printed)
        finally:
            torch.set_printoptions(profile="default")
        self.cases[name] = {
            "repr": text,
            "recipe": recipe,
            "inputs": sorted(inputs),
            "print_options": print_options,
        }


def scalar_cases(c):
    c.add("scalar_float", torch.tensor(1.5))
    c.add("scalar_float_negative", torch.tensor(-0.123456))
    c.add("scalar_float_integral", torch.tensor(3.0))
    c.add("scalar_float_tiny", torch.tensor(2.5e-05))
    c.add("scalar_float_huge", torch.tensor(1.0e10))
    c.add("scalar_float_nan", torch.tensor(NAN))
    c.add("scalar_float_neg_inf", torch.tensor(-INF))
    c.add("scalar_float_zero", torch.tensor(0.0))
    c.add("scalar_float_neg_zero", torch.tensor(-0.0))
    c.add("scalar_float64", torch.tensor(0.1, dtype=torch.float64))
    c.add("scalar_int64", torch.tensor(7))
    c.add("scalar_int32", torch.tensor(-7, dtype=torch.int32))
    c.add("scalar_uint8", torch.tensor(255, dtype=torch.uint8))
    c.add("scalar_bool_true", torch.tensor(True))
    c.add("scalar_bool_false", torch.tensor(False))
    c.add("scalar_half", torch.tensor(0.333, dtype=torch.float16))


def float_layout_cases(c):
    c.add("float_1d", torch.randn(5))
    c.add("float_1d_single", torch.tensor([5.25]))
    c.add("float_2d", torch.randn(3, 4))
    c.add("float_3d", torch.randn(2, 3, 4))
    c.add("float_4d", torch.randn(2, 2, 2, 3))
    c.add("float_5d", torch.randn(1, 2, 1, 2, 2))
    c.add("float_2d_one_column", torch.randn(4, 1))
    c.add("float_3d_singletons", torch.randn(1, 1, 3))
    c.add("float_positive_only", torch.rand(2, 5))
    c.add("float_mixed_magnitude", torch.randn(4, 4) * 100)
    c.add("float_row_wraps", torch.randn(30))
    c.add("float_2d_rows_wrap", torch.randn(3, 20))
    c.add("float_3d_rows_wrap", torch.randn(2, 2, 15))
    c.add("float_wide_values_wrap", torch.randn(12) * 12345.678)


def float_mode_cases(c):
    c.add("int_mode_1d", torch.tensor([1.0, 2.0]))
    c.add("int_mode_mixed_sign", torch.tensor([-1.0, 0.0, 100.0, 7.0]))
    c.add("int_mode_2d", torch.arange(12, dtype=torch.float32).reshape(3, 4) - 5)
    c.add("int_mode_large", torch.tensor([123456.0, -2.0]))
    c.add("int_mode_sci_huge", torch.tensor([123456789.0, 1.0]))
    c.add("int_mode_sci_ratio", torch.tensor([5000.0, 2.0, -3.0]))
    c.add("sci_tiny", torch.tensor([1.0e-5, 2.0e-6]))
    c.add("sci_huge", torch.tensor([1.5e9, 3.25e12]))
    c.add("sci_ratio", torch.tensor([0.001, 1.5, 2000.0]))
    c.add("sci_ratio_negative", torch.tensor([-0.001, 1.5, -2000.5]))
    c.add("sci_2d", torch.randn(3, 3) * 1.0e-6)
    c.add("sci_row_wraps", torch.randn(20) * 1.0e5 * torch.rand(20) ** 4)
    c.add("sci_mixed_exponents", torch.tensor([1.0e-30, 1.0e30, -3.0e-3, 7.0]))
    c.add("sci_float64_extreme", torch.tensor([1.0e-300, 1.0e300, 5.0e-324], dtype=torch.float64))
    c.add("fixed_boundary_1e8", torch.tensor([1.0e8, 1.5]))
    c.add("fixed_boundary_ratio_1000", torch.tensor([1.0, 1000.0, 0.5]))
    c.add("fixed_boundary_1e-4", torch.tensor([1.0e-4, 0.5]))
    c.add("all_zero", torch.zeros(3))
    c.add("all_zero_2d", torch.zeros(2, 3))
    c.add("negative_zero", torch.tensor([-0.0, 0.0]))
    c.add("negative_zero_fixed", torch.tensor([-0.0, 1.5]))
    c.add("negative_zero_sci", torch.tensor([-0.0, 1.5e-6]))
    c.add("ties_float32", torch.tensor([0.03125, 0.09375, 1.03125, -0.15625]))
    c.add("ties_float64", torch.tensor([0.03125, 0.5, 2.5e-05, 0.00015], dtype=torch.float64))
    c.add("ties_sci", torch.tensor([1.03125, 1.09375, 1.0e-5], dtype=torch.float64))
    c.add("rounding_carry", torch.tensor([9.99996, 0.99999, -9.99996]))
    c.add("many_random_magnitudes", torch.randn(200) * 10.0 ** torch.randint(-3, 4, (200,)))
    c.add("many_random_float64", torch.randn(300, dtype=torch.float64))


def nonfinite_cases(c):
    c.add("nonfinite_only", torch.tensor([NAN, INF, -INF]))
    c.add("nonfinite_fixed", torch.tensor([1.5, NAN, -INF, 2.25]))
    c.add("nonfinite_int_mode", torch.tensor([1.0, NAN, INF]))
    c.add("nonfinite_sci", torch.tensor([1.0e-8, NAN, 1.0, -INF]))
    c.add("nonfinite_zero", torch.tensor([0.0, NAN]))
    c.add("nonfinite_2d", torch.tensor([[NAN, 1.25], [INF, -3.5]]))
    c.add("negative_nan", torch.zeros(2) / torch.zeros(2))


def integer_and_bool_cases(c):
    c.add("int64_1d", torch.tensor([1, -20, 300]))
    c.add("int64_2d", torch.randint(-1000, 1000, (3, 5)))
    c.add("int64_extremes", torch.tensor([-(2**63), 2**63 - 1, 0]))
    c.add("int64_row_wraps", torch.arange(40))
    c.add("int32", torch.tensor([[1, 2], [-3, 4]], dtype=torch.int32))
    c.add("int16", torch.tensor([-32768, 32767], dtype=torch.int16))
    c.add("int8", torch.tensor([-128, 0, 127], dtype=torch.int8))
    c.add("uint8", torch.tensor([0, 7, 255], dtype=torch.uint8))
    c.add("uint8_row_wraps", torch.randint(0, 256, (40,), dtype=torch.uint8))
    c.add("bool_1d", torch.tensor([True, False]))
    c.add("bool_all_true", torch.tensor([True, True]))
    c.add("bool_2d", torch.rand(3, 4) > 0.5)
    c.add("bool_row_wraps", torch.rand(30) > 0.5)


def other_float_dtype_cases(c):
    c.add("float64_1d", torch.randn(4, dtype=torch.float64))
    c.add("float64_int_mode", torch.tensor([1.0, -2.0], dtype=torch.float64))
    c.add("float64_row_wraps_suffix", torch.randn(9, dtype=torch.float64))
    c.add("float16", torch.randn(2, 3).half())
    c.add("float16_extremes", torch.tensor([65504.0, 6.0e-8, -1.0, INF], dtype=torch.float16))
    c.add("bfloat16", torch.randn(5).bfloat16())
    c.add("bfloat16_int_mode", torch.tensor([3.0, -256.0], dtype=torch.bfloat16))


def empty_cases(c):
    c.add("empty_float_0", torch.zeros(0))
    c.add("empty_float_0x3", torch.zeros(0, 3))
    c.add("empty_float_2x0x4", torch.zeros(2, 0, 4))
    c.add("empty_int64_0", torch.zeros(0, dtype=torch.int64))
    c.add("empty_int32_0x3", torch.zeros(0, 3, dtype=torch.int32))
    c.add("empty_bool_0", torch.zeros(0, dtype=torch.bool))
    c.add("empty_float64_2x0x4", torch.zeros(2, 0, 4, dtype=torch.float64))


def summarized_cases(c):
    c.add("summarized_1d", torch.randn(2000))
    c.add("summarized_1d_1001", torch.randn(1001))
    c.add("not_summarized_1000", torch.randn(1000))
    c.add("summarized_2d", torch.randn(40, 40))
    c.add("summarized_2d_narrow", torch.randn(500, 3))
    c.add("summarized_2d_wide", torch.randn(3, 500))
    c.add("summarized_3d", torch.randn(12, 12, 12))
    c.add("summarized_4d", torch.randn(2, 3, 20, 20))
    c.add("summarized_int64", torch.arange(5000).reshape(50, 100))
    c.add("summarized_bool", torch.rand(2000) > 0.5)
    c.add("summarized_float64", torch.randn(30, 40, dtype=torch.float64))
    hidden = torch.full((2000,), 0.5)
    hidden[1000] = 1.0e10  # not printed, so it must not switch the formatter to sci mode
    c.add("summarized_hidden_outlier", hidden)
    hidden_nan = torch.ones(1500)
    hidden_nan[700] = NAN
    c.add("summarized_int_mode", hidden_nan)


def autograd_cases(c):
    c.add("grad_leaf", torch.randn(3), recipe="leaf_requires_grad")
    c.add("grad_leaf_scalar", torch.tensor(2.5), recipe="leaf_requires_grad")
    c.add("grad_leaf_float64", torch.randn(2, 2, dtype=torch.float64), recipe="leaf_requires_grad")
    c.add("grad_leaf_row_wraps", torch.randn(2, 9), recipe="leaf_requires_grad")
    c.add("grad_tanh", torch.randn(2, 2), recipe="tanh")
    c.add("grad_tanh_row_wraps", torch.randn(9), recipe="tanh")
    c.add("grad_tanh_float64_wraps", torch.randn(8, dtype=torch.float64), recipe="tanh")
    c.add("grad_sigmoid", torch.randn(4), recipe="sigmoid")
    c.add("grad_relu", torch.randn(2, 3), recipe="relu")
    c.add("grad_add", torch.randn(3), recipe="add", y=torch.randn(3))
    c.add("grad_mul", torch.randn(2, 2), recipe="mul", y=torch.randn(2, 2))
    c.add("grad_stack", torch.randn(3), recipe="stack", y=torch.randn(3))
    c.add("grad_cat", torch.randn(2), recipe="cat", y=torch.randn(3))
    c.add("grad_transpose", torch.randn(2, 3), recipe="transpose")
    c.add("grad_t", torch.randn(2, 3), recipe="t")
    c.add("grad_view", torch.randn(2, 3), recipe="view")
    c.add("grad_sum", torch.randn(2, 3), recipe="sum")
    c.add("grad_sum_dim", torch.randn(2, 3), recipe="sum_dim")
    c.add("grad_mean", torch.randn(4), recipe="mean")
    c.add("grad_matmul", torch.randn(2, 3), recipe="matmul", y=torch.randn(3, 2))
    c.add("grad_linear", torch.randn(2, 3), recipe="linear", y=torch.randn(4, 3), b=torch.randn(4))
    c.add("grad_squeeze", torch.randn(1, 3), recipe="squeeze")
    c.add("grad_unsqueeze", torch.randn(3), recipe="unsqueeze")
    c.add("grad_select", torch.randn(3, 2), recipe="select")
    c.add("grad_narrow", torch.randn(4, 2), recipe="narrow")
    c.add("grad_log_softmax", torch.randn(2, 5), recipe="log_softmax")
    c.add("grad_embedding", torch.randn(5, 3), recipe="embedding", idx=torch.tensor([[0, 2], [4, 1]]))
    c.add("grad_index_select", torch.randn(4, 2), recipe="index_select", idx=torch.tensor([3, 0]))
    c.add("grad_summarized", torch.randn(1200), recipe="tanh")


def rebuilt_dtype_cases(c):
    c.add("complex64", torch.randn(3), recipe="complex", y=torch.randn(3))
    c.add("complex64_scalar", torch.tensor(1.5), recipe="complex", y=torch.tensor(2.0))
    c.add("complex64_2d", torch.randn(2, 3), recipe="complex", y=torch.randn(2, 3) * 1.0e-5)
    c.add("complex64_nan", torch.tensor([NAN, 1.0]), recipe="complex", y=torch.tensor([-2.0, NAN]))
    c.add("complex128", torch.randn(4, dtype=torch.float64), recipe="complex",
          y=torch.randn(4, dtype=torch.float64))
    c.add("complex64_empty", torch.zeros(0), recipe="complex", y=torch.zeros(0))
    c.add("float8_e4m3fn", torch.tensor([1.5, 2.0, -3.25, 0.1]), recipe="to_float8_e4m3fn")
    c.add("float8_e5m2", torch.tensor([[1.5, 2.0], [-3.25, 1000.0]]), recipe="to_float8_e5m2")
    c.add("sparse_1d", torch.tensor([0.0, 1.5, 0.0, -2.0]), recipe="to_sparse")
    c.add("sparse_2d", torch.tensor([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]]), recipe="to_sparse")
    c.add("sparse_int32", torch.tensor([[0, 4], [5, 0]], dtype=torch.int32), recipe="to_sparse")
    c.add("sparse_empty", torch.zeros(3, 2), recipe="to_sparse")
    c.add("non_contiguous", torch.randn(3, 2), recipe="transpose_no_grad")
    c.add("expanded", torch.randn(1, 4), recipe="expand_no_grad")


def print_options_cases(c):
    x = torch.randn(6) * 3
    c.add("options_precision_2", x, print_options={"precision": 2})
    c.add("options_precision_6", x, print_options={"precision": 6})
    c.add("options_precision_0", x, print_options={"precision": 0})
    c.add("options_precision_2_sci", torch.tensor([1.0e-5, 123.456]), print_options={"precision": 2})
    c.add("options_threshold_5", torch.arange(10), print_options={"threshold": 5})
    c.add("options_threshold_5_edgeitems_2", torch.randn(4, 7), print_options={"threshold": 5, "edgeitems": 2})
    c.add("options_edgeitems_0_1d", torch.randn(20), print_options={"threshold": 5, "edgeitems": 0})
    c.add("options_edgeitems_0_2d", torch.randn(4, 5), print_options={"threshold": 5, "edgeitems": 0})
    c.add("options_edgeitems_0_scalar", torch.tensor(1.5), print_options={"edgeitems": 0})
    c.add("options_threshold_big", torch.randn(1200), print_options={"threshold": 5000})
    c.add("options_linewidth_40", torch.randn(3, 12), print_options={"linewidth": 40})
    c.add("options_linewidth_40_suffix", torch.randn(4, dtype=torch.float64), print_options={"linewidth": 40})
    c.add("options_linewidth_5", torch.randn(2, 3), print_options={"linewidth": 5})
    c.add("options_sci_mode_true", torch.tensor([1.5, -2.0, 300.0]), print_options={"sci_mode": True})
    c.add("options_sci_mode_true_zeros", torch.tensor([0.0, NAN]), print_options={"sci_mode": True})
    c.add("options_sci_mode_false", torch.tensor([1.0e-6, 1.0e9]), print_options={"sci_mode": False})
    c.add("options_linewidth_0", torch.randn(2, 3), print_options={"linewidth": 0})
    thirds = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) / 7
    c.add("options_threshold_0_edgeitems_100", thirds, print_options={"threshold": 0, "edgeitems": 100})
    c.add("options_threshold_0_edgeitems_0", thirds, print_options={"threshold": 0, "edgeitems": 0})
    c.add("options_threshold_0_edgeitems_1", thirds, print_options={"threshold": 0, "edgeitems": 1})
    c.add("options_precision_10_sci", thirds[0, 0], print_options={"precision": 10, "sci_mode": True})
    c.add("options_grad_linewidth_30", torch.randn(3), recipe="tanh", print_options={"linewidth": 30})


def build_cases():
    torch.manual_seed(0)
    c = Cases()
    for group in (
        scalar_cases,
        float_layout_cases,
        float_mode_cases,
        nonfinite_cases,
        integer_and_bool_cases,
        other_float_dtype_cases,
        empty_cases,
        summarized_cases,
        autograd_cases,
        rebuilt_dtype_cases,
        print_options_cases,
    ):
        group(c)
    return c


SIZE_SHAPES = {"3x1x2": [3, 1, 2], "scalar": [], "0": [0], "2x0x4": [2, 0, 4], "5": [5]}


def main():
    out_dir = argument_parser(__doc__).parse_args().root / "repr"
    cases = build_cases()
    expected = {
        "generator": "scripts/export_repr.py",
        "torch_version": torch.__version__,
        "recipes": RECIPES,
        "storage": STORAGE_NOTE,
        "cases": cases.cases,
        "sizes": {
            name: {"shape": shape, "str": str(torch.Size(shape))} for name, shape in SIZE_SHAPES.items()
        },
    }
    save_tensors(cases.tensors, out_dir / "cases.safetensors")
    text = json.dumps(expected, sort_keys=True, indent=1, ensure_ascii=True) + "\n"
    write_atomically(out_dir / "expected.json", text.encode("ascii"))
    print(f"export_repr: {len(cases.cases)} cases in {out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
