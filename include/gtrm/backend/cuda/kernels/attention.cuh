// Attention on the CUDA backend: the cuda bodies (attention_*_impl) of ops::attention_forward / backward (ops/attention.hpp
// holds the math, shapes and the CPU version; the signature and semantics here are the same: forward assigns o and
// lse, backward recomputes p from q, k and lse and accumulates (+=) into dqkv).
// Plain kernels, one thread block per (sample b, head h, row), the score row of length L in dynamic shared memory:
//   forward       block (b, h, i): s_j = q_i·k_j·scale, p = softmax(s), o_i = Σ_j p_j v_j, lse_i = max + log Σ
//   backward dq   block (b, h, i): D_i = do_i·o_i, p_j = exp(s_j − lse_i), ds_j = p_j (do_i·v_j − D_i) scale,
//                 dq_i += Σ_j ds_j k_j
//   backward dkv  block (b, h, j): the same p_ij and ds_ij for every query i, then dk_j += Σ_i ds_ij q_i and
//                 dv_j += Σ_i p_ij do_i
// Splitting backward by query row and by key row gives each output row one owner block, so there are no atomics
// and the result is deterministic; the price is computing p twice, O(L² d) like the forward. e^x is ops::poly_exp,
// the CPU op's exponential. Not a flash kernel: no tiling of K/V through shared memory, one row per block.
// In precision::bf16_mixed (gtrm::cuda_bf16) every operand of the products the CPU op runs as GEMMs is rounded to
// bf16 where it is read (q, k, v, P, dO, dS), exactly as cpu_bf16's gemm rounds them; softmax statistics, D_i and
// the sums stay fp32. So cuda_bf16 and cpu_bf16 differ only in summation order here too.
#pragma once
#if !defined(__CUDACC__)
#error "gtrm/backend/cuda is CUDA code: include <gtrm/cuda.cuh> from a .cu file compiled by nvcc"
#endif

#include <climits>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <type_traits>

#include "../../../core/bf16.hpp"
#include "../../../core/view.hpp"
#include "../../../ops/attention.hpp"
#include "../../../ops/exp.hpp"
#include "../../../policy/precision.hpp"
#include "../cuda.cuh"
#include "reduce.cuh"

namespace gtrm::cuda_detail {

inline constexpr int attention_threads = 128;

// Shared memory of a block: two rows of L, two of HeadDim and the reduction scratch.
template <int L, int HeadDim, class T>
inline constexpr std::size_t attention_smem = sizeof(T) * (2 * std::size_t{L} + 2 * HeadDim + attention_threads);
// 48 KiB is what a kernel gets without opting in to more (cudaFuncSetAttribute).
inline constexpr std::size_t attention_smem_limit = 48 * 1024;

// An operand of a product: bf16-rounded in the bf16 kernels (float only), unchanged otherwise.
template <bool Bf16, class T>
__device__ inline T operand(T x) {
  if constexpr (Bf16 && std::is_same_v<T, float>)
    return round_to_bf16(x);
  else
    return x;
}

// Block blk of the batch·Heads·L grid works on sample b, head h, row (query or key) r.
struct attention_block {
  index_t b;
  int h, r;
};
template <int L, int Heads>
__device__ inline attention_block attention_block_of(index_t blk) {
  return {blk / L / Heads, static_cast<int>(blk / L % Heads), static_cast<int>(blk % L)};
}

template <int L, int Heads, int HeadDim, bool Bf16, class T>
__global__ void __launch_bounds__(attention_threads)
    attention_forward_kernel(const T* qkv, T* o, T* lse, T scale) {
  constexpr int Threads = attention_threads, D = Heads * HeadDim, W = 3 * D;
  extern __shared__ __align__(16) unsigned char smem_bytes[];
  T* p = reinterpret_cast<T*>(smem_bytes);  // (L) scores, then exp
  T* q = p + L;                             // (HeadDim)
  T* red = q + 2 * HeadDim;                 // (Threads)
  const int t = static_cast<int>(threadIdx.x);
  const auto [b, h, i] = attention_block_of<L, Heads>(blockIdx.x);
  const T* base = qkv + b * L * W;

  for (int c = t; c < HeadDim; c += Threads) q[c] = operand<Bf16>(base[i * W + h * HeadDim + c]);
  __syncthreads();
  T mx = -INFINITY;
  for (int j = t; j < L; j += Threads) {
    const T* k = base + j * W + D + h * HeadDim;
    T s = 0;
    for (int c = 0; c < HeadDim; ++c) s += q[c] * operand<Bf16>(k[c]);
    s *= scale;
    p[j] = s;
    mx = mx < s ? s : mx;
  }
  mx = block_reduce<Threads>(mx, red, max_op{});
  T sum = 0;
  for (int j = t; j < L; j += Threads) {
    p[j] = ops::poly_exp(p[j] - mx);
    sum += p[j];
  }
  sum = block_reduce<Threads>(sum, red, sum_op{});  // its barriers also publish p
  const T inv = T(1) / sum;
  for (int c = t; c < HeadDim; c += Threads) {
    T acc = 0;
    for (int j = 0; j < L; ++j)
      acc += operand<Bf16>(p[j] * inv) * operand<Bf16>(base[j * W + 2 * D + h * HeadDim + c]);
    o[(b * L + i) * D + h * HeadDim + c] = acc;
  }
  if (t == 0) lse[(b * L + i) * Heads + h] = mx + std::log(sum);
}

template <int L, int Heads, int HeadDim, bool Bf16, class T>
__global__ void __launch_bounds__(attention_threads)
    attention_backward_dq_kernel(const T* qkv, const T* o, const T* lse, const T* dout, T* dqkv, T scale) {
  constexpr int Threads = attention_threads, D = Heads * HeadDim, W = 3 * D;
  extern __shared__ __align__(16) unsigned char smem_bytes[];
  T* ds = reinterpret_cast<T*>(smem_bytes);  // (L)
  T* q = ds + 2 * L;                         // (HeadDim)
  T* g = q + HeadDim;                        // (HeadDim) dout row
  T* red = g + HeadDim;                      // red[0] holds D_i
  const int t = static_cast<int>(threadIdx.x);
  const auto [b, h, i] = attention_block_of<L, Heads>(blockIdx.x);
  const index_t row = b * L + i;
  const T* base = qkv + b * L * W;

  for (int c = t; c < HeadDim; c += Threads) {
    q[c] = operand<Bf16>(base[i * W + h * HeadDim + c]);
    g[c] = dout[row * D + h * HeadDim + c];  // rounded where it is an operand (dp), not in D_i
  }
  __syncthreads();
  if (t == 0) {  // D_i summed in order, as the CPU op
    const T* oi = o + row * D + h * HeadDim;
    T di = 0;
    for (int c = 0; c < HeadDim; ++c) di += g[c] * oi[c];
    red[0] = di;
  }
  __syncthreads();
  const T Di = red[0];
  const T l = lse[row * Heads + h];
  for (int j = t; j < L; j += Threads) {
    const T* k = base + j * W + D + h * HeadDim;
    const T* v = k + D;
    T s = 0, dp = 0;
    for (int c = 0; c < HeadDim; ++c) {
      s += q[c] * operand<Bf16>(k[c]);
      dp += operand<Bf16>(g[c]) * operand<Bf16>(v[c]);
    }
    const T pj = ops::poly_exp(s * scale - l);
    ds[j] = pj * (dp - Di) * scale;
  }
  __syncthreads();
  T* dq = dqkv + row * W + h * HeadDim;
  for (int c = t; c < HeadDim; c += Threads) {
    T acc = 0;
    for (int j = 0; j < L; ++j) acc += operand<Bf16>(ds[j]) * operand<Bf16>(base[j * W + D + h * HeadDim + c]);
    dq[c] += acc;
  }
}

template <int L, int Heads, int HeadDim, bool Bf16, class T>
__global__ void __launch_bounds__(attention_threads)
    attention_backward_dkv_kernel(const T* qkv, const T* o, const T* lse, const T* dout, T* dqkv, T scale) {
  constexpr int Threads = attention_threads, D = Heads * HeadDim, W = 3 * D;
  extern __shared__ __align__(16) unsigned char smem_bytes[];
  T* p = reinterpret_cast<T*>(smem_bytes);  // (L) p_ij over queries i
  T* ds = p + L;                            // (L) ds_ij over queries i
  T* k = ds + L;                            // (HeadDim)
  T* v = k + HeadDim;                       // (HeadDim)
  const int t = static_cast<int>(threadIdx.x);
  const auto [b, h, j] = attention_block_of<L, Heads>(blockIdx.x);
  const T* base = qkv + b * L * W;

  for (int c = t; c < HeadDim; c += Threads) {
    k[c] = operand<Bf16>(base[j * W + D + h * HeadDim + c]);
    v[c] = operand<Bf16>(base[j * W + 2 * D + h * HeadDim + c]);
  }
  __syncthreads();
  for (int i = t; i < L; i += Threads) {
    const index_t row = b * L + i;
    const T* q = base + i * W + h * HeadDim;
    const T* g = dout + row * D + h * HeadDim;
    const T* oi = o + row * D + h * HeadDim;
    T s = 0, dp = 0, di = 0;
    for (int c = 0; c < HeadDim; ++c) {
      s += operand<Bf16>(q[c]) * k[c];
      dp += operand<Bf16>(g[c]) * v[c];
      di += g[c] * oi[c];
    }
    const T pij = ops::poly_exp(s * scale - lse[row * Heads + h]);
    p[i] = pij;
    ds[i] = pij * (dp - di) * scale;
  }
  __syncthreads();
  T* dk = dqkv + (b * L + j) * W + D + h * HeadDim;
  T* dv = dk + D;
  for (int c = t; c < HeadDim; c += Threads) {
    T acck = 0, accv = 0;
    for (int i = 0; i < L; ++i) {
      const index_t row = b * L + i;
      acck += operand<Bf16>(ds[i]) * operand<Bf16>(base[i * W + h * HeadDim + c]);
      accv += operand<Bf16>(p[i]) * operand<Bf16>(dout[row * D + h * HeadDim + c]);
    }
    dk[c] += acck;
    dv[c] += accv;
  }
}

// Blocks for batch·Heads·L rows; a grid's x dimension holds up to 2³¹ − 1.
inline unsigned attention_blocks(index_t rows) {
  if (rows > INT_MAX) throw std::out_of_range("gtrm::cuda attention: more than 2^31 - 1 (sample, head, row) blocks");
  return static_cast<unsigned>(rows);
}

}  // namespace gtrm::cuda_detail

namespace gtrm {

// ops/attention.hpp's attention_forward and attention_backward on the cuda tags (cuda, cuda_bf16: the kernels
// round the products' operands when the tag's precision says so), found by argument-dependent lookup.
template <int L, int Heads, int HeadDim, std::derived_from<cuda> Be, class T>
void attention_forward_impl(const Be& be, cview<T, 3 * Heads * HeadDim> qkv, view<T, Heads * HeadDim> o,
                       view<T, Heads> lse) {
  constexpr std::size_t smem = cuda_detail::attention_smem<L, HeadDim, T>;
  static_assert(smem <= cuda_detail::attention_smem_limit,
                "gtrm::cuda attention: a score row of this sequence length does not fit in 48 KiB of shared memory");
  const index_t rows = qkv.rows() / L * Heads * L;
  if (rows == 0) return;
  const T scale = T(1) / std::sqrt(T(HeadDim));
  constexpr bool bf16 = backend_precision_t<Be>::bf16_products;
  cuda_detail::attention_forward_kernel<L, Heads, HeadDim, bf16, T>
      <<<cuda_detail::attention_blocks(rows), cuda_detail::attention_threads, smem, be.stream()>>>(
          qkv.data(), o.data(), lse.data(), scale);
  GTRM_CUDA_CHECK(cudaGetLastError());
}

template <int L, int Heads, int HeadDim, std::derived_from<cuda> Be, class T>
void attention_backward_impl(const Be& be, cview<T, 3 * Heads * HeadDim> qkv, cview<T, Heads * HeadDim> o,
                        cview<T, Heads> lse, cview<T, Heads * HeadDim> dout, view<T, 3 * Heads * HeadDim> dqkv) {
  constexpr std::size_t smem = cuda_detail::attention_smem<L, HeadDim, T>;
  static_assert(smem <= cuda_detail::attention_smem_limit,
                "gtrm::cuda attention: a score row of this sequence length does not fit in 48 KiB of shared memory");
  const index_t rows = qkv.rows() / L * Heads * L;
  if (rows == 0) return;
  const T scale = T(1) / std::sqrt(T(HeadDim));
  const unsigned blocks = cuda_detail::attention_blocks(rows);
  constexpr bool bf16 = backend_precision_t<Be>::bf16_products;
  // The two kernels write disjoint columns of dqkv (Q, then K and V), so their order does not matter.
  cuda_detail::attention_backward_dq_kernel<L, Heads, HeadDim, bf16, T>
      <<<blocks, cuda_detail::attention_threads, smem, be.stream()>>>(qkv.data(), o.data(), lse.data(), dout.data(),
                                                                      dqkv.data(), scale);
  GTRM_CUDA_CHECK(cudaGetLastError());
  cuda_detail::attention_backward_dkv_kernel<L, Heads, HeadDim, bf16, T>
      <<<blocks, cuda_detail::attention_threads, smem, be.stream()>>>(qkv.data(), o.data(), lse.data(), dout.data(),
                                                                      dqkv.data(), scale);
  GTRM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace gtrm
