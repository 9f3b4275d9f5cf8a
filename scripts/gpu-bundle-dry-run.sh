#!/usr/bin/env bash
# Proves the mechanics of scripts/gpu-bundle.sh on a machine without a GPU: builds the bundle
# for this checkout's own libtorch (the Python of scripts/setup.sh), unpacks it in a fresh
# folder outside the checkout, and checks there that
#   1. `run.sh --cpu PYTHON` passes end to end and writes report.txt and report.json;
#   2. a bundle for another libtorch version refuses with one line;
#   3. a budget too small for any part skips them all, still writes the report, and fails.
#   scripts/gpu-bundle-dry-run.sh [--keep]     (--keep: leave the folder, and say where)
# A few minutes on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keep=${1:-}
python="$root/.venv/bin/python"
[[ -x "$python" ]] || { echo "gpu-bundle-dry-run: run bash scripts/setup.sh first" >&2; exit 1; }
fail() {
    echo "gpu-bundle-dry-run: FAILED: $*" >&2
    exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/tch-rnn-gpu-bundle-dry-run.XXXXXX")
[[ "$keep" == --keep ]] && echo "gpu-bundle-dry-run: working in $work" >&2 || trap 'rm -rf "$work"' EXIT
"$root/scripts/gpu-bundle.sh" --python "$python" --out "$work/bundle.tar.gz"
size=$(stat -c %s "$work/bundle.tar.gz")

mkdir "$work/fresh"
cd "$work/fresh"
tar -xzf ../bundle.tar.gz
bundle=$(echo "$work"/fresh/tch-rnn-gpu-check-*)
[[ -x "$bundle/run.sh" ]] || fail "no run.sh in the bundle"

# 1. The whole check on the CPU, from the fresh folder, with nothing of the checkout in reach.
echo "gpu-bundle-dry-run: ./run.sh --cpu $python" >&2
status=0
(cd "$bundle" && env -u LIBTORCH -u LD_LIBRARY_PATH -u TCH_RNN_FIXTURES -u TCH_RNN_PARITY_REPORT \
    ./run.sh --cpu "$python") >"$work/run.log" 2>&1 || status=$?
cat "$bundle/report.txt" 2>/dev/null || tail -20 "$work/run.log"
((status == 0)) || fail "run.sh --cpu exited with $status (log: $work/run.log)"
"$python" - "$bundle/report.json" <<'EOF' || fail "report.json does not say that every part passed"
import json, sys
report = json.load(open(sys.argv[1]))
bad = [p["name"] for p in report["parts"] if p["status"] not in ("pass", "absent")]
assert report["passed"] and not bad, bad
assert report["summary"]["nn_tensors"] and report["summary"]["train_rust.chars_per_second"], report["summary"]
EOF

# 2. The version check: a bundle that says it is for another libtorch refuses, in one line.
cp -a "$bundle" "$work/other"
echo 0.0.0 >"$work/other/LIBTORCH_VERSION"
status=0
"$work/other/run.sh" --cpu "$python" >"$work/other.log" 2>&1 || status=$?
((status == 1)) && [[ $(wc -l <"$work/other.log") == 1 ]] && grep -q "built for libtorch 0.0.0" "$work/other.log" ||
    fail "a version mismatch did not refuse with one line: $(cat "$work/other.log")"
echo "gpu-bundle-dry-run: a version mismatch refuses: $(cat "$work/other.log")" >&2

# 3. The budget: with 6 seconds, the first part's timeout is 1 s at most, the others are skipped.
status=0
(cd "$work/other" && echo "$("$python" -c 'import torch; print(torch.__version__.split("+")[0])')" >LIBTORCH_VERSION &&
    ./run.sh --cpu --budget 6 "$python") >"$work/budget.log" 2>&1 || status=$?
((status == 1)) && grep -q "the time budget is spent" "$work/other/report.txt" && [[ -s "$work/other/report.json" ]] ||
    fail "a spent budget did not skip the parts and fail with a report (status $status)"
echo "gpu-bundle-dry-run: a spent budget skips the rest and fails with a report" >&2

echo "gpu-bundle-dry-run: passed; the bundle is $(awk -v s="$size" 'BEGIN { printf "%.1f MiB", s / 1048576 }')" >&2
