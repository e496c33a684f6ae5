// Owning, 64-byte-aligned, zero-initialised storage. The only place gtrm allocates model memory:
// buffers are sized when a model or workspace is built, never inside a step.
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

template <class T>
class buffer {
 public:
  buffer() = default;
  explicit buffer(index_t n) { resize(n); }
  buffer(const buffer& o) : buffer(o.size_) { std::copy_n(o.data_, size_, data_); }
  buffer(buffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  buffer& operator=(buffer o) noexcept { swap(o); return *this; }
  ~buffer() { release(); }

  void swap(buffer& o) noexcept { std::swap(data_, o.data_); std::swap(size_, o.size_); }

  // Discards the contents; the new storage is zero.
  void resize(index_t n) {
    release();
    if (n <= 0) return;
    data_ = static_cast<T*>(::operator new[](sizeof(T) * static_cast<std::size_t>(n),
                                              std::align_val_t{buffer_alignment}));
    size_ = n;
    std::memset(static_cast<void*>(data_), 0, sizeof(T) * static_cast<std::size_t>(n));
  }
  void zero() { if (size_) std::memset(static_cast<void*>(data_), 0, sizeof(T) * static_cast<std::size_t>(size_)); }
  void fill(T v) { std::fill_n(data_, size_, v); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  index_t size() const { return size_; }
  T& operator[](index_t i) { return data_[i]; }
  const T& operator[](index_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  std::span<T> span() { return {data_, static_cast<std::size_t>(size_)}; }
  std::span<const T> span() const { return {data_, static_cast<std::size_t>(size_)}; }

  template <int Cols>
  view<T, Cols> as(index_t offset, index_t rows) { return view<T, Cols>(data_ + offset, rows); }
  template <int Cols>
  view<const T, Cols> as(index_t offset, index_t rows) const { return view<const T, Cols>(data_ + offset, rows); }

 private:
  void release() {
    if (data_) ::operator delete[](data_, std::align_val_t{buffer_alignment});
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  index_t size_ = 0;
};

}  // namespace gtrm
