// Binary cross-entropy with logits (torch.nn.functional.binary_cross_entropy_with_logits), float64:
//   loss_n = max(x, 0) − x t + log(1 + exp(−|x|))         x (N) logits, t (N) targets in [0, 1]
// backward:  dx_n += w_n (σ(x_n) − t_n)
#pragma once
#include <algorithm>
#include <cmath>

#include "../core/types.hpp"
#include "activation.hpp"

namespace gtrm::ops {

inline double bce_logits_forward(double x, double t) {
  return std::max(x, 0.0) - x * t + std::log1p(std::exp(-std::abs(x)));
}
inline double bce_logits_grad(double x, double t) { return sigmoid(x) - t; }

template <class T>
double bce_logits_forward(const T* x, const double* t, index_t n, double* out = nullptr) {
  double sum = 0;
  for (index_t i = 0; i < n; ++i) {
    const double l = bce_logits_forward(static_cast<double>(x[i]), t[i]);
    if (out) out[i] = l;
    sum += l;
  }
  return sum;
}

template <class T>
void bce_logits_backward(const T* x, const double* t, double w, index_t n, T* dx, index_t dx_stride = 1) {
  for (index_t i = 0; i < n; ++i)
    dx[i * dx_stride] += static_cast<T>(w * bce_logits_grad(static_cast<double>(x[i]), t[i]));
}

}  // namespace gtrm::ops
