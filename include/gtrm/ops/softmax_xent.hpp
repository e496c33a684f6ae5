// Softmax cross-entropy (the reference's softmax_cross_entropy; HRM's default), in float64:
//   ce_n = logsumexp_j(x_{n,j}) − x_{n,y},   0 where y_n = −100                logits (N, V), ce (N) double
// backward:  dx_{n,j} += w_n ( softmax_j(x_n) − [j = y] )
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "../core/types.hpp"
#include "../core/view.hpp"

namespace gtrm::ops {

template <class T, int V>
GTRM_HD inline double logsumexp_row(const T* x) {
  double mx = -INFINITY;
  for (int j = 0; j < V; ++j) mx = std::max(mx, static_cast<double>(x[j]));
  double sum = 0;
  for (int j = 0; j < V; ++j) sum += std::exp(static_cast<double>(x[j]) - mx);
  return mx + std::log(sum);
}

template <class Be, class T, int V>
void softmax_xent_forward(const Be& be, cview<T, V> logits, const std::int32_t* labels, double* ce) {
  be.parallel_for(logits.rows(), [=] GTRM_HD (index_t n) {
    const int y = labels[n];
    if (y == ignore_label) { ce[n] = 0.0; return; }
    const T* x = logits.row(n);
    ce[n] = logsumexp_row<T, V>(x) - static_cast<double>(x[y]);
  });
}

template <class Be, class T, int V>
void softmax_xent_backward(const Be& be, cview<T, V> logits, const std::int32_t* labels, const double* w,
                           view<T, V> dlogits) {
  be.parallel_for(logits.rows(), [=] GTRM_HD (index_t n) {
    const int y = labels[n];
    if (y == ignore_label || w[n] == 0.0) return;
    const T* x = logits.row(n);
    const double lse = logsumexp_row<T, V>(x);
    T* d = dlogits.row(n);
    for (int j = 0; j < V; ++j) {
      double g = std::exp(static_cast<double>(x[j]) - lse);
      if (j == y) g -= 1.0;
      d[j] += static_cast<T>(w[n] * g);
    }
  });
}

}  // namespace gtrm::ops
