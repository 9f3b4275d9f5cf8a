"""Trains the tutorial's Embedding + RNN + Linear model (section 3.3) with torch.optim.Adam and
exports its parameters before and after, and the loss of every epoch, for several runs: the
tutorial's settings for two seeds, and runs that exercise Adam's other options.

tests/adam_parity.rs replays each run with tch_rnn::optim::Adam (expecting PyTorch's parameters
bit for bit) and the plain runs with libtorch's C++ Adam (reporting how far it drifts).
Output: tests/fixtures/optim/adam_hello_embedding.safetensors (or under --root DIR), written
atomically, with keys
"<run>/initial/<name>", "<run>/final/<name>", "<run>/losses" and "<run>/options/<option>"
(a float64 scalar per Adam argument; "seed" too).
Run with the Python that scripts/setup.sh installed:
    .venv/bin/python scripts/export_optim.py [--root DIR]
"""

from pathlib import Path

import torch

from fixture_io import argument_parser, save_tensors
from tutorial_model import INPUTS, LABELS, Model

FILE = "optim/adam_hello_embedding.safetensors"
EPOCHS = 15
TUTORIAL = dict(lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False)
RUNS = {
    "seed_0": dict(seed=0, **TUTORIAL),
    "seed_7": dict(seed=7, **TUTORIAL),
    "seed_0_weight_decay_amsgrad": dict(TUTORIAL, seed=0, weight_decay=0.01, amsgrad=True),
    "seed_7_maximize_betas_eps": dict(TUTORIAL, seed=7, lr=0.01, betas=(0.8, 0.99), eps=1e-6, maximize=True),
}


def train(options: dict, tensors: dict, run: str) -> None:
    inputs = torch.LongTensor(INPUTS)
    labels = torch.LongTensor(LABELS)
    torch.manual_seed(options["seed"])
    net = Model()
    for name, value in net.state_dict().items():
        tensors[f"{run}/initial/{name}"] = value.clone()
    criterion = torch.nn.CrossEntropyLoss()
    adam_args = {k: v for k, v in options.items() if k != "seed"}
    optimizer = torch.optim.Adam(net.parameters(), **adam_args)
    losses = []
    for _ in range(EPOCHS):
        optimizer.zero_grad()
        loss = criterion(net(inputs), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().clone())
    for name, value in net.state_dict().items():
        tensors[f"{run}/final/{name}"] = value.clone()
    tensors[f"{run}/losses"] = torch.stack(losses)
    flat = dict(options, beta1=options["betas"][0], beta2=options["betas"][1])
    del flat["betas"]
    for key, value in flat.items():
        tensors[f"{run}/options/{key}"] = torch.tensor(float(value), dtype=torch.float64)


def export(root: Path) -> str:
    """Trains every run single-threaded and writes the file under `root`; returns a summary."""
    torch.set_num_threads(1)
    tensors = {}
    for run, options in RUNS.items():
        train(options, tensors, run)
    save_tensors(tensors, root / FILE)
    return f"{len(RUNS)} training runs"


def main() -> None:
    root = argument_parser(__doc__).parse_args().root
    print(f"export_optim: {export(root)} in {root / FILE}")


if __name__ == "__main__":
    main()
