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
# 5. peak GPU memory of the Rust checks (nvidia-smi, sampled every 50 ms);
# 6. c10d's NCCL backend: a group of one (collectives and DDP on CUDA tensors through NCCL); on
#    the CPU, its library loads and NCCL refuses in one line (tests/gpu_check.rs 5);
# 7. data-parallel training on the device against one process (the same losses within float
#    tolerance, and each one's speed): `tch-rnn train --nproc 1` and `--nproc 2` with Gloo (2
#    ranks sharing GPU 0, CUDA tensors through Gloo's CUDA path), and with NCCL one rank per GPU
#    (`--nproc GPUS --backend nccl`, world size 1 on a one-GPU machine).
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
echo "gpu-check: data-parallel training on $device (Gloo, and NCCL on CUDA)" >&2
cargo build --release --quiet --bin tch-rnn
train() {
    target/release/tch-rnn train --device "$device" --steps 100 --eval-every 100 --sample-every 0 --batch 32 \
        --out "$work/$1" "${@:2}" 2>"$work/$1.log" | tee "$work/$1.out" | sed "s/^/gpu-check $1: /" ||
        { cat "$work/$1.log" >&2; echo "gpu-check: FAILED ($1)" >&2; exit 1; }
}
train one-process
train nproc-1 --nproc 1 --backend gloo
train nproc-2 --nproc 2 --backend gloo
runs=(nproc-1 nproc-2)
if [[ "$device" == cuda ]]; then
    gpus=$(nvidia-smi --query-gpu=name --format=csv,noheader | wc -l)
    train "nccl-$gpus" --nproc "$gpus" --backend nccl
    runs+=("nccl-$gpus")
fi
last_loss() { tail -1 "$work/$1/history.csv" | cut -d, -f2; }
for run in "${runs[@]}"; do
    .venv/bin/python - "$run" "$(last_loss "$run")" "$(last_loss one-process)" <<'EOF' ||
import sys
run, a, b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
d = abs(a - b) / abs(b)
print(f"gpu-check {run}: final training loss {a} against one process's {b}: {d:.1e} relative")
sys.exit(d > 1e-3)
EOF
        { echo "gpu-check: FAILED ($run differs from one process)" >&2; exit 1; }
done
echo "gpu-check: all checks passed on $device"
