// Rotary position embedding, non-interleaved ("NeoX" rotate_half), θ = 10000 (models/layers.py):
//   inv_freq[k] = θ^(−2k/d), k < d/2;  cos[p, j] = cos(p · inv_freq[j mod d/2]), sin likewise   (L, d)
//   rotate_half(v) = concat(−v[d/2:], v[:d/2]);   v' = v ∘ cos + rotate_half(v) ∘ sin
// applied in place to the Q and K parts of qkv (N, 3·H·d) rows, position p = row mod L (prefix included).
// backward (the transpose of the rotation, in place on dq, dk):
//   d1 = g1 cos + g2 sin,  d2 = g2 cos − g1 sin          (1 = first half, 2 = second half)
#pragma once
#include <cmath>

#include "../core/view.hpp"

namespace gtrm::ops {

// Tables in the reference's precision: fp32 arange/outer/cos for T = float.
template <class T, int HeadDim>
void rope_tables(view<T, HeadDim> cos_t, view<T, HeadDim> sin_t, double theta = 10000.0) {
  constexpr int half = HeadDim / 2;
  for (index_t p = 0; p < cos_t.rows(); ++p)
    for (int k = 0; k < half; ++k) {
      const T inv = T(1) / static_cast<T>(std::pow(static_cast<T>(theta), static_cast<T>(2 * k) / T(HeadDim)));
      const T ang = static_cast<T>(p) * inv;
      cos_t(p, k) = cos_t(p, k + half) = std::cos(ang);
      sin_t(p, k) = sin_t(p, k + half) = std::sin(ang);
    }
}

// Inverse = false: forward rotation; true: its transpose (backward).
template <int L, int Heads, int HeadDim, bool Inverse = false, class Be, class T, int W>
void rope_apply(const Be& be, view<T, W> qkv, cview<T, HeadDim> cos_t, cview<T, HeadDim> sin_t) {
  static_assert(W == 3 * Heads * HeadDim, "rope expects fused qkv rows of width 3 * heads * head_dim");
  constexpr int half = HeadDim / 2;
  be.parallel_for(qkv.rows(), [=] GTRM_HD (index_t n) {
    const index_t p = n % L;
    const T* c = cos_t.row(p);
    const T* s = sin_t.row(p);
    T* row = qkv.row(n);
    for (int h = 0; h < 2 * Heads; ++h) {  // Q heads then K heads
      T* v = row + h * HeadDim;
      for (int j = 0; j < half; ++j) {
        const T a = v[j], b = v[j + half];
        if constexpr (!Inverse) {
          v[j] = a * c[j] - b * s[j];
          v[j + half] = b * c[j + half] + a * s[j + half];
        } else {
          v[j] = a * c[j] + b * s[j + half];
          v[j + half] = b * c[j + half] - a * s[j];
        }
      }
    }
  });
}

}  // namespace gtrm::ops
