// The CPU half of test_cuda_ops: every body of cuda_parity_bodies.hpp run on the cpu backend, in a g++ translation
// unit (Eigen and OpenMP stay out of nvcc's way). test_cuda_ops.cu declares these functions and compares.
#include <gtrm/cpu.hpp>

#include <memory>

#include "cuda_parity_bodies.hpp"

namespace gtrm::parity {
namespace {

struct cpu_harness {
  using backend_type = cpu;
  cpu be{};
  std::vector<std::shared_ptr<void>> keep;  // every tensor lives as long as the harness

  template <class T>
  tensor<T> put(const std::vector<T>& v) {
    auto owned = std::make_shared<std::vector<T>>(v);
    keep.push_back(owned);
    return {owned->data(), static_cast<index_t>(owned->size())};
  }
  template <class T>
  std::vector<T> get(tensor<T> t) { return std::vector<T>(t.p, t.p + t.n); }

  template <class T>
  train::adam_atan2<T> make_adam_atan2(train::adam_atan2_hparams hp, index_t n) { return {hp, n}; }
  template <class T>
  train::adamw<T> make_adamw(train::adamw_hparams hp, index_t n) { return {hp, n}; }
  template <class T>
  train::ema<T> make_ema(double rate) { return train::ema<T>(rate); }
  template <class T>
  train::sign_sgd<T> make_sign_sgd(train::sign_sgd_hparams hp, index_t width, index_t max_batch) {
    return {hp, width, max_batch};
  }
};

}  // namespace

#define GTRM_PARITY_CPU(name)  \
  outputs cpu_##name() {       \
    cpu_harness h;             \
    return body_##name(h);     \
  }
GTRM_PARITY_BODIES(GTRM_PARITY_CPU)
#undef GTRM_PARITY_CPU

}  // namespace gtrm::parity
