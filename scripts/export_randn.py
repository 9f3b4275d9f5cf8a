"""Exports torch.randn(3, 1, 4) right after torch.manual_seed(s) for a few seeds.

tests/randn_parity.rs checks that tch's Tensor::randn gives the same values bit for bit.
Output: tests/fixtures/randn.safetensors (or under --root DIR; keys "seed_<s>"), written
atomically.
Run with the Python that scripts/setup.sh installed: .venv/bin/python scripts/export_randn.py [--root DIR]
"""

import torch

from fixture_io import argument_parser, save_tensors

SEEDS = [0, 1, 7, 42, 2024]


def main() -> None:
    root = argument_parser(__doc__).parse_args().root
    tensors = {}
    for seed in SEEDS:
        torch.manual_seed(seed)
        tensors[f"seed_{seed}"] = torch.randn(3, 1, 4)
    path = root / "randn.safetensors"
    save_tensors(tensors, path)
    print(f"export_randn: {len(SEEDS)} seeds in {path}")


if __name__ == "__main__":
    main()
