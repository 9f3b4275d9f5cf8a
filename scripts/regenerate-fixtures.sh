#!/usr/bin/env bash
# Reruns every fixture exporter of the project with the PyTorch that scripts/setup.sh installed.
#   scripts/regenerate-fixtures.sh [ROOT]   writes into ROOT instead of tests/fixtures
# The exporters are deterministic: on the machine that made the committed fixtures (same CPU
# code paths) a clean checkout stays clean; another CPU may change the last bits of some values.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python="$root/.venv/bin/python"
[[ -x "$python" ]] || { echo "regenerate-fixtures: run bash scripts/setup.sh first" >&2; exit 1; }
out=$(realpath -m "${1:-$root/tests/fixtures}")
cd "$root"
for exporter in scripts/export_*.py; do
    echo "regenerate-fixtures: $exporter" >&2
    "$python" "$exporter" --root "$out"
done
