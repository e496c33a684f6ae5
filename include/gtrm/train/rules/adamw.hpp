// The AdamW update rule with torch.optim.AdamW's arithmetic (an alternative to adam_atan2; the paper calls its
// optimizer "AdamW", the code uses AdamATan2), for the optimizer shell (train/optimizer.hpp). Per step:
//   t ← t + 1;  bc1 = 1 − β1^t;  bc2 = 1 − β2^t
// per element:
//   θ ← θ·(1 − lr·wd)                                        decoupled decay, on the old θ
//   m ← m + (1 − β1)(g − m)                                  torch: exp_avg.lerp_(g, 1 − β1)
//   v ← β2·v + (1 − β2)·g²
//   θ ← θ − (lr / bc1)·m / (sqrt(v) / sqrt(bc2) + ε)         ε added after the bias correction, as torch
// The defaults are TRM's (β2 0.95, wd 0.1), not torch's (0.999, 0.01), so the two optimizers swap freely.
#pragma once
#include <cmath>
#include <cstdint>

#include "../../core/types.hpp"

namespace gtrm::train {

struct adamw_hparams {
  double lr = 1e-4;            // base learning rate; each step takes the scheduled value
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
};

namespace rules {

struct adamw {
  using hparams = adamw_hparams;
  static constexpr const char* name = "adamw";

  template <class T>
  struct coeffs {
    T decay, one_minus_b1, b2, one_minus_b2, step_size, sqrt_bc2, eps;
    coeffs(const hparams& h, std::int64_t t, double lr)
        : decay(static_cast<T>(1.0 - lr * h.weight_decay)),
          one_minus_b1(static_cast<T>(1.0 - h.beta1)),
          b2(static_cast<T>(h.beta2)),
          one_minus_b2(static_cast<T>(1.0 - h.beta2)),
          step_size(static_cast<T>(lr / (1.0 - std::pow(h.beta1, static_cast<double>(t))))),
          sqrt_bc2(static_cast<T>(std::sqrt(1.0 - std::pow(h.beta2, static_cast<double>(t))))),
          eps(static_cast<T>(h.eps)) {}
  };

  template <class T>
  GTRM_HD static void update(const coeffs<T>& c, T& p, T g, T& m, T& v) {
    const T mi = m + c.one_minus_b1 * (g - m);
    const T vi = c.b2 * v + c.one_minus_b2 * g * g;
    m = mi;
    v = vi;
    p = p * c.decay - c.step_size * mi / (std::sqrt(vi) / c.sqrt_bc2 + c.eps);
  }
};

}  // namespace rules
}  // namespace gtrm::train
