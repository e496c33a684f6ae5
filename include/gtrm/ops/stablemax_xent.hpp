// Stablemax cross-entropy (models/losses.py), computed in float64 from the logits as the reference does:
//   s(x) = x + 1 (x ≥ 0),  1 / (1 − x + 1e-30) (x < 0)
//   ce_n = −log( s(x_{n,y}) / Σ_j s(x_{n,j}) ),   0 where y_n = −100           logits (N, V), ce (N) double
// backward with a per-row weight w_n (the caller's 1/count and loss scale):
//   dx_{n,j} += w_n ( s'(x_j) / Σ s − [j = y] s'(x_y) / s(x_y) ),   s'(x) = 1 (x ≥ 0), s(x)² (x < 0)
#pragma once
#include <cmath>
#include <cstdint>

#include "../core/types.hpp"
#include "../core/view.hpp"

namespace gtrm::ops {

GTRM_HD inline double stablemax_s(double x) { return x < 0 ? 1.0 / (1.0 - x + 1e-30) : x + 1.0; }
GTRM_HD inline double stablemax_ds(double x) { if (x < 0) { const double s = 1.0 / (1.0 - x + 1e-30); return s * s; } return 1.0; }

template <class Be, class T, int V>
void stablemax_xent_forward(const Be& be, cview<T, V> logits, const std::int32_t* labels, double* ce) {
  be.parallel_for(logits.rows(), [=] GTRM_HD (index_t n) {
    const int y = labels[n];
    if (y == ignore_label) { ce[n] = 0.0; return; }
    const T* x = logits.row(n);
    double sum = 0;
    for (int j = 0; j < V; ++j) sum += stablemax_s(static_cast<double>(x[j]));
    ce[n] = -std::log(stablemax_s(static_cast<double>(x[y])) / sum);
  });
}

template <class Be, class T, int V>
void stablemax_xent_backward(const Be& be, cview<T, V> logits, const std::int32_t* labels, const double* w,
                             view<T, V> dlogits) {
  be.parallel_for(logits.rows(), [=] GTRM_HD (index_t n) {
    const int y = labels[n];
    if (y == ignore_label || w[n] == 0.0) return;
    const T* x = logits.row(n);
    double sum = 0;
    for (int j = 0; j < V; ++j) sum += stablemax_s(static_cast<double>(x[j]));
    T* d = dlogits.row(n);
    for (int j = 0; j < V; ++j) {
      const double xj = static_cast<double>(x[j]);
      double g = stablemax_ds(xj) / sum;
      if (j == y) g -= stablemax_ds(xj) / stablemax_s(xj);
      d[j] += static_cast<T>(w[n] * g);
    }
  });
}

}  // namespace gtrm::ops
