// gtrm with the CUDA backend (cuBLAS, custom kernels). Include from .cu files compiled by nvcc with gtrm::cuda's
// flags (--extended-lambda --expt-relaxed-constexpr), and before any other gtrm header: the cuda overloads of ops
// must be declared before the templates that call them by qualified name (ops::linear_backward<...>(...)) are
// defined. Generic ops that loop on the host refuse the cuda tag at compile time when that order is broken.
#pragma once
#include "backend/cuda/cuda.cuh"
#include "backend/cuda/kernels/attention.cuh"
#include "backend/cuda/memory.cuh"
#include "backend/cuda/ops.cuh"
#include "backend/cuda/train.cuh"
#include "gtrm.hpp"
