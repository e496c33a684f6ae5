// Basic types shared by every layer of gtrm.
#pragma once
#include <cstddef>
#include <cstdint>

// GTRM_HD marks functions (and the ops' parallel_for lambdas) that a device backend calls from its kernels:
// `__host__ __device__` when nvcc compiles the translation unit, nothing otherwise. Defining it here is the only
// CUDA-specific line outside backend/: it names no CUDA header, so g++ sees plain C++.
#if defined(__CUDACC__)
#define GTRM_HD __host__ __device__
#else
#define GTRM_HD
#endif

namespace gtrm {

using index_t = std::ptrdiff_t;  // row counts and flat offsets: B*L*D exceeds 2^31 at the paper's sizes

// The reference ignores label positions holding this id (models/losses.py IGNORE_LABEL_ID).
inline constexpr int ignore_label = -100;

}  // namespace gtrm
