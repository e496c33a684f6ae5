// Bidirectional multi-head attention without mask (torch SDPA, scale 1/sqrt(d)), per sample b, head h:
//   q, k, v = qkv[b, :, slot·H·d + h·d : +d]   slot 0 = Q, 1 = K, 2 = V     qkv (B*L, 3·H·d), RoPE already applied
//   p_i = softmax_j(q_i·k_j · scale);  o_i = Σ_j p_ij v_j                    o (B*L, H·d), head-major features
//   lse_i = log Σ_j exp(q_i·k_j · scale)                                     saved (B*L, H)
// backward (recomputes p from q, k and lse, flash-attention style, so nothing L×L is saved between passes):
//   D_i = do_i·o_i;  dp_ij = do_i·v_j;  ds_ij = p_ij (dp_ij − D_i)
//   dq_i += scale Σ_j ds_ij k_j;  dk_j += scale Σ_i ds_ij q_i;  dv_j += Σ_i p_ij do_i
// One (b, h) pair per parallel task, and within it the products are the backend's GEMMs over strided views of qkv
// (S = scale·Q Kᵀ, O = P V; backward dP = dO Vᵀ, dQ += scale·dS K, dK += scale·dSᵀ Q, dV += Pᵀ dO), so they run at
// GEMM speed (both CPU GEMM libraries run single-threaded inside the parallel task). The (L, L) score tiles are
// scratch for the task: on the stack up to 256 KiB, per thread beyond (allocated once, on a thread's first call).
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
}  // namespace detail

// The host bodies. A device backend declares its own attention_forward_impl / attention_backward_impl on its tag
// (backend/cuda/kernels/attention.cuh), found by argument-dependent lookup (concepts.hpp).
template <int L, int Heads, int HeadDim, class Be, class T>
  requires(!device_memory_backend<Be>)
void attention_forward_impl(const Be& be, cview<T, 3 * Heads * HeadDim> qkv, view<T, Heads * HeadDim> o,
                       view<T, Heads> lse) {
  constexpr int D = Heads * HeadDim, W = 3 * D;
  const T scale = T(1) / std::sqrt(T(HeadDim));
  const index_t batch = qkv.rows() / L;
  be.parallel_for(batch * Heads, [&](index_t bh) {
    const index_t b = bh / Heads;
    const int h = static_cast<int>(bh % Heads);
    const T* q = qkv.row(b * L) + h * HeadDim;  // (L, d), row stride W
    const T* k = q + D;
    const T* v = q + 2 * D;
    detail::with_attention_tile<T, std::size_t{L} * L>([&](T* p) {  // (L, L): scores, then probabilities
      be.gemm(trans::no, trans::yes, L, L, HeadDim, scale, q, W, k, W, T(0), p, L);
      for (int i = 0; i < L; ++i) {
        T* pi = p + i * L;
        T mx = pi[0];
        for (int j = 1; j < L; ++j) mx = std::max(mx, pi[j]);
        T sum = 0;
        for (int j = 0; j < L; ++j) {
          pi[j] = poly_exp(pi[j] - mx);
          sum += pi[j];
        }
        const T inv = T(1) / sum;
        for (int j = 0; j < L; ++j) pi[j] *= inv;
        lse.data()[(b * L + i) * Heads + h] = mx + std::log(sum);
      }
      be.gemm(trans::no, trans::no, L, HeadDim, L, T(1), p, L, v, W, T(0), o.row(b * L) + h * HeadDim, D);
    });
  });
}

template <int L, int Heads, int HeadDim, class Be, class T>
  requires(!device_memory_backend<Be>)
void attention_backward_impl(const Be& be, cview<T, 3 * Heads * HeadDim> qkv, cview<T, Heads * HeadDim> o,
                        cview<T, Heads> lse, cview<T, Heads * HeadDim> dout, view<T, 3 * Heads * HeadDim> dqkv) {
  constexpr int D = Heads * HeadDim, W = 3 * D;
  const T scale = T(1) / std::sqrt(T(HeadDim));
  const index_t batch = qkv.rows() / L;
  be.parallel_for(batch * Heads, [&](index_t bh) {
    const index_t b = bh / Heads;
    const int h = static_cast<int>(bh % Heads);
    const T* q = qkv.row(b * L) + h * HeadDim;  // (L, d), row stride W
    const T* k = q + D;
    const T* v = q + 2 * D;
    const T* g = dout.row(b * L) + h * HeadDim;  // (L, d), row stride D
    const T* oh = o.row(b * L) + h * HeadDim;
    T* dq = dqkv.row(b * L) + h * HeadDim;
    T* dk = dq + D;
    T* dv = dq + 2 * D;
    detail::with_attention_tile<T, std::size_t{2} * L * L>([&](T* tiles) {
      T* p = tiles;           // (L, L) probabilities, recomputed
      T* ds = tiles + L * L;  // (L, L) dP, then scale·dS
      be.gemm(trans::no, trans::yes, L, L, HeadDim, scale, q, W, k, W, T(0), p, L);
      be.gemm(trans::no, trans::yes, L, L, HeadDim, T(1), g, D, v, W, T(0), ds, L);
      for (int i = 0; i < L; ++i) {
        const T l = lse.data()[(b * L + i) * Heads + h];
        T Di = 0;
        for (int c = 0; c < HeadDim; ++c) Di += g[i * D + c] * oh[i * D + c];
        T* pi = p + i * L;
        T* dsi = ds + i * L;
        for (int j = 0; j < L; ++j) {
          pi[j] = poly_exp(pi[j] - l);
          dsi[j] = pi[j] * (dsi[j] - Di) * scale;
        }
      }
      be.gemm(trans::no, trans::no, L, HeadDim, L, T(1), ds, L, k, W, T(1), dq, W);
      be.gemm(trans::yes, trans::no, L, HeadDim, L, T(1), ds, L, q, W, T(1), dk, W);
      be.gemm(trans::yes, trans::no, L, HeadDim, L, T(1), p, L, g, D, T(1), dv, W);
    });
  });
}

template <int L, int Heads, int HeadDim, class Be, class T>
void attention_forward(const Be& be, cview<T, 3 * Heads * HeadDim> qkv, view<T, Heads * HeadDim> o,
                       view<T, Heads> lse) {
  attention_forward_impl<L, Heads, HeadDim>(be, qkv, o, lse);
}

template <int L, int Heads, int HeadDim, class Be, class T>
void attention_backward(const Be& be, cview<T, 3 * Heads * HeadDim> qkv, cview<T, Heads * HeadDim> o,
                        cview<T, Heads> lse, cview<T, Heads * HeadDim> dout, view<T, 3 * Heads * HeadDim> dqkv) {
  attention_backward_impl<L, Heads, HeadDim>(be, qkv, o, lse, dout, dqkv);
}

}  // namespace gtrm::ops
