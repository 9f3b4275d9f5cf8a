#!/usr/bin/env bash
# For a machine with an NVIDIA GPU: checks that CUDA works from this crate and prints figures.
#   scripts/gpu-check.sh          on CUDA
#   scripts/gpu-check.sh cpu      dry run of the same checks on the CPU (no GPU needed)
# 1. device detection (tch_rnn::device::select("cuda"));
# 2. nn parity on the device against PyTorch on the same device (cuDNN on both sides): the whole
#    parity grid of scripts/export_reference.py, exported afresh with --device, held to
#    assert_close's tolerance, with the count of bit-identical tensors;
# 3. a short training run of the tutorial model (section 3.3) on the device, against the CPU;
# 4. the device-mismatch errors (a CPU input to a module on the GPU);
# 5. peak GPU memory of the Rust checks (nvidia-smi, sampled every 50 ms).
# Takes a few minutes, most of it the first build. It needs this checkout, Rust and the network
# (scripts/setup.sh); for a GPU machine without them, scripts/gpu-bundle.sh makes the same
# checks (and more) into one archive that runs there with the machine's own PyTorch
# (docs/cuda.md#the-gpu-check-as-a-bundle).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
device=${1:-cuda}
[[ "$device" == cuda || "$device" == cpu ]] || { echo "usage: scripts/gpu-check.sh [cuda|cpu]" >&2; exit 2; }
bash scripts/setup.sh
if [[ "$device" == cuda ]]; then
    command -v nvidia-smi >/dev/null || { echo "gpu-check: nvidia-smi not found: no NVIDIA driver here" >&2; exit 1; }
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu-check GPU: /'
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "gpu-check: PyTorch's reference on $device" >&2
.venv/bin/python -c 'import torch; print(f"gpu-check PyTorch {torch.__version__}: CUDA available {torch.cuda.is_available()}, cuDNN {torch.backends.cudnn.version()}")'
.venv/bin/python scripts/export_reference.py --root "$work" --device "$device" 2>/dev/null

echo "gpu-check: building the checks" >&2
cargo test --release --test gpu_check --no-run --quiet 2>"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }

memory() { nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1; }
[[ "$device" == cuda ]] && baseline=$(memory) || baseline=0
TCH_RNN_GPU_CHECK_DEVICE=$device TCH_RNN_FIXTURES=$work TCH_RNN_PARITY_REPORT="$work/report.txt" \
    cargo test --release --quiet --test gpu_check -- --ignored --test-threads=1 >"$work/checks.log" 2>&1 &
checks=$!
peak=$baseline
while kill -0 "$checks" 2>/dev/null; do
    if [[ "$device" == cuda ]]; then
        used=$(memory)
        ((used > peak)) && peak=$used
    fi
    sleep 0.05
done
status=0
wait "$checks" || status=$?
cat "$work/report.txt" 2>/dev/null || true
[[ "$device" == cuda ]] && echo "gpu-check peak GPU memory of the Rust checks: $((peak - baseline)) MiB above the $baseline MiB in use before"
if ((status != 0)); then
    cat "$work/checks.log" >&2
    echo "gpu-check: FAILED" >&2
    exit 1
fi
echo "gpu-check: all checks passed on $device"
