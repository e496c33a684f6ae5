// The CPU backend in precision::bf16_mixed: the cpu backend whose products take both operands rounded to bfloat16
// and accumulate in fp32 (policy/precision.hpp). Storage, transfers and row loops are cpu's.
// This body emulates the mode exactly: it rounds copies of op(A) and op(B) to bf16 and multiplies them in fp32, so
// it runs on any CPU; every product is exact in fp32 (8-bit mantissas), only the summation order differs from a
// bf16 matrix unit's. Scratch is per thread (ops call gemm inside parallel_for) and grows only on first use.
#pragma once
#include <vector>

#include "../../core/bf16.hpp"
#include "../../policy/precision.hpp"
#include "cpu.hpp"

namespace gtrm {

struct cpu_bf16 : cpu {
  static constexpr const char* name = "cpu-bf16";
  using precision = gtrm::precision::bf16_mixed;

  // Row-major: C (m x n) = alpha * bf16(op(A)) * bf16(op(B)) + beta * C, fp32 accumulation.
  template <class T>
  void gemm(trans ta, trans tb, index_t m, index_t n, index_t k, T alpha, const T* a, index_t lda,
            const T* b, index_t ldb, T beta, T* c, index_t ldc) const {
    if constexpr (!std::is_same_v<T, float>) {
      cpu::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);  // bf16_mixed concerns float models only
    } else {
      if (m <= 0 || n <= 0) return;
      thread_local std::vector<float> ra, rb;
      ra.resize(static_cast<std::size_t>(m * k));
      rb.resize(static_cast<std::size_t>(k * n));
      for (index_t i = 0; i < m; ++i)  // op(A) as (m, k) row-major
        for (index_t p = 0; p < k; ++p) ra[i * k + p] = round_to_bf16(ta == trans::no ? a[i * lda + p] : a[p * lda + i]);
      for (index_t p = 0; p < k; ++p)  // op(B) as (k, n) row-major
        for (index_t j = 0; j < n; ++j) rb[p * n + j] = round_to_bf16(tb == trans::no ? b[p * ldb + j] : b[j * ldb + p]);
      cpu::gemm(trans::no, trans::no, m, n, k, alpha, ra.data(), k, rb.data(), n, beta, c, ldc);
    }
  }
};

static_assert(backend<cpu_bf16>);

}  // namespace gtrm
