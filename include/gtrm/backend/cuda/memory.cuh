// Device memory for the CUDA backend: the storage and transfers of the backend contract (concepts.hpp).
//   device_buffer<T>  core/buffer.hpp's basic_buffer over cudaMalloc (zero-initialised, move-only)
//   device_arena      core/arena.hpp's bump allocator over one device allocation (measured first, allocated once)
//   buffer_t<cuda, T>, arena_t<cuda>   are these two
//   copy, to_host, from_host, fill, zero, synchronize   on the cuda tag, ordered on its stream; to_host and
//                     from_host wait, so the host memory may be read or reused as soon as they return
// Both are sized when a model or workspace is built, never inside a step. cuda.cuh includes this file, so every
// user of the tag has its storage.
#pragma once
#if !defined(__CUDACC__)
#error "gtrm/backend/cuda is CUDA code: include <gtrm/cuda.cuh> from a .cu file compiled by nvcc"
#endif

#include <cuda_runtime.h>

#include <cstddef>
#include <iterator>
#include <type_traits>

#include "../../concepts.hpp"
#include "../../core/arena.hpp"
#include "../../core/buffer.hpp"
#include "../../core/types.hpp"
#include "cuda.cuh"

namespace gtrm {

struct cuda_allocation {
  static constexpr bool host_accessible = false;
  // 256 bytes: cudaMalloc's own alignment, so every arena slice starts as aligned as a fresh allocation (vector
  // loads, cuBLAS).
  static constexpr std::size_t alignment = 256;
  // Waits for the zeroing (sizing happens once, at setup), so the zeros are in place before work on any stream,
  // including a borrowed non-blocking one, touches the memory.
  static void* allocate(std::size_t bytes) {
    void* p = nullptr;
    GTRM_CUDA_CHECK(cudaMalloc(&p, bytes));
    GTRM_CUDA_CHECK(cudaMemset(p, 0, bytes));
    GTRM_CUDA_CHECK(cudaStreamSynchronize(nullptr));
    return p;
  }
  static void deallocate(void* p) noexcept { (void)cudaFree(p); }  // errors ignored: called from destructors
};

template <class T>
using device_buffer = basic_buffer<T, cuda_allocation>;

inline constexpr std::size_t device_alignment = cuda_allocation::alignment;

// The host arena's bump allocator over one device allocation. A workspace is measured with a measuring
// device_arena, not a host arena (whose alignment is 64).
using device_arena = basic_arena<device_buffer<unsigned char>, device_alignment>;

template <>
struct backend_storage<cuda> {
  template <class T>
  using buffer = device_buffer<T>;
  using arena = device_arena;
};

namespace cuda_detail {
template <class R>
using element_t = std::remove_cvref_t<decltype(*std::data(std::declval<R&>()))>;

template <class T>
void memcpy_async(const cuda& be, T* dst, const T* src, std::size_t n, cudaMemcpyKind kind) {
  if (n) GTRM_CUDA_CHECK(cudaMemcpyAsync(dst, src, sizeof(T) * n, kind, be.stream()));
}
}  // namespace cuda_detail

inline void synchronize(const cuda& be) { be.synchronize(); }

// Device to device, queued on the stream.
template <contiguous_range Dst, contiguous_range Src>
void copy(const cuda& be, Dst&& dst, const Src& src) {
  detail::check_transfer_sizes("copy", dst, src);
  cuda_detail::memcpy_async(be, std::data(dst), std::data(src), std::size(src), cudaMemcpyDeviceToDevice);
}

// Device to host after all earlier work on the stream; waits for the copy.
template <class T, contiguous_range Src>
void to_host(const cuda& be, T* dst, const Src& src) {
  cuda_detail::memcpy_async(be, dst, std::data(src), std::size(src), cudaMemcpyDeviceToHost);
  be.synchronize();
}
template <contiguous_range Dst, contiguous_range Src>
void to_host(const cuda& be, Dst&& dst, const Src& src) {
  detail::check_transfer_sizes("to_host", dst, src);
  to_host(be, std::data(dst), src);
}

// Host to device. Pageable host memory is staged before cudaMemcpyAsync returns, but pinned memory is read later:
// wait, so the caller may overwrite src either way.
template <contiguous_range Dst, class T>
void from_host(const cuda& be, Dst&& dst, const T* src) {
  cuda_detail::memcpy_async(be, std::data(dst), src, std::size(dst), cudaMemcpyHostToDevice);
  be.synchronize();
}
template <contiguous_range Dst, contiguous_range Src>
void from_host(const cuda& be, Dst&& dst, const Src& src) {
  detail::check_transfer_sizes("from_host", dst, src);
  from_host(be, dst, std::data(src));
}

template <contiguous_range Dst, class V>
void fill(const cuda& be, Dst&& dst, V v) {
  using T = cuda_detail::element_t<Dst>;
  T* p = std::data(dst);
  const T value = static_cast<T>(v);
  be.parallel_for(static_cast<index_t>(std::size(dst)), [=] GTRM_HD(index_t i) { p[i] = value; });
}
template <contiguous_range Dst>
void zero(const cuda& be, Dst&& dst) {
  using T = cuda_detail::element_t<Dst>;
  if (std::size(dst)) GTRM_CUDA_CHECK(cudaMemsetAsync(std::data(dst), 0, sizeof(T) * std::size(dst), be.stream()));
}

static_assert(backend<cuda>);
static_assert(device_memory_backend<cuda>);
static_assert(std::is_same_v<buffer_t<cuda, float>, device_buffer<float>>);

}  // namespace gtrm
