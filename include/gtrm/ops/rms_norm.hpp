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

// y may alias x.
template <class Be, class T, int C>
void rms_norm_forward(const Be& be, cview<T, C> x, view<T, C> y, view<T, 1> rstd, T eps = T(rms_norm_eps)) {
  be.parallel_for(x.rows(), [=] GTRM_HD (index_t n) {
    const T* xr = x.row(n);
    T* yr = y.row(n);
    T ss = 0;
    for (int c = 0; c < C; ++c) ss += xr[c] * xr[c];
    const T r = T(1) / std::sqrt(ss / T(C) + eps);
    for (int c = 0; c < C; ++c) yr[c] = xr[c] * r;
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
    T* yr = y.row(n);
    alignas(64) T x[C];
    T ss = 0;
    for (int c = 0; c < C; ++c) {
      x[c] = ar[c] + br[c];
      ss += x[c] * x[c];
    }
    const T r = T(1) / std::sqrt(ss / T(C) + eps);
    for (int c = 0; c < C; ++c) yr[c] = x[c] * r;
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
