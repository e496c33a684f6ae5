// AdamATan2, the reference's main optimizer (adam-atan2 package; TRM_REFERENCE.md §3.2), on one flat buffer:
//   t ← t + 1;  bc1 = 1 − β1^t;  bc2 = 1 − β2^t            (double, as the package's kernel)
//   θ ← θ·(1 − lr·wd)                                        decoupled decay first, on the old θ
//   m ← m + (1 − β1)(g − m)
//   v ← β2·v + (1 − β2)·g²
//   θ ← θ − lr·atan2(m / bc1, sqrt(v) / sqrt(bc2))           no ε; atan2(0, 0) = 0
// The β1 correction sits inside atan2: that is what the golden optimizer file (a_rope_optim, made with the
// package's arithmetic) holds, and what the adam-atan2 CUDA kernel source we checked computes
// (atan2(bias_correction1_reciprocal · exp_avg, denom)). TRM_REFERENCE.md §3.2 instead puts it outside, θ ← θ − (lr/bc1)·atan2(m, ·), which
// misses the golden parameters by 3e-3 to 5e-3 relative; `bc1_inside_atan2 = false` selects that variant.
// atan2 bounds every coordinate's step by lr·π/2 and needs no epsilon; a coordinate whose gradient was always
// zero (and the zero padding of a param_layout) only decays.
// Every trainable tensor is one parameter group with the same hyper-parameters (no decay exclusions), so a
// single step counter serves the whole buffer.
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

struct adam_atan2_hparams {
  double lr = 1e-4;            // base learning rate; each step takes the scheduled value
  double beta1 = 0.9;
  double beta2 = 0.95;
  double weight_decay = 0.1;
  bool bc1_inside_atan2 = true;  // false: θ ← θ − (lr/bc1)·atan2(m, sqrt(v)/sqrt(bc2)) (see above)
};

template <class T>
struct adam_atan2_state {
  buffer<T> m, v;              // first and second moments, the parameter buffer's layout
  std::int64_t step = 0;       // updates done so far
};

namespace detail {

// Per-step constants, computed once in double and rounded to T like the reference's scalar arguments.
template <class T>
struct adam_atan2_coeffs {
  T decay, one_minus_b1, b2, one_minus_b2, step_size, inv_bc1, sqrt_bc2;
  adam_atan2_coeffs(const adam_atan2_hparams& h, std::int64_t t, double lr)
      : decay(static_cast<T>(1.0 - lr * h.weight_decay)),
        one_minus_b1(static_cast<T>(1.0 - h.beta1)),
        b2(static_cast<T>(h.beta2)),
        one_minus_b2(static_cast<T>(1.0 - h.beta2)),
        sqrt_bc2(static_cast<T>(std::sqrt(1.0 - std::pow(h.beta2, static_cast<double>(t))))) {
    const double bc1 = 1.0 - std::pow(h.beta1, static_cast<double>(t));
    step_size = static_cast<T>(h.bc1_inside_atan2 ? lr : lr / bc1);
    inv_bc1 = static_cast<T>(h.bc1_inside_atan2 ? 1.0 / bc1 : 1.0);
  }
};

// GTRM_HD: a device backend runs it per element (backend/cuda/train.cuh), with the same arithmetic.
template <class T>
GTRM_HD void adam_atan2_kernel(const adam_atan2_coeffs<T>& c, T* p, const T* g, T* m, T* v, index_t n) {
  for (index_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = m[i] + c.one_minus_b1 * (gi - m[i]);
    const T vi = c.b2 * v[i] + c.one_minus_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * c.decay - c.step_size * std::atan2(c.inv_bc1 * mi, std::sqrt(vi) / c.sqrt_bc2);
  }
}

// Elements per parallel task: large enough to amortise scheduling, small enough to balance threads.
inline constexpr index_t adam_atan2_chunk = index_t{1} << 14;

}  // namespace detail

template <class T>
class adam_atan2 {
 public:
  adam_atan2() = default;
  // Zero moments for a parameter buffer of n elements.
  adam_atan2(adam_atan2_hparams h, index_t n) : h_(h) {
    state_.m.resize(n);
    state_.v.resize(n);
  }

  // One update of params with grads at learning rate lr (the schedule's value for this step).
  void step(std::span<T> params, std::span<const T> grads, double lr) {
    const auto c = begin_step(params, grads, lr);
    detail::adam_atan2_kernel(c, params.data(), grads.data(), state_.m.data(), state_.v.data(),
                              static_cast<index_t>(params.size()));
  }

  // The same update, split into chunks over the backend's threads (bit-identical to the serial one).
  template <backend Be>
  void step(const Be& be, std::span<T> params, std::span<const T> grads, double lr) {
    const auto c = begin_step(params, grads, lr);
    const auto n = static_cast<index_t>(params.size());
    constexpr index_t chunk = detail::adam_atan2_chunk;
    be.parallel_for((n + chunk - 1) / chunk, [&](index_t k) {
      const index_t at = k * chunk, len = std::min(chunk, n - at);
      detail::adam_atan2_kernel(c, params.data() + at, grads.data() + at, state_.m.data() + at,
                                state_.v.data() + at, len);
    });
  }

  const adam_atan2_hparams& hparams() const { return h_; }
  adam_atan2_state<T>& state() { return state_; }
  const adam_atan2_state<T>& state() const { return state_; }

 private:
  detail::adam_atan2_coeffs<T> begin_step(std::span<T> params, std::span<const T> grads, double lr) {
    detail::check_step_sizes("adam_atan2", params.size(), grads.size(), state_.m.size());
    ++state_.step;
    return detail::adam_atan2_coeffs<T>(h_, state_.step, lr);
  }

  adam_atan2_hparams h_{};
  adam_atan2_state<T> state_;
};

}  // namespace gtrm::train
