// Precision policies: how a backend computes matrix products (docs/architecture.md).
//
//   precision::fp32        every product in float, float accumulation: the parity mode (golden files, gradchecks)
//   precision::bf16_mixed  the reference's `forward_dtype: bfloat16`: fp32 master weights and fp32 storage, both
//                          operands of every product rounded to bfloat16 (round to nearest, ties to even), products
//                          accumulated in fp32; norms, RoPE, softmax statistics and the loss stay fp32
//
// A backend names its policy with `using precision = ...;` (gtrm::cpu and gtrm::cuda: fp32; gtrm::cpu_bf16 and
// gtrm::cuda_bf16: bf16_mixed). The model reads nothing else: it is the backend's gemm that rounds, so one model
// type runs in either mode and the CPU's bf16 mode is the reference the GPU's bf16 mode is checked against.
#pragma once
#include <type_traits>

namespace gtrm::precision {

struct fp32 {
  static constexpr const char* name = "fp32";
  static constexpr bool bf16_products = false;
};
struct bf16_mixed {
  static constexpr const char* name = "bf16";
  static constexpr bool bf16_products = true;
};

}  // namespace gtrm::precision

namespace gtrm {

template <class P>
concept precision_policy = std::is_same_v<P, precision::fp32> || std::is_same_v<P, precision::bf16_mixed>;

namespace detail {
template <class Be, class = void>
struct backend_precision { using type = precision::fp32; };
template <class Be>
struct backend_precision<Be, std::void_t<typename Be::precision>> { using type = typename Be::precision; };
}  // namespace detail

// The precision a backend's products run in: Be::precision, fp32 where a backend does not say.
template <class Be>
using backend_precision_t = typename detail::backend_precision<std::remove_cvref_t<Be>>::type;

}  // namespace gtrm
