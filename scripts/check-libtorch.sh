#!/usr/bin/env bash
# Builds and runs the whole test suite against another libtorch, taken from the PyTorch wheel
# of that version on PyPI, without touching this checkout or its build:
#   scripts/check-libtorch.sh 2.11.0        (2.13.0, the default binding, works too)
# Not CI (CI's time is limited): the first run downloads about 5 GB and compiles torch-sys's
# C++ for that version (many minutes on 2 cores); later runs reuse both.
#
# Everything lives in a cache folder, TCH_RNN_CACHE (default .cache/ in this checkout, ignored
# by git), under libtorch-VERSION/:
#   venv/     a Python venv with torch==VERSION and the rest of scripts/requirements.txt; its
#             torch/ folder is the libtorch the build links (venv/libtorch points at it);
#   tree/     a copy of this checkout (its tracked and untracked, not ignored, files) whose .venv
#             is venv/, so that the live tests compare against that same PyTorch, and whose
#             Cargo.lock holds the tch binding for VERSION (`cargo update -p tch --precise`);
#   target/   its own cargo target folder;
#   logs/     the cargo logs and the parity reports (TCH_RNN_PARITY_REPORT) of each run.
#   fixtures-VERSION/, fixtures-DEFAULT/   every fixture exported afresh by each PyTorch.
# Runs:
#   1. `cargo test --release`, the whole suite, against the committed fixtures (exported by
#      PyTorch 2.13.0 on another CPU), the live tests against venv's PyTorch
#      (TCH_RNN_EXPECTED_TORCH=VERSION tells the exporters which torch to expect);
#   2. the fixtures exported by PyTorch VERSION against those exported by this checkout's own
#      PyTorch (.venv, 2.13.0), both on this machine: what the version alone changes, file by
#      file (skipped without .venv);
#   3. only when 1 failed: the suite against the fixtures of PyTorch VERSION, which tells a test
#      that cannot pass on VERSION from a number that PyTorch VERSION computes differently.
# Prints each run's result, its failed tests and the worst fixture difference; exits non-zero
# when run 1 failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/libtorch-versions.sh"
usage() {
    echo "usage: scripts/check-libtorch.sh VERSION   (one of: $LIBTORCH_VERSIONS)" >&2
    exit 2
}
[[ $# -eq 1 ]] || usage
version=$1 tch=$(tch_for "$1")
[[ -n "$tch" ]] || usage
fail() {
    echo "check-libtorch: $*" >&2
    exit 1
}

cache=$(realpath -m "${TCH_RNN_CACHE:-$root/.cache}")
dir="$cache/libtorch-$version"
venv="$dir/venv" tree="$dir/tree" logs="$dir/logs"
mkdir -p "$dir"

# 1. The venv: scripts/requirements.txt with its torch pinned to VERSION.
requirements="$dir/requirements.txt"
sed "s/^torch==.*/torch==$version/" "$root/scripts/requirements.txt" >"$requirements"
want=$(cksum <"$requirements")
if [[ ! -f "$venv/.setup-complete" || "$(cat "$venv/.setup-complete")" != "$want" || ! -e "$venv/libtorch/lib" ]]; then
    command -v python3 >/dev/null || fail "python3 not found"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" || fail "python3 -m venv $venv failed"
    echo "check-libtorch: installing $(grep -v '^#' "$requirements" | xargs) into $venv (about 5 GB the first time)" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements" ||
        fail "pip install of torch==$version failed"
    torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))') ||
        fail "torch==$version does not import in $venv"
    ln -sfn "$torch_dir" "$venv/libtorch"
    echo "$want" >"$venv/.setup-complete"
fi
found=$("$venv/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')
[[ "$found" == "$version" ]] || fail "$venv holds torch $found, not $version"
# The NCCL backend's headers for this torch's CUDA wheels; gloo's headers are this checkout's
# (scripts/setup.sh), the same for every version.
bash "$root/scripts/cuda-headers.sh" "$venv"
export TCH_RNN_GLOO_INCLUDE=${TCH_RNN_GLOO_INCLUDE:-$root/.venv/gloo/include}
[[ -e "$TCH_RNN_GLOO_INCLUDE/gloo/context.h" ]] ||
    echo "check-libtorch: no gloo headers in $TCH_RNN_GLOO_INCLUDE (run scripts/setup.sh): distributed training is not checked" >&2

# 2. The tree: a fresh copy (tar keeps modification times, so cargo rebuilds only what
# changed), .venv -> venv, and the lock on the tch binding for VERSION.
echo "check-libtorch: copying the checkout to $tree" >&2
copy_tree "$root" "$tree" "$tch" || fail "cargo update -p tch --precise $tch failed"
rm -rf "$tree/.venv"
ln -s "$venv" "$tree/.venv"
locked=$(locked_torch_sys "$tree/Cargo.lock")
echo "check-libtorch: libtorch $version (torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)')), tch $tch, torch-sys $locked" >&2

export LIBTORCH="$venv/libtorch" CARGO_TARGET_DIR="$dir/target" TCH_RNN_EXPECTED_TORCH="$version"
unset LIBTORCH_USE_PYTORCH TCH_RNN_FIXTURES TCH_RNN_SKIP_LIVE TCH_RNN_PARITY_REPORT
rm -rf "$logs"
mkdir -p "$logs"
cd "$tree"
echo "check-libtorch: building the suite (the first time: torch-sys's C++ for $version, many minutes)" >&2
cargo test --release --no-run >"$logs/build.log" 2>&1 || {
    tail -30 "$logs/build.log" >&2
    fail "the build against libtorch $version failed (log: $logs/build.log)"
}

# The failed tests of a cargo log, one per line: "binary: test".
failed_tests() {
    awk '$1 == "Running" { bin = ($2 == "unittests") ? $3 : $2 }
         $1 == "Doc-tests" { bin = "doc-tests " $2 }
         /^test .* \.\.\. FAILED$/ { print "  " bin ": " $2 }' "$1"
}
# The worst share of assert_close's tolerance among the fixture tests' summary lines.
worst_tolerance() {
    grep -v '^live_parity' "$1" 2>/dev/null | sed -n 's/.*, \([0-9.]*\)% of assert_close.*/\1/p' | sort -g | tail -1
}
run() { # label, log name, extra environment
    local label=$1 name=$2 start status=0
    shift 2
    start=$(date +%s)
    env "$@" TCH_RNN_PARITY_REPORT="$logs/$name.report" cargo test --release --no-fail-fast >"$logs/$name.log" 2>&1 ||
        status=$?
    touch "$logs/$name.report"
    local passed failed
    passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^passed/) n += $i } END { print n + 0 }' "$logs/$name.log")
    failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^failed/) n += $i } END { print n + 0 }' "$logs/$name.log")
    printf 'check-libtorch %s: %s, %s passed, %s failed, in %ss; worst fixture difference %s%% of assert_close'"'"'s tolerance\n' \
        "$label" "$([[ $status == 0 ]] && echo pass || echo FAIL)" "${passed:-0}" "${failed:-0}" \
        "$(($(date +%s) - start))" "$(worst_tolerance "$logs/$name.report")"
    failed_tests "$logs/$name.log"
    return "$status"
}

# Every fixture of two exports, compared: tensors bit for bit or by their largest difference,
# other files line by line.
compare_fixtures() { # python, this version's folder, the other's, the other's label
    "$1" - "$2" "$3" "$4" <<'EOF'
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

new, old, label = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
worst = (0.0, "")
for path in sorted(p for p in new.rglob("*") if p.is_file()):
    name, other = path.relative_to(new), old / path.relative_to(new)
    if not other.exists():
        print(f"  {name}: not in the export of {label}")
        continue
    if path.suffix != ".safetensors":
        a, b = path.read_bytes().splitlines(), other.read_bytes().splitlines()
        differ = sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))
        if differ:
            print(f"  {name}: {differ} of {max(len(a), len(b))} lines differ")
        continue
    a, b = load_file(str(path)), load_file(str(other))
    same, max_abs, max_rel, where = 0, 0.0, 0.0, ""
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if x is None or y is None or x.shape != y.shape or x.dtype != y.dtype:
            print(f"  {name}: {key} is missing or reshaped in one export")
            continue
        if x.numel() == 0 or x.reshape(-1).view(torch.uint8).equal(y.reshape(-1).view(torch.uint8)):
            same += 1
            continue
        if not x.is_floating_point():
            print(f"  {name}: {key}: integers differ")
            continue
        d = (x.double() - y.double()).abs().nan_to_num(0.0)
        r = (d / y.double().abs().clamp_min(1e-30)).nan_to_num(0.0)
        max_abs = max(max_abs, d.max().item())
        if r.max().item() > max_rel:
            max_rel, where = r.max().item(), key
    total = len(set(a) | set(b))
    line = f"  {name}: {same} of {total} tensors bit-identical"
    if same < total:
        line += f", max abs diff {max_abs:.2e}, max rel diff {max_rel:.2e} (worst: {where})"
        worst = max(worst, (max_abs, f"{name}"))
    print(line)
print(f"  largest abs difference: {worst[0]:.2e} {worst[1]}")
EOF
}

status=0
run "$version, committed fixtures" committed || status=$?

default=${LIBTORCH_VERSIONS%% *}
if [[ "$version" != "$default" && -x "$root/.venv/bin/python" ]]; then
    echo "check-libtorch: exporting every fixture with PyTorch $version and with $default" >&2
    rm -rf "$dir/fixtures-$version" "$dir/fixtures-$default"
    scripts/regenerate-fixtures.sh "$dir/fixtures-$version" >"$logs/regenerate-$version.log" 2>&1 ||
        fail "exporting the fixtures with $version failed (log: $logs/regenerate-$version.log)"
    (cd "$root" && env -u TCH_RNN_EXPECTED_TORCH scripts/regenerate-fixtures.sh "$dir/fixtures-$default") \
        >"$logs/regenerate-$default.log" 2>&1 || fail "exporting the fixtures with $default failed (log: $logs/regenerate-$default.log)"
    echo "check-libtorch: the fixtures of PyTorch $version against those of $default, both exported here:"
    compare_fixtures "$venv/bin/python" "$dir/fixtures-$version" "$dir/fixtures-$default" "$default" | tee "$logs/fixtures.diff"
fi

if ((status != 0)); then
    if [[ ! -d "$dir/fixtures-$version" ]]; then
        scripts/regenerate-fixtures.sh "$dir/fixtures-$version" >"$logs/regenerate-$version.log" 2>&1 ||
            fail "exporting the fixtures with $version failed (log: $logs/regenerate-$version.log)"
    fi
    run "$version, fixtures from PyTorch $version" regenerated TCH_RNN_FIXTURES="$dir/fixtures-$version" || true
fi
echo "check-libtorch: logs and parity reports in $logs" >&2
exit "$status"
