#!/usr/bin/env bash
# Benchmarks tch-rnn against PyTorch on this machine, side by side (scripts/bench.py says how).
#   scripts/bench.sh [--quick] [--reps N] [--threads N] [--json PATH] [--only NAME,...]
#   scripts/bench.sh --table JSON      (the table of an earlier run)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
[[ "${1:-}" == --table ]] || cargo build --release --quiet --examples
exec .venv/bin/python scripts/bench.py "$@"
