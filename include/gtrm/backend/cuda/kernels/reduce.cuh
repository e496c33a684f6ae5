// Block-wide reductions for the CUDA kernels: every thread of a block of Threads threads (a power of two) passes
// one value and receives op over all of them, by a shared-memory tree. Plain and deterministic (the same inputs give
// the same bits); the kernels here reduce rows of at most a few thousand values, where a tree is not the bottleneck.
#pragma once
#if !defined(__CUDACC__)
#error "gtrm/backend/cuda is CUDA code: include <gtrm/cuda.cuh> from a .cu file compiled by nvcc"
#endif

namespace gtrm::cuda_detail {

struct sum_op {
  template <class T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct max_op {
  template <class T>
  __device__ T operator()(T a, T b) const { return a < b ? b : a; }
};

// red: Threads elements of shared memory. The call starts and ends with a barrier, so red may be reused at once
// and every shared-memory write made before the call is visible to the whole block after it.
template <int Threads, class T, class Op>
__device__ T block_reduce(T v, T* red, Op op) {
  static_assert(Threads > 0 && (Threads & (Threads - 1)) == 0, "block_reduce needs a power-of-two block size");
  const int t = static_cast<int>(threadIdx.x);
  __syncthreads();
  red[t] = v;
  __syncthreads();
  for (int s = Threads / 2; s > 0; s >>= 1) {
    if (t < s) red[t] = op(red[t], red[t + s]);
    __syncthreads();
  }
  const T r = red[0];
  __syncthreads();
  return r;
}

}  // namespace gtrm::cuda_detail
