// Element-wise helpers the model composes: fill, copy, add, and the (L, D) <-> (D, L) per-sample
// transpose used by the token-mixing MLP.
//   add:        z = x + y                         (N, C)
//   transpose:  y[b] = x[b]ᵀ,  x (B*R, C) -> y (B*C, R)
#pragma once
#include "../core/view.hpp"

namespace gtrm::ops {

template <class Be, class T, int C>
void fill(const Be& be, view<T, C> x, T value) {
  be.parallel_for(x.rows(), [=] GTRM_HD (index_t r) {
    T* p = x.row(r);
    for (int c = 0; c < C; ++c) p[c] = value;
  });
}

template <class Be, class T, int C>
void copy(const Be& be, cview<T, C> x, view<T, C> y) {
  be.parallel_for(x.rows(), [=] GTRM_HD (index_t r) {
    const T* s = x.row(r);
    T* d = y.row(r);
    for (int c = 0; c < C; ++c) d[c] = s[c];
  });
}

// z = x + y (z may alias x or y)
template <class Be, class T, int C>
void add(const Be& be, cview<T, C> x, cview<T, C> y, view<T, C> z) {
  be.parallel_for(x.rows(), [=] GTRM_HD (index_t r) {
    const T* a = x.row(r);
    const T* b = y.row(r);
    T* d = z.row(r);
    for (int c = 0; c < C; ++c) d[c] = a[c] + b[c];
  });
}

// y += x
template <class Be, class T, int C>
void accumulate(const Be& be, cview<T, C> x, view<T, C> y) {
  be.parallel_for(x.rows(), [=] GTRM_HD (index_t r) {
    const T* a = x.row(r);
    T* d = y.row(r);
    for (int c = 0; c < C; ++c) d[c] += a[c];
  });
}

// Per sample: x[b] is (R, C), y[b] = x[b]ᵀ is (C, R). Assigns (Accumulate = false) or adds.
template <int R, bool Accumulate = false, class Be, class T, int C>
void transpose(const Be& be, cview<T, C> x, view<T, R> y) {
  const index_t batch = x.rows() / R;
  be.parallel_for(batch * C, [=] GTRM_HD (index_t bc) {
    const index_t b = bc / C;
    const int c = static_cast<int>(bc % C);
    const T* src = x.row(b * R) + c;
    T* dst = y.row(b * C + c);
    for (int r = 0; r < R; ++r) {
      if constexpr (Accumulate) dst[r] += src[r * C]; else dst[r] = src[r * C];
    }
  });
}

}  // namespace gtrm::ops
