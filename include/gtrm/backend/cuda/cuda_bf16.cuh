// The CUDA backend in precision::bf16_mixed (policy/precision.hpp): gtrm::cuda whose float products take both
// operands rounded to bfloat16 and accumulate in fp32 on the tensor cores. Storage, transfers, row loops and every
// other op are cuda's (memory.cuh's free functions and ops.cuh's <op>_impl take `const cuda&` and are found by
// argument-dependent lookup through the base class).
//   gemm<float>   C (m, n) = alpha bf16(op(A)) bf16(op(B)) + beta C: one kernel rounds the stored A and B (row-major,
//                 leading dimensions lda/ldb) into compact bf16 copies in the backend's scratch (round to nearest,
//                 ties to even: core/bf16.hpp, the same rounding as cpu_bf16), then cublasGemmEx with CUDA_R_16BF
//                 inputs, a CUDA_R_32F output and CUBLAS_COMPUTE_32F. C stays fp32 (read for beta, written in fp32).
//   gemm<double>  cuda's (bf16_mixed concerns float models only)
// Only the summation order differs from cpu_bf16 (tests/test_cuda_bf16.cu checks the model against it).
// Scratch: two device buffers owned by this object, grown on the first product that needs more (the first
// training step, or reserve() at setup), never inside a later step. Growing waits for the stream first, so no
// queued product still reads the old buffer when it is freed.
#pragma once
#if !defined(__CUDACC__)
#error "gtrm/backend/cuda is CUDA code: include <gtrm/cuda.cuh> from a .cu file compiled by nvcc"
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "../../concepts.hpp"
#include "../../core/bf16.hpp"
#include "../../core/types.hpp"
#include "../../policy/precision.hpp"
#include "cuda.cuh"
#include "memory.cuh"

namespace gtrm {

struct cuda_bf16 : cuda {
  static constexpr const char* name = "cuda-bf16";
  using precision = gtrm::precision::bf16_mixed;

  cuda_bf16() = default;
  explicit cuda_bf16(cudaStream_t stream) : cuda(stream) {}
  cuda_bf16(cuda_bf16&&) noexcept = default;

  // Sizes the operand scratch for products whose op(A) has up to a_elems and op(B) up to b_elems entries, so that
  // not even the first step allocates. Optional: gemm grows the scratch itself.
  void reserve(index_t a_elems, index_t b_elems) const {
    grow(a16_, a_elems);
    grow(b16_, b_elems);
  }

  // Row-major: C (m x n) = alpha * bf16(op(A)) * bf16(op(B)) + beta * C, fp32 accumulation.
  template <class T>
  void gemm(trans ta, trans tb, index_t m, index_t n, index_t k, T alpha, const T* a, index_t lda, const T* b,
            index_t ldb, T beta, T* c, index_t ldc) const {
    if constexpr (!std::is_same_v<T, float>) {
      cuda::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else {
      if (m == 0 || n == 0) return;
      if (k == 0) {  // C = beta C: nothing to round
        cuda::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
      }
      // The stored matrices: A is (m, k) unless transposed ((k, m)), B is (k, n) unless transposed ((n, k)).
      const index_t a_rows = ta == trans::no ? m : k, a_cols = ta == trans::no ? k : m;
      const index_t b_rows = tb == trans::no ? k : n, b_cols = tb == trans::no ? n : k;
      const index_t a_elems = a_rows * a_cols, b_elems = b_rows * b_cols;
      reserve(a_elems, b_elems);
      std::uint16_t* a16 = a16_.data();
      std::uint16_t* b16 = b16_.data();
      // One launch rounds both: indices [0, a_elems) are A's, the rest B's; compact copies, leading dim = cols.
      parallel_for(a_elems + b_elems, [=] GTRM_HD(index_t i) {
        if (i < a_elems)
          a16[i] = to_bf16_bits(a[(i / a_cols) * lda + i % a_cols]);
        else {
          const index_t j = i - a_elems;
          b16[j] = to_bf16_bits(b[(j / b_cols) * ldb + j % b_cols]);
        }
      });
      const cublasOperation_t opa = ta == trans::yes ? CUBLAS_OP_T : CUBLAS_OP_N;
      const cublasOperation_t opb = tb == trans::yes ? CUBLAS_OP_T : CUBLAS_OP_N;
      const int M = cuda_detail::blas_int(m, "m"), N = cuda_detail::blas_int(n, "n");
      const int K = cuda_detail::blas_int(k, "k");
      const int la = cuda_detail::blas_int(a_cols, "lda"), lb = cuda_detail::blas_int(b_cols, "ldb");
      const int lc = cuda_detail::blas_int(ldc, "ldc");
      // Column-major Cᵀ (N x M) = op(B)ᵀ op(A)ᵀ, as cuda::gemm (cuda.cuh).
      GTRM_CUDA_CHECK(cublasGemmEx(blas(), opb, opa, N, M, K, &alpha, b16, CUDA_R_16BF, lb, a16, CUDA_R_16BF, la,
                                   &beta, c, CUDA_R_32F, lc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
  }

 private:
  void grow(device_buffer<std::uint16_t>& buf, index_t elems) const {
    if (elems <= buf.size()) return;
    synchronize();  // a product queued earlier may still read the buffer about to be freed
    buf = device_buffer<std::uint16_t>(elems);
  }

  mutable device_buffer<std::uint16_t> a16_, b16_;  // op(A), op(B) in bf16, compact
};

template <>
struct backend_storage<cuda_bf16> : backend_storage<cuda> {};

static_assert(backend<cuda_bf16>);
static_assert(device_memory_backend<cuda_bf16>);
static_assert(std::is_same_v<buffer_t<cuda_bf16, float>, device_buffer<float>>);
static_assert(std::is_same_v<backend_precision_t<cuda_bf16>, precision::bf16_mixed>);

}  // namespace gtrm
