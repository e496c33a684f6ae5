// Parameter initialisation (models/common.py:trunc_normal_init_): a JAX-style truncated normal whose
// actual standard deviation equals `std`. The reference draws U(erf(−√2), erf(√2)), applies erfinv and
// scales by √2·comp_std; rejection sampling of N(0, comp_std) on [−2·comp_std, 2·comp_std] draws from the
// same distribution (bit-exact reproduction of torch's CUDA Philox stream is not a goal, §1.3).
#pragma once
#include <cmath>
#include <numbers>
#include <random>
#include <span>

namespace gtrm {

inline double trunc_normal_comp_std(double std) {
  const double lower = -2.0, upper = 2.0;
  const double a = std::erf(lower / std::numbers::sqrt2), b = std::erf(upper / std::numbers::sqrt2);
  const double z = (b - a) / 2;
  const double c = 1.0 / std::sqrt(2 * std::numbers::pi);
  const double pdf_u = c * std::exp(-0.5 * lower * lower), pdf_l = c * std::exp(-0.5 * upper * upper);
  return std / std::sqrt(1 - (upper * pdf_u - lower * pdf_l) / z - ((pdf_u - pdf_l) / z) * ((pdf_u - pdf_l) / z));
}

template <class T, class Rng>
void trunc_normal_fill(std::span<T> out, double std, Rng& rng) {
  if (std == 0) { for (auto& x : out) x = T(0); return; }
  const double cs = trunc_normal_comp_std(std);
  std::normal_distribution<double> nd(0.0, cs);
  for (auto& x : out) {
    double v;
    do v = nd(rng); while (std::abs(v) > 2 * cs);
    x = static_cast<T>(v);
  }
}

}  // namespace gtrm
