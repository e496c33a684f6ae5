// The contracts between gtrm's layers.
//
// Backend: what an op needs from a device. Ops in gtrm/ops are written once against this contract;
// a backend (cpu in backend/cpu, cuda in backend/cuda) supplies
//   gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)  -- row-major C = alpha op(A) op(B) + beta C
//   parallel_for(n, f)                                           -- f(i) for every i in [0, n), any order
// and may overload any op for its tag to replace the generic loop with its own kernel.
#pragma once
#include <concepts>

#include "core/types.hpp"

namespace gtrm {

enum class trans : bool { no = false, yes = true };

template <class B>
concept backend = requires(const B& be, index_t n) {
  { B::name } -> std::convertible_to<const char*>;
  be.parallel_for(n, [](index_t) {});
  be.template gemm<float>(trans::no, trans::no, n, n, n, 1.0f, static_cast<const float*>(nullptr), n,
                          static_cast<const float*>(nullptr), n, 0.0f, static_cast<float*>(nullptr), n);
};

}  // namespace gtrm
