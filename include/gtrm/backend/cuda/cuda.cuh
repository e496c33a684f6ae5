// The CUDA backend: one stream, a cuBLAS handle bound to it, and a grid-stride kernel that runs the ops' row loops.
//   parallel_for(n, f)   launches f(i), i in [0, n), on the stream; f is a GTRM_HD lambda capturing views by value
//   gemm<float|double>   row-major C = alpha op(A) op(B) + beta C through cuBLAS's column-major GEMM:
//                        a row-major (m, n) C is a column-major (n, m) Cᵀ, and Cᵀ = op(B)ᵀ op(A)ᵀ, so the call
//                        swaps the operands and m with n and keeps the transposition flags and leading dimensions
// Everything is asynchronous on the stream; synchronize() (or a copy to the host) waits for it.
// fp32 GEMMs run in full fp32 (CUBLAS_DEFAULT_MATH: no TF32 tensor-core rounding), so CPU parity holds to 1e-5.
// Every CUDA and cuBLAS call is checked: a failure throws std::runtime_error naming the call, file and line.
// Ops that cannot run as generic parallel_for loops have their <op>_impl for this tag in ops.cuh and kernels/*.cuh.
// Memory (device_buffer, device_arena, the transfers) is memory.cuh, included at the end.
#pragma once
#if !defined(__CUDACC__)
#error "gtrm/backend/cuda is CUDA code: include <gtrm/cuda.cuh> from a .cu file compiled by nvcc"
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "../../concepts.hpp"
#include "../../core/types.hpp"

namespace gtrm {

namespace cuda_detail {

[[noreturn]] inline void fail(const char* call, const std::string& why, const char* file, int line) {
  throw std::runtime_error(std::string(call) + " failed: " + why + " at " + file + ":" + std::to_string(line));
}
inline void check(cudaError_t e, const char* call, const char* file, int line) {
  if (e != cudaSuccess) fail(call, std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")", file, line);
}
inline void check(cublasStatus_t s, const char* call, const char* file, int line) {
  if (s != CUBLAS_STATUS_SUCCESS)
    fail(call, std::string(cublasGetStatusName(s)) + " (" + cublasGetStatusString(s) + ")", file, line);
}

// cuBLAS takes int sizes; gtrm's index_t is wider (flat sizes exceed 2^31, single GEMM dimensions do not).
inline int blas_int(index_t v, const char* what) {
  if (v < 0 || v > INT_MAX) throw std::out_of_range(std::string("gtrm::cuda::gemm: ") + what + " out of int range");
  return static_cast<int>(v);
}

template <class F>
__global__ void for_each_index(index_t n, F f) {
  const index_t stride = static_cast<index_t>(blockDim.x) * gridDim.x;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}

inline constexpr int for_each_threads = 256;
inline constexpr index_t for_each_max_blocks = 65536;  // beyond this, threads loop (grid stride)

}  // namespace cuda_detail

#define GTRM_CUDA_CHECK(call) ::gtrm::cuda_detail::check((call), #call, __FILE__, __LINE__)

struct cuda {
  static constexpr const char* name = "cuda";
  static constexpr bool device_memory = true;  // buffers handed to ops are device pointers (concepts.hpp)

  // Devices visible to this process; 0 when there is none or no usable driver (never throws).
  static int device_count() noexcept {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();  // clear the error so later calls do not report it
      return 0;
    }
    return n;
  }

  // A new stream, cuBLAS handle (with its workspace) and result slot on the current device. The stream is a
  // blocking one (cudaStreamCreate), so plain cudaMemcpy/cudaMemset on the legacy default stream stay ordered
  // with its work.
  cuda() : owns_stream_(true) {
    GTRM_CUDA_CHECK(cudaStreamCreate(&stream_));
    init();
  }
  // Borrows a stream the caller keeps alive and destroys; the cuBLAS handle is still this object's.
  explicit cuda(cudaStream_t stream) : stream_(stream), owns_stream_(false) { init(); }

  cuda(const cuda&) = delete;
  cuda& operator=(const cuda&) = delete;
  cuda(cuda&& o) noexcept
      : stream_(std::exchange(o.stream_, nullptr)), blas_(std::exchange(o.blas_, nullptr)),
        slot_(std::exchange(o.slot_, nullptr)), blas_workspace_(std::exchange(o.blas_workspace_, nullptr)),
        owns_stream_(std::exchange(o.owns_stream_, false)) {}
  cuda& operator=(cuda&&) = delete;
  ~cuda() { release(); }

  cudaStream_t stream() const { return stream_; }
  cublasHandle_t blas() const { return blas_; }
  void synchronize() const { GTRM_CUDA_CHECK(cudaStreamSynchronize(stream_)); }
  // result_slot_bytes of device memory for a value an op hands back to the host (a loss sum), allocated with the
  // backend so that no op allocates. Ops on this backend's stream use it one after another.
  static constexpr std::size_t result_slot_bytes = 256;
  void* result_slot() const { return slot_; }

  // f(i) for every i in [0, n) on the stream. F must be callable on the device ([=] GTRM_HD lambdas) and is copied
  // to the kernel, so it must capture by value.
  template <class F>
  void parallel_for(index_t n, F f) const {
    if (n <= 0) return;
    constexpr int threads = cuda_detail::for_each_threads;
    const index_t blocks = std::min((n + threads - 1) / threads, cuda_detail::for_each_max_blocks);
    cuda_detail::for_each_index<<<static_cast<unsigned>(blocks), threads, 0, stream_>>>(n, f);
    GTRM_CUDA_CHECK(cudaGetLastError());
  }

  // Row-major: C (m x n) = alpha * op(A) * op(B) + beta * C, op(A) is m x k, op(B) is k x n (concepts.hpp).
  template <class T>
  void gemm(trans ta, trans tb, index_t m, index_t n, index_t k, T alpha, const T* a, index_t lda, const T* b,
            index_t ldb, T beta, T* c, index_t ldc) const {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "gtrm::cuda::gemm: float or double");
    if (m == 0 || n == 0) return;
    if (k == 0) {  // C = beta C, as the CPU backend (beta 0 assigns zeros, even over NaN)
      const index_t cols = n;
      parallel_for(m * n, [=] GTRM_HD(index_t i) {
        T& x = c[(i / cols) * ldc + i % cols];
        x = beta == T(0) ? T(0) : beta * x;
      });
      return;
    }
    const cublasOperation_t opa = ta == trans::yes ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t opb = tb == trans::yes ? CUBLAS_OP_T : CUBLAS_OP_N;
    const int M = cuda_detail::blas_int(m, "m"), N = cuda_detail::blas_int(n, "n"), K = cuda_detail::blas_int(k, "k");
    const int la = cuda_detail::blas_int(lda, "lda"), lb = cuda_detail::blas_int(ldb, "ldb");
    const int lc = cuda_detail::blas_int(ldc, "ldc");
    // Column-major Cᵀ (N x M) = op(B)ᵀ op(A)ᵀ: B's row-major storage is op(B)ᵀ's column-major one (up to opb).
    if constexpr (std::is_same_v<T, float>)
      GTRM_CUDA_CHECK(cublasSgemm(blas_, opb, opa, N, M, K, &alpha, b, lb, a, la, &beta, c, lc));
    else
      GTRM_CUDA_CHECK(cublasDgemm(blas_, opb, opa, N, M, K, &alpha, b, lb, a, la, &beta, c, lc));
  }

 private:
  void init() {
    try {
      GTRM_CUDA_CHECK(cudaMalloc(&slot_, result_slot_bytes));
      GTRM_CUDA_CHECK(cublasCreate(&blas_));
      GTRM_CUDA_CHECK(cublasSetStream(blas_, stream_));
      // cuBLAS's own workspace, given once so that no GEMM allocates (32 MiB: NVIDIA's recommendation for Hopper,
      // more than enough for Ampere). After cublasSetStream, which resets the workspace to the default pool.
      GTRM_CUDA_CHECK(cudaMalloc(&blas_workspace_, blas_workspace_bytes));
      GTRM_CUDA_CHECK(cublasSetWorkspace(blas_, blas_workspace_, blas_workspace_bytes));
      // Full-precision fp32 (no TF32): the CPU backend is the reference this backend is checked against.
      GTRM_CUDA_CHECK(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH));
    } catch (...) {
      release();
      throw;
    }
  }
  void release() noexcept {  // errors are ignored: destructors must not throw
    if (slot_) (void)cudaFree(slot_);
    if (blas_) (void)cublasDestroy(blas_);
    if (blas_workspace_) (void)cudaFree(blas_workspace_);
    if (owns_stream_ && stream_) (void)cudaStreamDestroy(stream_);
    slot_ = nullptr;
    blas_workspace_ = nullptr;
    blas_ = nullptr;
    stream_ = nullptr;
  }

  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  void* slot_ = nullptr;
  void* blas_workspace_ = nullptr;
  static constexpr std::size_t blas_workspace_bytes = std::size_t{32} << 20;
  bool owns_stream_ = false;
};

}  // namespace gtrm

// The tag's storage and transfers (buffer_t<cuda, T>, copy, to_host, ...): whoever names the tag gets them, so
// backend_storage<cuda> is specialised before anything can ask for buffer_t<cuda, T>.
#include "memory.cuh"  // NOLINT(misc-header-include-cycle): needs the complete struct cuda above
