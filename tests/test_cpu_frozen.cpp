// gtrm::cpu's products with frozen weights (backend/cpu/onednn.hpp, model/frozen_weights.hpp): under an inference
// guard a product whose B operand lies in the frozen range runs on oneDNN's f32 matmul with B packed once; it must give
// OpenBLAS's figures up to fp32 summation order (|Δc_ij| ≤ 2·k·2⁻²⁴·Σ_p |alpha·a_ip·b_pj| + 2⁻²⁴·|beta·c_ij|), over
// every (trans A, trans B), alpha/beta and leading-dimension case; never serve a weight packed under an earlier guard;
// and leave a step guard's products (training), and operands outside the range, on OpenBLAS bit for bit.
#include <doctest/doctest.h>

#include "gemm_bound_check.hpp"

#include <gtrm/cpu.hpp>
#include <gtrm/model/frozen_weights.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace gtrm;

using testing::gemm_case;
using testing::random_vector;

namespace {

// The weights in a flat "parameter buffer" at an offset, as a model holds them.
struct operands : testing::gemm_operands {
  std::vector<float> a, params, c0;
  static constexpr index_t offset = 24;
  operands(const gemm_case& g, std::mt19937& rng)
      : gemm_operands(g), a(random_vector(static_cast<std::size_t>(ar * lda), rng)),
        params(random_vector(static_cast<std::size_t>(offset + br * ldb + 8), rng)),
        c0(random_vector(static_cast<std::size_t>(g.m * ldc), rng)) {}
  const float* b() const { return params.data() + offset; }
  std::vector<float> product(const gemm_case& g) const {
    auto c = c0;
    cpu{}.gemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, a.data(), lda, b(), ldb, g.beta, c.data(), ldc);
    return c;
  }
  double check(const gemm_case& g, const std::vector<float>& got, const std::vector<float>& want) const {
    return testing::check_summation_order(g, *this, a.data(), b(), c0, got, want, [](float x) { return x; });
  }
};

const gemm_case cases[] = {{trans::no, trans::yes, 97, 192, 64, 0, 1.f, 0.f},  // y = x Wᵀ, batch 1 (linear forward)
                           {trans::no, trans::no, 97, 64, 192, 0, 1.f, 1.f},   // dx += dy W (linear backward)
                           {trans::yes, trans::no, 33, 70, 130, 3, 0.125f, 1.f},
                           {trans::yes, trans::yes, 1, 17, 256, 1, -2.f, 0.5f},
                           {trans::no, trans::yes, 40, 1, 9, 2, 1.f, 1.f}};

// A model-shaped stand-in for freeze_weights (its params() buffer is the weights).
struct weights_holder {
  using backend_type = cpu;
  std::vector<float>* p;
  struct span_like {
    std::vector<float>* v;
    const float* data() const { return v->data(); }
    std::size_t size() const { return v->size(); }
  };
  span_like params() const { return {p}; }
};

}  // namespace

TEST_CASE("cpu frozen weights: inference products on oneDNN's packed f32 matmul give OpenBLAS's figures") {
  std::printf("cpu: %s\n", cpu::gemm_library().c_str());
  std::mt19937 rng(23);
  double worst = 0;
  for (const gemm_case& g : cases) {
    operands o(g, rng);
    const auto blas = o.product(g);
    weights_holder w{&o.params};
    const auto frozen = freeze_weights(w, frozen_use::inference);
    for (int rep = 0; rep < 2; ++rep)  // the first call packs B, the second reuses the packing
      worst = std::max(worst, o.check(g, o.product(g), blas));
#if defined(GTRM_CPU_ONEDNN)
    INFO("oneDNN implementation: " << onednn::last_implementation());
    CHECK(onednn::last_implementation().rfind("none", 0) != 0);  // each case's new shape made a oneDNN f32 matmul
#endif
  }
  std::printf("cpu frozen (inference) vs OpenBLAS: worst |difference| / summation-order bound %.3f\n", worst);
#if defined(GTRM_CPU_ONEDNN)
  std::printf("oneDNN implementation of the last primitive: %s\n", onednn::last_implementation().c_str());
#endif
}

TEST_CASE("cpu frozen weights: a later guard never serves an earlier guard's packing") {
  std::mt19937 rng(29);
  const gemm_case g = cases[0];
  operands o(g, rng);
  weights_holder w{&o.params};
  {
    const auto frozen = freeze_weights(w, frozen_use::inference);
    (void)o.product(g);  // packs the weights
  }
  for (auto& v : o.params) v = 0.5f * v + 1.f;  // an optimizer step, a load
  const auto blas = o.product(g);
  const auto frozen = freeze_weights(w, frozen_use::inference);
  o.check(g, o.product(g), blas);
}

TEST_CASE("cpu frozen weights: a training step's guard, and operands outside the range, stay on OpenBLAS bit for bit") {
  std::mt19937 rng(31);
  for (const gemm_case& g : cases) {
    operands o(g, rng);
    const auto blas = o.product(g);
    weights_holder w{&o.params};
    {
      const auto frozen = freeze_weights(w, frozen_use::step);
      CHECK(o.product(g) == blas);
    }
    std::vector<float> other(o.params.size());
    weights_holder elsewhere{&other};
    const auto frozen = freeze_weights(elsewhere, frozen_use::inference);
    CHECK(o.product(g) == blas);
  }
}
