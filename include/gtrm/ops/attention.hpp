// Bidirectional multi-head attention without mask (torch SDPA, scale 1/sqrt(d)), per sample b, head h:
//   q, k, v = qkv[b, :, slot·H·d + h·d : +d]   slot 0 = Q, 1 = K, 2 = V     qkv (B*L, 3·H·d), RoPE already applied
//   p_i = softmax_j(q_i·k_j · scale);  o_i = Σ_j p_ij v_j                    o (B*L, H·d), head-major features
//   lse_i = log Σ_j exp(q_i·k_j · scale)                                     saved (B*L, H)
// backward (recomputes p from q, k and lse, flash-attention style, so nothing L×L is stored):
//   D_i = do_i·o_i;  dp_ij = do_i·v_j;  ds_ij = p_ij (dp_ij − D_i)
//   dq_i += scale Σ_j ds_ij k_j;  dk_j += scale Σ_i ds_ij q_i;  dv_j += Σ_i p_ij do_i
// One (b, h) pair per parallel task. K (and V for backward) of the pair are first copied transposed, (d, L), so
// that a row of scores s_i· = Σ_c q_ic K_c· is a sum of contiguous length-L vectors and every inner loop
// (scores, exp, weighted sums) runs over contiguous memory and vectorises; a score row lives on the stack. The
// transposed tiles are on the stack up to 256 KiB and per thread beyond (allocated once, on a thread's first call).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "../concepts.hpp"
#include "../core/view.hpp"
#include "exp.hpp"

namespace gtrm::ops {

namespace detail {
// Calls f(T* tile) with n elements of scratch that live as long as the call.
template <class T, std::size_t N, class F>
void with_attention_tile(F&& f) {
  if constexpr (N * sizeof(T) <= (std::size_t{1} << 18)) {
    alignas(64) T tile[N];
    f(tile);
  } else {
    thread_local std::vector<T> tile(N);
    f(tile.data());
  }
}

// dst (d, L) = src rows j, columns [0, d) transposed; src row j at src + j·stride.
template <int L, int HeadDim, class T>
inline void transpose_head(const T* src, index_t stride, T* dst) {
  for (int j = 0; j < L; ++j)
    for (int c = 0; c < HeadDim; ++c) dst[c * L + j] = src[j * stride + c];
}
}  // namespace detail

template <int L, int Heads, int HeadDim, class Be, class T>
  requires(!device_memory_backend<Be>)  // a device backend has its own kernels (backend/cuda/kernels/attention.cuh)
void attention_forward(const Be& be, cview<T, 3 * Heads * HeadDim> qkv, view<T, Heads * HeadDim> o,
                       view<T, Heads> lse) {
  constexpr int D = Heads * HeadDim, W = 3 * D;
  const T scale = T(1) / std::sqrt(T(HeadDim));
  const index_t batch = qkv.rows() / L;
  be.parallel_for(batch * Heads, [&](index_t bh) {
    const index_t b = bh / Heads;
    const int h = static_cast<int>(bh % Heads);
    const T* base = qkv.row(b * L);
    detail::with_attention_tile<T, std::size_t{HeadDim} * L>([&](T* kt) {  // K transposed, (d, L)
      detail::transpose_head<L, HeadDim>(base + D + h * HeadDim, W, kt);
      alignas(64) T p[L];
      for (int i = 0; i < L; ++i) {
        const T* q = base + i * W + h * HeadDim;
        std::fill(p, p + L, T(0));
        for (int c = 0; c < HeadDim; ++c) {
          const T qc = q[c];
          const T* kc = kt + c * L;
          for (int j = 0; j < L; ++j) p[j] += qc * kc[j];
        }
        T mx = -INFINITY;
        for (int j = 0; j < L; ++j) {
          p[j] *= scale;
          mx = std::max(mx, p[j]);
        }
        for (int j = 0; j < L; ++j) p[j] = poly_exp(p[j] - mx);
        T sum = 0;
        for (int j = 0; j < L; ++j) sum += p[j];
        const T inv = T(1) / sum;
        T* out = o.row(b * L + i) + h * HeadDim;
        alignas(64) T acc[HeadDim] = {};
        for (int j = 0; j < L; ++j) {
          const T* v = base + j * W + 2 * D + h * HeadDim;
          const T pj = p[j] * inv;
          for (int c = 0; c < HeadDim; ++c) acc[c] += pj * v[c];
        }
        std::copy(acc, acc + HeadDim, out);
        lse.data()[(b * L + i) * Heads + h] = mx + std::log(sum);
      }
    });
  });
}

template <int L, int Heads, int HeadDim, class Be, class T>
  requires(!device_memory_backend<Be>)
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
    detail::with_attention_tile<T, std::size_t{2} * HeadDim * L>([&](T* kvt) {  // K and V transposed, (d, L) each
      T* kt = kvt;
      T* vt = kvt + HeadDim * L;
      detail::transpose_head<L, HeadDim>(base + D + h * HeadDim, W, kt);
      detail::transpose_head<L, HeadDim>(base + 2 * D + h * HeadDim, W, vt);
      alignas(64) T p[L];
      alignas(64) T ds[L];
      for (int i = 0; i < L; ++i) {
        const T* q = base + i * W + h * HeadDim;
        const T* g = dout.row(b * L + i) + h * HeadDim;
        const T* oi = o.row(b * L + i) + h * HeadDim;
        const T l = lse.data()[(b * L + i) * Heads + h];
        T Di = 0;
        for (int c = 0; c < HeadDim; ++c) Di += g[c] * oi[c];
        std::fill(p, p + L, T(0));
        std::fill(ds, ds + L, T(0));
        for (int c = 0; c < HeadDim; ++c) {  // p ← q·k_j, ds ← do·v_j
          const T qc = q[c], gc = g[c];
          const T* kc = kt + c * L;
          const T* vc = vt + c * L;
          for (int j = 0; j < L; ++j) {
            p[j] += qc * kc[j];
            ds[j] += gc * vc[j];
          }
        }
        for (int j = 0; j < L; ++j) {
          p[j] = poly_exp(p[j] * scale - l);
          ds[j] = p[j] * (ds[j] - Di) * scale;
        }
        T* dq = dbase + i * W + h * HeadDim;
        for (int j = 0; j < L; ++j) {
          const T dsj = ds[j], pj = p[j];
          const T* k = base + j * W + D + h * HeadDim;
          T* dk = dbase + j * W + D + h * HeadDim;
          T* dv = dk + D;
          for (int c = 0; c < HeadDim; ++c) {
            dq[c] += dsj * k[c];
            dk[c] += dsj * q[c];
            dv[c] += pj * g[c];
          }
        }
      }
    });
  });
}

}  // namespace gtrm::ops
