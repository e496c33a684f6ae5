// Bidirectional multi-head attention without mask (torch SDPA, scale 1/sqrt(d)), per sample b, head h:
//   q, k, v = qkv[b, :, slot·H·d + h·d : +d]   slot 0 = Q, 1 = K, 2 = V     qkv (B*L, 3·H·d), RoPE already applied
//   p_i = softmax_j(q_i·k_j · scale);  o_i = Σ_j p_ij v_j                    o (B*L, H·d), head-major features
//   lse_i = log Σ_j exp(q_i·k_j · scale)                                     saved (B*L, H)
// backward (recomputes p from q, k and lse, flash-attention style, so nothing L×L is stored):
//   D_i = do_i·o_i;  dp_ij = do_i·v_j;  ds_ij = p_ij (dp_ij − D_i)
//   dq_i += scale Σ_j ds_ij k_j;  dk_j += scale Σ_i ds_ij q_i;  dv_j += Σ_i p_ij do_i
// One (b, h) pair per parallel task; a row of scores lives on the stack (L is compile-time).
#pragma once
#include <algorithm>
#include <array>
#include <cmath>

#include "../core/view.hpp"

namespace gtrm::ops {

template <int L, int Heads, int HeadDim, class Be, class T>
void attention_forward(const Be& be, cview<T, 3 * Heads * HeadDim> qkv, view<T, Heads * HeadDim> o,
                       view<T, Heads> lse) {
  constexpr int D = Heads * HeadDim, W = 3 * D;
  const T scale = T(1) / std::sqrt(T(HeadDim));
  const index_t batch = qkv.rows() / L;
  be.parallel_for(batch * Heads, [&](index_t bh) {
    const index_t b = bh / Heads;
    const int h = static_cast<int>(bh % Heads);
    const T* base = qkv.row(b * L);
    std::array<T, L> p;
    for (int i = 0; i < L; ++i) {
      const T* q = base + i * W + h * HeadDim;
      T mx = -INFINITY;
      for (int j = 0; j < L; ++j) {
        const T* k = base + j * W + D + h * HeadDim;
        T s = 0;
        for (int c = 0; c < HeadDim; ++c) s += q[c] * k[c];
        p[j] = s * scale;
        mx = std::max(mx, p[j]);
      }
      T sum = 0;
      for (int j = 0; j < L; ++j) { p[j] = std::exp(p[j] - mx); sum += p[j]; }
      const T inv = T(1) / sum;
      T* out = o.row(b * L + i) + h * HeadDim;
      for (int c = 0; c < HeadDim; ++c) out[c] = T(0);
      for (int j = 0; j < L; ++j) {
        const T* v = base + j * W + 2 * D + h * HeadDim;
        const T pj = p[j] * inv;
        for (int c = 0; c < HeadDim; ++c) out[c] += pj * v[c];
      }
      lse.data()[(b * L + i) * Heads + h] = mx + std::log(sum);
    }
  });
}

template <int L, int Heads, int HeadDim, class Be, class T>
void attention_backward(const Be& be, cview<T, 3 * Heads * HeadDim> qkv, cview<T, Heads * HeadDim> o,
                        cview<T, Heads> lse, cview<T, Heads * HeadDim> dout, view<T, 3 * Heads * HeadDim> dqkv) {
  constexpr int D = Heads * HeadDim, W = 3 * D;
  const T scale = T(1) / std::sqrt(T(HeadDim));
  const index_t batch = qkv.rows() / L;
  be.parallel_for(batch * Heads, [&](index_t bh) {
    const index_t b = bh / Heads;
    const int h = static_cast<int>(bh % Heads);
    const T* base = qkv.row(b * L);
    T* dbase = dqkv.row(b * L);
    for (int i = 0; i < L; ++i) {
      const T* q = base + i * W + h * HeadDim;
      const T* g = dout.row(b * L + i) + h * HeadDim;
      const T* oi = o.row(b * L + i) + h * HeadDim;
      const T l = lse.data()[(b * L + i) * Heads + h];
      T Di = 0;
      for (int c = 0; c < HeadDim; ++c) Di += g[c] * oi[c];
      T* dq = dbase + i * W + h * HeadDim;
      for (int j = 0; j < L; ++j) {
        const T* k = base + j * W + D + h * HeadDim;
        const T* v = k + D;
        T s = 0, dp = 0;
        for (int c = 0; c < HeadDim; ++c) { s += q[c] * k[c]; dp += g[c] * v[c]; }
        const T pj = std::exp(s * scale - l);
        const T ds = pj * (dp - Di) * scale;
        T* dk = dbase + j * W + D + h * HeadDim;
        T* dv = dk + D;
        for (int c = 0; c < HeadDim; ++c) {
          dq[c] += ds * k[c];
          dk[c] += ds * q[c];
          dv[c] += pj * g[c];
        }
      }
    }
  });
}

}  // namespace gtrm::ops
