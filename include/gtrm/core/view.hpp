// Non-owning row-major matrix views with a compile-time column count and a run-time row count.
// A (B, L, D) activation is a view<T, D> of B*L rows; per-sample blocks are row ranges.
// Members are GTRM_HD: device kernels receive views by value and index them.
#pragma once
#include <cassert>
#include <type_traits>

#include "types.hpp"

namespace gtrm {

template <class T, int Cols>
class view {
  static_assert(Cols >= 0, "a view needs a non-negative column count");

 public:
  using element_type = T;
  using value_type = std::remove_const_t<T>;
  static constexpr int cols = Cols;

  constexpr view() = default;
  GTRM_HD constexpr view(T* data, index_t rows) : data_(data), rows_(rows) {}
  // A view of mutable data converts to a view of const data.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
  GTRM_HD constexpr view(view<U, Cols> v) : data_(v.data()), rows_(v.rows()) {}

  GTRM_HD constexpr T* data() const { return data_; }
  GTRM_HD constexpr index_t rows() const { return rows_; }
  GTRM_HD constexpr index_t size() const { return rows_ * Cols; }
  GTRM_HD constexpr bool empty() const { return rows_ == 0; }
  GTRM_HD constexpr T* row(index_t r) const { assert(r >= 0 && r < rows_); return data_ + r * Cols; }
  GTRM_HD constexpr T& operator()(index_t r, int c) const {
    assert(r >= 0 && r < rows_ && c >= 0 && c < Cols);
    return data_[r * Cols + c];
  }
  GTRM_HD constexpr T& operator[](index_t i) const { assert(i >= 0 && i < size()); return data_[i]; }
  GTRM_HD constexpr T* begin() const { return data_; }
  GTRM_HD constexpr T* end() const { return data_ + size(); }

  // Rows [first, first + count).
  GTRM_HD constexpr view slice(index_t first, index_t count) const {
    assert(first >= 0 && count >= 0 && first + count <= rows_);
    return view(data_ + first * Cols, count);
  }
  // Same memory seen with another row width; size must divide evenly.
  template <int C2>
  GTRM_HD constexpr view<T, C2> reshape() const {
    assert(C2 > 0 && size() % C2 == 0);
    return view<T, C2>(data_, size() / C2);
  }

 private:
  T* data_ = nullptr;
  index_t rows_ = 0;
};

template <class T, int Cols>
using cview = view<const T, Cols>;

// A flat vector: one row of N... or N rows of one. We use (rows, 1).
template <class T>
using vec = view<T, 1>;

}  // namespace gtrm
