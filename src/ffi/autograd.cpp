// Autograd: the name of a tensor's grad_fn, clearing a gradient, and tensor identity.

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/variable.h>

#include "shim.h"

using tch_rnn::copy_out;

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
    } catch (...) {
        return 0;
    }
}

// tensor.grad = None, as torch.optim's zero_grad(set_to_none=True) does: the next backward
// then stores its gradient instead of adding it to a zeroed one.
void tch_rnn_clear_grad(void* tensor) {
    try {
        static_cast<at::Tensor*>(tensor)->mutable_grad().reset();
    } catch (...) {
    }
}

// The TensorImpl behind a tensor handle: two handles name the same tensor (as Python's `is`
// does for parameters) exactly when these are equal.
const void* tch_rnn_tensor_impl(const void* tensor) {
    return static_cast<const at::Tensor*>(tensor)->unsafeGetTensorImpl();
}

}  // extern "C"
