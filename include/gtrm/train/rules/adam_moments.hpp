// What the Adam-family rules (adam_atan2.hpp, adamw.hpp) share: decoupled decay and the two moments.
//   decay = 1 − lr·wd;  bc2 = 1 − β2^t                       per step, in double, rounded to T
//   m ← m + (1 − β1)(g − m);  v ← β2·v + (1 − β2)·g²         per element
#pragma once
#include <cmath>
#include <cstdint>

#include "../../core/types.hpp"

namespace gtrm::train::rules {

template <class T>
struct adam_moment_coeffs {
  T decay, one_minus_b1, b2, one_minus_b2, sqrt_bc2;
  adam_moment_coeffs(double beta1, double beta2, double weight_decay, std::int64_t t, double lr)
      : decay(static_cast<T>(1.0 - lr * weight_decay)),
        one_minus_b1(static_cast<T>(1.0 - beta1)),
        b2(static_cast<T>(beta2)),
        one_minus_b2(static_cast<T>(1.0 - beta2)),
        sqrt_bc2(static_cast<T>(std::sqrt(1.0 - std::pow(beta2, static_cast<double>(t))))) {}
};

template <class T>
GTRM_HD void update_adam_moments(const adam_moment_coeffs<T>& c, T g, T& m, T& v) {
  const T mi = m + c.one_minus_b1 * (g - m);
  const T vi = c.b2 * v + c.one_minus_b2 * g * g;
  m = mi;
  v = vi;
}

}  // namespace gtrm::train::rules
