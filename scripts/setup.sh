#!/usr/bin/env bash
# Installs everything the project needs beyond the Rust toolchain, into .venv/ (ignored by git):
# the PyTorch 2.13.0 wheel, whose torch/lib and torch/include are the libtorch that tch links
# against, and the Python packages used by the PyTorch twins and the fixture exporters.
#
# Also fetches gloo's declarations (headers only: gloo's code is inside libtorch_cpu.so) into
# .venv/gloo/include, for distributed training (tch_rnn::distributed); without them setup still
# succeeds, says so in one line, and the crate builds without distributed support. Then completes
# the CUDA wheels' headers (scripts/cuda-headers.sh) for the NCCL backend, on the same terms.
#
# Idempotent: when .venv already holds exactly what scripts/requirements.txt asks for, it
# returns at once without touching the network.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
requirements="$root/scripts/requirements.txt"
stamp="$venv/.setup-complete"

fail() {
    echo "setup: $*" >&2
    exit 1
}

# The gloo headers that ProcessGroupGloo.hpp includes, from Debian's libgloo-dev package
# (apt-get download + dpkg-deb -x: no root needed). Writes .venv/gloo/status either way, which
# build.rs watches; touches the set-up stamp when the headers arrive so that cargo notices.
gloo() {
    local dir="$venv/gloo"
    [[ -f "$dir/include/gloo/context.h" ]] && return 0
    mkdir -p "$dir"
    local why
    why=$(fetch_gloo "$dir") && {
        echo "ok: Debian libgloo-dev headers" >"$dir/status"
        [[ -f "$stamp" ]] && touch "$stamp"
        echo "setup: gloo headers in .venv/gloo/include (distributed training on)" >&2
        return 0
    }
    # Rewritten only when it changes: build.rs reruns (and recompiles the shim) when it does.
    [[ "$(cat "$dir/status" 2>/dev/null)" == "unavailable: $why" ]] || echo "unavailable: $why" >"$dir/status"
    echo "setup: no gloo headers ($why): the crate builds without distributed training; rerun scripts/setup.sh where apt-get can reach Debian or Ubuntu" >&2
}

# Downloads libgloo-dev into a temporary folder and copies its include/gloo into $1/include;
# prints why on failure.
fetch_gloo() {
    local tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 || {
        echo "apt-get and dpkg-deb not found"
        return 1
    }
    if ! (cd "$tmp" && apt-get download libgloo-dev >/dev/null 2>&1); then
        # An empty package list (a fresh container) knows no libgloo-dev; root can refresh it.
        [[ $(id -u) == 0 ]] && apt-get update >/dev/null 2>&1 || true
        (cd "$tmp" && apt-get download libgloo-dev >/dev/null 2>&1) || {
            echo "apt-get download libgloo-dev failed"
            return 1
        }
    fi
    dpkg-deb -x "$tmp"/libgloo-dev_*.deb "$tmp/x" 2>/dev/null && [[ -f "$tmp/x/usr/include/gloo/context.h" ]] || {
        echo "libgloo-dev holds no usr/include/gloo"
        return 1
    }
    rm -rf "$1/include" && mkdir -p "$1/include" && cp -a "$tmp/x/usr/include/gloo" "$1/include/"
}

want=$(cksum <"$requirements")
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -e "$venv/libtorch/lib" ]]; then
    gloo
    bash "$root/scripts/cuda-headers.sh" "$venv"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || fail "python3 not found: install Python 3.10 or newer and rerun scripts/setup.sh"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    fail "python3 is $(python3 -V 2>&1); PyTorch 2.13 needs Python 3.10 or newer"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup: creating $venv" >&2
    python3 -m venv "$venv" >/dev/null 2>&1 ||
        fail "python3 -m venv failed: install the venv module (Debian/Ubuntu: apt-get install python3-venv) and rerun"
fi
"$venv/bin/python" -m pip --version >/dev/null 2>&1 ||
    fail "pip is missing from $venv: install python3-pip (or ensurepip) and rerun"

echo "setup: installing $(grep -v '^#' "$requirements" | xargs) into .venv (about 5 GB the first time)" >&2
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements" ||
    fail "pip install -r scripts/requirements.txt failed (see pip's message above)"

# A fixed path for LIBTORCH (.cargo/config.toml): the wheel's torch/ folder holds include/ and lib/.
torch_dir=$("$venv/bin/python" -c 'import os, sys, torch; print(os.path.relpath(os.path.dirname(torch.__file__), sys.argv[1]))' "$venv") ||
    fail "torch was installed but does not import"
[[ -e "$venv/$torch_dir/lib/libtorch_cpu.so" ]] || fail ".venv/$torch_dir/lib holds no libtorch_cpu.so"
ln -sfn "$torch_dir" "$venv/libtorch"

echo "$want" >"$stamp"
gloo
bash "$root/scripts/cuda-headers.sh" "$venv"
echo "setup: done; libtorch is .venv/libtorch -> $torch_dir" >&2
