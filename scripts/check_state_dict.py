"""Loads a state_dict that Rust saved into the PyTorch twin of the tutorial's model, strictly,
and prints the model's logits for the tutorial's input, one float per line (repr of the
float, so every bit survives).

Used by tests/state_dict_interop.rs to prove that tch_rnn::nn::save_state_dict writes what
PyTorch's load_state_dict(strict=True) accepts.
Usage: .venv/bin/python scripts/check_state_dict.py FILE.safetensors
"""

import sys

import torch
from safetensors.torch import load_file

from tutorial_model import INPUTS, Model


def main() -> None:
    torch.set_num_threads(1)
    net = Model()
    net.load_state_dict(load_file(sys.argv[1]), strict=True)
    with torch.no_grad():
        logits = net(torch.LongTensor(INPUTS))
    for value in logits.flatten().tolist():
        print(repr(value))


if __name__ == "__main__":
    main()
