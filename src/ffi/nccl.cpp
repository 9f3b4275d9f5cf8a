// libtorch's NCCL backend (c10d::ProcessGroupNCCL), which lives in libtorch_cuda.so. Built by
// build.rs as a shared library of its own (libtch_rnn_nccl.so), linked against libtorch_cuda,
// and loaded by the crate only when a group asks for NCCL (src/ffi/nccl.rs): a binary that
// never uses CUDA never loads libtorch_cuda.so. Compiled with USE_C10D_NCCL against nccl.h and
// CUDA's headers; the backend is registered on the process group by distributed.cpp.

#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include <chrono>
#include <cstdlib>

#include "shim.h"

extern "C" {

// *out = a ProcessGroupNCCL (released: the caller reclaims it as a c10d::Backend) for rank
// `rank` of `world` on `store` (a `c10::intrusive_ptr<c10d::Store>*`, the "cuda/" PrefixStore),
// as init_process_group builds it: default options, the group's timeout, the default group's
// name "0" and all ranks (an empty list), its sequence number set.
//
// Collectives fail in the thread that waits on them, as catchable errors, instead of NCCL's
// watchdog ending the process: TORCH_NCCL_BLOCKING_WAIT=1 and TORCH_NCCL_ASYNC_ERROR_HANDLING=0
// unless the user set them.
size_t tch_rnn_nccl_backend_new(const void* store, int rank, int world, int64_t timeout_ms, void** out, char* err,
                                size_t cap) {
    return tch_rnn::guarded(err, cap, [&] {
        setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
        setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "0", 0);
        auto options = c10d::ProcessGroupNCCL::Options::create();
        options->timeout = std::chrono::milliseconds(timeout_ms);
        options->global_ranks_in_group = {};
        options->group_name = "0";
        const auto& prefixed = *static_cast<const c10::intrusive_ptr<c10d::Store>*>(store);
        auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, rank, world, options);
        nccl->setSequenceNumberForGroup();
        *out = c10::static_intrusive_pointer_cast<c10d::Backend>(nccl).release();
    });
}

}  // extern "C"
