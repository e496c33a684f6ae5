// The contracts between gtrm's layers.
//
// Backend: what an op needs from a device. Ops in gtrm/ops are written once against this contract;
// a backend (cpu in backend/cpu, cuda in backend/cuda) supplies
//   gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)  -- row-major C = alpha op(A) op(B) + beta C
//   parallel_for(n, f)                                           -- f(i) for every i in [0, n), any order
// and owns its memory:
//   buffer_t<Be, T>, arena_t<Be>      the storage its ops read and write (host buffer/arena unless the backend
//                                     specialises backend_storage, as cuda does with device_buffer/device_arena)
//   copy(be, dst, src)                backend memory to backend memory
//   to_host(be, host dst, src)        backend memory to a host range (or pointer), after all queued work
//   from_host(be, dst, host src)      a host range (or pointer) into backend memory; src is free again on return
//   fill(be, dst, v), zero(be, dst)   set every element
//   synchronize(be)                   wait for all queued work
// Ranges are anything with data() and size() (buffers, spans, views, vectors). These are free functions in
// namespace gtrm, found by argument-dependent lookup on the backend tag; the host versions below serve every
// backend without device memory, a device backend declares its own next to its tag.
// Ops whose device form is not the generic parallel_for body call an unqualified `<op>_impl(be, ...)`: the host
// body is an ops template constrained to !device_memory_backend, the device one a function on the backend's tag
// in namespace gtrm, found by the same lookup when the op is instantiated -- so include order does not matter.
#pragma once
#include <algorithm>
#include <concepts>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/arena.hpp"
#include "core/buffer.hpp"
#include "core/types.hpp"

namespace gtrm {

enum class trans : bool { no = false, yes = true };

namespace detail {
// The probe body for parallel_for. A named type, not a lambda: nvcc's front end evaluates a requires-expression
// holding a lambda to false, which made backend<...> false for every backend in .cu files.
struct index_sink {
  GTRM_HD void operator()(index_t) const {}
};
}  // namespace detail

// A backend whose buffers live in device memory says so with `static constexpr bool device_memory = true;`.
template <class B>
concept device_memory_backend = requires { requires B::device_memory; };

// Where a backend's buffers live. Host memory unless specialised (backend/cuda/memory.cuh does for cuda).
template <class Be>
struct backend_storage {
  template <class T>
  using buffer = gtrm::buffer<T>;
  using arena = gtrm::arena;
};
template <class Be, class T>
using buffer_t = typename backend_storage<std::remove_cvref_t<Be>>::template buffer<T>;
template <class Be>
using arena_t = typename backend_storage<std::remove_cvref_t<Be>>::arena;

// Anything with data() and size(): the ranges the transfers take.
template <class R>
concept contiguous_range = requires(R& r) {
  std::data(r);
  std::size(r);
};

namespace detail {
template <class Dst, class Src>
void check_transfer_sizes(const char* what, const Dst& dst, const Src& src) {
  const auto nd = static_cast<index_t>(std::size(dst)), ns = static_cast<index_t>(std::size(src));
  if (nd != ns)
    throw std::invalid_argument(std::string("gtrm::") + what + ": " + std::to_string(ns) + " source elements for " +
                                std::to_string(nd) + " destination elements");
}
}  // namespace detail

// ---- the transfers of a host-memory backend: plain copies; synchronize has nothing to wait for ----
template <class Be>
  requires(!device_memory_backend<Be>)
void synchronize(const Be&) {}

template <class Be, contiguous_range Dst, contiguous_range Src>
  requires(!device_memory_backend<Be>)
void copy(const Be&, Dst&& dst, const Src& src) {
  detail::check_transfer_sizes("copy", dst, src);
  std::copy_n(std::data(src), std::size(src), std::data(dst));
}
template <class Be, contiguous_range Dst, contiguous_range Src>
  requires(!device_memory_backend<Be>)
void to_host(const Be& be, Dst&& dst, const Src& src) {
  copy(be, dst, src);
}
template <class Be, class T, contiguous_range Src>
  requires(!device_memory_backend<Be>)
void to_host(const Be&, T* dst, const Src& src) {
  std::copy_n(std::data(src), std::size(src), dst);
}
template <class Be, contiguous_range Dst, contiguous_range Src>
  requires(!device_memory_backend<Be>)
void from_host(const Be& be, Dst&& dst, const Src& src) {
  copy(be, dst, src);
}
template <class Be, contiguous_range Dst, class T>
  requires(!device_memory_backend<Be>)
void from_host(const Be&, Dst&& dst, const T* src) {
  std::copy_n(src, std::size(dst), std::data(dst));
}
template <class Be, contiguous_range Dst, class V>
  requires(!device_memory_backend<Be>)
void fill(const Be&, Dst&& dst, V v) {
  std::fill_n(std::data(dst), std::size(dst), v);
}
template <class Be, contiguous_range Dst>
  requires(!device_memory_backend<Be>)
void zero(const Be& be, Dst&& dst) {
  using T = std::remove_cvref_t<decltype(*std::data(dst))>;
  fill(be, dst, T(0));
}

// The host side of a backend buffer, for file I/O and host-side checks: the buffer's own memory where the host
// may read it, a staged host copy on a device backend. download() before reading data(), upload() after writing.
template <class Be, class Buf>
class host_stage {
  using pointer = decltype(std::data(std::declval<Buf&>()));   // const T* for a const buffer
  using element = std::remove_cvref_t<decltype(*std::declval<pointer>())>;
  static constexpr bool staged = device_memory_backend<Be>;

 public:
  host_stage(const Be& be, Buf& buf) : be_(be), buf_(buf), copy_(staged ? std::size(buf) : 0) {}
  pointer data() {
    if constexpr (staged) return copy_.data();
    else return std::data(buf_);
  }
  host_stage& download() {
    if constexpr (staged) to_host(be_, copy_, buf_);
    return *this;
  }
  void upload() {
    if constexpr (staged) from_host(be_, buf_, copy_);
  }

 private:
  const Be& be_;
  Buf& buf_;
  std::vector<element> copy_;
};

template <class B>
concept backend = requires(const B& be, index_t n) {
  { B::name } -> std::convertible_to<const char*>;
  be.parallel_for(n, detail::index_sink{});
  be.template gemm<float>(trans::no, trans::no, n, n, n, 1.0f, static_cast<const float*>(nullptr), n,
                          static_cast<const float*>(nullptr), n, 0.0f, static_cast<float*>(nullptr), n);
  typename buffer_t<B, float>;
  typename arena_t<B>;
  synchronize(be);
};

}  // namespace gtrm
