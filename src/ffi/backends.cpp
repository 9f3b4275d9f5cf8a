// What ATen's backends are in this process: libtorch's version, the CPU capability its kernels
// dispatch to, whether its CUDA hooks are libtorch_cuda's, and how many GPUs they see.

#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/headeronly/version.h>

#include <typeinfo>

#include "shim.h"

using tch_rnn::copy_out;

namespace {
// Collects libtorch's warnings instead of printing them.
struct CollectWarnings : c10::WarningHandler {
    std::string text;
    void process(const c10::Warning& warning) override {
        if (!text.empty()) text += "; ";
        text += warning.msg();
    }
};
}  // namespace

extern "C" {

// The version of the libtorch this shim was compiled against, which is the one the crate links
// and runs on (build.rs gives every binary an rpath to its lib folder).
void tch_rnn_libtorch_version(int* major, int* minor, int* patch) {
    *major = TORCH_VERSION_MAJOR;
    *minor = TORCH_VERSION_MINOR;
    *patch = TORCH_VERSION_PATCH;
}

// The instruction set that ATen's CPU kernels were dispatched to in this process ("DEFAULT",
// "AVX2", "AVX512", ...), as Python's torch.backends.cpu.get_cpu_capability() reports it.
size_t tch_rnn_cpu_capability(char* buf, size_t cap) {
    try {
        return copy_out(at::get_cpu_capability(), buf, cap);
    } catch (...) {
        return 0;
    }
}

// ATen's CUDA hooks, as ATen has cached them for the life of the process at the first CUDA
// query: 1 when they are libtorch_cuda's (CUDA can work), 0 when they are the CPU-only stub,
// which ATen keeps for good when CUDA is queried before libtorch_cuda.so is loaded.
int tch_rnn_cuda_hooks_loaded() {
    try {
        const auto& hooks = at::detail::getCUDAHooks();
        return typeid(hooks) != typeid(at::CUDAHooksInterface) ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

// The number of CUDA GPUs ATen sees; the warnings libtorch raises while looking (e.g. "Found no
// NVIDIA driver on your system") are written into `buf` (full length in *len) instead of stderr.
int64_t tch_rnn_cuda_device_count(char* buf, size_t cap, size_t* len) {
    CollectWarnings warnings;
    int64_t count = 0;
    try {
        c10::WarningUtils::WarningHandlerGuard guard(&warnings);
        count = at::detail::getCUDAHooks().getNumGPUs();
    } catch (const c10::Error& e) {
        warnings.text += e.what_without_backtrace();
    } catch (const std::exception& e) {
        warnings.text += e.what();
    }
    *len = copy_out(warnings.text, buf, cap);
    return count;
}

}  // extern "C"
