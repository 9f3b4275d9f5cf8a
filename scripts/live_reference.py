"""Exports, in one process and with this machine's default numerics, everything that the live
bit-exact test (tests/live_parity.rs) compares the Rust side against:

- <out>/tutorials/<program>/seed_<s>.txt: what each PyTorch twin prints, for the given seeds
  (run first, at PyTorch's default thread count, as the twins run on their own);
- <out>/nn/: the nn parity grid and the initialisation cases of scripts/export_reference.py
  (single-threaded);
- <out>/attention/: its MultiheadAttention grid and initialisation cases (single-threaded);
- <out>/optim/: the training runs of scripts/export_optim.py (single-threaded): Adam's, and
  those of AdamW, SGD and the schedulers with their state_dicts mid-way.

Nothing is pinned: no environment variable is read or set here, so the code paths that MKL and
ATen pick on this CPU are the ones the Rust side, linked to the same libtorch, picks too.
Usage: .venv/bin/python scripts/live_reference.py --out DIR --seeds 0,1,2,3,7,123,456,789
"""

import argparse
import sys
import time
from pathlib import Path

import torch

import export_optim
import export_reference
import export_tutorials


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seeds", required=True, help="tutorial seeds, comma-separated")
    args = parser.parse_args()
    if not torch.__version__.startswith(export_reference.EXPECTED_TORCH):
        print(f"live_reference: expected torch {export_reference.EXPECTED_TORCH}, got {torch.__version__}: "
              "rerun bash scripts/setup.sh", file=sys.stderr)
        return 1
    seeds = [int(s) for s in args.seeds.split(",")]
    start = time.perf_counter()
    parts = [
        "tutorials: " + export_tutorials.export(args.out, seeds),
        "nn: " + export_reference.export(args.out),
        "attention: " + export_reference.export_attention(args.out),
        "optim: " + export_optim.export(args.out),
    ]
    print(f"live_reference: {'; '.join(parts)}; cpu capability {torch.backends.cpu.get_cpu_capability()}; "
          f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
