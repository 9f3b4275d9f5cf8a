#!/usr/bin/env python3
"""Exports the PyTorch reference fixtures that the Rust parity tests compare against.

Run from anywhere with the project's interpreter:

    .venv/bin/python scripts/export_reference.py [--root DIR]

It writes, under tests/fixtures/nn/ (committed), or DIR/nn/ (scripts/live_reference.py exports
the same cases afresh for the live bit-exact test):

- ``cases.json``: the configuration of every case (sorted keys, indent 1), read by
  tests/nn_parity.rs, tests/init_parity.rs and tests/state_dict_interop.rs;
- ``reference.safetensors``: every tensor those cases need;
- ``<model>_state_dict.safetensors``: the ``state_dict()`` of the tutorial model and of a model
  with LSTM and GRU layers, written with ``safetensors.torch.save_file`` exactly as a PyTorch
  user would, for the interop test.

Tensor keys in reference.safetensors:

- ``parity/{case}/param/{name}``: the module's parameters by state_dict name, before forward;
- ``parity/{case}/buffer/{name}``: non-parameter tensors the module is built with
  (CrossEntropyLoss's class ``weight``);
- ``parity/{case}/input/{name}``: forward inputs (``input``, ``h0``/``hx``, ``target``);
- ``parity/{case}/output/{name}``: forward results (``output``, ``h_n``) and, for Embedding
  with ``max_norm``, ``weight_after`` (the weight renormalised in place by forward);
- ``parity/{case}/probe/{name}``: the fixed random R tensor of each differentiated output;
  the scalar loss is ``sum over those outputs of sum(output * R)``;
- ``parity/{case}/grad/param/{name}``, ``parity/{case}/grad/input/{name}``: the gradients of
  that loss (a sparse gradient is stored dense);
- ``init/{model}/s{seed}/{name}``: the parameters PyTorch creates right after
  ``torch.manual_seed(seed)``;
- ``interop/{model}/{name}``: inputs, initial states, outputs and final states of the interop
  models.

MultiheadAttention has a folder of its own, tests/fixtures/attention/ (DIR/attention/), with
the same layout: ``cases.json`` (each parity case also says how forward was called: which
inputs were one tensor, the masks, the keyword arguments, under ``no_grad`` or not, and whether
PyTorch took its fused ``_native_multi_head_attention`` path), ``reference.safetensors``
(``parity/``, ``init/`` and ``interop/`` keys as above) and the ``mha_<model>_state_dict.safetensors``
of the interop models. ``--only nn`` or ``--only attention`` writes one folder;
``--attention-state-dict MODEL FILE`` loads a state_dict that Rust saved into an interop model
and prints its output (for tests/attention_state_dict.rs).

Every case seeds its own generators (from a CRC of its name), the script runs single-threaded
with deterministic algorithms, and files are written to a temporary name and renamed into
place, so running it twice gives byte-identical files.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import warnings
import zlib
from pathlib import Path

import torch
from fixture_io import argument_parser, save_tensors, write_atomically

ROOT = Path(__file__).resolve().parent.parent
CASES_FILE = "cases.json"
TENSORS_FILE = "reference.safetensors"
INIT_SEEDS = [0, 1, 7, 42]
# The committed fixtures are PyTorch 2.13.0's. Against another libtorch (scripts/check-libtorch.sh,
# the GPU bundle's run.sh), TCH_RNN_EXPECTED_TORCH names the version in use on both sides.
EXPECTED_TORCH = os.environ.get("TCH_RNN_EXPECTED_TORCH", "2.13.0")

# PyTorch warns that dropout does nothing with num_layers=1; that case is deliberate.
warnings.filterwarnings("ignore", message=".*dropout option adds dropout after all but last.*")
# The attention grid mixes bool and float masks on purpose (PyTorch accepts them, with this warning).
warnings.filterwarnings("ignore", message=".*Support for mismatched key_padding_mask and attn_mask is deprecated.*")


# The device the parity cases run on: the CPU for the fixtures; scripts/gpu-check.sh exports them
# on CUDA. Inputs and modules go there; every stored tensor comes back to the CPU.
DEVICE = torch.device("cpu")


def on_device(t: torch.Tensor) -> torch.Tensor:
    return t.to(DEVICE)


def leaf(t: torch.Tensor) -> torch.Tensor:
    """`t` on the parity device, as a leaf that requires grad."""
    return t.to(DEVICE).requires_grad_()


def case_seed(name: str) -> int:
    """A seed that depends only on the case's name, so adding a case changes no other."""
    return zlib.crc32(name.encode()) % (2**31)


def seeded_module(name: str, spec: dict) -> tuple[torch.nn.Module, torch.Generator]:
    """The case's module, initialised from `torch.manual_seed(case_seed(name))`, and the
    generator of its data, seeded `case_seed(name) + 1`."""
    seed = case_seed(name)
    torch.manual_seed(seed)
    module = build(spec).to(DEVICE)
    return module, torch.Generator().manual_seed(seed + 1)


def parameters(module: torch.nn.Module) -> dict:
    """A copy of the module's parameters by name, taken before the forward and backward."""
    return {n: t.detach().clone() for n, t in module.named_parameters()}


def state_layers(spec: dict) -> int:
    """The leading size of a stacked module's state: num_layers times the directions."""
    return (2 if spec["bidirectional"] else 1) * spec["num_layers"]


class Tensors:
    """An ordered-by-name bag of tensors, refusing duplicate keys."""

    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}

    def add(self, key: str, t: torch.Tensor) -> None:
        if key in self.tensors:
            raise KeyError(f"duplicate tensor key {key}")
        if t.is_sparse:
            t = t.to_dense()
        self.tensors[key] = t.detach().cpu().clone().contiguous()


# ---------------------------------------------------------------------------------------------
# Covering sets


def pairwise(factors: list[tuple[str, list]]) -> list[dict]:
    """A small set of combinations in which every pair of values of every two factors appears
    (greedy all-pairs, deterministic: ties go to the first candidate in product order)."""
    n = len(factors)
    uncovered = {
        (i, a, j, b)
        for i in range(n)
        for j in range(i + 1, n)
        for a in range(len(factors[i][1]))
        for b in range(len(factors[j][1]))
    }
    candidates = list(itertools.product(*[range(len(values)) for _, values in factors]))
    chosen = []
    while uncovered:
        best, best_gain = None, -1
        for c in candidates:
            gain = sum((i, c[i], j, c[j]) in uncovered for i in range(n) for j in range(i + 1, n))
            if gain > best_gain:
                best, best_gain = c, gain
        chosen.append(best)
        uncovered -= {(i, best[i], j, best[j]) for i in range(n) for j in range(i + 1, n)}
    return [{name: values[idx] for (name, values), idx in zip(factors, c)} for c in chosen]


# ---------------------------------------------------------------------------------------------
# Modules from specs (the same specs the Rust tests build from)


def build(spec: dict, pretrained: torch.Tensor | None = None, buffers: dict | None = None):
    kind = spec["kind"]
    if kind == "rnn":
        return torch.nn.RNN(
            spec["input_size"],
            spec["hidden_size"],
            num_layers=spec["num_layers"],
            nonlinearity=spec["nonlinearity"],
            bias=spec["bias"],
            batch_first=spec["batch_first"],
            dropout=spec["dropout"],
            bidirectional=spec["bidirectional"],
        )
    if kind in ("lstm", "gru"):
        options = dict(num_layers=spec["num_layers"], bias=spec["bias"], batch_first=spec["batch_first"],
                       dropout=spec["dropout"], bidirectional=spec["bidirectional"])
        if kind == "lstm":
            return torch.nn.LSTM(spec["input_size"], spec["hidden_size"], proj_size=spec["proj_size"], **options)
        return torch.nn.GRU(spec["input_size"], spec["hidden_size"], **options)
    if kind == "rnn_cell":
        return torch.nn.RNNCell(
            spec["input_size"], spec["hidden_size"], bias=spec["bias"], nonlinearity=spec["nonlinearity"]
        )
    if kind == "lstm_cell":
        return torch.nn.LSTMCell(spec["input_size"], spec["hidden_size"], bias=spec["bias"])
    if kind == "gru_cell":
        return torch.nn.GRUCell(spec["input_size"], spec["hidden_size"], bias=spec["bias"])
    if kind == "embedding":
        kw = dict(
            padding_idx=spec["padding_idx"],
            max_norm=spec["max_norm"],
            norm_type=spec["norm_type"],
            scale_grad_by_freq=spec["scale_grad_by_freq"],
            sparse=spec["sparse"],
        )
        if spec["pretrained_freeze"] is not None:
            assert pretrained is not None
            return torch.nn.Embedding.from_pretrained(pretrained, freeze=spec["pretrained_freeze"], **kw)
        return torch.nn.Embedding(spec["num_embeddings"], spec["embedding_dim"], **kw)
    if kind == "linear":
        return torch.nn.Linear(spec["in_features"], spec["out_features"], bias=spec["bias"])
    if kind == "cross_entropy":
        weight = buffers["weight"] if spec["weight"] else None
        return torch.nn.CrossEntropyLoss(
            weight=weight,
            ignore_index=spec["ignore_index"],
            reduction=spec["reduction"],
            label_smoothing=spec["label_smoothing"],
        )
    raise ValueError(kind)


def rnn_spec(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
             dropout=0.0, bidirectional=False) -> dict:
    return dict(kind="rnn", input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                nonlinearity=nonlinearity, bias=bias, batch_first=batch_first, dropout=dropout,
                bidirectional=bidirectional)


def lstm_spec(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
              bidirectional=False, proj_size=0) -> dict:
    return dict(kind="lstm", input_size=input_size, hidden_size=hidden_size, num_layers=num_layers, bias=bias,
                batch_first=batch_first, dropout=dropout, bidirectional=bidirectional, proj_size=proj_size)


def gru_spec(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
             bidirectional=False) -> dict:
    return dict(kind="gru", input_size=input_size, hidden_size=hidden_size, num_layers=num_layers, bias=bias,
                batch_first=batch_first, dropout=dropout, bidirectional=bidirectional)


def rnn_cell_spec(input_size, hidden_size, bias=True, nonlinearity="tanh") -> dict:
    return dict(kind="rnn_cell", input_size=input_size, hidden_size=hidden_size, bias=bias,
                nonlinearity=nonlinearity)


def gated_cell_spec(kind, input_size, hidden_size, bias=True) -> dict:
    """An LSTMCell (kind "lstm_cell") or GRUCell ("gru_cell")."""
    return dict(kind=kind, input_size=input_size, hidden_size=hidden_size, bias=bias)


def state_sizes(spec: dict) -> dict:
    """The initial-state inputs of a recurrent module and their feature sizes: h0, and c0 for
    an LSTM (h0 is projected to proj_size when set)."""
    if spec["kind"] == "lstm":
        return {"h0": spec["proj_size"] or spec["hidden_size"], "c0": spec["hidden_size"]}
    return {"h0": spec["hidden_size"]}


def state_arg(spec: dict, inputs: dict):
    """The `hx` argument of forward: None, h0, or (h0, c0)."""
    names = list(state_sizes(spec))
    if names[0] not in inputs:
        return None
    return tuple(inputs[n] for n in names) if len(names) == 2 else inputs[names[0]]


def final_state(spec: dict, state) -> dict:
    """The final state as named outputs: h_n, and c_n for an LSTM."""
    return {"h_n": state[0], "c_n": state[1]} if spec["kind"] == "lstm" else {"h_n": state}


def embedding_spec(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                   scale_grad_by_freq=False, sparse=False, pretrained_freeze=None) -> dict:
    return dict(kind="embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim,
                padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, pretrained_freeze=pretrained_freeze)


def linear_spec(in_features, out_features, bias=True) -> dict:
    return dict(kind="linear", in_features=in_features, out_features=out_features, bias=bias)


def cross_entropy_spec(weight=False, ignore_index=-100, reduction="mean", label_smoothing=0.0) -> dict:
    return dict(kind="cross_entropy", weight=weight, ignore_index=ignore_index, reduction=reduction,
                label_smoothing=label_smoothing)


# ---------------------------------------------------------------------------------------------
# Parity cases


class Parity:
    def __init__(self, store: Tensors) -> None:
        self.store = store
        self.cases: list[dict] = []

    def record(self, name, spec, module, inputs, grad_inputs, outputs, probes, *, buffers=None,
               params_before=None, training=False, forward_seed=None, packed=None, note=None):
        """Stores one case. `outputs` are all forward results; `probes` maps the differentiated
        ones to their R. Runs backward of sum(out * R) and stores every gradient."""
        p = f"parity/{name}"
        names = [n for n, _ in module.named_parameters()] if module is not None else []
        frozen = [n for n, t in module.named_parameters() if not t.requires_grad] if module is not None else []
        for n, t in (params_before or {}).items():
            self.store.add(f"{p}/param/{n}", t)
        for n, t in (buffers or {}).items():
            self.store.add(f"{p}/buffer/{n}", t)
        for n, t in inputs.items():
            self.store.add(f"{p}/input/{n}", t)
        for n, t in outputs.items():
            self.store.add(f"{p}/output/{n}", t)
        loss = sum((outputs[n] * r.to(outputs[n].device)).sum() for n, r in probes.items())
        # No backward when every parameter is frozen and no input is float, nor without probes
        # (a forward under torch.no_grad).
        backward = isinstance(loss, torch.Tensor) and loss.requires_grad
        if backward:
            loss.backward()
        for n, r in probes.items():
            self.store.add(f"{p}/probe/{n}", r)
        for n, t in (module.named_parameters() if module is not None else []):
            if t.requires_grad and backward:
                assert t.grad is not None, (name, n)
                self.store.add(f"{p}/grad/param/{n}", t.grad)
            else:
                assert t.grad is None
        for n in grad_inputs:
            assert inputs[n].grad is not None, (name, n)
            self.store.add(f"{p}/grad/input/{n}", inputs[n].grad)
        case = dict(
            name=name,
            module=spec,
            params=names,
            frozen=frozen,
            buffers=sorted(buffers or {}),
            inputs=list(inputs),
            grad_inputs=list(grad_inputs),
            outputs=list(outputs),
            probes=list(probes),
            training=training,
            forward_seed=forward_seed,
            packed=packed,
        )
        if note:
            case["note"] = note
        self.cases.append(case)

    # RNN, LSTM, GRU -------------------------------------------------------------------------

    def recurrent(self, name, spec, seq_len, batch, state, training=False, forward_seed=None, note=None):
        """A padded (or unbatched) sequence through an RNN, LSTM or GRU, with or without an
        initial state."""
        module, g = seeded_module(name, spec)
        module.train(training)
        layers = state_layers(spec)
        feats = spec["input_size"]
        if batch is None:
            x_shape, lead = (seq_len, feats), (layers,)
        else:
            x_shape = (batch, seq_len, feats) if spec["batch_first"] else (seq_len, batch, feats)
            lead = (layers, batch)
        inputs = {"input": leaf(torch.randn(x_shape, generator=g))}
        if state:
            for n, size in state_sizes(spec).items():
                inputs[n] = leaf(torch.randn(lead + (size,), generator=g))
        params = parameters(module)
        if forward_seed is not None:
            torch.manual_seed(forward_seed)
        out, final = module(inputs["input"], state_arg(spec, inputs))
        outputs = {"output": out, **final_state(spec, final)}
        probes = {n: torch.randn(t.shape, generator=g) for n, t in outputs.items()}
        self.record(name, spec, module, inputs, list(inputs), outputs, probes, params_before=params,
                    training=training, forward_seed=forward_seed, note=note)

    def packed(self, name, spec, lengths, enforce_sorted, state, training=False, forward_seed=None):
        """A batch of sequences of `lengths`, padded, packed with pack_padded_sequence and run
        through the module; the packed output is padded back with pad_packed_sequence."""
        module, g = seeded_module(name, spec)
        module.train(training)
        layers = state_layers(spec)
        batch, longest, feats = len(lengths), max(lengths), spec["input_size"]
        x_shape = (batch, longest, feats) if spec["batch_first"] else (longest, batch, feats)
        inputs = {"input": leaf(torch.randn(x_shape, generator=g)),
                  "lengths": torch.tensor(lengths, dtype=torch.int64)}
        if state:
            for n, size in state_sizes(spec).items():
                inputs[n] = leaf(torch.randn((layers, batch, size), generator=g))
        params = parameters(module)
        packed = torch.nn.utils.rnn.pack_padded_sequence(inputs["input"], inputs["lengths"],
                                                         batch_first=spec["batch_first"], enforce_sorted=enforce_sorted)
        if forward_seed is not None:
            torch.manual_seed(forward_seed)
        out, final = module(packed, state_arg(spec, inputs))
        padded, out_lengths = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=spec["batch_first"])
        outputs = {"output": out.data, "batch_sizes": out.batch_sizes, **final_state(spec, final),
                   "padded_output": padded, "output_lengths": out_lengths}
        if out.sorted_indices is not None:
            outputs["sorted_indices"] = out.sorted_indices
            outputs["unsorted_indices"] = out.unsorted_indices
        probes = {n: torch.randn(outputs[n].shape, generator=g) for n in ["output", *final_state(spec, final)]}
        grad_inputs = [n for n, t in inputs.items() if t.is_floating_point()]
        self.record(name, spec, module, inputs, grad_inputs, outputs, probes, params_before=params,
                    training=training, forward_seed=forward_seed, packed={"enforce_sorted": enforce_sorted})

    def rnn_cases(self):
        factors = [
            ("num_layers", [1, 2, 3]),
            ("batch", [None, 1, 3]),
            ("bidirectional", [False, True]),
            ("batch_first", [False, True]),
            ("bias", [True, False]),
            ("nonlinearity", ["tanh", "relu"]),
            ("seq_len", [1, 4]),
            ("h0", [False, True]),
            ("dropout", [0.0, 0.25]),
        ]
        for i, c in enumerate(pairwise(factors)):
            name = "rnn_{:02d}_l{}_{}{}{}{}_{}_s{}_{}{}{}".format(
                i,
                c["num_layers"],
                "unbatched" if c["batch"] is None else f"b{c['batch']}",
                "_bi" if c["bidirectional"] else "",
                "_bf" if c["batch_first"] else "",
                "" if c["bias"] else "_nobias",
                c["nonlinearity"],
                c["seq_len"],
                "h0" if c["h0"] else "noh0",
                f"_dropout{c['dropout']}" if c["dropout"] else "",
                "_eval",
            )
            spec = rnn_spec(3 + i % 3, 4 + i % 2, num_layers=c["num_layers"], nonlinearity=c["nonlinearity"],
                            bias=c["bias"], batch_first=c["batch_first"], dropout=c["dropout"],
                            bidirectional=c["bidirectional"])
            self.recurrent(name, spec, c["seq_len"], c["batch"], c["h0"])
        # A larger stack with every option on, and the tutorial's RNN.
        self.recurrent("rnn_big_l3_bi_bf_relu_h0_dropout_eval",
                 rnn_spec(6, 7, num_layers=3, nonlinearity="relu", batch_first=True, dropout=0.5,
                          bidirectional=True), seq_len=6, batch=4, state=True)
        self.recurrent("rnn_tutorial_l2_bf", rnn_spec(10, 8, num_layers=2, batch_first=True), seq_len=5, batch=1,
                       state=True)
        # Training mode with dropout between layers: the masks come from the global generator,
        # seeded with forward_seed right before forward on both sides.
        self.recurrent("rnn_train_dropout_l3_bi", rnn_spec(4, 5, num_layers=3, dropout=0.5, bidirectional=True),
                       seq_len=4, batch=3, state=True, training=True, forward_seed=1234,
                       note="training mode: dropout masks drawn after manual_seed(forward_seed)")

    def gated_cases(self, kind):
        """A covering grid for LSTM (with and without projections) or GRU, plus a larger stack
        with every option and seeded dropout in training mode."""
        factors = [
            ("num_layers", [1, 2, 3]),
            ("batch", [None, 1, 3]),
            ("bidirectional", [False, True]),
            ("batch_first", [False, True]),
            ("bias", [True, False]),
            ("seq_len", [1, 4]),
            ("state", [False, True]),
            ("dropout", [0.0, 0.25]),
        ]
        if kind == "lstm":
            factors.append(("proj_size", [0, 2]))
        for i, c in enumerate(pairwise(factors)):
            name = "{}_{:02d}_l{}_{}{}{}{}{}_s{}_{}{}_eval".format(
                kind,
                i,
                c["num_layers"],
                "unbatched" if c["batch"] is None else f"b{c['batch']}",
                "_bi" if c["bidirectional"] else "",
                "_bf" if c["batch_first"] else "",
                "" if c["bias"] else "_nobias",
                f"_proj{c['proj_size']}" if c.get("proj_size") else "",
                c["seq_len"],
                "state" if c["state"] else "nostate",
                f"_dropout{c['dropout']}" if c["dropout"] else "",
            )
            options = dict(num_layers=c["num_layers"], bias=c["bias"], batch_first=c["batch_first"],
                           dropout=c["dropout"], bidirectional=c["bidirectional"])
            if kind == "lstm":
                spec = lstm_spec(3 + i % 3, 4 + i % 2, proj_size=c["proj_size"], **options)
            else:
                spec = gru_spec(3 + i % 3, 4 + i % 2, **options)
            self.recurrent(name, spec, c["seq_len"], c["batch"], c["state"])
        big = dict(num_layers=3, batch_first=True, dropout=0.5, bidirectional=True)
        train = dict(num_layers=3, dropout=0.5, bidirectional=True)
        if kind == "lstm":
            big_spec, train_spec = lstm_spec(6, 7, proj_size=3, **big), lstm_spec(4, 5, proj_size=2, **train)
        else:
            big_spec, train_spec = gru_spec(6, 7, **big), gru_spec(4, 5, **train)
        self.recurrent(f"{kind}_big_l3_bi_bf_state_dropout_eval", big_spec, seq_len=6, batch=4, state=True)
        self.recurrent(f"{kind}_train_dropout_l3_bi", train_spec, seq_len=4, batch=3, state=True, training=True,
                       forward_seed=4321, note="training mode: dropout masks drawn after manual_seed(forward_seed)")

    def packed_cases(self):
        """Packed batches for every recurrent kind: equal and unequal lengths, given sorted
        (enforce_sorted) or sorted here (enforce_sorted=False), with and without a state."""
        modules = {
            "rnn_tanh": lambda **o: rnn_spec(3, 4, **o),
            "rnn_relu": lambda **o: rnn_spec(4, 3, nonlinearity="relu", **o),
            "lstm": lambda **o: lstm_spec(3, 5, **o),
            "lstm_proj": lambda **o: lstm_spec(4, 5, proj_size=3, **o),
            "gru": lambda **o: gru_spec(3, 4, **o),
        }
        lengths = {
            "equal_enforced": ([4, 4, 4], True),
            "equal_free": ([3, 3, 3, 3], False),
            "sorted_enforced": ([5, 3, 3, 1], True),
            "sorted_free": ([4, 2, 1], False),
            "unsorted": ([2, 5, 1, 3], False),
        }
        factors = [
            ("module", list(modules)),
            ("lengths", list(lengths)),
            ("batch_first", [False, True]),
            ("bidirectional", [False, True]),
            ("num_layers", [1, 2]),
            ("state", [False, True]),
        ]
        for i, c in enumerate(pairwise(factors)):
            name = "packed_{:02d}_{}_{}_l{}{}{}_{}".format(
                i, c["module"], c["lengths"], c["num_layers"], "_bi" if c["bidirectional"] else "",
                "_bf" if c["batch_first"] else "", "state" if c["state"] else "nostate")
            spec = modules[c["module"]](num_layers=c["num_layers"], batch_first=c["batch_first"],
                                        bidirectional=c["bidirectional"])
            values, enforce_sorted = lengths[c["lengths"]]
            self.packed(name, spec, values, enforce_sorted, c["state"])
        self.packed("packed_lstm_train_dropout_l2_unsorted", lstm_spec(3, 4, num_layers=2, dropout=0.5),
                    [3, 1, 4], False, True, training=True, forward_seed=999)

    # RNNCell --------------------------------------------------------------------------------

    def cell(self, name, spec, batch, hx):
        """One step of an RNNCell, GRUCell or LSTMCell; for the LSTM the state is (hx, cx) and
        the outputs h' ("output") and c' ("c")."""
        module, g = seeded_module(name, spec)
        lead = () if batch is None else (batch,)
        lstm = spec["kind"] == "lstm_cell"
        inputs = {"input": leaf(torch.randn(lead + (spec["input_size"],), generator=g))}
        if hx:
            for n in ("hx", "cx") if lstm else ("hx",):
                inputs[n] = leaf(torch.randn(lead + (spec["hidden_size"],), generator=g))
        params = parameters(module)
        state = (inputs["hx"], inputs["cx"]) if lstm and hx else inputs.get("hx")
        out = module(inputs["input"], state)
        outputs = {"output": out[0], "c": out[1]} if lstm else {"output": out}
        probes = {n: torch.randn(t.shape, generator=g) for n, t in outputs.items()}
        self.record(name, spec, module, inputs, list(inputs), outputs, probes, params_before=params)

    def rnn_cell_cases(self):
        factors = [
            ("batch", [None, 1, 3]),
            ("hx", [False, True]),
            ("bias", [True, False]),
            ("nonlinearity", ["tanh", "relu"]),
        ]
        for i, c in enumerate(pairwise(factors)):
            name = "rnn_cell_{:02d}_{}_{}{}_{}".format(
                i,
                "unbatched" if c["batch"] is None else f"b{c['batch']}",
                "hx" if c["hx"] else "nohx",
                "" if c["bias"] else "_nobias",
                c["nonlinearity"],
            )
            spec = rnn_cell_spec(3 + i % 2, 5, bias=c["bias"], nonlinearity=c["nonlinearity"])
            self.cell(name, spec, c["batch"], c["hx"])

    def gated_cell_cases(self, kind):
        factors = [("batch", [None, 1, 3]), ("hx", [False, True]), ("bias", [True, False])]
        for i, c in enumerate(pairwise(factors)):
            name = "{}_{:02d}_{}_{}{}".format(kind, i, "unbatched" if c["batch"] is None else f"b{c['batch']}",
                                              "hx" if c["hx"] else "nohx", "" if c["bias"] else "_nobias")
            self.cell(name, gated_cell_spec(kind, 3 + i % 2, 5, bias=c["bias"]), c["batch"], c["hx"])

    # Embedding ------------------------------------------------------------------------------

    def embedding(self, name, spec, indices):
        seed = case_seed(name)
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed + 1)
        pretrained = None
        if spec["pretrained_freeze"] is not None:
            pretrained = torch.randn(spec["num_embeddings"], spec["embedding_dim"], generator=g)
        module = build(spec, pretrained=pretrained).to(DEVICE)
        params = parameters(module)
        inputs = {"input": on_device(indices)}
        out = module(indices)
        outputs = {"output": out}
        probes = {"output": torch.randn(out.shape, generator=g)}
        if spec["max_norm"] is not None:
            outputs["weight_after"] = module.weight.detach().clone()
        self.record(name, spec, module, inputs, [], outputs, probes, params_before=params)

    def embedding_cases(self):
        def idx(*values):
            return torch.tensor(values, dtype=torch.int64)

        two_d = idx(1, 2, 4, 2, 0, 9, 9, 3, 2, 7, 5, 2, 8, 1, 6).view(3, 5)
        self.embedding("emb_plain_2d", embedding_spec(10, 4), two_d)
        self.embedding("emb_plain_1d", embedding_spec(6, 3), idx(5, 0, 3, 3, 1))
        self.embedding("emb_plain_0d", embedding_spec(6, 3), torch.tensor(4))
        self.embedding("emb_plain_3d", embedding_spec(8, 5), idx(0, 7, 3, 3, 1, 6, 2, 2, 5, 4, 7, 0).view(2, 3, 2))
        self.embedding("emb_padding_pos", embedding_spec(10, 4, padding_idx=2), two_d)
        self.embedding("emb_padding_neg", embedding_spec(10, 4, padding_idx=-1), two_d)
        self.embedding("emb_max_norm_l2", embedding_spec(10, 4, max_norm=1.0), two_d)
        self.embedding("emb_max_norm_l1", embedding_spec(10, 4, max_norm=1.5, norm_type=1.0), two_d)
        self.embedding("emb_max_norm_l3_padding", embedding_spec(10, 4, padding_idx=9, max_norm=0.8, norm_type=3.0),
                       two_d)
        self.embedding("emb_scale_grad_by_freq", embedding_spec(10, 4, scale_grad_by_freq=True), two_d)
        self.embedding("emb_scale_grad_by_freq_padding",
                       embedding_spec(10, 4, padding_idx=2, scale_grad_by_freq=True), two_d)
        self.embedding("emb_sparse", embedding_spec(10, 4, sparse=True), two_d)
        # (scale_grad_by_freq with sparse=True is refused by embedding_backward.)
        self.embedding("emb_sparse_padding_neg", embedding_spec(10, 4, padding_idx=-2, sparse=True), two_d)
        self.embedding("emb_pretrained_freeze", embedding_spec(10, 4, pretrained_freeze=True), two_d)
        self.embedding("emb_pretrained_trainable_padding",
                       embedding_spec(10, 4, padding_idx=9, pretrained_freeze=False), two_d)

    # Linear ---------------------------------------------------------------------------------

    def linear(self, name, spec, lead):
        module, g = seeded_module(name, spec)
        params = parameters(module)
        inputs = {"input": leaf(torch.randn(tuple(lead) + (spec["in_features"],), generator=g))}
        out = module(inputs["input"])
        probes = {"output": torch.randn(out.shape, generator=g)}
        self.record(name, spec, module, inputs, ["input"], {"output": out}, probes, params_before=params)

    def linear_cases(self):
        for bias in (True, False):
            for lead in ((), (3,), (2, 3)):
                name = f"linear_{'bias' if bias else 'nobias'}_{len(lead) + 1}d"
                self.linear(name, linear_spec(5, 4, bias=bias), lead)

    # CrossEntropyLoss -------------------------------------------------------------------------

    def cross_entropy(self, name, spec, input_shape, target, grad_target=False):
        """`target`: an int64 tensor of class indices, or "prob" for class probabilities."""
        seed = case_seed(name)
        g = torch.Generator().manual_seed(seed + 1)
        classes = input_shape[0] if len(input_shape) == 1 else input_shape[1]
        buffers = {}
        if spec["weight"]:
            buffers["weight"] = torch.rand(classes, generator=g) + 0.5
        module = build(spec, buffers=buffers).to(DEVICE)
        inputs = {"input": leaf(torch.randn(input_shape, generator=g))}
        if isinstance(target, str):
            assert target == "prob"
            dim = 0 if len(input_shape) == 1 else 1
            target = torch.randn(input_shape, generator=g).softmax(dim)
            target = leaf(target) if grad_target else target
        inputs["target"] = on_device(target)
        out = module(inputs["input"], inputs["target"])
        probes = {"output": torch.randn(out.shape, generator=g)}
        grad_inputs = ["input"] + (["target"] if grad_target else [])
        self.record(name, spec, None, inputs, grad_inputs, {"output": out}, probes, buffers=buffers)

    def cross_entropy_cases(self):
        def idx(*values):
            return torch.tensor(values, dtype=torch.int64)

        t5 = idx(0, 3, 1, 3, 2)
        t5_ignored = idx(0, -100, 1, 3, -100)
        t5_ignore1 = idx(1, 3, 1, 0, 2)
        for reduction in ("none", "mean", "sum"):
            self.cross_entropy(f"ce_index_{reduction}", cross_entropy_spec(reduction=reduction), (5, 4), t5)
            self.cross_entropy(f"ce_index_weight_ignore_{reduction}",
                               cross_entropy_spec(weight=True, ignore_index=1, reduction=reduction), (5, 4), t5_ignore1)
            self.cross_entropy(f"ce_index_weight_smoothing_{reduction}",
                               cross_entropy_spec(weight=True, reduction=reduction, label_smoothing=0.2), (5, 4),
                               t5_ignored)
        self.cross_entropy("ce_index_default_ignore_mean", cross_entropy_spec(), (5, 4), t5_ignored)
        self.cross_entropy("ce_index_smoothing_ignore_sum",
                           cross_entropy_spec(ignore_index=3, reduction="sum", label_smoothing=0.1), (5, 4), t5)
        self.cross_entropy("ce_1d_input_mean", cross_entropy_spec(), (4,), torch.tensor(2))
        self.cross_entropy("ce_1d_input_weight_none", cross_entropy_spec(weight=True, reduction="none"), (4,),
                           torch.tensor(1))
        t_nd = idx(0, 2, 1, 2, 2, 0, 1, 0).view(2, 4)
        self.cross_entropy("ce_nd_weight_ignore_sum",
                           cross_entropy_spec(weight=True, ignore_index=0, reduction="sum"), (2, 3, 4), t_nd)
        self.cross_entropy("ce_nd_smoothing_none", cross_entropy_spec(reduction="none", label_smoothing=0.3),
                           (2, 3, 4), t_nd)
        self.cross_entropy("ce_nd_mean", cross_entropy_spec(), (2, 3, 4), t_nd)
        self.cross_entropy("ce_prob_mean", cross_entropy_spec(), (5, 4), "prob", grad_target=True)
        self.cross_entropy("ce_prob_smoothing_sum", cross_entropy_spec(reduction="sum", label_smoothing=0.25),
                           (5, 4), "prob", grad_target=True)
        self.cross_entropy("ce_prob_weight_mean", cross_entropy_spec(weight=True), (5, 4), "prob", grad_target=True)
        self.cross_entropy("ce_prob_weight_smoothing_none",
                           cross_entropy_spec(weight=True, reduction="none", label_smoothing=0.15), (5, 4), "prob",
                           grad_target=True)
        self.cross_entropy("ce_prob_nd_weight_smoothing_mean",
                           cross_entropy_spec(weight=True, label_smoothing=0.05), (2, 3, 4), "prob", grad_target=True)
        self.cross_entropy("ce_prob_1d_sum", cross_entropy_spec(reduction="sum"), (4,), "prob")


# ---------------------------------------------------------------------------------------------
# Initialisation and interop


TUTORIAL_MODEL = [
    {"prefix": "emb", "module": embedding_spec(4, 10)},
    {"prefix": "rnn", "module": rnn_spec(10, 8, num_layers=2, batch_first=True)},
    {"prefix": "fc", "module": linear_spec(8, 4)},
]

# A model with LSTM (projected, bidirectional, 2 layers) and GRU layers, for state_dict interop.
GATED_MODEL = [
    {"prefix": "emb", "module": embedding_spec(6, 5)},
    {"prefix": "lstm", "module": lstm_spec(5, 8, num_layers=2, batch_first=True, bidirectional=True, proj_size=4)},
    {"prefix": "gru", "module": gru_spec(8, 6, batch_first=True)},
    {"prefix": "fc", "module": linear_spec(6, 6)},
]

INIT_MODELS = {
    "rnn_default": [{"prefix": "", "module": rnn_spec(5, 4)}],
    "rnn_l2_bi_nobias": [{"prefix": "", "module": rnn_spec(3, 6, num_layers=2, bias=False, bidirectional=True)}],
    "rnn_l3_relu_bf_dropout": [{"prefix": "", "module": rnn_spec(4, 3, num_layers=3, nonlinearity="relu",
                                                                 batch_first=True, dropout=0.2)}],
    "lstm_default": [{"prefix": "", "module": lstm_spec(5, 4)}],
    "lstm_l2_bi_proj_nobias": [{"prefix": "", "module": lstm_spec(3, 6, num_layers=2, bias=False, bidirectional=True,
                                                                  proj_size=3)}],
    "gru_default": [{"prefix": "", "module": gru_spec(5, 4)}],
    "gru_l2_bi_bf": [{"prefix": "", "module": gru_spec(4, 5, num_layers=2, bidirectional=True, batch_first=True)}],
    "rnn_cell": [{"prefix": "", "module": rnn_cell_spec(5, 4)}],
    "rnn_cell_nobias_relu": [{"prefix": "", "module": rnn_cell_spec(3, 7, bias=False, nonlinearity="relu")}],
    "lstm_cell": [{"prefix": "", "module": gated_cell_spec("lstm_cell", 5, 4)}],
    "gru_cell_nobias": [{"prefix": "", "module": gated_cell_spec("gru_cell", 3, 7, bias=False)}],
    "embedding_padding": [{"prefix": "", "module": embedding_spec(10, 6, padding_idx=2)}],
    "embedding_padding_neg": [{"prefix": "", "module": embedding_spec(7, 3, padding_idx=-1)}],
    "linear": [{"prefix": "", "module": linear_spec(8, 4)}],
    "linear_nobias": [{"prefix": "", "module": linear_spec(5, 3, bias=False)}],
    "tutorial": TUTORIAL_MODEL,
    "gated": GATED_MODEL,
}


def build_model(model: list[dict]) -> torch.nn.Module:
    """The modules of `model`, built in order as children of one container."""
    container = torch.nn.Module()
    for part in model:
        module = build(part["module"])
        if part["prefix"]:
            container.add_module(part["prefix"], module)
        else:
            assert len(model) == 1
            return module
    return container


def init_cases(store: Tensors) -> dict:
    names = {}
    for model_name, model in INIT_MODELS.items():
        for seed in INIT_SEEDS:
            torch.manual_seed(seed)
            module = build_model(model)
            state = [(n, t) for n, t in module.named_parameters()]
            for n, t in state:
                store.add(f"init/{model_name}/s{seed}/{n}", t)
            shapes = [[n, list(t.shape)] for n, t in state]
            assert names.setdefault(model_name, shapes) == shapes
    return {"seeds": INIT_SEEDS, "models": INIT_MODELS, "params": names}


def tutorial_forward(model, x, h0=None):
    """emb -> rnn(h0) -> fc: the logits and the final states."""
    out, h_n = model.rnn(model.emb(x), h0)
    return model.fc(out), {"h_n": h_n}


def gated_forward(model, x, h0=None, c0=None, gru_h0=None):
    """emb -> lstm((h0, c0)) -> gru(gru_h0) -> fc: the logits and the final states."""
    out, (h_n, c_n) = model.lstm(model.emb(x), None if h0 is None else (h0, c0))
    out, gru_h_n = model.gru(out, gru_h0)
    return model.fc(out), {"h_n": h_n, "c_n": c_n, "gru_h_n": gru_h_n}


INTEROP = {
    "tutorial": dict(parts=TUTORIAL_MODEL, forward=tutorial_forward, states={"h0": (2, 2, 8)},
                     pipeline="emb -> rnn(h0) -> fc"),
    "gated": dict(parts=GATED_MODEL, forward=gated_forward,
                  states={"h0": (4, 2, 4), "c0": (4, 2, 8), "gru_h0": (1, 2, 6)},
                  pipeline="emb -> lstm((h0, c0)) -> gru(gru_h0) -> fc"),
}


def interop_case(store: Tensors, out_dir: Path, name: str) -> dict:
    """A model with a seed of its own, in eval mode: its state_dict goes to a safetensors file of
    its own, and its forward results on a fixed input, with the mean cross entropy of the
    logits, to reference.safetensors under interop/<name>/."""
    spec = INTEROP[name]
    seed = case_seed("interop" if name == "tutorial" else f"interop_{name}")
    torch.manual_seed(seed)
    model = build_model(spec["parts"])
    model.eval()
    classes = spec["parts"][-1]["module"]["out_features"]
    vocabulary = spec["parts"][0]["module"]["num_embeddings"]
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randint(0, vocabulary, (2, 5), generator=g)
    states = {n: torch.randn(shape, generator=g) for n, shape in spec["states"].items()}
    target = torch.randint(0, classes, (2, 5), generator=g)
    with torch.no_grad():
        logits, finals = spec["forward"](model, x, **states)
        loss = torch.nn.CrossEntropyLoss()(logits.reshape(-1, classes), target.reshape(-1))
    for n, t in {"input": x, **states, "target": target, "logits": logits, **finals, "loss": loss}.items():
        store.add(f"interop/{name}/{n}", t)
    state_dict = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    state_dict_file = f"{name}_state_dict.safetensors"
    save_tensors(state_dict, out_dir / state_dict_file)
    return {"model": spec["parts"], "state_dict_file": state_dict_file, "state_dict_keys": sorted(state_dict),
            "states": list(states), "finals": list(finals),
            "pipeline": spec["pipeline"] + f"; CrossEntropyLoss(mean) on logits.reshape(-1, {classes}), target.reshape(-1)"}


def export(root: Path, device: str = "cpu") -> str:
    """Writes every case into `root`/nn (single-threaded; on the CPU with deterministic
    algorithms) and returns a one-line summary. The parity cases run on `device`."""
    global DEVICE
    DEVICE = torch.device(device)
    out_dir = root / "nn"
    torch.set_num_threads(1)
    if DEVICE.type == "cpu":
        torch.use_deterministic_algorithms(True)
    out_dir.mkdir(parents=True, exist_ok=True)

    store = Tensors()
    parity = Parity(store)
    parity.rnn_cases()
    parity.gated_cases("lstm")
    parity.gated_cases("gru")
    parity.packed_cases()
    parity.rnn_cell_cases()
    parity.gated_cell_cases("lstm_cell")
    parity.gated_cell_cases("gru_cell")
    parity.embedding_cases()
    parity.linear_cases()
    parity.cross_entropy_cases()
    init = init_cases(store)
    interop = {name: interop_case(store, out_dir, name) for name in INTEROP}

    doc = {
        "generator": "scripts/export_reference.py",
        "torch_version": torch.__version__.split("+")[0],
        # The ATen code path of the exporting process: the random draws of initialisation are
        # bit-identical across vectorised paths (AVX2, AVX512) but not with DEFAULT.
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "device": str(DEVICE),
        "tensors_file": TENSORS_FILE,
        "parity": parity.cases,
        "init": init,
        "interop": interop,
    }
    save_tensors(store.tensors, out_dir / TENSORS_FILE)
    write_atomically(out_dir / CASES_FILE, (json.dumps(doc, sort_keys=True, indent=1) + "\n").encode())
    counts: dict[str, int] = {}
    for case in parity.cases:
        counts[case["module"]["kind"]] = counts.get(case["module"]["kind"], 0) + 1
    return f"{len(parity.cases)} parity cases {counts}, {len(store.tensors)} tensors"


# ---------------------------------------------------------------------------------------------
# MultiheadAttention: its own fixture folder, <root>/attention/ (cases.json, reference.safetensors
# and the interop state_dicts), with the same key layout as nn/ for the parity cases
# (parity/{case}/param|input|output|probe|grad/...), init/{model}/s{seed}/{name} and
# interop/{model}/{name}.

ATTENTION_DIR = "attention"


def mha_spec(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False, kdim=None,
             vdim=None, batch_first=False) -> dict:
    return dict(kind="multihead_attention", embed_dim=embed_dim, num_heads=num_heads, dropout=dropout, bias=bias,
                add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn, kdim=kdim, vdim=vdim, batch_first=batch_first)


def build_mha(spec: dict) -> torch.nn.MultiheadAttention:
    return torch.nn.MultiheadAttention(spec["embed_dim"], spec["num_heads"], dropout=spec["dropout"], bias=spec["bias"],
                                       add_bias_kv=spec["add_bias_kv"], add_zero_attn=spec["add_zero_attn"],
                                       kdim=spec["kdim"], vdim=spec["vdim"], batch_first=spec["batch_first"])


def attention_mask(kind, shape, g) -> torch.Tensor:
    """A mask of `shape` whose last dimension is the source: "bool" masks about a third of the
    positions (never the first, so no row is masked whole), "float" adds N(0, 0.5^2) scores and
    -inf at the same kind of positions."""
    blocked = torch.rand(shape, generator=g) < 0.35
    blocked[..., 0] = False
    if kind == "bool":
        return blocked
    return (torch.randn(shape, generator=g) * 0.5).masked_fill(blocked, float("-inf"))


def padding_mask(kind, batch, src_len) -> torch.Tensor:
    """Padding at the end of the sequences of a batch: entry b has src_len - (b % 2) - (b // 2)
    positions (at least 1); `batch` None for an unbatched (S) mask with one padded position."""
    lengths = [src_len - 1] if batch is None else [max(1, src_len - (b % 2) - b // 2) for b in range(batch)]
    blocked = torch.arange(src_len).unsqueeze(0) >= torch.tensor(lengths).unsqueeze(1)
    blocked = blocked[0] if batch is None else blocked
    if kind == "bool":
        return blocked
    return torch.zeros(blocked.shape).masked_fill(blocked, float("-inf"))


def pairwise_greedy(factors: list[tuple[str, list]]) -> list[dict]:
    """Like `pairwise`, for more factors: each new combination starts from the first uncovered
    pair (in factor order) and takes, factor by factor, the value covering most uncovered pairs
    with the values already chosen (ties to the first value). Deterministic and fast."""
    n = len(factors)
    sizes = [len(values) for _, values in factors]
    uncovered = {(i, a, j, b) for i in range(n) for j in range(i + 1, n) for a in range(sizes[i]) for b in range(sizes[j])}
    chosen = []
    while uncovered:
        i, a, j, b = min(uncovered)
        row = {i: a, j: b}
        for f in range(n):
            if f in row:
                continue
            def gain(v):
                return sum(((min(f, g), v if f < g else row[g], max(f, g), row[g] if f < g else v) in uncovered)
                           for g in row)
            row[f] = max(range(sizes[f]), key=lambda v: (gain(v), -v))
        chosen.append(tuple(row[f] for f in range(n)))
        uncovered -= {(p, chosen[-1][p], q, chosen[-1][q]) for p in range(n) for q in range(p + 1, n)}
    return [{name: values[idx] for (name, values), idx in zip(factors, c)} for c in chosen]


class AttentionParity:
    def __init__(self, store: Tensors) -> None:
        self.parity = Parity(store)

    def case(self, name, spec, *, batch, tgt_len, src_len, identity="none", key_padding_mask=None, attn_mask=None,
             need_weights=True, average_attn_weights=True, is_causal=False, training=False, forward_seed=None,
             no_grad=False):
        """One forward (and backward, unless `no_grad`) of a MultiheadAttention. `identity`:
        "self" (query, key and value are one tensor), "kv" (key and value are one tensor) or
        "none"; masks None, "bool" or "float" ("bool_causal" for the causal attn_mask)."""
        seed = case_seed(name)
        torch.manual_seed(seed)
        module = build_mha(spec).to(DEVICE)
        module.train(training)
        g = torch.Generator().manual_seed(seed + 1)
        e, kdim, vdim = spec["embed_dim"], spec["kdim"] or spec["embed_dim"], spec["vdim"] or spec["embed_dim"]

        def shaped(length, features):
            if batch is None:
                return (length, features)
            return (batch, length, features) if spec["batch_first"] else (length, batch, features)

        make = (lambda t: t.to(DEVICE)) if no_grad else leaf
        inputs = {"query": make(torch.randn(shaped(tgt_len, e), generator=g))}
        if identity == "self":
            assert tgt_len == src_len and kdim == vdim == e
            query = key = value = inputs["query"]
        else:
            inputs["key"] = make(torch.randn(shaped(src_len, kdim), generator=g))
            if identity == "kv":
                assert kdim == vdim
                key = value = inputs["key"]
            else:
                inputs["value"] = make(torch.randn(shaped(src_len, vdim), generator=g))
                key, value = inputs["key"], inputs["value"]
            query = inputs["query"]
        grad_inputs = [] if no_grad else list(inputs)
        heads_batch = spec["num_heads"] * (batch or 1)
        kpm = am = None
        if key_padding_mask is not None:
            kpm = inputs["key_padding_mask"] = padding_mask(key_padding_mask, batch, src_len).to(DEVICE)
        if attn_mask is not None:
            if attn_mask == "bool_causal":
                am = torch.ones(tgt_len, src_len, dtype=torch.bool).triu(1)
            else:
                kind, dims = attn_mask.split("_")
                am = attention_mask(kind, (tgt_len, src_len) if dims == "2d" else (heads_batch, tgt_len, src_len), g)
            am = inputs["attn_mask"] = am.to(DEVICE)
        params = parameters(module)
        if forward_seed is not None:
            torch.manual_seed(forward_seed)
        native = torch._native_multi_head_attention
        fused = []

        def counting(*args, **kwargs):
            fused.append(True)
            return native(*args, **kwargs)

        torch._native_multi_head_attention = counting  # to record whether PyTorch took its fast path
        try:
            with torch.no_grad() if no_grad else contextlib.nullcontext():
                out, weights = module(query, key, value, key_padding_mask=kpm, need_weights=need_weights,
                                      attn_mask=am, average_attn_weights=average_attn_weights, is_causal=is_causal)
        finally:
            torch._native_multi_head_attention = native
        outputs = {"output": out}
        if weights is not None:
            outputs["weights"] = weights
        probes = {} if no_grad else {n: torch.randn(t.shape, generator=g) for n, t in outputs.items()}
        self.parity.record(name, spec, module, inputs, grad_inputs, outputs, probes, params_before=params,
                           training=training, forward_seed=forward_seed)
        self.parity.cases[-1].update(identity=identity, options=dict(
            key_padding_mask=key_padding_mask, attn_mask=attn_mask, need_weights=need_weights,
            average_attn_weights=average_attn_weights, is_causal=is_causal), no_grad=no_grad, fast_path=bool(fused))

    def grid(self):
        """Every pair of option values in some case, with gradients."""
        factors = [
            ("num_heads", [1, 2, 4]),
            ("batch", [None, 1, 3]),
            ("batch_first", [False, True]),
            ("bias", [True, False]),
            ("add_bias_kv", [False, True]),
            ("add_zero_attn", [False, True]),
            ("dims", ["same", "kv3", "k3v5"]),
            ("identity", ["self", "kv", "none"]),
            ("key_padding_mask", [None, "bool", "float"]),
            ("attn_mask", [None, "bool_2d", "float_2d", "bool_3d", "float_3d"]),
            ("need_weights", [True, False]),
            ("average_attn_weights", [True, False]),
        ]
        for i, c in enumerate(pairwise_greedy(factors)):
            kdim, vdim = {"same": (None, None), "kv3": (3, 3), "k3v5": (3, 5)}[c["dims"]]
            identity = c["identity"]
            if identity == "self" and c["dims"] != "same":
                identity = "kv" if kdim == vdim else "none"
            if identity == "kv" and kdim != vdim:
                identity = "none"
            name = "mha_{:02d}_h{}_{}{}{}{}{}_{}_{}{}{}_{}{}".format(
                i, c["num_heads"], "unbatched" if c["batch"] is None else f"b{c['batch']}",
                "_bf" if c["batch_first"] else "", "" if c["bias"] else "_nobias",
                "_biaskv" if c["add_bias_kv"] else "", "_zeroattn" if c["add_zero_attn"] else "",
                c["dims"], identity, f"_kpm{c['key_padding_mask']}" if c["key_padding_mask"] else "",
                f"_am{c['attn_mask']}" if c["attn_mask"] else "",
                "weights" if c["need_weights"] else "noweights",
                "" if c["average_attn_weights"] else "_perhead")
            spec = mha_spec(4, c["num_heads"], bias=c["bias"], add_bias_kv=c["add_bias_kv"],
                            add_zero_attn=c["add_zero_attn"], kdim=kdim, vdim=vdim, batch_first=c["batch_first"])
            src_len = 4 if identity == "self" else 5
            self.case(name, spec, batch=c["batch"], tgt_len=4, src_len=src_len, identity=identity,
                      key_padding_mask=c["key_padding_mask"], attn_mask=c["attn_mask"],
                      need_weights=c["need_weights"], average_attn_weights=c["average_attn_weights"])

    def special(self):
        """The causal hint, dropout in training, and PyTorch's fused inference path."""
        for weights in (True, False):
            for kpm in (None, "bool"):
                self.case(f"mha_causal_{'weights' if weights else 'noweights'}{'_kpm' if kpm else ''}",
                          mha_spec(6, 2), batch=2, tgt_len=5, src_len=5, identity="self", attn_mask="bool_causal",
                          is_causal=True, need_weights=weights, key_padding_mask=kpm)
        self.case("mha_causal_unbatched_bf", mha_spec(4, 1, batch_first=True), batch=None, tgt_len=4, src_len=4,
                  identity="self", attn_mask="bool_causal", is_causal=True, need_weights=False)
        for weights in (True, False):
            self.case(f"mha_train_dropout_{'weights' if weights else 'noweights'}", mha_spec(8, 2, dropout=0.5),
                      batch=3, tgt_len=4, src_len=6, identity="kv", key_padding_mask="bool", need_weights=weights,
                      training=True, forward_seed=2024)
        self.case("mha_eval_dropout", mha_spec(8, 2, dropout=0.5), batch=3, tgt_len=4, src_len=6, identity="kv",
                  training=False)
        self.case("mha_big_bf_biaskv_zeroattn", mha_spec(12, 3, add_bias_kv=True, add_zero_attn=True, kdim=7, vdim=5,
                                                         batch_first=True),
                  batch=4, tgt_len=6, src_len=7, key_padding_mask="bool", attn_mask="float_3d",
                  average_attn_weights=False)
        # PyTorch's fast path: eval, no grad, batched batch_first self-attention, even heads, bias.
        fast = mha_spec(8, 2, batch_first=True)
        for kpm in (None, "bool"):
            for am in (None, "bool_2d", "bool_3d"):
                for weights, average in ((True, True), (True, False), (False, True)):
                    name = "mha_fast_{}{}_{}".format(f"kpm_" if kpm else "", f"am{am}" if am else "nomask",
                                                     "noweights" if not weights else "avg" if average else "perhead")
                    self.case(name, fast, batch=3, tgt_len=5, src_len=5, identity="self", key_padding_mask=kpm,
                              attn_mask=am, need_weights=weights, average_attn_weights=average, no_grad=True)
        # Inference without gradients that PyTorch keeps off the fast path, for each reason.
        self.case("mha_nograd_float_mask", fast, batch=2, tgt_len=5, src_len=5, identity="self", attn_mask="float_2d",
                  no_grad=True)
        self.case("mha_nograd_odd_heads", mha_spec(6, 3, batch_first=True), batch=2, tgt_len=4, src_len=4,
                  identity="self", key_padding_mask="bool", no_grad=True)
        self.case("mha_nograd_seq_first", mha_spec(8, 2), batch=2, tgt_len=4, src_len=4, identity="self",
                  no_grad=True)
        self.case("mha_nograd_training", mha_spec(8, 2, batch_first=True), batch=2, tgt_len=4, src_len=4,
                  identity="self", training=True, no_grad=True)
        self.case("mha_nograd_nobias", mha_spec(8, 2, bias=False, batch_first=True), batch=2, tgt_len=4, src_len=4,
                  identity="self", no_grad=True)
        self.case("mha_nograd_cross", mha_spec(8, 2, batch_first=True), batch=2, tgt_len=4, src_len=6, identity="kv",
                  no_grad=True)
        self.case("mha_nograd_unbatched", mha_spec(8, 2, batch_first=True), batch=None, tgt_len=4, src_len=4,
                  identity="self", no_grad=True)


ATTENTION_INIT_MODELS = {
    "mha_default": mha_spec(8, 2),
    "mha_nobias_bf": mha_spec(6, 3, bias=False, batch_first=True),
    "mha_biaskv_zeroattn": mha_spec(4, 1, add_bias_kv=True, add_zero_attn=True),
    "mha_kdim_vdim_biaskv": mha_spec(8, 4, kdim=3, vdim=5, add_bias_kv=True),
    "mha_kdim_nobias": mha_spec(5, 1, kdim=7, bias=False),
}

# The interop models: a state_dict saved by PyTorch, and one forward (eval, with gradients on,
# so the explicit path) on fixed inputs.
ATTENTION_INTEROP = {
    "packed": dict(spec=mha_spec(8, 2, batch_first=True), tgt_len=4, src_len=6),
    "separate": dict(spec=mha_spec(6, 3, add_bias_kv=True, kdim=4, vdim=5), tgt_len=3, src_len=5),
}


def attention_interop_inputs(name: str):
    """The interop model `name` (eval mode) after its own seed, and its inputs."""
    entry = ATTENTION_INTEROP[name]
    spec = entry["spec"]
    seed = case_seed(f"attention_interop_{name}")
    torch.manual_seed(seed)
    module = build_mha(spec).eval()
    g = torch.Generator().manual_seed(seed + 1)
    e, kdim, vdim = spec["embed_dim"], spec["kdim"] or spec["embed_dim"], spec["vdim"] or spec["embed_dim"]

    def shaped(length, features):
        return (2, length, features) if spec["batch_first"] else (length, 2, features)

    query = torch.randn(shaped(entry["tgt_len"], e), generator=g)
    key = torch.randn(shaped(entry["src_len"], kdim), generator=g)
    value = torch.randn(shaped(entry["src_len"], vdim), generator=g)
    return module, {"query": query, "key": key, "value": value}


def attention_interop_case(store: Tensors, out_dir: Path, name: str) -> dict:
    module, inputs = attention_interop_inputs(name)
    output, weights = module(inputs["query"], inputs["key"], inputs["value"])
    for n, t in {**inputs, "output": output, "weights": weights}.items():
        store.add(f"interop/{name}/{n}", t)
    state_dict = {k: v.detach().clone().contiguous() for k, v in module.state_dict().items()}
    state_dict_file = f"mha_{name}_state_dict.safetensors"
    save_tensors(state_dict, out_dir / state_dict_file)
    return {"module": ATTENTION_INTEROP[name]["spec"], "state_dict_file": state_dict_file,
            "state_dict_keys": sorted(state_dict)}


def counting_input(shape) -> torch.Tensor:
    """`((arange(n) % 7 - 3) / 4).view(shape)`: float values that every CPU computes exactly (a
    random draw would differ in its last bits between ATen's code paths)."""
    n = 1
    for size in shape:
        n *= size
    return ((torch.arange(n) % 7 - 3).float() / 4).view(shape)


def attention_state_dict_check(name: str, path: str) -> None:
    """Loads a state_dict saved by Rust into interop model `name`, strictly, and prints its
    output (eval mode) on `counting_input`s of the interop inputs' shapes, one float per line
    (repr, so every bit survives)."""
    from safetensors.torch import load_file

    torch.set_num_threads(1)
    module, inputs = attention_interop_inputs(name)
    module.load_state_dict(load_file(path), strict=True)
    query, key, value = (counting_input(inputs[n].shape) for n in ("query", "key", "value"))
    output, _ = module(query, key, value)
    for value in output.detach().flatten().tolist():
        print(repr(value))


def export_attention(root: Path) -> str:
    """Writes the MultiheadAttention cases into `root`/attention (single-threaded, deterministic
    algorithms on the CPU) and returns a one-line summary."""
    out_dir = root / ATTENTION_DIR
    torch.set_num_threads(1)
    if DEVICE.type == "cpu":
        torch.use_deterministic_algorithms(True)
    out_dir.mkdir(parents=True, exist_ok=True)
    store = Tensors()
    attention = AttentionParity(store)
    attention.grid()
    attention.special()
    init = {"seeds": INIT_SEEDS, "models": ATTENTION_INIT_MODELS, "params": {}}
    for model_name, spec in ATTENTION_INIT_MODELS.items():
        for seed in INIT_SEEDS:
            torch.manual_seed(seed)
            module = build_mha(spec)
            named = list(module.named_parameters())
            for n, t in named:
                store.add(f"init/{model_name}/s{seed}/{n}", t)
            shapes = [[n, list(t.shape)] for n, t in named]
            assert init["params"].setdefault(model_name, shapes) == shapes
    interop = {name: attention_interop_case(store, out_dir, name) for name in ATTENTION_INTEROP}
    doc = {
        "generator": "scripts/export_reference.py",
        "torch_version": torch.__version__.split("+")[0],
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "device": str(DEVICE),
        "tensors_file": TENSORS_FILE,
        "parity": attention.parity.cases,
        "init": init,
        "interop": interop,
    }
    save_tensors(store.tensors, out_dir / TENSORS_FILE)
    write_atomically(out_dir / CASES_FILE, (json.dumps(doc, sort_keys=True, indent=1) + "\n").encode())
    return f"{len(attention.parity.cases)} attention cases, {len(store.tensors)} tensors"


def main() -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--device", default="cpu", help="run the parity cases on this device (default: cpu)")
    parser.add_argument("--only", choices=["nn", "attention"], help="export only nn/ or only attention/")
    parser.add_argument("--attention-state-dict", nargs=2, metavar=("MODEL", "FILE"),
                        help="load FILE (saved by Rust) into attention interop MODEL strictly and print its output")
    args = parser.parse_args()
    if args.attention_state_dict:
        attention_state_dict_check(*args.attention_state_dict)
        return 0
    if not torch.__version__.startswith(EXPECTED_TORCH):
        print(f"export_reference: expected torch {EXPECTED_TORCH}, got {torch.__version__}", file=sys.stderr)
        return 1
    if args.only != "attention":
        print(f"export_reference: {export(args.root, args.device)} in {args.root / 'nn'}")
    if args.only != "nn":
        print(f"export_reference: {export_attention(args.root)} in {args.root / ATTENTION_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
