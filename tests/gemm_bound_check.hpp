// Two bodies of one product C = alpha·op(A)·op(B) + beta·C that may differ by fp32 summation order only (oneDNN and
// the bf16 emulation, oneDNN's packed f32 matmul and OpenBLAS): a case's shapes, random operands, and the element-wise
// bound |Δc_ij| ≤ 2·k·2⁻²⁴·Σ_p |alpha·f(a_ip)·f(b_pj)| + 2⁻²⁴·|beta·c0_ij| (+1e-30), f the operands' rounding (bf16 or
// none), with the padding columns of C untouched.
#pragma once
#include <doctest/doctest.h>

#include <gtrm/concepts.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace gtrm::testing {

struct gemm_case {
  trans ta, tb;
  index_t m, n, k, pad;  // pad: extra columns in every leading dimension
  float alpha, beta;
};

inline std::vector<float> random_vector(std::size_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// A case's operands as stored (op(A) is m x k, op(B) k x n), every leading dimension padded by g.pad.
struct gemm_operands {
  index_t ar, ac, br, bc, lda, ldb, ldc;
  explicit gemm_operands(const gemm_case& g)
      : ar(g.ta == trans::no ? g.m : g.k), ac(g.ta == trans::no ? g.k : g.m), br(g.tb == trans::no ? g.k : g.n),
        bc(g.tb == trans::no ? g.n : g.k), lda(ac + g.pad), ldb(bc + g.pad), ldc(g.n + g.pad) {}
};

// Checks got against want within the bound, element by element; returns the worst |Δ| / bound.
template <class Round>
double check_summation_order(const gemm_case& g, const gemm_operands& o, const float* a, const float* b,
                             const std::vector<float>& c0, const std::vector<float>& got, const std::vector<float>& want,
                             Round f) {
  const double eps = std::ldexp(1.0, -24);
  double worst = 0;
  for (index_t i = 0; i < g.m; ++i)
    for (index_t j = 0; j < o.ldc; ++j) {
      const std::size_t at = static_cast<std::size_t>(i * o.ldc + j);
      if (j >= g.n) {  // padding is never written
        REQUIRE(got[at] == c0[at]);
        continue;
      }
      double mag = 0;
      for (index_t p = 0; p < g.k; ++p) {
        const float x = g.ta == trans::no ? a[i * o.lda + p] : a[p * o.lda + i];
        const float y = g.tb == trans::no ? b[p * o.ldb + j] : b[j * o.ldb + p];
        mag += std::abs(static_cast<double>(g.alpha) * f(x) * f(y));
      }
      const double bound = 2.0 * static_cast<double>(g.k) * eps * mag + eps * std::abs(g.beta * c0[at]) + 1e-30;
      const double d = std::abs(static_cast<double>(got[at]) - want[at]);
      worst = std::max(worst, d / bound);
      if (d > bound) {
        INFO("i " << i << " j " << j << " got " << got[at] << " want " << want[at] << " bound " << bound);
        REQUIRE(d <= bound);
      }
    }
  return worst;
}

}  // namespace gtrm::testing
