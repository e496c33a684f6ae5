// Owning, aligned, zero-initialised storage: the only place gtrm allocates model memory. Buffers are sized when a
// model or workspace is built, never inside a step.
//   basic_buffer<T, Allocation>  the storage class, written once; Allocation says where the memory lives:
//     allocate(bytes) -> zeroed memory aligned to Allocation::alignment, deallocate(p) noexcept, and
//     host_accessible (whether the host may dereference it: element access, iteration, copying the buffer)
//   buffer<T>                    host memory (host_allocation, 64-byte aligned, copyable)
// The device counterpart is backend/cuda/memory.cuh's device_buffer<T> = basic_buffer<T, cuda_allocation>
// (move-only); which one a backend uses is buffer_t<Be, T> (concepts.hpp).
#pragma once
#include <algorithm>
#include <cstring>
#include <new>
#include <span>
#include <utility>

#include "types.hpp"
#include "view.hpp"

namespace gtrm {

inline constexpr std::size_t buffer_alignment = 64;

struct host_allocation {
  static constexpr bool host_accessible = true;
  static constexpr std::size_t alignment = buffer_alignment;
  static void* allocate(std::size_t bytes) {
    void* p = ::operator new[](bytes, std::align_val_t{alignment});
    std::memset(p, 0, bytes);
    return p;
  }
  static void deallocate(void* p) noexcept { ::operator delete[](p, std::align_val_t{alignment}); }
};

template <class T, class Allocation>
class basic_buffer {
 public:
  using value_type = T;
  using allocation = Allocation;

  basic_buffer() = default;
  explicit basic_buffer(index_t n) { resize(n); }
  // Only host memory is copied by value; device buffers are move-only (copies go through the backend's copy()).
  basic_buffer(const basic_buffer& o)
    requires Allocation::host_accessible
      : basic_buffer(o.size_) {
    std::copy_n(o.data_, size_, data_);
  }
  basic_buffer(basic_buffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  basic_buffer& operator=(basic_buffer o) noexcept {
    swap(o);
    return *this;
  }
  ~basic_buffer() { release(); }

  void swap(basic_buffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
  }

  // Discards the contents; the new storage is zero.
  void resize(index_t n) {
    release();
    if (n <= 0) return;
    data_ = static_cast<T*>(Allocation::allocate(sizeof(T) * static_cast<std::size_t>(n)));
    size_ = n;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  index_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<T> span() { return {data_, static_cast<std::size_t>(size_)}; }
  std::span<const T> span() const { return {data_, static_cast<std::size_t>(size_)}; }

  template <int Cols>
  view<T, Cols> as(index_t offset, index_t rows) { return view<T, Cols>(data_ + offset, rows); }
  template <int Cols>
  view<const T, Cols> as(index_t offset, index_t rows) const { return view<const T, Cols>(data_ + offset, rows); }

  // Host memory only: element access and iteration. Device memory is filled with the backend's zero/fill.
  void zero()
    requires Allocation::host_accessible
  {
    if (size_) std::memset(static_cast<void*>(data_), 0, sizeof(T) * static_cast<std::size_t>(size_));
  }
  void fill(T v)
    requires Allocation::host_accessible
  {
    std::fill_n(data_, size_, v);
  }
  T& operator[](index_t i)
    requires Allocation::host_accessible
  {
    return data_[i];
  }
  const T& operator[](index_t i) const
    requires Allocation::host_accessible
  {
    return data_[i];
  }
  T* begin()
    requires Allocation::host_accessible
  {
    return data_;
  }
  T* end()
    requires Allocation::host_accessible
  {
    return data_ + size_;
  }
  const T* begin() const
    requires Allocation::host_accessible
  {
    return data_;
  }
  const T* end() const
    requires Allocation::host_accessible
  {
    return data_ + size_;
  }

 private:
  void release() noexcept {
    if (data_) Allocation::deallocate(data_);
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  index_t size_ = 0;
};

template <class T>
using buffer = basic_buffer<T, host_allocation>;

}  // namespace gtrm
