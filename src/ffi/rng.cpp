// The default random generators' states: torch.get_rng_state() / torch.set_rng_state() and
// their torch.cuda twins, which tch does not expose.

#include <ATen/Context.h>
#include <ATen/core/Tensor.h>

#include <mutex>

#include "shim.h"

namespace {
// The default generator of the CPU (cuda == 0) or of CUDA device `index`.
at::Generator default_generator(int cuda, int index) {
    auto device = cuda ? c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index)) : c10::Device(c10::kCPU);
    return at::globalContext().defaultGenerator(device);
}
}  // namespace

extern "C" {

// *out = a copy of that generator's state (a uint8 tensor the caller owns), as
// torch.get_rng_state() / torch.cuda.get_rng_state(index). 0 on success, else the error's length.
size_t tch_rnn_rng_get_state(int cuda, int index, void** out, char* err, size_t cap) {
    return tch_rnn::guarded(err, cap, [&] {
        auto generator = default_generator(cuda, index);
        std::lock_guard<std::mutex> lock(generator.mutex());
        *out = new at::Tensor(generator.get_state());
    });
}

// Restores a state taken by tch_rnn_rng_get_state, as torch.set_rng_state.
size_t tch_rnn_rng_set_state(int cuda, int index, const void* state, char* err, size_t cap) {
    return tch_rnn::guarded(err, cap, [&] {
        auto generator = default_generator(cuda, index);
        std::lock_guard<std::mutex> lock(generator.mutex());
        generator.set_state(*static_cast<const at::Tensor*>(state));
    });
}

}  // extern "C"
