// Tensor operations with arguments tch drops: torch.linalg.vector_norm, and addcmul_, addcdiv_
// and add with their `value` / `alpha` scalars, which torch.optim.Adam and clip_grad_norm_ need.
// Each returns 0 on success, otherwise the length of the error message written into `err`.

#include <ATen/ATen.h>

#include "shim.h"

namespace {
const at::Tensor& tensor(const void* t) { return *static_cast<const at::Tensor*>(t); }
}  // namespace

extern "C" {

// *out = torch.linalg.vector_norm(self, ord), a new tensor that the caller owns.
size_t tch_rnn_vector_norm(const void* self, double ord, void** out, char* err, size_t cap) {
    return tch_rnn::guarded(err, cap, [&] { *out = new at::Tensor(at::linalg_vector_norm(tensor(self), ord)); });
}

// self.addcmul_(t1, t2, value=value).
size_t tch_rnn_addcmul_(void* self, const void* t1, const void* t2, double value, char* err, size_t cap) {
    return tch_rnn::guarded(err, cap, [&] { static_cast<at::Tensor*>(self)->addcmul_(tensor(t1), tensor(t2), value); });
}

// self.addcdiv_(t1, t2, value=value).
size_t tch_rnn_addcdiv_(void* self, const void* t1, const void* t2, double value, char* err, size_t cap) {
    return tch_rnn::guarded(err, cap, [&] { static_cast<at::Tensor*>(self)->addcdiv_(tensor(t1), tensor(t2), value); });
}

// *out = self.add(other, alpha=alpha), a new tensor that the caller owns.
size_t tch_rnn_add_alpha(const void* self, const void* other, double alpha, void** out, char* err, size_t cap) {
    return tch_rnn::guarded(err, cap, [&] { *out = new at::Tensor(tensor(self).add(tensor(other), alpha)); });
}

}  // extern "C"
