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

namespace detail {
// The probe body for parallel_for. A named type, not a lambda: nvcc's front end evaluates a requires-expression
// holding a lambda to false, which made backend<...> false for every backend in .cu files.
struct index_sink {
  GTRM_HD void operator()(index_t) const {}
};
}  // namespace detail

template <class B>
concept backend = requires(const B& be, index_t n) {
  { B::name } -> std::convertible_to<const char*>;
  be.parallel_for(n, detail::index_sink{});
  be.template gemm<float>(trans::no, trans::no, n, n, n, 1.0f, static_cast<const float*>(nullptr), n,
                          static_cast<const float*>(nullptr), n, 0.0f, static_cast<float*>(nullptr), n);
};

// A backend whose buffers live in device memory says so with `static constexpr bool device_memory = true;`.
// The few generic ops that loop on the host are constrained to other backends (requires !device_memory_backend),
// and the device backend overloads them for its tag: the two never compete (no reliance on "more constrained"
// partial ordering, which GCC 12 gets wrong for parameters like cview<T, 3 * Heads * HeadDim>), and a device
// overload not declared before its caller (include <gtrm/cuda.cuh> first) is a compile error, not a crash.
template <class B>
concept device_memory_backend = requires { requires B::device_memory; };

}  // namespace gtrm
