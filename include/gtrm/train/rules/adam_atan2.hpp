// The AdamATan2 update rule, the reference's main optimizer (the adam-atan2 package), for the
// optimizer shell (train/optimizer.hpp). Per step, in double as the package's kernel:
//   t ← t + 1;  bc1 = 1 − β1^t;  bc2 = 1 − β2^t
// per element:
//   θ ← θ·(1 − lr·wd)                                        decoupled decay first, on the old θ
//   m ← m + (1 − β1)(g − m)
//   v ← β2·v + (1 − β2)·g²
//   θ ← θ − lr·atan2(m / bc1, sqrt(v) / sqrt(bc2))           no ε; atan2(0, 0) = 0
// The β1 correction sits inside atan2: that is what the golden optimizer file (a_rope_optim, made with the
// package's arithmetic) holds, and what the adam-atan2 CUDA kernel source computes
// (atan2(bias_correction1_reciprocal · exp_avg, denom)). Putting it outside, θ ← θ − (lr/bc1)·atan2(m, ·), misses
// the golden parameters by 3e-3 to 5e-3 relative; `bc1_inside_atan2 = false` selects that variant.
// atan2 bounds every coordinate's step by lr·π/2 and needs no epsilon; a coordinate whose gradient was always
// zero (and the zero padding of a param_layout) only decays.
#pragma once
#include <cmath>
#include <cstdint>

#include "../../core/types.hpp"
#include "adam_moments.hpp"

namespace gtrm::train {

struct adam_atan2_hparams {
  double lr = 1e-4;            // base learning rate; each step takes the scheduled value
  double beta1 = 0.9;
  double beta2 = 0.95;
  double weight_decay = 0.1;
  bool bc1_inside_atan2 = true;  // false: θ ← θ − (lr/bc1)·atan2(m, sqrt(v)/sqrt(bc2)) (see above)
};

namespace rules {

struct adam_atan2 {
  using hparams = adam_atan2_hparams;
  static constexpr const char* name = "adam_atan2";

  // Per-step constants, computed once in double and rounded to T like the reference's scalar arguments.
  template <class T>
  struct coeffs : adam_moment_coeffs<T> {
    T step_size, inv_bc1;
    coeffs(const hparams& h, std::int64_t t, double lr) : adam_moment_coeffs<T>(h.beta1, h.beta2, h.weight_decay, t, lr) {
      const double bc1 = 1.0 - std::pow(h.beta1, static_cast<double>(t));
      step_size = static_cast<T>(h.bc1_inside_atan2 ? lr : lr / bc1);
      inv_bc1 = static_cast<T>(h.bc1_inside_atan2 ? 1.0 / bc1 : 1.0);
    }
  };

  // One element: parameter p, gradient g, moments m and v.
  template <class T>
  GTRM_HD static void update(const coeffs<T>& c, T& p, T g, T& m, T& v) {
    update_adam_moments(c, g, m, v);
    p = p * c.decay - c.step_size * std::atan2(c.inv_bc1 * m, std::sqrt(v) / c.sqrt_bc2);
  }
};

}  // namespace rules
}  // namespace gtrm::train
