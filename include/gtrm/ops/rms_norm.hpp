// rms_norm without gain (post-norm, models/layers.py:rms_norm):
//   y = x * r,  r = 1 / sqrt(mean(x², last axis) + eps)             x, y (N, C); r (N) saved
// backward:
//   dx += r * (dy - y * mean(dy ∘ y))       (Accumulate = false assigns instead, sparing the caller a zero fill)
// The post-norm residual y = rms_norm(x + f(x)) is one pass (add_rms_norm_forward): the sum is never stored,
// since backward needs only y and r.
// Over the sequence axis (mlp_t) the caller passes the transposed (B*D, L) activation.
#pragma once
#include <cmath>

#include "../core/view.hpp"

namespace gtrm::ops {

inline constexpr double rms_norm_eps = 1e-5;

namespace detail {
// One row: y = x · r, returns r. y may alias x.
template <int C, class T>
GTRM_HD inline T rms_norm_row(const T* x, T* y, T eps) {
  T ss = 0;
  for (int c = 0; c < C; ++c) ss += x[c] * x[c];
  const T r = T(1) / std::sqrt(ss / T(C) + eps);
  for (int c = 0; c < C; ++c) y[c] = x[c] * r;
  return r;
}
}  // namespace detail

// y may alias x.
template <class Be, class T, int C>
void rms_norm_forward(const Be& be, cview<T, C> x, view<T, C> y, view<T, 1> rstd, T eps = T(rms_norm_eps)) {
  be.parallel_for(x.rows(), [=] GTRM_HD (index_t n) {
    const T r = detail::rms_norm_row<C>(x.row(n), y.row(n), eps);
    if (!rstd.empty()) rstd[n] = r;
  });
}

// y = rms_norm(a + b), r saved. y may alias a or b.
template <class Be, class T, int C>
void add_rms_norm_forward(const Be& be, cview<T, C> a, cview<T, C> b, view<T, C> y, view<T, 1> rstd,
                          T eps = T(rms_norm_eps)) {
  be.parallel_for(a.rows(), [=] GTRM_HD (index_t n) {
    const T* ar = a.row(n);
    const T* br = b.row(n);
    alignas(64) T x[C];
    for (int c = 0; c < C; ++c) x[c] = ar[c] + br[c];
    const T r = detail::rms_norm_row<C>(x, y.row(n), eps);
    if (!rstd.empty()) rstd[n] = r;
  });
}

template <class Be, class T, int C, bool Accumulate = true>
void rms_norm_backward(const Be& be, cview<T, C> y, cview<T, 1> rstd, cview<T, C> dy, view<T, C> dx) {
  be.parallel_for(y.rows(), [=] GTRM_HD (index_t n) {
    const T* yr = y.row(n);
    const T* g = dy.row(n);
    T* d = dx.row(n);
    T dot = 0;
    for (int c = 0; c < C; ++c) dot += g[c] * yr[c];
    const T m = dot / T(C);
    const T r = rstd[n];
    if constexpr (Accumulate)
      for (int c = 0; c < C; ++c) d[c] += r * (g[c] - yr[c] * m);
    else
      for (int c = 0; c < C; ++c) d[c] = r * (g[c] - yr[c] * m);
  });
}

}  // namespace gtrm::ops
