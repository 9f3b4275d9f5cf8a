#!/usr/bin/env bash
# The quality figures of docs/command.md#quality, on this machine:
# 1. the default `tch-rnn train` and the same recipe in scripts/pytorch/char_model.py, each
#    measured by `tch-rnn eval` on the held-out last 5% (state carried, and zero-state windows),
#    and whether the two runs ended on the same weights;
# 2. what a wider beam gains over greedy decoding on the default model
#    (examples/beam_report.rs, primes cut from the held-out text);
# 3. a longer run (LONG steps, default 8000): its time, validation curve and samples.
#   scripts/quality.sh [OUT_DIR] [LONG]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(realpath -m "${1:-$root/runs/quality}")
long=${2:-8000}
cd "$root"
cargo build --release --quiet --bin tch-rnn --example beam_report
bin="$root/target/release/tch-rnn"
python="$root/.venv/bin/python"
rm -rf "$out"
mkdir -p "$out"

# The held-out part: the text's last 5%, as training cuts it.
heldout="$out/heldout.txt"
"$python" - "$root/data/shakespeare.txt" "$heldout" <<'PY'
import math, sys
text = open(sys.argv[1], encoding="utf-8").read()
held = max(2, math.floor(len(text) * 0.05 + 0.5))
open(sys.argv[2], "w", encoding="utf-8").write(text[len(text) - held:])
PY
bits() { "$bin" eval --checkpoint "$1" --text "$heldout" "${@:2}" | sed -E 's/.* ([0-9.]+) bits per character.*/\1/'; }
timed() { local started=$SECONDS; "$@"; echo $((SECONDS - started)); }

echo "quality: the default run, in Rust and in PyTorch" >&2
rust_s=$(timed "$bin" train --out "$out/rust" --sample-every 0 2>"$out/rust.log" | tail -1)
pytorch_s=$(timed "$python" scripts/pytorch/char_model.py train --text data/shakespeare.txt --out "$out/pytorch" \
    2>"$out/pytorch.log" | tail -1)
same=$(cmp -s "$out/rust/latest/model.safetensors" "$out/pytorch/latest/model.safetensors" && echo "the same bits" ||
    echo "different weights")
printf '| run | bits per character, state carried | zero-state windows | training time |\n|---|---|---|---|\n'
printf '| `tch-rnn train` (defaults) | %s | %s | %ss |\n' "$(bits "$out/rust/best")" "$(bits "$out/rust/best" --reset-state)" "$rust_s"
printf '| `char_model.py train` (the same recipe) | %s | %s | %ss |\n' "$(bits "$out/pytorch/best")" \
    "$(bits "$out/pytorch/best" --reset-state)" "$pytorch_s"
echo "final weights of the two runs: $same"

echo "quality: beam search on the default model" >&2
"$root/target/release/examples/beam_report" "$out/rust/best" "$heldout" 40 100

echo "quality: a longer run ($long steps)" >&2
long_s=$(timed "$bin" train --out "$out/long" --steps "$long" --sample-every 0 2>"$out/long.log" | tail -1)
echo "longer run: $long steps in ${long_s}s; held-out bits per character $(bits "$out/long/best") (state carried)"
echo "validation curve (step, loss in nats):"
awk -F, 'NR > 1 && $3 != "" && ($1 % 1000 == 0 || $1 == 250) { printf "  %s %s\n", $1, $3 }' "$out/long/history.csv"
for seed in 1 2; do
    echo "sample (seed $seed, temperature 0.8):"
    "$bin" sample --checkpoint "$out/long/best" --length 300 --temperature 0.8 --seed "$seed" --prime "ROMEO:"
    echo
done
echo "the curve as a picture: $out/long/loss.png"
