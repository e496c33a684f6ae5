// embedding: y[n] = scale * W[ids[n]]            (token embedding, CastedEmbedding)
//   W (V, D), ids (N) int32 in [0, V), y (N, D)
// backward (scatter-add): dW[ids[n]] += scale * dy[n]
// The gather is a copy; the scatter runs serially so repeated ids accumulate without races.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "../concepts.hpp"
#include "../core/view.hpp"

namespace gtrm::ops {

template <class Be, class T, int D>
void embedding_forward(const Be& be, cview<T, D> w, const std::int32_t* ids, T scale, view<T, D> y) {
  be.parallel_for(y.rows(), [=] GTRM_HD (index_t n) {
    const T* src = w.row(ids[n]);
    T* dst = y.row(n);
    for (int c = 0; c < D; ++c) dst[c] = scale * src[c];
  });
}

// The host scatter. A device backend declares its own embedding_backward_impl on its tag (backend/cuda/ops.cuh),
// found by argument-dependent lookup (concepts.hpp).
template <class Be, class T, int D>
  requires(!device_memory_backend<Be>)
void embedding_backward_impl(const Be&, const std::int32_t* ids, T scale, cview<T, D> dy, view<T, D> dw) {
  for (index_t n = 0; n < dy.rows(); ++n) {
    T* dst = dw.row(ids[n]);
    const T* src = dy.row(n);
    for (int c = 0; c < D; ++c) dst[c] += scale * src[c];
  }
}

template <class Be, class T, int D>
void embedding_backward(const Be& be, const std::int32_t* ids, T scale, cview<T, D> dy, view<T, D> dw) {
  embedding_backward_impl(be, ids, scale, dy, dw);
}

// Token ids must lie in [0, vocab): checked once per batch at the model boundary.
inline void check_token_ids(const std::int32_t* ids, index_t n, int vocab, const char* what) {
  for (index_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      throw std::out_of_range(std::string(what) + ": id " + std::to_string(ids[i]) + " at position " +
                              std::to_string(i) + " is outside [0, " + std::to_string(vocab) + ")");
}

}  // namespace gtrm::ops
