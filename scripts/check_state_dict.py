"""Loads a state_dict that Rust saved into the PyTorch model MODEL (one of the interop models
of scripts/export_reference.py: "tutorial" or "gated"), strictly, and prints the model's
logits, in eval mode and from zero states, for the input (arange(10) % vocabulary).view(2, 5),
one float per line (repr of the float, so every bit survives).

Used by tests/state_dict_interop.rs to prove that tch_rnn::nn::save_state_dict writes what
PyTorch's load_state_dict(strict=True) accepts.
Usage: .venv/bin/python scripts/check_state_dict.py MODEL FILE.safetensors
"""

import sys

import torch
from safetensors.torch import load_file

from export_reference import INTEROP, build_model


def main() -> None:
    torch.set_num_threads(1)
    name, path = sys.argv[1], sys.argv[2]
    spec = INTEROP[name]
    model = build_model(spec["parts"])
    model.eval()
    model.load_state_dict(load_file(path), strict=True)
    vocabulary = spec["parts"][0]["module"]["num_embeddings"]
    x = (torch.arange(10) % vocabulary).view(2, 5)
    with torch.no_grad():
        logits, _ = spec["forward"](model, x)
    for value in logits.flatten().tolist():
        print(repr(value))


if __name__ == "__main__":
    main()
