// The GPU's dense bf16 matrix-product rate (defined in tools/cuda_peak.cu), measured once per process for
// `gtrm bench --device cuda`'s model FLOP utilisation: cuBLAS GEMMs of n x n x n (n = 8192) with bf16 operands,
// fp32 accumulation (CUBLAS_COMPUTE_32F) and a bf16 result, on operands filled with non-zero values (on zeros the
// tensor cores draw less power and run measurably faster than on real data). Three products warm up, ten are timed
// with CUDA events; the rate is their mean. Whatever the model's own precision, MFU is quoted against this
// bf16 peak, as the papers do.
#pragma once
#include <string>

namespace gtrm::cli {

struct gpu_peak {
  double tflops = 0;  // bf16 dense products, tera floating-point operations per second (2 per multiply-add)
  int n = 0;
  std::string card;   // cudaDeviceProp::name
};

// The first call measures (13 products of n³), later calls return the same figures.
gpu_peak measure_bf16_peak(int n = 8192);

}  // namespace gtrm::cli
