// The few libtorch calls that tch does not expose, compiled by build.rs against the same
// libtorch headers that torch-sys uses. Every entry point catches C++ exceptions, so nothing
// unwinds into Rust; errors come back as a message written into the caller's buffer.

#include <ATen/Context.h>
#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <typeinfo>

namespace {

// Copies `text` into `buf` (at most `cap` bytes, no terminator) and returns its full length,
// so that the caller can retry with a larger buffer.
size_t copy_out(const std::string& text, char* buf, size_t cap) {
    std::memcpy(buf, text.data(), std::min(text.size(), cap));
    return text.size();
}

}  // namespace

extern "C" {

// The class name of the autograd node that produced `tensor` (what Python shows as
// grad_fn=<Name>), namespace stripped; 0 when the tensor has no grad_fn (a leaf, or no grad).
size_t tch_rnn_grad_fn_name(const void* tensor, char* buf, size_t cap) {
    try {
        const auto& t = *static_cast<const at::Tensor*>(tensor);
        const auto& node = t.grad_fn();
        if (!node) return 0;
        std::string name = node->name();
        const auto sep = name.rfind("::");
        if (sep != std::string::npos) name = name.substr(sep + 2);
        return copy_out(name, buf, cap);
    } catch (const std::exception&) {
        return 0;
    }
}

// The instruction set that ATen's CPU kernels were dispatched to in this process ("DEFAULT",
// "AVX2", "AVX512", ...), as Python's torch.backends.cpu.get_cpu_capability() reports it.
size_t tch_rnn_cpu_capability(char* buf, size_t cap) {
    try {
        return copy_out(at::get_cpu_capability(), buf, cap);
    } catch (const std::exception&) {
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
    } catch (const std::exception&) {
        return 0;
    }
}

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

// The number of CUDA GPUs ATen sees; the warnings libtorch raises while looking (e.g. "Found no
// NVIDIA driver on your system") are written into `buf` (full length in *len) instead of stderr.
int64_t tch_rnn_cuda_device_count(char* buf, size_t cap, size_t* len) {
    CollectWarnings warnings;
    int64_t count = 0;
    try {
        c10::WarningUtils::WarningHandlerGuard guard(&warnings);
        count = at::detail::getCUDAHooks().getNumGPUs();
    } catch (const std::exception& e) {
        warnings.text += e.what();
    }
    *len = copy_out(warnings.text, buf, cap);
    return count;
}

// *out = torch.linalg.vector_norm(self, ord), which tch does not expose. 0 on success.
size_t tch_rnn_vector_norm(const void* self, double ord, void** out, char* err, size_t cap) {
    try {
        *out = new at::Tensor(at::linalg_vector_norm(*static_cast<const at::Tensor*>(self), ord));
        return 0;
    } catch (const std::exception& e) {
        return std::max<size_t>(1, copy_out(e.what(), err, cap));
    }
}

// tensor.grad = None, as torch.optim's zero_grad(set_to_none=True) does: the next backward
// then stores its gradient instead of adding it to a zeroed one.
void tch_rnn_clear_grad(void* tensor) {
    try {
        static_cast<at::Tensor*>(tensor)->mutable_grad().reset();
    } catch (const std::exception&) {
    }
}

// The TensorImpl behind a tensor handle: two handles name the same tensor (as Python's `is`
// does for parameters) exactly when these are equal.
const void* tch_rnn_tensor_impl(const void* tensor) {
    return static_cast<const at::Tensor*>(tensor)->unsafeGetTensorImpl();
}

// The default generator of the CPU (cuda == 0) or of CUDA device `index`.
static at::Generator default_generator(int cuda, int index) {
    auto device = cuda ? c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index)) : c10::Device(c10::kCPU);
    return at::globalContext().defaultGenerator(device);
}

// *out = a copy of that generator's state (a uint8 tensor the caller owns), as
// torch.get_rng_state() / torch.cuda.get_rng_state(index). 0 on success, else the error's length.
size_t tch_rnn_rng_get_state(int cuda, int index, void** out, char* err, size_t cap) {
    try {
        auto generator = default_generator(cuda, index);
        std::lock_guard<std::mutex> lock(generator.mutex());
        *out = new at::Tensor(generator.get_state());
        return 0;
    } catch (const std::exception& e) {
        return std::max<size_t>(1, copy_out(e.what(), err, cap));
    }
}

// Restores a state taken by tch_rnn_rng_get_state, as torch.set_rng_state.
size_t tch_rnn_rng_set_state(int cuda, int index, const void* state, char* err, size_t cap) {
    try {
        auto generator = default_generator(cuda, index);
        std::lock_guard<std::mutex> lock(generator.mutex());
        generator.set_state(*static_cast<const at::Tensor*>(state));
        return 0;
    } catch (const std::exception& e) {
        return std::max<size_t>(1, copy_out(e.what(), err, cap));
    }
}

// self.addcmul_(t1, t2, value=value) and self.addcdiv_(t1, t2, value=value): tch drops the
// `value` argument of these two, which torch.optim.Adam needs. Return 0 on success, otherwise
// the length of the error message written into `err`.
size_t tch_rnn_addcmul_(void* self, const void* t1, const void* t2, double value, char* err,
                        size_t cap) {
    try {
        static_cast<at::Tensor*>(self)->addcmul_(*static_cast<const at::Tensor*>(t1),
                                                 *static_cast<const at::Tensor*>(t2), value);
        return 0;
    } catch (const std::exception& e) {
        return std::max<size_t>(1, copy_out(e.what(), err, cap));
    }
}

size_t tch_rnn_addcdiv_(void* self, const void* t1, const void* t2, double value, char* err,
                        size_t cap) {
    try {
        static_cast<at::Tensor*>(self)->addcdiv_(*static_cast<const at::Tensor*>(t1),
                                                 *static_cast<const at::Tensor*>(t2), value);
        return 0;
    } catch (const std::exception& e) {
        return std::max<size_t>(1, copy_out(e.what(), err, cap));
    }
}

// *out = self.add(other, alpha=alpha), a new tensor that the caller owns (tch's add has no
// alpha). Returns 0 on success, otherwise the length of the error message written into `err`.
size_t tch_rnn_add_alpha(const void* self, const void* other, double alpha, void** out, char* err,
                         size_t cap) {
    try {
        *out = new at::Tensor(
            static_cast<const at::Tensor*>(self)->add(*static_cast<const at::Tensor*>(other), alpha));
        return 0;
    } catch (const std::exception& e) {
        return std::max<size_t>(1, copy_out(e.what(), err, cap));
    }
}

}  // extern "C"
