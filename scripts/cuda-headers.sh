#!/usr/bin/env bash
# Completes the CUDA headers of a venv whose torch is a CUDA build, for the NCCL backend
# (build.rs compiles src/ffi/nccl.cpp against them): torch's own CUDA wheels bring nccl.h and
# the CUDA runtime's headers (nvidia/cu13/include), not the two that those include from CUDA's
# compiler, crt/ (nvidia-cuda-crt) and CCCL's nv/ (nvidia-cuda-cccl). Installs both, headers
# only and a few MB, at the CUDA runtime's major.minor version. Never fails: without them the
# crate builds without NCCL (Gloo serves CUDA tensors), and it says so in one line.
#   scripts/cuda-headers.sh VENV
set -uo pipefail

venv=$1
python="$venv/bin/python"
site=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null) || exit 0
include="$site/nvidia/cu13/include"
# A CPU-only torch, or a CUDA other than 13 (another layout): nothing to complete.
[[ -e "$site/torch/lib/libtorch_cuda.so" && -e "$include/cuda_runtime_api.h" ]] || exit 0
[[ -e "$include/crt/host_config.h" && -e "$include/nv/target" ]] && exit 0

off() {
    echo "cuda-headers: $1: the crate builds without the NCCL backend (Gloo serves CUDA tensors); rerun scripts/setup.sh with PyPI reachable" >&2
    exit 0
}
runtime=$("$python" -c 'import importlib.metadata as m; print(m.version("nvidia-cuda-runtime"))' 2>/dev/null) ||
    off "no nvidia-cuda-runtime package in $venv"
series=$(cut -d. -f1-2 <<<"$runtime").*
"$python" -m pip install --disable-pip-version-check --quiet --no-deps \
    "nvidia-cuda-crt==$series" "nvidia-cuda-cccl==$series" >/dev/null 2>&1 ||
    off "pip install nvidia-cuda-crt==$series nvidia-cuda-cccl==$series failed"
# The set-up stamp is what build.rs watches: touching it makes cargo build the NCCL backend.
[[ -f "$venv/.setup-complete" ]] && touch "$venv/.setup-complete"
echo "cuda-headers: CUDA $series's compiler headers installed (the NCCL backend can be built)" >&2
