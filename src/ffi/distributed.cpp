// libtorch's distributed engine (c10d), as torch.distributed drives it: a TCPStore, the
// PrefixStores that init_process_group puts around it, a ProcessGroup holding a
// ProcessGroupGloo backend (and a ProcessGroupNCCL one from nccl.cpp when asked), its
// collectives, and the pieces of DistributedDataParallel that libtorch exports (parameter
// verification, broadcast_coalesced, bucket assignment), plus a recorder of the order in which
// parameters' gradients become ready (as DDP's Reducer records it to rebuild its buckets).
// Compiled only when gloo's headers are there (build.rs), with USE_C10D_GLOO. Each function
// returns 0 on success, otherwise the length of the error message written into `err`.

#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <c10/util/Logging.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "shim.h"

namespace {

// Silences c10's log (errors too) while any call of this file runs: c10d logs the failures it
// also throws, with a C++ trace, and each failure reaches the user as one line from Rust
// instead. A TORCH_CPP_LOG_LEVEL set by the user (to debug c10d) is left alone.
class QuietLog {
  public:
    QuietLog() {
        std::lock_guard<std::mutex> lock(mutex());
        if (active() && depth()++ == 0) {
            saved() = FLAGS_caffe2_log_level;
            FLAGS_caffe2_log_level = c10::GLOG_FATAL;
        }
    }
    ~QuietLog() {
        std::lock_guard<std::mutex> lock(mutex());
        if (active() && --depth() == 0) FLAGS_caffe2_log_level = saved();
    }

  private:
    static bool active() { return std::getenv("TORCH_CPP_LOG_LEVEL") == nullptr; }
    static std::mutex& mutex() { static std::mutex m; return m; }
    static int& depth() { static int d = 0; return d; }
    static int& saved() { static int s = 0; return s; }
};

// tch_rnn::guarded with c10's log silenced.
template <typename F>
size_t quiet(char* err, size_t cap, F&& call) {
    QuietLog quiet;
    return tch_rnn::guarded(err, cap, std::forward<F>(call));
}

// A process group and the TCPStore under it (the store also carries the failure reports).
struct Group {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroup> pg;
};

Group& group(void* g) { return *static_cast<Group*>(g); }

// The live process group of `g` (an error once it was shut down).
const c10::intrusive_ptr<c10d::ProcessGroup>& pg(void* g) {
    const auto& live = group(g).pg;
    TORCH_CHECK(live, "the process group was shut down after a failure");
    return live;
}

std::vector<at::Tensor> tensors(const void* const* ts, size_t n) {
    std::vector<at::Tensor> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) out.push_back(*static_cast<const at::Tensor*>(ts[i]));
    return out;
}

// torch.distributed's env:// store: rank 0 hosts a multi-tenant server, or, under torchrun's
// agent store, every rank is a client of the agent's.
c10::intrusive_ptr<c10d::Store> tcp_store(const char* host, int port, int rank, int world, bool agent,
                                          std::chrono::milliseconds timeout) {
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(port);
    opts.isServer = !agent && rank == 0;
    opts.numWorkers = static_cast<std::size_t>(world);
    // A client's connection attempt is retried once after its timeout: half each keeps a
    // store that never comes within `timeout`. Later store operations get the whole of it.
    opts.timeout = opts.isServer ? timeout : timeout / 2;
    opts.multiTenant = !agent;
    auto store = c10::make_intrusive<c10d::TCPStore>(host, opts);
    store->setTimeout(timeout);
    return store;
}

// The signature of tch_rnn_nccl_backend_new (nccl.cpp, in libtch_rnn_nccl.so).
using NcclFactory = size_t (*)(const void* store, int rank, int world, int64_t timeout_ms, void** out, char* err,
                               size_t cap);

// A ProcessGroupNCCL from `factory` on the "cuda/" PrefixStore; its errors are rethrown here.
c10::intrusive_ptr<c10d::Backend> nccl_backend(NcclFactory factory, const c10::intrusive_ptr<c10d::Store>& store,
                                               int rank, int world, std::chrono::milliseconds timeout) {
    std::string message(1024, '\0');
    void* raw = nullptr;
    size_t n = factory(&store, rank, world, timeout.count(), &raw, message.data(), message.size());
    TORCH_CHECK(n == 0, message.substr(0, std::min(n, message.size())));
    return c10::intrusive_ptr<c10d::Backend>::reclaim(static_cast<c10d::Backend*>(raw));
}

// init_process_group's default group: PrefixStore "default_pg", then the group name "0/",
// then one backend per device under the device's prefix. Without `nccl`, as
// init_process_group("gloo"): one ProcessGroupGloo on "cpu/" for CPU and CUDA tensors alike.
// With it, as init_process_group("cpu:gloo,cuda:nccl"): Gloo on "cpu/" for CPU tensors, NCCL
// (made by `nccl`) on "cuda/" for CUDA tensors, and NCCL the default.
c10::intrusive_ptr<c10d::ProcessGroup> default_group(const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                                     int world, std::chrono::milliseconds timeout, NcclFactory nccl) {
    using Type = c10d::ProcessGroup::BackendType;
    auto named = c10::make_intrusive<c10d::PrefixStore>("0/", c10::make_intrusive<c10d::PrefixStore>("default_pg", store));
    auto pg = c10::make_intrusive<c10d::ProcessGroup>(named, rank, world);
    pg->setDefaultBackend(nccl ? Type::NCCL : Type::GLOO);
    auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("cpu/", named), rank,
                                                            world, c10d::ProcessGroupGloo::Options::create_default(timeout));
    gloo->setSequenceNumberForGroup();
    auto cpu = c10::static_intrusive_pointer_cast<c10d::Backend>(gloo);
    pg->setBackend(c10::DeviceType::CPU, Type::GLOO, cpu);
    if (nccl) {
        c10::intrusive_ptr<c10d::Store> cuda = c10::make_intrusive<c10d::PrefixStore>("cuda/", named);
        pg->setBackend(c10::DeviceType::CUDA, Type::NCCL, nccl_backend(nccl, cuda, rank, world, timeout));
    } else {
        pg->setBackend(c10::DeviceType::CUDA, Type::GLOO, cpu);
    }
    pg->setGroupName("0");
    pg->setGroupDesc("default_pg");
    return pg;
}

// Records, once, the order in which the parameters' gradient accumulators run in a backward
// pass, through post hooks on them (DDP's Reducer does the same to rebuild its buckets).
struct ReadyOrder {
    std::mutex mutex;
    std::vector<int64_t> order;
    std::vector<bool> seen;
    // A gradient accumulator's pointer: std::shared_ptr up to libtorch 2.11, c10::intrusive_ptr
    // from 2.13 on.
    using Accumulator = decltype(torch::autograd::impl::grad_accumulator(std::declval<const at::Tensor&>()));
    std::vector<std::pair<uintptr_t, Accumulator>> hooks;

    void ready(size_t index) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!seen[index]) {
            seen[index] = true;
            order.push_back(static_cast<int64_t>(index));
        }
    }

    ~ReadyOrder() {
        for (auto& [key, accumulator] : hooks) accumulator->del_post_hook(key);
    }
};

}  // namespace

extern "C" {

// *out = the default process group of this rank, as init_process_group("gloo") builds it, or
// with `nccl` (tch_rnn_nccl_backend_new) as init_process_group("cpu:gloo,cuda:nccl").
size_t tch_rnn_dist_group_new(const char* host, int port, int rank, int world, int agent_store, int64_t timeout_ms,
                              NcclFactory nccl, void** out, char* err, size_t cap) {
    return quiet(err, cap, [&] {
        auto timeout = std::chrono::milliseconds(timeout_ms);
        auto store = tcp_store(host, port, rank, world, agent_store != 0, timeout);
        *out = new Group{store, default_group(store, rank, world, timeout, nccl)};
    });
}

// Releases the group (its connections close, which peers see at once).
size_t tch_rnn_dist_group_free(void* g, char* err, size_t cap) {
    return quiet(err, cap, [&] { delete static_cast<Group*>(g); });
}

// Closes the group's connections (peers see it at once), keeping its store.
size_t tch_rnn_dist_group_shutdown(void* g, char* err, size_t cap) {
    return quiet(err, cap, [&] { group(g).pg.reset(); });
}

// SUM allreduce in place: dist.all_reduce for one tensor, all_reduce_coalesced for several.
size_t tch_rnn_dist_allreduce(void* g, const void* const* ts, size_t n, char* err, size_t cap) {
    return quiet(err, cap, [&] {
        auto v = tensors(ts, n);
        (n == 1 ? pg(g)->allreduce(v) : pg(g)->allreduce_coalesced(v))->wait();
    });
}

// dist.broadcast of one tensor from `root`.
size_t tch_rnn_dist_broadcast(void* g, const void* t, int root, char* err, size_t cap) {
    return quiet(err, cap, [&] {
        auto v = tensors(&t, 1);
        c10d::BroadcastOptions opts;
        opts.rootRank = root;
        pg(g)->broadcast(v, opts)->wait();
    });
}

// DDP's _broadcast_coalesced: the tensors from `root`, flattened into buffers of at most
// `buffer_bytes`.
size_t tch_rnn_dist_broadcast_coalesced(void* g, const void* const* ts, size_t n, size_t buffer_bytes, int root,
                                        char* err, size_t cap) {
    return quiet(err, cap, [&] { c10d::broadcast_coalesced(pg(g), tensors(ts, n), buffer_bytes, root); });
}

// dist.barrier().
size_t tch_rnn_dist_barrier(void* g, char* err, size_t cap) {
    return quiet(err, cap, [&] { pg(g)->barrier()->wait(); });
}

// DDP's _verify_params_across_processes: every rank holds as many parameters of the same
// shapes and strides as rank 0.
size_t tch_rnn_dist_verify_params(void* g, const void* const* ts, size_t n, char* err, size_t cap) {
    return quiet(err, cap, [&] { c10d::verify_params_across_processes(pg(g), tensors(ts, n), std::nullopt); });
}

// store.set(key, value) on the group's TCPStore.
size_t tch_rnn_dist_store_set(void* g, const char* key, const char* value, char* err, size_t cap) {
    return quiet(err, cap, [&] {
        std::string text(value);
        group(g).store->set(key, std::vector<uint8_t>(text.begin(), text.end()));
    });
}

// *present = store.check([key]), without waiting.
size_t tch_rnn_dist_store_check(void* g, const char* key, int* present, char* err, size_t cap) {
    return quiet(err, cap, [&] { *present = group(g).store->check({key}) ? 1 : 0; });
}

// dist._compute_bucket_assignment_by_size: DDP's buckets of the tensors (given in `indices`
// order when `indices` is not null). Writes the tensor indices bucket after bucket into
// `out_indices` (n of them), each bucket's length into `out_lengths`, their count into
// `*buckets`.
size_t tch_rnn_dist_bucket_assignment(const void* const* ts, size_t n, const size_t* limits, size_t n_limits,
                                      const int64_t* indices, int64_t* out_indices, int64_t* out_lengths,
                                      size_t* buckets, char* err, size_t cap) {
    return tch_rnn::guarded(err, cap, [&] {
        std::vector<int64_t> order = indices ? std::vector<int64_t>(indices, indices + n) : std::vector<int64_t>();
        auto [assigned, sizes] = c10d::compute_bucket_assignment_by_size(
            tensors(ts, n), std::vector<size_t>(limits, limits + n_limits), std::vector<bool>(n, false), order);
        size_t k = 0;
        for (size_t b = 0; b < assigned.size(); ++b) {
            out_lengths[b] = static_cast<int64_t>(assigned[b].size());
            for (auto index : assigned[b]) out_indices[k++] = static_cast<int64_t>(index);
        }
        *buckets = assigned.size();
    });
}

// DDP's default bucket caps in bytes: the first bucket's and the others'.
void tch_rnn_dist_default_bucket_bytes(int64_t* first, int64_t* others) {
    *first = c10d::kDefaultFirstBucketBytes;
    *others = c10d::kDefaultBucketBytesCap;
}

// *out = a recorder of the order in which the gradients of these leaf tensors become ready.
size_t tch_rnn_dist_ready_order_new(const void* const* ts, size_t n, void** out, char* err, size_t cap) {
    return tch_rnn::guarded(err, cap, [&] {
        auto recorder = std::make_unique<ReadyOrder>();
        recorder->seen.assign(n, false);
        auto* raw = recorder.get();
        for (size_t i = 0; i < n; ++i) {
            auto accumulator = torch::autograd::impl::grad_accumulator(*static_cast<const at::Tensor*>(ts[i]));
            TORCH_CHECK(accumulator, "tensor ", i, " is not a leaf that requires grad");
            auto key = accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
                [raw, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
                    raw->ready(i);
                    return outputs;
                }));
            recorder->hooks.emplace_back(key, accumulator);
        }
        *out = recorder.release();
    });
}

// Copies the indices recorded so far into `out` (at most `n`) and returns how many there are.
size_t tch_rnn_dist_ready_order_read(void* r, int64_t* out, size_t n) {
    auto& recorder = *static_cast<ReadyOrder*>(r);
    std::lock_guard<std::mutex> lock(recorder.mutex);
    std::copy_n(recorder.order.begin(), std::min(n, recorder.order.size()), out);
    return recorder.order.size();
}

// Removes the recorder's hooks and frees it.
void tch_rnn_dist_ready_order_free(void* r) { delete static_cast<ReadyOrder*>(r); }

}  // extern "C"
