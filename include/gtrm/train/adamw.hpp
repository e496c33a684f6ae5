// AdamW with torch.optim.AdamW's arithmetic (an alternative to adam_atan2; the paper calls its optimizer
// "AdamW", the code uses AdamATan2):
//   t ← t + 1;  bc1 = 1 − β1^t;  bc2 = 1 − β2^t
//   θ ← θ·(1 − lr·wd)                                        decoupled decay, on the old θ
//   m ← m + (1 − β1)(g − m)                                  torch: exp_avg.lerp_(g, 1 − β1)
//   v ← β2·v + (1 − β2)·g²
//   θ ← θ − (lr / bc1)·m / (sqrt(v) / sqrt(bc2) + ε)         ε added after the bias correction, as torch
// The defaults are TRM's (β2 0.95, wd 0.1), not torch's (0.999, 0.01), so the two optimizers swap freely.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

#include "../concepts.hpp"
#include "../core/buffer.hpp"
#include "../core/types.hpp"
#include "step_sizes.hpp"

namespace gtrm::train {

struct adamw_hparams {
  double lr = 1e-4;            // base learning rate; each step takes the scheduled value
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
};

template <class T>
struct adamw_state {
  buffer<T> m, v;
  std::int64_t step = 0;
};

namespace detail {

template <class T>
struct adamw_coeffs {
  T decay, one_minus_b1, b2, one_minus_b2, step_size, sqrt_bc2, eps;
  adamw_coeffs(const adamw_hparams& h, std::int64_t t, double lr)
      : decay(static_cast<T>(1.0 - lr * h.weight_decay)),
        one_minus_b1(static_cast<T>(1.0 - h.beta1)),
        b2(static_cast<T>(h.beta2)),
        one_minus_b2(static_cast<T>(1.0 - h.beta2)),
        step_size(static_cast<T>(lr / (1.0 - std::pow(h.beta1, static_cast<double>(t))))),
        sqrt_bc2(static_cast<T>(std::sqrt(1.0 - std::pow(h.beta2, static_cast<double>(t))))),
        eps(static_cast<T>(h.eps)) {}
};

// GTRM_HD: a device backend runs it per element (backend/cuda/train.cuh), with the same arithmetic.
template <class T>
GTRM_HD void adamw_kernel(const adamw_coeffs<T>& c, T* p, const T* g, T* m, T* v, index_t n) {
  for (index_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = m[i] + c.one_minus_b1 * (gi - m[i]);
    const T vi = c.b2 * v[i] + c.one_minus_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * c.decay - c.step_size * mi / (std::sqrt(vi) / c.sqrt_bc2 + c.eps);
  }
}

inline constexpr index_t adamw_chunk = index_t{1} << 14;  // elements per parallel task

}  // namespace detail

template <class T>
class adamw {
 public:
  adamw() = default;
  adamw(adamw_hparams h, index_t n) : h_(h) {
    state_.m.resize(n);
    state_.v.resize(n);
  }

  void step(std::span<T> params, std::span<const T> grads, double lr) {
    const auto c = begin_step(params, grads, lr);
    detail::adamw_kernel(c, params.data(), grads.data(), state_.m.data(), state_.v.data(),
                         static_cast<index_t>(params.size()));
  }

  template <backend Be>
  void step(const Be& be, std::span<T> params, std::span<const T> grads, double lr) {
    const auto c = begin_step(params, grads, lr);
    const auto n = static_cast<index_t>(params.size());
    constexpr index_t chunk = detail::adamw_chunk;
    be.parallel_for((n + chunk - 1) / chunk, [&](index_t k) {
      const index_t at = k * chunk, len = std::min(chunk, n - at);
      detail::adamw_kernel(c, params.data() + at, grads.data() + at, state_.m.data() + at, state_.v.data() + at,
                           len);
    });
  }

  const adamw_hparams& hparams() const { return h_; }
  adamw_state<T>& state() { return state_; }
  const adamw_state<T>& state() const { return state_; }

 private:
  detail::adamw_coeffs<T> begin_step(std::span<T> params, std::span<const T> grads, double lr) {
    detail::check_step_sizes("adamw", params.size(), grads.size(), state_.m.size());
    ++state_.step;
    return detail::adamw_coeffs<T>(h_, state_.step, lr);
  }

  adamw_hparams h_{};
  adamw_state<T> state_;
};

}  // namespace gtrm::train
