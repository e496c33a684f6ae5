// Optimizers and EMA with their state in device memory, for parameters and gradients in device memory:
//   cuda_adam_atan2<T>, cuda_adamw<T>   the updates of train/adam_atan2.hpp and train/adamw.hpp (same hyper-parameters,
//                                       same per-step coefficients, the same element kernel: detail::*_kernel, run
//                                       by one device thread per element)
//   cuda_ema<T>                         train/ema.hpp's shadow ← (1 − μ)·θ + μ·shadow
// They mirror the CPU classes' interface (step(be, params, grads, lr); register_params / update / shadow), with
// spans over device memory, so code written against one works with the other. The moments start at zero and are
// sized once, in the constructor; nothing allocates in step or update.
#pragma once
#if !defined(__CUDACC__)
#error "gtrm/backend/cuda is CUDA code: include <gtrm/cuda.cuh> from a .cu file compiled by nvcc"
#endif

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "../../core/types.hpp"
#include "../../train/adam_atan2.hpp"
#include "../../train/adamw.hpp"
#include "cuda.cuh"
#include "memory.cuh"

namespace gtrm::train {

template <class T>
struct cuda_moments {
  device_buffer<T> m, v;       // first and second moments, the parameter buffer's layout
  std::int64_t step = 0;       // updates done so far
};

namespace detail {
inline void check_step_sizes(const char* who, std::size_t params, std::size_t grads, index_t state) {
  if (params != grads || static_cast<index_t>(params) != state)
    throw std::invalid_argument(std::string(who) + "::step: " + std::to_string(params) + " parameters, " +
                                std::to_string(grads) + " gradients and a state of " + std::to_string(state) +
                                " must all be equal");
}
}  // namespace detail

template <class T>
class cuda_adam_atan2 {
 public:
  cuda_adam_atan2() = default;
  cuda_adam_atan2(adam_atan2_hparams h, index_t n) : h_(h) {
    state_.m.resize(n);
    state_.v.resize(n);
  }

  // One update of params (device) with grads (device) at learning rate lr.
  void step(const cuda& be, std::span<T> params, std::span<const T> grads, double lr) {
    detail::check_step_sizes("cuda_adam_atan2", params.size(), grads.size(), state_.m.size());
    ++state_.step;
    const detail::adam_atan2_coeffs<T> c(h_, state_.step, lr);
    T* p = params.data();
    const T* g = grads.data();
    T* m = state_.m.data();
    T* v = state_.v.data();
    be.parallel_for(static_cast<index_t>(params.size()), [=] GTRM_HD(index_t i) {
      detail::adam_atan2_kernel(c, p + i, g + i, m + i, v + i, 1);
    });
  }

  const adam_atan2_hparams& hparams() const { return h_; }
  cuda_moments<T>& state() { return state_; }
  const cuda_moments<T>& state() const { return state_; }

 private:
  adam_atan2_hparams h_{};
  cuda_moments<T> state_;
};

template <class T>
class cuda_adamw {
 public:
  cuda_adamw() = default;
  cuda_adamw(adamw_hparams h, index_t n) : h_(h) {
    state_.m.resize(n);
    state_.v.resize(n);
  }

  void step(const cuda& be, std::span<T> params, std::span<const T> grads, double lr) {
    detail::check_step_sizes("cuda_adamw", params.size(), grads.size(), state_.m.size());
    ++state_.step;
    const detail::adamw_coeffs<T> c(h_, state_.step, lr);
    T* p = params.data();
    const T* g = grads.data();
    T* m = state_.m.data();
    T* v = state_.v.data();
    be.parallel_for(static_cast<index_t>(params.size()), [=] GTRM_HD(index_t i) {
      detail::adamw_kernel(c, p + i, g + i, m + i, v + i, 1);
    });
  }

  const adamw_hparams& hparams() const { return h_; }
  cuda_moments<T>& state() { return state_; }
  const cuda_moments<T>& state() const { return state_; }

 private:
  adamw_hparams h_{};
  cuda_moments<T> state_;
};

// The backend is held by pointer: it must outlive the EMA (it owns the stream the updates run on).
template <class T>
class cuda_ema {
 public:
  explicit cuda_ema(const cuda& be, double rate = 0.999) : be_(&be), rate_(rate) {}

  // Copies θ (device) into the shadow; sizes it (the only allocation).
  void register_params(std::span<const T> theta) {
    shadow_.resize(static_cast<index_t>(theta.size()));
    if (!theta.empty())
      GTRM_CUDA_CHECK(cudaMemcpyAsync(shadow_.data(), theta.data(), sizeof(T) * theta.size(),
                                      cudaMemcpyDeviceToDevice, be_->stream()));
    registered_ = true;
  }

  void update(std::span<const T> theta) {
    if (!registered_ || static_cast<index_t>(theta.size()) != shadow_.size())
      throw std::invalid_argument("cuda_ema::update: " + std::to_string(theta.size()) + " parameters, but " +
                                  (registered_ ? std::to_string(shadow_.size()) + " were registered"
                                               : std::string("register_params was not called")));
    const T a = static_cast<T>(1.0 - rate_), b = static_cast<T>(rate_);
    T* s = shadow_.data();
    const T* th = theta.data();
    be_->parallel_for(shadow_.size(), [=] GTRM_HD(index_t i) { s[i] = a * th[i] + b * s[i]; });
  }

  double rate() const { return rate_; }
  bool registered() const { return registered_; }
  std::span<const T> shadow() const { return shadow_.span(); }
  std::span<T> shadow() { return shadow_.span(); }

 private:
  const cuda* be_;
  double rate_;
  device_buffer<T> shadow_;
  bool registered_ = false;
};

}  // namespace gtrm::train
