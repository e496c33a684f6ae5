// Row-wise argmax (the reference's preds = logits.argmax(-1)):
//   pred_n = argmax_j x_{n,j}, the first index on ties          logits (N, V), pred (N) int32
// No backward: the prediction carries no gradient.
#pragma once
#include <cstdint>

#include "../core/types.hpp"
#include "../core/view.hpp"

namespace gtrm::ops {

template <class T, int V>
GTRM_HD inline std::int32_t argmax_row(const T* x) {
  int best = 0;
  for (int v = 1; v < V; ++v)
    if (x[v] > x[best]) best = v;
  return best;
}

template <class Be, class T, int V>
void argmax_forward(const Be& be, cview<T, V> logits, std::int32_t* pred) {
  be.parallel_for(logits.rows(), [=] GTRM_HD (index_t n) { pred[n] = argmax_row<T, V>(logits.row(n)); });
}

}  // namespace gtrm::ops
