// The bodies test_cuda_bf16.cu runs on gtrm::cuda_bf16 and cuda_bf16_cpu.cpp on gtrm::cpu_bf16 (precision::bf16_mixed
// on both): cuda_parity_bodies.hpp's op and model bodies through the bf16 products, and a bare gemm in every
// transposition with padded leading dimensions (the rounding kernel's indexing).
// Each case has its bound on test_cuda_ops.cu's metric (max |cuda − cpu| over max |cpu|, per output):
//   gemm   1e-5   both sides multiply the same bf16-rounded operands exactly in fp32; only the summation order (and
//                 the tensor cores' fp32 accumulation) differs
//   ops    1e-4   one op: its inputs round identically on both sides; an intermediate (attention's P and dS, SwiGLU's
//                 hidden layer) summed in another order can round to the neighbouring bf16 value (2^-8 relative)
//                 before the next product. On the CPU, perturbing every product's result by ±2 ulp moved these
//                 outputs by ~2e-7; forgetting a rounding moves them by 1e-3 to 4e-3 (bf16 against fp32)
//   model  0.25   a whole ACT step and two trainer steps: through the recursion (nine network applications, each
//                 rounding its activations to bf16) such flips compound chaotically. The same ±2 ulp experiment moved
//                 logits by 5e-3, the carry by 2e-2 and the gradients by 1e-2 to 1.1e-1 (max over the tensor, the
//                 token-embedding gradient worst); bf16 against fp32 differs by 2e-2 to 1.5e-1. So the model cases
//                 catch gross errors (a wrong kernel, a NaN, a lost op) and print their figures; the op cases are the
//                 precise check of the bf16 semantics.
#pragma once
#include "cuda_parity_bodies.hpp"

namespace gtrm::parity {

inline constexpr double bf16_gemm_tolerance = 1e-5;
inline constexpr double bf16_op_tolerance = 1e-4;
inline constexpr double bf16_model_tolerance = 0.25;

// C (m, n) = alpha op(A) op(B) + beta C for the four (ta, tb), A and B stored with 3 extra columns, C with 5.
template <class H>
outputs body_gemm_bf16(H& h) {
  constexpr index_t m = 37, n = 29, k = 70, pad = 3;
  outputs out;
  int seed = 300;
  for (trans ta : {trans::no, trans::yes})
    for (trans tb : {trans::no, trans::yes}) {
      const index_t a_rows = ta == trans::no ? m : k, a_cols = (ta == trans::no ? k : m) + pad;
      const index_t b_rows = tb == trans::no ? k : n, b_cols = (tb == trans::no ? n : k) + pad;
      auto a = h.put(randn(static_cast<std::size_t>(a_rows * a_cols), static_cast<std::uint64_t>(seed++)));
      auto b = h.put(randn(static_cast<std::size_t>(b_rows * b_cols), static_cast<std::uint64_t>(seed++)));
      auto c = h.put(randn(static_cast<std::size_t>(m * (n + 5)), static_cast<std::uint64_t>(seed++)));
      h.be.template gemm<float>(ta, tb, m, n, k, 0.75f, a.p, a_cols, b.p, b_cols, 0.5f, c.p, n + 5);
      const std::string name = std::string("C ") + (ta == trans::no ? "N" : "T") + (tb == trans::no ? "N" : "T");
      output o = fetch(h, name.c_str(), c);
      o.tolerance = bf16_gemm_tolerance;
      out.push_back(std::move(o));
    }
  return out;
}

// X(name, bound): every body the bf16 test runs.
#define GTRM_BF16_BODIES(X)                                                                                   \
  X(gemm_bf16, bf16_gemm_tolerance) X(linear, bf16_op_tolerance) X(swiglu_mlp, bf16_op_tolerance)            \
  X(token_mlp, bf16_op_tolerance) X(attention, bf16_op_tolerance) X(attention_long, bf16_op_tolerance)      \
  X(act_step, bf16_model_tolerance) X(trainer_step, bf16_model_tolerance)

}  // namespace gtrm::parity
