#!/usr/bin/env bash
# Reruns every fixture exporter of the project with the PyTorch that scripts/setup.sh installed.
# The exporters are deterministic: on a clean checkout this leaves `git status` clean.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python="$root/.venv/bin/python"
[[ -x "$python" ]] || { echo "regenerate-fixtures: run bash scripts/setup.sh first" >&2; exit 1; }
cd "$root"
for exporter in scripts/export_*.py; do
    echo "regenerate-fixtures: $exporter" >&2
    "$python" "$exporter"
done
