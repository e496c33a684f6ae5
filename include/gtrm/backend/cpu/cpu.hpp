// The CPU backend: OpenMP for row loops; matrix products by OpenBLAS where gtrm was configured with it
// (GTRM_CPU_OPENBLAS, CMake option GTRM_OPENBLAS) and by Eigen over row-major Maps otherwise.
// Why OpenBLAS: at TRM's shapes (B·L = 776 rows, hidden 512) its AVX-512 sgemm makes a whole training step
// about 1.6× faster than Eigen's product on one thread (benchmarks/results/gtrm-bench.md).
// Ops may call gemm from parallel_for bodies (per-head or per-sample products): Eigen and an OpenMP build of
// OpenBLAS both run single-threaded inside a parallel region. A pthreads build of OpenBLAS would start its own
// threads there, so inside a parallel region such a build is bypassed for Eigen.
// Coarse-grained threading: parallel_chunks runs one share of a batch per thread in a single parallel region, and
// the ops called inside it run single-threaded (parallel_for is serial inside a region, and so are the products),
// so a model can pay one region per network application instead of one per op (model/schedule.hpp).
// Frozen weights (oneDNN builds): under a frozen_weights guard made for inference (model/frozen_weights.hpp: eval,
// solve), products whose B operand is one of the model's weights run on oneDNN's f32 matmul with that weight packed
// once (backend/cpu/onednn.hpp): 1.3-1.6x OpenBLAS at batch 1, which packs it again every call. Training's per-step
// guard leaves fp32 products on OpenBLAS (oneDNN allocates inside each call; a training step allocates nothing).
// Threads on a shared machine (wait policy, thread cap): threads.hpp.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <climits>
#include <string>
#include <type_traits>
#include <utility>

#if defined(GTRM_CPU_OPENBLAS)
#include <cblas.h>
#endif

#include "../../concepts.hpp"
#include "../../core/types.hpp"

#if defined(GTRM_CPU_ONEDNN)
#include "onednn.hpp"
#endif

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace gtrm {

struct cpu {
  static constexpr const char* name = "cpu";
#if defined(GTRM_CPU_ONEDNN)
  using frozen_weights = onednn::frozen_weights;
#endif

  // 0 keeps the OpenMP default (OMP_NUM_THREADS or all cores).
  static void set_threads(int n) {
#if defined(_OPENMP)
    if (n > 0) omp_set_num_threads(n);
#endif
#if defined(GTRM_CPU_OPENBLAS)
    if (n > 0) openblas_set_num_threads(n);
#endif
    (void)n;
  }
  // Whether parallel_chunks splits (default) or declines, so that models run one region per op as before it
  // existed: for measuring one against the other with the same program (gtrm: GTRM_BATCH_SPLIT=0).
  static void set_batch_split(bool on) { batch_split_flag().store(on, std::memory_order_relaxed); }
  static bool batch_split() { return batch_split_flag().load(std::memory_order_relaxed); }
  // Which library computes matrix products, for reports ("OpenBLAS 0.3.21 … (OpenMP)" or "Eigen 3.4.0").
  static std::string gemm_library() {
#if defined(GTRM_CPU_OPENBLAS)
    const int p = openblas_get_parallel();
    std::string lib = std::string(openblas_get_config()) + (p == 2 ? " (OpenMP)" : p == 1 ? " (pthreads)" : " (serial)");
#else
    std::string lib = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                      std::to_string(EIGEN_MINOR_VERSION);
#endif
#if defined(GTRM_CPU_ONEDNN)
    lib += "; frozen weights (eval, solve): " + onednn::version() + " f32 matmul, prepacked";
#endif
    return lib;
  }
  static int threads() {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
  }

  // f(i) for i in [0, n), threaded; serial when called inside a parallel region (a parallel_chunks share, or a
  // parallel_for body), where a nested region would only add a one-thread team's start-up (and its allocation).
  template <class F>
  void parallel_for(index_t n, F&& f) const {
#if defined(_OPENMP)
    if (n > 1 && !omp_in_parallel()) {
#pragma omp parallel for schedule(static)
      for (index_t i = 0; i < n; ++i) f(i);
      return;
    }
#endif
    for (index_t i = 0; i < n; ++i) f(i);
  }

  // Splits [0, n) into one contiguous share per thread (min(n, threads()) shares, sizes differing by at most one)
  // and runs f(begin, end) for each in one parallel region; the ops f calls run single-threaded. Returns false,
  // without calling f, where that would be a single share (one thread, n < 2, already inside a region) or where
  // products inside a region would be slow (a pthreads OpenBLAS): the caller then runs its per-op path.
  template <class F>
  bool parallel_chunks(index_t n, F&& f) const {
#if defined(_OPENMP)
    const index_t shares = std::min<index_t>(n, omp_get_max_threads());
    if (shares < 2 || !batch_split() || omp_in_parallel() || !blas_single_threaded_in_region()) return false;
#pragma omp parallel num_threads(static_cast<int>(shares))
    {
      const index_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      const index_t begin = n * t / nt, end = n * (t + 1) / nt;
      if (begin < end) f(begin, end);
    }
    return true;
#else
    (void)n;
    (void)f;
    return false;
#endif
  }

  // Row-major: C (m x n) = alpha * op(A) * op(B) + beta * C, op(A) is m x k, op(B) is k x n.
  template <class T>
  void gemm(trans ta, trans tb, index_t m, index_t n, index_t k, T alpha, const T* a, index_t lda,
            const T* b, index_t ldb, T beta, T* c, index_t ldc) const {
#if defined(GTRM_CPU_ONEDNN)
    if constexpr (std::is_same_v<T, float>)
      if (m > 0 && n > 0 && k > 0 && onednn::f32_gemm_frozen(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
#endif
#if defined(GTRM_CPU_OPENBLAS)
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      if (m > 0 && n > 0 && k > 0 && blas_here() && fits_int(m, n, k, lda, ldb, ldc)) {
        const auto op = [](trans t) { return t == trans::yes ? CblasTrans : CblasNoTrans; };
        const auto i = [](index_t v) { return static_cast<blasint>(v); };
        if constexpr (std::is_same_v<T, float>)
          cblas_sgemm(CblasRowMajor, op(ta), op(tb), i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta, c, i(ldc));
        else
          cblas_dgemm(CblasRowMajor, op(ta), op(tb), i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta, c, i(ldc));
        return;
      }
    }
#endif
    eigen_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }

 private:
  static std::atomic<bool>& batch_split_flag() {
    static std::atomic<bool> on{true};
    return on;
  }
  // Whether gemm inside a parallel region runs at full single-thread speed: Eigen and an OpenMP OpenBLAS do; a
  // pthreads OpenBLAS is bypassed there for Eigen's slower lazy product.
  static bool blas_single_threaded_in_region() {
#if defined(GTRM_CPU_OPENBLAS) && defined(_OPENMP)
    static const bool openmp_build = openblas_get_parallel() == 2;
    return openmp_build;
#else
    return true;
#endif
  }
#if defined(GTRM_CPU_OPENBLAS)
  // OpenBLAS is used outside parallel regions always, inside them only when it is an OpenMP build.
  static bool blas_here() {
#if defined(_OPENMP)
    static const bool openmp_build = openblas_get_parallel() == 2;
    return openmp_build || !omp_in_parallel();
#else
    return true;
#endif
  }
  static bool fits_int(index_t m, index_t n, index_t k, index_t lda, index_t ldb, index_t ldc) {
    const index_t big = std::max({m, n, k, lda, ldb, ldc});
    return big <= INT_MAX;
  }
#endif

  template <class T>
  static void eigen_gemm(trans ta, trans tb, index_t m, index_t n, index_t k, T alpha, const T* a, index_t lda,
                         const T* b, index_t ldb, T beta, T* c, index_t ldc) {
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
#if defined(GTRM_CPU_OPENBLAS)
    // With OpenBLAS, Eigen only takes what BLAS cannot (other scalar types, sizes past int, a pthreads OpenBLAS
    // inside a parallel region): its coefficient-wise lazy product there, so that Eigen's packed GEMM kernels are
    // not compiled into a program that never runs them (under -march=native GCC 12 warns ~130 times about them).
    constexpr bool lazy = std::is_same_v<T, float> || std::is_same_v<T, double>;
#else
    constexpr bool lazy = false;
#endif
    auto run = [&](const auto& opA, const auto& opB) {
      const auto product = [&] {
        if constexpr (lazy) return alpha * opA.lazyProduct(opB);
        else return alpha * opA * opB;
      };
      if (beta == T(0)) C.noalias() = product();
      else {
        if (beta != T(1)) C *= beta;
        C.noalias() += product();
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
