// The cuda bodies of the ops whose generic form loops over data on the host (ops/linear.hpp's bias gradient,
// ops/embedding.hpp's scatter, ops/bce_logits.hpp's vector forms). The generic op calls an unqualified
// <op>_impl(be, ...); the host body is constrained to !device_memory_backend, and these take the cuda tag, live in
// namespace gtrm and are found by argument-dependent lookup when the op is instantiated, so include order does not
// matter (concepts.hpp). Semantics are the generic op's: see the math and shapes there.
// Every other op runs its generic parallel_for body on the device.
#pragma once
#if !defined(__CUDACC__)
#error "gtrm/backend/cuda is CUDA code: include <gtrm/cuda.cuh> from a .cu file compiled by nvcc"
#endif

#include <concepts>
#include <cstdint>

#include "../../concepts.hpp"
#include "../../core/view.hpp"
#include "../../ops/bce_logits.hpp"
#include "../../ops/embedding.hpp"
#include "../../ops/linear.hpp"
#include "cuda.cuh"
#include "kernels/reduce.cuh"

namespace gtrm::cuda_detail {

inline constexpr int bce_threads = 256;

// One block: the per-sample losses (into out when given) and their sum into *sum. The BCE terms are one per
// sample (batch-sized), so one block is plenty and the sum's order is fixed.
template <class T>
__global__ void __launch_bounds__(bce_threads)
    bce_logits_forward_kernel(const T* x, const double* t, index_t n, double* out, double* sum) {
  __shared__ double red[bce_threads];
  double acc = 0;
  for (index_t i = threadIdx.x; i < n; i += bce_threads) {
    const double l = ops::bce_logits_forward(static_cast<double>(x[i]), t[i]);
    if (out) out[i] = l;
    acc += l;
  }
  acc = block_reduce<bce_threads>(acc, red, sum_op{});
  if (threadIdx.x == 0) *sum = acc;
}

}  // namespace gtrm::cuda_detail

namespace gtrm {

// db += Σ_n dy: one thread per output column walks the rows in order (the CPU loop's order); adjacent threads read
// adjacent columns, so each row is read coalesced.
template <class T, int Out>
void linear_bias_backward_impl(const cuda& be, cview<T, Out> dy, view<T, 1> db) {
  const index_t n = dy.rows();
  be.parallel_for(Out, [=] GTRM_HD(index_t o) {
    T acc = db[o];
    for (index_t r = 0; r < n; ++r) acc += dy(r, static_cast<int>(o));
    db[o] = acc;
  });
}

// dW[ids[n]] += scale dy[n]: one thread per (vocabulary row v, column c) walks every n in order and adds the rows
// whose id is v. No atomics, deterministic, and the CPU's summation order. The work is V·D·N, fine for token
// vocabularies (tens of rows); a large table would want a sort by id first (the puzzle table does not come here:
// it is trained by sign-SGD on the per-sample copies).
template <class T, int D>
void embedding_backward_impl(const cuda& be, const std::int32_t* ids, T scale, cview<T, D> dy, view<T, D> dw) {
  const index_t n = dy.rows();
  be.parallel_for(dw.rows() * D, [=] GTRM_HD(index_t vc) {
    const index_t v = vc / D;
    const int c = static_cast<int>(vc % D);
    T acc = dw(v, c);
    for (index_t r = 0; r < n; ++r)
      if (ids[r] == v) acc += scale * dy(r, c);
    dw(v, c) = acc;
  });
}

// Σ_n bce(x_n, t_n), with the terms into out (device, may be null). x, t, out are device pointers; the sum comes
// back to the host, so this call waits for the stream (the caller needs the loss value anyway).
template <class T>
double bce_logits_forward_impl(const cuda& be, const T* x, const double* t, index_t n, double* out) {
  if (n <= 0) return 0.0;
  double* sum = static_cast<double*>(be.result_slot());
  cuda_detail::bce_logits_forward_kernel<T><<<1, cuda_detail::bce_threads, 0, be.stream()>>>(x, t, n, out, sum);
  GTRM_CUDA_CHECK(cudaGetLastError());
  double host = 0;
  GTRM_CUDA_CHECK(cudaMemcpyAsync(&host, sum, sizeof(double), cudaMemcpyDeviceToHost, be.stream()));
  be.synchronize();
  return host;
}

// dx[n·stride] += w (σ(x_n) − t_n), one thread per sample.
template <class T>
void bce_logits_backward_impl(const cuda& be, const T* x, const double* t, double w, index_t n, T* dx,
                              index_t dx_stride) {
  be.parallel_for(n, [=] GTRM_HD(index_t i) {
    dx[i * dx_stride] += static_cast<T>(w * ops::bce_logits_grad(static_cast<double>(x[i]), t[i]));
  });
}

}  // namespace gtrm
