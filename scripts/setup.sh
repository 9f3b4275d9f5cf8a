#!/usr/bin/env bash
# Installs everything the project needs beyond the Rust toolchain, into .venv/ (ignored by git):
# the PyTorch 2.13.0 wheel, whose torch/lib and torch/include are the libtorch that tch links
# against, and the Python packages used by the PyTorch twins and the fixture exporters.
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

want=$(cksum <"$requirements")
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -e "$venv/libtorch/lib" ]]; then
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
echo "setup: done; libtorch is .venv/libtorch -> $torch_dir" >&2
