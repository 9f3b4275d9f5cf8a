"""Trains the tutorial's Embedding + RNN + Linear model (section 3.3) with torch.optim.Adam and
exports its parameters before and after, and the loss of every epoch.

tests/adam_parity.rs replays the same training with tch_rnn::optim::Adam (expecting PyTorch's
parameters bit for bit) and with libtorch's C++ Adam (reporting how far it drifts).
Output: tests/fixtures/optim/adam_hello_embedding.safetensors, written atomically, with keys
"seed_<s>/initial/<name>", "seed_<s>/final/<name>" and "seed_<s>/losses".
Run with the Python that scripts/setup.sh installed: .venv/bin/python scripts/export_optim.py
"""

from pathlib import Path

import torch

from fixture_io import save_tensors
from tutorial_model import INPUTS, LABELS, Model

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [0, 7]
EPOCHS = 15
LR = 0.05

def main() -> None:
    torch.set_num_threads(1)
    inputs = torch.LongTensor(INPUTS)
    labels = torch.LongTensor(LABELS)
    tensors = {}
    for seed in SEEDS:
        torch.manual_seed(seed)
        net = Model()
        for name, value in net.state_dict().items():
            tensors[f"seed_{seed}/initial/{name}"] = value.clone()
        criterion = torch.nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(net.parameters(), lr=LR)
        losses = []
        for _ in range(EPOCHS):
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach().clone())
        for name, value in net.state_dict().items():
            tensors[f"seed_{seed}/final/{name}"] = value.clone()
        tensors[f"seed_{seed}/losses"] = torch.stack(losses)
    path = ROOT / "tests" / "fixtures" / "optim" / "adam_hello_embedding.safetensors"
    save_tensors(tensors, path)
    print(f"export_optim: {len(SEEDS)} training runs in {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
