#!/usr/bin/env bash
# Runs a tutorial program in Rust and its PyTorch twin with the same seed and shows the diff
# of what they print: empty (and exit 0) when they agree, in which case it prints the shared
# output once, then a one-line summary on stderr.
#   scripts/compare.sh NAME [SEED]     e.g. scripts/compare.sh hello_embedding 7
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
programs="rnn_cell rnn rnn_batch_first hello_rnn_cell hello_rnn hello_embedding hello_lstm hello_gru hello_lstm_cell hello_gru_cell packed_sequences hello_attention hello_attention_packed"
name=${1:-}
seed=${2:-0}
if [[ -z "$name" || " $programs " != *" $name "* ]]; then
    echo "usage: scripts/compare.sh NAME [SEED], NAME one of: $programs" >&2
    exit 2
fi
[[ "$seed" =~ ^-?[0-9]+$ ]] || { echo "compare: SEED must be an integer, got '$seed'" >&2; exit 2; }
[[ -x "$root/.venv/bin/python" ]] || { echo "compare: PyTorch is not installed: run bash scripts/setup.sh" >&2; exit 1; }

cd "$root"
cargo build --quiet --release --example "$name"
rust_out=$(mktemp)
python_out=$(mktemp)
trap 'rm -f "$rust_out" "$python_out"' EXIT
"target/release/examples/$name" --seed "$seed" >"$rust_out"
.venv/bin/python "scripts/pytorch/$name.py" "$seed" >"$python_out"
if diff -u --label "pytorch: scripts/pytorch/$name.py $seed" --label "rust: --example $name --seed $seed" \
    "$python_out" "$rust_out"; then
    cat "$rust_out"
    echo "compare: $name, seed $seed: Rust and PyTorch print the same $(wc -l <"$rust_out") lines" >&2
else
    exit 1
fi
