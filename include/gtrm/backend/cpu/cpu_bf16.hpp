// The CPU backend in precision::bf16_mixed: the cpu backend whose products take both operands rounded to bfloat16
// and accumulate in fp32 (policy/precision.hpp). Storage, transfers and row loops are cpu's.
//
// Two bodies, one contract (every product of two bf16 values is exact in fp32, so they differ by summation order only):
// - oneDNN (GTRM_CPU_ONEDNN, backend/cpu/onednn.hpp): bf16 matmul on AMX, AVX512-BF16 or oneDNN's AVX-512 fallback,
//   chosen at run time; prepacked weights under a frozen_weights guard (inference). On a CPU where oneDNN has no bf16
//   matmul at all (2.6: without AVX-512) each shape falls back to the emulation.
// - the exact emulation (no oneDNN, or cpu_bf16_emulated): rounds copies of op(A) and op(B) to bf16 and multiplies
//   them in fp32 with cpu::gemm; runs on any CPU. tests/test_cpu_bf16.cpp checks that the two agree.
// Scratch is per thread (ops call gemm inside parallel_for) and grows only on first use.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "../../core/bf16.hpp"
#include "../../policy/precision.hpp"
#include "cpu.hpp"

#if defined(GTRM_CPU_ONEDNN)
#include "onednn.hpp"
#endif

namespace gtrm {

// The emulation body, whatever the build: the reference the oneDNN body is tested against.
struct cpu_bf16_emulated : cpu {
  static constexpr const char* name = "cpu-bf16-emulated";
  using precision = gtrm::precision::bf16_mixed;

  // Does nothing here (the emulation converts every call); the oneDNN body packs weights under it.
  struct frozen_weights {
    frozen_weights(const float*, std::size_t, bool = true) {}
  };
  static std::string gemm_library() { return "bf16 emulation (bf16-rounded operands) on " + cpu::gemm_library(); }

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

#if defined(GTRM_CPU_ONEDNN)
struct cpu_bf16 : cpu {
  static constexpr const char* name = "cpu-bf16";
  using precision = gtrm::precision::bf16_mixed;  // frozen_weights: cpu's (onednn::frozen_weights)

  static std::string gemm_library() { return onednn::version() + " bf16 matmul, ISA " + onednn::cpu_isa(); }

  // Row-major: C (m x n) = alpha * bf16(op(A)) * bf16(op(B)) + beta * C, fp32 accumulation.
  template <class T>
  void gemm(trans ta, trans tb, index_t m, index_t n, index_t k, T alpha, const T* a, index_t lda,
            const T* b, index_t ldb, T beta, T* c, index_t ldc) const {
    if constexpr (std::is_same_v<T, float>) {
      if (m > 0 && n > 0 && k > 0 && onednn::bf16_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
    }
    // k == 0, not float, or a CPU where oneDNN has no bf16 matmul (oneDNN 2.6 wants AVX-512)
    cpu_bf16_emulated{}.gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
};
#else
struct cpu_bf16 : cpu_bf16_emulated {
  static constexpr const char* name = "cpu-bf16";
};
#endif

static_assert(backend<cpu_bf16>);
static_assert(backend<cpu_bf16_emulated>);

}  // namespace gtrm
