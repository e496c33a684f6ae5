// gtrm with the CUDA backends (cuBLAS, custom kernels): gtrm::cuda (fp32) and gtrm::cuda_bf16 (bf16_mixed).
// Include from .cu files compiled by nvcc with gtrm::cuda's flags (--extended-lambda --expt-relaxed-constexpr),
// before or after other gtrm headers: the cuda bodies of ops are found by argument-dependent lookup on the tag when
// an op is instantiated (concepts.hpp).
#pragma once
#include "backend/cuda/cuda.cuh"
#include "backend/cuda/cuda_bf16.cuh"
#include "backend/cuda/graph.cuh"
#include "backend/cuda/kernels/attention.cuh"
#include "backend/cuda/memory.cuh"
#include "backend/cuda/ops.cuh"
#include "gtrm.hpp"
