#!/usr/bin/env bash
# Measures the two batching schemes of `tch-rnn train` (random windows from a zero state, and
# char-rnn's contiguous streams with the state carried) on two texts of different kinds: the
# embedded Shakespeare, and Chinese classical poetry (the Tang 300 and Song 100 poems of
# Debian's fortunes-zh package, fetched with `apt-get download`, no root needed). Each run
# takes the default budget and recipe; the table gives the validation bits per character of
# the held-out 5%, measured with the state carried (`tch-rnn eval`).
#   scripts/compare-batching.sh [OUT_DIR] [--steps N]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(realpath -m "${1:-$root/runs/compare-batching}")
shift || true
mkdir -p "$out"
cd "$root"
cargo build --release --quiet
bin="$root/target/release/tch-rnn"

# The Chinese text: the poems, without the fortune separators and terminal colours.
chinese="$out/tang-song.txt"
if [[ ! -s "$chinese" ]]; then
    work=$(mktemp -d)
    (cd "$work" && apt-get download fortunes-zh >/dev/null 2>&1) ||
        { echo "compare-batching: apt-get download fortunes-zh failed" >&2; exit 1; }
    dpkg-deb -x "$work"/fortunes-zh_*.deb "$work/x"
    cat "$work/x/usr/share/games/fortunes/tang300" "$work/x/usr/share/games/fortunes/song100" |
        sed -e 's/\x1b\[[0-9;]*m//g' -e '/^%$/d' >"$chinese"
    rm -rf "$work"
fi

printf '| text | characters | batching | validation bits/char (state carried) | zero-state windows | time |\n|---|---|---|---|---|---|\n'
for text in shakespeare chinese; do
    for batching in random streams; do
        run="$out/$text-$batching"
        rm -rf "$run"
        args=(train --out "$run" --batching "$batching" --sample-every 0 "$@")
        [[ $text == chinese ]] && args+=(--text "$chinese")
        started=$(date +%s)
        "$bin" "${args[@]}" >"$run.log" 2>&1
        seconds=$(($(date +%s) - started))
        # The held-out part: the text's last 5%, as training cut it (written out for eval).
        heldout="$run.heldout.txt"
        source_text=$([[ $text == chinese ]] && echo "$chinese" || echo "$root/data/shakespeare.txt")
        "$root/.venv/bin/python" - "$source_text" "$heldout" <<'PY'
import math, sys
text = open(sys.argv[1], encoding="utf-8").read()
n = len(text)
held = max(2, math.floor(n * 0.05 + 0.5))
open(sys.argv[2], "w", encoding="utf-8").write(text[n - held:])
PY
        carried=$("$bin" eval --checkpoint "$run/best" --text "$heldout" | sed -E 's/.* ([0-9.]+) bits per character.*/\1/')
        zero=$("$bin" eval --checkpoint "$run/best" --text "$heldout" --reset-state | sed -E 's/.* ([0-9.]+) bits per character.*/\1/')
        printf '| %s | %s | %s | %s | %s | %ss |\n' "$text" "$(wc -m <"$source_text")" "$batching" "$carried" "$zero" "$seconds"
    done
done
