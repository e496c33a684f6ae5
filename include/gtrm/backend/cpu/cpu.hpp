// The CPU backend: Eigen GEMMs over row-major Maps of gtrm's buffers, OpenMP for row loops.
// Eigen runs a GEMM single-threaded when called inside an OpenMP parallel region, so ops may call
// gemm from parallel_for bodies (per-head or per-sample products) without oversubscription.
#pragma once
#include <Eigen/Core>
#include <utility>

#include "../../concepts.hpp"
#include "../../core/types.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace gtrm {

struct cpu {
  static constexpr const char* name = "cpu";

  // 0 keeps the OpenMP default (OMP_NUM_THREADS or all cores).
  static void set_threads(int n) {
#if defined(_OPENMP)
    if (n > 0) omp_set_num_threads(n);
#else
    (void)n;
#endif
  }
  static int threads() {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
  }

  template <class F>
  void parallel_for(index_t n, F&& f) const {
#if defined(_OPENMP)
    if (n > 1) {
#pragma omp parallel for schedule(static)
      for (index_t i = 0; i < n; ++i) f(i);
      return;
    }
#endif
    for (index_t i = 0; i < n; ++i) f(i);
  }

  // Row-major: C (m x n) = alpha * op(A) * op(B) + beta * C, op(A) is m x k, op(B) is k x n.
  template <class T>
  void gemm(trans ta, trans tb, index_t m, index_t n, index_t k, T alpha, const T* a, index_t lda,
            const T* b, index_t ldb, T beta, T* c, index_t ldc) const {
    using mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using stride = Eigen::OuterStride<>;
    Eigen::Map<mat, 0, stride> C(c, m, n, stride(ldc));
    if (m == 0 || n == 0) return;
    if (k == 0) {
      if (beta == T(0)) C.setZero(); else C *= beta;
      return;
    }
    Eigen::Map<const mat, 0, stride> A(a, ta == trans::no ? m : k, ta == trans::no ? k : m, stride(lda));
    Eigen::Map<const mat, 0, stride> B(b, tb == trans::no ? k : n, tb == trans::no ? n : k, stride(ldb));
    auto run = [&](const auto& opA, const auto& opB) {
      if (beta == T(0)) C.noalias() = alpha * opA * opB;
      else {
        if (beta != T(1)) C *= beta;
        C.noalias() += alpha * opA * opB;
      }
    };
    if (ta == trans::no && tb == trans::no) run(A, B);
    else if (ta == trans::no) run(A, B.transpose());
    else if (tb == trans::no) run(A.transpose(), B);
    else run(A.transpose(), B.transpose());
  }
};

static_assert(backend<cpu>);

}  // namespace gtrm
