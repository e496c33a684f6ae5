// precision::bf16_mixed on the GPU against its CPU emulation: every body of cuda_bf16_bodies.hpp runs on
// gtrm::cuda_bf16 here (cuBLAS bf16 tensor-core GEMMs, fp32 accumulation; the attention kernels rounding their
// operands) and on gtrm::cpu_bf16 in cuda_bf16_cpu.cpp, from the same inputs; every output and gradient must agree
// within the case's bound (cuda_bf16_bodies.hpp) on test_cuda_ops.cu's metric, max_i |cuda_i − cpu_i| / max_i |cpu_i|.
// Each case prints "cuda-bf16 vs cpu-bf16 <case>: worst <x> (<output>)" so that a GPU run records the figures
// (scripts/gpu-check.sh collects them). Without a CUDA device every case prints "skipped: no CUDA device".
#include "cuda_bf16_bodies.hpp"

#include <gtrm/cuda.cuh>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

namespace gtrm::parity {

#define GTRM_BF16_DECLARE(name, bound) outputs cpu_bf16_##name();
GTRM_BF16_BODIES(GTRM_BF16_DECLARE)
#undef GTRM_BF16_DECLARE

namespace {

struct cuda_bf16_harness {
  using backend_type = cuda_bf16;
  cuda_bf16 be;
  std::vector<std::shared_ptr<void>> keep;

  template <class T>
  tensor<T> put(const std::vector<T>& v) {
    auto owned = std::make_shared<device_buffer<T>>(static_cast<index_t>(v.size()));
    from_host(be, *owned, v);
    keep.push_back(owned);
    return {owned->data(), owned->size()};
  }
  template <class T>
  std::vector<T> get(tensor<T> t) {
    std::vector<T> out(static_cast<std::size_t>(t.n));
    to_host(be, out, t.span());
    return out;
  }
};

bool cuda_device_or_skip() {
  if (cuda::device_count() > 0) return true;
  std::printf("skipped: no CUDA device\n");
  std::fflush(stdout);
  return false;
}

// Every output of a case against the case's bound (the bodies' own per-output tolerances are fp32 ones).
void compare(const char* name, double bound, const outputs& ref, const outputs& got) {
  REQUIRE(ref.size() == got.size());
  double worst = 0;
  std::string worst_name;
  for (std::size_t k = 0; k < ref.size(); ++k) {
    INFO("output " << ref[k].name);
    REQUIRE(ref[k].name == got[k].name);
    REQUIRE(ref[k].values.size() == got[k].values.size());
    double scale = 0, diff = 0;
    bool finite = true;
    for (std::size_t i = 0; i < ref[k].values.size(); ++i) {
      const double a = ref[k].values[i], b = got[k].values[i];
      finite = finite && std::isfinite(a) && std::isfinite(b);
      scale = std::max(scale, std::abs(a));
      diff = std::max(diff, std::abs(a - b));
    }
    CHECK(finite);
    CHECK(scale > 0);
    const double rel = scale > 0 ? diff / scale : diff;
    if (rel >= worst) {
      worst = rel;
      worst_name = ref[k].name;
    }
    INFO("max |cuda_bf16 - cpu_bf16| = " << diff << ", max |cpu_bf16| = " << scale);
    CHECK(rel <= bound);
  }
  std::printf("cuda-bf16 vs cpu-bf16 %-16s: worst %.2e (%s), bound %.0e\n", name, worst, worst_name.c_str(), bound);
  std::fflush(stdout);
}

}  // namespace

#define GTRM_BF16_CASE(name, bound)                   \
  TEST_CASE("cuda bf16 parity: " #name) {             \
    if (!cuda_device_or_skip()) return;               \
    outputs got;                                      \
    {                                                 \
      cuda_bf16_harness h;                            \
      got = body_##name(h);                           \
    }                                                 \
    compare(#name, bound, cpu_bf16_##name(), got);    \
  }
GTRM_BF16_BODIES(GTRM_BF16_CASE)
#undef GTRM_BF16_CASE

// The backend's contract: bf16 tag, cuda storage, the product rounding and nothing else.
static_assert(std::is_same_v<backend_precision_t<cuda_bf16>, precision::bf16_mixed>);
static_assert(std::is_same_v<backend_precision_t<cuda>, precision::fp32>);
static_assert(std::is_same_v<buffer_t<cuda_bf16, float>, buffer_t<cuda, float>>);

}  // namespace gtrm::parity
