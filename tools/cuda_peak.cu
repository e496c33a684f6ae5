// measure_bf16_peak (tools/cuda_peak.cuh), compiled once for the gtrm program.
#include "cuda_peak.cuh"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include <gtrm/cuda.cuh>

namespace gtrm::cli {

namespace cuda_peak_detail {
// x_i = a small non-zero bf16 value that varies with i (|x| < 1, so the products stay finite).
__global__ void fill_pattern(std::uint16_t* p, index_t count, std::uint32_t salt) {
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<index_t>(blockDim.x) * gridDim.x) {
    const std::uint32_t h = (static_cast<std::uint32_t>(i) ^ salt) * 2654435761u;
    p[i] = to_bf16_bits((static_cast<float>(h >> 8) / 16777216.0f - 0.5f) * 0.25f);
  }
}
}  // namespace cuda_peak_detail

gpu_peak measure_bf16_peak(int n) {
  static gpu_peak cached;
  if (cached.tflops > 0) return cached;
  cuda be;
  const index_t count = static_cast<index_t>(n) * n;
  device_buffer<std::uint16_t> a(count), b(count), c(count);
  cuda_peak_detail::fill_pattern<<<1024, 256, 0, be.stream()>>>(a.data(), count, 1u);
  cuda_peak_detail::fill_pattern<<<1024, 256, 0, be.stream()>>>(b.data(), count, 2u);
  GTRM_CUDA_CHECK(cudaGetLastError());
  const float alpha = 1.0f, beta = 0.0f;
  auto product = [&] {
    GTRM_CUDA_CHECK(cublasGemmEx(be.blas(), CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a.data(), CUDA_R_16BF, n,
                                 b.data(), CUDA_R_16BF, n, &beta, c.data(), CUDA_R_16BF, n, CUBLAS_COMPUTE_32F,
                                 CUBLAS_GEMM_DEFAULT));
  };
  for (int r = 0; r < 3; ++r) product();
  cudaEvent_t start = nullptr, stop = nullptr;
  GTRM_CUDA_CHECK(cudaEventCreate(&start));
  GTRM_CUDA_CHECK(cudaEventCreate(&stop));
  constexpr int timed = 10;
  GTRM_CUDA_CHECK(cudaEventRecord(start, be.stream()));
  for (int r = 0; r < timed; ++r) product();
  GTRM_CUDA_CHECK(cudaEventRecord(stop, be.stream()));
  GTRM_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  GTRM_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  (void)cudaEventDestroy(start);
  (void)cudaEventDestroy(stop);
  int device = 0;
  GTRM_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  GTRM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  cached.n = n;
  cached.card = prop.name;
  cached.tflops = 2.0 * n * double(n) * n * timed / (ms * 1e-3) * 1e-12;
  return cached;
}

}  // namespace gtrm::cli
