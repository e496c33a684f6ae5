// CPU-vs-CUDA parity of every op, in fp32 (the double linear checks gemm<double>): the same test body
// (cuda_parity_bodies.hpp) runs on the cuda backend here and on the cpu backend in cuda_parity_cpu.cpp, from the same
// inputs, and every output and gradient must agree.
// Metric: for each output tensor, max_i |cuda_i − cpu_i| / max_i |cpu_i| ≤ 1e-5, i.e. relative to the tensor's
// largest magnitude. Element-wise relative error is meaningless for entries near zero (GEMM and sum cancellation;
// the two backends sum in different orders and nvcc contracts a·b + c into FMAs), while 1e-5 of the tensor's scale
// is about 100 fp32 ulps: loose enough for reordered sums, tight enough to catch any indexing or formula error.
// Without a CUDA device every case prints "skipped: no CUDA device" and returns; ctest's SKIP_REGULAR_EXPRESSION
// (tests/CMakeLists.txt) then reports it as skipped, never as passed.
// Include order: the bodies (and through them every model and op header) come BEFORE <gtrm/cuda.cuh> on purpose.
// The ops' cuda bodies must still be found (argument-dependent lookup on the tag, concepts.hpp): the host bodies
// refuse the cuda tag, so a wrong dispatch would not compile, and the parity cases below run the device path.
#include "cuda_parity_bodies.hpp"

#include <gtrm/cuda.cuh>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace gtrm::parity {

#define GTRM_PARITY_DECLARE(name) outputs cpu_##name();
GTRM_PARITY_BODIES(GTRM_PARITY_DECLARE)
#undef GTRM_PARITY_DECLARE

namespace {

struct cuda_harness {
  using backend_type = cuda;
  cuda be;
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

  template <class T>
  train::adam_atan2<T, cuda> make_adam_atan2(train::adam_atan2_hparams hp, index_t n) { return {hp, n}; }
  template <class T>
  train::adamw<T, cuda> make_adamw(train::adamw_hparams hp, index_t n) { return {hp, n}; }
  template <class T>
  train::ema<T, cuda> make_ema(double rate) { return train::ema<T, cuda>(rate); }
  template <class T>
  train::sign_sgd<T, cuda> make_sign_sgd(train::sign_sgd_hparams hp, index_t width, index_t max_batch) {
    return {hp, width, max_batch};
  }
};

// True when a device is present; otherwise prints the skip line ctest looks for.
bool cuda_device_or_skip() {
  if (cuda::device_count() > 0) return true;
  std::printf("skipped: no CUDA device\n");
  std::fflush(stdout);
  return false;
}

constexpr double tolerance = 1e-5;

void compare(const outputs& ref, const outputs& got) {
  REQUIRE(ref.size() == got.size());
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
    CHECK(scale > 0);  // an all-zero output would make the check vacuous
    const double rel = scale > 0 ? diff / scale : diff;
    INFO("max |cuda - cpu| = " << diff << ", max |cpu| = " << scale);
    CHECK(rel <= (ref[k].tolerance > 0 ? ref[k].tolerance : tolerance));
  }
}

}  // namespace

#define GTRM_PARITY_CASE(name)                  \
  TEST_CASE("cuda parity: " #name) {            \
    if (!cuda_device_or_skip()) return;         \
    outputs got;                                \
    {                                           \
      cuda_harness h;                           \
      got = body_##name(h);                     \
    }                                           \
    compare(cpu_##name(), got);                 \
  }
GTRM_PARITY_BODIES(GTRM_PARITY_CASE)
#undef GTRM_PARITY_CASE

TEST_CASE("cuda: device arena measures, then hands out aligned slices of one allocation") {
  if (!cuda_device_or_skip()) return;
  device_arena measure;
  (void)measure.take<float, 3>(5);
  (void)measure.take_raw<double>(1);
  CHECK(measure.used() == 2 * device_alignment);
  device_arena a(measure.used());
  auto v = a.take<float, 3>(5);
  double* d = a.take_raw<double>(1);
  CHECK(v.data() != nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(d) % device_alignment == 0);
  CHECK_THROWS_AS(a.take_raw<float>(1), std::logic_error);
}

}  // namespace gtrm::parity
