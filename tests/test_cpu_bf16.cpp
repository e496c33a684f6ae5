// cpu_bf16's two bodies agree: oneDNN's bf16 matmul (where gtrm was configured with it) and the exact emulation
// (cpu_bf16_emulated). Both multiply the same bf16-rounded operands, each product exact in fp32, so they may differ
// by fp32 summation order only: |Δc_ij| ≤ 2·k·2⁻²⁴·Σ_p |alpha·a_ip·b_pj| + 2⁻²⁴·|beta·c_ij| (+1e-30) is the bound asserted,
// element by element, over every (trans A, trans B), alpha/beta and leading-dimension case below. Then the frozen
// (prepacked) weights: the same figures as unfrozen, and no stale weight once the guard ends and the weights change.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace gtrm;

namespace {

struct gemm_case {
  trans ta, tb;
  index_t m, n, k, pad;  // pad: extra columns in every leading dimension
  float alpha, beta;
};

std::vector<float> random_vector(std::size_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Runs one case on both bodies, checks the bound; returns the worst |Δ| / bound.
double check_case(const gemm_case& g, std::mt19937& rng) {
  const index_t ar = g.ta == trans::no ? g.m : g.k, ac = g.ta == trans::no ? g.k : g.m;
  const index_t br = g.tb == trans::no ? g.k : g.n, bc = g.tb == trans::no ? g.n : g.k;
  const index_t lda = ac + g.pad, ldb = bc + g.pad, ldc = g.n + g.pad;
  const auto a = random_vector(static_cast<std::size_t>(ar * lda), rng);
  const auto b = random_vector(static_cast<std::size_t>(br * ldb), rng);
  const auto c0 = random_vector(static_cast<std::size_t>(g.m * ldc), rng);
  auto c_fast = c0, c_emul = c0;
  cpu_bf16{}.gemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, a.data(), lda, b.data(), ldb, g.beta, c_fast.data(), ldc);
  cpu_bf16_emulated{}.gemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, a.data(), lda, b.data(), ldb, g.beta, c_emul.data(), ldc);
  const double eps = std::ldexp(1.0, -24);
  double worst = 0;
  for (index_t i = 0; i < g.m; ++i)
    for (index_t j = 0; j < ldc; ++j) {
      const std::size_t at = static_cast<std::size_t>(i * ldc + j);
      if (j >= g.n) {  // padding is never written
        REQUIRE(c_fast[at] == c0[at]);
        continue;
      }
      double mag = 0;
      for (index_t p = 0; p < g.k; ++p) {
        const float x = g.ta == trans::no ? a[static_cast<std::size_t>(i * lda + p)] : a[static_cast<std::size_t>(p * lda + i)];
        const float y = g.tb == trans::no ? b[static_cast<std::size_t>(p * ldb + j)] : b[static_cast<std::size_t>(j * ldb + p)];
        mag += std::abs(static_cast<double>(g.alpha) * round_to_bf16(x) * round_to_bf16(y));
      }
      const double bound = 2.0 * static_cast<double>(g.k) * eps * mag + eps * std::abs(g.beta * c0[at]) + 1e-30;
      const double d = std::abs(static_cast<double>(c_fast[at]) - c_emul[at]);
      worst = std::max(worst, d / bound);
      if (d > bound) {
        INFO("i " << i << " j " << j << " fast " << c_fast[at] << " emulated " << c_emul[at] << " bound " << bound);
        REQUIRE(d <= bound);
      }
    }
  return worst;
}

}  // namespace

TEST_CASE("cpu_bf16: its products agree with the exact emulation up to fp32 summation order") {
#if defined(GTRM_CPU_ONEDNN)
  std::printf("cpu_bf16: %s\n", cpu_bf16::gemm_library().c_str());
#else
  std::printf("cpu_bf16: built without oneDNN, the emulation body (the comparison is trivial)\n");
#endif
  std::mt19937 rng(17);
  double worst = 0;
  for (trans ta : {trans::no, trans::yes})
    for (trans tb : {trans::no, trans::yes})
      for (const gemm_case& g : {gemm_case{ta, tb, 97, 64, 48, 0, 1.f, 0.f}, gemm_case{ta, tb, 33, 70, 130, 3, 0.125f, 1.f},
                                 gemm_case{ta, tb, 1, 17, 256, 1, -2.f, 0.5f}, gemm_case{ta, tb, 40, 1, 9, 2, 1.f, 1.f}})
        worst = std::max(worst, check_case(g, rng));
  std::printf("cpu_bf16 vs emulation: worst |difference| / summation-order bound %.3f\n", worst);
#if defined(GTRM_CPU_ONEDNN)
  std::printf("oneDNN implementation of the last primitive: %s\n", onednn::last_implementation().c_str());
#endif
}

TEST_CASE("cpu_bf16: a second call with the same shape (a cached primitive) gives the same figures") {
  std::mt19937 rng(5);
  const auto a = random_vector(97 * 128, rng), b = random_vector(256 * 128, rng);
  std::vector<float> c1(97 * 256), c2(97 * 256);
  cpu_bf16{}.gemm(trans::no, trans::yes, 97, 256, 128, 1.f, a.data(), 128, b.data(), 128, 0.f, c1.data(), 256);
  cpu_bf16{}.gemm(trans::no, trans::yes, 97, 256, 128, 1.f, a.data(), 128, b.data(), 128, 0.f, c2.data(), 256);
  CHECK(c1 == c2);
}

TEST_CASE("cpu_bf16: frozen (prepacked) weights give the unfrozen figures, and none is stale after the guard") {
  std::mt19937 rng(11);
  const index_t m = 97, n = 192, k = 64;
  const auto x = random_vector(static_cast<std::size_t>(m * k), rng);
  auto w = random_vector(static_cast<std::size_t>(n * k + 16), rng);  // a flat "parameter buffer": W (n, k) at offset 16
  std::vector<float> plain(static_cast<std::size_t>(m * n)), frozen(plain.size());
  const cpu_bf16 be;
  be.gemm(trans::no, trans::yes, m, n, k, 1.f, x.data(), k, w.data() + 16, k, 0.f, plain.data(), n);
  {
    cpu_bf16::frozen_weights guard(w.data(), w.size());
    for (int rep = 0; rep < 3; ++rep) {  // the first call packs, the others reuse
      be.gemm(trans::no, trans::yes, m, n, k, 1.f, x.data(), k, w.data() + 16, k, 0.f, frozen.data(), n);
      for (std::size_t i = 0; i < plain.size(); ++i)
        REQUIRE(std::abs(frozen[i] - plain[i]) <= 1e-5f * (1.f + std::abs(plain[i])));
    }
  }
  for (auto& v : w) v = -v;  // training changed the weights: the next guard must not serve the old packing
  {
    cpu_bf16::frozen_weights guard(w.data(), w.size());
    be.gemm(trans::no, trans::yes, m, n, k, 1.f, x.data(), k, w.data() + 16, k, 0.f, frozen.data(), n);
    for (std::size_t i = 0; i < plain.size(); ++i)
      REQUIRE(std::abs(frozen[i] + plain[i]) <= 1e-5f * (1.f + std::abs(plain[i])));
  }
  be.gemm(trans::no, trans::yes, m, n, k, 1.f, x.data(), k, w.data() + 16, k, 0.f, frozen.data(), n);  // unfrozen again
  for (std::size_t i = 0; i < plain.size(); ++i) REQUIRE(std::abs(frozen[i] + plain[i]) <= 1e-5f * (1.f + std::abs(plain[i])));
}
