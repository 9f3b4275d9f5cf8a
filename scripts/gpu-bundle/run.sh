#!/usr/bin/env bash
# The GPU check of tch-rnn, from a bundle made by scripts/gpu-bundle.sh; needs no network, no
# Rust, only the machine's own Python with the torch this bundle was built for:
#   ./run.sh [--cpu] [--budget SECONDS] PYTHON
#     --cpu              the same checks on the CPU (a dry run, on a machine without a GPU)
#     --budget SECONDS   wall-clock limit of the whole check (default 480); each part also has
#                        its own timeout, so that one stuck part cannot eat the rest
# Puts PYTHON's torch/lib first on the library path, refuses with one line if its torch is not
# the version the binaries were built for, then runs check/runner.py, which writes report.txt
# and report.json here (logs in results/logs/). Exit status 0 when every part passed.
set -uo pipefail

started=$(date +%s.%N) # the budget counts from here
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() {
    echo "usage: ./run.sh [--cpu] [--budget SECONDS] PYTHON" >&2
    exit 2
}
device=cuda budget=480 python=
while (($#)); do
    case "$1" in
    --cpu) device=cpu ;;
    --budget)
        [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || usage
        budget=$2
        shift
        ;;
    -h | --help) usage ;;
    -*) usage ;;
    *)
        [[ -z "$python" ]] || usage
        python=$1
        ;;
    esac
    shift
done
[[ -n "$python" ]] || usage
command -v "$python" >/dev/null 2>&1 || { echo "run.sh: $python: no such Python" >&2; exit 1; }
python=$(command -v "$python")

wanted=$(cat "$here/LIBTORCH_VERSION")
info=$("$python" -c 'import os, torch; print(torch.__version__); print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null) ||
    { echo "run.sh: $python cannot import torch" >&2; exit 1; }
found=$(sed -n 1p <<<"$info") torch_lib=$(sed -n 2p <<<"$info")
[[ "${found%%+*}" == "$wanted" ]] ||
    { echo "run.sh: this bundle is built for libtorch $wanted, but $python has torch $found: make one for it with scripts/gpu-bundle.sh --python <a Python with torch ${found%%+*}>" >&2; exit 1; }
[[ -e "$torch_lib/libtorch_cpu.so" ]] || { echo "run.sh: $torch_lib holds no libtorch_cpu.so" >&2; exit 1; }
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export TCH_RNN_TORCH_LIB="$torch_lib"

# The scripts import safetensors; the bundle carries it for a Python that lacks it.
if ! "$python" -c 'import safetensors.torch' >/dev/null 2>&1 && [[ -d "$here/pylib" ]]; then
    export PYTHONPATH="$here/pylib${PYTHONPATH:+:$PYTHONPATH}"
fi

echo "run.sh: libtorch $found from $torch_lib, on $device, budget ${budget} s" >&2
exec "$python" "$here/check/runner.py" --python "$python" --device "$device" --budget "$budget" --since "$started"
