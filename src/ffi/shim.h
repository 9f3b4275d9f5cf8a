// What every file of the shim shares: copying a string out to Rust, and running a libtorch
// call so that no C++ exception unwinds into Rust. Errors come back as one message written
// into the caller's buffer: c10::Error's text without the "Exception raised from ..." trace
// and C++ frames that what() appends.

#pragma once

#include <c10/util/Exception.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <exception>
#include <string>

namespace tch_rnn {

// Copies `text` into `buf` (at most `cap` bytes, no terminator) and returns its full length,
// so that the caller can retry with a larger buffer.
inline size_t copy_out(const std::string& text, char* buf, size_t cap) {
    std::memcpy(buf, text.data(), std::min(text.size(), cap));
    return text.size();
}

// Runs `call`; returns 0 when it succeeded, otherwise the length (at least 1) of the error
// message written into `err`.
template <typename F>
size_t guarded(char* err, size_t cap, F&& call) {
    try {
        call();
        return 0;
    } catch (const c10::Error& e) {
        return std::max<size_t>(1, copy_out(e.what_without_backtrace(), err, cap));
    } catch (const std::exception& e) {
        return std::max<size_t>(1, copy_out(e.what(), err, cap));
    } catch (...) {
        return copy_out("unknown C++ exception", err, cap);
    }
}

}  // namespace tch_rnn
