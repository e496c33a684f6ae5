// gtrm with the CUDA backend (cuBLAS, custom kernels). Include from .cu files compiled by nvcc with gtrm::cuda's
// flags (--extended-lambda --expt-relaxed-constexpr), before or after other gtrm headers: the cuda bodies of ops
// are found by argument-dependent lookup on the tag when an op is instantiated (concepts.hpp).
#pragma once
#include "backend/cuda/cuda.cuh"
#include "backend/cuda/kernels/attention.cuh"
#include "backend/cuda/memory.cuh"
#include "backend/cuda/ops.cuh"
#include "gtrm.hpp"
