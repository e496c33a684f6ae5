// Binary cross-entropy with logits (torch.nn.functional.binary_cross_entropy_with_logits), float64:
//   loss_n = max(x, 0) − x t + log(1 + exp(−|x|))         x (N) logits, t (N) targets in [0, 1]
// backward:  dx_n += w_n (σ(x_n) − t_n)
// The vector forms also come with a leading backend argument, so that a device backend can supply its own body for
// its tag (backend/cuda) and callers stay backend-agnostic; on host-memory backends they are the serial loops.
#pragma once
#include <algorithm>
#include <cmath>

#include "../concepts.hpp"
#include "../core/types.hpp"
#include "activation.hpp"

namespace gtrm::ops {

GTRM_HD inline double bce_logits_forward(double x, double t) {
  return std::max(x, 0.0) - x * t + std::log1p(std::exp(-std::abs(x)));
}
GTRM_HD inline double bce_logits_grad(double x, double t) { return sigmoid(x) - t; }

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

// On host-memory backends the vector forms are the serial loops above; a device backend declares
// bce_logits_forward_impl / bce_logits_backward_impl on its tag (backend/cuda/ops.cuh), found by
// argument-dependent lookup (concepts.hpp).
template <backend Be, class T>
  requires(!device_memory_backend<Be>)
double bce_logits_forward_impl(const Be&, const T* x, const double* t, index_t n, double* out) {
  return bce_logits_forward(x, t, n, out);
}

template <backend Be, class T>
  requires(!device_memory_backend<Be>)
void bce_logits_backward_impl(const Be&, const T* x, const double* t, double w, index_t n, T* dx, index_t dx_stride) {
  bce_logits_backward(x, t, w, n, dx, dx_stride);
}

template <backend Be, class T>
double bce_logits_forward(const Be& be, const T* x, const double* t, index_t n, double* out = nullptr) {
  return bce_logits_forward_impl(be, x, t, n, out);
}

template <backend Be, class T>
void bce_logits_backward(const Be& be, const T* x, const double* t, double w, index_t n, T* dx, index_t dx_stride = 1) {
  bce_logits_backward_impl(be, x, t, w, n, dx, dx_stride);
}

}  // namespace gtrm::ops
