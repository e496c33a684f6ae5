// Device memory for the CUDA backend, the counterparts of core/buffer.hpp and core/arena.hpp:
//   device_buffer<T>  owning, zero-initialised cudaMalloc storage (move-only), with copies to and from the host
//   device_arena      a bump allocator over one device_buffer: measured first (no memory), then allocated once, so
//                     nothing allocates inside a step; taking more than the capacity throws
// Both are sized when a model or workspace is built, never inside a step.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../../core/arena.hpp"
#include "../../core/types.hpp"
#include "../../core/view.hpp"
#include "cuda.cuh"

namespace gtrm {

template <class T>
class device_buffer {
 public:
  device_buffer() = default;
  explicit device_buffer(index_t n) { resize(n); }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  device_buffer(device_buffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  device_buffer& operator=(device_buffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~device_buffer() { release(); }

  // Discards the contents; the new storage is zero. Waits for the zeroing (sizing happens once, at setup), so the
  // zeros are in place before work on any stream, including a borrowed non-blocking one, touches the buffer.
  void resize(index_t n) {
    release();
    if (n <= 0) return;
    GTRM_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), bytes(n)));
    size_ = n;
    GTRM_CUDA_CHECK(cudaMemset(data_, 0, bytes(n)));
    GTRM_CUDA_CHECK(cudaStreamSynchronize(nullptr));
  }
  void zero(const cuda& be) {
    if (size_) GTRM_CUDA_CHECK(cudaMemsetAsync(data_, 0, bytes(size_), be.stream()));
  }

  // Host to device, ordered on the backend's stream; the host memory may be reused as soon as this returns.
  void copy_from_host(const cuda& be, std::span<const T> src) {
    check_size(src.size(), "copy_from_host");
    if (size_)
      GTRM_CUDA_CHECK(cudaMemcpyAsync(data_, src.data(), bytes(size_), cudaMemcpyHostToDevice, be.stream()));
    // Pageable host memory is staged before cudaMemcpyAsync returns, but pinned memory is read later: wait, so the
    // caller may overwrite src either way.
    be.synchronize();
  }
  // Device to host after all earlier work on the stream; waits for the copy.
  void copy_to_host(const cuda& be, std::span<T> dst) const {
    check_size(dst.size(), "copy_to_host");
    if (size_)
      GTRM_CUDA_CHECK(cudaMemcpyAsync(dst.data(), data_, bytes(size_), cudaMemcpyDeviceToHost, be.stream()));
    be.synchronize();
  }
  std::vector<T> to_host(const cuda& be) const {
    std::vector<T> out(static_cast<std::size_t>(size_));
    copy_to_host(be, out);
    return out;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  index_t size() const { return size_; }
  std::span<T> span() { return {data_, static_cast<std::size_t>(size_)}; }
  std::span<const T> span() const { return {data_, static_cast<std::size_t>(size_)}; }

  template <int Cols>
  view<T, Cols> as(index_t offset, index_t rows) { return view<T, Cols>(data_ + offset, rows); }
  template <int Cols>
  view<const T, Cols> as(index_t offset, index_t rows) const { return view<const T, Cols>(data_ + offset, rows); }

 private:
  static std::size_t bytes(index_t n) { return sizeof(T) * static_cast<std::size_t>(n); }
  void check_size(std::size_t n, const char* what) const {
    if (static_cast<index_t>(n) != size_)
      throw std::invalid_argument(std::string("gtrm::device_buffer::") + what + ": " + std::to_string(n) +
                                  " host elements for a buffer of " + std::to_string(size_));
  }
  void release() noexcept {
    if (data_) (void)cudaFree(data_);  // errors ignored: called from the destructor
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  index_t size_ = 0;
};

// 256 bytes: cudaMalloc's own alignment, so every slice starts as aligned as a fresh allocation (vector loads,
// cuBLAS). A workspace is measured with a measuring device_arena, not a host arena (whose alignment is 64).
inline constexpr std::size_t device_alignment = 256;

// The host arena's bump allocator (core/arena.hpp) over one device allocation.
using device_arena = basic_arena<device_buffer<unsigned char>, device_alignment>;

}  // namespace gtrm
