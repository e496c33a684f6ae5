// The CPU half of test_cuda_bf16: the bodies of cuda_bf16_bodies.hpp on gtrm::cpu_bf16 (the exact emulation of
// precision::bf16_mixed), in a g++ translation unit. test_cuda_bf16.cu declares these functions and compares.
#include <gtrm/cpu.hpp>

#include <memory>

#include "cuda_bf16_bodies.hpp"

namespace gtrm::parity {
namespace {

struct cpu_bf16_harness {
  using backend_type = cpu_bf16;
  cpu_bf16 be{};
  std::vector<std::shared_ptr<void>> keep;

  template <class T>
  tensor<T> put(const std::vector<T>& v) {
    auto owned = std::make_shared<std::vector<T>>(v);
    keep.push_back(owned);
    return {owned->data(), static_cast<index_t>(owned->size())};
  }
  template <class T>
  std::vector<T> get(tensor<T> t) { return std::vector<T>(t.p, t.p + t.n); }
};

}  // namespace

#define GTRM_BF16_CPU(name, bound) \
  outputs cpu_bf16_##name() {      \
    cpu_bf16_harness h;            \
    return body_##name(h);         \
  }
GTRM_BF16_BODIES(GTRM_BF16_CPU)
#undef GTRM_BF16_CPU

}  // namespace gtrm::parity
