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
#include "adam_moments.hpp"

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
  struct coeffs : adam_moment_coeffs<T> {
    T step_size, eps;
    coeffs(const hparams& h, std::int64_t t, double lr)
        : adam_moment_coeffs<T>(h.beta1, h.beta2, h.weight_decay, t, lr),
          step_size(static_cast<T>(lr / (1.0 - std::pow(h.beta1, static_cast<double>(t))))),
          eps(static_cast<T>(h.eps)) {}
  };

  template <class T>
  GTRM_HD static void update(const coeffs<T>& c, T& p, T g, T& m, T& v) {
    update_adam_moments(c, g, m, v);
    p = p * c.decay - c.step_size * m / (std::sqrt(v) / c.sqrt_bc2 + c.eps);
  }
};

}  // namespace rules
}  // namespace gtrm::train
