#!/usr/bin/env bash
# Makes the GPU check travel: one archive (at most 60 MiB) for a machine with a GPU, no network
# and no Rust, only its own Python with torch; there, `./run.sh /path/to/python3` runs it
# (docs/cuda.md#the-gpu-check-as-a-bundle).
#   scripts/gpu-bundle.sh --python PY --out FILE [--libtorch VERSION]
#     --python PY          a Python whose torch gives the target libtorch version (its torch
#                          need not import here: only its version is read)
#     --libtorch VERSION   the target version instead (2.13.0 or 2.11.0)
#     --out FILE           the archive to write (.tar.gz)
# Builds, for that version, the `tch-rnn` binary, the NCCL backend's library (when that torch's
# CUDA wheels and headers are at hand) and the GPU test binary (tests/gpu_check.rs,
# `cargo test --no-run`; more test binaries go in GPU_TESTS below), and packs them with the
# PyTorch twins and the scripts they import, the corpus, safetensors for a Python without it,
# check/runner.py and run.sh. The version this checkout's Cargo.lock and LIBTORCH hold is built
# here; another is built in a copy locked on its tch binding (scripts/libtorch-versions.sh), in
# TCH_RNN_CACHE (default .cache/) under libtorch-VERSION/, against the venv of
# scripts/check-libtorch.sh when there is one, else against the torch wheel alone (pip download).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/libtorch-versions.sh"
usage() {
    echo "usage: scripts/gpu-bundle.sh --python PY --out FILE [--libtorch VERSION]" >&2
    exit 2
}
fail() {
    echo "gpu-bundle: $*" >&2
    exit 1
}
python= out= version=
while (($#)); do
    case "$1" in
    --python) python=${2:-} && shift ;;
    --out) out=${2:-} && shift ;;
    --libtorch) version=${2:-} && shift ;;
    *) usage ;;
    esac
    shift
done
[[ -n "$out" && (-n "$python" || -n "$version") ]] || usage
out=$(realpath -m "$out")
if [[ -z "$version" ]]; then
    version=$("$python" -c 'import importlib.metadata as m; print(m.version("torch").split("+")[0])' 2>/dev/null) ||
        fail "$python has no torch"
fi
tch=$(tch_for "$version")
[[ -n "$tch" ]] || fail "no tch binding here for libtorch $version (supported: $LIBTORCH_VERSIONS)"

# The test binaries of the check: tests/NAME.rs -> bin/NAME. (The distributed part runs the
# tch-rnn binary itself: `tch-rnn train --nproc 2 --device cuda`.)
GPU_TESTS=(gpu_check)

# Where to build: this checkout when its lock and its libtorch are that version, else a copy.
cache=$(realpath -m "${TCH_RNN_CACHE:-$root/.cache}")
here_libtorch=${LIBTORCH:-$root/.venv/libtorch}
here_version=$(sed -n "s/^__version__ = '\([^'+]*\).*/\1/p" "$here_libtorch/version.py" 2>/dev/null || true)
if [[ "$(libtorch_for "$(locked_torch_sys "$root/Cargo.lock")")" == "$version" && "$here_version" == "$version" ]]; then
    src=$root
    export LIBTORCH=$here_libtorch
else
    dir="$cache/libtorch-$version"
    if [[ -e "$dir/venv/libtorch/lib/libtorch_cpu.so" ]]; then
        export LIBTORCH="$dir/venv/libtorch"
        # The NCCL backend's headers for that torch's CUDA wheels.
        bash "$root/scripts/cuda-headers.sh" "$dir/venv"
    else
        if [[ ! -e "$dir/wheel/torch/lib/libtorch_cpu.so" ]]; then
            echo "gpu-bundle: downloading the torch $version wheel (no dependencies) into $dir/wheel" >&2
            mkdir -p "$dir/wheel"
            python3 -m pip download --disable-pip-version-check --quiet --no-deps --only-binary=:all: \
                -d "$dir/wheel" "torch==$version" || fail "pip download torch==$version failed"
            (cd "$dir/wheel" && python3 -m zipfile -e torch-"$version"-*.whl . && rm -f torch-"$version"-*.whl) ||
                fail "unpacking the torch wheel failed"
        fi
        export LIBTORCH="$dir/wheel/torch"
    fi
    src="$dir/bundle-tree"
    export CARGO_TARGET_DIR="$dir/target"
    echo "gpu-bundle: copying the checkout to $src, locked on tch $tch" >&2
    copy_tree "$root" "$src" "$tch" || fail "cargo update -p tch --precise $tch failed"
fi
unset LIBTORCH_USE_PYTORCH
# gloo's headers are this checkout's (scripts/setup.sh), the same for every version.
export TCH_RNN_GLOO_INCLUDE=${TCH_RNN_GLOO_INCLUDE:-$root/.venv/gloo/include}
cd "$src"
echo "gpu-bundle: building for libtorch $version (tch $tch) against $LIBTORCH" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo build --release --bin tch-rnn --message-format=json >"$log.json" 2>"$log" ||
    { tail -30 "$log" >&2; fail "cargo build failed"; }
# The NCCL backend's library, where build.rs left it (when this libtorch and its headers allowed).
nccl_library=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "build-script-executed" and "tch-rnn" in m["package_id"]:
        print(m["out_dir"] + "/libtch_rnn_nccl.so")' "$log.json" | tail -1)
rm -f "$log.json"
target=${CARGO_TARGET_DIR:-$src/target}
declare -A test_binaries
for test in "${GPU_TESTS[@]}"; do
    cargo test --release --test "$test" --no-run --message-format=json 2>"$log" >"$log.json" ||
        { tail -30 "$log" >&2; fail "building tests/$test.rs failed"; }
    test_binaries[$test]=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == sys.argv[2]:
        print(m["executable"])' "$log.json" "$test" | tail -1)
    rm -f "$log.json"
    [[ -x "${test_binaries[$test]}" ]] || fail "no test binary for tests/$test.rs"
done

# safetensors, for a Python that lacks it: one abi3 wheel serves every CPython 3.
wheels="$cache/wheels"
if ! ls "$wheels"/safetensors-*-abi3-*.whl >/dev/null 2>&1; then
    echo "gpu-bundle: downloading the safetensors wheel into $wheels" >&2
    python3 -m pip download --disable-pip-version-check --quiet --no-deps --only-binary=:all: \
        --platform manylinux2014_x86_64 --python-version 3.12 -d "$wheels" safetensors ||
        fail "pip download safetensors failed"
fi

stage_root=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$stage_root"' EXIT
name="tch-rnn-gpu-check-$version"
stage="$stage_root/$name"
mkdir -p "$stage"/{bin,check,scripts/pytorch,data,pylib}
cp "$target/release/tch-rnn" "$stage/bin/"
# Beside the binaries, where they look for it first.
nccl=false
[[ -f "$nccl_library" ]] && cp "$nccl_library" "$stage/bin/" && nccl=true
for test in "${GPU_TESTS[@]}"; do
    cp "${test_binaries[$test]}" "$stage/bin/$test"
done
cp "$src/scripts/gpu-bundle/run.sh" "$stage/"
cp "$src/scripts/gpu-bundle/runner.py" "$src/scripts/gpu-bundle/on_device.py" "$stage/check/"
# The PyTorch twins, and what the exporter of the parity grid imports.
cp "$src"/scripts/pytorch/*.py "$stage/scripts/pytorch/"
cp "$src"/scripts/{export_reference,fixture_io,tutorial_model}.py "$stage/scripts/"
cp "$src/data/shakespeare.txt" "$stage/data/"
(cd "$stage/pylib" && python3 -m zipfile -e "$(ls "$wheels"/safetensors-*-abi3-*.whl | tail -1)" .)
echo "$version" >"$stage/LIBTORCH_VERSION"
glibc=$(objdump -T "$stage"/bin/* 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -1 || true)
glibcxx=$(objdump -T "$stage"/bin/* 2>/dev/null | grep -o 'GLIBCXX_[0-9.]*' | sort -Vu | tail -1 || true)
python3 - "$stage/MANIFEST.json" <<EOF
import json, sys
json.dump({
    "libtorch": "$version", "tch": "$tch", "torch_sys": "$(locked_torch_sys "$src/Cargo.lock")",
    "commit": "$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)",
    "built": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "built_on": "$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}")",
    "needs": {"glibc": "${glibc#GLIBC_}", "libstdcxx": "${glibcxx#GLIBCXX_}"},
    "tests": "${GPU_TESTS[*]}".split(), "nccl": "$nccl" == "true",
}, open(sys.argv[1], "w"), indent=2)
EOF
cat >"$stage/README.txt" <<EOF
tch-rnn GPU check for libtorch $version (tch $tch), built $(date -u +%Y-%m-%d) from commit
$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown). Needs no network and no Rust: only a Python
with torch $version (and its CUDA wheels), glibc ${glibc#GLIBC_}+ and libstdc++ ${glibcxx#GLIBCXX_}+.

    tar -xzf $name.tar.gz && cd $name
    ./run.sh /path/to/python3              # on the GPU; --budget SECONDS (default 480)
    ./run.sh --cpu /path/to/python3        # the same checks on the CPU

It writes report.txt and report.json here (logs in results/logs/); exit status 0 when all passed.
EOF
chmod +x "$stage/run.sh" "$stage"/bin/*

mkdir -p "$(dirname "$out")"
tar -czf "$out" -C "$stage_root" "$name"
size=$(stat -c %s "$out")
((size <= 60 * 1024 * 1024)) || fail "$out is $((size / 1024 / 1024)) MiB, over the 60 MiB limit"
echo "gpu-bundle: $out: $(awk -v s="$size" 'BEGIN { printf "%.1f MiB", s / 1048576 }') for libtorch $version; unpack it and run ./run.sh PYTHON" >&2
